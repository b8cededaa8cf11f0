/* SPDX-License-Identifier: MIT */
/*
 * notfound.c — the negative cache: a bucketed hash table with a fixed
 * number of slots per bucket; an insert into a full bucket replaces its oldest entry. Bounded
 * memory whatever a client probes, at the cost of forgetting early under a flood of names.
 */
#include "notfound.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define NF_BUCKETS 1024
#define NF_WAYS 8

typedef struct nf_entry {
    char *key;
    char *why;
    int status;
    struct timespec expires;
} nf_entry_t;

struct notfound {
    _Atomic unsigned ttl_s; /* changed by a reload while other threads put entries */
    pthread_mutex_t lock;
    nf_entry_t slots[NF_BUCKETS][NF_WAYS];
};

static struct timespec now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

static bool before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

notfound_t *notfound_new(unsigned ttl_s)
{
    notfound_t *nf = calloc(1, sizeof *nf);
    if (nf == NULL)
        return NULL;
    nf->ttl_s = ttl_s;
    pthread_mutex_init(&nf->lock, NULL);
    return nf;
}

void notfound_set_ttl(notfound_t *nf, unsigned ttl_s)
{
    atomic_store_explicit(&nf->ttl_s, ttl_s, memory_order_relaxed);
}

static void entry_clear(nf_entry_t *e)
{
    free(e->key);
    free(e->why);
    memset(e, 0, sizeof *e);
}

void notfound_free(notfound_t *nf)
{
    if (nf == NULL)
        return;
    for (size_t b = 0; b < NF_BUCKETS; b++)
        for (size_t w = 0; w < NF_WAYS; w++)
            entry_clear(&nf->slots[b][w]);
    pthread_mutex_destroy(&nf->lock);
    free(nf);
}

static nf_entry_t *bucket(notfound_t *nf, const char *key)
{
    return nf->slots[XXH3_64bits(key, strlen(key)) % NF_BUCKETS];
}

void notfound_put(notfound_t *nf, const char *key, int status, const char *why)
{
    unsigned ttl_s = atomic_load_explicit(&nf->ttl_s, memory_order_relaxed);
    if (ttl_s == 0)
        return;
    struct timespec exp = now_mono();
    exp.tv_sec += ttl_s;
    pthread_mutex_lock(&nf->lock);
    nf_entry_t *b = bucket(nf, key), *victim = &b[0];
    for (size_t w = 0; w < NF_WAYS; w++) {
        if (b[w].key == NULL || strcmp(b[w].key, key) == 0) {
            victim = &b[w];
            break;
        }
        if (before(b[w].expires, victim->expires))
            victim = &b[w];
    }
    entry_clear(victim);
    victim->key = strdup(key);
    victim->why = strdup(why ? why : "not found");
    if (victim->key == NULL || victim->why == NULL)
        entry_clear(victim); /* out of memory: simply not remembered */
    else {
        victim->status = status;
        victim->expires = exp;
    }
    pthread_mutex_unlock(&nf->lock);
}

bool notfound_get(notfound_t *nf, const char *key, int *status, char *why, unsigned cap)
{
    struct timespec now = now_mono();
    bool hit = false;
    pthread_mutex_lock(&nf->lock);
    nf_entry_t *b = bucket(nf, key);
    for (size_t w = 0; w < NF_WAYS; w++) {
        if (b[w].key == NULL || strcmp(b[w].key, key) != 0)
            continue;
        if (before(now, b[w].expires)) {
            hit = true;
            *status = b[w].status;
            if (why != NULL && cap > 0)
                snprintf(why, cap, "%s", b[w].why);
        } else {
            entry_clear(&b[w]);
        }
        break;
    }
    pthread_mutex_unlock(&nf->lock);
    return hit;
}

void notfound_forget(notfound_t *nf, const char *key)
{
    pthread_mutex_lock(&nf->lock);
    nf_entry_t *b = bucket(nf, key);
    for (size_t w = 0; w < NF_WAYS; w++)
        if (b[w].key != NULL && strcmp(b[w].key, key) == 0)
            entry_clear(&b[w]);
    pthread_mutex_unlock(&nf->lock);
}
