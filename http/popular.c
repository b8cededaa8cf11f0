/* SPDX-License-Identifier: MIT */
/*
 * popular.c — the most requested modules, counted without a shared write on the hit path.
 *
 * Each loop thread keeps its own small table (http_popular_t, HTTP_POPULAR_SLOTS modules) and
 * notes one GOPROXY request in HTTP_POPULAR_SAMPLE into it: a countdown on the thread, then a
 * hash of the module path and a scan of 32 hashes, all in memory only that thread writes. The
 * table is a space-saving summary (Metwally et al.): a module not in it takes the place of the
 * least counted one and inherits its count plus one, so a module requested more often than
 * 1/SLOTS of the sampled requests is always in it and its count is over-estimated by at most the
 * count it inherited. Once a second the loop copies its table for readers (status.c); the
 * status page merges the copies of every loop (http_popular_merge), summing the counts of a module
 * across loops.
 *
 * Why sampled: the page wants a ranking, not exact figures, and 1 in 8 keeps the ranking of any
 * module that matters while the per-request cost is a decrement; the counts shown are scaled
 * back up and said to be estimates.
 */
#include "http_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define POPULAR_HASH_SEED 0x706f70 /* "pop" */

void http_popular_note(http_popular_t *p, const char *module, size_t len, bool private_module)
{
    uint64_t hash = hash_bytes(module, len, POPULAR_HASH_SEED);
    size_t min = 0;
    for (size_t i = 0; i < HTTP_POPULAR_SLOTS; i++) {
        http_popular_entry_t *e = &p->e[i];
        if (e->count != 0 && e->hash == hash) {
            e->count++;
            return;
        }
        if (e->count < p->e[min].count)
            min = i;
    }
    /* a new module takes an empty slot (count 0 is the least) or the least counted one */
    http_popular_entry_t *e = &p->e[min];
    e->hash = hash;
    e->count++;
    e->private_module = private_module;
    size_t n = len < sizeof e->module - 1 ? len : sizeof e->module - 1;
    memcpy(e->module, module, n);
    e->module[n] = '\0';
}

static int by_hash(const void *a, const void *b)
{
    const http_popular_entry_t *x = a, *y = b;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static int by_count_desc(const void *a, const void *b)
{
    const http_popular_entry_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->module, y->module);
}

int http_popular_merge(const http_popular_t *tables, size_t ntables, http_popular_entry_t *out, size_t cap,
                       size_t *nout)
{
    *nout = 0;
    size_t n = 0;
    http_popular_entry_t *all = malloc((ntables * HTTP_POPULAR_SLOTS + 1) * sizeof *all);
    if (all == NULL)
        return -ENOMEM;
    for (size_t t = 0; t < ntables; t++)
        for (size_t i = 0; i < HTTP_POPULAR_SLOTS; i++)
            if (tables[t].e[i].count != 0)
                all[n++] = tables[t].e[i];
    qsort(all, n, sizeof *all, by_hash);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && all[m - 1].hash == all[i].hash)
            all[m - 1].count += all[i].count;
        else
            all[m++] = all[i];
    }
    qsort(all, m, sizeof *all, by_count_desc);
    *nout = m < cap ? m : cap;
    memcpy(out, all, *nout * sizeof *out);
    free(all);
    return 0;
}
