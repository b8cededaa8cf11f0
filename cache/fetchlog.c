/* SPDX-License-Identifier: MIT */
/*
 * fetchlog.c — what the store's upstream fetches did (cache.h: cache_fetch_figures_get,
 * cache_fetch_notes_get): counts and histograms of durations and body sizes since the process
 * started, the slowest fetches of the last hour and the latest failures.
 *
 * It is fed by cache_fetch as each fetch ends, that is on the miss path only: one fetch per
 * flight (the waiters of a single-flight share the leader's), never a hit. A fetch costs a
 * round trip to upstream, a validation and an fsync'd commit, so one mutex taken once per fetch
 * is nothing beside it, and it buys plain fields and consistent copies for the readers (the
 * status page, /metrics), which take the same mutex.
 *
 * Both lists are bounded (CACHE_FETCH_NOTED entries): the failures are a ring, newest first; the
 * slowest are a top-K by duration among the fetches of the last hour. A fetch that a slower one
 * pushed out does not come back when that one ages out, so after an hour of quiet the list may
 * hold fewer entries than the hour had fetches: a table of the worst cases, not an exact rank.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_i.h"

/* One hour: how long a fetch stays among the slowest. */
#define FETCHLOG_SLOW_WINDOW_MS (3600u * 1000u)

/* From a store hit that needed upstream's list (a millisecond) to a large zip from afar. */
const uint64_t cache_fetch_duration_bounds_us[CACHE_FETCH_DURATION_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000};

/* From a .info (a hundred bytes) to go's largest zip (500 MiB). */
const uint64_t cache_fetch_size_bounds[CACHE_FETCH_SIZE_BUCKETS] = {
    256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 536870912};

typedef struct fetchlog_entry {
    cache_fetch_note_t note;
    uint64_t ended_ms; /* monotonic: when it ages out of the slowest */
} fetchlog_entry_t;

struct cache_fetchlog {
    pthread_mutex_t lock; /* protects everything below */
    cache_fetch_figures_t figures;
    fetchlog_entry_t slowest[CACHE_FETCH_NOTED]; /* unordered; nslowest in use */
    size_t nslowest;
    cache_fetch_note_t failed[CACHE_FETCH_NOTED]; /* a ring: failed_next is the slot written next */
    size_t nfailed, failed_next;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

cache_fetchlog_t *cache_fetchlog_new(void)
{
    cache_fetchlog_t *l = calloc(1, sizeof *l);
    if (l != NULL)
        pthread_mutex_init(&l->lock, NULL);
    return l;
}

void cache_fetchlog_free(cache_fetchlog_t *l)
{
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

cache_fetch_result_t cache_fetch_result_of(int rc)
{
    return rc == 0 ? CACHE_FETCH_OK : rc == -ENOENT ? CACHE_FETCH_NOT_FOUND : CACHE_FETCH_FAILED;
}

static size_t bucket_of(const uint64_t *bounds, size_t n, uint64_t v)
{
    size_t b = 0;
    while (b < n && v > bounds[b])
        b++;
    return b;
}

/* Drops the slowest that are older than the window. Called with the lock held. */
static void slowest_expire(cache_fetchlog_t *l, uint64_t now)
{
    for (size_t i = 0; i < l->nslowest;) {
        if (now - l->slowest[i].ended_ms > FETCHLOG_SLOW_WINDOW_MS)
            l->slowest[i] = l->slowest[--l->nslowest];
        else
            i++;
    }
}

/* Where a fetch of this duration goes among the slowest: a free slot, the quickest one it beats,
 * or none (-1). Called with the lock held. */
static long slowest_slot(const cache_fetchlog_t *l, uint64_t duration_us)
{
    if (l->nslowest < CACHE_FETCH_NOTED)
        return (long)l->nslowest;
    size_t min = 0;
    for (size_t i = 1; i < l->nslowest; i++)
        if (l->slowest[i].note.duration_us < l->slowest[min].note.duration_us)
            min = i;
    return l->slowest[min].note.duration_us < duration_us ? (long)min : -1;
}

static void note_fill(cache_fetch_note_t *n, const modkey_t *key, bool private_module, uint64_t duration_us,
                      uint64_t bytes, int rc, const cache_err_t *err)
{
    n->ended_at = (int64_t)time(NULL);
    n->duration_us = duration_us;
    n->bytes = bytes;
    n->rc = rc;
    n->private_module = private_module;
    if (err != NULL && rc != 0)
        n->err = *err;
    else
        memset(&n->err, 0, sizeof n->err);
    size_t len = key->escaped_len < sizeof n->key ? key->escaped_len : sizeof n->key - 1;
    memcpy(n->key, key->escaped, len);
    n->key[len] = '\0';
}

void cache_fetchlog_note(cache_fetchlog_t *l, const modkey_t *key, bool private_module, uint64_t duration_us,
                         uint64_t bytes, int rc, const cache_err_t *err)
{
    if (l == NULL)
        return;
    cache_fetch_result_t r = cache_fetch_result_of(rc);
    uint64_t now = now_ms();
    pthread_mutex_lock(&l->lock);
    cache_fetch_figures_t *f = &l->figures;
    f->count[r]++;
    f->duration_sum_us[r] += duration_us;
    f->duration_bucket[r][bucket_of(cache_fetch_duration_bounds_us, CACHE_FETCH_DURATION_BUCKETS, duration_us)]++;
    if (r == CACHE_FETCH_OK) {
        f->size_sum += bytes;
        f->size_bucket[bucket_of(cache_fetch_size_bounds, CACHE_FETCH_SIZE_BUCKETS, bytes)]++;
    }
    slowest_expire(l, now);
    long slot = slowest_slot(l, duration_us);
    if (slot >= 0) {
        if ((size_t)slot == l->nslowest)
            l->nslowest++;
        note_fill(&l->slowest[slot].note, key, private_module, duration_us, bytes, rc, err);
        l->slowest[slot].ended_ms = now;
    }
    if (r == CACHE_FETCH_FAILED) {
        note_fill(&l->failed[l->failed_next], key, private_module, duration_us, bytes, rc, err);
        l->failed_next = (l->failed_next + 1) % CACHE_FETCH_NOTED;
        if (l->nfailed < CACHE_FETCH_NOTED)
            l->nfailed++;
    }
    pthread_mutex_unlock(&l->lock);
}

void cache_fetchlog_figures(cache_fetchlog_t *l, cache_fetch_figures_t *out)
{
    pthread_mutex_lock(&l->lock);
    *out = l->figures;
    pthread_mutex_unlock(&l->lock);
}

static int by_duration_desc(const void *a, const void *b)
{
    const cache_fetch_note_t *x = a, *y = b;
    return x->duration_us < y->duration_us ? 1 : x->duration_us > y->duration_us ? -1 : 0;
}

void cache_fetchlog_notes(cache_fetchlog_t *l, cache_fetch_notes_t *out)
{
    uint64_t now = now_ms();
    pthread_mutex_lock(&l->lock);
    slowest_expire(l, now);
    out->nslowest = l->nslowest;
    for (size_t i = 0; i < l->nslowest; i++)
        out->slowest[i] = l->slowest[i].note;
    out->nfailed = l->nfailed;
    for (size_t i = 0; i < l->nfailed; i++)
        out->failed[i] = l->failed[(l->failed_next + CACHE_FETCH_NOTED - 1 - i) % CACHE_FETCH_NOTED];
    pthread_mutex_unlock(&l->lock);
    qsort(out->slowest, out->nslowest, sizeof out->slowest[0], by_duration_desc);
}

void cache_fetch_figures_get(cache_t *c, cache_fetch_figures_t *out)
{
    cache_fetchlog_figures(c->fetchlog, out);
}

void cache_fetch_notes_get(cache_t *c, cache_fetch_notes_t *out)
{
    cache_fetchlog_notes(c->fetchlog, out);
}
