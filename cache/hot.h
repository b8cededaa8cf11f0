/* SPDX-License-Identifier: MIT */
/*
 * hot.h — the in-memory map of recently used objects: key → object reference, bounded by count
 * and by the bytes of objects kept whole in memory, least recently used out first.
 * A hit is a hash, a short chain walk and a reference count bump under one mutex; it takes no
 * SQLite lock and reads no disk.
 */
#ifndef MODFS_HOT_H
#define MODFS_HOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct hot_map hot_map_t;
typedef struct cache_object cache_object_t;

hot_map_t *hot_map_new(size_t max_objects, uint64_t max_bytes);
void hot_map_free(hot_map_t *h);
/* A new reference to the object under key, or NULL. */
cache_object_t *hot_map_get(hot_map_t *h, const char *key);
/* Puts (or replaces) key → o; the map takes its own reference. */
void hot_map_put(hot_map_t *h, const char *key, cache_object_t *o);
void hot_map_remove(hot_map_t *h, const char *key);

#endif
