/* SPDX-License-Identifier: MIT */
/*
 * cache.c — the store's policy: where an answer comes from.
 *
 * cache_get looks in order at the hot map (memory), the index (disk), the negative cache, and
 * only then upstream, under a per-key single-flight lock; after taking the lock it looks again,
 * since the fetch it waited for has usually stored the object. Objects of canonical versions
 * never expire; list, @latest and query .info are fresh for list_ttl_s and served stale when
 * upstream fails (not when it says 404/410: then the module is gone).
 * A body becomes visible only after it passed validation and ingest committed it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_i.h"
#include "hot.h"
#include "log.h"
#include "proxylist.h"
#include "validate.h"

/* After a failed refresh of a list or @latest, its stale copy is served without asking upstream
 * again for this long: a down or blackholed upstream then costs one timeout per key, not one
 * per request. */
#define REFRESH_BACKOFF_S 10

#define HOT_MAX_OBJECTS 16384
#define HOT_MAX_BYTES (32ull << 20)

void cache_config_init(cache_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->upstream = CACHE_DEFAULT_UPSTREAM;
    cfg->list_ttl_s = CACHE_DEFAULT_LIST_TTL_S;
    cfg->notfound_ttl_s = CACHE_DEFAULT_NOTFOUND_TTL_S;
    cfg->retries = -1;
}

/* mkdir -p: the default cache dir's parents (~/.cache) may not exist yet. */
static int make_dirs(const char *path, cache_err_t *err)
{
    char *p = strdup(path);
    if (p == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != 0)
            continue;
        char saved = *s;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = cache_err_set(err, -errno, "create %s: %s", p, strerror(errno));
            break;
        }
        *s = saved;
        if (saved == 0)
            break;
    }
    free(p);
    return rc;
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

static int pack_end_from_index(void *arg, uint32_t pack, uint64_t *end)
{
    return index_pack_end(((cache_t *)arg)->index, pack, end);
}

int cache_open(const cache_config_t *cfg, cache_t **out, cache_err_t *err)
{
    if (cfg->dir == NULL || cfg->dir[0] == 0)
        return cache_err_set(err, -EINVAL, "no cache directory given");
    int rc;
    if (cfg->must_exist) {
        /* the index is what makes a directory a store: pack files alone are unreachable bytes */
        char *index = path_join(cfg->dir, "index.db");
        if (index == NULL)
            return cache_err_set(err, -ENOMEM, "out of memory");
        struct stat st;
        rc = stat(index, &st) == 0 ? 0 : -errno;
        free(index);
        if (rc == -ENOENT)
            return cache_err_set(err, rc, "no store in %s (modfs serve, get or warm creates one there)", cfg->dir);
        if (rc != 0)
            return cache_err_set(err, rc, "%s: %s", cfg->dir, strerror(-rc));
    }
    rc = make_dirs(cfg->dir, err);
    if (rc != 0)
        return rc;
    cache_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    atomic_init(&c->list_ttl_s, cfg->list_ttl_s);
    c->dir = strdup(cfg->dir);
    c->tmp_dir = path_join(cfg->dir, "tmp");
    char *index_path = path_join(cfg->dir, "index.db");
    char *packs_dir = path_join(cfg->dir, "packs");
    char *locks_dir = path_join(cfg->dir, "locks");
    if (!c->dir || !c->tmp_dir || !index_path || !packs_dir || !locks_dir) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if (mkdir(c->tmp_dir, 0700) != 0 && errno != EEXIST) {
        rc = cache_err_set(err, -errno, "create %s: %s", c->tmp_dir, strerror(errno));
        goto out;
    }
    upstream_config_t ucfg = {
        .proxy_list = cfg->upstream ? cfg->upstream : CACHE_DEFAULT_UPSTREAM,
        .ca_file = cfg->ca_file,
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .total_timeout_ms = cfg->total_timeout_ms,
        .max_retries = cfg->retries,
    };
    if ((rc = index_open(index_path, &c->index, err)) != 0 ||
        (rc = pack_set_open(packs_dir, pack_end_from_index, c, &c->packs, err)) != 0 ||
        (rc = flight_open(locks_dir, &c->flight, err)) != 0 || (rc = upstream_new(&ucfg, &c->upstream, err)) != 0)
        goto out;
    c->notfound = notfound_new(cfg->notfound_ttl_s);
    c->refresh_failed = notfound_new(REFRESH_BACKOFF_S);
    c->hot = hot_map_new(HOT_MAX_OBJECTS, HOT_MAX_BYTES);
    if (c->notfound == NULL || c->refresh_failed == NULL || c->hot == NULL)
        rc = cache_err_set(err, -ENOMEM, "out of memory");
out:
    free(index_path);
    free(packs_dir);
    free(locks_dir);
    if (rc != 0) {
        cache_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Moves the in-memory counters into the index, so `modfs stat` sees them. */
static void counters_flush(cache_t *c)
{
    uint64_t hits = atomic_exchange(&c->hits, 0);
    uint64_t misses = atomic_exchange(&c->misses, 0);
    uint64_t errors = atomic_exchange(&c->upstream_errors, 0);
    uint64_t reqs = upstream_request_count(c->upstream);
    uint64_t new_reqs = reqs - c->upstream_requests_flushed;
    if (index_counters_add(c->index, hits, misses, new_reqs, errors) == 0) {
        c->upstream_requests_flushed = reqs;
    } else {
        atomic_fetch_add(&c->hits, hits);
        atomic_fetch_add(&c->misses, misses);
        atomic_fetch_add(&c->upstream_errors, errors);
    }
}

void cache_close(cache_t *c)
{
    if (c == NULL)
        return;
    if (c->index && c->upstream)
        counters_flush(c);
    hot_map_free(c->hot);
    notfound_free(c->notfound);
    notfound_free(c->refresh_failed);
    upstream_free(c->upstream);
    flight_close(c->flight);
    pack_set_close(c->packs);
    index_close(c->index);
    free(c->tmp_dir);
    free(c->dir);
    free(c);
}

void cache_ttls_set(cache_t *c, unsigned list_ttl_s, unsigned notfound_ttl_s)
{
    atomic_store(&c->list_ttl_s, list_ttl_s);
    notfound_set_ttl(c->notfound, notfound_ttl_s);
}

int cache_upstream_describe(const char *list, char **shown, cache_err_t *err)
{
    upstream_proxy_t *proxies = NULL;
    size_t n = 0;
    *shown = NULL;
    int rc = proxy_list_parse(list, &proxies, &n, err);
    if (rc != 0)
        return rc;
    buf_t out = BUF_INIT;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const upstream_proxy_t *p = &proxies[i];
        const char *text = p->kind == PROXY_OFF ? "off" : p->kind == PROXY_DIRECT ? "direct" : p->shown;
        /* the separator after an entry is what decides when the next one is tried */
        rc = buf_appendf(&out, "%s%s", text, i + 1 == n ? "" : p->fall_back_on_error ? "|" : ",");
    }
    for (size_t i = 0; i < n; i++)
        proxy_dispose(&proxies[i]);
    free(proxies);
    if (rc != 0) {
        buf_dispose(&out);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    *shown = (char *)out.base; /* buf_t keeps a NUL after its last byte */
    return 0;
}

void cache_upstream_health(cache_t *c, cache_upstream_health_t *h)
{
    memset(h, 0, sizeof *h);
    uint64_t answer, failure, now = upstream_now_ms();
    h->off = upstream_health(c->upstream, &answer, &failure, h->failure, sizeof h->failure);
    h->answer_age_ms = answer ? (int64_t)(now - answer) : -1;
    h->failure_age_ms = failure ? (int64_t)(now - failure) : -1;
}

void cache_hot_forget(cache_t *c, const char *key)
{
    hot_map_remove(c->hot, key);
}

static bool is_fresh(const cache_t *c, const cache_object_t *o, int64_t now)
{
    return o->immutable || now - o->fetched_at < (int64_t)atomic_load_explicit(&c->list_ttl_s, memory_order_relaxed);
}

/* The object as the index has it, put in the hot map. -ENOENT when absent or corrupt (dropped). */
static int load_from_index(cache_t *c, const modkey_t *key, cache_object_t **out)
{
    index_object_t io;
    int rc = index_object_get(c->index, key->escaped, &io);
    if (rc != 0)
        return rc;
    rc = object_from_index(c, key->escaped, key, &io, out);
    index_object_dispose(&io);
    if (rc == -EIO)
        return -ENOENT; /* a corrupt chunk was dropped: fetch again */
    if (rc == 0)
        hot_map_put(c->hot, key->escaped, *out);
    return rc;
}

static uint64_t body_limit(modkey_kind_t kind)
{
    switch (kind) {
    case MODKEY_ZIP:
        return ZIPFILE_MAX_SIZE;
    case MODKEY_MOD:
        return VALIDATE_MAX_MOD;
    case MODKEY_LIST:
        return VALIDATE_MAX_LIST;
    default:
        return VALIDATE_MAX_INFO;
    }
}

static const char *kind_name(modkey_kind_t kind)
{
    static const char *const names[] = {"list", "@latest", ".info", ".mod", ".zip"};
    return names[kind];
}

/* Checks body as the object key names; info and @latest come back in canonical form in canon. */
static int validate_body(const modkey_t *key, const uint8_t *body, size_t len, buf_t *canon, zipfile_t *z,
                         cache_err_t *err)
{
    switch (key->kind) {
    case MODKEY_ZIP:
        return zipfile_parse(body, len, key->module, key->version, z, err);
    case MODKEY_MOD:
        return validate_mod(body, len, err);
    case MODKEY_LIST:
        return validate_list(body, len, err);
    case MODKEY_INFO:
        return validate_info(body, len, key->module, key->immutable ? key->version : NULL, canon, err);
    case MODKEY_LATEST:
        return validate_info(body, len, key->module, NULL, canon, err);
    }
    return -EINVAL;
}

/* Downloads key into an anonymous temp file (nothing to clean after a crash), validates, stores. */
static int fetch_and_store(cache_t *c, const modkey_t *key, int64_t now, cache_object_t **out, cache_err_t *err)
{
    int fd = open(c->tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return cache_err_set(err, -errno, "temp file in %s: %s", c->tmp_dir, strerror(errno));
    upstream_result_t res;
    memset(&res, 0, sizeof res);
    uint8_t *map = NULL;
    size_t len = 0;
    buf_t canon = BUF_INIT;
    zipfile_t z;
    memset(&z, 0, sizeof z);
    LOG_I("fetching %s", key->escaped);
    int rc = upstream_fetch(c->upstream, key->escaped, fd, body_limit(key->kind), &res, err);
    if (rc == -EFBIG)
        cache_err_set(err, rc, "upstream %s: %s larger than %llu bytes", res.url, kind_name(key->kind),
                      (unsigned long long)body_limit(key->kind));
    if (rc != 0)
        goto out;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = cache_err_set(err, -errno, "temp file: %s", strerror(errno));
        goto out;
    }
    len = (size_t)st.st_size;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            map = NULL;
            rc = cache_err_set(err, -errno, "map temp file: %s", strerror(errno));
            goto out;
        }
    }
    rc = validate_body(key, map, len, &canon, &z, err);
    if (rc != 0) {
        rc = cache_err_prefix(err, -EBADMSG, "upstream %s: invalid %s", res.url, kind_name(key->kind));
        goto out;
    }
    const uint8_t *body = canon.base ? canon.base : map;
    size_t body_len = canon.base ? canon.len : len;
    index_object_t io;
    rc = ingest_store(c, key, body, body_len, key->kind == MODKEY_ZIP ? &z : NULL, now, &io, err);
    if (rc != 0)
        goto out;
    rc = object_from_index(c, key->escaped, key, &io, out);
    index_object_dispose(&io);
    if (rc == 0)
        hot_map_put(c->hot, key->escaped, *out);
    else
        cache_err_set(err, rc, "%s: stored but cannot be read back", key->escaped);
out:
    if (map)
        munmap(map, len);
    if (key->kind == MODKEY_ZIP)
        zipfile_dispose(&z);
    buf_dispose(&canon);
    close(fd);
    return rc;
}

int cache_get(cache_t *c, const modkey_t *key, int flags, cache_object_t **out, cache_err_t *err)
{
    if (err)
        err->upstream_status = 0;
    int64_t now = (int64_t)time(NULL);
    cache_object_t *o = hot_map_get(c->hot, key->escaped);
    if (o == NULL && load_from_index(c, key, &o) != 0)
        o = NULL;
    if (o != NULL && is_fresh(c, o, now)) {
        atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
        *out = o;
        return 0;
    }
    cache_object_t *stale = o;
    int status;
    char why[256];
    if (stale != NULL && notfound_get(c->refresh_failed, key->escaped, &status, NULL, 0)) {
        atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
        *out = stale;
        return 0;
    }
    if (notfound_get(c->notfound, key->escaped, &status, why, sizeof why)) {
        cache_object_unref(stale);
        if (err)
            err->upstream_status = status;
        return cache_err_set(err, -ENOENT, "%s", why);
    }
    if (flags & CACHE_GET_NOFETCH) {
        cache_object_unref(stale);
        return -EAGAIN;
    }

    int token = flight_acquire(c->flight, key->escaped);
    if (token < 0) {
        cache_object_unref(stale);
        return cache_err_set(err, token, "fetch lock for %s: %s", key->escaped, strerror(-token));
    }
    /* Whoever held the lock before us probably stored (or refreshed) it. */
    cache_object_t *again = NULL;
    if (load_from_index(c, key, &again) == 0 && is_fresh(c, again, now)) {
        flight_release(c->flight, token);
        cache_object_unref(stale);
        atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
        *out = again;
        return 0;
    }
    cache_object_unref(again);
    if (notfound_get(c->notfound, key->escaped, &status, why, sizeof why)) {
        flight_release(c->flight, token);
        cache_object_unref(stale);
        if (err)
            err->upstream_status = status;
        return cache_err_set(err, -ENOENT, "%s", why);
    }
    cache_err_t local;
    if (err == NULL)
        err = &local;
    int rc = fetch_and_store(c, key, now, out, err);
    flight_release(c->flight, token);
    if (rc == 0) {
        atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
        notfound_forget(c->notfound, key->escaped);
        notfound_forget(c->refresh_failed, key->escaped);
        cache_object_unref(stale);
    } else if (rc == -ENOENT) {
        notfound_put(c->notfound, key->escaped, err->upstream_status ? err->upstream_status : 404, err->msg);
        cache_object_unref(stale);
    } else {
        atomic_fetch_add_explicit(&c->upstream_errors, 1, memory_order_relaxed);
        if (stale != NULL) {
            LOG_W("%s: serving the stale copy for %d s: %s", key->escaped, REFRESH_BACKOFF_S, err->msg);
            notfound_put(c->refresh_failed, key->escaped, 0, err->msg);
            *out = stale;
            rc = 0;
        }
    }
    counters_flush(c);
    return rc;
}

int cache_keys_visit(cache_t *c, const char *prefix, cache_key_visit_fn visit, void *arg)
{
    return index_keys_visit(c->index, prefix ? prefix : "", visit, arg);
}

static uint64_t file_bytes(const char *dir, const char *name)
{
    char *p = path_join(dir, name);
    struct stat st;
    uint64_t n = p && stat(p, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
    free(p);
    return n;
}

int cache_stats_get(cache_t *c, cache_stats_t *st)
{
    counters_flush(c);
    index_stats_t is;
    int rc = index_stats_get(c->index, &is);
    if (rc != 0)
        return rc;
    memset(st, 0, sizeof *st);
    st->objects = is.objects;
    st->logical_bytes = is.logical_bytes;
    st->unique_bytes = is.unique_bytes;
    st->chunks = is.chunks;
    st->hits = is.hits;
    st->misses = is.misses;
    st->upstream_requests = is.upstream_requests;
    st->upstream_errors = is.upstream_errors;
    st->disk_bytes = pack_set_disk_bytes(c->packs) + file_bytes(c->dir, "index.db") +
                     file_bytes(c->dir, "index.db-wal");
    return 0;
}
