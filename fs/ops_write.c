/* SPDX-License-Identifier: MIT */
/*
 * ops_write.c — what the go command writes into GOMODCACHE: create, mknod, mkdir, unlink,
 * rmdir, rename, setattr (chmod, chown, truncate, times), write, flush, fsync, statfs.
 *
 * Everything written lands in the write area at the same relative path; a file written over
 * a store-backed name (go rewriting a .info it disagrees with, via a temp file and rename)
 * hides the store's file from then on, and removing it shows the store's again. Store-backed
 * names themselves cannot be changed or removed: EROFS, the answer go already handles on a
 * read-only cache. So `go clean -modcache` removes the write area's files (lock files, sumdb
 * cache, modules go downloaded itself), reports EROFS for the store's and leaves the store
 * whole; a directory that is both (a view directory holding lock files) loses its write-area
 * part when that is empty and stays in the view. flock is not implemented, on purpose: the
 * kernel then keeps flock locks itself, which is exactly what go's lockedfile needs on
 * .ziphash, .lock and cache/lock within one host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fs_i.h"

/* Whether name in parent is a store-backed (view) entry; its type in *type. */
static bool fs_view_has(fs_mount_t *m, fs_node_t *parent, const char *name, mode_t *type)
{
    fs_node_t *n = NULL;
    double ignored;
    if (parent->kind == FS_KIND_WRITE)
        return false;
    if (fs_layout_resolve(m, parent, name, FS_RESOLVE_NOFETCH, &n, &ignored) < 0)
        return false;
    if (type)
        *type = n->type;
    fs_node_discard(n);
    return true;
}

/* Publishes a new write-area entry and fills e; on failure the entry is left on disk. */
static int fs_write_publish(fs_mount_t *m, fs_node_t *parent, const char *name, mode_t type,
                            struct fuse_entry_param *e)
{
    fs_node_t *cand = fs_node_new(m, FS_KIND_WRITE, type);
    if (!cand)
        return -ENOMEM;
    fs_node_t *node = fs_table_publish(m, parent, name, cand);
    if (!node)
        return -ENOMEM;
    int rc = fs_attr_entry(m, node, 0, e);
    if (rc < 0)
        fs_node_forget(m, node, 1);
    return rc;
}

/* The write-area path of name in parent, with the directories above it made. */
static int fs_write_prepare(fs_mount_t *m, fs_node_t *parent, const char *name, char *rel, size_t cap)
{
    if (parent->type != S_IFDIR)
        return -ENOTDIR;
    int rc = fs_node_path(m, parent, name, rel, cap);
    if (rc < 0)
        return rc;
    return fs_write_mkparents(m, rel);
}

void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    struct fuse_entry_param e;
    char rel[PATH_MAX];
    int rc = fs_write_prepare(m, dir, name, rel, sizeof(rel));
    if (rc < 0)
        goto fail;
    int fd = openat(m->write_fd, rel, (fi->flags & ~O_NOCTTY) | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode & 07777);
    if (fd < 0) {
        rc = -errno;
        goto fail;
    }
    fs_write_own(m, req, fd, rel, mode);
    fs_handle_t *h = fs_handle_new(m, FS_HANDLE_WRITE);
    if (!h) {
        close(fd);
        rc = -ENOMEM;
        goto fail;
    }
    h->fd = fd;
    if ((rc = fs_write_publish(m, dir, name, S_IFREG, &e)) < 0) {
        fs_handle_free(m, h);
        goto fail;
    }
    fi->fh = (uintptr_t)h;
    if (fuse_reply_create(req, &e, fi) < 0) {
        fs_handle_free(m, h);
        fs_node_forget(m, fs_node_get(m, e.ino), 1);
    }
    return;
fail:
    fuse_reply_err(req, -rc);
}

void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    struct fuse_entry_param e;
    char rel[PATH_MAX];
    int rc;
    /* Regular files only: devices, fifos and sockets have no place in a module cache. */
    if (!S_ISREG(mode)) {
        rc = -EPERM;
        goto fail;
    }
    if ((rc = fs_write_prepare(m, dir, name, rel, sizeof(rel))) < 0)
        goto fail;
    if (mknodat(m->write_fd, rel, mode, rdev) < 0) {
        rc = -errno;
        goto fail;
    }
    fs_write_own(m, req, -1, rel, mode);
    if ((rc = fs_write_publish(m, dir, name, S_IFREG, &e)) < 0)
        goto fail;
    fuse_reply_entry(req, &e);
    return;
fail:
    fuse_reply_err(req, -rc);
}

void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    struct fuse_entry_param e;
    char rel[PATH_MAX];
    int rc;
    if ((rc = fs_write_prepare(m, dir, name, rel, sizeof(rel))) < 0)
        goto fail;
    if (mkdirat(m->write_fd, rel, mode & 07777) < 0) {
        rc = -errno;
        goto fail;
    }
    fs_write_own(m, req, -1, rel, mode);
    if ((rc = fs_write_publish(m, dir, name, S_IFDIR, &e)) < 0)
        goto fail;
    fuse_reply_entry(req, &e);
    return;
fail:
    fuse_reply_err(req, -rc);
}

void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    char rel[PATH_MAX];
    struct stat st;
    int rc = fs_node_path(m, dir, name, rel, sizeof(rel));
    if (rc >= 0)
        rc = fs_write_stat(m, rel, &st);
    if (rc == 0) {
        if (S_ISDIR(st.st_mode))
            rc = -EISDIR;
        else if (unlinkat(m->write_fd, rel, 0) < 0)
            rc = -errno;
        else
            fs_table_unhash(m, dir, name);
    } else if (rc == -ENOENT && fs_view_has(m, dir, name, NULL)) {
        rc = -EROFS;
    }
    fuse_reply_err(req, -rc);
}

void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    char rel[PATH_MAX];
    struct stat st;
    mode_t vtype = 0;
    bool view = fs_view_has(m, dir, name, &vtype);
    int rc = fs_node_path(m, dir, name, rel, sizeof(rel));
    if (rc >= 0)
        rc = fs_write_stat(m, rel, &st);
    if (rc == 0 && !S_ISDIR(st.st_mode)) {
        rc = -ENOTDIR;
    } else if (rc == 0 && view) {
        /* The write-area half goes if it is empty; the view's half cannot. */
        if (unlinkat(m->write_fd, rel, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST)
            rc = -errno;
        else
            rc = -EROFS;
    } else if (rc == 0) {
        if (unlinkat(m->write_fd, rel, AT_REMOVEDIR) < 0)
            rc = -errno;
        else
            fs_table_unhash(m, dir, name);
    } else if (rc == -ENOENT && view) {
        rc = vtype == S_IFDIR ? -EROFS : -ENOTDIR;
    }
    fuse_reply_err(req, -rc);
}

void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                  unsigned int flags)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    fs_node_t *newdir = fs_node_get(m, newparent);
    char src[PATH_MAX], dst[PATH_MAX];
    struct stat sst, dstst;
    mode_t vtype = 0;
    int rc;

    if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
        rc = -EINVAL;
        goto out;
    }
    if ((rc = fs_node_path(m, dir, name, src, sizeof(src))) < 0)
        goto out;
    if ((rc = fs_node_path(m, newdir, newname, dst, sizeof(dst))) < 0)
        goto out;
    rc = fs_write_stat(m, src, &sst);
    if (rc == -ENOENT && fs_view_has(m, dir, name, NULL))
        rc = -EROFS;
    if (rc < 0)
        goto out;
    /* A directory that is also in the view would leave its view half behind. */
    if (S_ISDIR(sst.st_mode) && fs_view_has(m, dir, name, NULL)) {
        rc = -EROFS;
        goto out;
    }
    rc = fs_write_stat(m, dst, &dstst);
    if (rc == -ENOENT && fs_view_has(m, newdir, newname, &vtype)) {
        /* Over a store-backed file: the new file hides it. Never over a view directory. */
        if (flags & RENAME_NOREPLACE)
            rc = -EEXIST;
        else if ((flags & RENAME_EXCHANGE) || vtype == S_IFDIR)
            rc = -EROFS;
        else
            rc = 0;
        if (rc < 0)
            goto out;
    } else if (rc == 0 && S_ISDIR(dstst.st_mode) && fs_view_has(m, newdir, newname, NULL)) {
        rc = -EROFS;
        goto out;
    }
    if ((rc = fs_write_mkparents(m, dst)) < 0)
        goto out;
    if (renameat2(m->write_fd, src, m->write_fd, dst, flags) < 0) {
        rc = -errno;
        goto out;
    }
    rc = fs_table_move(m, dir, name, newdir, newname, flags);
out:
    fuse_reply_err(req, -rc);
}

static int fs_setattr_write(fs_mount_t *m, fs_node_t *node, struct stat *attr, int to_set, int fd)
{
    char rel[PATH_MAX];
    int rc = fs_node_path(m, node, NULL, rel, sizeof(rel));
    if (rc < 0)
        return rc;
    if (to_set & FUSE_SET_ATTR_MODE) {
        if ((fd >= 0 ? fchmod(fd, attr->st_mode & 07777) : fchmodat(m->write_fd, rel, attr->st_mode & 07777, 0)) < 0)
            return -errno;
    }
    if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
        uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
        gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
        if ((fd >= 0 ? fchown(fd, uid, gid) : fchownat(m->write_fd, rel, uid, gid, AT_SYMLINK_NOFOLLOW)) < 0)
            return -errno;
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
        int tfd = fd >= 0 ? fd : openat(m->write_fd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (tfd < 0)
            return -errno;
        rc = ftruncate(tfd, attr->st_size) < 0 ? -errno : 0;
        if (tfd != fd)
            close(tfd);
        if (rc < 0)
            return rc;
    }
    if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
        struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
        if (to_set & FUSE_SET_ATTR_ATIME_NOW)
            ts[0].tv_nsec = UTIME_NOW;
        else if (to_set & FUSE_SET_ATTR_ATIME)
            ts[0] = attr->st_atim;
        if (to_set & FUSE_SET_ATTR_MTIME_NOW)
            ts[1].tv_nsec = UTIME_NOW;
        else if (to_set & FUSE_SET_ATTR_MTIME)
            ts[1] = attr->st_mtim;
        if ((fd >= 0 ? futimens(fd, ts) : utimensat(m->write_fd, rel, ts, AT_SYMLINK_NOFOLLOW)) < 0)
            return -errno;
    }
    return 0;
}

void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *node = fs_node_get(m, ino);
    fs_handle_t *h = fi ? fs_handle_of(fi) : NULL;
    int fd = h && h->kind == FS_HANDLE_WRITE ? h->fd : -1;
    struct stat st;
    double timeout;
    int rc;

    if (node->kind == FS_KIND_WRITE) {
        rc = fs_setattr_write(m, node, attr, to_set, fd);
    } else {
        /* The view cannot change; a chmod to the mode it already has is no change. */
        rc = fs_attr_get(m, node, -1, 0, &st, &timeout);
        if (rc == 0 && (to_set & ~FUSE_SET_ATTR_CTIME) != FUSE_SET_ATTR_MODE)
            rc = -EROFS;
        if (rc == 0 && (attr->st_mode & 07777) != (st.st_mode & 07777))
            rc = -EROFS;
    }
    if (rc == 0)
        rc = fs_attr_get(m, node, fd, 0, &st, &timeout);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, timeout);
}

void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    fs_handle_t *h = fs_handle_of(fi);
    (void)ino;
    if (h->kind != FS_HANDLE_WRITE) {
        fuse_reply_err(req, EROFS);
        return;
    }
    ssize_t n = pwrite(h->fd, buf, size, off);
    if (n < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_write(req, (size_t)n);
}

void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    fs_handle_t *h = fs_handle_of(fi);
    int rc = 0;
    (void)ino;
    /* close() of a duplicate reports delayed write errors now, as close() on a local file would. */
    if (h->kind == FS_HANDLE_WRITE) {
        int dfd = dup(h->fd);
        rc = dfd < 0 || close(dfd) < 0 ? errno : 0;
    }
    fuse_reply_err(req, rc);
}

void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    fs_handle_t *h = fs_handle_of(fi);
    int rc = 0;
    (void)ino;
    if (h->kind == FS_HANDLE_WRITE)
        rc = (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? errno : 0;
    fuse_reply_err(req, rc);
}

void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    fs_mount_t *m = fs_req_mount(req);
    struct statvfs sv;
    (void)ino;
    if (fstatvfs(m->write_fd, &sv) < 0) {
        fuse_reply_err(req, errno);
        return;
    }
    sv.f_namemax = NAME_MAX;
    fuse_reply_statfs(req, &sv);
}
