/* SPDX-License-Identifier: MIT */
/*
 * index.c — the SQLite index: schema, prepared statements, one transaction per stored object.
 *
 * An object's layout is a BLOB of fixed 40-byte records rather than one row per chunk: opening a
 * zip of thousands of chunks is then one indexed row read instead of thousands, and the chunk
 * table is consulted only to deduplicate at ingest. The price is that "which objects use chunk
 * X" is a scan; it is asked only when a chunk is found corrupt, which should never happen.
 * synchronous=FULL: a committed object survives power loss, as the pack bytes it points to do.
 */
#include "index.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "log.h"

#define LAYOUT_RECORD 40

enum stmt_id {
    ST_OBJECT_GET,
    ST_CHUNK_FIND,
    ST_CHUNK_INSERT,
    ST_OBJECT_PUT,
    ST_MEMBERS_PUT,
    ST_MEMBERS_DEL,
    ST_MEMBERS_GET,
    ST_OBJECT_TOUCH,
    ST_PACK_END,
    ST_KEYS,
    ST_COUNTER_ADD,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_OBJECT_GET] = "SELECT kind, size, sha256, h1, stored_at, fetched_at, layout FROM objects WHERE key = ?1",
    [ST_CHUNK_FIND] = "SELECT id, pack, offset, stored_size, raw_size, codec, xxh3 FROM chunks WHERE hash = ?1",
    [ST_CHUNK_INSERT] = "INSERT OR IGNORE INTO chunks(hash, pack, offset, stored_size, raw_size, codec, xxh3) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_OBJECT_PUT] = "INSERT OR REPLACE INTO objects(key, kind, size, sha256, h1, stored_at, fetched_at, layout) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_MEMBERS_PUT] = "INSERT OR REPLACE INTO zip_members(key, members) VALUES (?1, ?2)",
    [ST_MEMBERS_DEL] = "DELETE FROM zip_members WHERE key = ?1",
    [ST_MEMBERS_GET] = "SELECT members FROM zip_members WHERE key = ?1",
    [ST_OBJECT_TOUCH] = "UPDATE objects SET fetched_at = ?2 WHERE key = ?1",
    [ST_PACK_END] = "SELECT COALESCE(MAX(offset + stored_size), 0) FROM chunks WHERE pack = ?1",
    [ST_KEYS] = "SELECT key FROM objects WHERE key >= ?1 ORDER BY key",
    [ST_COUNTER_ADD] = "INSERT INTO counters(name, value) VALUES (?1, ?2) "
                       "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS chunks("
    "  id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, pack INTEGER NOT NULL, offset INTEGER NOT NULL,"
    "  stored_size INTEGER NOT NULL, raw_size INTEGER NOT NULL, codec INTEGER NOT NULL, xxh3 INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS chunks_by_pack ON chunks(pack, offset);"
    "CREATE TABLE IF NOT EXISTS objects("
    "  key TEXT PRIMARY KEY, kind INTEGER NOT NULL, size INTEGER NOT NULL, sha256 BLOB NOT NULL, h1 TEXT,"
    "  stored_at INTEGER NOT NULL, fetched_at INTEGER NOT NULL, layout BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS zip_members(key TEXT PRIMARY KEY, members BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;";

struct index {
    pthread_mutex_t lock; /* protects db and every statement */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
};

static int sqlite_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return -EACCES;
    default:
        return -EIO;
    }
}

int index_open(const char *path, index_t **out, cache_err_t *err)
{
    index_t *ix = calloc(1, sizeof *ix);
    if (ix == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&ix->lock, NULL);
    int rc = sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(ix->db, 30000); /* other modfs processes commit in milliseconds */
    rc = sqlite3_exec(ix->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;", NULL,
                      NULL, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    rc = sqlite3_exec(ix->db, schema, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        rc = sqlite3_prepare_v3(ix->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ix->stmt[i], NULL);
        if (rc != SQLITE_OK)
            goto fail;
    }
    *out = ix;
    return 0;
fail:;
    int e = sqlite_errno(rc);
    cache_err_set(err, e, "index %s: %s", path, ix->db ? sqlite3_errmsg(ix->db) : sqlite3_errstr(rc));
    index_close(ix);
    return e;
}

void index_close(index_t *ix)
{
    if (ix == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(ix->stmt[i]);
    sqlite3_close(ix->db);
    pthread_mutex_destroy(&ix->lock);
    free(ix);
}

/* Returns a statement ready to bind; caller holds ix->lock and resets it when done. */
static sqlite3_stmt *stmt(index_t *ix, enum stmt_id id)
{
    sqlite3_stmt *s = ix->stmt[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static int decode_layout(const uint8_t *p, size_t len, index_object_t *o)
{
    if (len % LAYOUT_RECORD != 0)
        return -EIO;
    o->nchunks = len / LAYOUT_RECORD;
    o->chunks = calloc(o->nchunks ? o->nchunks : 1, sizeof *o->chunks);
    if (o->chunks == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < o->nchunks; i++, p += LAYOUT_RECORD) {
        index_chunk_t *c = &o->chunks[i];
        c->id = (int64_t)le_get(p, 8);
        c->offset = le_get(p + 8, 8);
        c->xxh3 = le_get(p + 16, 8);
        c->pack = (uint32_t)le_get(p + 24, 4);
        c->stored_size = (uint32_t)le_get(p + 28, 4);
        c->raw_size = (uint32_t)le_get(p + 32, 4);
        c->codec = p[36];
    }
    return 0;
}

int index_object_get(index_t *ix, const char *key, index_object_t *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&ix->lock);
    sqlite3_stmt *s = stmt(ix, ST_OBJECT_GET);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int ret;
    if (rc == SQLITE_ROW) {
        out->kind = sqlite3_column_int(s, 0);
        out->size = (uint64_t)sqlite3_column_int64(s, 1);
        if (sqlite3_column_bytes(s, 2) == 32)
            memcpy(out->sha256, sqlite3_column_blob(s, 2), 32);
        const unsigned char *h1 = sqlite3_column_text(s, 3);
        if (h1 != NULL)
            snprintf(out->h1, sizeof out->h1, "%s", (const char *)h1);
        out->stored_at = sqlite3_column_int64(s, 4);
        out->fetched_at = sqlite3_column_int64(s, 5);
        ret = decode_layout(sqlite3_column_blob(s, 6), (size_t)sqlite3_column_bytes(s, 6), out);
    } else {
        ret = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
    }
    sqlite3_reset(s);
    pthread_mutex_unlock(&ix->lock);
    if (ret != 0)
        index_object_dispose(out);
    return ret;
}

void index_object_dispose(index_object_t *o)
{
    free(o->chunks);
    o->chunks = NULL;
    o->nchunks = 0;
}

static void read_chunk_row(sqlite3_stmt *s, index_chunk_t *c)
{
    c->id = sqlite3_column_int64(s, 0);
    c->pack = (uint32_t)sqlite3_column_int64(s, 1);
    c->offset = (uint64_t)sqlite3_column_int64(s, 2);
    c->stored_size = (uint32_t)sqlite3_column_int64(s, 3);
    c->raw_size = (uint32_t)sqlite3_column_int64(s, 4);
    c->codec = (uint8_t)sqlite3_column_int(s, 5);
    c->xxh3 = (uint64_t)sqlite3_column_int64(s, 6);
}

static int chunk_find_locked(index_t *ix, const uint8_t hash[32], index_chunk_t *out)
{
    sqlite3_stmt *s = stmt(ix, ST_CHUNK_FIND);
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
    if (ret == 0) {
        read_chunk_row(s, out);
        memcpy(out->hash, hash, 32);
    }
    sqlite3_reset(s);
    return ret;
}

int index_chunk_find(index_t *ix, const uint8_t hash[32], index_chunk_t *out)
{
    pthread_mutex_lock(&ix->lock);
    int ret = chunk_find_locked(ix, hash, out);
    pthread_mutex_unlock(&ix->lock);
    return ret;
}

static int exec_locked(index_t *ix, const char *sql)
{
    int rc = sqlite3_exec(ix->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_errno(rc);
}

static int step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

int index_object_put(index_t *ix, const char *key, index_object_t *obj, const buf_t *members, cache_err_t *err)
{
    uint8_t *layout = malloc(obj->nchunks ? obj->nchunks * LAYOUT_RECORD : 1);
    if (layout == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_lock(&ix->lock);
    int ret = exec_locked(ix, "BEGIN IMMEDIATE");
    if (ret != 0)
        goto out;
    for (size_t i = 0; i < obj->nchunks; i++) {
        index_chunk_t *c = &obj->chunks[i];
        if (c->pack != 0) {
            sqlite3_stmt *s = stmt(ix, ST_CHUNK_INSERT);
            sqlite3_bind_blob(s, 1, c->hash, 32, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, c->pack);
            sqlite3_bind_int64(s, 3, (sqlite3_int64)c->offset);
            sqlite3_bind_int64(s, 4, c->stored_size);
            sqlite3_bind_int64(s, 5, c->raw_size);
            sqlite3_bind_int(s, 6, c->codec);
            sqlite3_bind_int64(s, 7, (sqlite3_int64)c->xxh3);
            if ((ret = step_done(s)) != 0)
                goto rollback;
        }
        if (c->pack != 0 && sqlite3_changes(ix->db) == 1) {
            c->id = sqlite3_last_insert_rowid(ix->db); /* ours: the location is the one just written */
        } else {
            /* Known already (maybe stored by another process first): that copy's location wins. */
            uint8_t hash[32];
            memcpy(hash, c->hash, 32);
            if ((ret = chunk_find_locked(ix, hash, c)) != 0)
                goto rollback;
        }
        uint8_t *p = layout + i * LAYOUT_RECORD;
        memset(p, 0, LAYOUT_RECORD);
        le_put(p, (uint64_t)c->id, 8);
        le_put(p + 8, c->offset, 8);
        le_put(p + 16, c->xxh3, 8);
        le_put(p + 24, c->pack, 4);
        le_put(p + 28, c->stored_size, 4);
        le_put(p + 32, c->raw_size, 4);
        p[36] = c->codec;
    }
    sqlite3_stmt *s = stmt(ix, ST_OBJECT_PUT);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, obj->kind);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)obj->size);
    sqlite3_bind_blob(s, 4, obj->sha256, 32, SQLITE_STATIC);
    if (obj->h1[0])
        sqlite3_bind_text(s, 5, obj->h1, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, obj->stored_at);
    sqlite3_bind_int64(s, 7, obj->fetched_at);
    sqlite3_bind_blob(s, 8, layout, (int)(obj->nchunks * LAYOUT_RECORD), SQLITE_STATIC);
    if ((ret = step_done(s)) != 0)
        goto rollback;
    if (members != NULL) {
        s = stmt(ix, ST_MEMBERS_PUT);
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, members->base, (int)members->len, SQLITE_STATIC);
    } else {
        s = stmt(ix, ST_MEMBERS_DEL);
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    }
    if ((ret = step_done(s)) != 0)
        goto rollback;
    ret = exec_locked(ix, "COMMIT");
    if (ret == 0)
        goto out;
rollback:
    cache_err_set(err, ret, "index commit of %s: %s", key, sqlite3_errmsg(ix->db));
    exec_locked(ix, "ROLLBACK");
out:
    pthread_mutex_unlock(&ix->lock);
    free(layout);
    return ret;
}

int index_object_touch(index_t *ix, const char *key, int64_t fetched_at)
{
    pthread_mutex_lock(&ix->lock);
    sqlite3_stmt *s = stmt(ix, ST_OBJECT_TOUCH);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, fetched_at);
    int ret = step_done(s);
    pthread_mutex_unlock(&ix->lock);
    return ret;
}

int index_members_get(index_t *ix, const char *key, buf_t *out)
{
    pthread_mutex_lock(&ix->lock);
    sqlite3_stmt *s = stmt(ix, ST_MEMBERS_GET);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int ret;
    if (rc == SQLITE_ROW)
        ret = buf_append(out, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
    else
        ret = rc == SQLITE_DONE ? -ENOENT : sqlite_errno(rc);
    sqlite3_reset(s);
    pthread_mutex_unlock(&ix->lock);
    return ret;
}

int index_chunk_drop(index_t *ix, int64_t chunk_id)
{
    pthread_mutex_lock(&ix->lock);
    int ret = exec_locked(ix, "BEGIN IMMEDIATE");
    if (ret != 0)
        goto out;
    /* Collect the objects whose layout names the chunk (a scan: see the file comment). */
    sqlite3_stmt *scan = NULL, *del = NULL, *delm = NULL, *delc = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT key, layout FROM objects", -1, &scan, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ix->db, "DELETE FROM objects WHERE key = ?1", -1, &del, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ix->db, "DELETE FROM zip_members WHERE key = ?1", -1, &delm, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ix->db, "DELETE FROM chunks WHERE id = ?1", -1, &delc, NULL) != SQLITE_OK) {
        ret = -EIO;
        goto done;
    }
    buf_t doomed = BUF_INIT; /* NUL-separated keys */
    while (sqlite3_step(scan) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(scan, 1);
        size_t n = (size_t)sqlite3_column_bytes(scan, 1) / LAYOUT_RECORD;
        for (size_t i = 0; i < n; i++) {
            if ((int64_t)le_get(p + i * LAYOUT_RECORD, 8) == chunk_id) {
                const char *k = (const char *)sqlite3_column_text(scan, 0);
                if (buf_append(&doomed, k, strlen(k) + 1) != 0)
                    ret = -ENOMEM;
                break;
            }
        }
    }
    for (size_t off = 0; ret == 0 && off < doomed.len; off += strlen((char *)doomed.base + off) + 1) {
        const char *k = (const char *)doomed.base + off;
        LOG_W("dropping %s: it uses a corrupt chunk", k);
        sqlite3_bind_text(del, 1, k, -1, SQLITE_STATIC);
        sqlite3_bind_text(delm, 1, k, -1, SQLITE_STATIC);
        if (step_done(del) != 0 || step_done(delm) != 0)
            ret = -EIO;
    }
    buf_dispose(&doomed);
    sqlite3_bind_int64(delc, 1, chunk_id);
    if (ret == 0)
        ret = step_done(delc);
done:
    sqlite3_finalize(scan);
    sqlite3_finalize(del);
    sqlite3_finalize(delm);
    sqlite3_finalize(delc);
    exec_locked(ix, ret == 0 ? "COMMIT" : "ROLLBACK");
out:
    pthread_mutex_unlock(&ix->lock);
    return ret;
}

int index_pack_end(index_t *ix, uint32_t pack, uint64_t *end)
{
    pthread_mutex_lock(&ix->lock);
    sqlite3_stmt *s = stmt(ix, ST_PACK_END);
    sqlite3_bind_int64(s, 1, pack);
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_ROW ? 0 : sqlite_errno(rc);
    if (ret == 0)
        *end = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    pthread_mutex_unlock(&ix->lock);
    return ret;
}

int index_keys_visit(index_t *ix, const char *prefix, int (*visit)(void *, const char *), void *arg)
{
    /* Copy the keys out first: visit may call back into the cache. */
    buf_t keys = BUF_INIT;
    size_t plen = strlen(prefix);
    pthread_mutex_lock(&ix->lock);
    sqlite3_stmt *s = stmt(ix, ST_KEYS);
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    int ret = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(s, 0);
        if (strncmp(k, prefix, plen) != 0)
            break;
        if ((ret = buf_append(&keys, k, strlen(k) + 1)) != 0)
            break;
    }
    if (ret == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = sqlite_errno(rc);
    sqlite3_reset(s);
    pthread_mutex_unlock(&ix->lock);
    for (size_t off = 0; ret == 0 && off < keys.len; off += strlen((char *)keys.base + off) + 1)
        ret = visit(arg, (const char *)keys.base + off);
    buf_dispose(&keys);
    return ret;
}

static uint64_t query_u64(index_t *ix, const char *sql)
{
    sqlite3_stmt *s = NULL;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

int index_stats_get(index_t *ix, index_stats_t *st)
{
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&ix->lock);
    st->objects = query_u64(ix, "SELECT COUNT(*) FROM objects");
    st->logical_bytes = query_u64(ix, "SELECT COALESCE(SUM(size), 0) FROM objects");
    st->chunks = query_u64(ix, "SELECT COUNT(*) FROM chunks");
    st->unique_bytes = query_u64(ix, "SELECT COALESCE(SUM(raw_size), 0) FROM chunks");
    st->stored_bytes = query_u64(ix, "SELECT COALESCE(SUM(stored_size), 0) FROM chunks");
    st->hits = query_u64(ix, "SELECT COALESCE(SUM(value), 0) FROM counters WHERE name = 'hits'");
    st->misses = query_u64(ix, "SELECT COALESCE(SUM(value), 0) FROM counters WHERE name = 'misses'");
    st->upstream_requests =
        query_u64(ix, "SELECT COALESCE(SUM(value), 0) FROM counters WHERE name = 'upstream_requests'");
    st->upstream_errors = query_u64(ix, "SELECT COALESCE(SUM(value), 0) FROM counters WHERE name = 'upstream_errors'");
    pthread_mutex_unlock(&ix->lock);
    return 0;
}

int index_counters_add(index_t *ix, uint64_t hits, uint64_t misses, uint64_t upstream_requests,
                       uint64_t upstream_errors)
{
    const struct {
        const char *name;
        uint64_t v;
    } rows[] = {{"hits", hits}, {"misses", misses}, {"upstream_requests", upstream_requests},
                {"upstream_errors", upstream_errors}};
    int ret = 0;
    pthread_mutex_lock(&ix->lock);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && ret == 0; i++) {
        if (rows[i].v == 0)
            continue;
        sqlite3_stmt *s = stmt(ix, ST_COUNTER_ADD);
        sqlite3_bind_text(s, 1, rows[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)rows[i].v);
        ret = step_done(s);
    }
    pthread_mutex_unlock(&ix->lock);
    return ret;
}
