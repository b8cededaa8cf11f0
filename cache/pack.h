/* SPDX-License-Identifier: MIT */
/*
 * pack.h — append-only pack files holding chunk bytes.
 *
 * Each process writes to one pack at a time, which it holds with an exclusive flock, so several
 * modfs processes sharing a cache dir never append to the same file. Packs are only appended to;
 * a crash leaves at most bytes past the last indexed chunk, which the next writer to adopt that
 * pack cuts off (the index says where the referenced bytes end).
 */
#ifndef MODFS_PACK_H
#define MODFS_PACK_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define PACK_MAX_BYTES (256ull << 20) /* a pack is closed for writing past this size */
#define PACK_MAX_COUNT 65536

typedef struct pack_set pack_set_t;

/* Tells the pack set where the indexed bytes of pack_id end (0 if none), to cut a crashed tail. */
typedef int (*pack_referenced_end_fn)(void *arg, uint32_t pack_id, uint64_t *end);

/* Opens (creating) the pack directory. Thread-safe afterwards. */
int pack_set_open(const char *dir, pack_referenced_end_fn referenced_end, void *arg, pack_set_t **out,
                  cache_err_t *err);
void pack_set_close(pack_set_t *ps);

/* Appends len bytes to this process's writable pack; returns where they went. Thread-safe. */
int pack_append(pack_set_t *ps, const void *data, size_t len, uint32_t *pack_id, uint64_t *offset,
                cache_err_t *err);
/* Makes every append so far durable (fdatasync). */
int pack_sync(pack_set_t *ps, cache_err_t *err);
/* Reads exactly len bytes at off of pack_id. Returns 0, -EIO (short or failed read), -ENOENT. */
int pack_read(pack_set_t *ps, uint32_t pack_id, uint64_t off, void *buf, size_t len);
/* Bytes of all pack files on disk. */
uint64_t pack_set_disk_bytes(pack_set_t *ps);

#endif
