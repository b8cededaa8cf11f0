/* SPDX-License-Identifier: MIT */
/*
 * access.c — the access rules of a running cache: the allow/deny policy (gomod's modpolicy) and
 * the private patterns (--private), as one immutable set that a reload replaces whole.
 *
 * Every cache_get reads the rules, on every thread of both fronts, while SIGHUP may replace them
 * at any moment. The set is reference-counted: a reader takes a reference under access_lock (a
 * pointer load and an increment: the lock is held for nothing else), checks outside it, and
 * drops the reference; cache_access_set swaps the pointer under the same lock and drops the
 * cache's own reference. The old set is freed by whoever drops its last reference, so a check
 * that began before the swap finishes on the rules it started with and none reads freed memory.
 * The allow/deny and private lists change together: a request never sees new deny rules with old
 * private patterns. A read-write lock or RCU would spare the increment, but the hot path already
 * takes the hot map's mutex per hit, and this costs less than that.
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

cache_access_t *cache_access_acquire(cache_t *c)
{
    pthread_mutex_lock(&c->access_lock);
    cache_access_t *a = c->access;
    atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&c->access_lock);
    return a;
}

void cache_access_release(cache_access_t *a)
{
    if (a != NULL && atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
        cache_access_free(a);
}

void cache_access_set(cache_t *c, cache_access_t *a)
{
    pthread_mutex_lock(&c->access_lock);
    cache_access_t *old = c->access;
    c->access = a;
    pthread_mutex_unlock(&c->access_lock);
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
    cache_access_t *a = cache_access_acquire(c);
    bool private_module = cache_access_is_private(a, key->module);
    cache_access_release(a);
    return private_module;
}
