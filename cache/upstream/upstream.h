/* SPDX-License-Identifier: MIT */
/*
 * upstream.h — the client of the upstream GOPROXY (libcurl).
 *
 * The proxy list has go's syntax: "URL1,URL2" moves on only after 404/410, "URL1|URL2" after
 * any error, "off" fails every fetch as not found ("module lookup disabled by GOPROXY=off"),
 * "direct" is not supported (modfs is a proxy, not a VCS client) and ends the list like "off".
 * Connections are shared between threads (HTTP/2 multiplexing and keep-alive: every transfer runs
 * on one curl multi handle), TLS is verified, transient failures (connect errors, timeouts, 429, 5xx)
 * are retried a bounded number of times with exponential backoff.
 */
#ifndef MODFS_UPSTREAM_H
#define MODFS_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

typedef struct upstream upstream_t;

typedef struct upstream_config {
    const char *proxy_list;   /* e.g. "https://proxy.golang.org" or "http://127.0.0.1:8080,https://b|https://c" */
    const char *ca_file;      /* optional PEM bundle to verify the upstream (another modfs with its own CA) */
    long connect_timeout_ms;  /* default 10000 when 0 */
    long total_timeout_ms;    /* per attempt, default 300000 when 0 */
    int max_retries;          /* extra attempts on transient errors; < 0 means UPSTREAM_DEFAULT_RETRIES */
} upstream_config_t;

#define UPSTREAM_DEFAULT_RETRIES 2

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
 * Returns 0 on 200; -ENOENT when the list ended in not found (404/410/off; res->status says
 * which); -EFBIG when the body is larger than max_bytes; -EIO for an error status or a broken
 * body (short of Content-Length, reset); -ETIMEDOUT; -ECONNREFUSED and friends for transport
 * errors. err names the URL and the status or curl's reason.
 */
int upstream_fetch(upstream_t *u, const char *escaped_key, int fd, uint64_t max_bytes, upstream_result_t *res,
                   cache_err_t *err);

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

#endif
