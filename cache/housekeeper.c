/* SPDX-License-Identifier: MIT */
/*
 * housekeeper.c — the cache's background thread (cache_i.h): it writes the counters to the store
 * and takes the store's figures, so that neither ever happens on a request's path.
 *
 * Counters are atomics bumped by whichever thread served a request; every COUNTERS_FLUSH_S the
 * housekeeper adds what accumulated to the store in one transaction (the only writer of the
 * flushed totals, under figures_lock). The counts (objects, bytes, chunks) are a scan of the
 * index on a reader connection, taken again soon after the store changed; cache_stats_get reads
 * both from memory.
 * Before, a miss ran up to four autocommits of its own, and /metrics scanned the index on a
 * fetch worker while holding the index's only connection.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cache_i.h"

#define COUNTERS_FLUSH_S 5
/* The counts are taken again this long after the store changed (a scan of the index, so not
 * after every change: a burst of ingests costs one scan), and at least every COUNTS_IDLE_S. */
#define COUNTS_AFTER_CHANGE_S 1
#define COUNTS_IDLE_S 60

void cache_counters_flush(cache_t *c)
{
    /* The write (an fsync'd commit) runs without figures_lock, so cache_stats_get never waits on
     * it; meanwhile what is being written stays visible as pending, so no figure dips. */
    pthread_mutex_lock(&c->flush_lock);
    pthread_mutex_lock(&c->figures_lock);
    uint64_t reqs = upstream_request_count(c->upstream);
    uint64_t commits, committed;
    store_commit_figures(c->store, &commits, &committed);
    store_counters_t d = {
        .hits = atomic_exchange(&c->hits, 0),
        .misses = atomic_exchange(&c->misses, 0),
        .upstream_errors = atomic_exchange(&c->upstream_errors, 0),
        .s3_hits = atomic_exchange(&c->s3_hits, 0),
        .upstream_requests = reqs - c->upstream_requests_flushed,
        .commits = commits - c->commits_flushed,
        .committed_objects = committed - c->committed_flushed,
    };
    /* the shared tier's figures only grow: what they gained since the last flush */
    shared_stats_t sh = c->shared_flushed;
    if (c->shared != NULL) {
        shared_stats_get(c->shared, &sh);
        const shared_stats_t *w = &c->shared_flushed;
        d.s3_requests = sh.requests - w->requests;
        d.s3_errors = sh.errors - w->errors;
        d.s3_bytes_read = sh.bytes_read - w->bytes_read;
        d.s3_bytes_written = sh.bytes_written - w->bytes_written;
        d.s3_writes = sh.objects_written - w->objects_written;
        d.s3_damaged = sh.damaged - w->damaged;
        d.s3_lease_waits = sh.lease_waits - w->lease_waits;
        d.s3_lease_takeovers = sh.lease_takeovers - w->lease_takeovers;
        d.s3_gc_runs = sh.gc_runs - w->gc_runs;
        d.s3_gc_deleted = sh.gc_deleted - w->gc_deleted;
        d.s3_gc_deleted_bytes = sh.gc_deleted_bytes - w->gc_deleted_bytes;
    }
    cache_sumdb_counters_take(c, &d);
    c->pending = d;
    pthread_mutex_unlock(&c->figures_lock);
    int rc = store_counters_add(c->store, &d);
    pthread_mutex_lock(&c->figures_lock);
    memset(&c->pending, 0, sizeof c->pending);
    if (rc == 0) {
        c->flushed.hits += d.hits;
        c->flushed.misses += d.misses;
        c->flushed.upstream_errors += d.upstream_errors;
        c->flushed.upstream_requests += d.upstream_requests;
        c->upstream_requests_flushed = reqs;
        c->flushed.commits += d.commits;
        c->flushed.committed_objects += d.committed_objects;
        c->commits_flushed = commits;
        c->committed_flushed = committed;
        c->flushed.sumdb_verified += d.sumdb_verified;
        c->flushed.sumdb_skipped += d.sumdb_skipped;
        for (int i = 0; i < STORE_SUMDB_REASONS; i++)
            c->flushed.sumdb_failures[i] += d.sumdb_failures[i];
        c->flushed.s3_requests += d.s3_requests;
        c->flushed.s3_errors += d.s3_errors;
        c->flushed.s3_bytes_read += d.s3_bytes_read;
        c->flushed.s3_bytes_written += d.s3_bytes_written;
        c->flushed.s3_hits += d.s3_hits;
        c->flushed.s3_writes += d.s3_writes;
        c->flushed.s3_damaged += d.s3_damaged;
        c->flushed.s3_lease_waits += d.s3_lease_waits;
        c->flushed.s3_lease_takeovers += d.s3_lease_takeovers;
        c->flushed.s3_gc_runs += d.s3_gc_runs;
        c->flushed.s3_gc_deleted += d.s3_gc_deleted;
        c->flushed.s3_gc_deleted_bytes += d.s3_gc_deleted_bytes;
        c->shared_flushed = sh;
    } else {
        /* kept for the next flush */
        atomic_fetch_add(&c->hits, d.hits);
        atomic_fetch_add(&c->misses, d.misses);
        atomic_fetch_add(&c->upstream_errors, d.upstream_errors);
        atomic_fetch_add(&c->s3_hits, d.s3_hits);
        cache_sumdb_counters_return(c, &d);
    }
    pthread_mutex_unlock(&c->figures_lock);
    pthread_mutex_unlock(&c->flush_lock);
    if (rc != 0)
        LOG_W("store: writing the counters: %s", strerror(-rc));
}

void cache_counts_refresh(cache_t *c)
{
    store_stats_t st;
    if (store_stats_get(c->store, &st) != 0)
        return;
    store_life_stats_t life;
    store_life_stats(c->store, &life);
    pthread_mutex_lock(&c->figures_lock);
    c->counts = st;
    c->life = life;
    pthread_mutex_unlock(&c->figures_lock);
}

static void *keeper_main(void *arg)
{
    cache_t *c = arg;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    time_t last_flush = start.tv_sec, last_counts = start.tv_sec;
    /* A short command (modfs get) reads no figures and closes within milliseconds: its close
     * would wait for this scan. So unless asked for at once, the first is taken at the first tick. */
    if (c->counts_at_open)
        cache_counts_refresh(c);
    else
        atomic_store(&c->counts_stale, true);
    pthread_mutex_lock(&c->keeper_lock);
    while (!c->keeper_stop) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += 1;
        pthread_cond_timedwait(&c->keeper_cv, &c->keeper_lock, &deadline);
        if (c->keeper_stop)
            break;
        pthread_mutex_unlock(&c->keeper_lock);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - last_flush >= COUNTERS_FLUSH_S) {
            cache_counters_flush(c);
            last_flush = now.tv_sec;
        }
        bool changed = atomic_exchange(&c->counts_stale, false);
        if ((changed && now.tv_sec - last_counts >= COUNTS_AFTER_CHANGE_S) || now.tv_sec - last_counts >= COUNTS_IDLE_S) {
            cache_counts_refresh(c);
            last_counts = now.tv_sec;
        } else if (changed) {
            atomic_store(&c->counts_stale, true); /* not yet: next turn */
        }
        pthread_mutex_lock(&c->keeper_lock);
    }
    pthread_mutex_unlock(&c->keeper_lock);
    return NULL;
}

int cache_housekeeper_start(cache_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->keeper_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->keeper_lock, NULL);
    int rc = pthread_create(&c->keeper, NULL, keeper_main, c);
    if (rc != 0)
        return -rc;
    c->keeper_started = true;
    return 0;
}

void cache_housekeeper_stop(cache_t *c)
{
    if (!c->keeper_started)
        return;
    pthread_mutex_lock(&c->keeper_lock);
    c->keeper_stop = true;
    pthread_cond_signal(&c->keeper_cv);
    pthread_mutex_unlock(&c->keeper_lock);
    pthread_join(c->keeper, NULL);
    c->keeper_started = false;
    pthread_cond_destroy(&c->keeper_cv);
    pthread_mutex_destroy(&c->keeper_lock);
}
