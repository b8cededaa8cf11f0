/* SPDX-License-Identifier: MIT */
/*
 * upstream_i.h — what the files of upstream/ share: the GOPROXY list taken apart, the upstream
 * itself, and one attempt of one GET (a transfer).
 *
 * proxylist.c parses the list, upstream.c walks it and retries (the policy), transfer.c runs the
 * transfers on the curl multi thread (the mechanism), judge.c turns a finished transfer into 0 or
 * -errno with words. The list syntax is go's (see upstream.h); a list is checked whole when the
 * upstream is created, so a bad entry fails upstream_new and never a fetch.
 */
#ifndef MODFS_UPSTREAM_I_H
#define MODFS_UPSTREAM_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

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

/* A transfer that receives less than this many bytes per second for stall_ms has stalled. */
#define UPSTREAM_STALL_BYTES_PER_S 1024L
#define UPSTREAM_DETAIL_MAX 200 /* bytes of an error body's first line shown in messages */
#define UPSTREAM_IDLE_HANDLES 32 /* easy handles kept for reuse by the transfer thread */

/* One attempt of one GET. Lives on the calling thread's stack; the transfer thread writes the
 * result fields until it sets done under upstream.mu, and never touches it afterwards. */
typedef struct upstream_transfer {
    const upstream_proxy_t *proxy;
    const char *url;
    int fd;
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
    struct upstream_transfer *next;                /* the queue; under upstream.mu */
    struct upstream_transfer *run_prev, *run_next; /* the running list; transfer thread only */
} upstream_transfer_t;

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
    _Atomic uint64_t requests;

    pthread_mutex_t mu; /* protects queue_head, queue_tail, stopping, cancelled, transfer.done */
    pthread_cond_t cancel_cv; /* broadcast when cancelled is set (wakes retry backoffs); CLOCK_MONOTONIC */
    upstream_transfer_t *queue_head;
    upstream_transfer_t *queue_tail;
    bool stopping;
    bool cancelled;

    CURLM *multi;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    CURL *idle[UPSTREAM_IDLE_HANDLES]; /* transfer thread only */
    size_t nidle;
    upstream_transfer_t *running; /* transfer thread only */
    pthread_t thread;
    bool thread_started;
};

/* transfer.c: sets up the multi and share handles and starts the transfer thread; stops it
 * (aborting what still runs) and frees them. 0 or -errno with err. */
int upstream_transfers_start(upstream_t *u, cache_err_t *err);
void upstream_transfers_stop(upstream_t *u);
/* Queues t and blocks until the transfer thread has finished it (at once, with
 * CURLE_ABORTED_BY_CALLBACK and t->cancelled, after upstream_cancel_all). */
void upstream_transfer_run(upstream_t *u, upstream_transfer_t *t);

/* judge.c: turns a finished attempt into 0 or -errno with words naming the URL (shown) and the
 * cause; *transient tells whether another attempt may help. */
int upstream_transfer_judge(const upstream_t *u, upstream_transfer_t *t, const char *shown, bool *transient,
                            cache_err_t *err);

#endif
