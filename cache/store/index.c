/* SPDX-License-Identifier: MIT */
/*
 * index.c — the SQLite index: schema, one writer connection, a pool of reader connections.
 *
 * Readers never wait on the writer. SQLite in WAL mode lets any number of connections read a
 * consistent snapshot while one connection writes, but a connection is one thread's at a time;
 * with a single connection behind a mutex (as this file had), a cache hit that missed the memory
 * map queued behind an fsync'd commit or a full-table scan. So every read takes a connection of
 * its own from a pool (made on first need, kept for reuse; the pool's lock covers two pointer
 * moves, never a query) and only writes take the writer's lock.
 *
 * An object's layout is a BLOB of fixed 40-byte records rather than one row per chunk: opening a
 * zip of thousands of chunks is then one indexed row read instead of thousands, and the chunk
 * table is consulted only to deduplicate at ingest. The price is that "which objects use chunk
 * X" is a scan; it is asked only when a chunk is found corrupt, which should never happen.
 * synchronous=FULL: a committed object survives power loss, as the pack bytes it points to do.
 *
 * Objects are committed in groups (store_index_object_put): each COMMIT costs a WAL fsync, and the
 * ingests of a cold `go mod download` arrive together, each with its pack bytes already synced. The
 * first to arrive leads: it takes every ingest queued so far into one transaction, each in a
 * savepoint of its own (a failed one is rolled back alone), and one COMMIT makes them all visible;
 * those arriving meanwhile wait on a condition variable and form the next group. Nothing is
 * delayed to gather a group: the group is whoever queued while the previous COMMIT ran.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_i.h"

static const char *const stmt_sql[ST_COUNT] = {
    [ST_OBJECT_GET] = "SELECT kind, size, sha256, h1, stored_at, fetched_at, layout FROM objects WHERE key = ?1",
    [ST_CHUNK_FIND] = "SELECT id, pack, offset, stored_size, raw_size, codec, xxh3 FROM chunks WHERE hash = ?1",
    [ST_CHUNK_INSERT] = "INSERT OR IGNORE INTO chunks(hash, pack, offset, stored_size, raw_size, codec, xxh3) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_OBJECT_PUT] = "INSERT INTO objects(key, kind, size, sha256, h1, stored_at, fetched_at, layout, queue, freq, seq) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_MEMBERS_PUT] = "INSERT OR REPLACE INTO zip_members(key, members) VALUES (?1, ?2)",
    [ST_MEMBERS_DEL] = "DELETE FROM zip_members WHERE key = ?1",
    [ST_MEMBERS_GET] = "SELECT members FROM zip_members WHERE key = ?1",
    [ST_PACK_END] = "SELECT COALESCE(MAX(offset + stored_size), 0) FROM chunks WHERE pack = ?1",
    [ST_KEYS] = "SELECT key FROM objects WHERE key >= ?1 ORDER BY key",
    [ST_COUNTER_ADD] = "INSERT INTO counters(name, value) VALUES (?1, ?2) "
                       "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
    [ST_COUNTERS_GET] = "SELECT name, value FROM counters",
    [ST_LAYOUT_GET] = "SELECT layout FROM objects WHERE key = ?1",
    [ST_CHUNK_REF_ADD] = "UPDATE chunks SET refs = refs + ?2 WHERE id = ?1",
    [ST_OBJECT_DEL] = "DELETE FROM objects WHERE key = ?1",
    [ST_POLICY_GET] = "SELECT queue, freq FROM objects WHERE key = ?1",
    [ST_SEQ_MAX] = "SELECT COALESCE(MAX(seq), 0) FROM objects",
};

/*
 * The schema, version 2. chunks.refs counts the layouts naming a chunk (one per occurrence): a
 * chunk at 0 is garbage for gc. objects.queue, freq and seq are the eviction policy's state
 * (S3-FIFO, index_life.c): which queue, how often used since it entered it (0 to 3), and the
 * order of entry.
 */
#define SCHEMA_VERSION 2
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS chunks("
    "  id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, pack INTEGER NOT NULL, offset INTEGER NOT NULL,"
    "  stored_size INTEGER NOT NULL, raw_size INTEGER NOT NULL, codec INTEGER NOT NULL, xxh3 INTEGER NOT NULL,"
    "  refs INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS chunks_by_pack ON chunks(pack, offset);"
    "CREATE TABLE IF NOT EXISTS objects("
    "  key TEXT PRIMARY KEY, kind INTEGER NOT NULL, size INTEGER NOT NULL, sha256 BLOB NOT NULL, h1 TEXT,"
    "  stored_at INTEGER NOT NULL, fetched_at INTEGER NOT NULL, layout BLOB NOT NULL,"
    "  queue INTEGER NOT NULL DEFAULT 0, freq INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL DEFAULT 0)"
    "  WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS zip_members(key TEXT PRIMARY KEY, members BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;";

/* From version 1 (no references, no policy state): the columns, then the references counted from
 * every layout, in one transaction. Objects enter the small queue in the order they were stored. */
static int schema_upgrade(sqlite3 *db)
{
    int rc = sqlite3_exec(db,
                          "ALTER TABLE chunks ADD COLUMN refs INTEGER NOT NULL DEFAULT 0;"
                          "ALTER TABLE objects ADD COLUMN queue INTEGER NOT NULL DEFAULT 0;"
                          "ALTER TABLE objects ADD COLUMN freq INTEGER NOT NULL DEFAULT 0;"
                          "ALTER TABLE objects ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
                          "UPDATE objects SET seq = stored_at;",
                          NULL, NULL, NULL);
    sqlite3_stmt *scan = NULL, *add = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT layout FROM objects", -1, &scan, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "UPDATE chunks SET refs = refs + 1 WHERE id = ?1", -1, &add, NULL);
    while (rc == SQLITE_OK && sqlite3_step(scan) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(scan, 0);
        size_t n = (size_t)sqlite3_column_bytes(scan, 0) / LAYOUT_RECORD;
        for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
            sqlite3_bind_int64(add, 1, (sqlite3_int64)le_get(p + i * LAYOUT_RECORD, 8));
            rc = sqlite3_step(add) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset(add);
        }
    }
    sqlite3_finalize(scan);
    sqlite3_finalize(add);
    return rc;
}

/* The index's PRAGMA user_version, or -1 when it cannot be read. */
static int schema_version(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return version;
}

/* The schema of a new index, or the upgrade of an old one, in one transaction: several processes
 * may open a new store at once, and only one of them makes it. An index already at SCHEMA_VERSION
 * (set in the same transaction as the tables and indexes it names) is left as it is, without the
 * write lock and the CREATE statements: that is every open but a store's first, and a `modfs get`
 * of a hit is little more than an open. */
static int schema_ensure(sqlite3 *db)
{
    if (schema_version(db) == SCHEMA_VERSION)
        return SQLITE_OK;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_stmt *s = NULL;
    int version = 0, tables = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'objects'", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        tables = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (tables > 0 && version < SCHEMA_VERSION)
        rc = schema_upgrade(db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "CREATE INDEX IF NOT EXISTS objects_by_seq ON objects(seq);", NULL, NULL, NULL);
    if (rc == SQLITE_OK && version < SCHEMA_VERSION)
        rc = sqlite3_exec(db, "PRAGMA user_version = 2;", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    else
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int ix_errno(int rc)
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

static void conn_close(conn_t *c)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
}

/* The writer's WAL hook: SQLite's own auto-checkpoint (sqlite3_wal_autocheckpoint is a WAL hook
 * too, which this one replaces), and the WAL's length noted for store_index_close. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    conn_t *c = arg;
    c->wal_frames = frames;
    if (frames >= WAL_AUTOCHECKPOINT_FRAMES)
        sqlite3_wal_checkpoint(db, name); /* passive: what readers still need stays */
    return SQLITE_OK;
}

/* Opens a connection; pragmas is run first (the writer sets the journal, readers only read). The
 * writer also makes or upgrades the schema, so a store's open costs one connection, not two.
 * Statements are prepared at their first use (ix_stmt): a `modfs get` uses three of them. No
 * connection checkpoints at its close: store_index_close decides that for the writer. */
static int conn_open(const char *path, bool writer, const char *pragmas, conn_t *c, cache_err_t *err)
{
    memset(c, 0, sizeof *c);
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
        rc = sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    }
    if (rc == SQLITE_OK && writer)
        rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL);
    if (rc == SQLITE_OK && writer)
        rc = schema_ensure(c->db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
    if (rc == SQLITE_OK && writer)
        sqlite3_wal_hook(c->db, wal_hook, c);
    if (rc == SQLITE_OK)
        return 0;
    int e = ix_errno(rc);
    cache_err_set(err, e, "index %s: %s", path, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    conn_close(c);
    memset(c, 0, sizeof *c);
    return e;
}

int store_index_open(const char *path, store_index_t **out, cache_err_t *err)
{
    store_index_t *ix = calloc(1, sizeof *ix);
    if (ix == NULL || (ix->path = strdup(path)) == NULL) {
        free(ix);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    pthread_mutex_init(&ix->write_lock, NULL);
    pthread_mutex_init(&ix->pool_lock, NULL);
    pthread_mutex_init(&ix->group_lock, NULL);
    pthread_cond_init(&ix->group_cond, NULL);
    pthread_mutex_init(&ix->watch_lock, NULL);
    ix->queue_tail = &ix->queue;
    /* The WAL counts against the store's budget: checkpointed every WAL_AUTOCHECKPOINT_FRAMES
     * pages (wal_hook) and cut back to 1 MiB after, rather than SQLite's 4 MiB left at its largest. */
    int rc = conn_open(path, true, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; PRAGMA journal_size_limit=1048576;",
                       &ix->writer, err);
    if (rc != 0) {
        store_index_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void store_index_close(store_index_t *ix)
{
    if (ix == NULL)
        return;
    for (conn_t *c = ix->all; c != NULL;) {
        conn_t *next = c->next_all;
        conn_close(c);
        free(c);
        c = next;
    }
    /* The last connection to close checkpoints the WAL into index.db and deletes it: two fsyncs
     * and a rewrite of the pages, which a `modfs get` paid on every run for the one figures
     * transaction it writes. A short WAL is left as it is instead: what it holds was committed
     * (and synced, for all but figures) and the next open reads it back, and the writer that next
     * takes it past WAL_AUTOCHECKPOINT_FRAMES checkpoints it. A long one (an ingest of many
     * objects, a gc) is checkpointed and deleted here as before, so the store's bytes on disk
     * are not left larger by up to the WAL's limit. */
    if (ix->writer.db != NULL)
        sqlite3_db_config(ix->writer.db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                          ix->writer.wal_frames < WAL_CLOSE_CHECKPOINT_FRAMES, NULL);
    sqlite3_finalize(ix->watch_version);
    sqlite3_close(ix->watch);
    conn_close(&ix->writer);
    pthread_mutex_destroy(&ix->watch_lock);
    pthread_mutex_destroy(&ix->write_lock);
    pthread_mutex_destroy(&ix->pool_lock);
    pthread_mutex_destroy(&ix->group_lock);
    pthread_cond_destroy(&ix->group_cond);
    free(ix->path);
    free(ix);
}

/* A reader connection for this thread's query: from the free list, or a new one. NULL when none
 * can be opened (out of memory, file gone), logged. */
conn_t *ix_reader_take(store_index_t *ix)
{
    pthread_mutex_lock(&ix->pool_lock);
    conn_t *c = ix->free;
    if (c != NULL)
        ix->free = c->next_free;
    pthread_mutex_unlock(&ix->pool_lock);
    if (c != NULL)
        return c;
    c = malloc(sizeof *c);
    cache_err_t err = {0};
    if (c == NULL || conn_open(ix->path, false, "PRAGMA query_only=1;", c, &err) != 0) {
        LOG_E("%s", c ? err.msg : "index: out of memory");
        free(c);
        return NULL;
    }
    pthread_mutex_lock(&ix->pool_lock);
    c->next_all = ix->all;
    ix->all = c;
    pthread_mutex_unlock(&ix->pool_lock);
    return c;
}

void ix_reader_give(store_index_t *ix, conn_t *c)
{
    pthread_mutex_lock(&ix->pool_lock);
    c->next_free = ix->free;
    ix->free = c;
    pthread_mutex_unlock(&ix->pool_lock);
}

/* A statement of c ready to bind; reset it when done. */
sqlite3_stmt *ix_stmt(conn_t *c, enum stmt_id id)
{
    sqlite3_stmt *s = c->stmt[id];
    if (s == NULL) {
        int rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            /* NULL makes every later call on it fail (SQLITE_MISUSE, so -EIO): logged once here */
            LOG_E("index: preparing a statement: %s", sqlite3_errmsg(c->db));
            return NULL;
        }
        return c->stmt[id];
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

int ix_layout_decode(const uint8_t *p, size_t len, store_row_t *r)
{
    if (len % LAYOUT_RECORD != 0)
        return -EIO;
    r->nchunks = len / LAYOUT_RECORD;
    r->chunks = calloc(r->nchunks ? r->nchunks : 1, sizeof *r->chunks);
    if (r->chunks == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < r->nchunks; i++, p += LAYOUT_RECORD) {
        store_chunk_t *c = &r->chunks[i];
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

int store_index_object_get(store_index_t *ix, const char *key, store_row_t *out)
{
    memset(out, 0, sizeof *out);
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = ix_stmt(c, ST_OBJECT_GET);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int ret;
    if (rc == SQLITE_ROW) {
        store_object_info_t *in = &out->info;
        in->kind = (modkey_kind_t)sqlite3_column_int(s, 0);
        in->size = (uint64_t)sqlite3_column_int64(s, 1);
        if (sqlite3_column_bytes(s, 2) == 32)
            memcpy(in->sha256, sqlite3_column_blob(s, 2), 32);
        const unsigned char *h1 = sqlite3_column_text(s, 3);
        if (h1 != NULL)
            snprintf(in->h1, sizeof in->h1, "%s", (const char *)h1);
        in->stored_at = sqlite3_column_int64(s, 4);
        in->fetched_at = sqlite3_column_int64(s, 5);
        ret = ix_layout_decode(sqlite3_column_blob(s, 6), (size_t)sqlite3_column_bytes(s, 6), out);
    } else {
        ret = rc == SQLITE_DONE ? -ENOENT : ix_errno(rc);
    }
    sqlite3_reset(s);
    ix_reader_give(ix, c);
    if (ret != 0)
        store_row_dispose(out);
    return ret;
}

void store_row_dispose(store_row_t *r)
{
    free(r->chunks);
    r->chunks = NULL;
    r->nchunks = 0;
}

static void read_chunk_row(sqlite3_stmt *s, store_chunk_t *c)
{
    c->id = sqlite3_column_int64(s, 0);
    c->pack = (uint32_t)sqlite3_column_int64(s, 1);
    c->offset = (uint64_t)sqlite3_column_int64(s, 2);
    c->stored_size = (uint32_t)sqlite3_column_int64(s, 3);
    c->raw_size = (uint32_t)sqlite3_column_int64(s, 4);
    c->codec = (uint8_t)sqlite3_column_int(s, 5);
    c->xxh3 = (uint64_t)sqlite3_column_int64(s, 6);
}

int ix_chunk_find(conn_t *c, const uint8_t hash[32], store_chunk_t *out)
{
    sqlite3_stmt *s = ix_stmt(c, ST_CHUNK_FIND);
    sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : ix_errno(rc);
    if (ret == 0) {
        read_chunk_row(s, out);
        memcpy(out->hash, hash, 32);
    }
    sqlite3_reset(s);
    return ret;
}

int store_index_chunk_find(store_index_t *ix, const uint8_t hash[32], store_chunk_t *out)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    int ret = ix_chunk_find(c, hash, out);
    ix_reader_give(ix, c);
    return ret;
}

int ix_figures_begin(conn_t *w)
{
    return ix_exec(w, "PRAGMA synchronous=NORMAL; BEGIN IMMEDIATE");
}

int ix_figures_end(conn_t *w, bool ok)
{
    int rc = ix_exec(w, ok ? "COMMIT" : "ROLLBACK");
    int back = ix_exec(w, "PRAGMA synchronous=FULL");
    return rc != 0 ? rc : back;
}

int ix_exec(conn_t *c, const char *sql)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : ix_errno(rc);
}

int ix_step_done(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : ix_errno(rc);
}

void ix_layout_record(uint8_t *p, const store_chunk_t *c)
{
    memset(p, 0, LAYOUT_RECORD);
    le_put(p, (uint64_t)c->id, 8);
    le_put(p + 8, c->offset, 8);
    le_put(p + 16, c->xxh3, 8);
    le_put(p + 24, c->pack, 4);
    le_put(p + 28, c->stored_size, 4);
    le_put(p + 32, c->raw_size, 4);
    p[36] = c->codec;
}

/* One ingest waiting in the group commit: its rows, and where its result goes. The waiter's own
 * (its stack); the leader writes ret, err and the row's chunk ids before it sets done. */
typedef struct ix_put {
    const char *key;
    store_row_t *row;
    const buf_t *members;
    cache_err_t *err;
    int ret;
    bool done; /* under group_lock */
    struct ix_put *next;
} ix_put_t;

/* The rows of one object into the writer's open transaction: its chunks (inserted, or the known
 * location written back into row->chunks), the references of its layout, the object row and its
 * member table. 0 or -errno (-EAGAIN: a chunk the ingest counted on is gone; a message in err). */
static int ix_object_rows(conn_t *w, const ix_put_t *p)
{
    const char *key = p->key;
    store_row_t *row = p->row;
    uint8_t *layout = malloc(row->nchunks ? row->nchunks * LAYOUT_RECORD : 1);
    if (layout == NULL)
        return cache_err_set(p->err, -ENOMEM, "out of memory");
    /* A replaced object (a refreshed list) keeps its place in the eviction policy, and gives back
     * the references of its old layout. */
    int queue = row->queue, freq = 0;
    sqlite3_stmt *q = ix_stmt(w, ST_POLICY_GET);
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        queue = sqlite3_column_int(q, 0);
        freq = sqlite3_column_int(q, 1);
    }
    sqlite3_reset(q);
    int ret = ix_object_delete(w, key);
    if (ret != 0)
        goto fail;
    for (size_t i = 0; i < row->nchunks; i++) {
        store_chunk_t *c = &row->chunks[i];
        if (c->pack != 0) {
            sqlite3_stmt *s = ix_stmt(w, ST_CHUNK_INSERT);
            sqlite3_bind_blob(s, 1, c->hash, 32, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, c->pack);
            sqlite3_bind_int64(s, 3, (sqlite3_int64)c->offset);
            sqlite3_bind_int64(s, 4, c->stored_size);
            sqlite3_bind_int64(s, 5, c->raw_size);
            sqlite3_bind_int(s, 6, c->codec);
            sqlite3_bind_int64(s, 7, (sqlite3_int64)c->xxh3);
            if ((ret = ix_step_done(s)) != 0)
                goto fail;
        }
        if (c->pack != 0 && sqlite3_changes(w->db) == 1) {
            c->id = sqlite3_last_insert_rowid(w->db); /* ours: the location is the one just written */
        } else {
            /* Known already (stored by another process first, or by an ingest before this one in
             * the same group): that copy's location wins. */
            uint8_t hash[32];
            memcpy(hash, c->hash, 32);
            if ((ret = ix_chunk_find(w, hash, c)) != 0) {
                /* gc removed it between the ingest's look and this commit: ingest again */
                ret = ret == -ENOENT ? -EAGAIN : ret;
                goto fail;
            }
        }
        sqlite3_stmt *r = ix_stmt(w, ST_CHUNK_REF_ADD);
        sqlite3_bind_int64(r, 1, c->id);
        sqlite3_bind_int64(r, 2, 1);
        if ((ret = ix_step_done(r)) != 0)
            goto fail;
        ix_layout_record(layout + i * LAYOUT_RECORD, c);
    }
    sqlite3_stmt *m = ix_stmt(w, ST_SEQ_MAX);
    int64_t seq = sqlite3_step(m) == SQLITE_ROW ? sqlite3_column_int64(m, 0) + 1 : 1;
    sqlite3_reset(m);
    const store_object_info_t *in = &row->info;
    sqlite3_stmt *s = ix_stmt(w, ST_OBJECT_PUT);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)in->kind);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)in->size);
    sqlite3_bind_blob(s, 4, in->sha256, 32, SQLITE_STATIC);
    if (in->h1[0])
        sqlite3_bind_text(s, 5, in->h1, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, in->stored_at);
    sqlite3_bind_int64(s, 7, in->fetched_at);
    sqlite3_bind_blob(s, 8, layout, (int)(row->nchunks * LAYOUT_RECORD), SQLITE_STATIC);
    sqlite3_bind_int(s, 9, queue);
    sqlite3_bind_int(s, 10, freq);
    sqlite3_bind_int64(s, 11, seq);
    if ((ret = ix_step_done(s)) != 0)
        goto fail;
    if (p->members != NULL) {
        s = ix_stmt(w, ST_MEMBERS_PUT);
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, p->members->base, (int)p->members->len, SQLITE_STATIC);
    } else {
        s = ix_stmt(w, ST_MEMBERS_DEL);
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    }
    if ((ret = ix_step_done(s)) != 0)
        goto fail;
    free(layout);
    return 0;
fail:
    cache_err_set(p->err, ret, "index commit of %s: %s", key, sqlite3_errmsg(w->db));
    free(layout);
    return ret;
}

/* The leader's work: every ingest of batch in one transaction, each inside a savepoint of its
 * own (a failed one is rolled back alone and the others go on), then one COMMIT for all of them.
 * Fills every ret (and err on failure). The writer's lock is taken here. */
static void group_commit_run(store_index_t *ix, ix_put_t *batch)
{
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    int ret = ix_exec(w, "BEGIN IMMEDIATE");
    for (ix_put_t *p = batch; p != NULL && ret == 0; p = p->next) {
        if ((p->ret = ix_exec(w, "SAVEPOINT ingest")) != 0) {
            cache_err_set(p->err, p->ret, "index commit of %s: %s", p->key, sqlite3_errmsg(w->db));
            continue;
        }
        if ((p->ret = ix_object_rows(w, p)) != 0)
            ix_exec(w, "ROLLBACK TO ingest"); /* this ingest's rows only */
        ix_exec(w, "RELEASE ingest");
        /* Some errors (I/O, disk full) end the whole transaction: every ingest of it then fails. */
        if (sqlite3_get_autocommit(w->db))
            ret = -EIO;
        else if (p->ret == 0)
            STORE_FAULT("group-rows");
    }
    size_t in = 0;
    for (ix_put_t *p = batch; ret == 0 && p != NULL; p = p->next)
        in += p->ret == 0;
    if (ret == 0 && in > 0) {
        STORE_FAULT("before-commit");
        ret = ix_exec(w, "COMMIT");
    }
    const char *why = ret != 0 ? sqlite3_errmsg(w->db) : NULL;
    for (ix_put_t *p = batch; ret != 0 && p != NULL; p = p->next)
        if (p->ret == 0) /* its rows in, or never reached */
            p->ret = cache_err_set(p->err, ret, "index commit of %s: %s", p->key, why);
    if (!sqlite3_get_autocommit(w->db))
        ix_exec(w, "ROLLBACK"); /* nothing was committed: the failed COMMIT, or no ingest left */
    pthread_mutex_unlock(&ix->write_lock);
    if (ret == 0 && in > 0) {
        pthread_mutex_lock(&ix->group_lock);
        ix->commits++;
        ix->committed += in;
        pthread_mutex_unlock(&ix->group_lock);
    }
}

/*
 * Group commit: an ingest joins the queue; if no commit is under way it leads, taking every
 * ingest queued so far (itself included) into one transaction; the others wait for their own
 * result, and the first of those left queued when the leader is done leads the next group. A
 * commit's fsync is then shared by every ingest that arrived while the previous one ran, instead
 * of each queueing on the writer's lock for a fsync of its own.
 */
int store_index_object_put(store_index_t *ix, const char *key, store_row_t *row, const buf_t *members,
                           cache_err_t *err)
{
    ix_put_t me = {.key = key, .row = row, .members = members, .err = err};
    pthread_mutex_lock(&ix->group_lock);
    *ix->queue_tail = &me;
    ix->queue_tail = &me.next;
    while (!me.done && ix->leading)
        pthread_cond_wait(&ix->group_cond, &ix->group_lock);
    if (!me.done) {
        ix_put_t *batch = ix->queue; /* me among them: queued and not done */
        ix->queue = NULL;
        ix->queue_tail = &ix->queue;
        ix->leading = true;
        pthread_mutex_unlock(&ix->group_lock);
        group_commit_run(ix, batch);
        pthread_mutex_lock(&ix->group_lock);
        for (ix_put_t *p = batch, *next; p != NULL; p = next) {
            next = p->next; /* once done and the lock let go, p's thread returns and p is gone */
            p->done = true;
        }
        ix->leading = false;
        pthread_cond_broadcast(&ix->group_cond);
    }
    pthread_mutex_unlock(&ix->group_lock);
    return me.ret;
}

void store_index_group_figures(store_index_t *ix, uint64_t *commits, uint64_t *objects)
{
    pthread_mutex_lock(&ix->group_lock);
    *commits = ix->commits;
    *objects = ix->committed;
    pthread_mutex_unlock(&ix->group_lock);
}

/* data_version is a connection's own: a reader from the pool would give another connection's
 * number each time, so one connection is kept for it. It is read in a read transaction of its
 * own (a look at the WAL's header), never waits on the writer, and moves only when another
 * connection commits: the ingests' group commits, evictions, gc, other processes, and also
 * commits of figures alone (counters, uses), which change no key (a listing made again for
 * nothing, never one kept when it changed). */
int store_index_generation(store_index_t *ix, uint64_t *gen)
{
    pthread_mutex_lock(&ix->watch_lock);
    int rc = SQLITE_OK;
    if (ix->watch_version == NULL) {
        if (ix->watch == NULL) {
            /* as a reader's: read-write (a WAL reader may have to set up the shared memory) but
             * query-only */
            rc = sqlite3_open_v2(ix->path, &ix->watch, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
            if (rc == SQLITE_OK) {
                sqlite3_busy_timeout(ix->watch, BUSY_TIMEOUT_MS);
                rc = sqlite3_exec(ix->watch, "PRAGMA query_only=1;", NULL, NULL, NULL);
            }
            if (rc != SQLITE_OK) { /* tried again at the next call */
                LOG_E("index %s: data version: %s", ix->path, sqlite3_errstr(rc));
                sqlite3_close(ix->watch);
                ix->watch = NULL;
                pthread_mutex_unlock(&ix->watch_lock);
                return ix_errno(rc);
            }
        }
        if (rc == SQLITE_OK)
            rc = sqlite3_prepare_v3(ix->watch, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
                                    &ix->watch_version, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(ix->watch_version);
        if (rc == SQLITE_ROW)
            *gen = (uint64_t)sqlite3_column_int64(ix->watch_version, 0);
        sqlite3_reset(ix->watch_version);
    }
    if (rc != SQLITE_ROW)
        LOG_E("index %s: data version: %s", ix->path, ix->watch ? sqlite3_errmsg(ix->watch) : sqlite3_errstr(rc));
    pthread_mutex_unlock(&ix->watch_lock);
    return rc == SQLITE_ROW ? 0 : ix_errno(rc);
}

int store_index_members_get(store_index_t *ix, const char *key, buf_t *out)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = ix_stmt(c, ST_MEMBERS_GET);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int ret;
    if (rc == SQLITE_ROW)
        ret = buf_append(out, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
    else
        ret = rc == SQLITE_DONE ? -ENOENT : ix_errno(rc);
    sqlite3_reset(s);
    ix_reader_give(ix, c);
    return ret;
}

int store_index_packs_visit(store_index_t *ix, int (*visit)(void *arg, uint32_t pack, uint64_t end), void *arg)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = NULL;
    buf_t rows = BUF_INIT; /* (pack u32, end u64) pairs, so visit may write to the index */
    int ret = 0, rc = SQLITE_DONE;
    if (sqlite3_prepare_v2(c->db, "SELECT pack, MAX(offset + stored_size) FROM chunks GROUP BY pack", -1, &s,
                           NULL) != SQLITE_OK)
        ret = -EIO;
    while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint8_t r[12];
        le_put(r, (uint64_t)sqlite3_column_int64(s, 0), 4);
        le_put(r + 4, (uint64_t)sqlite3_column_int64(s, 1), 8);
        ret = buf_append(&rows, r, sizeof r);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = ix_errno(rc);
    sqlite3_finalize(s);
    ix_reader_give(ix, c);
    for (size_t off = 0; ret == 0 && off < rows.len; off += 12)
        ret = visit(arg, (uint32_t)le_get(rows.base + off, 4), le_get(rows.base + off + 4, 8));
    buf_dispose(&rows);
    return ret;
}

int store_index_set_durable(store_index_t *ix, bool durable)
{
    pthread_mutex_lock(&ix->write_lock);
    int rc = ix_exec(&ix->writer, durable ? "PRAGMA synchronous=FULL; PRAGMA wal_checkpoint(TRUNCATE);"
                                       : "PRAGMA synchronous=OFF;");
    pthread_mutex_unlock(&ix->write_lock);
    return rc;
}

int store_index_check(store_index_t *ix, cache_err_t *err)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return cache_err_set(err, -EIO, "index: cannot open a connection");
    sqlite3_stmt *s = NULL;
    int ret = 0;
    /* quick_check: every page and every row readable and in order, without the cost of matching
     * each index against its table (integrity_check): seconds for a large index, once at start. */
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA quick_check(1)", -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc != SQLITE_ROW)
        ret = cache_err_set(err, -EUCLEAN, "index: quick_check failed: %s", sqlite3_errmsg(c->db));
    else if (strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
        ret = cache_err_set(err, -EUCLEAN, "index: quick_check: %s", (const char *)sqlite3_column_text(s, 0));
        for (char *p = err ? err->msg : NULL; p && *p; p++) /* one line */
            if (*p == '\n')
                *p = ' ';
    }
    sqlite3_finalize(s);
    ix_reader_give(ix, c);
    return ret;
}

int store_index_pack_end(store_index_t *ix, uint32_t pack, uint64_t *end)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = ix_stmt(c, ST_PACK_END);
    sqlite3_bind_int64(s, 1, pack);
    int rc = sqlite3_step(s);
    int ret = rc == SQLITE_ROW ? 0 : ix_errno(rc);
    if (ret == 0)
        *end = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    ix_reader_give(ix, c);
    return ret;
}

int store_index_keys_visit(store_index_t *ix, const char *prefix, store_key_visit_fn visit, void *arg)
{
    /* Copy the keys out first: visit may call back into the store. */
    buf_t keys = BUF_INIT;
    size_t plen = strlen(prefix);
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = ix_stmt(c, ST_KEYS);
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
        ret = ix_errno(rc);
    sqlite3_reset(s);
    ix_reader_give(ix, c);
    for (size_t off = 0; ret == 0 && off < keys.len; off += strlen((char *)keys.base + off) + 1)
        ret = visit(arg, (const char *)keys.base + off);
    buf_dispose(&keys);
    return ret;
}

static uint64_t query_u64(conn_t *c, const char *sql)
{
    sqlite3_stmt *s = NULL;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

int store_index_stats(store_index_t *ix, store_stats_t *st)
{
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    /* One read transaction, so the figures describe one snapshot. */
    ix_exec(c, "BEGIN");
    st->objects = query_u64(c, "SELECT COUNT(*) FROM objects");
    st->logical_bytes = query_u64(c, "SELECT COALESCE(SUM(size), 0) FROM objects");
    st->chunks = query_u64(c, "SELECT COUNT(*) FROM chunks");
    st->unique_bytes = query_u64(c, "SELECT COALESCE(SUM(raw_size), 0) FROM chunks");
    st->stored_bytes = query_u64(c, "SELECT COALESCE(SUM(stored_size), 0) FROM chunks");
    ix_exec(c, "COMMIT");
    ix_reader_give(ix, c);
    return 0;
}

/* The counters' rows: name in the table, field of store_counters_t. */
static const struct {
    const char *name;
    size_t offset;
} counter_rows[] = {
    {"hits", offsetof(store_counters_t, hits)},
    {"misses", offsetof(store_counters_t, misses)},
    {"upstream_requests", offsetof(store_counters_t, upstream_requests)},
    {"upstream_errors", offsetof(store_counters_t, upstream_errors)},
    {"commits", offsetof(store_counters_t, commits)},
    {"committed_objects", offsetof(store_counters_t, committed_objects)},
    {"evictions", offsetof(store_counters_t, evictions)},
    {"evicted_bytes", offsetof(store_counters_t, evicted_bytes)},
    {"reclaimed_bytes", offsetof(store_counters_t, reclaimed_bytes)},
    {"compactions", offsetof(store_counters_t, compactions)},
    {"s3_requests", offsetof(store_counters_t, s3_requests)},
    {"s3_errors", offsetof(store_counters_t, s3_errors)},
    {"s3_bytes_read", offsetof(store_counters_t, s3_bytes_read)},
    {"s3_bytes_written", offsetof(store_counters_t, s3_bytes_written)},
    {"s3_hits", offsetof(store_counters_t, s3_hits)},
    {"s3_writes", offsetof(store_counters_t, s3_writes)},
    {"s3_damaged", offsetof(store_counters_t, s3_damaged)},
    {"s3_lease_waits", offsetof(store_counters_t, s3_lease_waits)},
    {"s3_lease_takeovers", offsetof(store_counters_t, s3_lease_takeovers)},
    {"s3_gc_runs", offsetof(store_counters_t, s3_gc_runs)},
    {"s3_gc_deleted", offsetof(store_counters_t, s3_gc_deleted)},
    {"s3_gc_deleted_bytes", offsetof(store_counters_t, s3_gc_deleted_bytes)},
    {"sumdb_verified", offsetof(store_counters_t, sumdb_verified)},
    {"sumdb_skipped", offsetof(store_counters_t, sumdb_skipped)},
    {"sumdb_failures_mismatch", offsetof(store_counters_t, sumdb_failures[0])},
    {"sumdb_failures_security", offsetof(store_counters_t, sumdb_failures[1])},
    {"sumdb_failures_invalid", offsetof(store_counters_t, sumdb_failures[2])},
    {"sumdb_failures_missing", offsetof(store_counters_t, sumdb_failures[3])},
    {"sumdb_failures_unavailable", offsetof(store_counters_t, sumdb_failures[4])},
};
static_assert(STORE_SUMDB_REASONS == 5, "a counter row for each reason");
#define COUNTER_ROWS (sizeof counter_rows / sizeof counter_rows[0])

static uint64_t *counter_field(store_counters_t *c, size_t row)
{
    return (uint64_t *)(void *)((char *)c + counter_rows[row].offset);
}

int store_index_counters_add(store_index_t *ix, const store_counters_t *d)
{
    bool any = false;
    for (size_t i = 0; i < COUNTER_ROWS; i++)
        any = any || *counter_field((store_counters_t *)d, i) != 0;
    if (!any)
        return 0; /* not even the write lock for nothing */
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    int ret = ix_figures_begin(w);
    for (size_t i = 0; i < COUNTER_ROWS && ret == 0; i++) {
        uint64_t v = *counter_field((store_counters_t *)d, i);
        if (v == 0)
            continue;
        sqlite3_stmt *s = ix_stmt(w, ST_COUNTER_ADD);
        sqlite3_bind_text(s, 1, counter_rows[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)v);
        ret = ix_step_done(s);
    }
    int end = ix_figures_end(w, ret == 0);
    if (ret == 0)
        ret = end;
    pthread_mutex_unlock(&ix->write_lock);
    return ret;
}

int store_index_counters_get(store_index_t *ix, store_counters_t *out)
{
    memset(out, 0, sizeof *out);
    conn_t *c = ix_reader_take(ix);
    if (c == NULL)
        return -EIO;
    sqlite3_stmt *s = ix_stmt(c, ST_COUNTERS_GET);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        for (size_t i = 0; name != NULL && i < COUNTER_ROWS; i++)
            if (strcmp(name, counter_rows[i].name) == 0)
                *counter_field(out, i) = (uint64_t)sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    ix_reader_give(ix, c);
    return rc == SQLITE_DONE ? 0 : ix_errno(rc);
}
