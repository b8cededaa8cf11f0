/* SPDX-License-Identifier: MIT */
/*
 * access.c — the access rules of a running cache: the allow/deny policy (gomod's modpolicy) and
 * the private patterns (--private), as one immutable set that a reload replaces whole.
 *
 * Every cache_get reads the rules, on every thread of both fronts, while SIGHUP may replace them
 * at any moment. A check reads the pointer inside a read-side section (common/rcu.c) and writes
 * nothing shared: a mutex or a reference count here was a cache line bounced between the cores
 * at every hit. cache_access_set swaps the pointer, waits until every section that may have read
 * the old one has ended, then drops the cache's reference. Holders for longer than a check (a
 * fetch) take a reference inside a section (cache_access_acquire); the set is freed by whoever
 * drops its last reference. So a check that began before the swap finishes on the rules it
 * started with and none reads freed memory. The allow/deny and private lists change together: a
 * request never sees new deny rules with old private patterns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache_i.h"

struct cache_access {
    atomic_uint refs;       /* the cache's reference while installed, plus one per reader */
    modpolicy_t *policy;    /* never NULL; may hold no rule */
    char *private_patterns; /* NULL for none; checked by modpath_patterns_check */
};

int cache_access_new(const char *allow, const char *deny, const char *private_patterns, cache_access_t **out,
                     cache_err_t *err)
{
    *out = NULL;
    cache_access_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    atomic_init(&a->refs, 1);
    int rc = modpolicy_new(allow, deny, &a->policy, err);
    if (rc == 0 && private_patterns != NULL && private_patterns[0] != '\0') {
        if ((rc = modpath_patterns_check(private_patterns, err)) != 0)
            cache_err_prefix(err, rc, "private modules");
        else if ((a->private_patterns = strdup(private_patterns)) == NULL)
            rc = cache_err_set(err, -ENOMEM, "out of memory");
    }
    if (rc != 0) {
        cache_access_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void cache_access_free(cache_access_t *a)
{
    if (a == NULL)
        return;
    modpolicy_free(a->policy);
    free(a->private_patterns);
    free(a);
}

const cache_access_t *cache_access_enter(cache_t *c, modfs_rcu_slot_t **slot)
{
    *slot = modfs_rcu_read_enter();
    return atomic_load(&c->access);
}

void cache_access_leave(modfs_rcu_slot_t *slot)
{
    modfs_rcu_read_leave(slot);
}

cache_access_t *cache_access_acquire(cache_t *c)
{
    modfs_rcu_slot_t *slot = modfs_rcu_read_enter();
    cache_access_t *a = atomic_load(&c->access);
    /* still the cache's (set waits for this section before it drops its reference) */
    atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
    modfs_rcu_read_leave(slot);
    return a;
}

void cache_access_release(cache_access_t *a)
{
    if (a != NULL && atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
        cache_access_free(a);
}

void cache_access_set(cache_t *c, cache_access_t *a)
{
    cache_access_t *old = atomic_exchange(&c->access, a);
    modfs_rcu_synchronize(); /* no check reads old any more, and no acquire is about to count it */
    cache_access_release(old);
}

int cache_access_check(const cache_access_t *a, const modkey_t *key, cache_err_t *err)
{
    /* a checksum database's answer is no module's: the rules do not cover it (cache.c) */
    if (key->kind == MODKEY_SUMDB)
        return 0;
    return modpolicy_check(a->policy, key->module, key->version, err);
}

bool cache_access_is_private(const cache_access_t *a, const char *module)
{
    return a->private_patterns != NULL && modpath_match_prefix_patterns(a->private_patterns, module);
}

bool cache_is_private(cache_t *c, const modkey_t *key)
{
    cache_access_t *access = cache_access_acquire(c);
    bool private_module = cache_access_is_private(access, key->module);
    cache_access_release(access);
    return private_module;
}

bool cache_key_is_private(cache_t *c, const modkey_t *key)
{
    /* a lookup of a private module is refused by the cache (cache.c), not kept from clients */
    if (key->kind == MODKEY_SUMDB)
        return false;
    modfs_rcu_slot_t *slot;
    const cache_access_t *a = cache_access_enter(c, &slot);
    bool private_module = cache_access_is_private(a, key->module);
    cache_access_leave(slot);
    return private_module;
}
