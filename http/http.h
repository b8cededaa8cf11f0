/* SPDX-License-Identifier: MIT */
/*
 * http.h — the GOPROXY front: an h2o server over HTTP/1.1, h2c and TLS (ALPN h2, http/1.1),
 * one event loop per thread, serving the store through cache.h.
 *
 * Cache hits are answered on the loop threads; misses are handed to a small pool of fetch
 * threads that may block on upstream, and finished back on the loop that owns the request.
 * Besides GOPROXY keys the server answers /healthz (liveness: "ok" while the loops run),
 * /readyz (readiness: 503 while the last upstream request got no answer at all) and /metrics
 * (Prometheus text), all three on the loop from memory: they never wait on upstream or on a fetch
 * worker. A metrics-only address answers /metrics and /healthz and nothing else, so a
 * host can expose its figures (for a mount, say) without serving GOPROXY.
 *
 * With an auth file, private modules (cache_key_is_private) and, as configured, everything or
 * /metrics need Basic credentials or a bearer token: 401 with WWW-Authenticate otherwise, 429
 * for an address that failed too often. Without one, private modules are refused (403): they
 * are never served to unauthenticated clients. /healthz and /readyz are always open.
 *
 * Misses have a budget per client (its authenticated user, else its address; see
 * http/clients.c): a token bucket of miss_rate per second up to miss_burst, a share of the fetch
 * queue, and at most three quarters of the fetch workers at once; past them the client gets 429
 * with Retry-After while the misses of other clients still go through. Cache hits are never
 * limited.
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
    int fetch_workers;       /* threads waiting on upstream for misses (and verifying passwords); 0 = 8 */
    int miss_rate;           /* misses (requests that need upstream) per second per client; 0 = 50, < 0: no limit */
    int miss_burst;          /* misses a client may make at once before the rate applies; 0 = 500 */
    const char *auth_file;   /* users and tokens (format in auth_file.c); NULL: no authentication */
    bool auth_required;      /* every path but /healthz and /readyz needs credentials (needs auth_file) */
    bool metrics_auth;       /* /metrics needs credentials (needs auth_file; implied by auth_required) */
    const char *metrics_listen; /* same syntax; /metrics and /healthz only, over HTTP/1.1 and h2c; NULL for none */
    /* More figures for /metrics, appended after the server's and the store's (the command line
     * wires the FUSE mount's here). Called on a loop thread, so it must answer from memory; arg
     * must stay valid until http_server_stop returns. 0 or -ENOMEM. NULL for none. */
    int (*metrics_extra)(void *arg, buf_t *out);
    void *metrics_extra_arg;
} http_config_t;

/* Binds, starts the loop threads and returns (at least one of listen, tls_listen and
 * metrics_listen is needed). Returns 0 or -errno with err (e.g. address in use).
 * Ignores SIGPIPE for the process (a peer closing mid-write must not kill the server). */
int http_server_start(cache_t *cache, const http_config_t *cfg, http_server_t **out, cache_err_t *err);
/*
 * Applies what may change while running, without dropping a connection: list_ttl_s (max-age of
 * list and @latest); when TLS is served, the certificate and key, read again from tls_cert and
 * tls_key (new connections get them, open ones keep theirs); and the access settings: auth_file
 * read again (or added, or dropped), auth_required, metrics_auth; and the miss budget
 * (miss_rate, miss_burst: every client's bucket takes the new size and rate at its next miss).
 * Remembered password verdicts are forgotten, so a user removed from the file is refused from
 * now on. Other fields are ignored. Returns once every loop uses the new settings: 0, or -errno
 * with err and nothing
 * changed (a certificate or auth file that does not load leaves the old one in use). Call from
 * the thread that started the server, never concurrently with stop.
 */
int http_server_reload(http_server_t *s, const http_config_t *cfg, cache_err_t *err);
/* Stops accepting, lets in-flight responses finish (bounded wait, 10 s), joins the threads, frees.
 * Call from any thread except a loop thread; the cache must stay open until it returns. */
void http_server_stop(http_server_t *s);

#endif
