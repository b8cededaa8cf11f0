/* SPDX-License-Identifier: MIT */
/*
 * checksum.h — the fast checksum kept beside every chunk's address and checked on every read:
 * XXH3-64. On x86-64, Debian's libxxhash picks the widest vector unit the CPU has at run time
 * (the _dispatch entry points); the plain entry point is its SSE2 build, which took 16% of the
 * CPU of zip streaming. Both compute the same value, so stores move freely between machines.
 */
#ifndef MODFS_CHECKSUM_H
#define MODFS_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>
#endif

static inline uint64_t chunk_checksum(const void *p, size_t len)
{
#if defined(__x86_64__)
    return XXH3_64bits_dispatch(p, len);
#else
    return XXH3_64bits(p, len);
#endif
}

#endif
