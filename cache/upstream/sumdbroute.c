/* SPDX-License-Identifier: MIT */
/*
 * sumdbroute.c — reaching a checksum database the way the go command does (upstream.h:
 * upstream_sumdb_fetch; go's modfetch dbClient.initBase).
 *
 * A database whose GOSUMDB value names a URL is asked there, past every proxy. Otherwise each
 * proxy of the list is asked in turn for <proxy>/sumdb/<name>/supported: a 200 means that proxy
 * serves the database and is used for all of it; 404/410 (or any failure after a '|') moves on;
 * "off", "direct" or the end of the list mean the database's own URL, https://<name>. Any other
 * answer means the database cannot be reached now. go decides once per run; a server runs for
 * months, so a decision is kept for ROUTE_TTL_S and then probed again, and a failed probe is not
 * kept at all. Probes of one database may run at once on several threads: they reach the same
 * answer, and the last one stored wins, which is harmless.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "upstream_i.h"

#define ROUTE_TTL_S 600
#define SUPPORTED_MAX (64u << 10) /* go accepts any 200 body; a proxy's is empty or a word */
#define SUMDB_PATH_MAX 4096

typedef struct route {
    struct route *next;
    long proxy;         /* index in the proxy list, or -1: the database's own URL */
    int64_t expires_ms; /* monotonic */
    char name[];
} route_t;

struct upstream_sumdb_routes {
    pthread_mutex_t mu; /* protects head and every route's fields */
    route_t *head;
};

/* a + "/" + b, malloc'd; NULL when out of memory. */
static char *join(const char *a, const char *b)
{
    char *s = NULL;
    return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

upstream_sumdb_routes_t *upstream_sumdb_routes_new(void)
{
    upstream_sumdb_routes_t *r = calloc(1, sizeof *r);
    if (r != NULL)
        pthread_mutex_init(&r->mu, NULL);
    return r;
}

void upstream_sumdb_routes_free(upstream_sumdb_routes_t *r)
{
    if (r == NULL)
        return;
    while (r->head != NULL) {
        route_t *next = r->head->next;
        free(r->head);
        r->head = next;
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* The kept decision for name: true and *proxy when there is one still fresh. */
static bool route_get(upstream_sumdb_routes_t *r, const char *name, long *proxy)
{
    bool found = false;
    int64_t now = (int64_t)upstream_now_ms();
    pthread_mutex_lock(&r->mu);
    for (route_t *rt = r->head; rt != NULL; rt = rt->next) {
        if (strcmp(rt->name, name) == 0 && now < rt->expires_ms) {
            *proxy = rt->proxy;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

static void route_put(upstream_sumdb_routes_t *r, const char *name, long proxy)
{
    size_t n = strlen(name);
    route_t *fresh = malloc(sizeof *fresh + n + 1);
    if (fresh == NULL)
        return; /* simply not kept: the next fetch probes again */
    memcpy(fresh->name, name, n + 1);
    fresh->proxy = proxy;
    fresh->expires_ms = (int64_t)upstream_now_ms() + (int64_t)ROUTE_TTL_S * 1000;
    pthread_mutex_lock(&r->mu);
    for (route_t **p = &r->head; *p != NULL; p = &(*p)->next) {
        if (strcmp((*p)->name, name) == 0) {
            route_t *old = *p;
            *p = old->next;
            free(old);
            break;
        }
    }
    fresh->next = r->head;
    r->head = fresh;
    pthread_mutex_unlock(&r->mu);
}

/* Asks each proxy in turn whether it serves database name (fd is scratch for the answers). */
static int route_probe(upstream_t *u, const char *name, int fd, long *proxy, cache_err_t *err)
{
    size_t n = u->nproxies;
    const upstream_proxy_t *proxies = u->proxies;
    char key[SUMDB_PATH_MAX];
    if (snprintf(key, sizeof key, "sumdb/%s/supported", name) >= (int)sizeof key)
        return cache_err_set(err, -ENAMETOOLONG, "checksum database name too long");
    for (size_t i = 0; i < n; i++) {
        const upstream_proxy_t *p = &proxies[i];
        if (p->kind != PROXY_URL)
            break; /* "off" and "direct": the database's own URL */
        char *url = join(p->base, key), *shown = join(p->shown, key);
        if (url == NULL || shown == NULL) {
            free(url);
            free(shown);
            return cache_err_set(err, -ENOMEM, "out of memory");
        }
        upstream_result_t res;
        memset(&res, 0, sizeof res);
        cache_err_t e = {0};
        int rc = upstream_fetch_url(u, p, key, url, shown, fd, NULL, SUPPORTED_MAX, &res, &e);
        free(url);
        free(shown);
        if (rc == 0) {
            *proxy = (long)i;
            return 0;
        }
        if (rc != -ENOENT && !p->fall_back_on_error) {
            if (err != NULL)
                *err = e;
            return cache_err_prefix(err, rc, "checksum database %s unavailable", name);
        }
    }
    *proxy = -1;
    return 0;
}

int upstream_sumdb_fetch(upstream_t *u, const char *name, const char *url, bool url_given, const char *path,
                         int fd, uint64_t max_bytes, upstream_result_t *res, cache_err_t *err)
{
    upstream_result_t scratch;
    char epath[SUMDB_PATH_MAX];
    int rc = upstream_fetch_begin(path, true, epath, sizeof epath, &res, &scratch, err);
    if (rc != 0)
        return rc;
    long proxy = -1;
    upstream_sumdb_routes_t *routes = u->sumdb_routes;
    if (!url_given && !route_get(routes, name, &proxy)) {
        if ((rc = route_probe(u, name, fd, &proxy, err)) != 0)
            return rc;
        route_put(routes, name, proxy);
        if (proxy >= 0) {
            LOG_I("checksum database %s: through proxy %s", name, u->proxies[proxy].shown);
        } else {
            LOG_I("checksum database %s: directly at %s", name, url);
        }
    }
    char *full = NULL, *shown = NULL, *key = NULL;
    const upstream_proxy_t *p;
    upstream_proxy_t direct;
    if (proxy >= 0) {
        p = &u->proxies[proxy];
        char *db = join("sumdb", name);
        key = db ? join(db, epath) : NULL;
        free(db);
        full = key ? join(p->base, key) : NULL;
        shown = key ? join(p->shown, key) : NULL;
        if (full == NULL || shown == NULL)
            rc = -ENOMEM;
    } else {
        memset(&direct, 0, sizeof direct);
        direct.kind = PROXY_URL;
        direct.https = strncmp(url, "https://", 8) == 0;
        p = &direct;
        full = join(url, epath);
        shown = full ? strdup(full) : NULL;
        key = strdup(epath);
        if (shown == NULL || key == NULL)
            rc = -ENOMEM;
    }
    if (rc == 0)
        rc = upstream_fetch_url(u, p, key, full, shown, fd, NULL, max_bytes, res, err);
    else
        cache_err_set(err, rc, "out of memory");
    if (err != NULL)
        err->upstream_status = rc == 0 ? 0 : (int)res->status;
    free(full);
    free(shown);
    free(key);
    return rc;
}
