/* SPDX-License-Identifier: MIT */
/* hot.c — the hot object map (hot.h): chained hash table plus an intrusive LRU list. */
#include "hot.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cache_i.h"

typedef struct hot_entry {
    struct hot_entry *chain;           /* next in bucket */
    struct hot_entry *newer, *older;   /* LRU list */
    uint64_t hash;
    cache_object_t *obj;               /* one reference held */
    uint64_t bytes;                    /* inline bytes charged */
    char key[];
} hot_entry_t;

struct hot_map {
    pthread_mutex_t lock; /* protects everything below */
    hot_entry_t **buckets;
    size_t nbuckets;      /* power of two */
    size_t count, max_objects;
    uint64_t bytes, max_bytes;
    hot_entry_t *newest, *oldest;
};

hot_map_t *hot_map_new(size_t max_objects, uint64_t max_bytes)
{
    hot_map_t *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->nbuckets = 1;
    while (h->nbuckets < max_objects)
        h->nbuckets <<= 1;
    h->buckets = calloc(h->nbuckets, sizeof *h->buckets);
    if (h->buckets == NULL) {
        free(h);
        return NULL;
    }
    h->max_objects = max_objects;
    h->max_bytes = max_bytes;
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

static void lru_unlink(hot_map_t *h, hot_entry_t *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        h->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        h->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(hot_map_t *h, hot_entry_t *e)
{
    e->older = h->newest;
    e->newer = NULL;
    if (h->newest)
        h->newest->newer = e;
    h->newest = e;
    if (h->oldest == NULL)
        h->oldest = e;
}

/* Unlinks e from its bucket and the LRU; returns the object reference for the caller to drop
 * outside the lock. */
static cache_object_t *entry_remove(hot_map_t *h, hot_entry_t *e)
{
    hot_entry_t **pp = &h->buckets[e->hash & (h->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    lru_unlink(h, e);
    h->count--;
    h->bytes -= e->bytes;
    cache_object_t *o = e->obj;
    free(e);
    return o;
}

static hot_entry_t *find(hot_map_t *h, const char *key, uint64_t hash)
{
    for (hot_entry_t *e = h->buckets[hash & (h->nbuckets - 1)]; e; e = e->chain)
        if (e->hash == hash && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

void hot_map_free(hot_map_t *h)
{
    if (h == NULL)
        return;
    while (h->oldest)
        cache_object_unref(entry_remove(h, h->oldest));
    free(h->buckets);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

cache_object_t *hot_map_get(hot_map_t *h, const char *key)
{
    uint64_t hash = XXH3_64bits(key, strlen(key));
    cache_object_t *o = NULL;
    pthread_mutex_lock(&h->lock);
    hot_entry_t *e = find(h, key, hash);
    if (e) {
        o = cache_object_ref(e->obj);
        if (h->newest != e) {
            lru_unlink(h, e);
            lru_push(h, e);
        }
    }
    pthread_mutex_unlock(&h->lock);
    return o;
}

void hot_map_put(hot_map_t *h, const char *key, cache_object_t *o)
{
    size_t klen = strlen(key);
    hot_entry_t *n = malloc(sizeof *n + klen + 1);
    if (n == NULL)
        return; /* not cached: only slower */
    memset(n, 0, sizeof *n);
    memcpy(n->key, key, klen + 1);
    n->hash = XXH3_64bits(key, klen);
    n->obj = cache_object_ref(o);
    n->bytes = cache_object_bytes(o).len;
    cache_object_t *drop[8];
    size_t ndrop = 0;
    pthread_mutex_lock(&h->lock);
    hot_entry_t *old = find(h, key, n->hash);
    if (old)
        drop[ndrop++] = entry_remove(h, old);
    hot_entry_t **b = &h->buckets[n->hash & (h->nbuckets - 1)];
    n->chain = *b;
    *b = n;
    lru_push(h, n);
    h->count++;
    h->bytes += n->bytes;
    while (ndrop < 8 && h->oldest != n && (h->count > h->max_objects || h->bytes > h->max_bytes))
        drop[ndrop++] = entry_remove(h, h->oldest);
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < ndrop; i++)
        cache_object_unref(drop[i]);
}

void hot_map_remove(hot_map_t *h, const char *key)
{
    uint64_t hash = XXH3_64bits(key, strlen(key));
    cache_object_t *o = NULL;
    pthread_mutex_lock(&h->lock);
    hot_entry_t *e = find(h, key, hash);
    if (e)
        o = entry_remove(h, e);
    pthread_mutex_unlock(&h->lock);
    cache_object_unref(o);
}
