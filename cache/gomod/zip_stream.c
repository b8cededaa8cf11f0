/* SPDX-License-Identifier: MIT */
/*
 * zip_stream.c — a module zip's members read while the zip arrives (gomod.h: zipstream_*), so
 * that most of the work of zipfile_parse (inflate, CRC-32, SHA-256 of every member) is done
 * before the last byte is in.
 *
 * A zip is written front to back: each member's local header, its data, its data descriptor,
 * and the central directory last. The walker follows the local headers in that order. The go
 * command's zips (x/mod/zip through archive/zip) give no sizes in their local headers (a data
 * descriptor follows the data), so a member's end is where its deflate stream ends: the walker
 * tries libdeflate on the bytes in so far and, when the stream is not complete yet, waits for
 * twice as many before trying again (bounded work: at most about twice the member's own).
 * libdeflate succeeds only on a stream ended by bits that really came in, so a success on a
 * prefix is the stream's true end.
 *
 * The design choice: the walker judges nothing. It only records, per local header, what it
 * computed (where the data starts, how many compressed bytes the stream took, how many it
 * inflated to, their CRC-32 and SHA-256). zipfile_parse_streamed then runs every rule of
 * zipfile_parse on the whole zip as before (end record, central directory, names, local headers
 * against the directory, descriptors, layout) and takes a record in place of inflating a member
 * only when the record is of that very member (same local header offset, data offset, method and
 * compressed size, inflating to exactly the declared size) and passes the CRC-32 rule; every
 * other member is read as before, so a verdict and its message are always zipfile_parse's.
 * Anything the walker does not follow (stored members of unknown size, zip64, members larger
 * than its buffer, bytes in front of the zip) just ends the walk: the rest is read at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <openssl/evp.h>

#include "gomod_i.h"

#define LOCAL_LEN 30
#define SIG_LOCAL 0x04034b50u
#define SIG_DESCRIPTOR 0x08074b50u
/* Members inflating to more than this are left to the end (zip_content.c reads them in pieces). */
#define STREAM_INFLATE_MAX (8u << 20)
/* The first try at a member waits for this many bytes of its data (or the member's end). */
#define STREAM_FIRST_TRY 4096u

struct zipstream {
    uint64_t pos;     /* the next local header, or the data descriptor when in_desc */
    uint64_t want;    /* try the member at pos when this many bytes are in */
    bool in_desc;     /* pos is a data descriptor to step over */
    bool ended;       /* the walk is over: the rest is read at the end */
    zipstream_member_t *members;
    size_t count, cap;
    struct libdeflate_decompressor *inflater;
    uint8_t *out; /* STREAM_INFLATE_MAX bytes, allocated at the first deflated member */
    EVP_MD_CTX *md;
};

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

int zipstream_new(zipstream_t **out)
{
    zipstream_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->inflater = libdeflate_alloc_decompressor();
    s->md = EVP_MD_CTX_new();
    if (s->inflater == NULL || s->md == NULL) {
        zipstream_free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void zipstream_free(zipstream_t *s)
{
    if (s == NULL)
        return;
    if (s->inflater != NULL)
        libdeflate_free_decompressor(s->inflater);
    EVP_MD_CTX_free(s->md);
    free(s->out);
    free(s->members);
    free(s);
}

static int end_walk(zipstream_t *s)
{
    s->ended = true;
    return -1;
}

/* Keeps what was computed of the member whose local header is at header_offset. */
static int keep(zipstream_t *s, uint64_t header_offset, uint64_t data_offset, uint16_t method, uint64_t csize,
                const uint8_t *content, size_t n)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        zipstream_member_t *m = realloc(s->members, cap * sizeof *m);
        if (m == NULL)
            return end_walk(s);
        s->members = m;
        s->cap = cap;
    }
    zipstream_member_t *m = &s->members[s->count];
    memset(m, 0, sizeof *m);
    m->header_offset = header_offset;
    m->data_offset = data_offset;
    m->method = method;
    m->compressed_size = csize;
    m->produced = n;
    m->crc32 = libdeflate_crc32(0, content, n);
    unsigned int len = 0;
    if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(s->md, content, n) != 1 ||
        EVP_DigestFinal_ex(s->md, m->sha256, &len) != 1 || len != 32)
        return end_walk(s);
    s->count++;
    return 1;
}

int zipstream_step(zipstream_t *s, const uint8_t *buf, size_t len)
{
    if (s->ended)
        return -1;
    if (s->in_desc) {
        /* archive/zip's reading: CRC-32 and sizes after an optional signature (zip_archive.c) */
        if (len < s->pos + 16)
            return 0;
        s->pos += rd32(buf + s->pos) == SIG_DESCRIPTOR ? 16 : 12;
        s->in_desc = false;
        s->want = 0;
        return 1;
    }
    uint64_t hdr = s->pos;
    if (len < hdr + LOCAL_LEN)
        return 0;
    const uint8_t *h = buf + hdr;
    if (rd32(h) != SIG_LOCAL)
        return end_walk(s); /* the central directory (or anything else): the walk is over */
    uint32_t flags = rd16(h + 6), method = rd16(h + 8), csize = rd32(h + 18);
    uint64_t data = hdr + LOCAL_LEN + rd16(h + 26) + rd16(h + 28);
    if ((flags & ZIP_FLAG_ENCRYPTED) != 0 || csize == 0xffffffffu || rd32(h + 22) == 0xffffffffu)
        return end_walk(s);
    bool descriptor = (flags & ZIP_FLAG_DESCRIPTOR) != 0;
    if (method == ZIP_METHOD_STORE) {
        if (descriptor && csize == 0)
            return end_walk(s); /* its size is known only from the central directory */
        if (csize > STREAM_INFLATE_MAX)
            return end_walk(s);
        if (len < data + csize)
            return 0;
        int rc = keep(s, hdr, data, ZIP_METHOD_STORE, csize, buf + data, csize);
        if (rc < 0)
            return rc;
        s->pos = data + csize;
        s->in_desc = descriptor;
        return 1;
    }
    if (method != ZIP_METHOD_DEFLATE)
        return end_walk(s);
    if (len <= data)
        return 0;
    /* without a descriptor the local header's size says where the data ends: wait for all of it */
    uint64_t need = !descriptor ? data + csize : data + (s->want ? s->want : STREAM_FIRST_TRY);
    if (len < need)
        return 0;
    if (s->out == NULL && (s->out = malloc(STREAM_INFLATE_MAX)) == NULL)
        return end_walk(s);
    size_t avail = descriptor ? len - (size_t)data : csize;
    size_t used = 0, n = 0;
    enum libdeflate_result r =
        libdeflate_deflate_decompress_ex(s->inflater, buf + data, avail, s->out, STREAM_INFLATE_MAX, &used, &n);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE || (r != LIBDEFLATE_SUCCESS && !descriptor))
        return end_walk(s); /* too big for the buffer, or corrupt: the end check reads it and says so */
    if (r != LIBDEFLATE_SUCCESS) {
        /* the stream is not complete in what came in: try again when twice as much is in */
        s->want = 2 * (uint64_t)avail;
        return 0;
    }
    int rc = keep(s, hdr, data, ZIP_METHOD_DEFLATE, used, s->out, n);
    if (rc < 0)
        return rc;
    /* with no descriptor the next header follows the declared size (a stream shorter than it is
     * the end check's business: the record does not match and is not used) */
    s->pos = data + (descriptor ? used : csize);
    s->in_desc = descriptor;
    s->want = 0;
    return 1;
}

void zipstream_end(zipstream_t *s)
{
    s->ended = true;
}

size_t zipstream_walked(const zipstream_t *s)
{
    return s->count;
}

const zipstream_member_t *zipstream_members(const zipstream_t *s, size_t *count)
{
    *count = s != NULL ? s->count : 0;
    return s != NULL ? s->members : NULL;
}
