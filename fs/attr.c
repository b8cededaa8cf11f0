/* SPDX-License-Identifier: MIT */
/*
 * attr.c — the attributes the view shows, and the entry replies built from them.
 *
 * The view looks like a module cache the go command filled and then made read-only: files
 * 0444, directories 0555, owned by the user whose view it is (the mount's root by whoever
 * mounted); write-area entries show their real owner and mode. Everything of one module (its tree, its
 * .ziphash) carries the zip's store time, so sizes and mtimes never change under a path and
 * GOCACHE entries keyed by them stay valid. Directories report one link ("count unknown",
 * as btrfs does) so that find does not skip stat calls by counting subdirectories. Only
 * list and @latest change; they carry the list TTL, everything else a day, except the
 * directories whose listing the store changes on a mount without OPENDIR: no attribute time,
 * and an mtime that is a fingerprint of the listing (dircache.c).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fs_i.h"

/* A changing object's current size and time, from the store (refreshed after its TTL). */
static int fs_attr_fresh(fs_mount_t *m, const fs_node_t *node, int flags, uint64_t *size, int64_t *mtime)
{
    cache_object_t *o;
    int rc = cache_get(m->cache, node->key, (flags & FS_RESOLVE_NOFETCH) ? CACHE_GET_NOFETCH : 0, &o, NULL);
    if (rc < 0)
        return rc == -EAGAIN || rc == -ENOENT ? rc : rc == -EACCES ? -ENOENT : -EIO;
    cache_stat_t st;
    cache_object_stat(o, &st);
    cache_object_unref(o);
    *size = st.size;
    *mtime = st.mtime;
    return 0;
}

int fs_attr_get(fs_mount_t *m, fs_node_t *node, int fd, int flags, struct stat *st, double *timeout)
{
    memset(st, 0, sizeof(*st));
    if (node->kind == FS_KIND_WRITE) {
        int rc;
        if (fd >= 0) {
            rc = fstat(fd, st) < 0 ? -errno : 0;
        } else {
            char rel[PATH_MAX];
            rc = fs_node_path(m, node, NULL, rel, sizeof(rel));
            if (rc >= 0)
                rc = fs_write_stat(m, node->view, rel, st);
        }
        st->st_ino = node->st_ino;
        if (!m->as_root) {
            /* modfs owns every file it made; each is the view's user's as far as the mount goes */
            st->st_uid = node->view->uid;
            st->st_gid = node->view->gid;
        }
        *timeout = FS_TTL_WRITE;
        return rc < 0 ? rc : 0;
    }

    uint64_t size = node->size;
    int64_t mtime = node->mtime;
    *timeout = FS_TTL_IMMUTABLE;
    switch (node->kind) {
    case FS_KIND_OBJECT:
        if (node->ttl) {
            int rc = fs_attr_fresh(m, node, flags, &size, &mtime);
            if (rc < 0)
                return rc;
            *timeout = (double)atomic_load_explicit(&m->list_ttl_s, memory_order_relaxed);
        }
        break;
    case FS_KIND_ZIPHASH:
    case FS_KIND_MEMBER:
    case FS_KIND_MODROOT:
    case FS_KIND_MEMBER_DIR:
        break;
    case FS_KIND_NOTE:
        *timeout = FS_TTL_WRITE;
        break;
    default:
        /* Directories of no module: a fixed time, so nothing changes across restarts (on a
         * mount without OPENDIR, a fingerprint of the listing in the first days of 1970:
         * dircache.c). */
        size = 0;
        mtime = 0;
        break;
    }
    struct timespec mtim = {.tv_sec = mtime};
    if (fs_dir_stamped(m, node)) {
        fs_dir_stamp_known(m, node, &mtim);
        *timeout = 0;
    }
    bool dir = node->type == S_IFDIR;
    st->st_ino = node->st_ino;
    st->st_mode = node->type | (dir ? 0555 : 0444);
    st->st_nlink = 1;
    st->st_uid = node->view ? node->view->uid : m->uid;
    st->st_gid = node->view ? node->view->gid : m->gid;
    st->st_size = (off_t)size;
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((size + 511) / 512);
    st->st_mtim = mtim;
    st->st_atim = st->st_mtim;
    st->st_ctim = st->st_mtim;
    return 0;
}

int fs_attr_entry(fs_mount_t *m, fs_node_t *node, int flags, struct fuse_entry_param *e)
{
    double timeout;
    memset(e, 0, sizeof(*e));
    int rc = fs_attr_get(m, node, -1, flags, &e->attr, &timeout);
    if (rc < 0)
        return rc;
    e->ino = fs_node_ino(m, node);
    e->attr_timeout = timeout;
    /* A stamped directory's name stays; only its attributes are asked for each time. */
    e->entry_timeout = fs_dir_stamped(m, node) ? FS_TTL_IMMUTABLE : timeout;
    return 0;
}
