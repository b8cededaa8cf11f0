/* SPDX-License-Identifier: MIT */
/*
 * upstream.h — the client of the upstream GOPROXY (libcurl).
 *
 * The proxy list has go's syntax: "URL1,URL2" moves on only after 404/410, "URL1|URL2" after
 * any error, "off" fails every fetch as not found ("module lookup disabled by GOPROXY=off"),
 * "direct" runs the go command against the module's version control system (direct.c) and ends
 * the list like "off". A key the caller says is of a private module (the cache layer matches its
 * --private patterns) is never asked of a proxy: it goes direct whatever the list says, and
 * skips the checksum database.
 * Transfers run on a small pool of transfer threads (one per core, at least 2), each with its own
 * curl multi handle; connections are shared among the callers of one thread (HTTP/2 multiplexing
 * and keep-alive) and DNS answers and TLS sessions among all, TLS is verified, and no transfer
 * waits for another: HTTP/1.1 upstreams get a connection per concurrent transfer. A dead or hung
 * upstream fails within seconds (connect timeout, stall limit) while a slow body that keeps
 * moving completes. Transient failures (connect errors, timeouts, 429, 5xx) are retried a bounded
 * number of times with exponential backoff, within a window that bounds the whole fetch (see
 * upstream.c).
 */
#ifndef MODFS_UPSTREAM_H
#define MODFS_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef struct upstream upstream_t;

typedef struct upstream_config {
    const char *proxy_list;   /* e.g. "https://proxy.golang.org" or "http://127.0.0.1:8080,https://b|https://c" */
    const char *ca_file;      /* optional PEM bundle to verify the upstream (another modfs with its own CA) */
    long connect_timeout_ms;  /* TCP and TLS handshake; 0: UPSTREAM_DEFAULT_CONNECT_TIMEOUT_MS */
    long stall_timeout_ms;    /* no response, or a body under 1 KiB/s, this long fails the attempt; 0: default */
    long total_timeout_ms;    /* per attempt, even while the body moves; 0: UPSTREAM_DEFAULT_TOTAL_TIMEOUT_MS */
    int max_retries;          /* extra attempts on transient errors; < 0 means UPSTREAM_DEFAULT_RETRIES */
    const char *go_command;   /* the go command for direct fetches; "go" from PATH when NULL */
    const char *work_dir;     /* absolute directory for the throwaway GOPATHs of direct fetches;
                                 NULL: no go command runner (a "direct" entry then fails start-up,
                                 a private key every fetch) */
    long direct_timeout_ms;   /* one go command run; default UPSTREAM_DIRECT_TIMEOUT_MS */
    int direct_jobs;          /* go commands at once; default UPSTREAM_DIRECT_JOBS */
    long retry_window_ms;     /* no retry starts later than this after the fetch began; 0: default */
} upstream_config_t;

/* Why these: a TCP and TLS handshake to any working upstream takes well under a second (5 s
 * leaves room for two lost SYNs); a GOPROXY answers .info/.mod/list at once and streams a zip
 * without pauses, and 15 s of silence after the request is already longer than go's own users
 * wait for a cold module on proxy.golang.org; 300 s lets the largest zip (500 MiB) arrive at
 * under 2 MB/s. With these and 2 retries a hung upstream errors within 30 s (upstream.c). */
#define UPSTREAM_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define UPSTREAM_DEFAULT_STALL_TIMEOUT_MS 15000L
#define UPSTREAM_DEFAULT_TOTAL_TIMEOUT_MS 300000L
#define UPSTREAM_DEFAULT_RETRIES 2
#define UPSTREAM_DIRECT_TIMEOUT_MS 300000L
#define UPSTREAM_DIRECT_JOBS 4
#define UPSTREAM_DEFAULT_RETRY_WINDOW_MS 8000L

typedef struct upstream_result {
    long status;           /* last HTTP status seen (0 if no response) */
    uint64_t bytes;        /* body bytes written to fd */
    char url[1200];        /* the URL that produced the final answer */
} upstream_result_t;

/* libcurl's global set-up (curl_global_init), once per process; any thread. The first transfer
 * does it, so only a user of libcurl that does not go through upstream_t needs to call it (before
 * its first curl_easy_init). 0 or -EIO with err. */
int upstream_global_init(cache_err_t *err);
/* Parses the list. Starts no thread and makes no curl handle: the transfer threads, their multi
 * handles and curl's global set-up wait for the first transfer. Returns 0 or -EINVAL (bad list)
 * with err. */
int upstream_new(const upstream_config_t *cfg, upstream_t **out, cache_err_t *err);
/* Cancels what still runs (see upstream_cancel_all), stops and joins the transfer threads, frees. No call
 * may be in progress or follow. */
void upstream_free(upstream_t *u);

/*
 * GET <base>/<escaped_key> (key in modkey_t.escaped form; '!' is sent percent-encoded as go does)
 * along the proxy list. The body goes to fd from offset 0 (fd is truncated before each attempt),
 * at most max_bytes. Blocking; safe to call from many threads at once.
 * A key of a private module (private_module: the caller matched its patterns), or one that
 * reaches a "direct" entry, is fetched by the go command (res->url is then "direct"); the key
 * must then be a valid module key, and a private one needs the runner (work_dir): -EINVAL
 * otherwise.
 * Returns 0 on 200; -ENOENT when the list ended in not found (404/410/off; res->status says
 * which); -EFBIG when the body is larger than max_bytes; -EIO for an error status or a broken
 * body (short of Content-Length, reset); -ETIMEDOUT (no connection, no response, a stalled body,
 * or past the total timeout: err says which); -ECONNREFUSED and friends for transport errors;
 * -ECANCELED after upstream_cancel_all. err names the URL and the status or the cause.
 */
int upstream_fetch(upstream_t *u, const char *escaped_key, bool private_module, int fd, uint64_t max_bytes,
                   upstream_result_t *res, cache_err_t *err);

/*
 * A consumer of a body while it arrives (upstream_fetch_sink). take runs on one transfer thread
 * (the same one for the whole attempt, never two pieces at once) with each piece of a 200 body from a proxy, in order; offset is where the piece starts in the
 * body, and is 0 again when an attempt starts over (a retry, the next proxy). It returns 1 when
 * it keeps the piece (the piece is then not written to fd), 0 to have it written to fd as usual,
 * or -errno to fail the attempt as a failed write. It must be quick: every transfer of that
 * thread waits while it runs. A body the go command fetches (direct, private) never reaches it: it is in fd.
 */
typedef struct upstream_sink {
    int (*take)(void *arg, uint64_t offset, const uint8_t *p, size_t n);
    void *arg;
} upstream_sink_t;

/* upstream_fetch with the body's pieces offered to sink first (NULL: upstream_fetch). */
int upstream_fetch_sink(upstream_t *u, const char *escaped_key, bool private_module, int fd,
                        const upstream_sink_t *sink, uint64_t max_bytes, upstream_result_t *res, cache_err_t *err);

/*
 * Aborts every transfer in flight (go commands fetching direct are killed) and makes every later
 * upstream_fetch return -ECANCELED at once; retries waiting for their backoff wake up and return
 * -ECANCELED too. For shutdown: it cannot be undone. Any thread; returns at once (the transfers
 * end on their transfer threads, and their callers wake up within milliseconds).
 */
void upstream_cancel_all(upstream_t *u);

/*
 * GET <base>/<path> of the checksum database name, path being "lookup/...", "tile/..." or "latest"
 * (relative; '!' is sent as it is, as go sends it). The base is found as go's dbClient finds it:
 * url itself when url_given (the GOSUMDB value named it: go then bypasses every proxy); else the
 * first proxy of the list whose <proxy>/sumdb/<name>/supported answers 200 (asked in list order,
 * moving on after 404/410, or after any failure past a '|'); else, after "off", "direct" or the
 * end of the list, url (https://<name>). Another answer to that question is a failure of this
 * fetch and is not remembered; a base found is kept for ten minutes. Otherwise as upstream_fetch.
 */
int upstream_sumdb_fetch(upstream_t *u, const char *name, const char *url, bool url_given, const char *path, int fd,
                         uint64_t max_bytes, upstream_result_t *res, cache_err_t *err);

/* Number of HTTP requests sent so far (every attempt counts). */
uint64_t upstream_request_count(const upstream_t *u);

/* The proxy list checked and shown with every password replaced (go's url.Redacted): *shown is
 * malloc'd. 0, -EINVAL with err naming the bad entry, or -ENOMEM. */
int upstream_describe(const char *list, char **shown, cache_err_t *err);

/* Monotonic milliseconds of the last HTTP answer (any status) and of the last attempt that got
 * none (transport failure), 0 for never; why (cap bytes) gets that failure's message. True when
 * every entry of the list is "off" (or "direct"): nothing is ever asked. Any thread. */
bool upstream_health(upstream_t *u, uint64_t *answer_ms, uint64_t *failure_ms, char *why, size_t cap);
/* Monotonic milliseconds, the clock of upstream_health. */
uint64_t upstream_now_ms(void);

#endif
