/* SPDX-License-Identifier: MIT */
/*
 * member_reader.c — one zip member's bytes, inflated on demand.
 *
 * The store keeps the zip exactly as upstream served it, so the extracted tree of the FUSE view
 * is produced here by inflating a member's deflate stream as it is read. A reader keeps its
 * z_stream between reads: a file read front to back in 128 KiB FUSE requests is inflated
 * once in total, not once per request. A read behind the position (the kernel re-reading a page
 * it dropped) resumes from the nearest checkpoint, a copy of the inflate state saved every
 * 1 MiB or so of output, instead of inflating the member again from its start. Checkpoints are
 * capped in number (each holds zlib's 32 KiB window), so their spacing grows with the member.
 * The CRC-32 is checked when the end is reached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "store_i.h"

#define READER_INPUT (64u << 10)
#define CHECKPOINT_MIN_SPACING (1u << 20)
#define CHECKPOINT_MAX 64

typedef struct checkpoint {
    z_stream zs;          /* a copy made by inflateCopy */
    uint64_t in_consumed; /* compressed bytes the copy has taken in */
    uint64_t out_pos;     /* inflated bytes it has produced */
    uint32_t crc;
} checkpoint_t;

struct store_member_reader {
    store_object_t *zip;
    store_member_loc_t loc;
    uint64_t size;
    uint32_t crc_want;
    uint32_t crc;
    z_stream zs;
    bool zs_ready;
    bool failed;
    uint64_t out_pos; /* inflated bytes produced so far */
    uint64_t in_pos;  /* compressed bytes handed to zlib so far */
    uint64_t spacing; /* output bytes between checkpoints */
    checkpoint_t cps[CHECKPOINT_MAX];
    size_t ncps;      /* cps[0..ncps) hold saved states, ascending out_pos */
    uint8_t in[READER_INPUT];
};

int store_member_reader_new(store_object_t *zip, size_t index, store_member_reader_t **out)
{
    const zipfile_entry_t *ms;
    size_t n;
    int rc = store_zip_members(zip, &ms, &n);
    if (rc != 0)
        return rc;
    if (index >= n)
        return -EINVAL;
    store_member_reader_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    r->zip = store_object_ref(zip);
    r->loc = zip->member_locs[index];
    r->size = ms[index].size;
    r->crc_want = ms[index].crc32;
    if (r->loc.method == ZIP_METHOD_DEFLATE) {
        if (inflateInit2(&r->zs, -MAX_WBITS) != Z_OK) {
            store_object_unref(r->zip);
            free(r);
            return -ENOMEM;
        }
        r->zs_ready = true;
        r->spacing = r->size / CHECKPOINT_MAX + 1;
        if (r->spacing < CHECKPOINT_MIN_SPACING)
            r->spacing = CHECKPOINT_MIN_SPACING;
    }
    *out = r;
    return 0;
}

void store_member_reader_free(store_member_reader_t *r)
{
    if (r == NULL)
        return;
    if (r->zs_ready)
        inflateEnd(&r->zs);
    for (size_t i = 0; i < r->ncps; i++)
        inflateEnd(&r->cps[i].zs);
    store_object_unref(r->zip);
    free(r);
}

/* Saves the current state when the output has passed the next checkpoint position. */
static void checkpoint_maybe_save(store_member_reader_t *r)
{
    if (r->ncps == CHECKPOINT_MAX || r->out_pos >= r->size || r->out_pos < (r->ncps + 1) * r->spacing)
        return;
    checkpoint_t *cp = &r->cps[r->ncps];
    if (inflateCopy(&cp->zs, &r->zs) != Z_OK)
        return; /* out of memory: only slower */
    cp->in_consumed = r->in_pos - r->zs.avail_in;
    cp->out_pos = r->out_pos;
    cp->crc = r->crc;
    r->ncps++;
}

/* Moves the stream back to the last checkpoint at or before off (or to the start). */
static int checkpoint_restore(store_member_reader_t *r, uint64_t off)
{
    size_t i = r->ncps;
    while (i > 0 && r->cps[i - 1].out_pos > off)
        i--;
    if (i == 0) {
        inflateReset(&r->zs);
        r->zs.avail_in = 0;
        r->in_pos = 0;
        r->out_pos = 0;
        r->crc = 0;
        return 0;
    }
    const checkpoint_t *cp = &r->cps[i - 1];
    inflateEnd(&r->zs);
    if (inflateCopy(&r->zs, (z_streamp)&cp->zs) != Z_OK) {
        r->zs_ready = false;
        return -ENOMEM;
    }
    r->zs.avail_in = 0; /* the input buffer is refilled from in_pos */
    r->in_pos = cp->in_consumed;
    r->out_pos = cp->out_pos;
    r->crc = cp->crc;
    return 0;
}

/* Inflates up to len bytes into dst (dst NULL: discard into a scratch buffer). */
static ssize_t inflate_some(store_member_reader_t *r, uint8_t *dst, size_t len)
{
    uint8_t sink[16384];
    size_t done = 0;
    while (done < len) {
        if (r->zs.avail_in == 0 && r->in_pos < r->loc.compressed_size) {
            uint64_t left = r->loc.compressed_size - r->in_pos;
            size_t want = left < READER_INPUT ? (size_t)left : READER_INPUT;
            ssize_t got = store_object_read(r->zip, r->in, want, r->loc.data_offset + r->in_pos);
            if (got < 0)
                return got;
            if ((size_t)got != want)
                return -EIO;
            r->in_pos += want;
            r->zs.next_in = r->in;
            r->zs.avail_in = (uInt)want;
        }
        uint8_t *o = dst ? dst + done : sink;
        size_t room = len - done;
        if (dst == NULL && room > sizeof sink)
            room = sizeof sink;
        r->zs.next_out = o;
        r->zs.avail_out = (uInt)(room > (1u << 30) ? (1u << 30) : room);
        uInt before = r->zs.avail_out;
        int zrc = inflate(&r->zs, Z_NO_FLUSH);
        size_t produced = before - r->zs.avail_out;
        r->crc = (uint32_t)crc32(r->crc, o, (uInt)produced);
        done += produced;
        r->out_pos += produced;
        checkpoint_maybe_save(r);
        if (zrc == Z_STREAM_END) {
            if (r->out_pos != r->size || r->crc != r->crc_want)
                return -EIO;
            break;
        }
        if (zrc != Z_OK && !(zrc == Z_BUF_ERROR && produced > 0))
            return -EIO;
        if (produced == 0 && r->zs.avail_in == 0 && r->in_pos >= r->loc.compressed_size)
            return -EIO; /* input ended before the stream did */
    }
    if (r->out_pos > r->size)
        return -EIO;
    return (ssize_t)done;
}

ssize_t store_member_reader_read(store_member_reader_t *r, void *buf, size_t len, uint64_t off)
{
    if (r->failed)
        return -EIO;
    if (off >= r->size || len == 0)
        return 0;
    if (len > r->size - off)
        len = (size_t)(r->size - off);
    if (r->loc.method != ZIP_METHOD_DEFLATE)
        return store_object_read(r->zip, buf, len, r->loc.data_offset + off);
    if (off < r->out_pos) {
        int rc = checkpoint_restore(r, off);
        if (rc != 0) {
            r->failed = true;
            return rc;
        }
    }
    while (r->out_pos < off) {
        uint64_t gap = off - r->out_pos;
        ssize_t n = inflate_some(r, NULL, gap > (1u << 20) ? (1u << 20) : (size_t)gap);
        if (n <= 0) {
            r->failed = true;
            return n < 0 ? n : -EIO;
        }
    }
    ssize_t n = inflate_some(r, buf, len);
    if (n < 0 || (size_t)n != len) {
        r->failed = true;
        return n < 0 ? n : -EIO;
    }
    return n;
}
