/* SPDX-License-Identifier: MIT */
/*
 * handler.c — the one h2o handler of modfs, and the access logger that closes each request.
 *
 * Every request lands on "/" and is dispatched here: method check (GET and HEAD only), route,
 * then the store with CACHE_GET_NOFETCH. A hit is answered right here on the loop thread, which
 * is what keeps small-object throughput at h2o's own static-file level; a miss goes to a fetch
 * worker (fetch_worker.c) and is answered later on this same loop.
 *
 * The logger runs when h2o disposes a request, whatever its fate (answered, reset, dropped), so
 * it is the one place that sees the final status, the bytes sent and the duration: it counts them
 * and writes the info-level access line.
 */
#include "http_i.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

typedef struct http_handler {
    h2o_handler_t super;
    http_server_t *server;
} http_handler_t;

static size_t path_len(const h2o_req_t *req)
{
    return req->query_at != SIZE_MAX ? req->query_at : req->path.len;
}

static void send_bad_request(h2o_req_t *req, const cache_err_t *err)
{
    char body[sizeof err->msg + 16];
    int n = snprintf(body, sizeof body, "bad request: %s\n", err->msg);
    if (n < 0 || (size_t)n >= sizeof body)
        n = (int)strlen(body);
    http_send_text(req, 400, body, (size_t)n);
}

/* /metrics, rendered here on the loop: every figure comes from memory. */
static void send_metrics(h2o_req_t *req, http_server_t *s)
{
    buf_t text = BUF_INIT;
    if (http_metrics_render(s, &text) != 0) {
        buf_dispose(&text);
        http_send_text(req, 503, H2O_STRLIT("out of memory rendering metrics\n"));
        return;
    }
    char *body = h2o_mem_alloc_pool(&req->pool, text.len + 1);
    memcpy(body, text.base, text.len);
    http_send_body(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, text.len);
    buf_dispose(&text);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_handler_t *h = (http_handler_t *)self;
    http_thread_t *t = http_thread_of(req);
    /* h2o stamps requests with its loop's cached clock (millisecond steps); the duration metric
     * wants the real start */
    gettimeofday(&req->timestamps.request_begin_at, NULL);

    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
        http_send_text(req, 405, H2O_STRLIT("method not allowed\n"));
        return 0;
    }

    modkey_buf_t kb;
    modkey_t *key = &kb.key;
    cache_err_t err;
    err.upstream_status = 0;
    err.msg[0] = '\0';
    switch (http_route_resolve(req->path.base, path_len(req), key, &err)) {
    case HTTP_TARGET_KEY:
        break;
    case HTTP_TARGET_HEALTHZ:
        http_send_body(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
        return 0;
    case HTTP_TARGET_METRICS:
        send_metrics(req, h->server);
        return 0;
    case HTTP_TARGET_NOT_FOUND:
        http_send_error(req, -EINVAL, &err);
        return 0;
    case HTTP_TARGET_BAD_REQUEST:
        send_bad_request(req, &err);
        return 0;
    }

    if (key->kind == MODKEY_SUMDB && key->db_kind == SUMDB_PATH_SUPPORTED) {
        /* go asks this before it uses a proxy for a database: any 200 says yes */
        int rc = cache_sumdb_supported(h->server->cache, key, &err);
        if (rc == 0)
            http_send_body(req, 200, "text/plain; charset=utf-8", "", 0);
        else
            http_send_error(req, rc, &err);
        return 0;
    }

    cache_object_t *obj = NULL;
    int rc = cache_get(h->server->cache, key, CACHE_GET_NOFETCH, &obj, &err);
    if (rc == 0) {
        HTTP_COUNT(t->metrics.hits, 1);
        http_respond_object(req, key, obj, false);
        return 0;
    }
    if (rc == -EAGAIN) {
        HTTP_COUNT(t->metrics.misses, 1);
        rc = http_fetch_submit(t, req, key);
        if (rc == 0)
            return 0;
        HTTP_COUNT(t->metrics.fetch_rejected, 1);
        rc = cache_err_set(&err, -EAGAIN, "too many upstream fetches in progress");
    }
    http_send_error(req, rc, &err);
    return 0;
}

void http_log_path(const h2o_req_t *req, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *p = req->path.base;
    size_t len = path_len(req), o = 0;
    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c > 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

static void on_log_access(h2o_logger_t *self, h2o_req_t *req)
{
    (void)self;
    http_thread_t *t = http_thread_of(req);
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t us = h2o_timeval_subtract(&req->timestamps.request_begin_at, &now);
    if (us < 0 || h2o_timeval_is_null(&req->timestamps.request_begin_at))
        us = 0;
    size_t plen = path_len(req);
    http_metrics_observe(&t->metrics, http_route_of_path(req->path.base, plen), req->res.status, req->bytes_sent,
                         (uint64_t)us);
    if (modfs_log_enabled(LOG_LEVEL_INFO)) {
        char path[HTTP_LOG_PATH_MAX];
        http_log_path(req, path, sizeof path);
        LOG_I("%.*s %s %d %zu %.3fms %s", (int)req->method.len, req->method.base, path, req->res.status,
              req->bytes_sent, (double)us / 1000.0, req->version >= 0x200 ? "h2" : "h1");
    }
}

void http_handler_register(http_server_t *s, h2o_hostconf_t *hostconf)
{
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    http_handler_t *h = (http_handler_t *)h2o_create_handler(pathconf, sizeof *h);
    h->super.on_req = on_req;
    h->server = s;
    h2o_logger_t *logger = h2o_create_logger(pathconf, sizeof *logger);
    logger->log_access = on_log_access;
}
