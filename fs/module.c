/* SPDX-License-Identifier: MIT */
/*
 * module.c — an extracted module's tree, read straight from the zip's member list.
 *
 * The store gives the members sorted bytewise by path, so no directory tree is built: a file
 * is one binary search, and every path under directory d sorts into one run, the members in
 * ["d/", "d0") ('0' is the byte after '/'), found with two more. A module of 10,000 files costs
 * its member array and nothing else, and a directory exists exactly when a file is under it —
 * the tree go's own Unzip would make, with no extra entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"

int fs_module_new(cache_object_t *zip, int64_t mtime, fs_module_t **out)
{
    fs_module_t *mod = calloc(1, sizeof(*mod));
    if (!mod) {
        cache_object_unref(zip);
        return -ENOMEM;
    }
    int rc = cache_zip_members(zip, &mod->members, &mod->count);
    if (rc < 0) {
        cache_object_unref(zip);
        free(mod);
        return rc;
    }
    mod->zip = zip;
    mod->mtime = mtime;
    atomic_init(&mod->refs, 1);
    *out = mod;
    return 0;
}

fs_module_t *fs_module_ref(fs_module_t *mod)
{
    atomic_fetch_add(&mod->refs, 1);
    return mod;
}

void fs_module_unref(fs_module_t *mod)
{
    if (!mod || atomic_fetch_sub(&mod->refs, 1) != 1)
        return;
    cache_object_unref(mod->zip);
    free(mod);
}

/* Bytewise comparison of a NUL-terminated member path with key[0..len). */
static int fs_module_cmp(const char *path, const char *key, size_t len)
{
    size_t pl = strlen(path);
    int c = memcmp(path, key, pl < len ? pl : len);
    if (c != 0)
        return c;
    return pl < len ? -1 : pl > len ? 1 : 0;
}

/* The first member not below key[0..len). */
static size_t fs_module_lower_bound(const fs_module_t *mod, const char *key, size_t len)
{
    size_t lo = 0, hi = mod->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fs_module_cmp(mod->members[mid].path, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

ssize_t fs_module_find(const fs_module_t *mod, const char *path, size_t len)
{
    size_t i = fs_module_lower_bound(mod, path, len);
    if (i < mod->count && fs_module_cmp(mod->members[i].path, path, len) == 0)
        return (ssize_t)i;
    return -1;
}

void fs_module_dir_range(const fs_module_t *mod, const char *dir, size_t len, size_t *begin, size_t *end)
{
    if (len == 0) {
        *begin = 0;
        *end = mod->count;
        return;
    }
    /* Member paths are at most a few hundred bytes (module.CheckFilePath keeps them sane);
     * anything longer cannot be a directory of this module. */
    char key[4096];
    if (len + 1 >= sizeof(key)) {
        *begin = *end = 0;
        return;
    }
    memcpy(key, dir, len);
    key[len] = '/';
    *begin = fs_module_lower_bound(mod, key, len + 1);
    key[len] = '/' + 1;
    *end = fs_module_lower_bound(mod, key, len + 1);
}
