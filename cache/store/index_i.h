/* SPDX-License-Identifier: MIT */
/*
 * index_i.h — what the files of the index share (index.c: connections, objects, counters;
 * index_drop.c: forgetting lost or damaged bytes; index_life.c: the lifecycle of a store with a
 * budget): the connections, the prepared statements, and the layout record.
 */
#ifndef MODFS_INDEX_I_H
#define MODFS_INDEX_I_H

#include <pthread.h>
#include <sqlite3.h>

#include "store_i.h"

#define LAYOUT_RECORD 40
/* Other modfs processes (a `modfs get` beside a server) commit in milliseconds. */
#define BUSY_TIMEOUT_MS 30000
/* The WAL is checkpointed when a commit leaves it this many pages long (1 MiB of 4 KiB pages),
 * and at the close only when it is at least WAL_CLOSE_CHECKPOINT_FRAMES long (index.c). */
#define WAL_AUTOCHECKPOINT_FRAMES 256
#define WAL_CLOSE_CHECKPOINT_FRAMES 64

enum stmt_id {
    ST_OBJECT_GET,
    ST_CHUNK_FIND,
    ST_CHUNK_INSERT,
    ST_OBJECT_PUT,
    ST_MEMBERS_PUT,
    ST_MEMBERS_DEL,
    ST_MEMBERS_GET,
    ST_PACK_END,
    ST_KEYS,
    ST_COUNTER_ADD,
    ST_COUNTERS_GET,
    ST_LAYOUT_GET,
    ST_CHUNK_REF_ADD,
    ST_OBJECT_DEL,
    ST_POLICY_GET,
    ST_SEQ_MAX,
    ST_COUNT
};

/* One SQLite connection and its statements; a thread's at a time. */
typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT]; /* prepared at first use (ix_stmt) */
    int wal_frames;               /* the writer's: the WAL's length in pages after its last commit */
    struct conn *next_free; /* on the pool's free list; under pool_lock */
    struct conn *next_all;  /* every reader, for close; under pool_lock */
} conn_t;

struct store_index {
    char *path;
    pthread_mutex_t write_lock; /* the writer connection and its statements */
    conn_t writer;
    pthread_mutex_t pool_lock;  /* free and all: held for list moves only */
    conn_t *free;
    conn_t *all;
    /* The group commit (index.c: store_index_object_put): ingests queued for the next COMMIT,
     * whether one of them leads one now, and how many commits made how many objects visible. */
    pthread_mutex_t group_lock;
    pthread_cond_t group_cond;
    struct ix_put *queue, **queue_tail;
    bool leading;
    uint64_t commits, committed;
    /* A connection kept for store_index_generation only (its PRAGMA data_version moves with the
     * commits of every other connection), opened at the first call. */
    pthread_mutex_t watch_lock;
    sqlite3 *watch;
    sqlite3_stmt *watch_version;
};

/* An SQLite result code as -errno. */
int ix_errno(int rc);
/* A reader connection for one query (never waits on the writer), and its return. */
conn_t *ix_reader_take(store_index_t *ix);
void ix_reader_give(store_index_t *ix, conn_t *c);
/* A statement of c ready to bind, prepared at its first use (NULL if that failed, logged: every
 * call on it then fails, which the callers see as -EIO); reset it when done. */
sqlite3_stmt *ix_stmt(conn_t *c, enum stmt_id id);
int ix_exec(conn_t *c, const char *sql);
/* A transaction of figures only (counters, uses): committed without its own fsync, since losing
 * the last second of them to a power cut is harmless; the next durable commit syncs them too.
 * ix_figures_end commits (ok) or rolls back, and restores full durability. The writer's lock held. */
int ix_figures_begin(conn_t *w);
int ix_figures_end(conn_t *w, bool ok);
/* Steps a statement that returns no row and resets it: 0 or -errno. */
int ix_step_done(sqlite3_stmt *s);
/* The layout BLOB of an object <-> its chunks. */
int ix_layout_decode(const uint8_t *p, size_t len, store_row_t *r);
void ix_layout_record(uint8_t *p, const store_chunk_t *c);
int ix_chunk_find(conn_t *c, const uint8_t hash[32], store_chunk_t *out);
/* Removes object key inside the writer's open transaction, releasing its chunks' references.
 * 0 (also when there is no such object) or -errno. */
int ix_object_delete(conn_t *w, const char *key);

#endif
