/* SPDX-License-Identifier: MIT */
/*
 * tile.c — tiles of the log (golang.org/x/mod/sumdb/tlog/tile.go): where a stored hash sits in
 * them, and the reader that proves hashes out of tiles against a signed tree head. (Their paths
 * are names a client sends, so they are Go rules of gomod: gomod/sumdbpath.c.)
 *
 * A tile of height h holds 2^h hashes of one level band; a tile at level L+1 holds, for each full
 * tile below it, the hash of that tile. So one signed tree hash authenticates the top tiles, and
 * each top tile every tile under it: the reader fetches the chain of tiles from the wanted hash up
 * to a tile already tied to the tree head, checks each link, and hands out nothing before all of
 * them held. Tile lists are tiny (about 8 per hash wanted), so they are plain arrays searched
 * linearly rather than Go's map.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumdb_i.h"

sumdb_tile_t sumdb_tile_for_index(int h, int64_t index, size_t *start, size_t *end)
{
    int level;
    int64_t n;
    sumdb_stored_split(index, &level, &n);
    sumdb_tile_t t = {.h = h};
    t.l = level / h;
    level -= t.l * h;
    t.n = (n << level) >> h;
    n -= (t.n << h) >> level;
    t.w = (int)((n + 1) << level);
    if (start)
        *start = (size_t)(n << level) * SUMDB_HASH_SIZE;
    if (end)
        *end = (size_t)((n + 1) << level) * SUMDB_HASH_SIZE;
    return t;
}

/* tileHash: the Merkle hash of a run of hashes whose count is a power of two. */
static void tile_hash(const uint8_t *data, size_t len, sumdb_hash_t *out)
{
    if (len == SUMDB_HASH_SIZE) {
        memcpy(out->b, data, SUMDB_HASH_SIZE);
        return;
    }
    sumdb_hash_t l, r;
    size_t half = len / 2;
    tile_hash(data, half, &l);
    tile_hash(data + half, half, &r);
    sumdb_hash_node(&l, &r, out);
}

int sumdb_tile_hash_at(const sumdb_tile_t *t, const uint8_t *data, size_t len, int64_t index, sumdb_hash_t *out,
                       cache_err_t *err)
{
    if (!sumdb_tile_valid(t) || t->l < 0 || index < 0)
        return cache_err_set(err, -EINVAL, "invalid tile or index");
    if (len < (size_t)t->w * SUMDB_HASH_SIZE)
        return cache_err_set(err, -EPROTO, "data length %zu too short for a tile of width %d", len, t->w);
    size_t start, end;
    sumdb_tile_t t1 = sumdb_tile_for_index(t->h, index, &start, &end);
    if (t->l != t1.l || t->n != t1.n || t->w < t1.w)
        return cache_err_set(err, -EPROTO, "index %lld is not in the tile", (long long)index);
    tile_hash(data + start, end - start, out);
    return 0;
}

/* tileParent: the tile k levels up holding t's hashes, cut to the tree of n records; h = 0 when
 * it lies wholly beyond the tree. */
static sumdb_tile_t tile_parent(sumdb_tile_t t, int k, int64_t n)
{
    sumdb_tile_t none = {0};
    t.l += k;
    if (t.l * t.h >= 63)
        return none;
    t.n >>= k * t.h;
    t.w = 1 << t.h;
    int64_t max = n >> (t.l * t.h);
    if ((t.n << t.h) + t.w >= max) {
        if ((t.n << t.h) >= max)
            return none;
        t.w = (int)(max - (t.n << t.h));
    }
    return t;
}

static bool tile_eq(const sumdb_tile_t *a, const sumdb_tile_t *b)
{
    return a->h == b->h && a->l == b->l && a->n == b->n && a->w == b->w;
}

typedef struct tile_set {
    sumdb_tile_t *t;
    size_t len, cap;
} tile_set_t;

static ssize_t tile_find(const tile_set_t *s, const sumdb_tile_t *t)
{
    for (size_t i = 0; i < s->len; i++)
        if (tile_eq(&s->t[i], t))
            return (ssize_t)i;
    return -1;
}

static ssize_t tile_add(tile_set_t *s, const sumdb_tile_t *t)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        sumdb_tile_t *v = realloc(s->t, cap * sizeof *v);
        if (v == NULL)
            return -1;
        s->t = v;
        s->cap = cap;
    }
    s->t[s->len] = *t;
    return (ssize_t)s->len++;
}

int sumdb_tile_read_hashes(const sumdb_tree_t *tree, const sumdb_tile_source_t *src, const int64_t *indexes,
                           size_t n, sumdb_hash_t *out, cache_err_t *err)
{
    int h = src->height;
    if (h < 1 || h > 30 || tree->n < 1 || tree->n > SUMDB_TREE_MAX)
        return cache_err_set(err, -EINVAL, "tile reader: no hashes in a tree of size %lld", (long long)tree->n);
    int rc = 0;
    tile_set_t tiles = {0};
    size_t *order = NULL;
    buf_t *data = NULL;
    bool *cached = NULL;
    int64_t stx[64];
    size_t nstx = 0;
    size_t stx_order[64];

    /* The tiles holding the tree's top-level subtree hashes come first: they are checked against
     * the signed tree hash itself. */
    for (int64_t lo = 0, hi = tree->n; lo < hi;) {
        int level = 0;
        while (level < 62 && ((int64_t)1 << (level + 1)) < hi - lo + 1)
            level++;
        int64_t k = (int64_t)1 << level;
        stx[nstx] = sumdb_stored_index(level, lo >> level);
        sumdb_tile_t t = tile_parent(sumdb_tile_for_index(h, stx[nstx], NULL, NULL), 0, tree->n);
        if (t.h == 0) {
            rc = cache_err_set(err, -EPROTO, "tile reader: bad math at tree size %lld", (long long)tree->n);
            goto out;
        }
        ssize_t j = tile_find(&tiles, &t);
        if (j < 0 && (j = tile_add(&tiles, &t)) < 0) {
            rc = cache_err_set(err, -ENOMEM, "tile reader: out of memory");
            goto out;
        }
        stx_order[nstx++] = (size_t)j;
        lo += k;
    }

    /* The stx tiles are tiles[0, nstx_tiles): fewer than stx entries when two subtrees share a
     * tile. Go's tileHashReader starts checking parents at len(stx), so the tiles just after the
     * stx tiles go unchecked when such sharing happens (x/mod v0.x as packaged); here every tile
     * past the stx tiles is checked. */
    size_t nstx_tiles = tiles.len;

    /* Then, for each hash wanted, its tile and the chain of full parents up to a known tile. */
    order = calloc(n ? n : 1, sizeof *order);
    if (order == NULL) {
        rc = cache_err_set(err, -ENOMEM, "tile reader: out of memory");
        goto out;
    }
    int64_t limit = sumdb_stored_index(0, tree->n);
    for (size_t i = 0; i < n; i++) {
        if (indexes[i] < 0 || indexes[i] >= limit) {
            rc = cache_err_set(err, -EINVAL, "tile reader: hash %lld is not in a tree of size %lld",
                               (long long)indexes[i], (long long)tree->n);
            goto out;
        }
        sumdb_tile_t tile = sumdb_tile_for_index(h, indexes[i], NULL, NULL);
        int k = 0;
        for (;; k++) {
            sumdb_tile_t p = tile_parent(tile, k, tree->n);
            if (p.h == 0) {
                rc = cache_err_set(err, -EPROTO, "tile reader: lost the parent of a tile");
                goto out;
            }
            ssize_t j = tile_find(&tiles, &p);
            if (j >= 0) {
                if (k == 0)
                    order[i] = (size_t)j;
                break;
            }
        }
        for (k--; k >= 0; k--) {
            sumdb_tile_t p = tile_parent(tile, k, tree->n);
            if (p.w != (1 << p.h)) {
                rc = cache_err_set(err, -EPROTO, "tile reader: bad math at tree size %lld", (long long)tree->n);
                goto out;
            }
            ssize_t j = tile_add(&tiles, &p);
            if (j < 0) {
                rc = cache_err_set(err, -ENOMEM, "tile reader: out of memory");
                goto out;
            }
            if (k == 0)
                order[i] = (size_t)j;
        }
    }

    data = calloc(tiles.len, sizeof *data);
    cached = calloc(tiles.len, sizeof *cached);
    if (data == NULL || cached == NULL) {
        rc = cache_err_set(err, -ENOMEM, "tile reader: out of memory");
        goto out;
    }
    rc = src->read(src->ctx, tiles.t, tiles.len, data, cached, err);
    if (rc != 0)
        goto out;
    for (size_t i = 0; i < tiles.len; i++) {
        if (data[i].len != (size_t)tiles.t[i].w * SUMDB_HASH_SIZE) {
            char path[SUMDB_TILE_PATH_MAX + 1];
            if (sumdb_tile_path(&tiles.t[i], path, sizeof path) < 0)
                path[0] = '\0';
            rc = cache_err_set(err, -EPROTO, "tile %s has %zu bytes, not %zu", path, data[i].len,
                               (size_t)tiles.t[i].w * SUMDB_HASH_SIZE);
            goto out;
        }
    }

    /* The top-level hashes must hash up to the signed tree hash... */
    sumdb_hash_t th, x;
    size_t j = stx_order[nstx - 1];
    rc = sumdb_tile_hash_at(&tiles.t[j], data[j].base, data[j].len, stx[nstx - 1], &th, err);
    for (size_t i = nstx - 1; rc == 0 && i-- > 0;) {
        j = stx_order[i];
        rc = sumdb_tile_hash_at(&tiles.t[j], data[j].base, data[j].len, stx[i], &x, err);
        if (rc == 0)
            sumdb_hash_node(&x, &th, &th);
    }
    if (rc != 0)
        goto out;
    if (memcmp(th.b, tree->hash.b, SUMDB_HASH_SIZE) != 0) {
        rc = cache_err_set(err, -EPROTO, "downloaded inconsistent tile (the top tiles do not hash to the "
                                         "signed tree of size %lld)", (long long)tree->n);
        goto out;
    }
    /* ...and every other tile must hash to its entry in its parent. */
    for (size_t i = nstx_tiles; i < tiles.len; i++) {
        sumdb_tile_t p = tile_parent(tiles.t[i], 1, tree->n);
        ssize_t pj = p.h ? tile_find(&tiles, &p) : -1;
        if (pj < 0) {
            rc = cache_err_set(err, -EPROTO, "tile reader: lost the parent of a tile");
            goto out;
        }
        sumdb_hash_t want, got;
        rc = sumdb_tile_hash_at(&p, data[pj].base, data[pj].len, sumdb_stored_index(p.l * p.h, tiles.t[i].n),
                                &want, err);
        if (rc != 0)
            goto out;
        tile_hash(data[i].base, data[i].len, &got);
        if (memcmp(want.b, got.b, SUMDB_HASH_SIZE) != 0) {
            rc = cache_err_set(err, -EPROTO, "downloaded inconsistent tile (level %d tile %lld does not "
                                             "hash to its parent's entry)", tiles.t[i].l, (long long)tiles.t[i].n);
            goto out;
        }
    }

    if (src->save)
        src->save(src->ctx, tiles.t, tiles.len, data, cached);

    for (size_t i = 0; i < n; i++) {
        j = order[i];
        rc = sumdb_tile_hash_at(&tiles.t[j], data[j].base, data[j].len, indexes[i], &out[i], err);
        if (rc != 0)
            goto out;
    }
out:
    if (data)
        for (size_t i = 0; i < tiles.len; i++)
            buf_dispose(&data[i]);
    free(data);
    free(cached);
    free(order);
    free(tiles.t);
    return rc;
}
