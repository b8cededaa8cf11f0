/* SPDX-License-Identifier: MIT */
/*
 * chunker.c — FastCDC cut points and zip-aware segmentation.
 *
 * The gear table is generated from a fixed seed (splitmix64), so every modfs cuts the same bytes
 * at the same places: chunk addresses agree between stores and across restarts. Normalised
 * chunking (a stricter mask before the average size, a looser one after) keeps chunk sizes close
 * to CHUNKER_AVG, which bounds the index rows per MiB.
 */
#include "store_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;
/* 64 KiB average: 16 bits; normalisation level 2 moves two bits to each side (18 before the
 * average, 14 after). The bits are spread over the high half of the word, where every bit
 * depends on the last several dozen bytes, instead of being taken from the low end. */
static uint64_t mask_strict, mask_loose;

static void gear_init(void)
{
    uint64_t x = 0x6d6f646673ull; /* fixed seed: boundaries must not change between builds */
    for (int i = 0; i < 256; i++) {
        x += 0x9e3779b97f4a7c15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        gear[i] = z ^ (z >> 31);
    }
    for (int k = 0; k < 18; k++)
        mask_strict |= 1ull << (63 - 2 * k);
    for (int k = 0; k < 14; k++)
        mask_loose |= 1ull << (63 - 2 * k);
}


size_t store_chunker_cut(const uint8_t *p, size_t len)
{
    pthread_once(&gear_once, gear_init);
    if (len <= CHUNKER_MIN)
        return len;
    size_t end = len < CHUNKER_MAX ? len : CHUNKER_MAX;
    size_t normal = len < CHUNKER_AVG ? len : CHUNKER_AVG;
    uint64_t h = 0;
    size_t i = CHUNKER_MIN;
    for (; i < normal; i++) {
        h = (h << 1) + gear[p[i]];
        if ((h & mask_strict) == 0)
            return i + 1;
    }
    for (; i < end; i++) {
        h = (h << 1) + gear[p[i]];
        if ((h & mask_loose) == 0)
            return i + 1;
    }
    return end;
}

long store_chunker_segments(uint64_t size, const zipfile_t *z, store_segment_t **out)
{
    size_t cap = z ? 2 * z->count + 1 : 1;
    store_segment_t *segs = calloc(cap, sizeof *segs);
    if (segs == NULL)
        return -ENOMEM;
    size_t n = 0;
    uint64_t pos = 0;
    if (z != NULL) {
        for (size_t i = 0; i < z->count; i++) {
            const zipfile_member_t *m = &z->members[i];
            if (m->data_offset > pos) {
                segs[n++] = (store_segment_t){pos, m->data_offset - pos, false};
                pos = m->data_offset;
            }
            if (m->compressed_size > 0 && m->data_offset >= pos) {
                segs[n++] = (store_segment_t){pos, m->compressed_size, m->method == ZIP_METHOD_DEFLATE};
                pos = m->data_offset + m->compressed_size;
            }
        }
    }
    if (size > pos)
        segs[n++] = (store_segment_t){pos, size - pos, false};
    *out = segs;
    return (long)n;
}
