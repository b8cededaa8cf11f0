/* SPDX-License-Identifier: MIT */
/*
 * htab.c — the one hash table of modfs (common.h): chained, intrusive, power-of-two buckets.
 *
 * Intrusive because every user already has a heap entry of its own (an object of the hot map, a
 * FUSE node, a negative-cache record, a chunk written by an ingest): the table then costs one
 * pointer per bucket and two words per entry, and removing an entry needs no second lookup.
 * The full hash is kept in the link, so a chain walk compares keys only on a hash match and a
 * resize never calls back into the owner.
 */
#include <errno.h>
#include <stdlib.h>

#include "common.h"

int htab_init(htab_t *t, size_t min_buckets)
{
    size_t n = 16;
    while (n < min_buckets)
        n <<= 1;
    t->buckets = calloc(n, sizeof *t->buckets);
    if (t->buckets == NULL)
        return -ENOMEM;
    t->mask = n - 1;
    t->count = 0;
    return 0;
}

void htab_dispose(htab_t *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->mask = 0;
    t->count = 0;
}

htab_link_t *htab_find(const htab_t *t, uint64_t hash, htab_eq_fn eq, const void *key)
{
    for (htab_link_t *l = t->buckets[hash & t->mask]; l != NULL; l = l->next)
        if (l->hash == hash && eq(l, key))
            return l;
    return NULL;
}

/* Doubles the buckets when entries outnumber them; stays as it is when memory is short. */
static void htab_grow(htab_t *t)
{
    size_t n = (t->mask + 1) * 2;
    htab_link_t **b = calloc(n, sizeof *b);
    if (b == NULL)
        return;
    for (size_t i = 0; i <= t->mask; i++) {
        htab_link_t *l = t->buckets[i];
        while (l != NULL) {
            htab_link_t *next = l->next;
            l->next = b[l->hash & (n - 1)];
            b[l->hash & (n - 1)] = l;
            l = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->mask = n - 1;
}

void htab_insert(htab_t *t, htab_link_t *link, uint64_t hash)
{
    if (t->count >= t->mask + 1)
        htab_grow(t);
    link->hash = hash;
    htab_link_t **b = &t->buckets[hash & t->mask];
    link->next = *b;
    *b = link;
    t->count++;
}

void htab_remove(htab_t *t, htab_link_t *link)
{
    for (htab_link_t **pp = &t->buckets[link->hash & t->mask]; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == link) {
            *pp = link->next;
            link->next = NULL;
            t->count--;
            return;
        }
    }
}

int htab_each(const htab_t *t, int (*fn)(htab_link_t *entry, void *arg), void *arg)
{
    for (size_t i = 0; i <= t->mask; i++) {
        for (htab_link_t *l = t->buckets[i], *next; l != NULL; l = next) {
            next = l->next; /* fn may free l */
            int rc = fn(l, arg);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}
