/* SPDX-License-Identifier: MIT */
/*
 * hot.c — the in-memory map of recently used objects (cache_i.h): the common hash table plus an
 * age list in LRU order, bounded by count and by the bytes of the objects it keeps whole in memory.
 * References dropped by an eviction are released after the lock, so an object's last unref
 * (which frees memory) never runs under it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache_i.h"

#define HOT_HASH_SEED 0x686f74 /* "hot" */
#define HOT_DROP_BATCH 8

typedef struct hot_entry {
    htab_link_t link;                  /* first: the table hands back this pointer */
    agelist_link_t age;                /* LRU order */
    cache_object_t *obj;               /* one reference held */
    uint64_t bytes;                    /* inline bytes charged */
    size_t key_len;
    char key[];
} hot_entry_t;

struct cache_hot {
    pthread_mutex_t lock; /* protects everything below */
    htab_t table;
    size_t max_objects;
    uint64_t bytes, max_bytes;
    agelist_t lru;
};

typedef struct hot_key {
    const char *key;
    size_t len;
} hot_key_t;

static bool hot_eq(const htab_link_t *l, const void *arg)
{
    const hot_entry_t *e = (const hot_entry_t *)l;
    const hot_key_t *k = arg;
    return e->key_len == k->len && memcmp(e->key, k->key, k->len) == 0;
}

cache_hot_t *cache_hot_new(size_t max_objects, uint64_t max_bytes)
{
    cache_hot_t *h = calloc(1, sizeof *h);
    if (h == NULL || htab_init(&h->table, max_objects) != 0) {
        free(h);
        return NULL;
    }
    h->max_objects = max_objects;
    h->max_bytes = max_bytes;
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

static hot_entry_t *oldest(cache_hot_t *h)
{
    return h->lru.oldest ? AGELIST_ENTRY(h->lru.oldest, hot_entry_t, age) : NULL;
}

/* Unlinks e; returns its object reference for the caller to drop outside the lock. */
static cache_object_t *entry_remove(cache_hot_t *h, hot_entry_t *e)
{
    htab_remove(&h->table, &e->link);
    agelist_unlink(&h->lru, &e->age);
    h->bytes -= e->bytes;
    cache_object_t *o = e->obj;
    free(e);
    return o;
}

void cache_hot_free(cache_hot_t *h)
{
    if (h == NULL)
        return;
    while (h->lru.oldest)
        cache_object_unref(entry_remove(h, oldest(h)));
    htab_dispose(&h->table);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

cache_object_t *cache_hot_get(cache_hot_t *h, const char *key, size_t len)
{
    hot_key_t k = {key, len};
    uint64_t hash = hash_bytes(key, len, HOT_HASH_SEED);
    cache_object_t *o = NULL;
    pthread_mutex_lock(&h->lock);
    hot_entry_t *e = (hot_entry_t *)htab_find(&h->table, hash, hot_eq, &k);
    if (e) {
        o = cache_object_ref(e->obj);
        agelist_touch(&h->lru, &e->age);
    }
    pthread_mutex_unlock(&h->lock);
    return o;
}

void cache_hot_put(cache_hot_t *h, const char *key, cache_object_t *o)
{
    size_t klen = strlen(key);
    hot_entry_t *n = malloc(sizeof *n + klen + 1);
    if (n == NULL)
        return; /* not cached: only slower */
    memset(n, 0, sizeof *n);
    memcpy(n->key, key, klen + 1);
    n->key_len = klen;
    n->obj = cache_object_ref(o);
    n->bytes = cache_object_bytes(o).len;
    hot_key_t k = {key, klen};
    uint64_t hash = hash_bytes(key, klen, HOT_HASH_SEED);
    cache_object_t *drop[HOT_DROP_BATCH];
    size_t ndrop = 0;
    pthread_mutex_lock(&h->lock);
    hot_entry_t *old = (hot_entry_t *)htab_find(&h->table, hash, hot_eq, &k);
    if (old)
        drop[ndrop++] = entry_remove(h, old);
    htab_insert(&h->table, &n->link, hash);
    agelist_push(&h->lru, &n->age);
    h->bytes += n->bytes;
    while (ndrop < HOT_DROP_BATCH && oldest(h) != n &&
           (h->table.count > h->max_objects || h->bytes > h->max_bytes))
        drop[ndrop++] = entry_remove(h, oldest(h));
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < ndrop; i++)
        cache_object_unref(drop[i]);
}

void cache_hot_remove(cache_hot_t *h, const char *key)
{
    hot_key_t k = {key, strlen(key)};
    uint64_t hash = hash_bytes(key, k.len, HOT_HASH_SEED);
    cache_object_t *o = NULL;
    pthread_mutex_lock(&h->lock);
    hot_entry_t *e = (hot_entry_t *)htab_find(&h->table, hash, hot_eq, &k);
    if (e)
        o = entry_remove(h, e);
    pthread_mutex_unlock(&h->lock);
    cache_object_unref(o);
}

void cache_hot_clear(cache_hot_t *h)
{
    for (;;) {
        cache_object_t *drop[HOT_DROP_BATCH];
        size_t ndrop = 0;
        pthread_mutex_lock(&h->lock);
        while (ndrop < HOT_DROP_BATCH && oldest(h) != NULL)
            drop[ndrop++] = entry_remove(h, oldest(h));
        pthread_mutex_unlock(&h->lock);
        for (size_t i = 0; i < ndrop; i++)
            cache_object_unref(drop[i]); /* outside the lock: a last unref frees */
        if (ndrop < HOT_DROP_BATCH)
            return;
    }
}
