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
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

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
    HTTP_TARGET_HEALTHZ,     /* /healthz */
    HTTP_TARGET_METRICS,     /* /metrics */
    HTTP_TARGET_NOT_FOUND,   /* a name that cannot exist (bad module path, bad /sumdb/ path, /): 404, reason in err */
    HTTP_TARGET_BAD_REQUEST, /* a path that is not even well-formed (bad percent-encoding, NUL): 400 */
} http_target_t;

/*
 * Percent-decodes path[0..len) (the request-target without the query) into out. '+' stays '+'.
 * Returns the decoded length, -EINVAL for a malformed escape or a decoded NUL, -ENAMETOOLONG
 * when out (cap bytes, NUL included) is too small.
 */
int http_path_decode(const char *path, size_t len, char *out, size_t cap);

/* Resolves a raw request path (query already removed) to a target; fills key for HTTP_TARGET_KEY
 * and err->msg with a one-line reason for NOT_FOUND and BAD_REQUEST. */
http_target_t http_route_resolve(const char *path, size_t len, modkey_t *key, cache_err_t *err);

/* The /metrics label of a raw path, from its suffix alone (cheap, for the access logger). */
http_route_t http_route_of_path(const char *path, size_t len);
http_route_t http_route_of_kind(modkey_kind_t kind);
const char *http_route_name(http_route_t r);

/* ---- counters (metrics.c) ---- */

enum {
    HTTP_DURATION_BUCKETS = 16, /* finite upper bounds, see metrics.c; +Inf is the total count */
};

/* Status codes kept apart in /metrics; anything else counts as "other". */
enum {
    HTTP_STATUS_SLOTS = 15,
};

/*
 * Per-thread counters. Each has a single writer (its loop thread), so an increment is a relaxed
 * load and store, not a locked read-modify-write; /metrics sums them with relaxed loads.
 */
typedef struct http_metrics {
    _Atomic uint64_t requests[HTTP_ROUTE_COUNT][HTTP_STATUS_SLOTS];
    _Atomic uint64_t duration_bucket[HTTP_DURATION_BUCKETS + 1]; /* not cumulative; last is > largest bound */
    _Atomic uint64_t duration_sum_us;
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t hits;            /* answered from the store on the loop */
    _Atomic uint64_t misses;          /* the store needed upstream (-EAGAIN with NOFETCH) */
    _Atomic uint64_t fetches;         /* misses handed to a fetch worker */
    _Atomic uint64_t fetch_rejected;  /* misses refused because the fetch queue was full (503) */
    _Atomic uint64_t upstream_errors; /* responses 502 */
    _Atomic uint64_t read_errors;     /* a body read from the store failed mid-response */
    _Atomic uint64_t aborted;         /* responses the client abandoned before the end */
    _Atomic uint64_t conns_cut;       /* connections closed for too many aborted streams */
} http_metrics_t;

#define HTTP_COUNT(field, n)                                                                                 \
    atomic_store_explicit(&(field), atomic_load_explicit(&(field), memory_order_relaxed) + (uint64_t)(n),   \
                          memory_order_relaxed)

/* Counts one finished request (called by the access logger on the loop thread). */
void http_metrics_observe(http_metrics_t *m, http_route_t route, int status, uint64_t bytes, uint64_t duration_us);

/* ---- the server ---- */

typedef struct http_fetch_pool http_fetch_pool_t;
typedef struct http_server http_server_t;

/* Aborted streams counted per connection (abuse.c). */
#define HTTP_ABUSE_SLOTS 64
typedef struct http_abuse_slot {
    uint64_t conn_id;
    uint64_t window_start_ms;
    uint32_t count;
} http_abuse_slot_t;

typedef struct http_thread {
    h2o_context_t ctx; /* first: a request reaches its thread through req->conn->ctx */
    http_server_t *server;
    size_t index;
    pthread_t tid;
    bool started;
    h2o_evloop_t *loop;
    h2o_accept_ctx_t accept_plain;
    h2o_accept_ctx_t accept_tls;
    h2o_socket_t *listener_plain; /* NULL once closed */
    h2o_socket_t *listener_tls;
    h2o_multithread_receiver_t fetch_done;   /* finished fetch jobs come back here */
    h2o_multithread_receiver_t control;      /* the stop message */
    h2o_multithread_message_t stop_msg;
    size_t jobs_pending;                     /* hand-offs not yet back on this loop */
    bool draining;                           /* stop asked: no more accepts, finishing in-flight work */
    bool exited;                             /* the loop thread has returned */
    bool drained;                            /* every connection and job finished before the deadline */
    uint64_t drain_deadline_ms;
    http_abuse_slot_t abuse[HTTP_ABUSE_SLOTS];
    http_metrics_t metrics;
} http_thread_t;

struct http_server {
    cache_t *cache;
    char *listen;
    char *tls_listen;
    unsigned list_ttl_s;
    h2o_iovec_t cc_mutable; /* "public, max-age=<list ttl>" */
    h2o_globalconf_t globalconf;
    SSL_CTX *ssl_ctx;
    int fd_plain; /* listening sockets, -1 when absent; each thread accepts on its own dup */
    int fd_tls;
    size_t nthreads;
    http_thread_t **threads;
    http_fetch_pool_t *fetch;
    struct timespec started_at;
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

/* Registers the GOPROXY handler and the access logger on "/" of hostconf. */
void http_handler_register(http_server_t *s, h2o_hostconf_t *hostconf);

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

/* Answers req with the object named by key (takes over the caller's reference to obj): headers,
 * conditionals, Range, and the body from memory or streamed. When the object's bytes turn out
 * lost or damaged before anything is sent, the store has dropped it and the request is handed
 * to a fetch worker once more (retried = false), or answered 502 (retried = true). Loop thread
 * only. */
void http_respond_object(h2o_req_t *req, const modkey_t *key, cache_object_t *obj, bool retried);

/* A streamed body: http_body_prepare reads (and checks) the first piece of obj[off, off + len)
 * into a buffer in req's pool, taking over the reference to obj only on success; on -EIO nothing
 * is sent and the caller still owns obj. http_body_start then sends the response whose status
 * and headers are set, and streams the rest. */
typedef struct http_body http_body_t;
int http_body_prepare(h2o_req_t *req, cache_object_t *obj, uint64_t off, uint64_t len, http_body_t **out);
void http_body_start(h2o_req_t *req, http_body_t *b);

/* ---- conditionals and Range (precond.c); pure functions ---- */

/* The strong ETag of an object: a quoted hex of the first 16 bytes of its SHA-256. */
#define HTTP_ETAG_LEN 34
void http_etag_format(const uint8_t sha256[32], char out[HTTP_ETAG_LEN + 1]);

/* An HTTP-date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") of unix time t. */
#define HTTP_DATE_LEN 29
void http_date_format(int64_t t, char out[HTTP_DATE_LEN + 1]);

/* True when If-None-Match (weak comparison, "*" matches) or, absent that, If-Modified-Since says
 * the client's copy is current. */
bool http_precond_not_modified(const h2o_headers_t *headers, const char *etag, int64_t mtime);

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

/* Starts nworkers threads; at most max_queued jobs wait for a worker. NULL on failure. */
http_fetch_pool_t *http_fetch_pool_new(cache_t *cache, size_t nworkers, size_t max_queued);
/*
 * Hands req (a miss on key) to a worker; the answer is sent later on t's loop. Returns 0, or
 * -EAGAIN when the queue is full, -ENOMEM (nothing sent then: the caller answers).
 */
int http_fetch_submit(http_thread_t *t, h2o_req_t *req, const modkey_t *key);
/* The same for an object found damaged while answering: its answer gives up with 502 if the
 * fresh copy is damaged too. */
int http_fetch_retry(http_thread_t *t, h2o_req_t *req, const modkey_t *key);
/* The receiver callback of http_thread_t.fetch_done. */
void http_fetch_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);
/* Lets running fetches finish, cancels queued ones (they still come back to their loop with
 * -ECANCELED), joins and frees. */
void http_fetch_pool_free(http_fetch_pool_t *p);

/* ---- abuse.c ---- */

/* Notes that a response on req's connection was abandoned by the client; closes connections
 * that abandon too many (HTTP/2 rapid reset). */
void http_abuse_note_abort(http_thread_t *t, h2o_req_t *req);

/* ---- metrics.c ---- */

/* Renders the Prometheus text of every thread's counters and the store's figures into out, from
 * memory only: any thread may call it, a loop thread included. */
int http_metrics_render(http_server_t *s, buf_t *out);

/* Monotonic milliseconds and microseconds. */
uint64_t http_now_us(void);

#endif
