/* SPDX-License-Identifier: MIT */
/*
 * members.c — the member table of a zip as stored in the index: the files sorted bytewise by
 * path (the order readdir and lookups want), each with where its data is inside the zip.
 * Record: u16 path length, path, u64 data offset, u64 compressed size, u64 size, u32 crc,
 * u16 method; all little-endian, after a u32 count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_i.h"

typedef struct sort_ref {
    const zipfile_member_t *m;
    const char *path;
} sort_ref_t;

static int by_path(const void *a, const void *b)
{
    return strcmp(((const sort_ref_t *)a)->path, ((const sort_ref_t *)b)->path);
}

int store_members_encode(const zipfile_t *z, size_t prefix_len, buf_t *out)
{
    sort_ref_t *refs = calloc(z->count ? z->count : 1, sizeof *refs);
    if (refs == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < z->count; i++) {
        refs[i].m = &z->members[i];
        refs[i].path = z->members[i].name + prefix_len; /* zipfile_parse checked every name has the prefix */
    }
    qsort(refs, z->count, sizeof *refs, by_path);
    uint8_t hdr[4];
    le_put(hdr, z->count, 4);
    int rc = buf_append(out, hdr, 4);
    for (size_t i = 0; rc == 0 && i < z->count; i++) {
        size_t plen = strlen(refs[i].path);
        if (plen > UINT16_MAX) {
            rc = -EINVAL;
            break;
        }
        uint8_t rec[32];
        le_put(rec, plen, 2);
        rc = buf_append(out, rec, 2);
        if (rc == 0)
            rc = buf_append(out, refs[i].path, plen);
        le_put(rec, refs[i].m->data_offset, 8);
        le_put(rec + 8, refs[i].m->compressed_size, 8);
        le_put(rec + 16, refs[i].m->uncompressed_size, 8);
        le_put(rec + 24, refs[i].m->crc32, 4);
        le_put(rec + 28, refs[i].m->method, 2);
        if (rc == 0)
            rc = buf_append(out, rec, 30);
    }
    free(refs);
    return rc;
}

int store_members_decode(store_object_t *o, const uint8_t *p, size_t len)
{
    if (len < 4)
        return -EIO;
    size_t n = (size_t)le_get(p, 4);
    if (n > len / 32 + 1)
        return -EIO;
    zipfile_entry_t *ms = calloc(n ? n : 1, sizeof *ms);
    store_member_loc_t *locs = calloc(n ? n : 1, sizeof *locs);
    char *names = malloc(len); /* paths plus NULs fit in the blob's size */
    if (ms == NULL || locs == NULL || names == NULL)
        goto fail;
    size_t pos = 4, npos = 0;
    for (size_t i = 0; i < n; i++) {
        if (len - pos < 2)
            goto fail;
        size_t plen = (size_t)le_get(p + pos, 2);
        pos += 2;
        if (len - pos < plen + 30)
            goto fail;
        memcpy(names + npos, p + pos, plen);
        names[npos + plen] = 0;
        ms[i].path = names + npos;
        npos += plen + 1;
        pos += plen;
        locs[i].data_offset = le_get(p + pos, 8);
        locs[i].compressed_size = le_get(p + pos + 8, 8);
        ms[i].size = le_get(p + pos + 16, 8);
        ms[i].crc32 = (uint32_t)le_get(p + pos + 24, 4);
        locs[i].method = (uint16_t)le_get(p + pos + 28, 2);
        pos += 30;
        if (locs[i].data_offset > o->info.size || locs[i].compressed_size > o->info.size - locs[i].data_offset)
            goto fail;
    }
    o->members = ms;
    o->member_locs = locs;
    o->member_names = names;
    o->nmembers = n;
    return 0;
fail:
    free(ms);
    free(locs);
    free(names);
    return -EIO;
}
