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
 * The miss budget (--miss-rate, --miss-burst) is no loop's: the client table takes the new
 * parameters under its own lock, and every bucket follows at its next miss.
 *
 * The access settings (the auth file's users and tokens, --auth-required, --metrics-auth) travel
 * the same way: the file is read and checked here, and each loop swaps its reference to the new
 * http_auth_t, whose verdict table starts empty, so a user removed from the file is refused from
 * then on. Password checks already running on a worker hold the old settings to their end. The
 * allow/deny rules and private patterns belong to the store (cache_access_set), not to this
 * front.
 *
 * http_server_reload returns only once every loop has taken its message (or after
 * HTTP_RELOAD_WAIT_MS, with a warning): when the caller logs "reloaded", no request is judged by
 * the old settings any more.
 */
#include "http_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_RELOAD_WAIT_MS 5000

typedef struct http_reload_msg {
    h2o_multithread_message_t super; /* first: the queue hands back this */
    SSL_CTX *ssl_ctx;                /* a reference for the loop; NULL: keep the current one */
    h2o_iovec_t cc_mutable;          /* malloc'd; the loop takes it over */
    http_auth_t *auth;               /* a reference for the loop; NULL: no auth file from now on */
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
        http_auth_t *old_auth = t->auth;
        t->auth = msg->auth;
        http_auth_unref(old_auth); /* workers verifying against it hold their own reference */
        free(msg);
        http_server_t *s = t->server;
        pthread_mutex_lock(&s->reload_mu);
        if (s->reload_pending > 0)
            s->reload_pending--;
        pthread_cond_broadcast(&s->reload_cv);
        pthread_mutex_unlock(&s->reload_mu);
    }
}

/* Waits until every loop has taken its message; false after HTTP_RELOAD_WAIT_MS. */
static bool wait_for_loops(http_server_t *s)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += HTTP_RELOAD_WAIT_MS / 1000;
    bool done = true;
    pthread_mutex_lock(&s->reload_mu);
    while (s->reload_pending > 0 && done)
        done = pthread_cond_timedwait(&s->reload_cv, &s->reload_mu, &deadline) != ETIMEDOUT;
    done = s->reload_pending == 0;
    s->reload_pending = 0;
    pthread_mutex_unlock(&s->reload_mu);
    return done;
}

int http_server_reload(http_server_t *s, const http_config_t *cfg, cache_err_t *err)
{
    SSL_CTX *ctx = NULL;
    http_auth_t *auth = NULL;
    http_reload_msg_t **msgs = NULL;
    int rc = http_auth_from_config(cfg, &auth, err);
    if (rc != 0)
        return rc;
    if (s->tls_listen != NULL) {
        if (cfg->tls_cert == NULL || cfg->tls_key == NULL) {
            rc = cache_err_set(err, -EINVAL, "TLS is being served: tls-cert and tls-key are needed");
            goto out;
        }
        if ((rc = http_tls_ctx_new(cfg->tls_cert, cfg->tls_key, &ctx, err)) != 0)
            goto out;
    }
    msgs = calloc(s->nthreads, sizeof *msgs);
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
    pthread_mutex_lock(&s->reload_mu);
    s->reload_pending = s->nthreads;
    pthread_mutex_unlock(&s->reload_mu);
    for (size_t i = 0; i < s->nthreads; i++) {
        if (ctx != NULL) {
            SSL_CTX_up_ref(ctx);
            msgs[i]->ssl_ctx = ctx;
        }
        msgs[i]->auth = http_auth_ref(auth);
        h2o_multithread_send_message(&s->threads[i]->reload, &msgs[i]->super);
        msgs[i] = NULL;
    }
    s->list_ttl_s = cfg->list_ttl_s;
    http_clients_set_budget(s->clients, http_miss_rate_of(cfg), http_miss_burst_of(cfg));
    if (ctx != NULL) {
        SSL_CTX_free(s->ssl_ctx);
        s->ssl_ctx = ctx;
        ctx = NULL;
    }
    http_auth_unref(s->auth);
    s->auth = auth;
    auth = NULL;
    if (!wait_for_loops(s))
        LOG_W("http: a loop has not taken the new settings after %d s; it will at its next event",
              HTTP_RELOAD_WAIT_MS / 1000);
    LOG_I("http: reloaded (list max-age %u s, miss budget %u a second up to %u%s%s)", s->list_ttl_s,
          http_miss_rate_of(cfg), http_miss_burst_of(cfg),
          s->tls_listen != NULL ? ", TLS certificate and key read again" : "",
          s->auth != NULL ? ", auth file read again" : "");
out:
    for (size_t i = 0; msgs != NULL && i < s->nthreads; i++) {
        if (msgs[i] != NULL)
            free(msgs[i]->cc_mutable.base);
        free(msgs[i]);
    }
    free(msgs);
    if (ctx != NULL)
        SSL_CTX_free(ctx);
    http_auth_unref(auth);
    return rc;
}
