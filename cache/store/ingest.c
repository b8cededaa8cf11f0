/* SPDX-License-Identifier: MIT */
/*
 * ingest.c — bytes in (store.h: store_put): a checked body becomes content-addressed chunks in a
 * pack and rows in an index transaction (shared with concurrent ingests: index.c's group commit),
 * and the stored object is built from what was written.
 *
 * Order matters for crash safety: chunk bytes (with their records in the pack's log, and then the
 * object's own record there) are appended and synced first, the index rows are committed last. A crash before the commit leaves only unreferenced pack bytes (cut off by the
 * next writer of that pack); a crash after it leaves a complete object. The fault points of test
 * builds sit at each of those steps.
 * Chunks already in the store (same SHA-256) are not written again. zstd is tried on each new
 * chunk except deflated zip data, and kept only when it saves at least 1/8: zstd frames cost a
 * decode on every read, worth it only where they save disk.
 * Nothing is read back: the object handed back holds the layout just committed, a small object's
 * bytes copied from the body, and a zip's member table decoded from the bytes just encoded.
 * store_put_with may also hand its caller an early object (store.h), made before a chunk is cut:
 * the body's facts and a copy of its bytes in memory (object.c: store_object_build_early), never
 * read from the packs, for that caller's client alone and never put where another lookup finds
 * it. It costs a copy of the body, counted against the store's budget of loaded bytes, and saves
 * that client the cutting, compressing, writing, syncing and committing of the object (most of a
 * zip's miss once it has been checked).
 */
#include <assert.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "store_i.h"

static_assert(STORE_EARLY_MAX <= STORE_LOAD_OBJECT_MAX, "an early object's bytes fit a loaded object's");

#define ZSTD_LEVEL 3
#define ZSTD_MIN_INPUT 128 /* below this a frame header eats any saving */

/* Bodies from this size on are cut on two threads. */
#define CUT_SPLIT_MIN (1u << 20)

/* The most chunks an object of len bytes in nseg segments can have: every cut but a segment's
 * last is at least CHUNKER_MIN long. */
static size_t max_chunks(size_t len, long nseg)
{
    return len / CHUNKER_MIN + (size_t)nseg + 1;
}

/* A chunk written by this ingest, so that one repeating inside the object (a file that appears
 * twice in a zip) is written once: the index learns of them only at commit. */
typedef struct seen_chunk {
    htab_link_t link;
    size_t index; /* into the row's chunks */
} seen_chunk_t;

typedef struct ingest {
    store_t *store;
    store_row_t *row;
    htab_t seen;
    seen_chunk_t *seen_entries; /* one per chunk; the row's chunk array never moves */
    ZSTD_CCtx *cctx;
    buf_t zbuf;
    uint64_t written;
    store_pack_holds_t holds; /* the packs this ingest has uncommitted bytes in */
} ingest_t;

static int sha256_of(const uint8_t *p, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -EIO;
}

static bool seen_eq(const htab_link_t *l, const void *key)
{
    const seen_chunk_t *e = (const seen_chunk_t *)l;
    const ingest_t *in = key; /* the candidate is the row's last chunk */
    return memcmp(in->row->chunks[e->index].hash, in->row->chunks[in->row->nchunks].hash, 32) == 0;
}

/* Writes chunk row->chunks[row->nchunks] (its hash and raw_size filled) unless its address is
 * known; pack 0 means known (the location comes from the index at commit). */
static int chunk_store(ingest_t *in, const uint8_t *p, size_t len, bool compressed, cache_err_t *err)
{
    store_row_t *row = in->row;
    store_chunk_t *ch = &row->chunks[row->nchunks];
    uint64_t h;
    memcpy(&h, ch->hash, sizeof h); /* the address is already uniformly distributed */
    if (htab_find(&in->seen, h, seen_eq, in) != NULL)
        return 0;
    seen_chunk_t *e = &in->seen_entries[row->nchunks];
    e->index = row->nchunks;
    htab_insert(&in->seen, &e->link, h);
    store_chunk_t known;
    if (store_index_chunk_find(in->store->index, ch->hash, &known) == 0)
        return 0;
    const uint8_t *out = p;
    size_t out_len = len;
    ch->codec = CHUNK_CODEC_RAW;
    if (!compressed && len >= ZSTD_MIN_INPUT) {
        size_t bound = ZSTD_compressBound(len);
        buf_reset(&in->zbuf);
        if (buf_reserve(&in->zbuf, bound) != 0)
            return cache_err_set(err, -ENOMEM, "out of memory");
        size_t z = ZSTD_compressCCtx(in->cctx, in->zbuf.base, bound, p, len, ZSTD_LEVEL);
        if (!ZSTD_isError(z) && z <= len - len / 8) {
            out = in->zbuf.base;
            out_len = z;
            ch->codec = CHUNK_CODEC_ZSTD;
        }
    }
    ch->stored_size = (uint32_t)out_len;
    ch->xxh3 = chunk_checksum(out, out_len);
    int rc = store_pack_append(in->store->packs, out, ch, &in->holds, err);
    if (rc == 0)
        in->written += out_len;
    return rc;
}

/* One thread's share of the cutting: segments [first, end) cut and their chunks' addresses
 * computed into chunks[0..n) (raw_size and hash; the rest zero). */
typedef struct cut_part {
    const uint8_t *body;
    const store_segment_t *segs;
    long first, end;
    store_chunk_t *chunks;
    size_t n;
    int rc;
    pthread_t thread;
    bool started;
} cut_part_t;

static void *cut_part_run(void *arg)
{
    cut_part_t *part = arg;
    for (long s = part->first; part->rc == 0 && s < part->end; s++) {
        const uint8_t *p = part->body + part->segs[s].offset;
        size_t left = (size_t)part->segs[s].len;
        while (left > 0) {
            size_t n = store_chunker_cut(p, left);
            store_chunk_t *ch = &part->chunks[part->n++];
            ch->raw_size = (uint32_t)n;
            if (sha256_of(p, n, ch->hash) != 0) {
                part->rc = -EIO;
                break;
            }
            p += n;
            left -= n;
        }
    }
    return NULL;
}

/* Cuts every segment into chunks and computes their addresses into row->chunks: on two threads
 * for a body of megabytes (segments are cut independently, so the cuts are the same). */
static int cut_all(const uint8_t *body, size_t len, const store_segment_t *segs, long nseg, store_row_t *row)
{
    cut_part_t parts[2];
    memset(parts, 0, sizeof parts);
    long split = nseg;
    if (len >= CUT_SPLIT_MIN && nseg > 1) {
        uint64_t half = 0;
        for (split = 0; split < nseg - 1 && half < len / 2; split++)
            half += segs[split].len;
    }
    parts[0] = (cut_part_t){.body = body, .segs = segs, .first = 0, .end = split, .chunks = row->chunks};
    parts[1] = (cut_part_t){.body = body, .segs = segs, .first = split, .end = nseg};
    if (split < nseg) {
        uint64_t bytes = 0;
        for (long s = split; s < nseg; s++)
            bytes += segs[s].len;
        parts[1].chunks = calloc(max_chunks((size_t)bytes, nseg - split), sizeof *parts[1].chunks);
        if (parts[1].chunks == NULL)
            return -ENOMEM;
        parts[1].started = pthread_create(&parts[1].thread, NULL, cut_part_run, &parts[1]) == 0;
    }
    cut_part_run(&parts[0]);
    if (split < nseg) {
        if (parts[1].started)
            pthread_join(parts[1].thread, NULL);
        else
            cut_part_run(&parts[1]); /* no thread to be had: this one does it */
        memcpy(row->chunks + parts[0].n, parts[1].chunks, parts[1].n * sizeof *parts[1].chunks);
        free(parts[1].chunks);
    }
    return parts[0].rc != 0 ? parts[0].rc : parts[1].rc;
}

/* Cuts every segment into chunks and stores them into in->row. */
static int ingest_chunks(ingest_t *in, const uint8_t *body, size_t len, const store_segment_t *segs, long nseg,
                         cache_err_t *err)
{
    STORE_FAULT("chunks-start");
    store_row_t *row = in->row;
    int rc = cut_all(body, len, segs, nseg, row);
    if (rc != 0)
        return cache_err_set(err, rc, rc == -ENOMEM ? "out of memory" : "SHA-256 failed");
    for (long s = 0; s < nseg; s++) {
        const uint8_t *p = body + segs[s].offset;
        size_t left = (size_t)segs[s].len;
        while (left > 0) {
            size_t n = row->chunks[row->nchunks].raw_size;
            if ((rc = chunk_store(in, p, n, segs[s].compressed, err)) != 0)
                return rc;
            row->nchunks++;
            p += n;
            left -= n;
        }
    }
    return 0;
}

/* A wall-clock time in nanoseconds: orders the log records of one key (the later wins). */
static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}


/* The early answer of one store_put_with (store.h), offered once across its attempts. */
typedef struct early {
    store_early_fn fn;
    void *arg;
    bool answered; /* fn was called with an object */
} early_t;

static int put_once(store_t *s, const modkey_t *key, const uint8_t *body, size_t len, const zipfile_t *z,
                    const uint8_t *sha256, int64_t now, early_t *early, store_object_t **out, cache_err_t *err);

int store_put(store_t *s, const modkey_t *key, const uint8_t *body, size_t len, const zipfile_t *z, int64_t now,
              store_object_t **out, cache_err_t *err)
{
    return store_put_with(s, key, body, len, z, NULL, now, out, err);
}

int store_put_with(store_t *s, const modkey_t *key, const uint8_t *body, size_t len, const zipfile_t *z,
                   const store_put_extra_t *extra, int64_t now, store_object_t **out, cache_err_t *err)
{
    const store_put_extra_t none = {0};
    if (extra == NULL)
        extra = &none;
    early_t early = {.fn = extra->early, .arg = extra->early_arg};
    if (s->max_bytes > 0 && len > s->max_bytes)
        return cache_err_set(err, -EDQUOT, "%s is %zu bytes, more than the store's whole budget (--max-size %llu)",
                             key->escaped, len, (unsigned long long)s->max_bytes);
    /* Room first: the store stays within its budget (plus at most a pack compaction is copying)
     * rather than passing it and evicting after. */
    store_maintain_for(s, len);
    int rc = put_once(s, key, body, len, z, extra->sha256, now, &early, out, err);
    if (rc == -EAGAIN) /* gc took a chunk this ingest counted on: once more, from what is stored now */
        rc = put_once(s, key, body, len, z, extra->sha256, now, &early, out, err);
    if (rc != 0)
        return rc;
    if (!key->immutable)
        atomic_store(&s->garbage, true); /* a replaced list, @latest or query leaves its old copy */
    return 0;
}

/* Hands the early answer (store.h: store_put_with) its object: the row's facts, with a copy of the
 * body's bytes in memory and no layout (no chunk is cut yet; nothing ever reads the packs for it).
 * Nothing is offered when the object cannot be made (too large, the store's loaded bytes at their
 * budget, no memory): the caller then answers after the commit. */
static void early_offer(store_t *s, const modkey_t *key, const store_row_t *row, const uint8_t *body,
                        const buf_t *members, early_t *early)
{
    store_early_fn fn = early->fn;
    early->fn = NULL; /* once, whatever happens here */
    store_object_t *o = NULL;
    int rc = store_object_build_early(s, key->escaped, &row->info, body, members ? members->base : NULL,
                                      members ? members->len : 0, &o);
    if (rc != 0) {
        LOG_D("%s: no early answer (%s): answered once stored", key->escaped, strerror(-rc));
        return;
    }
    early->answered = true;
    fn(early->arg, o);
}

static int put_once(store_t *s, const modkey_t *key, const uint8_t *body, size_t len, const zipfile_t *z,
                    const uint8_t *sha256, int64_t now, early_t *early, store_object_t **out, cache_err_t *err)
{
    store_row_t row = {0};
    ingest_t in = {.store = s, .row = &row, .zbuf = BUF_INIT};
    store_segment_t *segs = NULL;
    buf_t members = BUF_INIT, record = BUF_INIT;
    int rc = 0;
    row.info.kind = key->kind;
    row.info.immutable = key->immutable;
    row.queue = store_admit_queue(s, key->escaped);
    row.info.size = len;
    row.info.stored_at = now;
    row.info.fetched_at = now;
    if (sha256 != NULL)
        memcpy(row.info.sha256, sha256, sizeof row.info.sha256);
    else if ((rc = sha256_of(body, len, row.info.sha256)) != 0) {
        cache_err_set(err, rc, "SHA-256 failed");
        goto out;
    }
    if (z != NULL) {
        memcpy(row.info.h1, z->h1, sizeof row.info.h1);
        size_t prefix_len = strlen(key->module) + 1 + strlen(key->version) + 1; /* "<module>@<version>/" */
        if ((rc = store_members_encode(z, prefix_len, &members)) != 0) {
            cache_err_set(err, rc, "member table");
            goto out;
        }
    }
    /* the body passed every check before store_put: the caller's client need not wait for its
     * chunks, their sync and the index commit, which are what make it everyone's */
    if (early->fn != NULL && len <= STORE_EARLY_MAX)
        early_offer(s, key, &row, body, z ? &members : NULL, early);
    long nseg = store_chunker_segments(len, z, &segs);
    if (nseg < 0) {
        rc = cache_err_set(err, (int)nseg, "out of memory");
        goto out;
    }
    size_t cap = max_chunks(len, nseg);
    row.chunks = calloc(cap, sizeof *row.chunks);
    in.seen_entries = calloc(cap, sizeof *in.seen_entries);
    in.cctx = ZSTD_createCCtx();
    if (row.chunks == NULL || in.seen_entries == NULL || in.cctx == NULL || htab_init(&in.seen, cap) != 0) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = ingest_chunks(&in, body, len, segs, nseg, err)) != 0)
        goto out;
    /* The object's own record in the pack log, so the index can be rebuilt without it. */
    if ((rc = store_packlog_object(&record, key->escaped, &row, z ? &members : NULL, now_ns())) != 0 ||
        (rc = store_pack_log(s->packs, &record, err)) != 0) {
        cache_err_set(err, rc, "pack log of %s: %s", key->escaped, strerror(-rc));
        goto out;
    }
    STORE_FAULT("pack-written");
    if ((rc = store_pack_sync(s->packs, err)) != 0)
        goto out;
    STORE_FAULT("pack-synced");
    if ((rc = store_index_object_put(s->index, key->escaped, &row, z ? &members : NULL, err)) != 0)
        goto out;
    STORE_FAULT("committed");
    LOG_D("stored %s: %zu bytes in %zu chunks, %llu new bytes on disk", key->escaped, len, row.nchunks,
          (unsigned long long)in.written);
    rc = store_object_build(s, key->escaped, &row, body, out);
    if (rc == 0 && z != NULL) {
        store_object_t *o = *out;
        rc = store_members_decode(o, members.base, members.len);
        o->members_loaded = rc == 0;
        if (rc != 0) {
            store_object_unref(o);
            *out = NULL;
        }
    }
    if (rc != 0)
        cache_err_set(err, rc, "%s: stored, but its object cannot be built", key->escaped);
    else if (early->answered)
        /* the early object was its first whole read: as for a handle that answered a miss itself,
         * the next whole read of this one is a read again, loaded (store_object_load) */
        atomic_store_explicit(&(*out)->load_asks, 1, memory_order_relaxed);
out:
    store_pack_unhold(s->packs, &in.holds); /* committed, or given up: the packs may go their way */
    store_row_dispose(&row);
    htab_dispose(&in.seen);
    free(in.seen_entries);
    free(segs);
    buf_dispose(&members);
    buf_dispose(&record);
    buf_dispose(&in.zbuf);
    ZSTD_freeCCtx(in.cctx);
    return rc;
}
