/* SPDX-License-Identifier: MIT */
/*
 * policy.c — what a user may write into the mount: exactly what the go command itself writes,
 * where it writes it (modcache_write_rule), and never over the store.
 *
 * The store's names are immutable for everyone, root included: the kernel calls in with root's
 * credentials too and root passes any mode check, so every write-type handler asks here rather
 * than relying on modes. go's bookkeeping (lock files, temp files, cache/vcs, the sumdb cache,
 * cache/lock) may always be created. The files of a module (its objects in @v, its extracted
 * tree) only when the store does not serve that module, so a user can never put a file beside
 * or inside a module the store serves, and a build never reads a planted go file. Inside a tree
 * go extracts itself, new files only while go's own <version>.partial marks the extraction as
 * running; once go removed it, the tree's files cannot be changed either (its directories can
 * still be chmod-ed and emptied: go's makeDirsReadOnly and `go clean -modcache` do that).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_i.h"

/* 0 when the store does not serve key (upstream says not found), -EROFS when it does. */
static int fs_policy_unserved(fs_mount_t *m, fs_view_t *v, const modkey_t *key)
{
    cache_object_t *o;
    double ignored;
    int rc = fs_layout_get(m, v, key, 0, &o, &ignored);
    if (rc == 0) {
        cache_object_unref(o);
        return -EROFS;
    }
    return rc == -ENOENT ? 0 : rc;
}

/* Whether go is extracting zip in v's write area: its .partial is there. */
static bool fs_policy_extracting(fs_mount_t *m, fs_view_t *v, const modkey_t *zip)
{
    char partial[PATH_MAX];
    struct stat st;
    return modcache_partial_path(zip, partial, sizeof partial) > 0 && fs_write_stat(m, v, partial, &st) == 0 &&
           S_ISREG(st.st_mode);
}

int fs_policy_may_create(fs_mount_t *m, fs_view_t *v, const char *path)
{
    modkey_buf_t kb;
    int rc;
    switch (modcache_write_rule(path, strlen(path), &kb.key)) {
    case MODCACHE_WRITE_GO:
        return 0;
    case MODCACHE_WRITE_DOWNLOAD:
        return fs_policy_unserved(m, v, &kb.key);
    case MODCACHE_WRITE_EXTRACT:
        if ((rc = fs_policy_unserved(m, v, &kb.key)) < 0)
            return rc;
        return fs_policy_extracting(m, v, &kb.key) ? 0 : -EROFS;
    case MODCACHE_WRITE_NEVER:
        break;
    }
    return -EROFS;
}

int fs_policy_may_modify(fs_mount_t *m, fs_view_t *v, const char *path)
{
    modkey_buf_t kb;
    if (modcache_write_rule(path, strlen(path), &kb.key) != MODCACHE_WRITE_EXTRACT)
        return 0;
    return fs_policy_extracting(m, v, &kb.key) ? 0 : -EROFS;
}
