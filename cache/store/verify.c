/* SPDX-License-Identifier: MIT */
/*
 * verify.c — reading the whole store back (store.h: store_verify, `modfs verify`): every chunk's
 * stored bytes against their checksum, then, decoded, against their address (the SHA-256 of the
 * raw bytes). A read in service checks only the cheap checksum; this is the deep check an operator
 * runs on a schedule or after a scare. With heal, a damaged chunk goes the way a damaged read
 * would send it: dropped with every object using it, to be fetched again.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store_i.h"

typedef struct verify {
    store_t *store;
    bool heal;
    uint64_t done, total, bad;
    buf_t stored, raw;
    ZSTD_DCtx *dctx;
    int64_t *doomed; /* chunk ids found bad, dropped after the scan (the scan holds a reader) */
    size_t ndoomed, cap;
    void (*progress)(void *arg, uint64_t done, uint64_t total);
    void *arg;
} verify_t;

static bool chunk_sound(verify_t *v, const store_chunk_t *c)
{
    buf_reset(&v->stored);
    if (buf_reserve(&v->stored, c->stored_size) != 0 ||
        store_pack_read(v->store->packs, c->pack, c->offset, v->stored.base, c->stored_size) != 0 ||
        chunk_checksum(v->stored.base, c->stored_size) != c->xxh3)
        return false;
    const uint8_t *raw = v->stored.base;
    if (c->codec == CHUNK_CODEC_ZSTD) {
        buf_reset(&v->raw);
        if (buf_reserve(&v->raw, c->raw_size) != 0)
            return false;
        size_t n = ZSTD_decompressDCtx(v->dctx, v->raw.base, c->raw_size, v->stored.base, c->stored_size);
        if (ZSTD_isError(n) || n != c->raw_size)
            return false;
        raw = v->raw.base;
    } else if (c->stored_size != c->raw_size) {
        return false;
    }
    uint8_t sum[32];
    unsigned int len = 0;
    return EVP_Digest(raw, c->raw_size, sum, &len, EVP_sha256(), NULL) == 1 && len == 32 &&
           memcmp(sum, c->hash, 32) == 0;
}

static int verify_chunk(void *arg, const store_chunk_t *c)
{
    verify_t *v = arg;
    if (!chunk_sound(v, c)) {
        v->bad++;
        LOG_E("verify: chunk %lld (pack %08u offset %llu) is damaged", (long long)c->id, c->pack,
              (unsigned long long)c->offset);
        if (v->ndoomed == v->cap) {
            size_t cap = v->cap ? 2 * v->cap : 64;
            int64_t *more = realloc(v->doomed, cap * sizeof *more);
            if (more == NULL)
                return -ENOMEM;
            v->doomed = more;
            v->cap = cap;
        }
        v->doomed[v->ndoomed++] = c->id;
    }
    v->done++;
    if (v->progress != NULL && (v->done % 256 == 0 || v->done == v->total))
        v->progress(v->arg, v->done, v->total);
    return 0;
}

int store_verify(store_t *s, bool heal, uint64_t *checked, uint64_t *bad,
                 void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg)
{
    verify_t v = {.store = s, .heal = heal, .stored = BUF_INIT, .raw = BUF_INIT, .progress = progress, .arg = arg};
    v.dctx = ZSTD_createDCtx();
    int rc = v.dctx ? store_index_chunks_visit(s->index, verify_chunk, &v, &v.total) : -ENOMEM;
    for (size_t i = 0; rc == 0 && heal && i < v.ndoomed; i++) {
        atomic_store(&s->garbage, true);
        rc = store_index_chunk_drop(s->index, v.doomed[i], s->drop_hook, s->drop_arg);
    }
    *checked = v.done;
    *bad = v.bad;
    free(v.doomed);
    buf_dispose(&v.stored);
    buf_dispose(&v.raw);
    ZSTD_freeDCtx(v.dctx);
    return rc;
}
