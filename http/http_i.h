/* SPDX-License-Identifier: MIT */
/*
 * http_i.h — what the files of http/ share and nothing outside http/ may include.
 *
 * One http_server_t owns N http_thread_t, each an h2o event loop with its own h2o_context_t,
 * accept sockets, counters and receivers. Everything in an http_thread_t is touched only by its
 * loop thread, except the counters (read by whoever renders /metrics, with relaxed atomics) and
 * the receivers (posted to by fetch workers through h2o's multithread queue).
 */
#ifndef MODFS_HTTP_I_H
#define MODFS_HTTP_I_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <h2o.h>

#include "http.h"

/* ---- routes (route.c) ---- */

/* The label of a request in /metrics: what kind of object it asked for. */
typedef enum http_route {
    HTTP_ROUTE_LIST,
    HTTP_ROUTE_LATEST,
    HTTP_ROUTE_INFO,
    HTTP_ROUTE_MOD,
    HTTP_ROUTE_ZIP,
    HTTP_ROUTE_SUMDB,
    HTTP_ROUTE_OTHER,
    HTTP_ROUTE_COUNT
} http_route_t;

/* What a request path resolves to. */
typedef enum http_target {
    HTTP_TARGET_KEY,         /* a valid GOPROXY key or checksum-database answer (MODKEY_SUMDB), in key */
    HTTP_TARGET_HEALTHZ,     /* /healthz: liveness */
    HTTP_TARGET_READYZ,      /* /readyz: readiness (has upstream answered lately?) */
    HTTP_TARGET_METRICS,     /* /metrics */
    HTTP_TARGET_STATUS,      /* /: the status page */
    HTTP_TARGET_NOT_FOUND,   /* a name that cannot exist (bad module path, bad /sumdb/ path): 404, reason in err */
    HTTP_TARGET_BAD_REQUEST, /* a path that is not even well-formed (bad percent-encoding, NUL): 400 */
} http_target_t;

/*
 * Percent-decodes path[0..len) (the request-target without the query) into out. '+' stays '+'.
 * Returns the decoded length, -EINVAL for a malformed escape or a decoded NUL, -ENOENT for an
 * escaped '/' (%2F, which no key has), -ENAMETOOLONG when out (cap bytes, NUL included) is too
 * small.
 */
int http_path_decode(const char *path, size_t len, char *out, size_t cap);

/* Resolves a raw request path (query already removed) to a target; fills key for HTTP_TARGET_KEY
 * and err->msg with a one-line reason for NOT_FOUND and BAD_REQUEST. */
http_target_t http_route_resolve(const char *path, size_t len, modkey_t *key, cache_err_t *err);

/* Each loop's memory of the keys its request paths parsed to (keycache.c): the loop thread only. */
#define HTTP_KEYCACHE_SLOTS 1024
typedef struct http_keycache http_keycache_t;
/* NULL when out of memory. */
http_keycache_t *http_keycache_new(void);
void http_keycache_free(http_keycache_t *kc);
/* http_route_resolve, answered from the table when this path parsed to a key before (the key is
 * copied into key, room for any key). */
http_target_t http_keycache_resolve(http_keycache_t *kc, const char *path, size_t len, modkey_t *key,
                                    cache_err_t *err);

/* The /metrics label of a raw path, from its suffix alone (cheap, for the access logger). */
http_route_t http_route_of_path(const char *path, size_t len);
http_route_t http_route_of_kind(modkey_kind_t kind);
const char *http_route_name(http_route_t r);

/* ---- counters (metrics.c) ---- */

enum {
    HTTP_DURATION_BUCKETS = 16, /* finite upper bounds, see metrics.c; +Inf is the total count */
    HTTP_SIZE_BUCKETS = 12,     /* the same for response body sizes */
};

/* Status codes kept apart in /metrics; anything else counts as "other". */
enum {
    HTTP_STATUS_SLOTS = 20,
};

/*
 * Per-thread counters. Each has a single writer (its loop thread), so an increment is a relaxed
 * load and store, not a locked read-modify-write; /metrics sums them with relaxed loads.
 */
typedef struct http_metrics {
    _Atomic uint64_t requests[HTTP_ROUTE_COUNT][HTTP_STATUS_SLOTS];
    _Atomic uint64_t duration_bucket[HTTP_DURATION_BUCKETS + 1]; /* not cumulative; last is > largest bound */
    _Atomic uint64_t duration_sum_us;
    _Atomic uint64_t size_bucket[HTTP_SIZE_BUCKETS + 1];         /* body bytes sent, not cumulative */
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t hits;            /* answered from the store on the loop */
    _Atomic uint64_t misses;          /* the store needed upstream (-EAGAIN with NOFETCH) */
    _Atomic uint64_t fetches;         /* misses handed to a fetch worker */
    _Atomic uint64_t fetch_rejected;  /* misses refused because the fetch queue was full (503) */
    _Atomic uint64_t over_budget;     /* misses refused: the client's miss budget was spent (429) */
    _Atomic uint64_t over_share;      /* misses refused: the client's share of the queue was full (429) */
    _Atomic uint64_t upstream_errors; /* responses 502 */
    _Atomic uint64_t read_errors;     /* a body read from the store failed mid-response */
    _Atomic uint64_t aborted;         /* responses the client abandoned before the end */
    _Atomic uint64_t conns_cut;       /* connections closed for too many aborted streams */
    _Atomic uint64_t auth_missing;    /* 401: no credentials where they are needed */
    _Atomic uint64_t auth_failures;   /* 401: wrong password, unknown user, bad token */
    _Atomic uint64_t auth_limited;    /* 429: the address failed too often */
    _Atomic uint64_t auth_verified;   /* passwords checked by a worker (crypt runs) */
} http_metrics_t;

#define HTTP_COUNT(field, n)                                                                                 \
    atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + (uint64_t)(n),   \
                          memory_order_relaxed)

/* Counts one finished request (called by the access logger on the loop thread). */
void http_metrics_observe(http_metrics_t *m, http_route_t route, int status, uint64_t bytes, uint64_t duration_us);

/* ---- the status page's figures (popular.c, history.c) ---- */

/* The most requested modules of one loop: a space-saving summary (popular.c). Written by its loop
 * only; readers get the copy the loop publishes (http_thread_t.popular_pub). */
#define HTTP_POPULAR_SLOTS 32
#define HTTP_POPULAR_SAMPLE 8      /* one GOPROXY request in this many is noted */
#define HTTP_POPULAR_SHOWN 10
#define HTTP_POPULAR_NAME_MAX 160  /* longer module paths are cut (the hash still tells them apart) */
typedef struct http_popular_entry {
    uint64_t hash;   /* of the whole module path */
    uint64_t count;  /* sampled requests (an over-estimate by what it inherited); 0: empty slot */
    bool private_module;
    char module[HTTP_POPULAR_NAME_MAX];
} http_popular_entry_t;
typedef struct http_popular {
    http_popular_entry_t e[HTTP_POPULAR_SLOTS];
} http_popular_t;

/* Counts one (sampled) request for module[0..len). */
void http_popular_note(http_popular_t *p, const char *module, size_t len, bool private_module);
/* Sums ntables tables by module and writes the cap most counted into out, most first (*nout of
 * them). 0 or -ENOMEM. */
int http_popular_merge(const http_popular_t *tables, size_t ntables, http_popular_entry_t *out, size_t cap,
                       size_t *nout);

/* One minute of the status page's charts (history.c): counters as differences over the minute,
 * gauges as they were at its end. As totals (since the start), every field is a counter's total
 * or a gauge's value now. */
#define HTTP_HISTORY_MINUTES 60
typedef struct http_history_point {
    bool valid;                 /* false: before the server started */
    uint64_t requests;          /* GOPROXY requests (list, @latest, .info, .mod, .zip) */
    uint64_t hits;              /* answered from the store on a loop */
    uint64_t misses;            /* handed to upstream */
    uint64_t fetch_ok, fetch_not_found, fetch_failed; /* the store's upstream fetches, both fronts */
    uint64_t usage_bytes, max_bytes;                  /* gauges: the store's disk and its budget */
} http_history_point_t;
/* The ring of the last hour, minute by minute. The mutex is taken once a minute by loop 0's
 * timer and by a page being rendered; never on a request's path. */
typedef struct http_history {
    pthread_mutex_t mu;               /* protects everything below */
    uint64_t minute;                  /* the minute in progress, since the start */
    http_history_point_t base;        /* the totals when it began */
    http_history_point_t ring[HTTP_HISTORY_MINUTES]; /* ring[m % MINUTES]: minute m, once over */
} http_history_t;
void http_history_init(http_history_t *h, const http_history_point_t *totals);
void http_history_dispose(http_history_t *h);
/* Whether minute (since the start) is past the one in progress. */
bool http_history_due(http_history_t *h, uint64_t minute);
/* Closes the minute in progress with totals (when minute is past it) and begins minute. */
void http_history_tick(http_history_t *h, uint64_t minute, const http_history_point_t *totals);
/* The last HTTP_HISTORY_MINUTES minutes, oldest first, then (out[MINUTES]) the minute in
 * progress as totals minus its start. */
void http_history_get(http_history_t *h, const http_history_point_t *totals,
                      http_history_point_t out[HTTP_HISTORY_MINUTES + 1]);

/* ---- authentication (auth_file.c, auth.c, ratelimit.c) ---- */

typedef struct http_auth_user {
    char *name;
    char *hash; /* crypt(3): yescrypt or bcrypt */
} http_auth_user_t;

typedef struct http_auth_token {
    char *name;
    uint8_t sha256[32];
} http_auth_token_t;

/* The auth file, parsed (format in auth_file.c). Immutable once loaded. */
typedef struct http_auth_db {
    http_auth_user_t *users;
    size_t nusers;
    http_auth_token_t *tokens;
    size_t ntokens;
} http_auth_db_t;

/* Reads and checks path (every hash tried once with crypt_r). 0, or -errno with err naming the
 * file and line. Call at start-up or from a reload, never on a loop thread. */
int http_auth_db_load(const char *path, http_auth_db_t **out, cache_err_t *err);
void http_auth_db_free(http_auth_db_t *db);

/* Failed logins per client address (ratelimit.c): more than max_failures within window_ms block
 * the address for block_ms. Any thread; one mutex, taken only on failures and while some address
 * is blocked. */
#define HTTP_RATELIMIT_SLOTS 4096
#define HTTP_RATELIMIT_FAILURES 10
#define HTTP_RATELIMIT_WINDOW_MS 60000u
#define HTTP_RATELIMIT_BLOCK_MS 60000u
typedef struct http_ratelimit_slot {
    uint8_t addr[16]; /* IPv6, or IPv4-mapped */
    bool used;
    uint32_t failures;
    uint64_t window_start_ms;
    uint64_t blocked_until_ms; /* 0 when not blocked */
    uint64_t last_ms;
} http_ratelimit_slot_t;
typedef struct http_ratelimit {
    pthread_mutex_t mu;            /* protects slots */
    atomic_uint blocked;           /* slots with blocked_until_ms set: 0 lets requests skip the lock */
    uint32_t max_failures;
    uint64_t window_ms, block_ms;
    http_ratelimit_slot_t slots[HTTP_RATELIMIT_SLOTS];
} http_ratelimit_t;
void http_ratelimit_init(http_ratelimit_t *rl, uint32_t max_failures, uint64_t window_ms, uint64_t block_ms);
void http_ratelimit_dispose(http_ratelimit_t *rl);
/* Milliseconds the address stays blocked, 0 when it is not. */
uint64_t http_ratelimit_blocked(http_ratelimit_t *rl, const uint8_t addr[16], uint64_t now_ms);
/* Counts a failure; true when this one blocked the address. */
bool http_ratelimit_fail(http_ratelimit_t *rl, const uint8_t addr[16], uint64_t now_ms);

typedef enum http_auth_result {
    HTTP_AUTH_OK,
    HTTP_AUTH_MISSING, /* no Authorization header */
    HTTP_AUTH_BAD,     /* wrong credentials, unknown scheme, malformed */
    HTTP_AUTH_VERIFY,  /* Basic credentials not seen lately: a worker must run crypt */
} http_auth_result_t;

#define HTTP_AUTH_VERDICT_SLOTS 1024
typedef struct http_auth_verdict {
    uint8_t mac[32];      /* HMAC-SHA-256 of the Authorization value under http_auth.key */
    bool ok;
    uint64_t expires_ms;  /* monotonic; 0 for an empty slot */
} http_auth_verdict_t;

/*
 * The access settings of the front: the auth file's users and tokens, whether everything or
 * /metrics needs them, and the verdicts on Basic credentials checked lately. A reload builds a
 * new one and hands it to every loop (reload.c), so the old verdicts go with the old file: a
 * user removed from the file is refused from the reload on. Reference-counted: each loop holds
 * one reference, each password check in flight on a worker one more; the last unref frees it.
 * Only verdicts change after publication (under mu).
 */
typedef struct http_auth {
    atomic_uint refs;
    http_auth_db_t *db;
    bool required;       /* every request but /healthz and /readyz needs credentials */
    bool metrics_auth;   /* /metrics needs credentials (true when required is) */
    uint8_t key[32];     /* random per object: the verdict table's HMAC key */
    pthread_mutex_t mu;  /* protects verdicts */
    http_auth_verdict_t verdicts[HTTP_AUTH_VERDICT_SLOTS];
} http_auth_t;

/* Loads path (see auth_file.c) into a new object with one reference; required and metrics_auth
 * are false until the caller sets them, before publishing it. Not on a loop thread (crypt runs). */
int http_auth_new(const char *path, http_auth_t **out, cache_err_t *err);
/* The settings cfg asks for (auth_file, auth_required, metrics_auth): a new object, or NULL
 * without an auth file. 0, or -errno with err (a bad file; a switch without a file). */
int http_auth_from_config(const http_config_t *cfg, http_auth_t **out, cache_err_t *err);
/* Another reference to a (NULL passes through); any thread. */
http_auth_t *http_auth_ref(http_auth_t *a);
/* Drops a reference (NULL is a no-op); the last one frees. Any thread. */
void http_auth_unref(http_auth_t *a);
/* Loop thread: judges an Authorization value (NULL/0 when absent) without running crypt: tokens
 * and remembered Basic verdicts are answered, other Basic credentials give HTTP_AUTH_VERIFY. */
http_auth_result_t http_auth_check(http_auth_t *a, const char *value, size_t len);
/* Worker thread: verifies Basic credentials with crypt_r and remembers the verdict. OK or BAD. */
http_auth_result_t http_auth_verify(http_auth_t *a, const char *value, size_t len);
/* Loop thread: whether an Authorization value is good credentials under a as http_auth_check
 * judges it (a token, or a remembered good verdict on Basic credentials; never runs crypt), and
 * then in id the first 16 bytes of the SHA-256 of its user's (or token's) name: the identity of
 * an authenticated client (clients.c). False for a NULL a, no or bad credentials, and Basic ones
 * no worker has verified yet. */
bool http_auth_principal(http_auth_t *a, const char *value, size_t len, uint8_t id[16]);

/* ---- the server ---- */

typedef struct http_fetch_pool http_fetch_pool_t;
typedef struct http_loader http_loader_t;
typedef struct http_server http_server_t;

/* ---- clients (clients.c) ----
 * Who a request comes from, and what the server remembers about each client: its miss budget,
 * its aborted streams, its share of the fetch queue. See clients.c for the identity (the
 * authenticated user, else the address) and the bounded table. */

/* Aborted streams (HTTP/2 rapid reset, see abuse.c): more than HTTP_ABUSE_LIMIT within
 * HTTP_ABUSE_WINDOW_MS from one client, over however many connections, cut the connection. */
#define HTTP_ABUSE_WINDOW_MS 10000
#define HTTP_ABUSE_LIMIT 200

enum {
    HTTP_CLIENT_UNKNOWN = 0,
    HTTP_CLIENT_IPV4 = 4,     /* the 4 address bytes follow */
    HTTP_CLIENT_IPV6_64 = 6,  /* the first 8 bytes of the address (its /64) follow */
    HTTP_CLIENT_USER = 'u',   /* 16 bytes of the SHA-256 of an authenticated user's name follow */
    HTTP_CLIENT_OVERFLOW = 'o',
};
#define HTTP_CLIENT_ID_LEN 17
typedef struct http_client_id {
    uint8_t b[HTTP_CLIENT_ID_LEN]; /* kind byte, then up to 16 bytes, zero-padded */
} http_client_id_t;

typedef struct http_clients http_clients_t;
typedef struct http_fetch_job http_fetch_job_t;

typedef struct http_client {
    /* Protected by http_clients.mu. */
    htab_link_t link;
    agelist_link_t age;         /* in http_clients.lru, most recently seen first */
    http_client_id_t id;
    unsigned pins;              /* references held (a request's miss, its fetch job): no eviction */
    uint64_t tokens_milli;      /* the miss bucket, in thousandths of a miss */
    uint64_t refill_ms;
    uint64_t abort_window_ms;   /* start of the current window of aborted streams */
    uint32_t aborts;
    uint64_t cut_conn_id;       /* the last connection cut for aborts (each is cut once) */
    /* Owned by fetch_worker.c and protected by its pool's mutex; meaningful while pinned. */
    http_fetch_job_t *q_head, *q_tail; /* this client's queued jobs, oldest first */
    unsigned queued, running;
    struct http_client *ring_next;     /* the round robin of clients with queued jobs */
    bool in_ring;
} http_client_t;

/* The identity of req's client (loop thread): its authenticated user, else its address; see
 * clients.c. */
void http_client_id_of(h2o_req_t *req, http_client_id_t *id);
/* The peer's address of req as 16 bytes, IPv4 mapped into IPv6 (all zero when unknown). */
void http_peer_addr(h2o_req_t *req, uint8_t out[16]);

/* A table of at most a fixed number of clients, each with a bucket of miss_rate misses per
 * second up to miss_burst (miss_rate 0: no limit). NULL when out of memory. */
http_clients_t *http_clients_new(unsigned miss_rate, unsigned miss_burst);
void http_clients_free(http_clients_t *cs);
/* New bucket parameters (a reload), in force at each client's next miss: a bucket fuller than
 * the new burst is cut down to it, a refill from then on goes at the new rate. Any thread. */
void http_clients_set_budget(http_clients_t *cs, unsigned miss_rate, unsigned miss_burst);
/* The bucket parameters cfg asks for (its zeros are the defaults, a negative rate no limit). */
unsigned http_miss_rate_of(const http_config_t *cfg);
unsigned http_miss_burst_of(const http_config_t *cfg);
/* The entry of id, pinned (never NULL: past the table's size, a shared overflow entry).
 * Release it with http_clients_release. Any thread. */
http_client_t *http_clients_acquire(http_clients_t *cs, const http_client_id_t *id, uint64_t now_ms);
void http_clients_release(http_clients_t *cs, http_client_t *c);
/* Takes one miss from c's bucket: true when there was one; else *retry_after_s says when the
 * next will be. */
bool http_clients_take_miss(http_clients_t *cs, http_client_t *c, uint64_t now_ms, unsigned *retry_after_s);
/* Counts an aborted stream of c on connection conn_id: true when that connection must be cut
 * now (the client is past the limit, and this connection was not cut before). */
bool http_clients_note_abort(http_clients_t *cs, http_client_t *c, uint64_t conn_id, uint64_t now_ms);
/* Entries in use (the overflow entry aside), for /metrics. */
size_t http_clients_count(http_clients_t *cs);

typedef struct http_thread {
    h2o_context_t ctx; /* first: a request reaches its thread through req->conn->ctx */
    http_server_t *server;
    size_t index;
    pthread_t tid;
    bool started;                            /* the thread was created (main thread's field) */
    bool setup_done;                         /* under server.start_mu: thread_setup has returned */
    int setup_rc;                            /* its result, readable once setup_done */
    h2o_evloop_t *loop;
    h2o_accept_ctx_t accept_plain;
    h2o_accept_ctx_t accept_tls;
    h2o_accept_ctx_t accept_metrics;
    h2o_socket_t *listener_plain; /* NULL once closed */
    h2o_socket_t *listener_tls;
    h2o_socket_t *listener_metrics;
    h2o_multithread_receiver_t fetch_done;   /* finished fetch jobs come back here */
    h2o_multithread_receiver_t load_done;    /* finished loads come back here (loader.c) */
    h2o_multithread_receiver_t control;      /* the stop message */
    h2o_multithread_receiver_t reload;       /* new settings from http_server_reload (reload.c) */
    h2o_iovec_t cc_mutable;                  /* "public, max-age=<list ttl>", this loop's copy (owned) */
    http_keycache_t *keys;                   /* paths already parsed to keys (keycache.c; owned) */
    http_auth_t *auth;                       /* this loop's reference to the access settings; NULL
                                                without an auth file (swapped by reload.c) */
    h2o_multithread_message_t stop_msg;
    size_t jobs_pending;                     /* hand-offs not yet back on this loop */
    bool draining;                           /* stop asked: no more accepts, finishing in-flight work */
    bool drained;                            /* every connection and job finished before the deadline,
                                                and the loop disposed itself */
    uint64_t drain_deadline_ms;
    unsigned popular_countdown;              /* GOPROXY requests until the next one noted */
    http_popular_t popular;                  /* the most requested modules seen by this loop */
    h2o_timeout_t status_timeout;            /* the status tick (status.c) */
    h2o_timeout_entry_t status_tick;
    http_metrics_t metrics;
    /* Read by the status page from any loop: on a line of its own, away from the counters. */
    _Alignas(64) pthread_mutex_t popular_mu; /* protects popular_pub */
    http_popular_t popular_pub;              /* popular as of the last tick */
} http_thread_t;

struct http_server {
    cache_t *cache;
    http_auth_t *auth;   /* the server's reference to the access settings (NULL: no auth file);
                            main thread only: loops read their own (http_thread_t.auth) */
    http_ratelimit_t limit; /* failed logins per address, across reloads; any thread */
    char *listen;
    char *tls_listen;
    unsigned list_ttl_s;
    h2o_globalconf_t globalconf;
    h2o_hostconf_t *hosts_main[2];    /* the GOPROXY host, for the main listeners (NULL-terminated) */
    h2o_hostconf_t *hosts_metrics[2]; /* the metrics-only host, for metrics_listen */
    SSL_CTX *ssl_ctx; /* the server's reference; each loop holds its own in accept_tls (reload.c) */
    int fd_plain; /* listening sockets, -1 when absent; each thread accepts on its own dup */
    int fd_tls;
    int fd_metrics;
    char *metrics_listen;
    int (*metrics_extra)(void *arg, buf_t *out);
    void *metrics_extra_arg;
    size_t nthreads;
    http_thread_t **threads;
    http_fetch_pool_t *fetch;
    http_loader_t *loader;     /* loads of zips into memory, off the loops (loader.c) */
    http_clients_t *clients;
    struct timespec started_at;   /* CLOCK_MONOTONIC */
    struct timespec started_wall; /* CLOCK_REALTIME, for modfs_start_time_seconds */
    http_history_t history;    /* the status page's last hour (history.c), fed by loop 0 */
    _Atomic bool status_page;  /* / answers with the status page (a reload may change it) */
    pthread_mutex_t reload_mu; /* protects reload_pending; reload_cv signals it */
    pthread_cond_t reload_cv;
    size_t reload_pending;     /* loops that have not yet taken a reload's settings */
    pthread_mutex_t start_mu; /* with start_cv: a loop thread reports its setup */
    pthread_cond_t start_cv;
    bool loops_go;            /* under start_mu: every loop exists; they may answer requests */
    bool start_failed;        /* under start_mu, set before loops_go: the loops never run */
};

static inline http_thread_t *http_thread_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(http_thread_t, ctx, req->conn->ctx);
}

/* ---- listening and TLS (listen.c, tls.c) ---- */

/* Opens a non-blocking listening TCP socket on addr ("host:port", "[v6]:port", ":port"). */
int http_listen_open(const char *addr, int *fd, cache_err_t *err);
/* Starts accepting on a dup of fd in the thread's loop. Returns 0 or -errno. */
int http_listen_attach(http_thread_t *t, int fd, h2o_accept_ctx_t *actx, h2o_socket_t **out);

/* A server SSL_CTX: TLS 1.2+, the chain and key, ALPN h2 and http/1.1. */
int http_tls_ctx_new(const char *cert, const char *key, SSL_CTX **out, cache_err_t *err);

/* ---- the request handler and its pieces ---- */

/* Registers the GOPROXY handler and the access logger on "/" of hostconf; metrics_only: a
 * handler that answers /metrics and /healthz and 404 for everything else. */
void http_handler_register(http_server_t *s, h2o_hostconf_t *hostconf, bool metrics_only);
/* Continues a request whose Basic credentials a worker verified (result OK or BAD). Loop thread. */
void http_handler_resume(h2o_req_t *req, http_auth_result_t result);

/* The request path (no query) for a log line: bytes that are not printable ASCII %-escaped,
 * cut to fit cap. */
#define HTTP_LOG_PATH_MAX 512
void http_log_path(const h2o_req_t *req, char *out, size_t cap);

/* The reason phrase of status. */
const char *http_reason(int status);

/* Sends a complete response whose body (static or in req->pool) outlives the request.
 * HEAD gets the same headers and no body. */
void http_send_body(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);
/* Same, copying body into the request's pool first. */
void http_send_text(h2o_req_t *req, int status, const char *body, size_t len);

/* Maps a store error to a status and a one-line text/plain reason, and sends it. */
void http_send_error(h2o_req_t *req, int rc, const cache_err_t *err);
int http_status_of_error(int rc, const cache_err_t *err);
/*
 * The body of the error response for rc: what failed, for the client, never where upstream is
 * (cache errors name upstream URLs; the log keeps them). path is the request path as logged.
 * Writes a line ending in '\n' into out (cap bytes) and returns its length.
 */
size_t http_error_body(int status, int rc, const cache_err_t *err, const char *path, char *out, size_t cap);

/* The /readyz answer: 200 or 503, and a one-line body into out. Pure (tested alone). */
int http_readiness(const cache_upstream_health_t *h, char *out, size_t cap);

/* ---- reload (reload.c) ---- */

/* "public, max-age=<ttl>" in a malloc'd iovec; base NULL when out of memory. */
h2o_iovec_t http_cc_mutable_new(unsigned list_ttl_s);
/* The receiver callback of http_thread_t.reload. */
void http_reload_on_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

/* Answers req with the object named by key (takes over the caller's reference to obj): headers,
 * conditionals, Range, and the body from memory or streamed. When the object's bytes turn out
 * lost or damaged before anything is sent, the store has dropped it and the request is handed
 * to a fetch worker once more (retried = false), or answered 502 (retried = true). Loop thread
 * only. */
void http_respond_object(h2o_req_t *req, const modkey_t *key, cache_object_t *obj, bool retried);
/* The object's bytes were found lost or damaged (rc) before anything was sent, and the store has
 * dropped it: undoes the headers set, and hands req to a fetch worker once more (not when
 * retried), or answers 502. Loop thread only. */
void http_respond_refetch(h2o_req_t *req, const modkey_t *key, bool retried, int rc);

/* A streamed body: http_body_prepare reads (and checks) the first piece of obj[off, off + len)
 * into a buffer in req's pool, or, for the whole of an object served before, takes its bytes
 * loaded in memory (cache_object_load_begin); it takes over the reference to obj on success; on
 * an error (-EIO) nothing is sent and the caller still owns obj. http_body_start then sends the
 * response whose status and headers are set, and streams the rest. -EINPROGRESS: the object is
 * being loaded into memory off the loop (loader.c); the body has taken obj and answers req itself
 * when the load is over (from memory; or refetched as http_respond_refetch with key and retried
 * when the load found a chunk damaged), and the caller does nothing more with req. */
typedef struct http_body http_body_t;
int http_body_prepare(h2o_req_t *req, const modkey_t *key, cache_object_t *obj, uint64_t off, uint64_t len,
                      bool retried, http_body_t **out);
void http_body_start(h2o_req_t *req, http_body_t *b);

/* ---- conditionals and Range (precond.c); pure functions ---- */

/* The strong ETag of an object: a quoted hex of the first 16 bytes of its SHA-256. */
#define HTTP_ETAG_LEN 34
void http_etag_format(const uint8_t sha256[32], char out[HTTP_ETAG_LEN + 1]);

/* An HTTP-date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") of unix time t. */
#define HTTP_DATE_LEN 29
void http_date_format(int64_t t, char out[HTTP_DATE_LEN + 1]);

typedef enum http_precond {
    HTTP_PRECOND_OK,           /* answer as usual */
    HTTP_PRECOND_NOT_MODIFIED, /* 304: If-None-Match (weak comparison) or If-Modified-Since */
    HTTP_PRECOND_FAILED,       /* 412: If-Match (strong comparison) or If-Unmodified-Since; *why says which */
} http_precond_t;

/* The preconditions of a GET or HEAD of an existing object with the given strong etag and
 * Last-Modified, in RFC 9110 13.2.2's order. *why is set (a static string) for FAILED only. */
http_precond_t http_precond_eval(const h2o_headers_t *headers, const char *etag, int64_t mtime, const char **why);

typedef enum http_range_result {
    HTTP_RANGE_NONE,          /* serve the whole object: no Range, a malformed one, or several ranges */
    HTTP_RANGE_PARTIAL,       /* serve [first, last] with 206 */
    HTTP_RANGE_UNSATISFIABLE, /* 416 */
} http_range_result_t;

/* Parses a Range header value against an object of size bytes (RFC 9110 14.2). Only a single
 * byte range is honoured; a list of ranges gets the full object. */
http_range_result_t http_range_parse(const char *v, size_t len, uint64_t size, uint64_t *first, uint64_t *last);

/* If-Range: true when the validator (a strong ETag or an HTTP-date) matches the object. */
bool http_if_range_matches(const char *v, size_t len, const char *etag, int64_t mtime);

/* ---- fetch workers (fetch_worker.c) ---- */

/* Starts nworkers threads; at most max_queued jobs wait for a worker, at most client_queued of
 * them from one client. NULL on failure. */
http_fetch_pool_t *http_fetch_pool_new(cache_t *cache, size_t nworkers, size_t max_queued, size_t client_queued);
/*
 * Hands req (a miss on key, from client, whose pin the job takes over on success) to a worker;
 * the answer is sent later on t's loop. Workers serve clients in turn (round robin), and one
 * client never has more than three quarters of the workers (at least one) at once, so a client
 * whose fetches hang leaves workers to the others. Returns 0, or -EAGAIN when the queue is full
 * or stopping, -EUSERS when the client's share of the queue is full, -ENOMEM (nothing sent then,
 * and the caller still holds the pin: the caller answers).
 */
int http_fetch_submit(http_thread_t *t, h2o_req_t *req, const modkey_t *key, http_client_t *client);
/* The same for an object found damaged while answering (its answer gives up with 502 if the
 * fresh copy is damaged too), in the queue of req's client, which it pins itself: a refetch the
 * store needs is not a miss of the client's budget. */
int http_fetch_retry(http_thread_t *t, h2o_req_t *req, const modkey_t *key);
/* Hands the verification of req's Basic credentials (value[0..len)) against a to a worker (which
 * holds a reference to a meanwhile), in the queue of req's client (by address); the request
 * continues later in http_handler_resume on t's loop. 0, -EAGAIN (queue full), -EUSERS (the
 * client's share of the queue is full) or -ENOMEM. */
int http_fetch_submit_verify(http_thread_t *t, h2o_req_t *req, http_auth_t *a, const char *value, size_t len);
/* The receiver callback of http_thread_t.fetch_done. */
void http_fetch_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);
/* Lets running fetches finish, cancels queued ones (they still come back to their loop with
 * -ECANCELED), joins and frees. */
void http_fetch_pool_free(http_fetch_pool_t *p);

/* ---- loads into memory off the loops (loader.c) ---- */

/* Called on the request's loop when its load is over, only if the request is still alive: rc and
 * bytes as cache_object_load_run's, or -ECANCELED (the server is stopping; nothing loaded). */
typedef void (*http_load_done_fn)(h2o_req_t *req, void *arg, int rc, slice_t bytes);
/* Starts the loader thread; at most max_queued loads wait for it. NULL on failure. */
http_loader_t *http_loader_new(size_t max_queued);
/* Hands the load claimed on obj (cache_object_load_begin said -EINPROGRESS) to the loader, which
 * takes a reference of its own; done(req, arg, ...) follows on t's loop. 0, or -EAGAIN (queue full
 * or stopping), -ENOMEM: the claim is still the caller's then (cancel it). Loop thread only. */
int http_loader_submit(http_thread_t *t, h2o_req_t *req, cache_object_t *obj, http_load_done_fn done, void *arg);
/* The receiver callback of http_thread_t.load_done. */
void http_loader_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);
/* Finishes the load under way, cancels queued ones (they still come back to their loop with
 * -ECANCELED), joins and frees. After the loops have stopped. */
void http_loader_free(http_loader_t *l);

/* ---- abuse.c ---- */

/* Notes that a response on req's connection was abandoned by the client; closes connections
 * of a client that abandons too many (HTTP/2 rapid reset), whichever connection it uses. */
void http_abuse_note_abort(http_thread_t *t, h2o_req_t *req);

/* ---- the status page (status.c, status_page.c) ---- */

/* Notes a GOPROXY request for the most requested modules: one in HTTP_POPULAR_SAMPLE reaches the
 * loop's own table (a decrement otherwise). Loop thread only. */
static inline void http_status_note(http_thread_t *t, const modkey_t *key, bool private_module)
{
    if (--t->popular_countdown != 0)
        return;
    t->popular_countdown = HTTP_POPULAR_SAMPLE;
    http_popular_note(&t->popular, key->module, strlen(key->module), private_module);
}
/* The loop's status tick: set up and torn down on the loop's own thread (server.c thread_setup,
 * thread_dispose); popular_mu is made and destroyed with the thread's struct. */
void http_status_thread_init(http_thread_t *t);
void http_status_thread_dispose(http_thread_t *t);
/* The totals the history keeps, now (any thread). */
void http_status_totals(http_server_t *s, http_history_point_t *out);
/* Answers req with the status page; private module names are shown only when show_private. */
void http_status_send(h2o_req_t *req, http_server_t *s, bool show_private);

/* Everything the page shows, gathered from memory (status.c), rendered by status_page.c. */
typedef struct http_status_view {
    int64_t now;                 /* unix seconds */
    int64_t started;             /* unix seconds */
    size_t threads;
    cache_stats_t store;
    cache_upstream_health_t upstream;
    http_history_point_t minutes[HTTP_HISTORY_MINUTES + 1]; /* oldest first; the last in progress */
    uint64_t hits, misses;       /* the loops' totals since the start */
    http_popular_entry_t popular[HTTP_POPULAR_SHOWN];
    size_t npopular;
    const cache_fetch_notes_t *notes;
    bool show_private;           /* else private module names and keys are masked */
} http_status_view_t;
/* A page being written: appends stop at the first failure, which rc keeps (status_page.c). */
typedef struct http_page {
    buf_t *out;
    int rc; /* 0, or -ENOMEM: nothing more is appended */
} http_page_t;
__attribute__((format(printf, 2, 3))) void http_page_put(http_page_t *p, const char *fmt, ...);
/* Appends s with &, <, >, " and ' escaped for HTML text and attribute values. */
void http_page_escaped(http_page_t *p, const char *s);
/* "512 B", "1.5 KiB", "12.3 MiB", "1.20 GiB". */
const char *http_format_bytes(uint64_t v, char *buf, size_t cap);

/* The charts (status_svg.c). A series of a bar chart: one value per minute of the view, drawn
 * with the CSS class cls, named in each bar's tooltip. */
typedef struct http_svg_series {
    const char *name;
    const char *cls;
    uint64_t v[HTTP_HISTORY_MINUTES + 1];
} http_svg_series_t;
/* Stacked bars, one per valid minute of minutes[], series stacked in order from the axis up. */
void http_svg_bars(http_page_t *p, const char *id, const char *label, const http_svg_series_t *series, size_t n,
                   const http_history_point_t *minutes);
/* The store's disk minute by minute, and its budget as a dashed line. */
void http_svg_usage(http_page_t *p, const char *id, const char *label, const http_history_point_t *minutes);
/* A horizontal bar: used and live bytes against max, with the eviction target marked. */
void http_svg_gauge(http_page_t *p, const char *id, uint64_t used, uint64_t live, uint64_t max);
/* The page: HTML with inline CSS and SVG, nothing fetched from elsewhere. 0 or -ENOMEM. */
int http_status_page_render(const http_status_view_t *v, buf_t *out);
/* What failed, in words that name no upstream host (errors.c), for a page or a body. */
const char *http_failure_reason(int rc, const cache_err_t *err, char *buf, size_t cap);

/* ---- metrics.c ---- */

/* Renders the Prometheus text of every thread's counters and the store's figures into out, from
 * memory only: any thread may call it, a loop thread included. */
int http_metrics_render(http_server_t *s, buf_t *out);

/* Monotonic milliseconds and microseconds. */
uint64_t http_now_us(void);

#endif
