/* SPDX-License-Identifier: MIT */
/*
 * reload.c — new settings for a running server, without dropping a connection.
 *
 * What a loop reads on its hot path (the accept context's SSL_CTX, the Cache-Control value of
 * list and @latest) belongs to that loop alone, so nothing is ever changed under a reader: the
 * new values are built here, on the caller's thread, where anything may fail and leave the
 * server as it was; then every loop is sent its own copy through its multithread queue and
 * swaps it in between two events. A live SSL_CTX is never modified: a new one is made from the
 * files, and connections already open keep the old one (OpenSSL counts the references of
 * their SSL objects), which goes away with the last of them.
 *
 * Access rules (auth, allow/deny: later issues) are to travel the same way: build and check the
 * new rule set in http_server_reload before anything is sent, add it to http_reload_msg_t, and
 * swap it in http_reload_on_message.
 */
#include "http_i.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct http_reload_msg {
    h2o_multithread_message_t super; /* first: the queue hands back this */
    SSL_CTX *ssl_ctx;                /* a reference for the loop; NULL: keep the current one */
    h2o_iovec_t cc_mutable;          /* malloc'd; the loop takes it over */
} http_reload_msg_t;

h2o_iovec_t http_cc_mutable_new(unsigned list_ttl_s)
{
    char cc[64];
    int n = snprintf(cc, sizeof cc, "public, max-age=%u", list_ttl_s);
    char *copy = strdup(cc);
    return h2o_iovec_init(copy, copy != NULL ? (size_t)n : 0);
}

void http_reload_on_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, reload, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        http_reload_msg_t *msg = H2O_STRUCT_FROM_MEMBER(http_reload_msg_t, super.link, messages->next);
        h2o_linklist_unlink(&msg->super.link);
        if (msg->ssl_ctx != NULL) {
            SSL_CTX *old = t->accept_tls.ssl_ctx;
            t->accept_tls.ssl_ctx = msg->ssl_ctx;
            if (old != NULL)
                SSL_CTX_free(old); /* open connections still hold it through their SSL */
        }
        free(t->cc_mutable.base);
        t->cc_mutable = msg->cc_mutable;
        free(msg);
    }
}

int http_server_reload(http_server_t *s, const http_config_t *cfg, cache_err_t *err)
{
    SSL_CTX *ctx = NULL;
    int rc = 0;
    if (s->tls_listen != NULL) {
        if (cfg->tls_cert == NULL || cfg->tls_key == NULL)
            return cache_err_set(err, -EINVAL, "TLS is being served: tls-cert and tls-key are needed");
        if ((rc = http_tls_ctx_new(cfg->tls_cert, cfg->tls_key, &ctx, err)) != 0)
            return rc;
    }
    http_reload_msg_t **msgs = calloc(s->nthreads, sizeof *msgs);
    if (msgs == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->nthreads; i++) {
        msgs[i] = calloc(1, sizeof *msgs[i]);
        if (msgs[i] == NULL || (msgs[i]->cc_mutable = http_cc_mutable_new(cfg->list_ttl_s)).base == NULL) {
            rc = cache_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
    }
    /* nothing can fail from here on */
    for (size_t i = 0; i < s->nthreads; i++) {
        if (ctx != NULL) {
            SSL_CTX_up_ref(ctx);
            msgs[i]->ssl_ctx = ctx;
        }
        h2o_multithread_send_message(&s->threads[i]->reload, &msgs[i]->super);
        msgs[i] = NULL;
    }
    s->list_ttl_s = cfg->list_ttl_s;
    if (ctx != NULL) {
        SSL_CTX_free(s->ssl_ctx);
        s->ssl_ctx = ctx;
        ctx = NULL;
    }
    LOG_I("http: reloaded (list max-age %u s%s)", s->list_ttl_s, s->tls_listen != NULL ? ", TLS certificate and key read again" : "");
out:
    for (size_t i = 0; msgs != NULL && i < s->nthreads; i++) {
        if (msgs[i] != NULL)
            free(msgs[i]->cc_mutable.base);
        free(msgs[i]);
    }
    free(msgs);
    if (ctx != NULL)
        SSL_CTX_free(ctx);
    return rc;
}
