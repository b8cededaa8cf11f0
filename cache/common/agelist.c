/* SPDX-License-Identifier: MIT */
/*
 * agelist.c — the age list (common.h): the order of the entries of a bounded table, newest to
 * oldest, beside the hash table that finds them. An LRU (the hot map, which moves an entry to
 * the front when it is used) and a table in insertion order (the negative cache, the mount's
 * fetch notes) are the same list with different callers: one implementation, so that the
 * pointer surgery of unlinking is written and checked once.
 */
#include <stddef.h>

#include "common.h"

void agelist_push(agelist_t *l, agelist_link_t *e)
{
    e->older = l->newest;
    e->newer = NULL;
    if (l->newest != NULL)
        l->newest->newer = e;
    l->newest = e;
    if (l->oldest == NULL)
        l->oldest = e;
}

void agelist_unlink(agelist_t *l, agelist_link_t *e)
{
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        l->newest = e->older;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        l->oldest = e->newer;
    e->newer = e->older = NULL;
}

void agelist_touch(agelist_t *l, agelist_link_t *e)
{
    if (l->newest == e)
        return;
    agelist_unlink(l, e);
    agelist_push(l, e);
}
