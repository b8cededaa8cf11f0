/* SPDX-License-Identifier: MIT */
/*
 * cache.c — the store's policy: where an answer comes from.
 *
 * cache_get first applies the allow/deny rules in force (access.c; pure, no I/O), so a refused
 * key never reaches memory, disk or upstream. It then looks once at the hot map (memory), once
 * at the store (disk, on a reader connection of its own), once at the negative cache, and only then joins the key's flight: the first thread
 * to miss fetches, the others take its result. Objects of canonical versions never expire; list,
 * @latest and query .info are fresh for list_ttl_s and served stale when upstream fails (not when
 * it says 404/410: then the module is gone). A body becomes visible only after it passed Go's
 * checks and the store committed it (fetch.c); cache_get_early lets the leader's own caller be
 * answered from the checked bytes before that commit, and nobody else.
 *
 * A checksum database's answers follow the same road with their own freshness: a full tile never
 * changes, a lookup or a partial tile is superseded as the log grows (list_ttl_s), and "latest"
 * is the newest head, fresh for SUMDB_LATEST_TTL_S at most.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache_i.h"

/* After a failed refresh of a list or @latest, its stale copy is served without asking upstream
 * again for this long: a down or blackholed upstream then costs one timeout per key, not one
 * per request. */
#define REFRESH_BACKOFF_S 10

/* A tree head moves every few seconds on a busy database; a proxy may lag a little, not a minute. */
#define SUMDB_LATEST_TTL_S 10

static_assert(CACHE_SUMDB_REASONS == STORE_SUMDB_REASONS, "the store keeps a counter per reason");

#define HOT_MAX_OBJECTS 16384
#define HOT_MAX_BYTES (32ull << 20)
#define NOTFOUND_MAX_ENTRIES 8192

void cache_config_init(cache_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->upstream = CACHE_DEFAULT_UPSTREAM;
    cfg->list_ttl_s = CACHE_DEFAULT_LIST_TTL_S;
    cfg->notfound_ttl_s = CACHE_DEFAULT_NOTFOUND_TTL_S;
    cfg->retries = -1;
}

/* The store dropped an object (a corrupt chunk): it must not be served from memory either. */
static void on_store_drop(void *arg, const char *escaped_key)
{
    cache_t *c = arg;
    if (escaped_key != NULL)
        cache_hot_remove(c->hot, escaped_key);
    else
        cache_hot_clear(c->hot);
}

int cache_open(const cache_config_t *cfg, cache_t **out, cache_err_t *err)
{
    if (cfg->dir == NULL || cfg->dir[0] == 0)
        return cache_err_set(err, -EINVAL, "no cache directory given");
    cache_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&c->figures_lock, NULL);
    pthread_mutex_init(&c->flush_lock, NULL);
    pthread_mutex_init(&c->tmp_lock, NULL);
    atomic_init(&c->list_ttl_s, cfg->list_ttl_s);
    c->dir = strdup(cfg->dir);
    c->tmp_dir = path_join(cfg->dir, "tmp");
    char *locks_dir = path_join(cfg->dir, "locks");
    int rc = 0;
    if (!c->dir || !c->tmp_dir || !locks_dir) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = store_open(cfg->dir, cfg->must_exist, &c->store, err)) != 0)
        goto out;
    if (mkdir(c->tmp_dir, 0700) != 0 && errno != EEXIST) {
        rc = cache_err_set(err, -errno, "create %s: %s", c->tmp_dir, strerror(errno));
        goto out;
    }
    upstream_config_t ucfg = {
        .proxy_list = cfg->upstream ? cfg->upstream : CACHE_DEFAULT_UPSTREAM,
        .ca_file = cfg->ca_file,
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .stall_timeout_ms = cfg->stall_timeout_ms,
        .total_timeout_ms = cfg->total_timeout_ms,
        .max_retries = cfg->retries,
        .go_command = cfg->go_command,
        .work_dir = c->tmp_dir,
        .direct_timeout_ms = cfg->direct_timeout_ms,
        .direct_jobs = cfg->direct_jobs,
    };
    cache_access_t *access;
    if ((rc = cache_access_new(cfg->allow, cfg->deny, cfg->private_patterns, &access, err)) != 0)
        goto out;
    atomic_init(&c->access, access);
    if ((rc = cache_flight_open(locks_dir, &c->flight, err)) != 0 ||
        (rc = upstream_new(&ucfg, &c->upstream, err)) != 0)
        goto out;
    c->notfound = cache_notfound_new(cfg->notfound_ttl_s, NOTFOUND_MAX_ENTRIES);
    c->refresh_failed = cache_notfound_new(REFRESH_BACKOFF_S, NOTFOUND_MAX_ENTRIES);
    c->hot = cache_hot_new(HOT_MAX_OBJECTS, HOT_MAX_BYTES);
    c->fetchlog = cache_fetchlog_new();
    if (c->notfound == NULL || c->refresh_failed == NULL || c->hot == NULL || c->fetchlog == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = cache_sumdb_open(c, cfg, err)) != 0)
        goto out;
    if (cfg->s3_url != NULL && cfg->s3_url[0] != '\0') {
        shared_config_t scfg = {
            .url = cfg->s3_url,
            .region = cfg->s3_region,
            .credentials = cfg->s3_credentials,
            .timeout_ms = cfg->s3_timeout_ms,
            .lease_s = cfg->s3_lease_s,
            .gc_grace_s = cfg->s3_gc_grace_s,
        };
        /* the shared tier's client makes curl handles of its own */
        if ((rc = upstream_global_init(err)) != 0 || (rc = shared_open(&scfg, &c->shared, err)) != 0) {
            cache_err_prefix(err, rc, "the shared store");
            goto out;
        }
        c->s3_required = cfg->s3_required;
        c->s3_gc_interval_s = cfg->s3_gc_interval_s;
        /* the holder of a lease renews it while it fetches; a fetch takes at most the upstream
         * timeout (with its retries), so a wait past that means a holder that hangs */
        long total = cfg->total_timeout_ms > 0 ? cfg->total_timeout_ms : 300000;
        c->upstream_wait_ms = (int64_t)total * (cfg->retries > 0 ? cfg->retries + 1 : 3) +
                              (int64_t)(cfg->s3_lease_s ? cfg->s3_lease_s : SHARED_DEFAULT_LEASE_S) * 1000;
    }
    store_set_drop_hook(c->store, on_store_drop, c);
    store_set_budget(c->store, cfg->max_size);
    if ((rc = store_counters_get(c->store, &c->flushed)) != 0) {
        cache_err_set(err, rc, "store %s: reading the counters: %s", cfg->dir, strerror(-rc));
        goto out;
    }
    c->counts_at_open = cfg->counts_at_open;
    if ((rc = cache_housekeeper_start(c)) != 0) {
        cache_err_set(err, rc, "starting the housekeeping thread: %s", strerror(-rc));
        goto out;
    }
    /* a reading command (stat) changes nothing, so it needs no maintenance */
    if (!cfg->must_exist && (rc = cache_maintainer_start(c)) != 0)
        cache_err_set(err, rc, "starting the maintenance thread: %s", strerror(-rc));
out:
    free(locks_dir);
    if (rc != 0) {
        cache_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void cache_shutdown_begin(cache_t *c)
{
    atomic_store(&c->shutting_down, true);
    upstream_cancel_all(c->upstream);
    shared_cancel(c->shared); /* the object store's requests and lease waits too */
}

void cache_close(cache_t *c)
{
    if (c == NULL)
        return;
    cache_maintainer_stop(c);
    cache_housekeeper_stop(c);
    if (c->store && c->upstream)
        cache_counters_flush(c);
    cache_hot_free(c->hot);
    cache_access_release(atomic_load(&c->access));
    cache_notfound_free(c->notfound);
    cache_notfound_free(c->refresh_failed);
    cache_sumdb_close(c);
    upstream_free(c->upstream);
    shared_close(c->shared);
    cache_flight_close(c->flight);
    cache_fetchlog_free(c->fetchlog);
    store_close(c->store);
    cache_tmp_close_all(c);
    pthread_mutex_destroy(&c->tmp_lock);
    pthread_mutex_destroy(&c->figures_lock);
    pthread_mutex_destroy(&c->flush_lock);
    free(c->tmp_dir);
    free(c->dir);
    free(c);
}

void cache_ttls_set(cache_t *c, unsigned list_ttl_s, unsigned notfound_ttl_s)
{
    atomic_store(&c->list_ttl_s, list_ttl_s);
    cache_notfound_set_ttl(c->notfound, notfound_ttl_s);
}

int cache_upstream_describe(const char *list, char **shown, cache_err_t *err)
{
    return upstream_describe(list, shown, err);
}

int cache_s3_describe(const char *url, char **shown, cache_err_t *err)
{
    return shared_url_check(url, shown, err);
}

void cache_upstream_health(cache_t *c, cache_upstream_health_t *h)
{
    memset(h, 0, sizeof *h);
    uint64_t answer, failure, now = upstream_now_ms();
    h->off = upstream_health(c->upstream, &answer, &failure, h->failure, sizeof h->failure);
    h->answer_age_ms = answer ? (int64_t)(now - answer) : -1;
    h->failure_age_ms = failure ? (int64_t)(now - failure) : -1;
}

static bool is_fresh(cache_t *c, const modkey_t *key, const cache_object_t *o, int64_t now)
{
    const store_object_info_t *in = store_object_info(o);
    int64_t ttl = (int64_t)atomic_load_explicit(&c->list_ttl_s, memory_order_relaxed);
    if (key->kind == MODKEY_SUMDB && key->db_kind == SUMDB_PATH_LATEST && ttl > SUMDB_LATEST_TTL_S)
        ttl = SUMDB_LATEST_TTL_S;
    return in->immutable || now - in->fetched_at < ttl;
}

int cache_local_get(cache_t *c, const modkey_t *key, cache_object_t **out)
{
    cache_object_t *o = cache_hot_get(c->hot, key->escaped, key->escaped_len);
    if (o == NULL && store_object_open(c->store, key, &o) == 0)
        cache_hot_put(c->hot, key->escaped, o);
    *out = o;
    return o != NULL ? 0 : -ENOENT;
}

int cache_store_put(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len, int64_t now, cache_err_t *err)
{
    cache_object_t *o = NULL;
    int rc = store_put(c->store, key, body, len, NULL, now, &o, err);
    if (rc != 0)
        return rc;
    atomic_store(&c->counts_stale, true);
    cache_hot_put(c->hot, key->escaped, o);
    cache_notfound_forget(c->notfound, key->escaped);
    cache_object_unref(o);
    return 0;
}

static void count(atomic_uint_fast64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* A hit: counted, and its use noted for eviction (in memory; written in the next pass). */
static void hit(cache_t *c, cache_object_t *o)
{
    count(&c->hits);
    store_object_note_use(o);
}

/* The leader's part of a miss: under the cross-process lock, the store once more (only when
 * another process held the lock: it has probably just stored the object), then upstream. */
static int lead_fetch(cache_t *c, const modkey_t *key, int64_t now, cache_early_fn early, void *early_arg,
                      cache_object_t **out, cache_err_t *err)
{
    bool waited = false;
    int token = cache_flight_lock(c->flight, key->escaped, &c->shutting_down, &waited);
    if (token == -ECANCELED)
        return cache_err_set(err, token, "%s: not fetched: shutting down", key->escaped);
    if (token < 0)
        return cache_err_set(err, token, "fetch lock for %s: %s", key->escaped, strerror(-token));
    int rc = -ENOENT;
    if (waited) {
        cache_object_t *o = NULL;
        if (store_object_open(c->store, key, &o) == 0 && is_fresh(c, key, o, now)) {
            *out = o;
            rc = 0;
        } else {
            cache_object_unref(o);
            rc = -ENOENT;
        }
    }
    if (rc != 0) {
        /* the bucket holds what every front may serve: immutable objects of public modules */
        bool tiered =
            c->shared != NULL && key->immutable && key->kind != MODKEY_SUMDB && !cache_is_private(c, key);
        rc = tiered ? cache_fetch_tiered(c, key, now, out, err)
                    : cache_fetch_early(c, key, now, false, early, early_arg, out, err);
        if (rc == 0)
            count(&c->misses);
    } else {
        hit(c, *out);
    }
    cache_flight_unlock(token);
    return rc;
}

/* The allow/deny rules in force on key: 0, or -EACCES naming the rule. */
static int access_check(cache_t *c, const modkey_t *key, cache_err_t *err)
{
    modfs_rcu_slot_t *slot;
    const cache_access_t *access = cache_access_enter(c, &slot);
    int rc = cache_access_check(access, key, err);
    cache_access_leave(slot);
    return rc;
}

/* A checksum database's answer: no module's, so allow/deny rules do not cover it (a lookup tells
 * what the database says of a version, not the version). Only the databases configured are
 * served; "supported" is the front's own answer; and the name of a private module is never sent
 * to a database, as GOPRIVATE makes go keep it from every database. */
static int sumdb_key_check(cache_t *c, const modkey_t *key, cache_err_t *err)
{
    if (cache_sumdb_find(c, key->db_name) == NULL)
        return cache_err_set(err, -ENOENT, "checksum database %s is not served here", key->db_name);
    if (key->db_kind == SUMDB_PATH_SUPPORTED)
        return cache_err_set(err, -EINVAL, "%s is not an object", key->escaped);
    if (key->db_kind != SUMDB_PATH_LOOKUP)
        return 0;
    modfs_rcu_slot_t *slot;
    const cache_access_t *access = cache_access_enter(c, &slot);
    bool private_module = cache_access_is_private(access, key->module);
    cache_access_leave(slot);
    if (private_module)
        return cache_err_set(err, -ENOENT, "%s: a private module is never looked up in a checksum database",
                             key->escaped);
    return 0;
}

int cache_get(cache_t *c, const modkey_t *key, int flags, cache_object_t **out, cache_err_t *err)
{
    return cache_get_early(c, key, flags, NULL, NULL, out, err);
}

int cache_get_early(cache_t *c, const modkey_t *key, int flags, cache_early_fn early, void *early_arg,
                    cache_object_t **out, cache_err_t *err)
{
    cache_err_t local;
    if (err == NULL)
        err = &local;
    err->upstream_status = 0;
    err->msg[0] = '\0';
    /* the rules first: a refused key costs nothing below */
    int refused = key->kind == MODKEY_SUMDB ? sumdb_key_check(c, key, err) : access_check(c, key, err);
    if (refused != 0)
        return refused;
    int64_t now = (int64_t)time(NULL);
    cache_object_t *o = NULL;
    cache_local_get(c, key, &o);
    if (o != NULL && is_fresh(c, key, o, now)) {
        hit(c, o);
        *out = o;
        return 0;
    }
    cache_object_t *stale = o;
    int status = 0;
    if (stale != NULL && cache_notfound_get(c->refresh_failed, key->escaped, &status, NULL, 0)) {
        hit(c, stale);
        *out = stale;
        return 0;
    }
    if (cache_notfound_get(c->notfound, key->escaped, &status, err->msg, sizeof err->msg)) {
        cache_object_unref(stale);
        err->upstream_status = status;
        return -ENOENT;
    }
    if (flags & CACHE_GET_NOFETCH) {
        cache_object_unref(stale);
        return -EAGAIN;
    }
    if (atomic_load(&c->shutting_down)) {
        if (stale != NULL) {
            *out = stale;
            return 0;
        }
        return cache_err_set(err, -ECANCELED, "%s: not fetched: shutting down", key->escaped);
    }

    cache_flight_entry_t *flight;
    cache_object_t *got = NULL;
    int rc;
    if (!cache_flight_join(c->flight, key->escaped, &flight, &rc, &got, err)) {
        /* another thread fetched it for us; its failure is ours, but a stale copy still wins */
        if (rc != 0 && rc != -ENOENT && stale != NULL) {
            *out = stale;
            return 0;
        }
        cache_object_unref(stale);
        *out = got;
        return rc;
    }
    /* A flight that ended between our looks and our join has put its object in the hot map. */
    got = cache_hot_get(c->hot, key->escaped, key->escaped_len);
    if (got != NULL && is_fresh(c, key, got, now)) {
        rc = 0;
        hit(c, got);
    } else {
        cache_object_unref(got);
        got = NULL;
        rc = lead_fetch(c, key, now, early, early_arg, &got, err);
    }
    if (rc == 0) {
        atomic_store(&c->counts_stale, true);
        cache_hot_put(c->hot, key->escaped, got);
        cache_notfound_forget(c->notfound, key->escaped);
        cache_notfound_forget(c->refresh_failed, key->escaped);
    } else if (rc == -ENOENT) {
        cache_notfound_put(c->notfound, key->escaped, err->upstream_status ? err->upstream_status : 404, err->msg);
    } else if (rc != -ECANCELED && rc != -EREMOTEIO) { /* the shared tier's failures are counted as its own */
        count(&c->upstream_errors);
    }
    cache_flight_finish(c->flight, flight, rc, got, err);
    if (rc == 0 || rc == -ENOENT || stale == NULL) {
        cache_object_unref(stale);
        *out = got;
        return rc;
    }
    LOG_W("%s: serving the stale copy for %d s: %s", key->escaped, REFRESH_BACKOFF_S, err->msg);
    cache_notfound_put(c->refresh_failed, key->escaped, 0, err->msg);
    *out = stale;
    return 0;
}

typedef struct visit_ctx {
    cache_key_visit_fn visit;
    void *arg;
    modkey_buf_t key;
} visit_ctx_t;

static int visit_parsed(void *arg, const char *escaped)
{
    visit_ctx_t *v = arg;
    /* Every stored key was parsed before it was stored; one that no longer parses (a store
     * written by a build with other rules) is skipped rather than shown. */
    if (modkey_parse(escaped, strlen(escaped), &v->key.key, NULL) != 0)
        return 0;
    return v->visit(v->arg, &v->key.key);
}

int cache_keys_visit(cache_t *c, const char *prefix, cache_key_visit_fn visit, void *arg)
{
    visit_ctx_t *v = malloc(sizeof *v);
    if (v == NULL)
        return -ENOMEM;
    v->visit = visit;
    v->arg = arg;
    int rc = store_keys_visit(c->store, prefix, visit_parsed, v);
    free(v);
    return rc;
}

int cache_keys_generation(cache_t *c, uint64_t *gen)
{
    return store_keys_generation(c->store, gen);
}

/* The figures as they stand: counts given, counters from memory. Called with figures_lock. */
static void stats_fill(cache_t *c, const store_stats_t *counts, const store_life_stats_t *life, cache_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->objects = counts->objects;
    st->logical_bytes = counts->logical_bytes;
    st->unique_bytes = counts->unique_bytes;
    st->stored_bytes = counts->stored_bytes;
    st->disk_bytes = counts->disk_bytes;
    st->chunks = counts->chunks;
    st->hits = c->flushed.hits + c->pending.hits + atomic_load(&c->hits);
    st->misses = c->flushed.misses + c->pending.misses + atomic_load(&c->misses);
    st->upstream_errors = c->flushed.upstream_errors + c->pending.upstream_errors + atomic_load(&c->upstream_errors);
    st->s3_hits = c->flushed.s3_hits + c->pending.s3_hits + atomic_load(&c->s3_hits);
    st->upstream_requests =
        c->flushed.upstream_requests + (upstream_request_count(c->upstream) - c->upstream_requests_flushed);
    /* the store's figures only grow: what the store's counters hold, plus what they gained since */
    uint64_t commits, committed;
    store_commit_figures(c->store, &commits, &committed);
    st->store_commits = c->flushed.commits + (commits - c->commits_flushed);
    st->committed_objects = c->flushed.committed_objects + (committed - c->committed_flushed);
    st->max_bytes = life->max_bytes;
    st->usage_bytes = life->usage;
    st->live_bytes = life->live_bytes;
    st->pack_bytes = life->pack_bytes;
    st->evictions = life->evictions;
    st->evicted_bytes = life->evicted_bytes;
    st->reclaimed_bytes = life->reclaimed_bytes;
    st->compactions = life->compactions;
    st->sumdb_verified = c->flushed.sumdb_verified + c->pending.sumdb_verified;
    st->sumdb_skipped = c->flushed.sumdb_skipped + c->pending.sumdb_skipped;
    for (int i = 0; i < CACHE_SUMDB_REASONS; i++)
        st->sumdb_failures[i] = c->flushed.sumdb_failures[i] + c->pending.sumdb_failures[i];
    cache_sumdb_stats(c, st); /* and what is not yet taken by a flush */
    /* the shared tier: what the store's counters hold, plus what its figures gained since */
    shared_stats_t now = {0};
    if (c->shared != NULL) {
        shared_stats_get(c->shared, &now);
        st->s3 = true;
        st->s3_down = now.down;
    }
    const shared_stats_t *was = &c->shared_flushed;
#define S3(field, from) st->field = c->flushed.field + (c->shared != NULL ? now.from - was->from : 0)
    S3(s3_requests, requests);
    S3(s3_errors, errors);
    S3(s3_bytes_read, bytes_read);
    S3(s3_bytes_written, bytes_written);
    S3(s3_writes, objects_written);
    S3(s3_damaged, damaged);
    S3(s3_lease_waits, lease_waits);
    S3(s3_lease_takeovers, lease_takeovers);
    S3(s3_gc_runs, gc_runs);
    S3(s3_gc_deleted, gc_deleted);
    S3(s3_gc_deleted_bytes, gc_deleted_bytes);
#undef S3
}

void cache_stats_get(cache_t *c, cache_stats_t *st)
{
    pthread_mutex_lock(&c->figures_lock);
    stats_fill(c, &c->counts, &c->life, st);
    pthread_mutex_unlock(&c->figures_lock);
}

int cache_stats_scan(cache_t *c, cache_stats_t *st)
{
    store_stats_t counts;
    int rc = store_stats_get(c->store, &counts);
    if (rc != 0)
        return rc;
    store_life_stats_t life;
    store_life_stats(c->store, &life);
    pthread_mutex_lock(&c->figures_lock);
    c->counts = counts;
    c->life = life;
    stats_fill(c, &counts, &life, st);
    pthread_mutex_unlock(&c->figures_lock);
    return 0;
}

int cache_repair(const char *dir, cache_repair_report_t *report, cache_err_t *err)
{
    store_rebuild_report_t r;
    int rc = store_repair(dir, &r, err);
    memset(report, 0, sizeof *report);
    report->packs = r.packs;
    report->packs_without_log = r.packs_without_log;
    report->objects = r.objects;
    report->objects_skipped = r.objects_skipped;
    report->chunks_bad = r.chunks_bad;
    memcpy(report->moved_aside, r.moved_aside, sizeof report->moved_aside);
    return rc;
}
