/* SPDX-License-Identifier: MIT */
/*
 * handler.c — the one h2o handler of modfs, and the access logger that closes each request.
 *
 * Every request lands on "/" and is dispatched here: method check (GET and HEAD only), route,
 * authentication where it is needed (a password check goes to a worker and the request comes
 * back through http_handler_resume), then the store with CACHE_GET_NOFETCH. A hit is answered
 * right here on the loop thread, which is what keeps small-object throughput at h2o's own
 * static-file level; a miss, within its client's budget (clients.c: 429 with Retry-After past
 * it), goes to a fetch worker (fetch_worker.c) and is answered later on this same loop. Hits are
 * never limited. On the metrics-only listener (--metrics-listen) only /metrics and /healthz are
 * answered, under the same rules for credentials.
 *
 * Who must show credentials: with an auth file, everyone under --auth-required, /metrics under
 * --metrics-auth, and always the clients of private modules (--private). Without an auth file
 * nobody can show any, so private modules are refused outright (403): they are served only to
 * authenticated clients, never to whoever can reach the port. /healthz and /readyz stay open to
 * probes. The settings are this loop's own reference (t->auth), which a reload swaps between two
 * events, so a request is judged by one consistent set.
 *
 * The logger runs when h2o disposes a request, whatever its fate (answered, reset, dropped), so
 * it is the one place that sees the final status, the bytes sent and the duration: it counts them
 * and writes the info-level access line.
 */
#include "http_i.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

typedef struct http_handler {
    h2o_handler_t super;
    http_server_t *server;
    bool metrics_only; /* the metrics-only listener: /metrics and /healthz, nothing else */
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

static void send_unauthorized(h2o_req_t *req, const char *why)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                   H2O_STRLIT("Basic realm=\"modfs\""));
    char body[128];
    int n = snprintf(body, sizeof body, "unauthorized: %s\n", why);
    http_send_text(req, 401, body, (size_t)n);
}

/* 429 with Retry-After (rc is -EUSERS). */
static void send_too_many(h2o_req_t *req, int rc, unsigned retry_after_s, const cache_err_t *err)
{
    char *v = h2o_mem_alloc_pool(&req->pool, 16);
    int n = snprintf(v, 16, "%u", retry_after_s);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, v, (size_t)n);
    http_send_error(req, rc, err);
}

/* A miss: within its client's budget, to a fetch worker; past it, 429 (503 when the whole queue
 * is full). Nothing here waits. */
static void miss_submit(http_thread_t *t, h2o_req_t *req, const modkey_t *key)
{
    http_clients_t *cs = t->server->clients;
    http_client_id_t id;
    http_client_id_of(req, &id);
    uint64_t now = http_now_us() / 1000;
    http_client_t *c = http_clients_acquire(cs, &id, now);
    cache_err_t err = {0};
    unsigned retry_after_s = 0;
    if (!http_clients_take_miss(cs, c, now, &retry_after_s)) {
        http_clients_release(cs, c);
        HTTP_COUNT(t->metrics.over_budget, 1);
        cache_err_set(&err, -EUSERS,
                      "this client's budget of misses (requests that must go upstream) is spent; retry after %u s",
                      retry_after_s);
        send_too_many(req, -EUSERS, retry_after_s, &err);
        return;
    }
    int rc = http_fetch_submit(t, req, key, c);
    if (rc == 0)
        return; /* the job holds the pin now */
    http_clients_release(cs, c);
    if (rc == -EUSERS) {
        HTTP_COUNT(t->metrics.over_share, 1);
        cache_err_set(&err, -EUSERS, "too many of this client's misses are waiting for upstream; retry after 1 s");
        send_too_many(req, -EUSERS, 1, &err);
        return;
    }
    HTTP_COUNT(t->metrics.fetch_rejected, 1);
    rc = cache_err_set(&err, rc == -ENOMEM ? -ENOMEM : -EAGAIN, "too many upstream fetches in progress");
    http_send_error(req, rc, &err);
}

/*
 * Whether req may go on: true when its credentials are good under a. Otherwise it has been
 * answered (401, 429, 503) or handed to a worker that verifies a password and resumes it; false.
 * known is the worker's verdict on a resumed request, HTTP_AUTH_VERIFY on a fresh one.
 */
static bool authorize(http_server_t *s, http_thread_t *t, http_auth_t *a, h2o_req_t *req, http_auth_result_t known)
{
    uint8_t addr[16];
    http_peer_addr(req, addr);
    uint64_t now = h2o_now(t->loop);
    uint64_t left = http_ratelimit_blocked(&s->limit, addr, now);
    if (left > 0) {
        HTTP_COUNT(t->metrics.auth_limited, 1);
        char secs[24];
        int n = snprintf(secs, sizeof secs, "%llu", (unsigned long long)((left + 999) / 1000));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                       h2o_strdup(&req->pool, secs, (size_t)n).base, (size_t)n);
        http_send_text(req, 429, H2O_STRLIT("too many failed logins from this address: try again later\n"));
        return false;
    }
    http_auth_result_t r = known;
    if (r == HTTP_AUTH_VERIFY) {
        ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
        const h2o_iovec_t *v = i >= 0 ? &req->headers.entries[i].value : NULL;
        r = http_auth_check(a, v ? v->base : NULL, v ? v->len : 0);
        if (r == HTTP_AUTH_VERIFY) {
            int rc = http_fetch_submit_verify(t, req, a, v->base, v->len);
            if (rc == -EUSERS) {
                HTTP_COUNT(t->metrics.over_share, 1);
                cache_err_t err;
                cache_err_set(&err, -EUSERS, "too many of this client's requests are waiting; retry after 1 s");
                send_too_many(req, -EUSERS, 1, &err);
            } else if (rc != 0) {
                HTTP_COUNT(t->metrics.fetch_rejected, 1);
                http_send_text(req, 503, H2O_STRLIT("unavailable: too many requests in progress\n"));
            }
            return false;
        }
    }
    if (r == HTTP_AUTH_OK)
        return true;
    if (r == HTTP_AUTH_MISSING) {
        HTTP_COUNT(t->metrics.auth_missing, 1);
        send_unauthorized(req, "credentials required (Basic auth, e.g. from .netrc, or a bearer token)");
        return false;
    }
    HTTP_COUNT(t->metrics.auth_failures, 1);
    if (http_ratelimit_fail(&s->limit, addr, now))
        LOG_W("auth: too many failed logins from one address; refusing it for %u s", HTTP_RATELIMIT_BLOCK_MS / 1000);
    if (modfs_log_enabled(LOG_LEVEL_INFO)) {
        char path[HTTP_LOG_PATH_MAX];
        http_log_path(req, path, sizeof path);
        LOG_I("auth: bad credentials for %s", path);
    }
    send_unauthorized(req, "bad credentials");
    return false;
}

/* Everything after the method check: route, authentication, then the store. known as above;
 * metrics_only: the request came to the metrics-only listener. */
static void dispatch(http_server_t *s, http_thread_t *t, h2o_req_t *req, http_auth_result_t known, bool metrics_only)
{
    modkey_buf_t kb;
    modkey_t *key = &kb.key;
    cache_err_t err;
    err.upstream_status = 0;
    err.msg[0] = '\0';
    http_target_t target = http_route_resolve(req->path.base, path_len(req), key, &err);
    if (metrics_only && target != HTTP_TARGET_HEALTHZ && target != HTTP_TARGET_METRICS) {
        http_send_text(req, 404, H2O_STRLIT("not found: this address serves /metrics and /healthz only\n"));
        return;
    }
    switch (target) {
    case HTTP_TARGET_HEALTHZ:
        http_send_body(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
        return;
    case HTTP_TARGET_READYZ: {
        cache_upstream_health_t health;
        char body[128];
        cache_upstream_health(s->cache, &health);
        int status = http_readiness(&health, body, sizeof body);
        http_send_text(req, status, body, strlen(body));
        return;
    }
    default:
        break;
    }
    http_auth_t *a = t->auth;
    bool private_module = target == HTTP_TARGET_KEY && cache_key_is_private(s->cache, key);
    if (private_module && a == NULL) {
        http_send_text(req, 403,
                       H2O_STRLIT("forbidden: private modules are served only to authenticated clients, and this "
                                  "server has no users: configure --auth-file\n"));
        return;
    }
    if (a != NULL && (a->required || private_module || (target == HTTP_TARGET_METRICS && a->metrics_auth)) &&
        !authorize(s, t, a, req, known))
        return;
    switch (target) {
    case HTTP_TARGET_KEY:
        break;
    case HTTP_TARGET_METRICS:
        send_metrics(req, s);
        return;
    case HTTP_TARGET_NOT_FOUND:
        http_send_error(req, -EINVAL, &err);
        return;
    case HTTP_TARGET_BAD_REQUEST:
        send_bad_request(req, &err);
        return;
    case HTTP_TARGET_HEALTHZ:
    case HTTP_TARGET_READYZ:
        return; /* answered above */
    }

    if (key->kind == MODKEY_SUMDB && key->db_kind == SUMDB_PATH_SUPPORTED) {
        /* go asks this before it uses a proxy for a database: any 200 says yes */
        int rc = cache_sumdb_supported(s->cache, key, &err);
        if (rc == 0)
            http_send_body(req, 200, "text/plain; charset=utf-8", "", 0);
        else
            http_send_error(req, rc, &err);
        return;
    }
    cache_object_t *obj = NULL;
    int rc = cache_get(s->cache, key, CACHE_GET_NOFETCH, &obj, &err);
    if (rc == 0) {
        HTTP_COUNT(t->metrics.hits, 1);
        http_respond_object(req, key, obj, false);
        return;
    }
    if (rc == -EAGAIN) {
        HTTP_COUNT(t->metrics.misses, 1);
        miss_submit(t, req, key);
        return;
    }
    http_send_error(req, rc, &err);
}

void http_handler_resume(h2o_req_t *req, http_auth_result_t result)
{
    http_thread_t *t = http_thread_of(req);
    /* a request of the metrics-only listener came this far only for /metrics */
    dispatch(t->server, t, req, result, false);
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
    dispatch(h->server, t, req, HTTP_AUTH_VERIFY, h->metrics_only);
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
        char path[HTTP_LOG_PATH_MAX], peer[NI_MAXHOST] = "-";
        http_log_path(req, path, sizeof path);
        struct sockaddr_storage sa;
        socklen_t salen = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&sa);
        if (salen == 0 || h2o_socket_getnumerichost((struct sockaddr *)&sa, salen, peer) == SIZE_MAX)
            strcpy(peer, "-");
        LOG_I("%s %.*s %s %d %zu %.3fms %s", peer, (int)req->method.len, req->method.base, path, req->res.status,
              req->bytes_sent, (double)us / 1000.0, req->version >= 0x200 ? "h2" : "h1");
    }
}

void http_handler_register(http_server_t *s, h2o_hostconf_t *hostconf, bool metrics_only)
{
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    http_handler_t *h = (http_handler_t *)h2o_create_handler(pathconf, sizeof *h);
    h->super.on_req = on_req;
    h->server = s;
    h->metrics_only = metrics_only;
    h2o_logger_t *logger = h2o_create_logger(pathconf, sizeof *logger);
    logger->log_access = on_log_access;
}
