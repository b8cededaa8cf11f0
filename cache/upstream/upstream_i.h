/* SPDX-License-Identifier: MIT */
/*
 * upstream_i.h — what the files of upstream/ share: the GOPROXY list taken apart, the upstream
 * itself, and one attempt of one GET (a transfer).
 *
 * proxylist.c parses the list, upstream.c walks it and retries (the policy), transfer.c runs the
 * transfers on its pool of curl multi threads (the mechanism), judge.c turns a finished transfer into 0 or
 * -errno with words, direct.c runs the go command for a "direct" entry and private modules. The
 * list syntax is go's (see upstream.h); a list is checked whole when the upstream is created, so
 * a bad entry fails upstream_new and never a fetch.
 */
#ifndef MODFS_UPSTREAM_I_H
#define MODFS_UPSTREAM_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "gomod.h"
#include "upstream.h"

typedef enum proxy_kind {
    PROXY_URL,
    PROXY_OFF,
    PROXY_DIRECT,
} proxy_kind_t;

typedef struct upstream_proxy {
    proxy_kind_t kind;
    bool fall_back_on_error; /* the entry was followed by '|' */
    bool https;
    bool file;
    char *base;     /* scheme://host/path without trailing '/' */
    char *shown;    /* base with any password replaced, for messages and logs */
    char *file_dir; /* file:// only: the decoded local directory */
} upstream_proxy_t;

/*
 * Splits list on ',' and '|' as go's proxyList does; "off" and "direct" end it. On 0, *out is a
 * calloc'd array of *nout entries (at least one), which the caller releases with upstream_proxy_dispose on
 * each entry and free on the array. Returns -EINVAL for an empty list or a bad entry and -ENOMEM,
 * with err saying which; then *out is NULL and nothing is left to free.
 */
int upstream_proxylist_parse(const char *list, upstream_proxy_t **out, size_t *nout, cache_err_t *err);
/* Frees what one entry owns (not the entry itself). */
void upstream_proxy_dispose(upstream_proxy_t *p);

/* ---- direct.c: the go command as one more entry of the list ---- */

typedef struct upstream_direct upstream_direct_t;
typedef struct upstream_direct_config {
    const char *go_command; /* "go" (looked up in PATH) when NULL */
    const char *work_dir;   /* absolute; each fetch makes and removes a directory in it */
    long timeout_ms;        /* per run; UPSTREAM_DIRECT_TIMEOUT_MS when 0 */
    int max_jobs;           /* go processes at once; UPSTREAM_DIRECT_JOBS when 0 */
} upstream_direct_config_t;

/* Takes a copy of the process environment (the service's credentials reach go through it). */
int upstream_direct_new(const upstream_direct_config_t *cfg, upstream_direct_t **out, cache_err_t *err);
void upstream_direct_free(upstream_direct_t *d);
/* Kills the go commands running (each notices within a second) and makes every later fetch, and
 * every one waiting for a slot, return -ECANCELED. Cannot be undone; any thread; NULL is a no-op. */
void upstream_direct_cancel(upstream_direct_t *d);
/*
 * Runs the go command for key and writes the body of key to fd (from offset 0, at most
 * max_bytes). private_module: the module must skip the checksum database. Blocks, possibly for
 * the whole timeout, and waits for a free job slot first; any thread. Returns 0 (res->status
 * 200), -ENOENT when go says the version or module does not exist (404), -ETIMEDOUT, -EFBIG,
 * -ECANCELED after upstream_direct_cancel, or -EIO with go's own reason in err.
 */
int upstream_direct_fetch(upstream_direct_t *d, const modkey_t *key, bool private_module, int fd, uint64_t max_bytes,
                          upstream_result_t *res, cache_err_t *err);

/* ---- sumdbroute.c: how each checksum database is reached (made and freed with the upstream) ---- */

typedef struct upstream_sumdb_routes upstream_sumdb_routes_t;
upstream_sumdb_routes_t *upstream_sumdb_routes_new(void);
void upstream_sumdb_routes_free(upstream_sumdb_routes_t *r);

/* ---- the upstream, and one attempt of one GET (transfer.c, judge.c) ---- */

/* A transfer that receives less than this many bytes per second for stall_ms has stalled. */
#define UPSTREAM_STALL_BYTES_PER_S 1024L
#define UPSTREAM_DETAIL_MAX 200 /* bytes of an error body's first line shown in messages */
#define UPSTREAM_IDLE_HANDLES 32 /* easy handles kept for reuse by each transfer thread */
#define UPSTREAM_MAX_THREADS 16  /* transfer threads at most, whatever the number of cores */

typedef struct upstream_worker upstream_worker_t;

/* One attempt of one GET. Lives on the calling thread's stack; its transfer thread writes the
 * result fields until it sets done under upstream.mu, and never touches it afterwards. */
typedef struct upstream_transfer {
    const upstream_proxy_t *proxy;
    const char *url;
    const char *shown; /* url without a password, for log lines */
    int fd;
    const upstream_sink_t *sink; /* offered each piece of the body first, or NULL */
    uint64_t max_bytes;
    CURL *easy;

    CURLcode code;
    long status;
    long redirects;
    long os_errno;
    uint64_t bytes;
    int64_t elapsed_us;  /* from the start of the attempt to its end (curl's total time) */
    bool connected;      /* a connection was made (or reused) and the request went out */
    bool got_head;       /* a response status line arrived */
    bool status_known;
    bool encoded; /* the final response has a Content-Encoding: its Content-Length is not the size */
    bool too_big;
    bool cancelled; /* aborted by upstream_cancel_all */
    int write_errno;
    long retry_after_s; /* the response's Retry-After in seconds, -1 when it had none */
    uint64_t error_body_bytes;
    size_t detail_len;
    char detail[UPSTREAM_DETAIL_MAX + 1];
    char reason[64];
    char content_type[64];
    char errbuf[CURL_ERROR_SIZE];

    bool done; /* protected by upstream.mu */
    pthread_cond_t done_cond;
    upstream_worker_t *worker;      /* the thread it was given to; under upstream.mu */
    struct upstream_transfer *next; /* the worker's queue; under upstream.mu */
    agelist_link_t run;             /* in worker.running; its transfer thread only */
} upstream_transfer_t;

/* One transfer thread with its own multi handle (and so its own connection pool and its own
 * wake-up). */
struct upstream_worker {
    upstream_t *u;
    unsigned index; /* 0..nworkers-1, named in log lines */
    CURLM *multi;
    upstream_transfer_t *queue_head; /* under upstream.mu */
    upstream_transfer_t *queue_tail;
    unsigned load;                     /* transfers queued or running here; under upstream.mu */
    CURL *idle[UPSTREAM_IDLE_HANDLES]; /* this thread only */
    size_t nidle;
    agelist_t running; /* the transfers in the multi handle; this thread only */
    unsigned nrunning; /* how many; this thread only */
    pthread_t thread;
    bool started;
};

struct upstream {
    upstream_proxy_t *proxies;
    size_t nproxies;
    char *ca_file;
    char *no_proxy;
    long connect_timeout_ms;
    long stall_ms;
    long total_timeout_ms;
    int max_retries;
    long retry_window_ms;
    upstream_direct_t *direct;  /* the go command; NULL without a work directory and a "direct" entry */
    upstream_sumdb_routes_t *sumdb_routes; /* sumdbroute.c */
    _Atomic uint64_t requests;
    _Atomic uint64_t last_answer_ms;  /* upstream_now_ms() of the last HTTP answer, 0: never */
    _Atomic uint64_t last_failure_ms; /* of the last attempt with no answer at all, 0: never */
    pthread_mutex_t health_mu;        /* protects last_failure */
    char last_failure[256];

    pthread_mutex_t mu; /* protects the workers' queues and loads, stopping, cancelled, transfer.done */
    pthread_cond_t cancel_cv; /* broadcast when cancelled is set (wakes retry backoffs); CLOCK_MONOTONIC */
    bool stopping;
    bool cancelled;

    CURLSH *share; /* DNS and TLS sessions, across every worker */
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    upstream_worker_t *workers; /* transfer.c; set by the first transfer (under mu), fixed until upstream_free */
    unsigned nworkers;          /* 0 until then */
    bool start_failed;          /* the pool could not be started: every transfer fails; under mu */
    char start_error[CURL_ERROR_SIZE];
};

/* transfer.c: sets up the share handle and the transfer threads (nthreads, or one per core and
 * at least 2 when 0), each with its multi handle (called by the first upstream_transfer_run, with
 * mu held); stops them all (aborting what still runs) and frees them (a no-op when none started).
 * 0 or -errno with err. */
int upstream_transfers_start(upstream_t *u, unsigned nthreads, cache_err_t *err);
void upstream_transfers_stop(upstream_t *u);
/* Wakes every transfer thread (after upstream_cancel_all set cancelled). Any thread. */
void upstream_transfers_wake(upstream_t *u);
/* Gives t to the transfer thread with the fewest transfers and blocks until that thread has
 * finished it (at once, with CURLE_ABORTED_BY_CALLBACK and t->cancelled, after
 * upstream_cancel_all). */
void upstream_transfer_run(upstream_t *u, upstream_transfer_t *t);

/* judge.c: turns a finished attempt into 0 or -errno with words naming the URL (shown) and the
 * cause; *transient tells whether another attempt may help. */
int upstream_transfer_judge(const upstream_t *u, upstream_transfer_t *t, const char *shown, bool *transient,
                            cache_err_t *err);

/* ---- upstream.c, for sumdbroute.c ---- */

/* Checks that path is relative without empty, "." or ".." elements, and writes it into out
 * %-escaped as go's proxy client does ('!' too, unless bang_plain: a checksum database's paths
 * keep it). 0, -EINVAL or -ENAMETOOLONG with err. */
int upstream_path_escape(const char *path, bool bang_plain, char *out, size_t cap, cache_err_t *err);
/* The start of every fetch: *res (scratch when it is NULL) cleared, no upstream status in err
 * yet, and path escaped into out by upstream_path_escape, whose result it returns. */
int upstream_fetch_begin(const char *path, bool bang_plain, char *out, size_t cap, upstream_result_t **res,
                         upstream_result_t *scratch, cache_err_t *err);
/* GET url (shown in messages as shown) through proxy entry p, retrying transient failures within
 * the retry window; key is the path below p, read directly for a file:// entry. Results as
 * upstream_fetch. */
int upstream_fetch_url(upstream_t *u, const upstream_proxy_t *p, const char *key, const char *url, const char *shown,
                       int fd, const upstream_sink_t *sink, uint64_t max_bytes, upstream_result_t *res,
                       cache_err_t *err);

#endif
