/* SPDX-License-Identifier: MIT */
/*
 * recheck.c — every stored .mod and .zip checked against the checksum database once more
 * (cache.h: cache_sumdb_recheck, for `modfs verify --sumdb-check`).
 *
 * The proof is the ingest's own (verify.c, cache_verify_stored), applied to what the store holds:
 * a module stored while the checks were off, or before a database learnt of a tampered version,
 * shows up here. The keys are listed first and checked after the listing is over, so that the
 * proofs, which may store the database's answers they read, never write while the store is being
 * walked. Nothing is dropped: a refused module is the operator's to judge (it may be a private one
 * missing from --private).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache_i.h"

typedef struct key_list {
    char **keys;
    size_t n, cap;
    int rc;
} key_list_t;

static int collect(void *arg, const modkey_t *key)
{
    key_list_t *l = arg;
    if (key->kind != MODKEY_MOD && key->kind != MODKEY_ZIP)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **keys = realloc(l->keys, cap * sizeof *keys);
        if (keys == NULL)
            return l->rc = -ENOMEM;
        l->keys = keys;
        l->cap = cap;
    }
    if ((l->keys[l->n] = strdup(key->escaped)) == NULL)
        return l->rc = -ENOMEM;
    l->n++;
    return 0;
}

int cache_sumdb_recheck(cache_t *c, cache_sumdb_refused_fn refused, void *arg, cache_progress_fn progress,
                        void *parg, cache_sumdb_recheck_t *r, cache_err_t *err)
{
    memset(r, 0, sizeof *r);
    key_list_t l = {0};
    int rc = cache_keys_visit(c, "", collect, &l);
    if (rc == 0 && l.rc != 0)
        rc = l.rc;
    if (rc != 0) {
        cache_err_set(err, rc, "listing the store's modules: %s", strerror(-rc));
        goto out;
    }
    modkey_buf_t *kb = malloc(sizeof *kb);
    if (kb == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        if (progress != NULL)
            progress(parg, i, l.n);
        if (modkey_parse(l.keys[i], strlen(l.keys[i]), &kb->key, NULL) != 0)
            continue; /* listed by a parse of the same rules: cannot happen */
        cache_err_t e = {0};
        bool exempt = false;
        int reason = 0;
        int vrc = cache_verify_stored(c, &kb->key, &exempt, &reason, &e);
        if (vrc == -ENOENT) /* evicted or dropped since the listing */
            continue;
        if (vrc == 0) {
            if (exempt)
                r->exempt++;
            else
                r->verified++;
            continue;
        }
        if (reason == CACHE_SUMDB_UNAVAILABLE) {
            r->unchecked++;
            if (r->unchecked == 1)
                cache_err_set(err, vrc, "%s: %s", kb->key.escaped, e.msg);
            continue;
        }
        r->refused[reason]++;
        if (refused != NULL)
            refused(arg, &kb->key, reason, e.msg);
    }
    if (progress != NULL)
        progress(parg, l.n, l.n);
    free(kb);
out:
    for (size_t i = 0; i < l.n; i++)
        free(l.keys[i]);
    free(l.keys);
    return rc;
}
