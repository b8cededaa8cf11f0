/* SPDX-License-Identifier: MIT */
/*
 * evict.c — keeping the store within its budget (store.h: store_set_budget, store_note_use,
 * store_maintain): which objects go when the store is over --max-size, by S3-FIFO.
 *
 * Why S3-FIFO rather than LRU: a build farm's traffic mixes modules every build reads with one-off
 * scans (a `go mod download all`, a new branch's dependencies) that LRU would let push the working
 * set out. S3-FIFO (Yang et al., SOSP 2023) admits new objects into a small FIFO (a tenth of the
 * bytes); an object used again while there moves to the main FIFO, the others leave and are
 * remembered by key in a ghost FIFO, so one that comes back soon is admitted straight to main. In
 * main, an object is kept while it is used (its use count, capped at 3, is spent one per pass) and
 * leaves when it reaches the head unused. It needs no per-hit reordering: a hit only adds to a
 * count on the object in memory (store_object_note_use: an atomic add; the first use since the
 * last pass also puts the object on a list), never a disk write; the maintenance pass writes the
 * counts in one transaction.
 *
 * The queues live in the index (objects.queue, freq, seq), so they survive restarts and are shared
 * by every process using the store; the ghost is in memory. A pass loads every object's policy
 * state (one read), decides in memory, and applies all its decisions in one transaction; gc and
 * compaction (compact.c) then turn the evicted objects' bytes into free disk. An object being read
 * (a handle open on it: a FUSE file, an HTTP response, a member reader) is not chosen; and even
 * one evicted under a reader stays readable, because a pack is not deleted while an open object
 * still points into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_i.h"

#define USES_SEED 0x75 /* "u" */
#define GHOST_SEED 0x67 /* "g" */
#define GHOST_MAX 65536
/* The small queue's share of the bytes, in percent (the paper's 10%). */
#define SMALL_SHARE 10
/* The low-water mark a pass evicts down to, in percent of the budget. */
#define LOW_WATER 90

typedef struct ghost_entry {
    htab_link_t link;
    struct ghost_entry *newer; /* FIFO, oldest first */
    char key[];
} ghost_entry_t;

static bool ghost_eq(const htab_link_t *l, const void *key)
{
    return strcmp(((const ghost_entry_t *)l)->key, key) == 0;
}

int store_life_init(store_t *s)
{
    pthread_mutex_init(&s->uses_lock, NULL);
    pthread_mutex_init(&s->ghost_lock, NULL);
    pthread_mutex_init(&s->open_lock, NULL);
    pthread_mutex_init(&s->maint_lock, NULL);
    pthread_mutex_init(&s->maint_dead_lock, NULL);
    s->maint_fd = -1;
    s->pins = calloc(PACK_MAX_COUNT, sizeof *s->pins);
    if (s->pins == NULL || htab_init(&s->ghost, 1024) != 0 ||
        htab_init(&s->open_keys, 1024) != 0)
        return -ENOMEM;
    s->life_ready = true;
    return 0;
}

static int free_link(htab_link_t *l, void *arg)
{
    (void)arg;
    free(l);
    return 0;
}

void store_life_dispose(store_t *s)
{
    if (!s->life_ready)
        return;
    htab_each(&s->ghost, free_link, NULL);
    htab_each(&s->open_keys, free_link, NULL);
    htab_dispose(&s->ghost);
    htab_dispose(&s->open_keys);
    if (s->maint_fd >= 0)
        close(s->maint_fd);
    free(s->pins);
    pthread_mutex_destroy(&s->uses_lock);
    pthread_mutex_destroy(&s->ghost_lock);
    pthread_mutex_destroy(&s->open_lock);
    pthread_mutex_destroy(&s->maint_lock);
    pthread_mutex_destroy(&s->maint_dead_lock);
}

void store_set_budget(store_t *s, uint64_t max_bytes)
{
    s->max_bytes = max_bytes;
    s->low_bytes = max_bytes / 100 * LOW_WATER;
    /* Packs are the unit disk is given back in: a budget holds at least a dozen of them. */
    uint64_t segment = max_bytes ? max_bytes / 16 : PACK_MAX_BYTES;
    if (segment < (1u << 20))
        segment = 1u << 20;
    if (segment > PACK_MAX_BYTES)
        segment = PACK_MAX_BYTES;
    s->segment_bytes = segment;
    store_packs_set_segment(s->packs, segment);
}

void store_object_note_use(store_object_t *o)
{
    /* The policy counts to 3 at most, so a hot object's hits, on every loop thread at once, stop
     * at two plain loads of a cache line they share: no atomic write, no line bouncing between
     * cores. */
    if (atomic_load_explicit(&o->uses, memory_order_relaxed) < 3)
        atomic_fetch_add_explicit(&o->uses, 1, memory_order_relaxed);
    if (atomic_load_explicit(&o->use_queued, memory_order_relaxed) || atomic_exchange(&o->use_queued, true))
        return; /* on the list already */
    store_t *s = o->store;
    store_object_ref(o);
    pthread_mutex_lock(&s->uses_lock);
    o->used_next = s->used;
    s->used = o;
    pthread_mutex_unlock(&s->uses_lock);
}

int store_flush_uses(store_t *s)
{
    pthread_mutex_lock(&s->uses_lock);
    store_object_t *list = s->used;
    s->used = NULL;
    pthread_mutex_unlock(&s->uses_lock);
    /* While an object's use_queued is still set nobody else touches its used_next, so the list
     * can be walked; once it is cleared, a hit may queue the object again, rewriting used_next.
     * So each object's link is read before its flag is cleared, and the references are dropped
     * from an array, never by walking the links a second time. */
    size_t n = 0;
    for (store_object_t *o = list; o != NULL; o = o->used_next)
        n++;
    store_object_t **objs = malloc((n ? n : 1) * sizeof *objs);
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    unsigned *counts = malloc((n ? n : 1) * sizeof *counts);
    int rc = objs && keys && counts ? 0 : -ENOMEM;
    size_t i = 0;
    for (store_object_t *o = list, *next; o != NULL; o = next) {
        next = o->used_next;
        unsigned uses = atomic_exchange(&o->uses, 0);
        if (rc == 0) {
            objs[i] = o;
            keys[i] = o->key;
            counts[i] = uses;
            i++;
        }
        atomic_store(&o->use_queued, false);
        if (rc != 0)
            store_object_unref(o); /* out of memory: these uses are lost, the references are not */
    }
    if (rc == 0 && n > 0)
        rc = store_index_uses_add(s->index, keys, counts, n);
    for (size_t j = 0; j < i; j++)
        store_object_unref(objs[j]);
    free(objs);
    free(keys);
    free(counts);
    return rc;
}

/* ---- the ghost FIFO: keys recently evicted from the small queue ---- */

static void ghost_add(store_t *s, const char *key)
{
    size_t len = strlen(key);
    uint64_t h = hash_bytes(key, len, GHOST_SEED);
    pthread_mutex_lock(&s->ghost_lock);
    if (htab_find(&s->ghost, h, ghost_eq, key) == NULL) {
        ghost_entry_t *g = malloc(sizeof *g + len + 1);
        if (g != NULL) {
            g->newer = NULL;
            memcpy(g->key, key, len + 1);
            htab_insert(&s->ghost, &g->link, h);
            if (s->ghost_newest)
                s->ghost_newest->newer = g;
            s->ghost_newest = g;
            if (s->ghost_oldest == NULL)
                s->ghost_oldest = g;
        }
        while (s->ghost.count > GHOST_MAX && s->ghost_oldest != NULL) {
            ghost_entry_t *old = s->ghost_oldest;
            s->ghost_oldest = old->newer;
            if (s->ghost_newest == old)
                s->ghost_newest = NULL;
            htab_remove(&s->ghost, &old->link);
            free(old);
        }
    }
    pthread_mutex_unlock(&s->ghost_lock);
}

int store_admit_queue(store_t *s, const char *key)
{
    uint64_t h = hash_bytes(key, strlen(key), GHOST_SEED);
    pthread_mutex_lock(&s->ghost_lock);
    bool ghost = htab_find(&s->ghost, h, ghost_eq, key) != NULL; /* left in the FIFO; it ages out */
    pthread_mutex_unlock(&s->ghost_lock);
    return ghost ? STORE_QUEUE_MAIN : STORE_QUEUE_SMALL;
}

/* ---- open objects: never chosen while a handle is open on them ---- */

typedef struct open_entry {
    htab_link_t link;
    unsigned count;
    char key[];
} open_entry_t;

static bool open_eq(const htab_link_t *l, const void *key)
{
    return strcmp(((const open_entry_t *)l)->key, key) == 0;
}

void store_open_note(store_t *s, const char *key, int delta)
{
    size_t len = strlen(key);
    uint64_t h = hash_bytes(key, len, 0x6f); /* "o" */
    pthread_mutex_lock(&s->open_lock);
    open_entry_t *e = (open_entry_t *)htab_find(&s->open_keys, h, open_eq, key);
    if (delta > 0) {
        if (e == NULL && (e = malloc(sizeof *e + len + 1)) != NULL) {
            e->count = 0;
            memcpy(e->key, key, len + 1);
            htab_insert(&s->open_keys, &e->link, h);
        }
        if (e != NULL)
            e->count++;
    } else if (e != NULL && --e->count == 0) {
        htab_remove(&s->open_keys, &e->link);
        free(e);
    }
    pthread_mutex_unlock(&s->open_lock);
}

static bool is_open(store_t *s, const char *key)
{
    uint64_t h = hash_bytes(key, strlen(key), 0x6f);
    pthread_mutex_lock(&s->open_lock);
    bool open = htab_find(&s->open_keys, h, open_eq, key) != NULL;
    pthread_mutex_unlock(&s->open_lock);
    return open;
}

/* ---- a pass ---- */

uint64_t store_usage(store_t *s)
{
    uint64_t n = store_packs_disk_bytes(s->packs);
    const char *files[] = {"index.db", "index.db-wal"};
    for (int i = 0; i < 2; i++) {
        char *p = path_join(s->dir, files[i]);
        struct stat st;
        if (p != NULL && stat(p, &st) == 0)
            n += (uint64_t)st.st_blocks * 512;
        free(p);
    }
    return n;
}

/* One S3-FIFO pass over v (every object, oldest entry first) that marks victims until their
 * charges reach need. Objects open right now are skipped as if used. */
static uint64_t choose(store_t *s, store_candidate_t *v, size_t n, uint64_t need, uint64_t *evicted)
{
    uint64_t total = 0, small = 0;
    for (size_t i = 0; i < n; i++) {
        total += v[i].charge;
        if (v[i].queue == STORE_QUEUE_SMALL)
            small += v[i].charge;
    }
    int64_t next_seq = n > 0 ? v[n - 1].seq + 1 : 1;
    uint64_t freed = 0;
    *evicted = 0;
    /* Each queue is walked from its oldest entry; an object moved to the back of main is not
     * visited again in this pass (its seq is past the end of the walk). */
    size_t is = 0, im = 0;
    size_t visits = 0;
    while (freed < need && visits < 2 * n) {
        while (is < n && (v[is].queue != STORE_QUEUE_SMALL || v[is].evict || v[is].changed))
            is++;
        while (im < n && (v[im].queue != STORE_QUEUE_MAIN || v[im].evict || v[im].changed))
            im++;
        bool from_small = is < n && (small * 100 > total * SMALL_SHARE || im >= n);
        if (!from_small && im >= n)
            break;
        store_candidate_t *o = from_small ? &v[is] : &v[im];
        visits++;
        if (from_small) {
            small -= o->charge;
            if (o->freq > 0) { /* used again while new: it earns a place in main */
                o->queue = STORE_QUEUE_MAIN;
                o->freq = 0;
                o->seq = next_seq++;
                o->changed = true;
                continue;
            }
        } else if (o->freq > 0) { /* used since its last pass: around again, one use spent */
            o->freq--;
            o->seq = next_seq++;
            o->changed = true;
            continue;
        }
        if (is_open(s, o->key)) {
            /* The front's map of recent objects holds handles too; it lets go of a victim's, and
             * what is still open after that is a reader's. */
            if (s->drop_hook != NULL)
                s->drop_hook(s->drop_arg, o->key);
            if (is_open(s, o->key)) {
                o->changed = true; /* kept, as if used: it is being read */
                continue;
            }
        }
        o->evict = true;
        freed += o->charge;
        total -= o->charge;
        (*evicted)++;
    }
    return freed;
}

int store_evict(store_t *s, uint64_t need, store_life_report_t *r)
{
    store_candidate_t *v = NULL;
    size_t n = 0;
    int rc = store_index_candidates(s->index, &v, &n);
    if (rc != 0)
        return rc;
    uint64_t evicted = 0;
    uint64_t freed = choose(s, v, n, need, &evicted);
    if (evicted > 0 || n > 0)
        rc = store_index_policy_apply(s->index, v, n, NULL, NULL);
    if (rc == 0 && evicted > 0)
        STORE_FAULT("evict-committed");
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            if (!v[i].evict)
                continue;
            /* once more: a hit between the choice and the commit may have put it back */
            if (s->drop_hook != NULL)
                s->drop_hook(s->drop_arg, v[i].key);
            if (v[i].queue == STORE_QUEUE_SMALL)
                ghost_add(s, v[i].key);
        }
        if (r != NULL) {
            r->evicted += evicted;
            r->evicted_bytes += freed;
        }
        if (evicted > 0)
            LOG_I("store: evicted %llu objects (%llu bytes charged) to stay within %llu bytes",
                  (unsigned long long)evicted, (unsigned long long)freed, (unsigned long long)s->max_bytes);
    }
    store_candidates_free(v, n);
    return rc;
}

/* The cross-process side of a pass: two processes compacting one pack would each switch its
 * chunks, and the index would end up naming one copy in chunks and the other in layouts. A
 * background pass that finds another process at it skips its turn (0, nothing done); one asked
 * for (wait) waits. Called with maint_lock held. */
static int maint_flock(store_t *s, bool wait)
{
    if (s->maint_fd < 0) {
        char *path = path_join(s->dir, "maintain.lock");
        if (path == NULL)
            return -ENOMEM;
        s->maint_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        free(path);
        if (s->maint_fd < 0)
            return -errno;
    }
    while (flock(s->maint_fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
        if (errno != EINTR)
            return errno == EWOULDBLOCK ? -EBUSY : -errno;
    }
    return 0;
}

/* A pass; room: bytes an ingest is about to add (0 for the background and gc passes). */
static int maintain(store_t *s, bool force_gc, uint64_t room, store_life_report_t *r)
{
    store_life_report_t local = {0};
    if (r == NULL)
        r = &local;
    pthread_mutex_lock(&s->maint_lock);
    int rc = maint_flock(s, force_gc);
    if (rc != 0) {
        pthread_mutex_unlock(&s->maint_lock);
        r->usage_before = r->usage_after = store_usage(s);
        return rc == -EBUSY ? 0 : rc;
    }
    const store_life_report_t before = *r;
    uint64_t deleted_before = atomic_load(&s->deleted_pack_bytes);
    rc = store_flush_uses(s);
    uint64_t usage = store_usage(s);
    r->usage_before = usage;
    s->ceiling_bytes = s->max_bytes > 0 ? (usage > s->max_bytes ? usage : s->max_bytes) + s->segment_bytes : 0;
    if (rc == 0 && s->max_bytes > 0 && usage + room > s->max_bytes) {
        /* Garbage first (what is already dead costs no object), then evict, collect, compact,
         * and look again: shared chunks free less than they charge. */
        uint64_t target = s->low_bytes > room ? s->low_bytes - room : 1;
        rc = store_collect(s, false, target, r);
        usage = store_usage(s);
        for (int round = 0; rc == 0 && round < 4 && usage > target; round++) {
            uint64_t before_round = usage, evicted_before = r->evicted;
            rc = store_evict(s, usage - target, r);
            if (rc == 0)
                rc = store_collect(s, false, target, r);
            usage = store_usage(s);
            /* A round may evict nothing (objects used since the last pass only move in their
             * queues); one whose evictions did not become free disk (packs readers pin) ends
             * the pass rather than evicting more for nothing. */
            if (r->evicted > evicted_before && usage >= before_round)
                break;
        }
    } else if (rc == 0 && (force_gc || atomic_exchange(&s->garbage, false))) {
        rc = store_collect(s, false, false, r);
    }
    if (rc == 0)
        store_release_dead_packs(s);
    r->usage_after = store_usage(s);
    /* Given back: the packs deleted, less what compaction copied out of them into live packs. */
    uint64_t deleted = atomic_load(&s->deleted_pack_bytes) - deleted_before;
    uint64_t copied = r->copied_bytes - before.copied_bytes;
    r->reclaimed_bytes += deleted > copied ? deleted - copied : 0;
    store_counters_t done = {
        .evictions = r->evicted - before.evicted,
        .evicted_bytes = r->evicted_bytes - before.evicted_bytes,
        .reclaimed_bytes = r->reclaimed_bytes - before.reclaimed_bytes,
        .compactions = r->compacted_packs - before.compacted_packs,
    };
    atomic_fetch_add(&s->evictions, done.evictions);
    atomic_fetch_add(&s->evicted_bytes, done.evicted_bytes);
    atomic_fetch_add(&s->reclaimed_bytes, done.reclaimed_bytes);
    atomic_fetch_add(&s->compactions, done.compactions);
    int crc = store_index_counters_add(s->index, &done); /* figures only: a failure loses no data */
    if (crc != 0)
        LOG_W("store: writing the maintenance counters: %s", strerror(-crc));
    flock(s->maint_fd, LOCK_UN);
    pthread_mutex_unlock(&s->maint_lock);
    return rc;
}

int store_maintain(store_t *s, bool force_gc, store_life_report_t *r)
{
    return maintain(s, force_gc, 0, r);
}

int store_maintain_for(store_t *s, uint64_t room)
{
    if (s->max_bytes == 0 || store_usage(s) + room <= s->max_bytes)
        return 0; /* the common case: one directory listing */
    return maintain(s, false, room, NULL);
}
