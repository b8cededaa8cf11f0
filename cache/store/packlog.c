/* SPDX-License-Identifier: MIT */
/*
 * packlog.c — the log beside each pack (store_i.h: store_packlog_*): what the pack holds, in a
 * form that needs no index. packs/NNNNNNNN.log gets a record for every chunk appended to
 * packs/NNNNNNNN.pack (its address, where it is, how it is coded, its checksum) and a record for
 * every object committed while this pack was being written (its key, facts, the addresses of its
 * chunks in order, a zip's member table). Both files are synced before the index commit, so a
 * lost or damaged index.db costs a rebuild from the logs (rebuild.c), not the cache.
 *
 * The log is separate from the pack so that the chunks of one ingest stay back to back on disk
 * (a zip is then streamed with one pread per run of raw chunks). Records are small (about 80
 * bytes per 64 KiB chunk) and self-checking: a torn or damaged record ends the scan, and what
 * comes before it is used.
 *
 * Record: u32 magic "MFLR", u8 type, u8 version (1), u16 zero, u32 payload length, payload, u32
 * check (the low half of the XXH3 of everything before it). All little-endian.
 */
#include <errno.h>
#include <string.h>

#include "store_i.h"

#define PACKLOG_MAGIC 0x524c464du /* "MFLR" */
#define PACKLOG_VERSION 1
#define PACKLOG_HEAD 12
#define PACKLOG_TAIL (PACKLOG_RECORD_OVERHEAD - PACKLOG_HEAD)
#define PACKLOG_CHUNK_LEN (32 + 8 + 4 + 4 + 1 + 8)
/* An object record's payload can never be larger than this (a key, facts, 16k chunk addresses of
 * a 500 MiB zip at the smallest chunk size ... and its member table). */
#define PACKLOG_MAX_PAYLOAD (64u << 20)

static int record_open(buf_t *out, int type, size_t *start)
{
    *start = out->len;
    uint8_t h[PACKLOG_HEAD] = {0};
    le_put(h, PACKLOG_MAGIC, 4);
    h[4] = (uint8_t)type;
    h[5] = PACKLOG_VERSION;
    return buf_append(out, h, sizeof h);
}

static int record_close(buf_t *out, size_t start)
{
    size_t payload = out->len - start - PACKLOG_HEAD;
    if (payload > PACKLOG_MAX_PAYLOAD)
        return -E2BIG;
    le_put(out->base + start + 8, payload, 4);
    uint8_t t[PACKLOG_TAIL];
    le_put(t, (uint32_t)chunk_checksum(out->base + start, out->len - start), 4);
    return buf_append(out, t, sizeof t);
}

static int put_u(buf_t *out, uint64_t v, int n)
{
    uint8_t b[8];
    le_put(b, v, n);
    return buf_append(out, b, (size_t)n);
}

int store_packlog_chunk(buf_t *out, const store_chunk_t *c)
{
    size_t start;
    int rc = record_open(out, PACKLOG_CHUNK, &start);
    if (rc == 0)
        rc = buf_append(out, c->hash, 32);
    if (rc == 0)
        rc = put_u(out, c->offset, 8);
    if (rc == 0)
        rc = put_u(out, c->stored_size, 4);
    if (rc == 0)
        rc = put_u(out, c->raw_size, 4);
    if (rc == 0)
        rc = put_u(out, c->codec, 1);
    if (rc == 0)
        rc = put_u(out, c->xxh3, 8);
    return rc == 0 ? record_close(out, start) : rc;
}

int store_packlog_object(buf_t *out, const char *key, const store_row_t *row, const buf_t *members, int64_t seq)
{
    const store_object_info_t *in = &row->info;
    size_t klen = strlen(key), hlen = strlen(in->h1);
    size_t start;
    int rc = record_open(out, PACKLOG_OBJECT, &start);
    if (rc == 0)
        rc = put_u(out, (uint64_t)seq, 8);
    if (rc == 0)
        rc = put_u(out, klen, 2);
    if (rc == 0)
        rc = buf_append(out, key, klen);
    if (rc == 0)
        rc = put_u(out, (uint64_t)in->kind, 1);
    if (rc == 0)
        rc = put_u(out, in->size, 8);
    if (rc == 0)
        rc = buf_append(out, in->sha256, 32);
    if (rc == 0)
        rc = put_u(out, hlen, 1);
    if (rc == 0)
        rc = buf_append(out, in->h1, hlen);
    if (rc == 0)
        rc = put_u(out, (uint64_t)in->stored_at, 8);
    if (rc == 0)
        rc = put_u(out, (uint64_t)in->fetched_at, 8);
    if (rc == 0)
        rc = put_u(out, row->nchunks, 4);
    for (size_t i = 0; rc == 0 && i < row->nchunks; i++)
        rc = buf_append(out, row->chunks[i].hash, 32);
    size_t mlen = members ? members->len : 0;
    if (rc == 0)
        rc = put_u(out, mlen, 4);
    if (rc == 0 && mlen > 0)
        rc = buf_append(out, members->base, mlen);
    return rc == 0 ? record_close(out, start) : rc;
}

int store_packlog_decode_chunk(const uint8_t *p, size_t len, store_chunk_t *c)
{
    if (len != PACKLOG_CHUNK_LEN)
        return -EPROTO;
    memset(c, 0, sizeof *c);
    memcpy(c->hash, p, 32);
    c->offset = le_get(p + 32, 8);
    c->stored_size = (uint32_t)le_get(p + 40, 4);
    c->raw_size = (uint32_t)le_get(p + 44, 4);
    c->codec = p[48];
    c->xxh3 = le_get(p + 49, 8);
    if (c->codec != CHUNK_CODEC_RAW && c->codec != CHUNK_CODEC_ZSTD)
        return -EPROTO;
    if (c->codec == CHUNK_CODEC_RAW && c->stored_size != c->raw_size)
        return -EPROTO;
    return 0;
}

/* A cursor over a payload: every read is checked against what is left. */
typedef struct cursor {
    const uint8_t *p;
    size_t left;
    bool bad;
} cursor_t;

static uint64_t take_u(cursor_t *c, int n)
{
    if (c->bad || c->left < (size_t)n) {
        c->bad = true;
        return 0;
    }
    uint64_t v = le_get(c->p, n);
    c->p += n;
    c->left -= (size_t)n;
    return v;
}

static const uint8_t *take(cursor_t *c, size_t n)
{
    if (c->bad || c->left < n) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *at = c->p;
    c->p += n;
    c->left -= n;
    return at;
}

int store_packlog_decode_object(const uint8_t *p, size_t len, store_packlog_object_t *o)
{
    memset(o, 0, sizeof *o);
    cursor_t c = {p, len, false};
    o->seq = (int64_t)take_u(&c, 8);
    size_t klen = (size_t)take_u(&c, 2);
    const uint8_t *key = take(&c, klen);
    o->row.info.kind = (modkey_kind_t)take_u(&c, 1);
    o->row.info.size = take_u(&c, 8);
    const uint8_t *sha = take(&c, 32);
    size_t hlen = (size_t)take_u(&c, 1);
    const uint8_t *h1 = take(&c, hlen);
    o->row.info.stored_at = (int64_t)take_u(&c, 8);
    o->row.info.fetched_at = (int64_t)take_u(&c, 8);
    uint64_t n = take_u(&c, 4);
    const uint8_t *hashes = n <= c.left / 32 ? take(&c, (size_t)n * 32) : (c.bad = true, NULL);
    size_t mlen = (size_t)take_u(&c, 4);
    const uint8_t *members = take(&c, mlen);
    if (c.bad || c.left != 0 || klen == 0 || klen > MODKEY_MAX || hlen >= sizeof o->row.info.h1 ||
        (unsigned)o->row.info.kind >= MODKEY_KINDS)
        return -EPROTO;
    memcpy(o->key, key, klen);
    o->key[klen] = '\0';
    memcpy(o->row.info.sha256, sha, 32);
    memcpy(o->row.info.h1, h1, hlen);
    o->row.info.h1[hlen] = '\0';
    o->nchunks = (size_t)n;
    o->hashes = hashes;
    o->members = members;
    o->members_len = mlen;
    return 0;
}

uint64_t store_packlog_scan(const uint8_t *p, size_t len, store_packlog_fn fn, void *arg)
{
    uint64_t pos = 0;
    while (len - pos >= PACKLOG_HEAD + PACKLOG_TAIL) {
        const uint8_t *r = p + pos;
        if (le_get(r, 4) != PACKLOG_MAGIC || r[5] != PACKLOG_VERSION)
            break;
        uint64_t plen = le_get(r + 8, 4);
        if (plen > PACKLOG_MAX_PAYLOAD || plen > len - pos - PACKLOG_HEAD - PACKLOG_TAIL)
            break;
        size_t whole = PACKLOG_HEAD + (size_t)plen;
        if (le_get(r + whole, 4) != (uint32_t)chunk_checksum(r, whole))
            break;
        if (fn != NULL && fn(arg, r[4], r + PACKLOG_HEAD, (size_t)plen, pos) != 0)
            break;
        pos += whole + PACKLOG_TAIL;
    }
    return pos;
}
