/* SPDX-License-Identifier: MIT */
/*
 * upstream.h — the client of the upstream GOPROXY (libcurl).
 *
 * The proxy list has go's syntax: "URL1,URL2" moves on only after 404/410, "URL1|URL2" after
 * any error, "off" fails every fetch as not found ("module lookup disabled by GOPROXY=off"),
 * "direct" runs the go command against the module's version control system (direct.c) and ends
 * the list like "off". Modules matching the private patterns (GOPRIVATE syntax) are never asked
 * of a proxy: they go direct whatever the list says, and skip the checksum database.
 * Connections are shared between threads (HTTP/2 multiplexing and keep-alive: every transfer runs
 * on one curl multi handle), TLS is verified, transient failures (connect errors, timeouts, 429, 5xx)
 * are retried a bounded number of times with exponential backoff.
 */
#ifndef MODFS_UPSTREAM_H
#define MODFS_UPSTREAM_H

#include <stdint.h>

#include "common.h"

typedef struct upstream upstream_t;

typedef struct upstream_config {
    const char *proxy_list;   /* e.g. "https://proxy.golang.org" or "http://127.0.0.1:8080,https://b|https://c" */
    const char *ca_file;      /* optional PEM bundle to verify the upstream (another modfs with its own CA) */
    long connect_timeout_ms;  /* default 10000 when 0 */
    long total_timeout_ms;    /* per attempt, default 300000 when 0 */
    int max_retries;          /* extra attempts on transient errors; < 0 means UPSTREAM_DEFAULT_RETRIES */
    const char *private_patterns; /* GOPRIVATE-style globs of modules fetched only direct; NULL for none */
    const char *go_command;   /* the go command for direct fetches; "go" from PATH when NULL */
    const char *work_dir;     /* absolute directory for the throwaway GOPATHs of direct fetches */
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
 * A key of a private module, or one that reaches a "direct" entry, is fetched by the go
 * command (res->url is then "direct"); the key must then be a valid module key.
 * Returns 0 on 200; -ENOENT when the list ended in not found (404/410/off; res->status says
 * which); -EFBIG when the body is larger than max_bytes; -EIO for an error status or a broken
 * body (short of Content-Length, reset); -ETIMEDOUT; -ECONNREFUSED and friends for transport
 * errors. err names the URL and the status or curl's reason.
 */
int upstream_fetch(upstream_t *u, const char *escaped_key, int fd, uint64_t max_bytes, upstream_result_t *res,
                   cache_err_t *err);

/* Whether module (unescaped path) is private: matched by the private patterns. */
bool upstream_is_private(const upstream_t *u, const char *module);

/* Number of HTTP requests sent so far (every attempt counts). */
uint64_t upstream_request_count(const upstream_t *u);

#endif
