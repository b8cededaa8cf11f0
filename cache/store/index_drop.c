/* SPDX-License-Identifier: MIT */
/*
 * index_drop.c — forgetting objects in the index (index_i.h): one object at a time (replaced or
 * evicted), every object using a damaged chunk, every object using the lost bytes of a pack.
 *
 * An object holds a reference on each chunk its layout names (chunks.refs): removing it releases
 * them, and a chunk with no reference left is garbage for gc (index_life.c). Which objects use a
 * given chunk is a scan of the layouts (the price of keeping a layout as one BLOB: see index.c);
 * it runs only when bytes are found lost or damaged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index_i.h"

int ix_object_delete(conn_t *w, const char *key)
{
    sqlite3_stmt *get = ix_stmt(w, ST_LAYOUT_GET);
    sqlite3_bind_text(get, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(get);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(get);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(get);
        return ix_errno(rc);
    }
    store_row_t row = {0};
    int ret = ix_layout_decode(sqlite3_column_blob(get, 0), (size_t)sqlite3_column_bytes(get, 0), &row);
    sqlite3_reset(get);
    for (size_t i = 0; ret == 0 && i < row.nchunks; i++) {
        sqlite3_stmt *s = ix_stmt(w, ST_CHUNK_REF_ADD);
        sqlite3_bind_int64(s, 1, row.chunks[i].id);
        sqlite3_bind_int64(s, 2, -1);
        ret = ix_step_done(s);
    }
    store_row_dispose(&row);
    sqlite3_stmt *s = ix_stmt(w, ST_OBJECT_DEL);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (ret == 0)
        ret = ix_step_done(s);
    s = ix_stmt(w, ST_MEMBERS_DEL);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (ret == 0)
        ret = ix_step_done(s);
    return ret;
}

/* What a drop looks for in each layout record: a chunk id, or bytes of a pack at or past an
 * offset. */
typedef struct drop_match {
    int64_t chunk_id; /* > 0: this chunk */
    uint32_t pack;
    uint64_t from;
} drop_match_t;

static bool record_matches(const uint8_t *r, const drop_match_t *m)
{
    if (m->chunk_id > 0)
        return (int64_t)le_get(r, 8) == m->chunk_id;
    return le_get(r + 24, 4) == m->pack && le_get(r + 8, 8) + le_get(r + 28, 4) > m->from;
}

/* Appends to doomed (NUL-separated) the key of every object with a layout record that matches. */
static int objects_matching(conn_t *w, const drop_match_t *m, buf_t *doomed)
{
    sqlite3_stmt *scan = NULL;
    if (sqlite3_prepare_v2(w->db, "SELECT key, layout FROM objects", -1, &scan, NULL) != SQLITE_OK)
        return -EIO;
    int ret = 0;
    while (ret == 0 && sqlite3_step(scan) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(scan, 1);
        size_t n = (size_t)sqlite3_column_bytes(scan, 1) / LAYOUT_RECORD;
        for (size_t i = 0; i < n; i++) {
            if (record_matches(p + i * LAYOUT_RECORD, m)) {
                const char *k = (const char *)sqlite3_column_text(scan, 0);
                ret = buf_append(doomed, k, strlen(k) + 1);
                break;
            }
        }
    }
    sqlite3_finalize(scan);
    return ret;
}

/* Drops every object matching m and the matching chunks themselves, in one transaction; then
 * calls dropped for each key. Returns 0 or -errno; *count gets the objects dropped. */
static int drop_matching(store_index_t *ix, const drop_match_t *m, store_drop_fn dropped, void *arg, size_t *count)
{
    buf_t doomed = BUF_INIT; /* NUL-separated keys */
    *count = 0;
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    int ret = ix_exec(w, "BEGIN IMMEDIATE");
    if (ret != 0)
        goto out;
    ret = objects_matching(w, m, &doomed);
    for (size_t off = 0; ret == 0 && off < doomed.len; off += strlen((char *)doomed.base + off) + 1)
        ret = ix_object_delete(w, (const char *)doomed.base + off);
    sqlite3_stmt *del = NULL;
    const char *sql = m->chunk_id > 0 ? "DELETE FROM chunks WHERE id = ?1"
                                      : "DELETE FROM chunks WHERE pack = ?2 AND offset + stored_size > ?3";
    if (ret == 0 && sqlite3_prepare_v2(w->db, sql, -1, &del, NULL) != SQLITE_OK)
        ret = -EIO;
    if (ret == 0) {
        if (m->chunk_id > 0) {
            sqlite3_bind_int64(del, 1, m->chunk_id);
        } else {
            sqlite3_bind_int64(del, 2, m->pack);
            sqlite3_bind_int64(del, 3, (sqlite3_int64)m->from);
        }
        ret = ix_step_done(del);
    }
    sqlite3_finalize(del);
    if (ix_exec(w, ret == 0 ? "COMMIT" : "ROLLBACK") != 0 && ret == 0)
        ret = -EIO;
out:
    pthread_mutex_unlock(&ix->write_lock);
    for (size_t off = 0; ret == 0 && off < doomed.len; off += strlen((char *)doomed.base + off) + 1, (*count)++)
        if (dropped != NULL)
            dropped(arg, (const char *)doomed.base + off);
    buf_dispose(&doomed);
    return ret;
}

int store_index_chunk_drop(store_index_t *ix, int64_t chunk_id, store_drop_fn dropped, void *arg)
{
    drop_match_t m = {.chunk_id = chunk_id};
    size_t n;
    int rc = drop_matching(ix, &m, dropped, arg, &n);
    if (rc == 0)
        LOG_W("dropped %zu objects that use damaged chunk %lld (fetched again on their next use)", n,
              (long long)chunk_id);
    return rc;
}

int store_index_pack_drop(store_index_t *ix, uint32_t pack, uint64_t from, store_drop_fn dropped, void *arg)
{
    drop_match_t m = {.pack = pack, .from = from};
    size_t n;
    int rc = drop_matching(ix, &m, dropped, arg, &n);
    if (rc == 0)
        LOG_W("pack %08u: its bytes from offset %llu are gone; dropped %zu objects that used them (fetched "
              "again on their next use)", pack, (unsigned long long)from, n);
    return rc;
}
