/* SPDX-License-Identifier: MIT */
/*
 * upstream_i.h — what the files of upstream/ share: the GOPROXY list taken apart, one entry per
 * URL, "off" or "direct".
 *
 * proxylist.c parses, upstream.c walks the entries when it fetches. The syntax is go's (see
 * upstream.h); a list is checked whole when the upstream is created, so a bad entry fails
 * upstream_new and never a fetch.
 */
#ifndef MODFS_UPSTREAM_I_H
#define MODFS_UPSTREAM_I_H

#include <stdbool.h>
#include <stddef.h>

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
/*
 * Runs the go command for key and writes the body of key to fd (from offset 0, at most
 * max_bytes). private_module: the module must skip the checksum database. Blocks, possibly for
 * the whole timeout, and waits for a free job slot first; any thread. Returns 0 (res->status
 * 200), -ENOENT when go says the version or module does not exist (404), -ETIMEDOUT, -EFBIG, or
 * -EIO with go's own reason in err.
 */
int upstream_direct_fetch(upstream_direct_t *d, const modkey_t *key, bool private_module, int fd, uint64_t max_bytes,
                          upstream_result_t *res, cache_err_t *err);

#endif
