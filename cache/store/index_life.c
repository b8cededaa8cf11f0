/* SPDX-License-Identifier: MIT */
/*
 * index_life.c — the index side of a store that lives for years (index_i.h): the eviction
 * policy's state, flushing uses, applying a policy pass, garbage collection of unreferenced
 * chunks, and switching chunks to the pack they were compacted into.
 *
 * Every change here is one transaction: a policy pass deletes its victims and moves the others
 * between queues at once; a compaction switch moves every chunk of a pack and rewrites every
 * layout naming one at once, so no object ever points half into the old pack and half into the
 * new. The switch scans every layout (a layout is one BLOB: see index.c); compaction is rare and
 * runs in the background.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index_i.h"

int store_index_candidates(store_index_t *ix, store_candidate_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = NULL;
    int ret = 0, rc = SQLITE_DONE;
    size_t cap = 0;
    store_candidate_t *v = NULL;
    if (sqlite3_prepare_v2(c->db, "SELECT key, queue, freq, seq, layout FROM objects ORDER BY seq", -1, &s, NULL) !=
        SQLITE_OK)
        ret = -EIO;
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? 2 * cap : 256;
            store_candidate_t *more = realloc(v, cap * sizeof *more);
            if (more == NULL) {
                ret = -ENOMEM;
                break;
            }
            v = more;
        }
        store_candidate_t *e = &v[*count];
        memset(e, 0, sizeof *e);
        e->key = strdup((const char *)sqlite3_column_text(s, 0));
        e->queue = sqlite3_column_int(s, 1);
        e->freq = sqlite3_column_int(s, 2);
        e->seq = sqlite3_column_int64(s, 3);
        const uint8_t *p = sqlite3_column_blob(s, 4);
        size_t n = (size_t)sqlite3_column_bytes(s, 4) / LAYOUT_RECORD;
        for (size_t i = 0; i < n; i++)
            e->charge += le_get(p + i * LAYOUT_RECORD + 28, 4); /* stored_size */
        if (e->key == NULL) {
            ret = -ENOMEM;
            break;
        }
        (*count)++;
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = ix_errno(rc);
    sqlite3_finalize(s);
    ix_reader_give(ix, c);
    *out = v;
    if (ret != 0) {
        store_candidates_free(v, *count);
        *out = NULL;
        *count = 0;
    }
    return ret;
}

void store_candidates_free(store_candidate_t *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i].key);
    free(v);
}

int store_index_policy_apply(store_index_t *ix, const store_candidate_t *v, size_t n, store_drop_fn dropped,
                             void *arg)
{
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    sqlite3_stmt *upd = NULL;
    int ret = ix_exec(w, "BEGIN IMMEDIATE");
    if (ret == 0 && sqlite3_prepare_v2(w->db, "UPDATE objects SET queue = ?2, freq = ?3, seq = ?4 WHERE key = ?1",
                                       -1, &upd, NULL) != SQLITE_OK)
        ret = -EIO;
    for (size_t i = 0; ret == 0 && i < n; i++) {
        if (v[i].evict) {
            ret = ix_object_delete(w, v[i].key);
        } else if (v[i].changed) {
            sqlite3_bind_text(upd, 1, v[i].key, -1, SQLITE_STATIC);
            sqlite3_bind_int(upd, 2, v[i].queue);
            sqlite3_bind_int(upd, 3, v[i].freq);
            sqlite3_bind_int64(upd, 4, v[i].seq);
            ret = ix_step_done(upd);
        }
    }
    sqlite3_finalize(upd);
    if (ret == 0)
        STORE_FAULT("evict-before-commit");
    if (ix_exec(w, ret == 0 ? "COMMIT" : "ROLLBACK") != 0 && ret == 0)
        ret = -EIO;
    pthread_mutex_unlock(&ix->write_lock);
    for (size_t i = 0; ret == 0 && dropped != NULL && i < n; i++)
        if (v[i].evict)
            dropped(arg, v[i].key);
    return ret;
}

int store_index_uses_add(store_index_t *ix, const char *const *keys, const unsigned *uses, size_t n)
{
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    sqlite3_stmt *upd = NULL;
    int ret = ix_figures_begin(w);
    if (ret == 0 && sqlite3_prepare_v2(w->db, "UPDATE objects SET freq = MIN(3, freq + ?2) WHERE key = ?1", -1,
                                       &upd, NULL) != SQLITE_OK)
        ret = -EIO;
    for (size_t i = 0; ret == 0 && i < n; i++) {
        sqlite3_bind_text(upd, 1, keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(upd, 2, (int)(uses[i] > 3 ? 3 : uses[i]));
        ret = ix_step_done(upd);
    }
    sqlite3_finalize(upd);
    if (ix_figures_end(w, ret == 0) != 0 && ret == 0)
        ret = -EIO;
    pthread_mutex_unlock(&ix->write_lock);
    return ret;
}

int store_index_gc(store_index_t *ix, bool dry_run, uint64_t *chunks, uint64_t *bytes)
{
    *chunks = *bytes = 0;
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    sqlite3_stmt *q = NULL;
    int ret = ix_exec(w, "BEGIN IMMEDIATE");
    if (ret == 0 && sqlite3_prepare_v2(w->db, "SELECT COUNT(*), COALESCE(SUM(stored_size), 0) FROM chunks WHERE refs <= 0",
                                       -1, &q, NULL) != SQLITE_OK)
        ret = -EIO;
    if (ret == 0 && sqlite3_step(q) == SQLITE_ROW) {
        *chunks = (uint64_t)sqlite3_column_int64(q, 0);
        *bytes = (uint64_t)sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    if (ret == 0 && !dry_run && *chunks > 0)
        ret = ix_exec(w, "DELETE FROM chunks WHERE refs <= 0");
    if (ix_exec(w, ret == 0 && !dry_run ? "COMMIT" : "ROLLBACK") != 0 && ret == 0)
        ret = -EIO;
    pthread_mutex_unlock(&ix->write_lock);
    return ret;
}

int store_index_packs_live(store_index_t *ix, int (*visit)(void *arg, uint32_t pack, uint64_t live, uint64_t end),
                           void *arg)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = NULL;
    buf_t rows = BUF_INIT; /* (pack, live, end) triples, so visit may write to the index */
    int ret = 0, rc = SQLITE_DONE;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT pack, SUM(stored_size), MAX(offset + stored_size) FROM chunks GROUP BY pack", -1,
                           &s, NULL) != SQLITE_OK)
        ret = -EIO;
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint8_t r[20];
        le_put(r, (uint64_t)sqlite3_column_int64(s, 0), 4);
        le_put(r + 4, (uint64_t)sqlite3_column_int64(s, 1), 8);
        le_put(r + 12, (uint64_t)sqlite3_column_int64(s, 2), 8);
        ret = buf_append(&rows, r, sizeof r);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = ix_errno(rc);
    sqlite3_finalize(s);
    ix_reader_give(ix, c);
    for (size_t off = 0; ret == 0 && off < rows.len; off += 20)
        ret = visit(arg, (uint32_t)le_get(rows.base + off, 4), le_get(rows.base + off + 4, 8),
                    le_get(rows.base + off + 12, 8));
    buf_dispose(&rows);
    return ret;
}

int store_index_pack_chunks(store_index_t *ix, uint32_t pack, store_chunk_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = NULL;
    int ret = 0, rc = SQLITE_DONE;
    size_t cap = 0;
    store_chunk_t *v = NULL;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT id, pack, offset, stored_size, raw_size, codec, xxh3, hash FROM chunks "
                           "WHERE pack = ?1 ORDER BY offset",
                           -1, &s, NULL) != SQLITE_OK)
        ret = -EIO;
    else
        sqlite3_bind_int64(s, 1, pack);
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? 2 * cap : 256;
            store_chunk_t *more = realloc(v, cap * sizeof *more);
            if (more == NULL) {
                ret = -ENOMEM;
                break;
            }
            v = more;
        }
        store_chunk_t *e = &v[(*count)++];
        e->id = sqlite3_column_int64(s, 0);
        e->pack = (uint32_t)sqlite3_column_int64(s, 1);
        e->offset = (uint64_t)sqlite3_column_int64(s, 2);
        e->stored_size = (uint32_t)sqlite3_column_int64(s, 3);
        e->raw_size = (uint32_t)sqlite3_column_int64(s, 4);
        e->codec = (uint8_t)sqlite3_column_int(s, 5);
        e->xxh3 = (uint64_t)sqlite3_column_int64(s, 6);
        if (sqlite3_column_bytes(s, 7) == 32)
            memcpy(e->hash, sqlite3_column_blob(s, 7), 32);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = ix_errno(rc);
    sqlite3_finalize(s);
    ix_reader_give(ix, c);
    if (ret != 0) {
        free(v);
        *count = 0;
        v = NULL;
    }
    *out = v;
    return ret;
}

/* A moved chunk by its id, for rewriting layouts. */
typedef struct moved_entry {
    htab_link_t link;
    const store_chunk_t *c;
} moved_entry_t;

static bool moved_eq(const htab_link_t *l, const void *key)
{
    return ((const moved_entry_t *)l)->c->id == *(const int64_t *)key;
}

int store_index_move_chunks(store_index_t *ix, uint32_t old_pack, const store_chunk_t *moved, size_t n,
                            store_drop_fn rewritten, void *arg)
{
    htab_t by_id;
    moved_entry_t *entries = calloc(n ? n : 1, sizeof *entries);
    if (entries == NULL || htab_init(&by_id, n) != 0) {
        free(entries);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        entries[i].c = &moved[i];
        htab_insert(&by_id, &entries[i].link, (uint64_t)moved[i].id * 0x9e3779b97f4a7c15ull);
    }
    buf_t keys = BUF_INIT; /* objects whose layout changed, NUL-separated */
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    sqlite3_stmt *mv = NULL, *scan = NULL, *upd = NULL;
    int ret = ix_exec(w, "BEGIN IMMEDIATE");
    if (ret == 0 && (sqlite3_prepare_v2(w->db, "UPDATE chunks SET pack = ?2, offset = ?3 WHERE id = ?1", -1, &mv,
                                        NULL) != SQLITE_OK ||
                     sqlite3_prepare_v2(w->db, "SELECT key, layout FROM objects", -1, &scan, NULL) != SQLITE_OK ||
                     sqlite3_prepare_v2(w->db, "UPDATE objects SET layout = ?2 WHERE key = ?1", -1, &upd, NULL) !=
                         SQLITE_OK))
        ret = -EIO;
    for (size_t i = 0; ret == 0 && i < n; i++) {
        sqlite3_bind_int64(mv, 1, moved[i].id);
        sqlite3_bind_int64(mv, 2, moved[i].pack);
        sqlite3_bind_int64(mv, 3, (sqlite3_int64)moved[i].offset);
        ret = ix_step_done(mv);
    }
    /* Rewrites are collected first and applied after the scan: updating a table under a running
     * SELECT of it is not something to lean on. */
    buf_t layouts = BUF_INIT; /* u32 key length, key, u32 layout length, layout ... */
    while (ret == 0 && sqlite3_step(scan) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(scan, 1);
        size_t len = (size_t)sqlite3_column_bytes(scan, 1), nrec = len / LAYOUT_RECORD;
        bool touched = false;
        for (size_t i = 0; i < nrec && !touched; i++)
            touched = le_get(p + i * LAYOUT_RECORD + 24, 4) == old_pack;
        if (!touched)
            continue;
        uint8_t *copy = malloc(len ? len : 1);
        if (copy == NULL) {
            ret = -ENOMEM;
            break;
        }
        memcpy(copy, p, len);
        for (size_t i = 0; i < nrec; i++) {
            uint8_t *r = copy + i * LAYOUT_RECORD;
            if (le_get(r + 24, 4) != old_pack)
                continue;
            int64_t id = (int64_t)le_get(r, 8);
            moved_entry_t *e =
                (moved_entry_t *)htab_find(&by_id, (uint64_t)id * 0x9e3779b97f4a7c15ull, moved_eq, &id);
            if (e == NULL) {
                ret = -ESTALE; /* a chunk of the pack that was not moved: refuse to switch */
                break;
            }
            ix_layout_record(r, e->c);
        }
        const char *k = (const char *)sqlite3_column_text(scan, 0);
        uint8_t hdr[4];
        size_t klen = strlen(k);
        le_put(hdr, klen, 4);
        if (ret == 0 && (buf_append(&layouts, hdr, 4) || buf_append(&layouts, k, klen) ||
                         (le_put(hdr, len, 4), buf_append(&layouts, hdr, 4)) || buf_append(&layouts, copy, len) ||
                         buf_append(&keys, k, klen + 1)))
            ret = -ENOMEM;
        free(copy);
    }
    for (size_t off = 0; ret == 0 && off < layouts.len;) {
        size_t klen = (size_t)le_get(layouts.base + off, 4);
        const char *k = (const char *)layouts.base + off + 4;
        size_t llen = (size_t)le_get(layouts.base + off + 4 + klen, 4);
        const uint8_t *l = layouts.base + off + 8 + klen;
        sqlite3_bind_text(upd, 1, k, (int)klen, SQLITE_STATIC);
        sqlite3_bind_blob(upd, 2, l, (int)llen, SQLITE_STATIC);
        ret = ix_step_done(upd);
        off += 8 + klen + llen;
    }
    buf_dispose(&layouts);
    sqlite3_finalize(mv);
    sqlite3_finalize(scan);
    sqlite3_finalize(upd);
    if (ix_exec(w, ret == 0 ? "COMMIT" : "ROLLBACK") != 0 && ret == 0)
        ret = -EIO;
    pthread_mutex_unlock(&ix->write_lock);
    for (size_t off = 0; ret == 0 && rewritten != NULL && off < keys.len; off += strlen((char *)keys.base + off) + 1)
        rewritten(arg, (const char *)keys.base + off);
    buf_dispose(&keys);
    htab_dispose(&by_id);
    free(entries);
    return ret;
}

int store_index_key_exists(store_index_t *ix, const char *key)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = ix_stmt(c, ST_LAYOUT_GET);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    ix_reader_give(ix, c);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : ix_errno(rc);
}

int store_index_chunks_visit(store_index_t *ix, int (*visit)(void *arg, const store_chunk_t *c), void *arg,
                             uint64_t *total)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = NULL;
    int ret = 0, rc = SQLITE_DONE;
    *total = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT COUNT(*) FROM chunks", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        *total = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(c->db,
                           "SELECT id, pack, offset, stored_size, raw_size, codec, xxh3, hash FROM chunks "
                           "ORDER BY pack, offset",
                           -1, &s, NULL) != SQLITE_OK)
        ret = -EIO;
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        store_chunk_t e = {0};
        e.id = sqlite3_column_int64(s, 0);
        e.pack = (uint32_t)sqlite3_column_int64(s, 1);
        e.offset = (uint64_t)sqlite3_column_int64(s, 2);
        e.stored_size = (uint32_t)sqlite3_column_int64(s, 3);
        e.raw_size = (uint32_t)sqlite3_column_int64(s, 4);
        e.codec = (uint8_t)sqlite3_column_int(s, 5);
        e.xxh3 = (uint64_t)sqlite3_column_int64(s, 6);
        if (sqlite3_column_bytes(s, 7) == 32)
            memcpy(e.hash, sqlite3_column_blob(s, 7), 32);
        ret = visit(arg, &e);
    }
    if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = ix_errno(rc);
    sqlite3_finalize(s);
    ix_reader_give(ix, c);
    return ret;
}
