/* SPDX-License-Identifier: MIT */
/*
 * notfound.c — the negative cache (cache_i.h): the common hash table plus an age list in
 * insertion order. An entry lives until its TTL passes or, when the table is full, until it is the oldest:
 * memory stays bounded whatever a client probes, at the cost of forgetting early under a flood of
 * names.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_i.h"

#define NF_HASH_SEED 0x6e66 /* "nf" */

typedef struct nf_entry {
    htab_link_t link;               /* first: the table hands back this pointer */
    agelist_link_t age;             /* insertion order */
    int64_t expires_ms;             /* monotonic */
    int status;
    char *why;
    char key[];
} nf_entry_t;

struct cache_notfound {
    _Atomic unsigned ttl_s; /* changed by a reload while other threads put entries */
    size_t max_entries;
    pthread_mutex_t lock; /* protects everything below */
    htab_t table;
    agelist_t order;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool nf_eq(const htab_link_t *l, const void *key)
{
    return strcmp(((const nf_entry_t *)l)->key, key) == 0;
}

static uint64_t nf_hash(const char *key)
{
    return hash_bytes(key, strlen(key), NF_HASH_SEED);
}

cache_notfound_t *cache_notfound_new(unsigned ttl_s, size_t max_entries)
{
    cache_notfound_t *nf = calloc(1, sizeof *nf);
    if (nf == NULL || htab_init(&nf->table, 1024) != 0) {
        free(nf);
        return NULL;
    }
    nf->ttl_s = ttl_s;
    nf->max_entries = max_entries;
    pthread_mutex_init(&nf->lock, NULL);
    return nf;
}

static void entry_remove(cache_notfound_t *nf, nf_entry_t *e)
{
    htab_remove(&nf->table, &e->link);
    agelist_unlink(&nf->order, &e->age);
    free(e->why);
    free(e);
}

static nf_entry_t *oldest(cache_notfound_t *nf)
{
    return AGELIST_ENTRY(nf->order.oldest, nf_entry_t, age);
}

void cache_notfound_free(cache_notfound_t *nf)
{
    if (nf == NULL)
        return;
    while (nf->order.oldest != NULL)
        entry_remove(nf, oldest(nf));
    htab_dispose(&nf->table);
    pthread_mutex_destroy(&nf->lock);
    free(nf);
}

void cache_notfound_set_ttl(cache_notfound_t *nf, unsigned ttl_s)
{
    atomic_store_explicit(&nf->ttl_s, ttl_s, memory_order_relaxed);
}

void cache_notfound_put(cache_notfound_t *nf, const char *key, int status, const char *why)
{
    unsigned ttl_s = atomic_load_explicit(&nf->ttl_s, memory_order_relaxed);
    if (ttl_s == 0)
        return;
    size_t klen = strlen(key);
    nf_entry_t *n = malloc(sizeof *n + klen + 1);
    char *w = strdup(why ? why : "not found");
    if (n == NULL || w == NULL) {
        free(n);
        free(w);
        return; /* out of memory: simply not remembered */
    }
    memset(n, 0, sizeof *n);
    memcpy(n->key, key, klen + 1);
    n->why = w;
    n->status = status;
    n->expires_ms = now_ms() + (int64_t)ttl_s * 1000;
    uint64_t hash = nf_hash(key);
    pthread_mutex_lock(&nf->lock);
    nf_entry_t *old = (nf_entry_t *)htab_find(&nf->table, hash, nf_eq, key);
    if (old)
        entry_remove(nf, old);
    while (nf->order.oldest != NULL && nf->table.count >= nf->max_entries)
        entry_remove(nf, oldest(nf));
    htab_insert(&nf->table, &n->link, hash);
    agelist_push(&nf->order, &n->age);
    pthread_mutex_unlock(&nf->lock);
}

bool cache_notfound_get(cache_notfound_t *nf, const char *key, int *status, char *why, size_t cap)
{
    uint64_t hash = nf_hash(key);
    bool hit = false;
    pthread_mutex_lock(&nf->lock);
    nf_entry_t *e = (nf_entry_t *)htab_find(&nf->table, hash, nf_eq, key);
    if (e != NULL && now_ms() < e->expires_ms) {
        hit = true;
        *status = e->status;
        if (why != NULL && cap > 0)
            snprintf(why, cap, "%s", e->why);
    } else if (e != NULL) {
        entry_remove(nf, e);
    }
    pthread_mutex_unlock(&nf->lock);
    return hit;
}

void cache_notfound_forget(cache_notfound_t *nf, const char *key)
{
    uint64_t hash = nf_hash(key);
    pthread_mutex_lock(&nf->lock);
    nf_entry_t *e = (nf_entry_t *)htab_find(&nf->table, hash, nf_eq, key);
    if (e != NULL)
        entry_remove(nf, e);
    pthread_mutex_unlock(&nf->lock);
}
