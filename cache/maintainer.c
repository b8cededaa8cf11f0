/* SPDX-License-Identifier: MIT */
/*
 * maintainer.c — the cache's maintenance thread (cache_i.h) and the passes asked for by hand
 * (cache.h: cache_gc, cache_verify): keeping the store within its budget and giving dead bytes
 * back to the disk, off every request's path.
 *
 * A thread of its own, not the housekeeper's: a pass that compacts a pack runs for seconds (the
 * copy is paced so the fronts keep their disk), and the counters must not wait for it. Every
 * MAINTAIN_INTERVAL_S it runs one store pass (store_maintain: the uses of the last second
 * written, eviction when over the budget, gc and compaction when something was replaced or
 * dropped); a pass with nothing to do costs a directory listing.
 *
 * With the shared tier, the same thread collects the bucket's garbage at a low rate: every
 * s3_gc_interval_s (from a random point of the first interval, so fronts started together do not
 * line up) it asks the bucket whether any front collected within the interval (a stamp object),
 * and collects when none did: one pass per interval for the whole farm, whatever its size. Here
 * and not in `modfs gc` alone because a farm of stateless fronts has no machine to run a cron job
 * on; `modfs gc` with --s3 runs a pass at once, for an operator.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_i.h"

#define MAINTAIN_INTERVAL_S 1
/* After a failed pass (a full disk, a locked index), the next waits this long: one warning per
 * spell of trouble, not one a second. */
#define MAINTAIN_BACKOFF_S 30

static void report_copy(const store_life_report_t *from, cache_gc_report_t *to)
{
    memset(to, 0, sizeof *to);
    to->usage_before = from->usage_before;
    to->usage_after = from->usage_after;
    to->evicted = from->evicted;
    to->evicted_bytes = from->evicted_bytes;
    to->gc_chunks = from->gc_chunks;
    to->gc_bytes = from->gc_bytes;
    to->compacted_packs = from->compacted_packs;
    to->copied_bytes = from->copied_bytes;
    to->reclaimed_bytes = from->reclaimed_bytes;
}

static bool pass_changed(const store_life_report_t *r)
{
    return r->evicted > 0 || r->gc_chunks > 0 || r->compacted_packs > 0 || r->usage_after != r->usage_before;
}

static void *maintainer_main(void *arg)
{
    cache_t *c = arg;
    int wait_s = MAINTAIN_INTERVAL_S;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    unsigned seed = (unsigned)now.tv_nsec ^ (unsigned)(uintptr_t)c;
    time_t next_bucket_gc = now.tv_sec + (c->s3_gc_interval_s ? 1 + rand_r(&seed) % c->s3_gc_interval_s : 0);
    pthread_mutex_lock(&c->maint_lock);
    while (!c->maint_stop) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += wait_s;
        pthread_cond_timedwait(&c->maint_cv, &c->maint_lock, &deadline);
        if (c->maint_stop)
            break;
        pthread_mutex_unlock(&c->maint_lock);
        if (c->shared != NULL && c->s3_gc_interval_s > 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec >= next_bucket_gc) {
                cache_bucket_gc_background(c);
                next_bucket_gc = now.tv_sec + c->s3_gc_interval_s;
            }
        }
        store_life_report_t r = {0};
        int rc = store_maintain(c->store, false, &r);
        if (rc != 0) {
            LOG_W("store %s: maintenance pass failed (next try in %d s): %s", c->dir, MAINTAIN_BACKOFF_S,
                  strerror(-rc));
            wait_s = MAINTAIN_BACKOFF_S;
        } else {
            wait_s = MAINTAIN_INTERVAL_S;
            if (pass_changed(&r))
                atomic_store(&c->counts_stale, true);
            if (r.compacted_packs > 0 || r.gc_chunks > 0)
                LOG_I("store: %llu unused chunks collected, %llu packs compacted, %llu bytes given back",
                      (unsigned long long)r.gc_chunks, (unsigned long long)r.compacted_packs,
                      (unsigned long long)r.reclaimed_bytes);
        }
        pthread_mutex_lock(&c->maint_lock);
    }
    pthread_mutex_unlock(&c->maint_lock);
    return NULL;
}

int cache_maintainer_start(cache_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->maint_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&c->maint_lock, NULL);
    int rc = pthread_create(&c->maintainer, NULL, maintainer_main, c);
    if (rc != 0) {
        pthread_cond_destroy(&c->maint_cv);
        pthread_mutex_destroy(&c->maint_lock);
        return -rc;
    }
    c->maint_started = true;
    return 0;
}

void cache_maintainer_stop(cache_t *c)
{
    if (!c->maint_started)
        return;
    pthread_mutex_lock(&c->maint_lock);
    c->maint_stop = true;
    pthread_cond_signal(&c->maint_cv);
    pthread_mutex_unlock(&c->maint_lock);
    pthread_join(c->maintainer, NULL);
    c->maint_started = false;
    pthread_cond_destroy(&c->maint_cv);
    pthread_mutex_destroy(&c->maint_lock);
}

typedef struct gc_progress {
    cache_gc_progress_fn fn;
    void *arg;
} gc_progress_t;

static void gc_progress(void *arg, const store_life_report_t *so_far)
{
    gc_progress_t *p = arg;
    cache_gc_report_t r;
    report_copy(so_far, &r);
    p->fn(p->arg, &r);
}

int cache_gc(cache_t *c, bool dry_run, cache_gc_progress_fn progress, void *arg, cache_gc_report_t *report,
             cache_err_t *err)
{
    gc_progress_t p = {progress, arg};
    store_life_report_t r = {.progress = progress ? gc_progress : NULL, .progress_arg = &p};
    int rc = dry_run ? store_gc_dry_run(c->store, &r) : store_maintain(c->store, true, &r);
    report_copy(&r, report);
    if (rc != 0)
        return cache_err_set(err, rc, "store %s: %s", c->dir, strerror(-rc));
    atomic_store(&c->counts_stale, true);
    return cache_bucket_gc(c, dry_run, report, err);
}

int cache_verify(cache_t *c, bool heal, uint64_t *checked, uint64_t *damaged, cache_progress_fn progress, void *arg,
                 cache_err_t *err)
{
    int rc = store_verify(c->store, heal, checked, damaged, progress, arg);
    if (rc != 0)
        return cache_err_set(err, rc, "store %s: %s", c->dir, strerror(-rc));
    if (heal && *damaged > 0)
        atomic_store(&c->counts_stale, true);
    return 0;
}
