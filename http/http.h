/* SPDX-License-Identifier: MIT */
/*
 * http.h — the GOPROXY front: an h2o server over HTTP/1.1, h2c and TLS (ALPN h2, http/1.1),
 * one event loop per thread, serving the store through cache.h.
 *
 * Cache hits are answered on the loop threads; misses are handed to a small pool of fetch
 * threads that may block on upstream, and finished back on the loop that owns the request.
 * Besides GOPROXY keys the server answers /healthz ("ok") and /metrics (Prometheus text), both
 * on the loop from memory: they never wait on upstream or on a fetch worker.
 *
 * Misses have a budget per client (its address; see http/clients.c): a token bucket of
 * miss_rate per second up to miss_burst, a share of the fetch queue, and at most three quarters
 * of the fetch workers at once; past them the client gets 429 with Retry-After while the misses
 * of other clients still go through. Cache hits are never limited.
 */
#ifndef MODFS_HTTP_H
#define MODFS_HTTP_H

#include "cache.h"

typedef struct http_server http_server_t;

/*
 * Zero means "default" for every numeric field, so `http_config_t cfg = {0}` plus the
 * addresses is a complete configuration. Strings are copied by http_server_start.
 */
typedef struct http_config {
    const char *listen;      /* "127.0.0.1:3000", "[::1]:3000" or ":3000"; NULL for none */
    const char *tls_listen;  /* same syntax; NULL for none */
    const char *tls_cert;    /* PEM certificate chain, needed with tls_listen */
    const char *tls_key;     /* PEM private key */
    int threads;             /* event loops; 0 = one per core */
    unsigned list_ttl_s;     /* max-age of list, @latest and query .info: the store's list TTL (0: max-age=0) */
    int fetch_workers;       /* threads waiting on upstream for misses; 0 = 8 */
    int miss_rate;           /* misses (requests that need upstream) per second per client; 0 = 50, < 0: no limit */
    int miss_burst;          /* misses a client may make at once before the rate applies; 0 = 500 */
} http_config_t;

/* Binds, starts the loop threads and returns. Returns 0 or -errno with err (e.g. address in use).
 * Ignores SIGPIPE for the process (a peer closing mid-write must not kill the server). */
int http_server_start(cache_t *cache, const http_config_t *cfg, http_server_t **out, cache_err_t *err);
/* Stops accepting, lets in-flight responses finish (bounded wait, 10 s), joins the threads, frees.
 * Call from any thread except a loop thread; the cache must stay open until it returns. */
void http_server_stop(http_server_t *s);

#endif
