/* SPDX-License-Identifier: MIT */
/*
 * keycache.c — each loop's memory of the keys its request paths parsed to.
 *
 * Turning a request path into a key (percent-decoding, then Go's rules on every path element,
 * the UTF-8 checks, the version's semver, the escaped forms) was the largest part of a small
 * hit that modfs itself spends: about a fifth of the loop's time under h2load on one .info.
 * The answer is a pure function of the path's bytes, so a loop keeps the last answers it
 * computed, in a direct-mapped table of HTTP_KEYCACHE_SLOTS: nothing to invalidate when the
 * rules, the store or the settings change (those are applied to the key afterwards, at every
 * request, exactly as before). Only paths that name a key are kept; a path that parsed to
 * anything else (a 404, /metrics) is parsed again each time. The table belongs to one loop
 * thread: no lock, and a request copies the key out (modkey_copy), so replacing a slot never
 * touches a key in use.
 */
#include "http_i.h"

#include <stdlib.h>
#include <string.h>

#define HTTP_KEYCACHE_SEED 0x6b6579 /* "key" */

typedef struct http_keycache_entry {
    uint64_t hash;
    size_t path_len;
    modkey_t *key; /* modkey_dup'd */
    char path[];
} http_keycache_entry_t;

struct http_keycache {
    http_keycache_entry_t *slots[HTTP_KEYCACHE_SLOTS];
};

http_keycache_t *http_keycache_new(void)
{
    return calloc(1, sizeof(http_keycache_t));
}

static void entry_free(http_keycache_entry_t *e)
{
    if (e != NULL) {
        free(e->key);
        free(e);
    }
}

void http_keycache_free(http_keycache_t *kc)
{
    if (kc == NULL)
        return;
    for (size_t i = 0; i < HTTP_KEYCACHE_SLOTS; i++)
        entry_free(kc->slots[i]);
    free(kc);
}

http_target_t http_keycache_resolve(http_keycache_t *kc, const char *path, size_t len, modkey_t *key,
                                    cache_err_t *err)
{
    uint64_t h = hash_bytes(path, len, HTTP_KEYCACHE_SEED);
    http_keycache_entry_t **slot = &kc->slots[h % HTTP_KEYCACHE_SLOTS];
    http_keycache_entry_t *e = *slot;
    if (e != NULL && e->hash == h && e->path_len == len && memcmp(e->path, path, len) == 0) {
        modkey_copy(key, e->key);
        return HTTP_TARGET_KEY;
    }
    http_target_t target = http_route_resolve(path, len, key, err);
    if (target != HTTP_TARGET_KEY)
        return target;
    http_keycache_entry_t *n = malloc(sizeof *n + len);
    modkey_t *dup = n != NULL ? modkey_dup(key) : NULL;
    if (dup == NULL) {
        free(n); /* not kept: only slower next time */
        return target;
    }
    n->hash = h;
    n->path_len = len;
    n->key = dup;
    memcpy(n->path, path, len);
    entry_free(*slot);
    *slot = n;
    return target;
}
