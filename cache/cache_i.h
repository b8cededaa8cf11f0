/* SPDX-License-Identifier: MIT */
/*
 * cache_i.h — what only cache/ may see: the cache and object structs shared by cache.c (policy:
 * freshness, single-flight, the hot map), ingest.c (bytes in), object.c and member_reader.c
 * (bytes out). The fronts include cache.h only.
 */
#ifndef MODFS_CACHE_I_H
#define MODFS_CACHE_I_H

#include <pthread.h>
#include <stdatomic.h>

#include "cache.h"
#include "flight.h"
#include "index.h"
#include "notfound.h"
#include "pack.h"
#include "upstream.h"
#include "zipfile.h"

/* Objects up to this size are kept whole in memory once opened (every .info, nearly every .mod
 * and list): a cache hit is then a hash lookup and one send, no disk read. */
#define OBJECT_INLINE_MAX (64u << 10)

typedef struct hot_map hot_map_t;

struct cache {
    char *dir;
    char *tmp_dir;
    _Atomic unsigned list_ttl_s; /* a reload may change it (cache_ttls_set) */
    index_t *index;
    pack_set_t *packs;
    flight_t *flight;
    notfound_t *notfound;
    notfound_t *refresh_failed; /* stale objects whose refresh just failed: served as they are for a while */
    upstream_t *upstream;
    hot_map_t *hot;
    atomic_uint_fast64_t hits, misses, upstream_errors;
    uint64_t upstream_requests_flushed; /* part of upstream_request_count() already in the index */
};

/* Where a member's bytes are inside its zip, beside the public cache_member_t. */
typedef struct object_member_loc {
    uint64_t data_offset;
    uint64_t compressed_size;
    uint16_t method;
} object_member_loc_t;

struct cache_object {
    atomic_uint refs;
    cache_t *cache;
    char *key;               /* escaped key */
    modkey_kind_t kind;
    bool immutable;
    uint64_t size;
    int64_t stored_at;
    int64_t fetched_at;
    uint8_t sha256[32];
    char h1[48];
    index_chunk_t *chunks;   /* layout, object order */
    uint64_t *chunk_start;   /* chunk_start[i] = offset of chunks[i] in the object */
    size_t nchunks;
    uint8_t *bytes;          /* whole object when size <= OBJECT_INLINE_MAX, else NULL */

    pthread_mutex_t members_lock; /* protects the member fields while they load */
    bool members_loaded;
    cache_member_t *members;      /* sorted by path */
    object_member_loc_t *member_locs;
    char *member_names;           /* storage of every path */
    size_t nmembers;
};

/* object.c */
/* Builds an object from its index row (takes ownership of io->chunks). For small objects, reads
 * and verifies the bytes now. Returns 0 or -EIO (a corrupt chunk, already dropped) / -ENOMEM. */
int object_from_index(cache_t *c, const char *key, const modkey_t *k, index_object_t *io, cache_object_t **out);
/* Reads and checks one chunk into dst (raw_size bytes). -EIO drops the chunk. */
int object_chunk_read(cache_object_t *o, size_t i, uint8_t *dst);

/* ingest.c */
/* Stores body as key: chunks, packs, one index transaction. z is the parsed zip for .zip keys.
 * Fills io (layout with final locations) for object_from_index. */
int ingest_store(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len, const zipfile_t *z, int64_t now,
                 index_object_t *io, cache_err_t *err);

/* cache.c: removes an object from the hot map (it uses a dropped chunk). */
void cache_hot_forget(cache_t *c, const char *key);

/* members blob (ingest writes it, object.c reads it) */
int members_encode(const zipfile_t *z, size_t prefix_len, buf_t *out);
int members_decode(cache_object_t *o, const uint8_t *p, size_t len);

#endif
