/* SPDX-License-Identifier: MIT */
/*
 * zip_content.c — every entry of a module zip read as archive/zip's checksumReader reads it
 * (declared size and CRC-32 enforced), its SHA-256 kept for the h1.
 *
 * Members of up to 8 MiB (every source file, most generated tables) are inflated in one call by
 * libdeflate into a buffer of exactly their declared size, about twice as fast as zlib; larger
 * ones, and any member libdeflate calls corrupt (so the error names what zlib saw), stream
 * through zlib 64 KiB at a time. Either way memory stays flat whatever a member declares, and a
 * member is abandoned as soon as it produces more than its declared size. Members may not
 * overlap (zip_archive.c), so the work is bounded by the zip's own bytes and the 500 MiB of
 * declared content. Measured: x/text's 8 MB zip at about 330 MB/s of content per core (inflate
 * 75%, SHA-256 18%). Entries are independent, so a zip of megabytes is shared among the cores
 * (contiguous runs of entries, one thread each), and the error reported is still the first in
 * order. Members already read while the zip arrived (zip_stream.c) are taken from that walk when
 * its record is of exactly that member, and only the others are read here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "gomod_i.h"

#define INFLATE_CHUNK (64 * 1024)
/* Stored members are hashed in pieces this big, so crc32 and SHA-256 share the cache. */
#define HASH_PIECE (1u << 20)
/* Members up to this size are inflated whole by libdeflate. */
#define WHOLE_INFLATE_MAX (8u << 20)
/* Zips are checked by one thread per this many compressed bytes (up to one per core, and
 * HASH_PARTS_MAX): below it a thread's start costs more than its share saves. */
#define HASH_PART_MIN (1u << 20)
#define HASH_PARTS_MAX 8

/* ---- content ----------------------------------------------------------------------------- */

typedef struct zip_hasher {
    z_stream zs;
    bool zs_ready;
    EVP_MD *sha256;
    EVP_MD_CTX *md;
    uint8_t *chunk;
    struct libdeflate_decompressor *whole; /* for members up to WHOLE_INFLATE_MAX */
    uint8_t *whole_out;                    /* WHOLE_INFLATE_MAX bytes */
} zip_hasher_t;

static int zip_hasher_init(zip_hasher_t *h)
{
    memset(h, 0, sizeof *h);
    h->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->md = EVP_MD_CTX_new();
    h->chunk = malloc(INFLATE_CHUNK);
    h->whole = libdeflate_alloc_decompressor();
    h->whole_out = malloc(WHOLE_INFLATE_MAX);
    if (h->sha256 == NULL || h->md == NULL || h->chunk == NULL || h->whole == NULL || h->whole_out == NULL)
        return -ENOMEM;
    if (inflateInit2(&h->zs, -MAX_WBITS) != Z_OK)
        return -ENOMEM;
    h->zs_ready = true;
    return 0;
}

static void zip_hasher_dispose(zip_hasher_t *h)
{
    if (h->zs_ready)
        inflateEnd(&h->zs);
    EVP_MD_CTX_free(h->md);
    EVP_MD_free(h->sha256);
    free(h->chunk);
    if (h->whole)
        libdeflate_free_decompressor(h->whole);
    free(h->whole_out);
}


static int zip_hash_update(zip_hasher_t *h, uLong *crc, const uint8_t *d, size_t n)
{
    *crc = crc32_z(*crc, d, n);
    return EVP_DigestUpdate(h->md, d, n) == 1 ? 0 : -EIO;
}

/* The fast path: a small member inflated in one call. Returns 1 when libdeflate could not
 * decide (corrupt data, or more output than declared) and zlib should redo it for its words. */
static int zip_inflate_whole(zip_hasher_t *h, const zip_parse_t *p, const zip_entry_t *e, uLong *crc,
                             uint64_t *produced)
{
    size_t in_used = 0, out_len = 0;
    enum libdeflate_result r =
        libdeflate_deflate_decompress_ex(h->whole, p->buf + e->data_offset, (size_t)e->compressed_size, h->whole_out,
                                         (size_t)e->uncompressed_size, &in_used, &out_len);
    if (r != LIBDEFLATE_SUCCESS && r != LIBDEFLATE_SHORT_OUTPUT)
        return 1;
    *crc = libdeflate_crc32((uint32_t)*crc, h->whole_out, out_len);
    if (out_len > 0 && EVP_DigestUpdate(h->md, h->whole_out, out_len) != 1)
        return -EIO;
    *produced = out_len;
    return 0;
}

/* Inflates one deflated entry into the hashes; *produced is what came out, never more than
 * the declared size plus one chunk. */
static int zip_inflate(zip_parse_t *p, zip_hasher_t *h, const zip_entry_t *e, uLong *crc, uint64_t *produced)
{
    z_stream *zs = &h->zs;
    if (inflateReset(zs) != Z_OK)
        return cache_err_set(p->err, -EIO, "zip: inflateReset failed");
    zs->next_in = (Bytef *)(uintptr_t)(p->buf + e->data_offset); /* zlib never writes through next_in */
    zs->avail_in = 0;
    uint64_t in_left = e->compressed_size;
    for (;;) {
        if (zs->avail_in == 0 && in_left > 0) {
            zs->avail_in = in_left > (1u << 30) ? 1u << 30 : (uInt)in_left;
            in_left -= zs->avail_in;
        }
        zs->next_out = h->chunk;
        zs->avail_out = INFLATE_CHUNK;
        int zr = inflate(zs, Z_NO_FLUSH);
        size_t n = INFLATE_CHUNK - zs->avail_out;
        if (n > 0) {
            if (n > e->uncompressed_size - *produced)
                return zip_entry_fail(p, e, "inflates to more than its declared size (%llu bytes)",
                                      (unsigned long long)e->uncompressed_size);
            *produced += n;
            if (zip_hash_update(h, crc, h->chunk, n) < 0)
                return cache_err_set(p->err, -EIO, "zip: SHA-256 failed");
        }
        if (zr == Z_STREAM_END)
            return 0;
        if (zr == Z_OK)
            continue;
        if (zr == Z_MEM_ERROR)
            return cache_err_set(p->err, -ENOMEM, "zip: out of memory inflating");
        if (zr == Z_BUF_ERROR && zs->avail_in == 0 && in_left == 0)
            return zip_entry_fail(p, e, "compressed data ends before the deflate stream does");
        return zip_entry_fail(p, e, "invalid deflate data (%s)", zs->msg ? zs->msg : "corrupt stream");
    }
}

/* Reads one entry as archive/zip's checksumReader does and keeps its SHA-256. */
static int zip_hash_entry(zip_parse_t *p, zip_hasher_t *h, zip_entry_t *e)
{
    if (EVP_DigestInit_ex(h->md, h->sha256, NULL) != 1)
        return cache_err_set(p->err, -EIO, "zip: SHA-256 init failed");
    uLong crc = crc32_z(0, NULL, 0);
    uint64_t produced = 0;
    if (e->method == ZIP_METHOD_STORE) {
        const uint8_t *d = p->buf + e->data_offset;
        for (uint64_t left = e->compressed_size; left > 0;) {
            size_t n = left > HASH_PIECE ? HASH_PIECE : (size_t)left;
            if (zip_hash_update(h, &crc, d, n) < 0)
                return cache_err_set(p->err, -EIO, "zip: SHA-256 failed");
            d += n, left -= n;
        }
        produced = e->compressed_size;
    } else {
        int rc = e->uncompressed_size <= WHOLE_INFLATE_MAX ? zip_inflate_whole(h, p, e, &crc, &produced) : 1;
        if (rc < 0)
            return cache_err_set(p->err, -EIO, "zip: SHA-256 failed");
        if (rc > 0) {
            if (EVP_DigestInit_ex(h->md, h->sha256, NULL) != 1)
                return cache_err_set(p->err, -EIO, "zip: SHA-256 init failed");
            crc = crc32_z(0, NULL, 0);
            produced = 0;
            rc = zip_inflate(p, h, e, &crc, &produced);
        }
        if (rc < 0)
            return rc;
    }
    if (produced != e->uncompressed_size)
        return zip_entry_fail(p, e, "inflates to %llu bytes, fewer than its declared size (%llu bytes)",
                              (unsigned long long)produced, (unsigned long long)e->uncompressed_size);
    /* Without a data descriptor archive/zip checks the CRC-32 only when it is not zero. */
    if (((e->flags & ZIP_FLAG_DESCRIPTOR) != 0 || e->crc32 != 0) && crc != e->crc32)
        return zip_entry_fail(p, e, "CRC-32 %08lx of the content differs from the declared %08x", crc,
                              e->crc32);
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(h->md, e->sha256, &len) != 1 || len != 32)
        return cache_err_set(p->err, -EIO, "zip: SHA-256 failed");
    return 0;
}

/* The walk's record of entry e (zip_stream.c), when it is of exactly this member and passes the
 * checks zip_hash_entry would make: e's SHA-256 is then the record's. Anything else (no record, a
 * record that differs in any way, a CRC-32 that fails) is read again by zip_hash_entry, so that
 * a verdict and its message do not depend on what the walk saw. */
static bool zip_take_streamed(const zip_parse_t *p, zip_entry_t *e)
{
    size_t n = 0;
    const zipstream_member_t *m = zipstream_members(p->pre, &n);
    if (n == 0 || e->is_dir)
        return false;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].header_offset < e->header_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n)
        return false;
    const zipstream_member_t *r = &m[lo];
    if (r->header_offset != e->header_offset || r->data_offset != e->data_offset || r->method != e->method ||
        r->compressed_size != e->compressed_size || r->produced != e->uncompressed_size)
        return false;
    if (((e->flags & ZIP_FLAG_DESCRIPTOR) != 0 || e->crc32 != 0) && r->crc32 != e->crc32)
        return false;
    memcpy(e->sha256, r->sha256, sizeof e->sha256);
    return true;
}

/* One thread's share of the entries left to read: todo[first, end), checked in order with a
 * hasher and an error of its own (a copy of the parse pointing at it); the entries' SHA-256
 * fields are disjoint. */
typedef struct hash_part {
    zip_parse_t p;
    cache_err_t err;
    const size_t *todo;
    size_t first, end;
    int rc;
    pthread_t thread;
    bool started;
} hash_part_t;

static void *hash_part_run(void *arg)
{
    hash_part_t *part = arg;
    zip_hasher_t h;
    int rc = zip_hasher_init(&h);
    if (rc < 0)
        cache_err_set(part->p.err, rc, "zip: out of memory");
    for (size_t i = part->first; rc == 0 && i < part->end; i++)
        rc = zip_hash_entry(&part->p, &h, &part->p.entries[part->todo[i]]);
    zip_hasher_dispose(&h);
    part->rc = rc;
    return NULL;
}

/* How many threads share the entries: one per HASH_PART_MIN bytes of compressed data, at most one
 * per core and HASH_PARTS_MAX. */
static size_t hash_parts(size_t count, uint64_t compressed)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = (size_t)(compressed / HASH_PART_MIN);
    if (cores > 0 && n > (size_t)cores)
        n = (size_t)cores;
    if (n > HASH_PARTS_MAX)
        n = HASH_PARTS_MAX;
    if (n > count)
        n = count;
    return n < 1 ? 1 : n;
}

int zip_hash_entries(zip_parse_t *p)
{
    size_t *todo = malloc((p->count ? p->count : 1) * sizeof *todo);
    if (todo == NULL)
        return cache_err_set(p->err, -ENOMEM, "zip: out of memory");
    size_t count = 0;
    uint64_t compressed = 0;
    for (size_t i = 0; i < p->count; i++) {
        if (zip_take_streamed(p, &p->entries[i]))
            continue;
        todo[count++] = i;
        compressed += p->entries[i].compressed_size;
    }
    hash_part_t parts[HASH_PARTS_MAX];
    size_t n = hash_parts(count, compressed);
    /* contiguous runs of entries of about equal compressed bytes, so that the first failure of
     * the first part that fails is the first failure in order, as one thread would find it */
    size_t next = 0;
    uint64_t taken = 0;
    for (size_t k = 0; k < n; k++) {
        hash_part_t *part = &parts[k];
        memset(part, 0, sizeof *part);
        part->p = *p;
        part->p.err = k == 0 ? p->err : &part->err;
        part->todo = todo;
        part->first = next;
        uint64_t share = compressed * (k + 1) / n;
        while (next < count && (k == n - 1 || taken < share)) {
            taken += p->entries[todo[next]].compressed_size;
            next++;
        }
        part->end = next;
    }
    for (size_t k = 1; k < n; k++)
        parts[k].started = pthread_create(&parts[k].thread, NULL, hash_part_run, &parts[k]) == 0;
    hash_part_run(&parts[0]);
    int rc = parts[0].rc;
    for (size_t k = 1; k < n; k++) {
        if (parts[k].started)
            pthread_join(parts[k].thread, NULL);
        else
            hash_part_run(&parts[k]); /* no thread to be had: this one does it */
        if (rc == 0 && parts[k].rc != 0) {
            rc = parts[k].rc;
            if (p->err != NULL)
                *p->err = parts[k].err;
        }
    }
    free(todo);
    return rc;
}
