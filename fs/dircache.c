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
 *    listing (auto_inval_data: at every listing's start), and their mtime is a fingerprint of
 *    the listing (a 50-bit hash of its names and types, as a time in the first days of 1970,
 *    where their fixed time was): a directory whose mtime moved is listed afresh, and one
 *    listing shows one mtime, after a restart too. The listing behind that hash is made again
 *    only when something it is made of may have moved: the store's keys (cache_keys_generation,
 *    which moves with every index commit of any process), or the view's own part (its whiteouts:
 *    epoch; its notes and write area: listing_gen). A GETATTR of the mount's root (its attribute
 *    timeout is 0, so every stat of it asks) then costs a look at the index's WAL header, not a
 *    listing of every top-level key.
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

/* The mtime a listing hash stands for: inside the first days of 1970, where these directories'
 * fixed time always was, so that one listing shows one mtime, across restarts too. */
static struct timespec fs_dir_stamp_of(uint64_t h)
{
    return (struct timespec){.tv_sec = (time_t)((h >> 32) & 0xfffff), .tv_nsec = (long)((h & 0xffffffffu) % 1000000000u)};
}

void fs_dir_stamp_known(fs_mount_t *m, const fs_node_t *n, struct timespec *mtime)
{
    pthread_mutex_lock(&m->stamp_lock);
    if (n->stamp_hashed)
        *mtime = fs_dir_stamp_of(n->stamp_hash);
    pthread_mutex_unlock(&m->stamp_lock);
}

void fs_dir_stamp(fs_mount_t *m, fs_view_t *v, fs_node_t *n, struct timespec *mtime)
{
    /* Read before the listing is made: a change while it is made moves them past what is kept,
     * and the next stamp lists again. */
    uint64_t keys = 0;
    bool known = cache_keys_generation(m->cache, &keys) == 0;
    uint64_t epoch = atomic_load(&v->epoch), gen = atomic_load(&v->listing_gen);
    pthread_mutex_lock(&m->stamp_lock);
    if (known && n->stamp_current && n->stamp_view == v && n->stamp_keys == keys && n->stamp_epoch == epoch &&
        n->stamp_gen == gen) {
        *mtime = fs_dir_stamp_of(n->stamp_hash);
        pthread_mutex_unlock(&m->stamp_lock);
        return;
    }
    pthread_mutex_unlock(&m->stamp_lock);

    fs_dirlist_t l = {0};
    int rc = fs_dir_list(m, v, n, &l);
    uint64_t h = 0x6d6f646673ULL;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        h = hash_bytes(l.v[i].name, strlen(l.v[i].name) + 1, h);
        h = hash_bytes(&l.v[i].type, sizeof(l.v[i].type), h);
    }
    fs_dirlist_dispose(&l);
    /* A listing that cannot be made gets an mtime of its own: the kernel then asks for it (and
     * gets the error) rather than reuse what it has. */
    if (rc < 0)
        h = hash_bytes(&rc, sizeof(rc), h ^ 0x6572726f72ULL);

    pthread_mutex_lock(&m->stamp_lock);
    n->stamp_hash = h;
    n->stamp_hashed = true;
    n->stamp_current = known && rc == 0; /* an error is asked again */
    n->stamp_view = v;
    n->stamp_keys = keys;
    n->stamp_epoch = epoch;
    n->stamp_gen = gen;
    pthread_mutex_unlock(&m->stamp_lock);
    *mtime = fs_dir_stamp_of(h);
}

void fs_dir_changed(fs_mount_t *m, fs_view_t *v, const char *rel, bool below, const fs_node_t *seen)
{
    atomic_fetch_add(&v->listing_gen, 1); /* the write area, or a whiteout that ended */
    if (!m->no_opendir)
        return;
    size_t n;
    fuse_ino_t *inos = fs_table_dirs_of(m, v, rel, below, &n);
    fuse_ino_t skip = seen ? fs_node_ino(m, seen) : 0;
    for (size_t i = 0; i < n; i++)
        if (inos[i] != skip)
            fuse_lowlevel_notify_inval_inode(m->se, inos[i], 0, 0); /* -ENOENT: the kernel has no copy */
    free(inos);
}

void fs_dir_parent_changed(fs_mount_t *m, fs_view_t *v, const char *rel, const fs_node_t *seen)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(rel, '/');
    if (!slash) {
        fs_dir_changed(m, v, ".", false, seen);
        return;
    }
    size_t len = (size_t)(slash - rel);
    memcpy(parent, rel, len);
    parent[len] = '\0';
    fs_dir_changed(m, v, parent, false, seen);
}
