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
 * Connections are shared between threads (HTTP/2 multiplexing and keep-alive: every transfer runs
 * on one curl multi handle), TLS is verified, transient failures (connect errors, timeouts, 429, 5xx)
 * are retried a bounded number of times with exponential backoff.
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
    long connect_timeout_ms;  /* default 10000 when 0 */
    long total_timeout_ms;    /* per attempt, default 300000 when 0 */
    int max_retries;          /* extra attempts on transient errors; < 0 means UPSTREAM_DEFAULT_RETRIES */
    const char *go_command;   /* the go command for direct fetches; "go" from PATH when NULL */
    const char *work_dir;     /* absolute directory for the throwaway GOPATHs of direct fetches;
                                 NULL: no go command runner (a "direct" entry then fails start-up,
                                 a private key every fetch) */
    long direct_timeout_ms;   /* one go command run; default UPSTREAM_DIRECT_TIMEOUT_MS */
    int direct_jobs;          /* go commands at once; default UPSTREAM_DIRECT_JOBS */
} upstream_config_t;

#define UPSTREAM_DEFAULT_RETRIES 2
#define UPSTREAM_DIRECT_TIMEOUT_MS 300000L
#define UPSTREAM_DIRECT_JOBS 4

typedef struct upstream_result {
    long status;           /* last HTTP status seen (0 if no response) */
    uint64_t bytes;        /* body bytes written to fd */
    char url[1200];        /* the URL that produced the final answer */
} upstream_result_t;

/* Parses the list and sets up the shared connection cache. Returns 0 or -EINVAL (bad list) with err. */
int upstream_new(const upstream_config_t *cfg, upstream_t **out, cache_err_t *err);
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
 * body (short of Content-Length, reset); -ETIMEDOUT; -ECONNREFUSED and friends for transport
 * errors. err names the URL and the status or curl's reason.
 */
int upstream_fetch(upstream_t *u, const char *escaped_key, bool private_module, int fd, uint64_t max_bytes,
                   upstream_result_t *res, cache_err_t *err);

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
