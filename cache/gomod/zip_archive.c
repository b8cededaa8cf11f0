/* SPDX-License-Identifier: MIT */
/*
 * zip_archive.c — reading a module zip's structure as Go's archive/zip does: the end record
 * (with ZIP64 and the prefix shift of a zip with bytes in front), the central directory, then
 * each member's local header and data descriptor.
 *
 * Where Go tolerates a layout no zip writer produces, this file is stricter, because the store
 * serves members by offset: local headers must repeat the central name, members may not
 * overlap each other or the central directory, the entry count must be exact and multi-disk
 * fields must be zero. Every offset and size is checked against the buffer before it is used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gomod_i.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64_LOCATOR 0x07064b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_DESCRIPTOR 0x08074b50u

#define LOCAL_LEN 30
#define CENTRAL_LEN 46
#define EOCD_LEN 22
#define EOCD64_LOCATOR_LEN 20
#define EOCD64_LEN 56
#define EOCD_SEARCH (65 * 1024) /* archive/zip looks no further back than this */
#define ZIP64_EXTRA_ID 0x0001

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)le_get(p, 2);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)le_get(p, 4);
}

static uint64_t rd64(const uint8_t *p)
{
    return le_get(p, 8);
}

/* ---- end of central directory ------------------------------------------------------------ */

/*
 * Finds the end record as archive/zip does: the last "PK\5\6" in the final 65 KiB whose comment
 * fits before the end of the data (bytes after the comment are tolerated), then the ZIP64 end
 * record when a field is saturated and a locator precedes the end record. archive/zip tests the
 * central directory size against 0xffff (not 0xffffffff); copied, since it only decides whether
 * to look for a locator.
 */
int zip_read_end(zip_parse_t *p)
{
    const uint8_t *b = p->buf;
    if (p->len < EOCD_LEN)
        return cache_err_set(p->err, -EINVAL,
                             "zip: not a valid zip file (%zu bytes, no end of central directory)", p->len);
    size_t lo = p->len > EOCD_SEARCH ? p->len - EOCD_SEARCH : 0;
    size_t at = p->len - EOCD_LEN;
    for (;;) {
        if (rd32(b + at) == SIG_EOCD && at + EOCD_LEN + rd16(b + at + 20) <= p->len)
            break;
        if (at == lo)
            return cache_err_set(p->err, -EINVAL,
                                 "zip: not a valid zip file (no end of central directory record)");
        at--;
    }
    uint64_t disk = rd16(b + at + 4), cd_disk = rd16(b + at + 6);
    uint64_t disk_records = rd16(b + at + 8), records = rd16(b + at + 10);
    uint64_t cd_size = rd32(b + at + 12), cd_offset = rd32(b + at + 16);
    uint64_t limit = at;

    if ((records == 0xffff || cd_size == 0xffff || cd_offset == 0xffffffff) && at >= EOCD64_LOCATOR_LEN &&
        rd32(b + at - EOCD64_LOCATOR_LEN) == SIG_EOCD64_LOCATOR) {
        const uint8_t *loc = b + at - EOCD64_LOCATOR_LEN;
        uint64_t rec = rd64(loc + 8);
        if (rd32(loc + 4) != 0 || rd32(loc + 16) != 1)
            return cache_err_set(p->err, -EINVAL, "zip: multi-disk archives are not supported");
        uint64_t loc_off = at - EOCD64_LOCATOR_LEN;
        if (rec > loc_off || loc_off - rec < EOCD64_LEN)
            return cache_err_set(p->err, -EINVAL,
                                 "zip: zip64 end of central directory offset %llu out of range",
                                 (unsigned long long)rec);
        const uint8_t *r = b + rec;
        if (rd32(r) != SIG_EOCD64)
            return cache_err_set(p->err, -EINVAL, "zip: bad zip64 end of central directory signature");
        disk = rd32(r + 16), cd_disk = rd32(r + 20);
        disk_records = rd64(r + 24), records = rd64(r + 32);
        cd_size = rd64(r + 40), cd_offset = rd64(r + 48);
        limit = rec;
    }
    if (disk != 0 || cd_disk != 0 || disk_records != records)
        return cache_err_set(p->err, -EINVAL, "zip: multi-disk archives are not supported");
    if (cd_size > limit)
        return cache_err_set(p->err, -EINVAL, "zip: central directory size %llu larger than the archive",
                             (unsigned long long)cd_size);

    /* archive/zip reads the directory where it ends at the end record (bytes in front of the
     * zip shift every offset by base); if no header is there, it retries at the stated offset. */
    uint64_t at_end = limit - cd_size;
    bool shifted = at_end != cd_offset;
    if (shifted && p->len - at_end >= CENTRAL_LEN && rd32(b + at_end) != SIG_CENTRAL)
        shifted = false;
    if (shifted) {
        if (at_end < cd_offset)
            return cache_err_set(p->err, -EINVAL,
                                 "zip: central directory offset %llu lies after where the directory is",
                                 (unsigned long long)cd_offset);
        p->base = at_end - cd_offset;
        p->cd_start = at_end;
    } else {
        if (cd_offset > limit)
            return cache_err_set(p->err, -EINVAL, "zip: central directory offset %llu out of range",
                                 (unsigned long long)cd_offset);
        p->base = 0;
        p->cd_start = cd_offset;
    }
    p->cd_limit = limit;
    p->records = records;
    return 0;
}

/* ---- central directory ------------------------------------------------------------------- */

static int zip_entry_push(zip_parse_t *p, const zip_entry_t *e)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        zip_entry_t *n = reallocarray(p->entries, cap, sizeof *n);
        if (n == NULL)
            return -ENOMEM;
        p->entries = n;
        p->cap = cap;
    }
    p->entries[p->count++] = *e;
    return 0;
}

/* Reads sizes and offset from a ZIP64 extra field, each only when its 32-bit field is
 * saturated and in that order, as archive/zip does; an unusable field list is ignored. */
static int zip_read_zip64(zip_parse_t *p, zip_entry_t *e, const uint8_t *x, size_t xlen)
{
    bool need_u = e->uncompressed_size == 0xffffffff;
    bool need_c = e->compressed_size == 0xffffffff;
    bool need_o = e->header_offset == 0xffffffff;
    while (xlen >= 4) {
        uint16_t tag = rd16(x), size = rd16(x + 2);
        x += 4, xlen -= 4;
        if (size > xlen)
            break;
        if (tag == ZIP64_EXTRA_ID) {
            const uint8_t *f = x;
            size_t flen = size;
            uint64_t *want[3] = {need_u ? &e->uncompressed_size : NULL, need_c ? &e->compressed_size : NULL,
                                 need_o ? &e->header_offset : NULL};
            for (int i = 0; i < 3; i++) {
                if (want[i] == NULL)
                    continue;
                if (flen < 8)
                    return zip_entry_fail(p, e, "zip64 extra field too short");
                *want[i] = rd64(f);
                f += 8, flen -= 8;
            }
            need_u = need_c = need_o = false;
        }
        x += size, xlen -= size;
    }
    /* A saturated uncompressed size alone may be real (archive/zip accepts it). */
    if (need_c || need_o)
        return zip_entry_fail(p, e, "size or offset is 0xffffffff but no zip64 extra field gives it");
    return 0;
}

/*
 * Reads the central directory as archive/zip does, header after header from its start until
 * something else begins; the count must then equal the end record's. Headers may not run into
 * the end records.
 */
int zip_read_central(zip_parse_t *p)
{
    const uint8_t *b = p->buf;
    uint64_t pos = p->cd_start;
    while (p->cd_limit - pos >= 4 && rd32(b + pos) == SIG_CENTRAL) {
        if (p->cd_limit - pos < CENTRAL_LEN)
            return cache_err_set(p->err, -EINVAL, "zip: central directory entry %zu truncated", p->count);
        const uint8_t *h = b + pos;
        uint64_t n = rd16(h + 28), x = rd16(h + 30), c = rd16(h + 32);
        if (p->cd_limit - pos - CENTRAL_LEN < n + x + c)
            return cache_err_set(p->err, -EINVAL, "zip: central directory entry %zu truncated", p->count);
        zip_entry_t e = {
            .name = h + CENTRAL_LEN,
            .name_len = n,
            .flags = rd16(h + 8),
            .method = rd16(h + 10),
            .crc32 = rd32(h + 16),
            .compressed_size = rd32(h + 20),
            .uncompressed_size = rd32(h + 24),
            .header_offset = rd32(h + 42),
        };
        int rc = zip_read_zip64(p, &e, h + CENTRAL_LEN + n, x);
        if (rc < 0)
            return rc;
        if (e.header_offset > UINT64_MAX - p->base)
            return zip_entry_fail(p, &e, "local header offset out of range");
        e.header_offset += p->base;
        e.is_dir = n > 0 && e.name[n - 1] == '/';
        rc = zip_entry_push(p, &e);
        if (rc < 0)
            return cache_err_set(p->err, rc, "zip: out of memory reading the central directory");
        pos += CENTRAL_LEN + n + x + c;
    }
    if (p->count != p->records)
        return cache_err_set(p->err, -EINVAL,
                             "zip: central directory holds %zu entries, end record says %llu", p->count,
                             (unsigned long long)p->records);
    return 0;
}

/* ---- layout ------------------------------------------------------------------------------ */

/* The local header, the data and the data descriptor of one entry, all before the central
 * directory; sets data_offset and end. */
static int zip_check_local(zip_parse_t *p, zip_entry_t *e)
{
    const uint8_t *b = p->buf;
    uint64_t limit = p->cd_start;
    if (e->flags & ZIP_FLAG_ENCRYPTED)
        return zip_entry_fail(p, e, "encrypted entries are not supported");
    if (e->method != ZIP_METHOD_STORE && e->method != ZIP_METHOD_DEFLATE)
        return zip_entry_fail(p, e, "unsupported compression method %u (only 0 store and 8 deflate)",
                              e->method);
    if (e->method == ZIP_METHOD_STORE && e->compressed_size != e->uncompressed_size)
        return zip_entry_fail(p, e, "stored size %llu differs from declared uncompressed size %llu",
                              (unsigned long long)e->compressed_size,
                              (unsigned long long)e->uncompressed_size);
    if (e->is_dir && e->uncompressed_size != 0)
        return zip_entry_fail(p, e, "directory entry has content (%llu bytes)",
                              (unsigned long long)e->uncompressed_size);
    if (e->header_offset > limit || limit - e->header_offset < LOCAL_LEN)
        return zip_entry_fail(p, e, "local header offset %llu out of range",
                              (unsigned long long)e->header_offset);
    const uint8_t *h = b + e->header_offset;
    if (rd32(h) != SIG_LOCAL)
        return zip_entry_fail(p, e, "bad local header signature at offset %llu",
                              (unsigned long long)e->header_offset);
    uint64_t n = rd16(h + 26), x = rd16(h + 28);
    if (limit - e->header_offset - LOCAL_LEN < n + x)
        return zip_entry_fail(p, e, "local header runs into the central directory");
    if (n != e->name_len || memcmp(h + LOCAL_LEN, e->name, n) != 0) {
        char q[200];
        return zip_entry_fail(p, e, "local header names %s instead", str_quote(q, sizeof q, h + LOCAL_LEN, n));
    }
    e->data_offset = e->header_offset + LOCAL_LEN + n + x;
    if (e->compressed_size > limit - e->data_offset)
        return zip_entry_fail(p, e, "compressed data (%llu bytes at offset %llu) runs past the member area",
                              (unsigned long long)e->compressed_size, (unsigned long long)e->data_offset);
    e->end = e->data_offset + e->compressed_size;
    if (e->flags & ZIP_FLAG_DESCRIPTOR) {
        /* archive/zip reads CRC-32 after an optional signature and ignores the sizes there */
        uint64_t dlen = limit - e->end >= 4 && rd32(b + e->end) == SIG_DESCRIPTOR ? 16 : 12;
        if (limit - e->end < dlen)
            return zip_entry_fail(p, e, "data descriptor runs past the member area");
        uint32_t crc = rd32(b + e->end + dlen - 12);
        if (crc != e->crc32)
            return zip_entry_fail(
                p, e, "data descriptor CRC-32 %08x differs from the central directory's %08x", crc, e->crc32);
        e->end += dlen;
    }
    return 0;
}

static int zip_by_offset(const void *a, const void *b)
{
    uint64_t x = ((const zip_entry_t *)a)->header_offset, y = ((const zip_entry_t *)b)->header_offset;
    return x < y ? -1 : x > y;
}

int zip_check_layout(zip_parse_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        int rc = zip_check_local(p, &p->entries[i]);
        if (rc < 0)
            return rc;
    }
    if (p->count > 1)
        qsort(p->entries, p->count, sizeof *p->entries, zip_by_offset);
    for (size_t i = 1; i < p->count; i++) {
        const zip_entry_t *prev = &p->entries[i - 1], *e = &p->entries[i];
        if (e->header_offset < prev->end) {
            char q[200];
            return zip_entry_fail(p, e, "overlaps zip entry %s", str_quote(q, sizeof q, prev->name, prev->name_len));
        }
    }
    return 0;
}

