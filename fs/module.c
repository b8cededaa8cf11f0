/* SPDX-License-Identifier: MIT */
/*
 * module.c — an extracted module's tree, read straight from the zip's member list.
 *
 * The store gives the members sorted bytewise by path, so no directory tree is built: a file
 * is one binary search, and every path under directory d sorts into one run, the members in
 * ["d/", "d0") ('0' is the byte after '/'), found with two more. A module of 10,000 files costs
 * its member array and nothing else, and a directory exists exactly when a file is under it —
 * the tree go's own Unzip would make, with no extra entries. The array is a copy (see fs_i.h):
 * the tree holds no handle on the zip, only the open files do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"

int fs_module_new(cache_object_t *zip, const modkey_t *key, int64_t mtime, fs_module_t **out)
{
    const cache_member_t *members;
    size_t count;
    int rc = cache_zip_members(zip, &members, &count);
    if (rc < 0) {
        cache_object_unref(zip);
        return rc;
    }
    /* one block: the module, the member array, then every path */
    size_t paths = 0;
    for (size_t i = 0; i < count; i++)
        paths += strlen(members[i].path) + 1;
    fs_module_t *mod = malloc(sizeof *mod + count * sizeof *mod->members + paths);
    modkey_t *zip_key = modkey_dup(key);
    if (mod == NULL || zip_key == NULL) {
        free(mod);
        free(zip_key);
        cache_object_unref(zip);
        return -ENOMEM;
    }
    mod->members = (cache_member_t *)(mod + 1);
    char *p = (char *)(mod->members + count);
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(members[i].path) + 1;
        mod->members[i] = members[i];
        mod->members[i].path = memcpy(p, members[i].path, n);
        p += n;
    }
    cache_object_unref(zip);
    mod->zip_key = zip_key;
    mod->count = count;
    mod->mtime = mtime;
    atomic_init(&mod->refs, 1);
    *out = mod;
    return 0;
}

int fs_module_zip_get(fs_mount_t *m, const fs_module_t *mod, size_t i, cache_object_t **out)
{
    cache_object_t *zip;
    cache_err_t err = {0};
    int rc = cache_get(m->cache, mod->zip_key, 0, &zip, &err);
    if (rc < 0) {
        if (rc != -ENOENT)
            LOG_W("fs: open of %s in %s: %s", mod->members[i].path, mod->zip_key->escaped,
                  err.msg[0] ? err.msg : strerror(-rc));
        return rc == -ENOENT || rc == -ENOMEM ? rc : rc == -EACCES ? -ENOENT : -EIO;
    }
    /* A zip fetched again is the same zip (its h1 is checked against go.sum's rules and the
     * checksum database): its members are where the tree says. Checked all the same. */
    const cache_member_t *members;
    size_t count;
    rc = cache_zip_members(zip, &members, &count);
    if (rc == 0 && (count != mod->count || strcmp(members[i].path, mod->members[i].path) != 0 ||
                    members[i].size != mod->members[i].size)) {
        LOG_E("fs: %s no longer holds %s where its tree said", mod->zip_key->escaped, mod->members[i].path);
        rc = -EIO;
    }
    if (rc < 0) {
        cache_object_unref(zip);
        return rc == -ENOMEM ? rc : -EIO;
    }
    *out = zip;
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
    free(mod->zip_key);
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
