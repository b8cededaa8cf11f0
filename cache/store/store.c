/* SPDX-License-Identifier: MIT */
/*
 * store.c — opening and closing the local store, and what it says about itself as a whole
 * (store.h): the key listing, the counts, the counters that outlive the process.
 *
 * A store directory holds index.db (SQLite, WAL) and packs/. Opening one that is not there is
 * refused when the caller only wants to read (`modfs stat` of a mistyped directory must not
 * create an empty store); otherwise the directory and its parents are made, and the pack bytes a
 * crash left behind (written, never committed) are cut off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_i.h"

static int pack_end_from_index(void *arg, uint32_t pack, uint64_t *end)
{
    return store_index_pack_end(((store_t *)arg)->index, pack, end);
}

int store_open(const char *dir, bool must_exist, store_t **out, cache_err_t *err)
{
    char *index_path = path_join(dir, "index.db");
    char *packs_dir = path_join(dir, "packs");
    store_t *s = calloc(1, sizeof *s);
    int rc = 0;
    if (index_path == NULL || packs_dir == NULL || s == NULL || (s->dir = strdup(dir)) == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = store_check_index_file(dir, index_path, err)) != 0)
        goto out;
    if (must_exist && access(index_path, F_OK) != 0) {
        rc = cache_err_set(err, -ENOENT, "no store in %s (modfs serve, get or warm creates one there)", dir);
        goto out;
    }
    if ((rc = path_mkdirs_at(AT_FDCWD, dir, 0755)) != 0) {
        cache_err_set(err, rc, "create %s: %s", dir, strerror(-rc));
        goto out;
    }
    if ((rc = store_life_init(s)) != 0) {
        cache_err_set(err, rc, "out of memory");
        goto out;
    }
    if ((rc = store_index_open(index_path, &s->index, err)) != 0 ||
        (rc = store_packs_open(packs_dir, pack_end_from_index, s, &s->packs, err)) != 0)
        goto out;
    /* A damaged index is refused with the command that rebuilds it; lost packs are healed now
     * (their objects dropped at once, to be fetched again), not one failed read at a time. */
    if ((rc = store_check(s, !must_exist, err)) != 0)
        goto out;
    store_counters_t life;
    if (store_index_counters_get(s->index, &life) == 0) {
        atomic_store(&s->evictions, life.evictions);
        atomic_store(&s->evicted_bytes, life.evicted_bytes);
        atomic_store(&s->reclaimed_bytes, life.reclaimed_bytes);
        atomic_store(&s->compactions, life.compactions);
    }
    /* What a crash left is cut off now, not when some later write happens to adopt that pack;
     * a reading command leaves the store as it found it. */
    if (!must_exist && (rc = store_packs_reclaim(s->packs, err)) != 0)
        goto out;
    /* The first maintenance pass collects: a crash may have left chunks no object uses (between
     * an eviction and its gc) or packs nothing refers to (between a compaction and its delete). */
    atomic_store(&s->garbage, !must_exist);
out:
    free(index_path);
    free(packs_dir);
    if (rc != 0) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void store_close(store_t *s)
{
    if (s == NULL)
        return;
    if (s->life_ready && s->index != NULL) {
        store_flush_uses(s); /* the last uses, and the handles the list held */
        store_release_dead_packs(s);
    }
    store_packs_close(s->packs);
    store_index_close(s->index);
    store_life_dispose(s);
    free(s->dir);
    free(s);
}

void store_set_drop_hook(store_t *s, store_drop_fn fn, void *arg)
{
    s->drop_hook = fn;
    s->drop_arg = arg;
}

int store_object_open(store_t *s, const modkey_t *key, store_object_t **out)
{
    store_row_t row;
    int rc = store_index_object_get(s->index, key->escaped, &row);
    if (rc != 0)
        return rc;
    row.info.immutable = key->immutable; /* a property of the name, not of the row */
    rc = store_object_build(s, key->escaped, &row, NULL, out);
    store_row_dispose(&row);
    return rc == -EIO ? -ENOENT : rc; /* a corrupt chunk was dropped: as good as absent */
}

int store_keys_visit(store_t *s, const char *prefix, store_key_visit_fn visit, void *arg)
{
    return store_index_keys_visit(s->index, prefix ? prefix : "", visit, arg);
}

int store_keys_generation(store_t *s, uint64_t *gen)
{
    return store_index_generation(s->index, gen);
}

static uint64_t file_bytes(const char *dir, const char *name)
{
    char *p = path_join(dir, name);
    struct stat st;
    uint64_t n = p && stat(p, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
    free(p);
    return n;
}

int store_stats_get(store_t *s, store_stats_t *st)
{
    memset(st, 0, sizeof *st);
    int rc = store_index_stats(s->index, st);
    if (rc != 0)
        return rc;
    st->disk_bytes = store_packs_disk_bytes(s->packs) + file_bytes(s->dir, "index.db") +
                     file_bytes(s->dir, "index.db-wal");
    return 0;
}

void store_commit_figures(store_t *s, uint64_t *commits, uint64_t *objects)
{
    store_index_group_figures(s->index, commits, objects);
}

int store_counters_add(store_t *s, const store_counters_t *delta)
{
    return store_index_counters_add(s->index, delta);
}

int store_counters_get(store_t *s, store_counters_t *out)
{
    return store_index_counters_get(s->index, out);
}

int store_gc_dry_run(store_t *s, store_life_report_t *r)
{
    r->usage_before = r->usage_after = store_usage(s);
    return store_collect(s, true, 0, r);
}

typedef struct live_sum {
    store_t *store;
    uint64_t live, packs;
} live_sum_t;

static int add_live(void *arg, uint32_t pack, uint64_t live, uint64_t end)
{
    (void)end;
    live_sum_t *l = arg;
    uint64_t size = 0;
    l->live += live;
    if (store_pack_size(l->store->packs, pack, &size) == 0)
        l->packs += size;
    return 0;
}

void store_life_stats(store_t *s, store_life_stats_t *st)
{
    memset(st, 0, sizeof *st);
    st->max_bytes = s->max_bytes;
    st->usage = store_usage(s);
    live_sum_t l = {.store = s};
    store_index_packs_live(s->index, add_live, &l);
    st->live_bytes = l.live;
    st->pack_bytes = l.packs;
    st->evictions = atomic_load(&s->evictions);
    st->evicted_bytes = atomic_load(&s->evicted_bytes);
    st->reclaimed_bytes = atomic_load(&s->reclaimed_bytes);
    st->compactions = atomic_load(&s->compactions);
}
