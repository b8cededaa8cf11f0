/* SPDX-License-Identifier: MIT */
/*
 * compact.c — turning dead bytes into free disk (store_i.h: store_collect): garbage collection of
 * chunks no object names, then compaction of the packs whose live share fell low, then deleting
 * the packs left with nothing live.
 *
 * Compaction of a pack, in the order that keeps a crash harmless at every step:
 *   1. its live chunks are copied (read, checked, appended) into the pack this process writes,
 *      with their records in that pack's log, together with the object records of the old log
 *      whose objects still exist (so a rebuild never needs the old log), and synced;
 *   2. one transaction switches every chunk to its new place and rewrites every layout naming
 *      one (index_life.c);
 *   3. the old pack and its log are deleted — unless an open object still points into it (a
 *      reader in this process: the pack's pin count), in which case that waits for the reader.
 * A crash after 1 leaves copies no index row names (cut off at the next open, as any crashed
 * write); after 2, a pack nothing refers to, which the next open deletes. Copying is paced
 * (COMPACT_RATE) so the fronts keep serving while it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_i.h"

/* A pack whose live bytes fall below this share of its size is compacted. */
#define COMPACT_LIVE_PERCENT 50
/* Bytes copied per second at most, so compaction never starves the fronts of disk. */
#define COMPACT_RATE (64ull << 20)

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The object records of old_pack's log whose objects are still stored, for the new log. */
typedef struct relog {
    store_t *store;
    const uint8_t *log;
    buf_t out;
    int rc;
} relog_t;

static int relog_record(void *arg, int type, const uint8_t *payload, size_t len, uint64_t offset)
{
    relog_t *r = arg;
    if (type != PACKLOG_OBJECT)
        return 0;
    store_packlog_object_t o;
    if (store_packlog_decode_object(payload, len, &o) != 0 || store_index_key_exists(r->store->index, o.key) != 1)
        return 0;
    r->rc = buf_append(&r->out, r->log + offset, len + PACKLOG_RECORD_OVERHEAD);
    return r->rc;
}

/* Deletes pack id and its log, with its writer's lock (lock) held, if the index names nothing
 * in it and no reader here points into it. The index is asked last, under the lock: a writer
 * (of this process or another) may have adopted the pack since it was found dead, and what it
 * wrote there is live. */
static bool pack_delete_locked(store_t *s, uint32_t id, int lock)
{
    (void)lock;
    uint64_t end = 0;
    if (atomic_load(&s->pins[id]) > 0 || store_index_pack_end(s->index, id, &end) != 0 || end != 0)
        return false;
    uint64_t size = 0;
    store_pack_size(s->packs, id, &size);
    store_pack_forget(s->packs, id);
    int rc = store_pack_remove(s->packs, id);
    if (rc == 0) {
        atomic_fetch_add(&s->deleted_pack_bytes, size);
        LOG_I("pack %08u deleted: nothing in it is used any more", id);
    }
    return rc == 0;
}

/* The same, taking the lock first: false when a writer holds the pack (it is not dead then). A
 * pack already gone counts as deleted. */
static bool pack_delete(store_t *s, uint32_t id)
{
    if (atomic_load(&s->pins[id]) > 0)
        return false;
    int lock = store_pack_trylock(s->packs, id);
    if (lock < 0)
        return lock == -ENOENT;
    bool deleted = pack_delete_locked(s, id, lock);
    close(lock);
    return deleted;
}

static int compact_pack(store_t *s, uint32_t id, store_life_report_t *r)
{
    store_chunk_t *chunks = NULL;
    size_t n = 0;
    buf_t data = BUF_INIT, log = BUF_INIT;
    relog_t rl = {.store = s, .out = BUF_INIT};
    /* The pack's writer lock, held until it is deleted: no writer (here or in another process)
     * may adopt it and append while its chunks are being moved out. One that holds it already
     * makes it not this pass's to compact. */
    int lock = store_pack_trylock(s->packs, id);
    if (lock < 0)
        return 0;
    store_pack_holds_t *holds = calloc(1, sizeof *holds); /* the copies, until the switch commits */
    int rc = holds != NULL ? store_index_pack_chunks(s->index, id, &chunks, &n) : -ENOMEM;
    int64_t start = mono_ns();
    uint64_t copied = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        store_chunk_t *c = &chunks[i];
        buf_reset(&data);
        if ((rc = buf_reserve(&data, c->stored_size)) != 0)
            break;
        rc = store_pack_read(s->packs, id, c->offset, data.base, c->stored_size);
        if (rc == 0 && chunk_checksum(data.base, c->stored_size) != c->xxh3)
            rc = -EIO;
        if (rc != 0) {
            /* a damaged chunk is not carried over: heal it as a read would have */
            LOG_W("compaction of pack %08u: chunk %lld is damaged; dropping it", id, (long long)c->id);
            store_index_chunk_drop(s->index, c, s->drop_hook, s->drop_arg);
            rc = -EAGAIN; /* start this pack over next pass, from the index as it now is */
            break;
        }
        rc = store_pack_append(s->packs, data.base, c, holds, NULL);
        if (r->progress != NULL && (copied >> 22) != ((copied + c->stored_size) >> 22)) { /* every 4 MiB */
            r->copied_bytes += copied + c->stored_size;
            r->progress(r->progress_arg, r);
            r->copied_bytes -= copied + c->stored_size;
        }
        copied += c->stored_size;
        /* pace: COMPACT_RATE bytes per second */
        int64_t due = start + (int64_t)(copied * 1000000000ull / COMPACT_RATE);
        int64_t now = mono_ns();
        if (due > now)
            sleep_ns(due - now);
    }
    if (rc == 0 && store_pack_log_read(s->packs, id, &log) == 0) {
        rl.log = log.base;
        store_packlog_scan(log.base, log.len, relog_record, &rl);
        rc = rl.rc;
        if (rc == 0 && rl.out.len > 0)
            rc = store_pack_log(s->packs, &rl.out, NULL);
    }
    if (rc == 0)
        rc = store_pack_sync(s->packs, NULL);
    if (rc == 0) {
        STORE_FAULT("compact-copied");
        rc = store_index_move_chunks(s->index, id, chunks, n, s->drop_hook, s->drop_arg);
    }
    if (rc == 0) {
        STORE_FAULT("compact-switched");
        r->compacted_packs++;
        r->copied_bytes += copied;
        if (r->progress != NULL)
            r->progress(r->progress_arg, r);
        if (!pack_delete_locked(s, id, lock))
            store_dead_pack_add(s, id); /* a reader here points into it: deleted when it is done */
    }
    close(lock);
    if (holds != NULL)
        store_pack_unhold(s->packs, holds);
    free(holds);
    free(chunks);
    buf_dispose(&data);
    buf_dispose(&log);
    buf_dispose(&rl.out);
    return rc == -EAGAIN ? 0 : rc;
}

typedef struct pack_view {
    uint32_t id;
    uint64_t live, size;
} pack_view_t;

typedef struct pack_views {
    store_t *store;
    pack_view_t *v;
    size_t n, cap;
} pack_views_t;

static int collect_view(void *arg, uint32_t pack, uint64_t live, uint64_t end)
{
    (void)end;
    pack_views_t *pv = arg;
    uint64_t size = 0;
    if (store_pack_size(pv->store->packs, pack, &size) != 0)
        return 0;
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? 2 * pv->cap : 64;
        pack_view_t *more = realloc(pv->v, cap * sizeof *more);
        if (more == NULL)
            return -ENOMEM;
        pv->v = more;
        pv->cap = cap;
    }
    pv->v[pv->n++] = (pack_view_t){pack, live, size};
    return 0;
}

static int by_dead_desc(const void *a, const void *b)
{
    const pack_view_t *x = a, *y = b;
    uint64_t dx = x->size - (x->live < x->size ? x->live : x->size);
    uint64_t dy = y->size - (y->live < y->size ? y->live : y->size);
    return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* Packs with no indexed chunk at all (everything in them evicted or moved): deleted. */
static int delete_empty(store_packs_t *ps, uint32_t id, void *arg)
{
    store_t *s = arg;
    uint64_t end = 0;
    if (store_index_pack_end(s->index, id, &end) == 0 && end == 0 && !store_pack_is_writing(ps, id))
        pack_delete(s, id);
    return 0;
}

int store_collect(store_t *s, bool dry_run, uint64_t target, store_life_report_t *r)
{
    uint64_t chunks = 0, bytes = 0;
    int rc = store_index_gc(s->index, dry_run, &chunks, &bytes);
    if (rc != 0)
        return rc;
    r->gc_chunks += chunks;
    r->gc_bytes += bytes;
    if (dry_run)
        return 0;
    if (chunks > 0)
        STORE_FAULT("gc-committed");
    if (r->progress != NULL)
        r->progress(r->progress_arg, r);
    /* Whole packs first: a deletion copies nothing, so the disk never grows on the way down. */
    if ((rc = store_packs_each(s->packs, delete_empty, s)) != 0)
        return rc;
    pack_views_t pv = {.store = s};
    bool asked_release = false;
    rc = store_index_packs_live(s->index, collect_view, &pv);
    if (rc == 0 && pv.n > 1)
        qsort(pv.v, pv.n, sizeof *pv.v, by_dead_desc);
    for (size_t i = 0; rc == 0 && i < pv.n; i++) {
        pack_view_t *p = &pv.v[i];
        if (store_pack_is_writing(s->packs, p->id) || p->size == 0)
            continue;
        /* A pack an open object points into cannot be deleted until it is closed: copying its
         * chunks now would only add to the disk. The front's map of recent objects is asked
         * once to let go of its handles; what still pins the pack after that is a reader. */
        if (atomic_load(&s->pins[p->id]) > 0 && !asked_release && s->drop_hook != NULL) {
            s->drop_hook(s->drop_arg, NULL);
            asked_release = true;
        }
        if (atomic_load(&s->pins[p->id]) > 0)
            continue;
        bool sparse = p->live * 100 < p->size * COMPACT_LIVE_PERCENT;
        /* Over the target, a pack with a quarter or more dead is worth compacting too, most dead
         * first: copying three bytes to free one, not more (a pack just written, with a few
         * evictions in it, would cost its whole copy for little). */
        bool worth = sparse || (target > 0 && (p->size - (p->live < p->size ? p->live : p->size)) * 4 >= p->size &&
                                store_usage(s) > target);
        /* The copy comes before the old pack goes: a copy that would take the disk past the
         * pass's ceiling (the budget, or the disk as the pass found it if more, plus a segment)
         * waits until eviction has emptied more. */
        if (worth && s->ceiling_bytes > 0 && store_usage(s) + p->live > s->ceiling_bytes)
            worth = false;
        if (worth) {
            LOG_I("compacting pack %08u: %llu live bytes of %llu", p->id, (unsigned long long)p->live,
                  (unsigned long long)p->size);
            rc = compact_pack(s, p->id, r);
        }
    }
    free(pv.v);
    if (rc == 0)
        rc = store_packs_each(s->packs, delete_empty, s);
    return rc;
}

void store_dead_pack_add(store_t *s, uint32_t id)
{
    pthread_mutex_lock(&s->maint_dead_lock);
    if (s->ndead < STORE_DEAD_MAX)
        s->dead[s->ndead++] = id;
    pthread_mutex_unlock(&s->maint_dead_lock);
}

void store_release_dead_packs(store_t *s)
{
    pthread_mutex_lock(&s->maint_dead_lock);
    size_t kept = 0;
    for (size_t i = 0; i < s->ndead; i++)
        if (!pack_delete(s, s->dead[i]))
            s->dead[kept++] = s->dead[i];
    s->ndead = kept;
    pthread_mutex_unlock(&s->maint_dead_lock);
}
