/* SPDX-License-Identifier: MIT */
/*
 * store.h — the local store: object bytes as content-addressed, zstd-compressed chunks in
 * append-only pack files, indexed in SQLite (WAL). It keeps what it is given and gives back what
 * it keeps; which object to fetch, when a copy is stale and what upstream says are the policy
 * layer's (cache.c), and what a valid body is belongs to gomod.
 *
 * Durability: store_put appends the chunks, makes them durable (fdatasync), and only then commits
 * the object's index rows in one transaction. A crash leaves at most pack bytes no row points to,
 * which the next writer of that pack cuts off; a committed object is whole.
 *
 * Threads: every function may be called from any thread. Reads never wait on a write: each reader
 * takes a SQLite connection of its own from a pool (WAL lets readers run beside the one writer),
 * and the writer's lock is held only by store_put, store_object_drop and the counter flush, never
 * by an object open, a read, a key visit or a stats query. Reading an object's bytes takes no
 * lock at all (one pread per run of chunks, a per-thread zstd context).
 *
 * Errors: 0 or -errno; where words help, a cache_err_t.
 */
#ifndef MODFS_STORE_H
#define MODFS_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "gomod.h"

typedef struct store store_t;
typedef struct store_object store_object_t;
typedef struct store_member_reader store_member_reader_t;

/* Opens the store in dir (index.db, packs/), cutting off the pack bytes a crash left (written,
 * never committed). must_exist is for reading commands: a missing store is -ENOENT with err (not
 * created), and nothing on disk is changed by the open. */
int store_open(const char *dir, bool must_exist, store_t **out, cache_err_t *err);
/* Closes; every object reference must have been dropped. */
void store_close(store_t *s);

/* What `modfs repair` did. */
typedef struct store_rebuild_report {
    unsigned packs;            /* packs read */
    unsigned packs_without_log;/* packs written before logs existed: their objects cannot be restored */
    uint64_t chunk_records;
    uint64_t chunks_bad;       /* recorded chunks whose bytes are gone or fail their checksum */
    uint64_t objects;          /* objects restored */
    uint64_t objects_skipped;  /* objects with a chunk that is gone or bad: fetched again when asked */
    char moved_aside[4096];    /* where the old index went ("" when there was none) */
} store_rebuild_report_t;

/* Rebuilds dir's index from the logs beside its packs, checking every chunk it restores: the old
 * index.db (if any) is moved aside, never deleted. No other process may use the store meanwhile
 * (refused with -EBUSY when one holds a pack). 0 or -errno with err. */
int store_repair(const char *dir, store_rebuild_report_t *report, cache_err_t *err);

/* Called (from the thread that found it) with the escaped key of every object the store drops
 * (a chunk failed its check, eviction, a compaction moved its chunks), so that whoever holds
 * the key in memory forgets it; with NULL when the store wants every handle kept only for speed
 * let go (compaction of packs they point into). Set once, before other threads use the store. */
typedef void (*store_drop_fn)(void *arg, const char *escaped_key);
void store_set_drop_hook(store_t *s, store_drop_fn fn, void *arg);

/* ---- objects ---- */

/* Opens the stored object named by key: a new reference in *out. Small objects (every .info,
 * nearly every .mod and list) are read and checked now and kept in memory. Returns 0, -ENOENT
 * (not stored, or stored with a corrupt chunk, which is then dropped), -ENOMEM, -EIO. */
int store_object_open(store_t *s, const modkey_t *key, store_object_t **out);

/*
 * Stores body[0..len) (already checked by gomod_validate_body) as key, replacing any previous
 * copy, and returns the stored object in *out (built from what was written: nothing is read
 * back). z is the parsed zip for a .zip key, NULL otherwise. now is the store time (unix s).
 * Returns 0, or -ENOSPC, -EIO, -ENOMEM with err; nothing is visible after a failure.
 */
int store_put(store_t *s, const modkey_t *key, const uint8_t *body, size_t len, const zipfile_t *z, int64_t now,
              store_object_t **out, cache_err_t *err);

/*
 * The early answer of an ingest (store_put_with): called at most once, on the ingesting thread,
 * with a new reference (the callee's) to an object made of body's bytes, copied into memory, as
 * soon as the ingest starts: after the body's SHA-256 and a zip's member table, before a chunk is
 * cut, written, synced or committed. The caller's own client may be answered from it, since body
 * was checked before store_put, but nothing else may see it (no hot map, no other waiter): the
 * object is in the store only when store_put_with returns 0. Its reads, loads and spans are all
 * answered from its copy (it has no layout: nothing reads the packs for it). Offered only for
 * objects of at most STORE_EARLY_MAX bytes, and only while the copy of one over 64 KiB fits the
 * store's budget of loaded bytes (the one of store_object_load, given back by the object's last
 * unref); otherwise the caller answers after the commit.
 */
#define STORE_EARLY_MAX (32ull << 20)
typedef void (*store_early_fn)(void *arg, store_object_t *o);

/* What a caller may add to a plain store_put. */
typedef struct store_put_extra {
    /* the body's SHA-256 when already known (the ingest hashes a zip while it arrives, so the
     * store does not hash the same bytes again); NULL: computed here */
    const uint8_t *sha256;
    store_early_fn early; /* the early answer (above), or NULL */
    void *early_arg;
} store_put_extra_t;

/* store_put with extra (NULL: none). The return value and *out are the commit's, whether the
 * early answer was called or not. */
int store_put_with(store_t *s, const modkey_t *key, const uint8_t *body, size_t len, const zipfile_t *z,
                   const store_put_extra_t *extra, int64_t now, store_object_t **out, cache_err_t *err);

/* What the store knows of an object. */
typedef struct store_object_info {
    modkey_kind_t kind;
    bool immutable;     /* .info/.mod/.zip of a canonical version */
    uint64_t size;      /* bytes as upstream served them */
    int64_t stored_at;  /* unix s, when first stored */
    int64_t fetched_at; /* unix s, when upstream last gave it (freshness of list/@latest) */
    uint8_t sha256[32]; /* of the bytes */
    char h1[48];        /* a .zip's "h1:..."; "" otherwise */
} store_object_info_t;

/* The object's facts; the pointer stays valid while the reference is held. */
const store_object_info_t *store_object_info(const store_object_t *o);

/* The escaped key the object is stored under (valid while the reference is held). */
const char *store_object_key(const store_object_t *o);

/* Reads up to len bytes at off: the count (short only at the end), or -EIO when a chunk fails its
 * check (the chunk and every object using it are dropped). No lock is taken. */
ssize_t store_object_read(store_object_t *o, void *buf, size_t len, uint64_t off);

/* The longest span from off, at most max bytes, that ends on a chunk boundary or the object's
 * end; max when the chunk at off alone is longer. A reader that always asks for this much never
 * reads a chunk twice. */
size_t store_object_span(const store_object_t *o, uint64_t off, size_t max);

/* The whole object when it is kept in memory (small objects); base NULL otherwise. */
slice_t store_object_bytes(const store_object_t *o);

/* The whole object in memory, for an object read whole again and again (a popular zip): the
 * first call on a handle only counts (-EAGAIN: read it the usual way); a later one reads every
 * chunk once, checks it, and keeps the bytes with the handle until its last reference goes, so
 * that no later read of this handle touches the disk. -EFBIG past STORE_LOAD_OBJECT_MAX,
 * -ENOSPC when the store's STORE_LOAD_BUDGET is taken, -EBUSY while another thread loads this
 * handle, -ENOMEM (all four: read it the usual way), -EIO when a chunk fails its check (dropped,
 * as store_object_read). Small objects give their bytes at once. Any thread; it blocks for the
 * whole read: store_object_load_begin then store_object_load_run, in one call. */
int store_object_load(store_object_t *o, slice_t *out);

/* The same in two steps, for a caller that must not block (an event loop). begin never reads
 * the disk: 0 and *out when the bytes are in memory already; -EAGAIN, -EFBIG, -ENOSPC, -EBUSY as
 * store_object_load; -EINPROGRESS when a load is worth doing and the caller now holds this
 * handle's one load claim and its share of the budget: it must then call exactly once, from any
 * thread and with its reference still held, either store_object_load_run (reads and checks every
 * chunk, blocking; 0 and *out, or -ENOMEM, -EIO as store_object_load) or store_object_load_cancel
 * (gives the claim and the budget back). Either way the claim ends, and a later begin finds the
 * bytes loaded or may claim again. */
int store_object_load_begin(store_object_t *o, slice_t *out);
int store_object_load_run(store_object_t *o, slice_t *out);
void store_object_load_cancel(store_object_t *o);

store_object_t *store_object_ref(store_object_t *o);
void store_object_unref(store_object_t *o);

/* ---- zip members ---- */

/* The files of a .zip object sorted bytewise by path, valid while the reference is held.
 * 0, -EINVAL (not a zip), -ENOMEM, -EIO. */
int store_zip_members(store_object_t *zip, const zipfile_entry_t **members, size_t *count);

/* A reader of one member's inflated bytes (see cache.h's cache_member_reader for the contract). */
int store_member_reader_new(store_object_t *zip, size_t index, store_member_reader_t **out);
ssize_t store_member_reader_read(store_member_reader_t *r, void *buf, size_t len, uint64_t off);
void store_member_reader_free(store_member_reader_t *r);

/* ---- the whole store ---- */

/* Calls visit with the escaped key of every stored object whose key starts with prefix, in
 * ascending order; stops at the first non-zero return and returns it. Keys are copied out of
 * the index first, so visit may call back into the store. */
typedef int (*store_key_visit_fn)(void *arg, const char *escaped_key);
int store_keys_visit(store_t *s, const char *prefix, store_key_visit_fn visit, void *arg);
/* A number that moves whenever the store's keys may have changed, through this handle or any
 * other process's (an index commit): while it stays the same, store_keys_visit visits the same
 * keys. It may move with no key changed (a commit of figures). Costs a look at the index's WAL
 * header, not a scan. 0 or -errno. */
int store_keys_generation(store_t *s, uint64_t *gen);

typedef struct store_stats {
    uint64_t objects;         /* stored objects */
    uint64_t logical_bytes;   /* sum of object sizes */
    uint64_t unique_bytes;    /* raw bytes of distinct chunks (after dedup, before compression) */
    uint64_t stored_bytes;    /* bytes of distinct chunks as kept in packs */
    uint64_t disk_bytes;      /* pack files plus index on disk */
    uint64_t chunks;
} store_stats_t;

/* Counts what the store holds (scans the index on a reader connection: milliseconds to seconds
 * for a large store, never blocking a write or a read). */
int store_stats_get(store_t *s, store_stats_t *st);
/* How many index COMMITs made how many stored objects visible since the store was opened (in this
 * process): concurrent ingests share a commit, so fewer commits than objects under load. */
void store_commit_figures(store_t *s, uint64_t *commits, uint64_t *objects);

/* ---- state files ---- */

/*
 * Small files of state kept beside the store under a relative name ("sumdb/<db>/latest": the tree
 * head of a checksum database), each read whole and replaced whole. Any thread or process may
 * call these at once.
 */
#define STORE_STATE_MAX (1u << 20)
/* Reads the state file name into out (reset first): 0 with out empty when there is none. -EINVAL
 * for a name that is not a clean relative path, -EFBIG past STORE_STATE_MAX, -errno, with err. */
int store_state_read(store_t *s, const char *name, buf_t *out, cache_err_t *err);
/* Compare-and-swap: replaces the file name with new_bytes, durably (synced, renamed into place,
 * the directory synced), if and only if it still holds old (old empty: absent or empty). Returns
 * 0, -EAGAIN (without words) when it holds something else, or -errno with err. */
int store_state_swap(store_t *s, const char *name, slice_t old, slice_t new_bytes, cache_err_t *err);

/* ---- a store that lives for years ---- */

/* What a maintenance pass, `modfs gc` or an eviction did. */
typedef struct store_life_report {
    uint64_t usage_before, usage_after; /* bytes on disk */
    uint64_t evicted, evicted_bytes;    /* objects evicted, and their charge */
    uint64_t gc_chunks, gc_bytes;       /* chunks no object names any more, and their stored bytes */
    uint64_t compacted_packs, copied_bytes, reclaimed_bytes;
    /* Optional: called with the report as it grows (after eviction, gc, and every few MB copied). */
    void (*progress)(void *arg, const struct store_life_report *so_far);
    void *progress_arg;
} store_life_report_t;

/* The budget of the store's bytes on disk (0: none) and the segment size that follows from it;
 * call before other threads use the store. A pass evicts down to 90% of it. */
void store_set_budget(store_t *s, uint64_t max_bytes);
/* Notes a use of an object (a hit): an atomic add in memory, written by the next pass. */
void store_object_note_use(store_object_t *o);
/* One maintenance pass: uses written; when over budget, evict (S3-FIFO) and reclaim until under
 * the low mark; otherwise gc and compaction when something was replaced or dropped (or
 * force_gc). r may be NULL. One pass at a time; safe beside readers and writers. */
int store_maintain(store_t *s, bool force_gc, store_life_report_t *r);
/* Counts what gc would free, adding to r (nothing changed). */
int store_gc_dry_run(store_t *s, store_life_report_t *r);
/* Bytes the store occupies on disk: packs, logs, index. */
uint64_t store_usage(store_t *s);

typedef struct store_life_stats {
    uint64_t max_bytes, usage;
    uint64_t live_bytes, pack_bytes;    /* live share of the packs: live / pack bytes */
    uint64_t evictions, evicted_bytes, reclaimed_bytes, compactions; /* over the store's life */
} store_life_stats_t;
void store_life_stats(store_t *s, store_life_stats_t *st);

/* Reads every chunk of the store and checks it (its checksum, and its address: SHA-256 of the
 * raw bytes); progress(arg, done, total) now and then. With heal, a damaged chunk is dropped with
 * the objects using it (fetched again on their next use). Returns 0 and *bad = damaged chunks. */
int store_verify(store_t *s, bool heal, uint64_t *checked, uint64_t *bad,
                 void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg);

/* Counters that outlive the process (hits, misses, upstream requests and errors, the checksum
 * database's proofs at ingest, what maintenance did, and the policy layer's figures of the shared
 * tier): added in one transaction, read back summed. store_maintain adds its own. */
#define STORE_SUMDB_REASONS 5 /* mismatch, security, invalid, missing, unavailable (cache.h) */
typedef struct store_counters {
    uint64_t hits, misses, upstream_requests, upstream_errors;
    uint64_t commits, committed_objects; /* store_commit_figures, summed over the store's life */
    uint64_t evictions, evicted_bytes, reclaimed_bytes, compactions;
    uint64_t sumdb_verified, sumdb_skipped, sumdb_failures[STORE_SUMDB_REASONS];
    uint64_t s3_requests, s3_errors, s3_bytes_read, s3_bytes_written, s3_hits, s3_writes, s3_damaged,
        s3_lease_waits, s3_lease_takeovers, s3_gc_runs, s3_gc_deleted, s3_gc_deleted_bytes;
} store_counters_t;
int store_counters_add(store_t *s, const store_counters_t *delta);
int store_counters_get(store_t *s, store_counters_t *out);

#endif
