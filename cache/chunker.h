/* SPDX-License-Identifier: MIT */
/*
 * chunker.h — where chunk boundaries fall.
 *
 * Boundaries follow content (FastCDC with a gear hash and normalised chunking), so an insertion
 * moves only the boundaries near it; for zips they also follow member boundaries, so that each
 * member's compressed data starts a chunk and two versions of a module share the chunks of every
 * unchanged file. Local headers (which name "<module>@<version>/...", so differ per version)
 * become chunks of their own.
 */
#ifndef MODFS_CHUNKER_H
#define MODFS_CHUNKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zipfile.h"

#define CHUNKER_MIN (16u << 10)
#define CHUNKER_AVG (64u << 10)
#define CHUNKER_MAX (256u << 10)

/* Length of the first chunk of p[0..len): a content-defined cut, never more than CHUNKER_MAX,
 * len itself when len ≤ CHUNKER_MIN. */
size_t chunker_cut(const uint8_t *p, size_t len);

/* A run of the object that chunking treats as one unit before content-defined cuts. */
typedef struct chunker_segment {
    uint64_t offset;
    uint64_t len;
    bool compressed; /* already deflated data: storing it raw saves a futile zstd pass */
} chunker_segment_t;

/*
 * Splits an object of size bytes into segments: for a zip (z not NULL) the glue before each
 * member's data (previous data descriptor, local header), each member's data, and the tail
 * (central directory); otherwise the whole object. Empty segments are omitted.
 * Returns the number of segments written to *out (malloc'd, caller frees) or -ENOMEM.
 */
long chunker_segments(uint64_t size, const zipfile_t *z, chunker_segment_t **out);

#endif
