/* SPDX-License-Identifier: MIT */
/*
 * le.h — little-endian integers in stored records (index layouts, member tables), written byte
 * by byte so the format is the same on every host and no read is ever unaligned.
 */
#ifndef MODFS_LE_H
#define MODFS_LE_H

#include <stdint.h>

static inline void le_put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t le_get(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#endif
