/* SPDX-License-Identifier: MIT */
/*
 * ingest.c — bytes in: a checked body becomes content-addressed chunks in a pack and one index
 * transaction.
 *
 * Order matters for crash safety: chunk bytes are appended and synced first, the index rows are
 * committed last. A crash before the commit leaves only unreferenced pack bytes (cut off by the
 * next writer of that pack); a crash after it leaves a complete object.
 * Chunks already in the store (same SHA-256) are not written again. zstd is tried on each new
 * chunk except deflated zip data, and kept only when it saves at least 1/8: zstd frames cost a
 * decode on every read, worth it only where they save disk.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "cache_i.h"
#include "checksum.h"
#include "chunker.h"
#include "log.h"

#define ZSTD_LEVEL 3
#define ZSTD_MIN_INPUT 128 /* below this a frame header eats any saving */

static int sha256(const uint8_t *p, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -EIO;
}

/*
 * The addresses written by this ingest, so a chunk that repeats inside one object (a file that
 * appears twice in a zip) is written once: the index learns of them only at commit. Open
 * addressing on the first 8 bytes of the SHA-256, which are already uniformly distributed.
 */
typedef struct seen_set {
    uint8_t (*hashes)[32];
    size_t cap; /* power of two */
    size_t count;
} seen_set_t;

static bool seen_insert(seen_set_t *s, const uint8_t hash[32], bool *was_there)
{
    if (2 * (s->count + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        uint8_t(*h)[32] = calloc(cap, 32);
        if (h == NULL)
            return false;
        seen_set_t bigger = {h, cap, 0};
        for (size_t i = 0; i < s->cap; i++) {
            bool dup;
            if (memcmp(s->hashes[i], (uint8_t[32]){0}, 32) != 0)
                seen_insert(&bigger, s->hashes[i], &dup);
        }
        free(s->hashes);
        *s = bigger;
    }
    uint64_t slot;
    memcpy(&slot, hash, sizeof slot);
    for (size_t i = slot & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (memcmp(s->hashes[i], hash, 32) == 0) {
            *was_there = true;
            return true;
        }
        if (memcmp(s->hashes[i], (uint8_t[32]){0}, 32) == 0) {
            memcpy(s->hashes[i], hash, 32);
            s->count++;
            *was_there = false;
            return true;
        }
    }
}

/* Writes one chunk unless its address is known; fills ch (pack 0 = known, location comes from the index). */
static int chunk_store(cache_t *c, ZSTD_CCtx *cctx, buf_t *zbuf, seen_set_t *seen, const uint8_t *p, size_t len,
                       bool compressed, index_chunk_t *ch, uint64_t *written, cache_err_t *err)
{
    memset(ch, 0, sizeof *ch);
    if (sha256(p, len, ch->hash) != 0)
        return cache_err_set(err, -EIO, "SHA-256 failed");
    ch->raw_size = (uint32_t)len;
    bool repeat;
    if (!seen_insert(seen, ch->hash, &repeat))
        return cache_err_set(err, -ENOMEM, "out of memory");
    index_chunk_t known;
    if (repeat || index_chunk_find(c->index, ch->hash, &known) == 0)
        return 0;
    const uint8_t *out = p;
    size_t out_len = len;
    ch->codec = CHUNK_CODEC_RAW;
    if (!compressed && len >= ZSTD_MIN_INPUT) {
        size_t bound = ZSTD_compressBound(len);
        buf_reset(zbuf);
        if (buf_reserve(zbuf, bound) != 0)
            return cache_err_set(err, -ENOMEM, "out of memory");
        size_t z = ZSTD_compressCCtx(cctx, zbuf->base, bound, p, len, ZSTD_LEVEL);
        if (!ZSTD_isError(z) && z <= len - len / 8) {
            out = zbuf->base;
            out_len = z;
            ch->codec = CHUNK_CODEC_ZSTD;
        }
    }
    ch->stored_size = (uint32_t)out_len;
    ch->xxh3 = chunk_checksum(out, out_len);
    int rc = pack_append(c->packs, out, out_len, &ch->pack, &ch->offset, err);
    if (rc == 0)
        *written += out_len;
    return rc;
}

int ingest_store(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len, const zipfile_t *z, int64_t now,
                 index_object_t *io, cache_err_t *err)
{
    memset(io, 0, sizeof *io);
    chunker_segment_t *segs = NULL;
    seen_set_t seen = {NULL, 0, 0};
    buf_t members = BUF_INIT, zbuf = BUF_INIT;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    size_t cap = 16;
    io->chunks = calloc(cap, sizeof *io->chunks);
    int rc = 0;
    if (cctx == NULL || io->chunks == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    io->kind = key->kind;
    io->size = len;
    io->stored_at = now;
    io->fetched_at = now;
    if ((rc = sha256(body, len, io->sha256)) != 0) {
        cache_err_set(err, rc, "SHA-256 failed");
        goto out;
    }
    if (z != NULL) {
        memcpy(io->h1, z->h1, sizeof io->h1);
        size_t prefix_len = strlen(key->module) + 1 + strlen(key->version) + 1; /* "<module>@<version>/" */
        if ((rc = members_encode(z, prefix_len, &members)) != 0) {
            cache_err_set(err, rc, "member table");
            goto out;
        }
    }
    long nseg = chunker_segments(len, z, &segs);
    if (nseg < 0) {
        rc = cache_err_set(err, (int)nseg, "out of memory");
        goto out;
    }
    uint64_t written = 0;
    for (long s = 0; s < nseg && rc == 0; s++) {
        const uint8_t *p = body + segs[s].offset;
        size_t left = (size_t)segs[s].len;
        while (left > 0 && rc == 0) {
            size_t n = chunker_cut(p, left);
            if (io->nchunks == cap) {
                index_chunk_t *more = realloc(io->chunks, 2 * cap * sizeof *more);
                if (more == NULL) {
                    rc = cache_err_set(err, -ENOMEM, "out of memory");
                    break;
                }
                io->chunks = more;
                cap *= 2;
            }
            rc = chunk_store(c, cctx, &zbuf, &seen, p, n, segs[s].compressed, &io->chunks[io->nchunks], &written, err);
            if (rc == 0)
                io->nchunks++;
            p += n;
            left -= n;
        }
    }
    if (rc != 0)
        goto out;
    if (written > 0 && (rc = pack_sync(c->packs, err)) != 0)
        goto out;
    rc = index_object_put(c->index, key->escaped, io, z ? &members : NULL, err);
    if (rc == 0)
        LOG_D("stored %s: %zu bytes in %zu chunks, %llu new bytes on disk", key->escaped, len, io->nchunks,
              (unsigned long long)written);
out:
    if (rc != 0)
        index_object_dispose(io);
    free(segs);
    free(seen.hashes);
    buf_dispose(&members);
    buf_dispose(&zbuf);
    ZSTD_freeCCtx(cctx);
    return rc;
}
