/* SPDX-License-Identifier: MIT */
/*
 * index.h — the SQLite index of the store.
 *
 * Tables: chunks (content address → where the bytes are, how they are coded, their checksum),
 * objects (key → size, hashes, times, and the object's layout: the list of its chunks with their
 * locations, one BLOB so that opening an object is one row read), zip_members (key → the sorted
 * member table of a zip, one BLOB), counters. An object and its chunks are committed in one
 * transaction, after the chunk bytes are durable: a crash never leaves a visible partial object.
 * Thread-safe (one connection behind a mutex); several processes may share the file (WAL).
 */
#ifndef MODFS_INDEX_H
#define MODFS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef struct index index_t;

#define CHUNK_CODEC_RAW 0
#define CHUNK_CODEC_ZSTD 1

typedef struct index_chunk {
    int64_t id;
    uint64_t offset;       /* in the pack */
    uint64_t xxh3;         /* of the stored bytes: checked on every read */
    uint32_t pack;
    uint32_t stored_size;
    uint32_t raw_size;
    uint8_t codec;
    uint8_t hash[32];      /* SHA-256 of the raw bytes: the address (only filled where needed) */
} index_chunk_t;

typedef struct index_object {
    int kind;              /* modkey_kind_t */
    uint64_t size;
    uint8_t sha256[32];
    char h1[48];
    int64_t stored_at;     /* when first stored (unix s) */
    int64_t fetched_at;    /* when last confirmed by upstream (unix s): freshness of list/@latest */
    index_chunk_t *chunks; /* in object order; malloc'd */
    size_t nchunks;
} index_object_t;

int index_open(const char *path, index_t **out, cache_err_t *err);
void index_close(index_t *ix);

/* Loads an object with its layout. 0, -ENOENT, -EIO. */
int index_object_get(index_t *ix, const char *key, index_object_t *out);
void index_object_dispose(index_object_t *o);

/* Finds a stored chunk by address. 0 (out filled), -ENOENT. */
int index_chunk_find(index_t *ix, const uint8_t hash[32], index_chunk_t *out);

/*
 * Commits an object in one transaction: every chunk of obj->chunks (hash filled; location filled
 * for chunks this ingest wrote) is inserted unless its address is already known, in which case
 * the known location is used and written back into obj->chunks; then the object row and, for
 * zips, the member table (members may be NULL) replace any previous ones.
 */
int index_object_put(index_t *ix, const char *key, index_object_t *obj, const buf_t *members, cache_err_t *err);

/* Updates fetched_at of an object (upstream confirmed an unchanged list). */
int index_object_touch(index_t *ix, const char *key, int64_t fetched_at);

/* Loads the member table BLOB of a zip object. 0, -ENOENT. */
int index_members_get(index_t *ix, const char *key, buf_t *out);

/* Forgets a chunk whose bytes failed their check, and every object that uses it. Returns 0. */
int index_chunk_drop(index_t *ix, int64_t chunk_id);

/* Where the indexed bytes of a pack end. */
int index_pack_end(index_t *ix, uint32_t pack, uint64_t *end);

/* Visits stored keys starting with prefix in ascending order; see cache_keys_visit. */
int index_keys_visit(index_t *ix, const char *prefix, int (*visit)(void *, const char *), void *arg);

typedef struct index_stats {
    uint64_t objects, logical_bytes, chunks, unique_bytes, stored_bytes;
    uint64_t hits, misses, upstream_requests, upstream_errors;
} index_stats_t;
int index_stats_get(index_t *ix, index_stats_t *st);

/* Adds to the persistent counters. */
int index_counters_add(index_t *ix, uint64_t hits, uint64_t misses, uint64_t upstream_requests,
                       uint64_t upstream_errors);

#endif
