/* SPDX-License-Identifier: MIT */
/*
 * ops_read.c — the FUSE handlers that read: lookup, forget, getattr, open, read, release, access.
 *
 * Lookups may block on upstream: that is fine in a worker thread, and the pool is sized so
 * that cache hits keep being served meanwhile. Opens do not reach modfs at all where the kernel
 * offers zero-message opens (every kernel since 6.2): the first OPEN is answered ENOSYS, and
 * from then on the kernel opens each file itself, keeps its pages across opens and sends no
 * RELEASE, so a warm file costs no round trip (`cat` of a module's 1,400 files went from 3.2x
 * to 1.3-1.4x of a native directory). READ and WRITE then name only the inode and are answered
 * from the node: a store object is taken from the cache at each read, a member continues a
 * parked reader (readers.c), a write-area file is opened as its user for the one call.
 * Refusals that open() gave move to the write: a store file opens for writing and the write
 * is EROFS (O_TRUNC still fails at open, in setattr). list and @latest are kept in the page
 * cache like the rest; their short attribute time and changing size and mtime make the kernel
 * drop stale pages (auto_inval_data). On a kernel without zero-message opens, open works as it
 * did: keep_cache for what never changes, direct_io for list, @latest and notes. Writing to a
 * store-backed file is refused with EROFS, for root too: the mount runs without
 * default_permissions, so modfs alone decides (write-area files are opened as their user,
 * whose modes then apply).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_i.h"

void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    struct fuse_entry_param e;
    fs_view_t *v;
    atomic_fetch_add_explicit(&m->metrics.lookups, 1, memory_order_relaxed);
    int rc = fs_view_of(m, req, dir, &v);
    if (rc == 0)
        rc = fs_lookup_entry(m, v, dir, name, FS_LOOKUP_KERNEL, &e);
    if (rc < 0) {
        fs_reply_err(m, req, -rc);
        return;
    }
    if (e.ino == 0)
        atomic_fetch_add_explicit(&m->metrics.lookups_negative, 1, memory_order_relaxed);
    fuse_reply_entry(req, &e);
}

void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_forget(m, fs_node_get(m, ino), nlookup);
    fuse_reply_none(req);
}

void fs_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    fs_mount_t *m = fs_req_mount(req);
    for (size_t i = 0; i < count; i++)
        fs_node_forget(m, fs_node_get(m, forgets[i].ino), forgets[i].nlookup);
    fuse_reply_none(req);
}

void fs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_handle_t *h = fi ? fs_handle_of(fi) : NULL;
    struct stat st;
    double timeout;
    fs_node_t *node = fs_node_get(m, ino);
    atomic_fetch_add_explicit(&m->metrics.getattrs, 1, memory_order_relaxed);
    int rc = fs_attr_get(m, node, h && h->kind == FS_HANDLE_WRITE ? h->fd : -1, 0, &st, &timeout);
    if (rc == 0 && fs_dir_stamped(m, node)) {
        /* The kernel asks before it reuses the listing: the mtime says whether it may. */
        fs_view_t *v;
        if ((rc = fs_view_of(m, req, node, &v)) == 0)
            fs_dir_stamp(m, v, node, &st.st_mtim);
        st.st_atim = st.st_ctim = st.st_mtim;
    }
    if (rc < 0)
        fs_reply_err(m, req, -rc);
    else
        fuse_reply_attr(req, &st, timeout);
}

int fs_write_open(fs_mount_t *m, fuse_req_t req, fs_node_t *node, int flags)
{
    char rel[PATH_MAX];
    fs_view_t *v;
    int rc = fs_view_of(m, req, node, &v);
    if (rc < 0 || (rc = fs_node_path(m, node, NULL, rel, sizeof(rel))) < 0)
        return rc;
    if (((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) && (rc = fs_policy_may_modify(m, v, rel)) < 0)
        return rc;
    int wfd = fs_view_wfd(m, v, false);
    if (wfd < 0)
        return wfd;
    flags = (flags & ~(O_CREAT | O_EXCL | O_NOCTTY)) | O_CLOEXEC | O_NOFOLLOW;
    fs_cred_t cred;
    fs_cred_enter(m, v, &cred);
    int fd = openat(wfd, rel, flags);
    rc = fd < 0 ? -errno : fd;
    fs_cred_leave(&cred);
    return rc;
}

static int fs_open_write(fs_mount_t *m, fuse_req_t req, fs_node_t *node, struct fuse_file_info *fi)
{
    int fd = fs_write_open(m, req, node, fi->flags);
    if (fd < 0)
        return fd;
    fs_handle_t *h = fs_handle_new(m, FS_HANDLE_WRITE);
    if (!h) {
        close(fd);
        return -ENOMEM;
    }
    h->fd = fd;
    fi->fh = (uintptr_t)h;
    return 0;
}

static int fs_open_view(fs_mount_t *m, fs_node_t *node, struct fuse_file_info *fi)
{
    fs_handle_t *h;
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
        return -EROFS;
    switch (node->kind) {
    case FS_KIND_OBJECT: {
        cache_object_t *o;
        cache_err_t err = {0};
        int rc = cache_get(m->cache, node->key, 0, &o, &err);
        if (rc < 0) {
            if (rc != -ENOENT)
                LOG_W("fs: open %s: %s", node->key->escaped, err.msg[0] ? err.msg : strerror(-rc));
            return rc == -ENOENT || rc == -ENOMEM || rc == -EREMOTEIO ? rc : rc == -EACCES ? -ENOENT : -EIO;
        }
        if (!(h = fs_handle_new(m, FS_HANDLE_OBJECT))) {
            cache_object_unref(o);
            return -ENOMEM;
        }
        h->obj = o;
        if (node->ttl)
            fi->direct_io = 1;
        else
            fi->keep_cache = 1;
        break;
    }
    case FS_KIND_ZIPHASH:
    case FS_KIND_NOTE: {
        const char *text = node->kind == FS_KIND_NOTE ? node->note : node->h1;
        if (!(h = fs_handle_new(m, FS_HANDLE_BYTES)))
            return -ENOMEM;
        h->nbytes = strlen(text);
        if (!(h->bytes = malloc(h->nbytes + 1))) {
            fs_handle_free(m, h);
            return -ENOMEM;
        }
        memcpy(h->bytes, text, h->nbytes + 1);
        if (node->kind == FS_KIND_NOTE)
            fi->direct_io = 1; /* a note of the same name may be longer next time */
        else
            fi->keep_cache = 1;
        break;
    }
    case FS_KIND_MEMBER: {
        cache_object_t *zip; /* held while the file is open: a reader's zip is never evicted */
        int rc = fs_module_zip_get(m, node->mod, node->member, &zip);
        if (rc < 0)
            return rc;
        if (!(h = fs_handle_new(m, FS_HANDLE_MEMBER))) {
            cache_object_unref(zip);
            return -ENOMEM;
        }
        h->obj = zip;
        h->mod = fs_module_ref(node->mod);
        h->member = node->member;
        fi->keep_cache = 1;
        break;
    }
    default:
        return -EISDIR;
    }
    /* Nothing to flush in a read-only file: the kernel then skips FLUSH at every close
     * (one round trip less per file; `cat` of a module's 1,400 files spent a third of its
     * time on them). */
    fi->noflush = 1;
    fi->fh = (uintptr_t)h;
    return 0;
}

void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *node = fs_node_get(m, ino);
    atomic_fetch_add_explicit(&m->metrics.opens, 1, memory_order_relaxed);
    if (m->no_open) {
        /* From this answer on the kernel opens every file itself, with keep_cache and no
         * RELEASE: a warm file's open costs no round trip (`cat` of a module's 1,400 files
         * spent most of its time on OPEN). Reads and writes then come without a handle and
         * are answered from the inode alone (fs_op_read, fs_op_write). Not an error reply:
         * not counted as one. */
        fuse_reply_err(req, ENOSYS);
        return;
    }
    int rc = node->kind == FS_KIND_WRITE ? fs_open_write(m, req, node, fi) : fs_open_view(m, node, fi);
    if (rc < 0) {
        fs_reply_err(m, req, -rc);
        return;
    }
    if (fuse_reply_open(req, fi) < 0)
        fs_handle_free(m, fs_handle_of(fi));
}

static void fs_count_read(fs_mount_t *m, size_t n)
{
    atomic_fetch_add_explicit(&m->metrics.reads, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->metrics.read_bytes, n, memory_order_relaxed);
}

static void fs_reply_slice(fs_mount_t *m, fuse_req_t req, const void *base, size_t len, size_t size, off_t off)
{
    if ((uint64_t)off >= len) {
        fs_count_read(m, 0);
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    size_t n = len - (size_t)off;
    fs_count_read(m, n < size ? n : size);
    fuse_reply_buf(req, (const char *)base + off, n < size ? n : size);
}

/* A read of a file the kernel opened without us (zero-message open): everything comes from the
 * node, as fs_open_view and fs_open_write would have taken it. */
static void fs_read_nohandle(fs_mount_t *m, fuse_req_t req, fs_node_t *node, size_t size, off_t off)
{
    ssize_t n;
    switch (node->kind) {
    case FS_KIND_OBJECT: {
        cache_object_t *o;
        cache_err_t err = {0};
        int rc = cache_get(m->cache, node->key, 0, &o, &err);
        if (rc < 0) {
            if (rc != -ENOENT)
                LOG_W("fs: read of %s: %s", node->key->escaped, err.msg[0] ? err.msg : strerror(-rc));
            fs_reply_err(m, req, rc == -ENOENT || rc == -ENOMEM ? -rc : rc == -EACCES ? ENOENT : EIO);
            return;
        }
        slice_t s = cache_object_bytes(o);
        if (s.base) {
            fs_reply_slice(m, req, s.base, s.len, size, off);
            cache_object_unref(o);
            return;
        }
        char *buf = malloc(size ? size : 1);
        n = buf ? cache_object_read(o, buf, size, (uint64_t)off) : -ENOMEM;
        cache_object_unref(o);
        if (n < 0) {
            fs_reply_err(m, req, n == -ENOMEM ? ENOMEM : EIO);
        } else {
            fs_count_read(m, (size_t)n);
            fuse_reply_buf(req, buf, (size_t)n);
        }
        free(buf);
        return;
    }
    case FS_KIND_ZIPHASH:
    case FS_KIND_NOTE: {
        /* fixed once the node is published, and the kernel holds the node while it reads */
        const char *text = node->kind == FS_KIND_NOTE ? node->note : node->h1;
        fs_reply_slice(m, req, text, strlen(text), size, off);
        return;
    }
    case FS_KIND_MEMBER:
    case FS_KIND_WRITE: {
        char *buf = malloc(size ? size : 1);
        if (!buf) {
            fs_reply_err(m, req, ENOMEM);
            return;
        }
        if (node->kind == FS_KIND_MEMBER) {
            n = fs_readers_read(m, node, buf, size, (uint64_t)off);
        } else {
            int fd = fs_write_open(m, req, node, O_RDONLY);
            n = fd < 0 ? fd : pread(fd, buf, size, off);
            if (fd >= 0) {
                if (n < 0)
                    n = -errno;
                close(fd);
            }
        }
        if (n < 0) {
            fs_reply_err(m, req, n == -ENOMEM ? ENOMEM : node->kind == FS_KIND_WRITE ? (int)-n : EIO);
        } else {
            fs_count_read(m, (size_t)n);
            fuse_reply_buf(req, buf, (size_t)n);
        }
        free(buf);
        return;
    }
    default:
        fs_reply_err(m, req, EISDIR);
        return;
    }
}

void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_handle_t *h = fs_handle_of(fi);
    ssize_t n;

    if (!h) {
        fs_read_nohandle(m, req, fs_node_get(m, ino), size, off);
        return;
    }

    /* The reply may still be in writev when the reader, already woken by the kernel, closes
     * the file and another thread runs RELEASE: nothing the reply points into may belong to
     * the handle alone. So the few bytes of a .ziphash are copied, and an object held in
     * memory gets a reference of its own for the reply. */
    if (h->kind == FS_HANDLE_BYTES) {
        char bytes[FS_NOTE_MAX];
        size_t nb = h->nbytes < sizeof bytes ? h->nbytes : sizeof bytes;
        memcpy(bytes, h->bytes, nb);
        fs_reply_slice(m, req, bytes, nb, size, off);
        return;
    }
    if (h->kind == FS_HANDLE_OBJECT) {
        slice_t s = cache_object_bytes(h->obj);
        if (s.base) {
            cache_object_t *o = cache_object_ref(h->obj);
            fs_reply_slice(m, req, s.base, s.len, size, off);
            cache_object_unref(o);
            return;
        }
    }
    char *buf = malloc(size ? size : 1);
    if (!buf) {
        fs_reply_err(m, req, ENOMEM);
        return;
    }
    switch (h->kind) {
    case FS_HANDLE_OBJECT:
        n = cache_object_read(h->obj, buf, size, (uint64_t)off);
        break;
    case FS_HANDLE_MEMBER:
        pthread_mutex_lock(&h->lock);
        n = 0;
        if (!h->reader) {
            int rc = cache_member_reader_new(h->obj, h->member, &h->reader);
            if (rc < 0) {
                h->reader = NULL;
                n = rc;
            }
        }
        if (n == 0)
            n = cache_member_reader_read(h->reader, buf, size, (uint64_t)off);
        pthread_mutex_unlock(&h->lock);
        if (n < 0)
            LOG_W("fs: read of %s: %s", h->mod->members[h->member].path, strerror((int)-n));
        break;
    case FS_HANDLE_WRITE:
        n = pread(h->fd, buf, size, off);
        if (n < 0)
            n = -errno;
        break;
    default:
        n = -EISDIR;
        break;
    }
    if (n < 0) {
        fs_reply_err(m, req, n == -ENOMEM ? ENOMEM : h->kind == FS_HANDLE_WRITE ? (int)-n : EIO);
    } else {
        fs_count_read(m, (size_t)n);
        fuse_reply_buf(req, buf, (size_t)n);
    }
    free(buf);
}

void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    fs_handle_free(fs_req_mount(req), fs_handle_of(fi));
    fuse_reply_err(req, 0);
}

void fs_op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *node = fs_node_get(m, ino);
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    struct stat st;
    double timeout;
    fs_view_t *v = NULL;
    int rc = node->view ? fs_view_of(m, req, node, &v) : 0;
    if (rc == 0)
        rc = fs_attr_get(m, node, -1, FS_RESOLVE_NOFETCH, &st, &timeout);
    if (rc == 0 && node->kind != FS_KIND_WRITE) {
        /* The store's files cannot be written; its directories take go's own names. */
        if ((mask & W_OK) && node->type != S_IFDIR)
            rc = -EROFS;
        else if ((mask & X_OK) && node->type != S_IFDIR)
            rc = -EACCES;
    } else if (rc == 0 && ctx->uid != 0) {
        /* A write-area entry is the user's own: its owner bits decide, as access(2) would. */
        mode_t bits = (mode_t)(((mask & R_OK) ? 4 : 0) | ((mask & W_OK) ? 2 : 0) | ((mask & X_OK) ? 1 : 0));
        if (((st.st_mode >> 6) & bits) != bits)
            rc = -EACCES;
    } else if (rc == 0 && (mask & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111)) {
        rc = -EACCES;
    }
    fs_reply_err(m, req, rc == -EAGAIN ? 0 : -rc);
}
