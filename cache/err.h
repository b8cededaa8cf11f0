/* SPDX-License-Identifier: MIT */
/*
 * err.h — how cache/ explains a failure.
 * Functions return 0 or a negative errno; where a caller needs words (a CLI line, an HTTP
 * reason, a log entry) they also fill a cache_err_t, which says what failed and where
 * ("zip entry \"x@v1/../a\": path contains \"..\""). A NULL cache_err_t* is always allowed.
 */
#ifndef MODFS_ERR_H
#define MODFS_ERR_H

typedef struct cache_err {
    int upstream_status; /* HTTP status upstream answered with, when the failure came from there (404, 410, 502...) */
    char msg[512];
} cache_err_t;

/* Formats into err (if not NULL) and returns rc unchanged, so `return cache_err_set(err, -EINVAL, ...)`. */
__attribute__((format(printf, 3, 4))) int cache_err_set(cache_err_t *err, int rc, const char *fmt, ...);
/* Prefixes an existing message: "ctx: old message". Returns rc. */
__attribute__((format(printf, 3, 4))) int cache_err_prefix(cache_err_t *err, int rc, const char *fmt, ...);

#endif
