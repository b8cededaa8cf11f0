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

/* ---- upstream.c, for sumdbroute.c ---- */

/* The parsed proxy list (fixed once made). */
const upstream_proxy_t *upstream_proxies(const upstream_t *u, size_t *n);
/* Checks that path is relative without empty, "." or ".." elements, and writes it into out
 * %-escaped as go's proxy client does ('!' too, unless bang_plain: a checksum database's paths
 * keep it). 0, -EINVAL or -ENAMETOOLONG with err. */
int upstream_path_escape(const char *path, bool bang_plain, char *out, size_t cap, cache_err_t *err);
/* GET url (shown in messages as shown) through proxy entry p, retrying transient failures; key is
 * the path below p, read directly for a file:// entry. Results as upstream_fetch. */
int upstream_fetch_url(upstream_t *u, const upstream_proxy_t *p, const char *key, const char *url, const char *shown,
                       int fd, uint64_t max_bytes, upstream_result_t *res, cache_err_t *err);

/* ---- sumdbroute.c: how each checksum database is reached ---- */

typedef struct upstream_sumdb_routes upstream_sumdb_routes_t;
upstream_sumdb_routes_t *upstream_sumdb_routes_new(void);
void upstream_sumdb_routes_free(upstream_sumdb_routes_t *r);
/* The upstream's table (made with it). */
upstream_sumdb_routes_t *upstream_sumdb_routes(upstream_t *u);

#endif
