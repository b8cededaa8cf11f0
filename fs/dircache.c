/* SPDX-License-Identifier: MIT */
/*
 * dircache.c — directory listings, and what keeps the kernel's copies of them true.
 *
 * Where the kernel allows it (FUSE_CAP_NO_OPENDIR_SUPPORT) and one user owns the mount (no
 * allow_other: the mount's root then shows one view), OPENDIR is answered ENOSYS once. The
 * kernel then opens directories without asking, sends no RELEASEDIR, and keeps every listing
 * it has read (its defaults without opendir are FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR) until the
 * directory's mtime or i_version changes or its pages are dropped: `find` over a warm module
 * tree costs no round trip at all (it took one OPENDIR, and a RELEASEDIR, per directory). The
 * kernel's copy is then kept true three ways, by what changes a directory:
 *  - through this mount (create, mkdir, unlink, rmdir, rename, link): the kernel bumps the
 *    i_version of the directory the call named itself; the same directory seen through the
 *    other entry point (<mount>/x and <mount>/gomodcache/x show one view) is dropped here with
 *    fuse_lowlevel_notify_inval_inode (fs_dir_changed);
 *  - by a lookup that shows a removed store name again (its whiteout ends): not a change the
 *    kernel sees, so the directory holding the name and every directory below it are dropped
 *    the same way;
 *  - by the store (a version fetched by either front, an object evicted, a failed fetch's note,
 *    the store's directories of no module: the root, cache/download/..., @v, module path
 *    prefixes): these carry no attribute time, so the kernel asks GETATTR before it reuses a
 *    listing (auto_inval_data: at every listing's start), and their mtime is the time modfs
 *    first saw the listing differ from the one it last hashed (fs_dir_stamp). A directory
 *    whose mtime moved is listed afresh.
 * A module's tree (its directories never change in the store) keeps a day's attribute time
 * and its listings for as long as the kernel likes. With allow_other, or on a kernel without
 * no-opendir, OPENDIR stays: it takes a snapshot that later READDIRs index into, and the
 * kernel keeps a module tree's listing across opens (keep_cache) while the user's whiteouts are
 * unchanged.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_i.h"

int fs_dir_list(fs_mount_t *m, fs_view_t *v, const fs_node_t *node, fs_dirlist_t *out)
{
    char path[PATH_MAX];
    int rc = fs_node_path(m, node, NULL, path, sizeof(path));
    if (rc >= 0 && node->kind != FS_KIND_WRITE) {
        rc = fs_listing_view(m, node, out);
        fs_listing_hide(v, path, out);
    }
    if (rc >= 0)
        rc = fs_write_list(m, v, path, out);
    if (rc < 0) {
        fs_dirlist_dispose(out);
        return rc;
    }
    fs_dirlist_finish(out);
    return 0;
}

bool fs_dir_stamped(const fs_mount_t *m, const fs_node_t *n)
{
    if (!m->no_opendir || n->type != S_IFDIR)
        return false;
    switch (n->kind) {
    case FS_KIND_ROOT:
    case FS_KIND_CACHE:
    case FS_KIND_DOWNLOAD:
    case FS_KIND_DL_PREFIX:
    case FS_KIND_ATV:
    case FS_KIND_MOD_PREFIX:
        return true;
    default:
        return false;
    }
}

void fs_dir_stamp_known(fs_mount_t *m, const fs_node_t *n, struct timespec *mtime)
{
    pthread_mutex_lock(&m->stamp_lock);
    if (n->stamp_moved)
        *mtime = n->stamp;
    pthread_mutex_unlock(&m->stamp_lock);
}

void fs_dir_stamp(fs_mount_t *m, fs_view_t *v, fs_node_t *n, struct timespec *mtime)
{
    fs_dirlist_t l = {0};
    bool listed = fs_dir_list(m, v, n, &l) == 0;
    uint64_t h = 0x6d6f646673ULL;
    for (size_t i = 0; listed && i < l.n; i++) {
        h = hash_bytes(l.v[i].name, strlen(l.v[i].name) + 1, h);
        h = hash_bytes(&l.v[i].type, sizeof(l.v[i].type), h);
    }
    fs_dirlist_dispose(&l);

    pthread_mutex_lock(&m->stamp_lock);
    /* The first listing keeps the fixed time the directory always had; a listing that cannot
     * be made counts as a change, so the kernel asks for it again (and gets the error). */
    if (!n->stamp_hashed) {
        n->stamp_hashed = listed;
    } else if (!listed || h != n->stamp_hash) {
        struct timespec now, last = n->stamp_moved ? n->stamp : *mtime;
        clock_gettime(CLOCK_REALTIME, &now);
        /* strictly later than what the kernel was last told, even if the clock went back */
        if (now.tv_sec < last.tv_sec || (now.tv_sec == last.tv_sec && now.tv_nsec <= last.tv_nsec)) {
            now = last;
            if (++now.tv_nsec == 1000000000L) {
                now.tv_sec++;
                now.tv_nsec = 0;
            }
        }
        n->stamp = now;
        n->stamp_moved = true;
    }
    if (listed)
        n->stamp_hash = h;
    if (n->stamp_moved)
        *mtime = n->stamp;
    pthread_mutex_unlock(&m->stamp_lock);
}

void fs_dir_changed(fs_mount_t *m, fs_view_t *v, const char *rel, bool below)
{
    if (!m->no_opendir)
        return;
    size_t n;
    fuse_ino_t *inos = fs_table_dirs_of(m, v, rel, below, &n);
    for (size_t i = 0; i < n; i++)
        fuse_lowlevel_notify_inval_inode(m->se, inos[i], 0, 0); /* -ENOENT: the kernel has no copy */
    free(inos);
}

void fs_dir_parent_changed(fs_mount_t *m, fs_view_t *v, const char *rel)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(rel, '/');
    if (!slash) {
        fs_dir_changed(m, v, ".", false);
        return;
    }
    size_t len = (size_t)(slash - rel);
    memcpy(parent, rel, len);
    parent[len] = '\0';
    fs_dir_changed(m, v, parent, false);
}
