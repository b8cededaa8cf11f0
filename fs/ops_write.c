/* SPDX-License-Identifier: MIT */
/*
 * ops_write.c — what a user writes into the mount: create, mknod, mkdir, symlink, link, unlink,
 * rmdir, rename, setattr (chmod, chown, truncate, times), write, flush, fsync, statfs.
 *
 * Every new name is checked by policy.c (only what the go command itself writes, where it
 * writes it, never over a module the store serves) and lands in the caller's write area at the
 * same relative path, made as that user. The store's names cannot be written, renamed, linked,
 * truncated or chmod-ed, whoever asks: EROFS, the answer go already handles on a read-only
 * cache. They can be removed, from the remover's view only: the name is whited out (view.c) and
 * comes back, from the store and without a fetch, when the user next looks it up. A directory
 * can be removed when its write-area part is empty and every store name in it is whited out, so
 * `go clean -modcache` (chmod of every directory, which it ignores failing, then remove every
 * name, then GOMODCACHE itself) succeeds for any user, frees what that user's writes took and
 * leaves the store and every other user's view whole. flock is not implemented, on purpose:
 * the kernel then keeps flock locks itself, which is exactly what go's lockedfile needs on
 * .ziphash, .lock and cache/lock within one host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fs_i.h"

/* Whether name in parent is a store-backed (view) entry, resolved without fetching; its type in
 * *type. gomodcache/ in the mount's root is one (a directory). */
static bool fs_view_has(fs_mount_t *m, fs_view_t *v, fs_node_t *parent, const char *name, mode_t *type)
{
    fs_node_t *n = NULL;
    double ignored;
    if (parent->kind == FS_KIND_WRITE)
        return false;
    if (fs_layout_resolve(m, v, parent, name, FS_RESOLVE_NOFETCH, &n, &ignored) < 0)
        return false;
    if (type)
        *type = n->type;
    fs_node_discard(n);
    return true;
}

/* Publishes a new write-area entry of view v and fills e; on failure the entry is left on disk. */
static int fs_write_publish(fs_mount_t *m, fs_view_t *v, fs_node_t *parent, const char *name, mode_t type,
                            struct fuse_entry_param *e)
{
    fs_node_t *cand = fs_node_new(m, v, FS_KIND_WRITE, type);
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

/*
 * Everything a new name needs before it is made: the caller's view, the name's path, the rules'
 * word, the user's write area and the directories above the name (made as the user, who is then
 * still "entered": the caller leaves *cred). Returns the write area's fd or -errno (cred left).
 */
static int fs_create_begin(fs_mount_t *m, fuse_req_t req, fs_node_t *parent, const char *name, fs_view_t **v,
                           char *rel, size_t cap, fs_cred_t *cred)
{
    int rc;
    cred->on = false;
    if (parent->type != S_IFDIR)
        return -ENOTDIR;
    if ((rc = fs_view_of(m, req, parent, v)) < 0 || (rc = fs_entry_path(m, parent, name, rel, cap)) < 0)
        return rc;
    if ((rc = fs_policy_may_create(m, *v, rel)) < 0)
        return rc;
    int wfd = fs_view_wfd(m, *v, true); /* made by modfs, not as the user */
    if (wfd < 0)
        return wfd;
    fs_cred_enter(m, *v, cred);
    if ((rc = fs_write_mkparents(m, *v, rel)) < 0) {
        fs_cred_leave(cred);
        return rc;
    }
    return wfd;
}

void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    struct fuse_entry_param e;
    char rel[PATH_MAX];
    fs_cred_t cred;
    fs_view_t *v;
    int wfd = fs_create_begin(m, req, dir, name, &v, rel, sizeof(rel), &cred);
    int rc = wfd;
    if (wfd < 0)
        goto fail;
    int fd = openat(wfd, rel, (fi->flags & ~O_NOCTTY) | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode & 07777);
    rc = fd < 0 ? -errno : 0;
    if (fd >= 0)
        fs_write_mode(m, v, fd, rel, mode);
    fs_cred_leave(&cred);
    if (fd < 0)
        goto fail;
    fs_handle_t *h = fs_handle_new(m, FS_HANDLE_WRITE);
    if (!h) {
        close(fd);
        rc = -ENOMEM;
        goto fail;
    }
    h->fd = fd;
    if ((rc = fs_write_publish(m, v, dir, name, S_IFREG, &e)) < 0) {
        fs_handle_free(m, h);
        goto fail;
    }
    fi->fh = (uintptr_t)h;
    if (fuse_reply_create(req, &e, fi) < 0) {
        fs_handle_free(m, h);
        fs_node_forget(m, fs_node_get(m, e.ino), 1);
    }
    fs_dir_parent_changed(m, v, rel, dir);
    return;
fail:
    fs_reply_err(m, req, -rc);
}

void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    struct fuse_entry_param e;
    char rel[PATH_MAX];
    fs_cred_t cred;
    fs_view_t *v;
    int rc;
    /* Regular files only: devices, fifos and sockets have no place in a module cache. The
     * rules come first, so a store's directory says EROFS whatever the type. */
    int wfd = fs_create_begin(m, req, dir, name, &v, rel, sizeof(rel), &cred);
    if ((rc = wfd) < 0)
        goto fail;
    if (!S_ISREG(mode))
        rc = -EPERM;
    else if (mknodat(wfd, rel, mode, rdev) < 0)
        rc = -errno;
    else
        fs_write_mode(m, v, -1, rel, mode);
    fs_cred_leave(&cred);
    if (rc < 0 || (rc = fs_write_publish(m, v, dir, name, S_IFREG, &e)) < 0)
        goto fail;
    fuse_reply_entry(req, &e);
    fs_dir_parent_changed(m, v, rel, dir);
    return;
fail:
    fs_reply_err(m, req, -rc);
}

void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    struct fuse_entry_param e;
    char rel[PATH_MAX];
    fs_cred_t cred;
    fs_view_t *v;
    int rc;
    int wfd = fs_create_begin(m, req, dir, name, &v, rel, sizeof(rel), &cred);
    if ((rc = wfd) < 0)
        goto fail;
    if (mkdirat(wfd, rel, mode & 07777) < 0)
        rc = -errno;
    else
        fs_write_mode(m, v, -1, rel, mode);
    fs_cred_leave(&cred);
    if (rc < 0 || (rc = fs_write_publish(m, v, dir, name, S_IFDIR, &e)) < 0)
        goto fail;
    fuse_reply_entry(req, &e);
    fs_dir_parent_changed(m, v, rel, dir);
    return;
fail:
    fs_reply_err(m, req, -rc);
}

void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    char rel[PATH_MAX];
    fs_view_t *v;
    (void)link;
    /* No symbolic link is ever made (none could then lead out of a write area): EPERM where go
     * may write (git's probe at init then sets core.symlinks=false), EROFS everywhere else. */
    int rc = fs_view_of(m, req, dir, &v);
    if (rc == 0)
        rc = fs_entry_path(m, dir, name, rel, sizeof(rel));
    if (rc >= 0)
        rc = fs_policy_may_create(m, v, rel);
    fs_reply_err(m, req, rc < 0 ? -rc : EPERM);
}

void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *node = fs_node_get(m, ino);
    fs_node_t *dir = fs_node_get(m, newparent);
    struct fuse_entry_param e;
    char src[PATH_MAX], rel[PATH_MAX];
    fs_cred_t cred;
    fs_view_t *v;
    int rc;
    /* Only a user's own file, to a name go may create, in the same view: a store file has no
     * real file to link to, and a link must never make a store name writable. */
    if (node->kind != FS_KIND_WRITE) {
        rc = -EROFS;
        goto fail;
    }
    int wfd = fs_create_begin(m, req, dir, newname, &v, rel, sizeof(rel), &cred);
    if ((rc = wfd) < 0)
        goto fail;
    if (node->view != v)
        rc = -EXDEV;
    else if ((rc = fs_node_path(m, node, NULL, src, sizeof(src))) >= 0)
        rc = linkat(wfd, src, wfd, rel, 0) < 0 ? -errno : 0;
    fs_cred_leave(&cred);
    if (rc < 0 || (rc = fs_write_publish(m, v, dir, newname, node->type, &e)) < 0)
        goto fail;
    fuse_reply_entry(req, &e);
    fs_dir_parent_changed(m, v, rel, dir);
    return;
fail:
    fs_reply_err(m, req, -rc);
}

/* A write-area call made as the view's user: 0 or -errno. */
static int fs_as_user_unlinkat(fs_mount_t *m, fs_view_t *v, const char *rel, int flags)
{
    int wfd = fs_view_wfd(m, v, false);
    if (wfd < 0)
        return wfd;
    fs_cred_t cred;
    fs_cred_enter(m, v, &cred);
    int rc = unlinkat(wfd, rel, flags) < 0 ? -errno : 0;
    fs_cred_leave(&cred);
    return rc;
}

void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    char rel[PATH_MAX];
    struct stat st;
    fs_view_t *v = NULL;
    int rc = fs_view_of(m, req, dir, &v);
    if (rc == 0)
        rc = fs_entry_path(m, dir, name, rel, sizeof(rel));
    if (rc >= 0)
        rc = fs_write_stat(m, v, rel, &st);
    if (rc == 0) {
        if (S_ISDIR(st.st_mode))
            rc = -EISDIR;
        else if ((rc = fs_as_user_unlinkat(m, v, rel, 0)) == 0)
            fs_table_unhash(m, dir, v, name);
    } else if (rc == -ENOENT && dir->kind != FS_KIND_WRITE) {
        fs_node_t *n = NULL;
        double ignored;
        rc = fs_layout_resolve(m, v, dir, name, FS_RESOLVE_NOFETCH, &n, &ignored);
        if (rc == -EAGAIN)
            rc = -ENOENT;
        if (rc < 0) {
            /* nothing there */
        } else if (n->type == S_IFDIR)
            rc = -EISDIR;
        else if (n->kind == FS_KIND_NOTE) {
            /* the user has read the news */
            fs_note_drop(v, n->key);
            fs_table_unhash(m, dir, v, name);
        } else if ((rc = fs_whiteout_add(v, rel, NULL)) == 0) {
            /* A store file: gone from this user's view until the user asks for it again. */
            fs_table_unhash(m, dir, v, name);
            atomic_fetch_add_explicit(&m->metrics.whiteouts, 1, memory_order_relaxed);
        }
        fs_node_discard(n);
    }
    fs_reply_err(m, req, -rc);
    if (rc == 0)
        fs_dir_parent_changed(m, v, rel, dir);
}

/* Whether every store name of the view directory (the node that name in parent stands for) is
 * whited out; its listing in *all for fs_whiteout_add. 0, -ENOTEMPTY or -errno. */
static int fs_rmdir_view_empty(fs_mount_t *m, fs_view_t *v, fs_node_t *parent, const char *name,
                               const char *rel, fs_dirlist_t *all)
{
    fs_node_t *n = NULL;
    double ignored;
    int rc = fs_layout_resolve(m, v, parent, name, FS_RESOLVE_NOFETCH, &n, &ignored);
    if (rc < 0)
        return rc;
    rc = fs_listing_view(m, n, all);
    fs_node_discard(n);
    if (rc < 0)
        return rc;
    fs_dirlist_finish(all);
    char child[PATH_MAX];
    bool root = strcmp(rel, ".") == 0;
    for (size_t i = 0; i < all->n; i++) {
        int len = root ? snprintf(child, sizeof child, "%s", all->v[i].name)
                       : snprintf(child, sizeof child, "%s/%s", rel, all->v[i].name);
        if (len < 0 || (size_t)len >= sizeof child || !fs_whiteout_has(v, child))
            return -ENOTEMPTY;
    }
    return 0;
}

void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    char rel[PATH_MAX];
    struct stat st;
    mode_t vtype = 0;
    fs_dirlist_t all = {0};
    fs_view_t *v = NULL;
    int rc = fs_view_of(m, req, dir, &v);
    if (rc == 0)
        rc = fs_entry_path(m, dir, name, rel, sizeof(rel));
    if (rc < 0)
        goto out;
    bool view = fs_view_has(m, v, dir, name, &vtype);
    bool vroot = strcmp(rel, ".") == 0; /* gomodcache/: its write-area half is the user's area itself */
    rc = vroot ? -ENOENT : fs_write_stat(m, v, rel, &st);
    if (rc < 0 && rc != -ENOENT)
        goto out;
    bool written = rc == 0;
    if (vroot) {
        fs_dirlist_t mine = {0};
        rc = fs_write_list(m, v, ".", &mine);
        size_t n = mine.n;
        fs_dirlist_dispose(&mine);
        if (rc < 0 || n > 0) {
            rc = rc < 0 ? rc : -ENOTEMPTY;
            goto out;
        }
    }
    if ((written && !S_ISDIR(st.st_mode)) || (!written && view && vtype != S_IFDIR)) {
        rc = -ENOTDIR;
    } else if (view) {
        /* The store's half must look empty to this user, and the user's own half must be. */
        if ((rc = fs_rmdir_view_empty(m, v, dir, name, rel, &all)) < 0)
            goto out;
        if (written && (rc = fs_as_user_unlinkat(m, v, rel, AT_REMOVEDIR)) < 0 && rc != -ENOENT)
            goto out;
        if ((rc = fs_whiteout_add(v, rel, &all)) == 0) {
            fs_table_unhash(m, dir, v, name);
            atomic_fetch_add_explicit(&m->metrics.whiteouts, 1, memory_order_relaxed);
        }
    } else if (written) {
        if ((rc = fs_as_user_unlinkat(m, v, rel, AT_REMOVEDIR)) == 0)
            fs_table_unhash(m, dir, v, name);
    }
out:
    fs_dirlist_dispose(&all);
    fs_reply_err(m, req, -rc);
    if (rc == 0)
        fs_dir_parent_changed(m, v, rel, dir);
}

void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                  unsigned int flags)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, parent);
    fs_node_t *newdir = fs_node_get(m, newparent);
    char src[PATH_MAX], dst[PATH_MAX];
    struct stat sst, dstst;
    fs_view_t *v = NULL, *v2 = NULL;
    fs_cred_t cred = {0};
    int rc;

    if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
        rc = -EINVAL;
        goto out;
    }
    if ((rc = fs_view_of(m, req, dir, &v)) < 0 || (rc = fs_view_of(m, req, newdir, &v2)) < 0)
        goto out;
    if (v != v2) {
        rc = -EXDEV;
        goto out;
    }
    if ((rc = fs_entry_path(m, dir, name, src, sizeof(src))) < 0 ||
        (rc = fs_entry_path(m, newdir, newname, dst, sizeof(dst))) < 0)
        goto out;
    if (strcmp(src, ".") == 0 || strcmp(dst, ".") == 0) {
        rc = -EROFS; /* gomodcache/ itself */
        goto out;
    }
    /* The source is the user's own file or directory; a store name never moves. */
    rc = fs_write_stat(m, v, src, &sst);
    if (rc == -ENOENT && fs_view_has(m, v, dir, name, NULL))
        rc = -EROFS;
    if (rc < 0)
        goto out;
    /* A directory that is also in the view would leave its view half behind. */
    if (S_ISDIR(sst.st_mode) && fs_view_has(m, v, dir, name, NULL)) {
        rc = -EROFS;
        goto out;
    }
    /* The target must be a name go creates there (never a store name), and so must the source's
     * new name when the two are exchanged. */
    if ((rc = fs_policy_may_create(m, v, dst)) < 0)
        goto out;
    if ((flags & RENAME_EXCHANGE) && (rc = fs_policy_may_create(m, v, src)) < 0)
        goto out;
    rc = fs_write_stat(m, v, dst, &dstst);
    if (rc == 0 && S_ISDIR(dstst.st_mode) && fs_view_has(m, v, newdir, newname, NULL)) {
        rc = -EROFS;
        goto out;
    }
    int wfd = fs_view_wfd(m, v, false);
    if ((rc = wfd) < 0)
        goto out;
    fs_cred_enter(m, v, &cred);
    if ((rc = fs_write_mkparents(m, v, dst)) == 0 && renameat2(wfd, src, wfd, dst, flags) < 0)
        rc = -errno;
    fs_cred_leave(&cred);
    if (rc < 0)
        goto out;
    rc = fs_table_move(m, v, dir, name, newdir, newname, flags);
out:
    fs_reply_err(m, req, -rc);
    if (rc == 0) {
        fs_dir_parent_changed(m, v, src, dir);
        fs_dir_parent_changed(m, v, dst, newdir);
    }
}

static int fs_setattr_write(fs_mount_t *m, fs_view_t *v, const char *rel, struct stat *attr, int to_set, int fd)
{
    int rc;
    int wfd = fs_view_wfd(m, v, false);
    if (wfd < 0)
        return wfd;
    if (to_set & FUSE_SET_ATTR_MODE) {
        if ((fd >= 0 ? fchmod(fd, attr->st_mode & 07777) : fchmodat(wfd, rel, attr->st_mode & 07777, 0)) < 0)
            return -errno;
    }
    if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
        uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
        gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
        if ((fd >= 0 ? fchown(fd, uid, gid) : fchownat(wfd, rel, uid, gid, AT_SYMLINK_NOFOLLOW)) < 0)
            return -errno;
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
        int tfd = fd >= 0 ? fd : openat(wfd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
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
        if ((fd >= 0 ? futimens(fd, ts) : utimensat(wfd, rel, ts, AT_SYMLINK_NOFOLLOW)) < 0)
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
    fs_view_t *v;
    char rel[PATH_MAX];
    int rc;

    if (node->kind == FS_KIND_WRITE) {
        rc = fs_view_of(m, req, node, &v);
        if (rc == 0)
            rc = fs_node_path(m, node, NULL, rel, sizeof(rel));
        /* A tree go has finished extracting keeps its files: chmod of its directories only. */
        if (rc >= 0 && (to_set & FUSE_SET_ATTR_SIZE))
            rc = fs_policy_may_modify(m, v, rel);
        if (rc >= 0) {
            fs_cred_t cred;
            fs_cred_enter(m, v, &cred);
            rc = fs_setattr_write(m, v, rel, attr, to_set, fd);
            fs_cred_leave(&cred);
        }
    } else {
        /* The view cannot change; a chmod to the mode it already has is no change. */
        rc = fs_attr_get(m, node, -1, 0, &st, &timeout);
        if (rc == 0 && (to_set & ~FUSE_SET_ATTR_CTIME) != FUSE_SET_ATTR_MODE)
            rc = -EROFS;
        if (rc == 0 && (attr->st_mode & 07777) != (st.st_mode & 07777))
            rc = -EROFS;
    }
    if (rc >= 0)
        rc = fs_attr_get(m, node, fd, 0, &st, &timeout);
    if (rc < 0)
        fs_reply_err(m, req, -rc);
    else
        fuse_reply_attr(req, &st, timeout);
}

void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_handle_t *h = fs_handle_of(fi);
    fs_node_t *node = fs_node_get(m, ino);
    int fd;
    if (h ? h->kind != FS_HANDLE_WRITE : node->kind != FS_KIND_WRITE) {
        fs_reply_err(m, req, EROFS);
        /* The kernel opened the store's file for writing without asking (ops_read.c) and put
         * the refused bytes in its page cache first: write(2) marks those pages stale on the
         * error, but a page written through a shared mapping would stay. Drop them all, now
         * that the reply has released the kernel's locks on them. */
        if (!h)
            fuse_lowlevel_notify_inval_inode(m->se, ino, 0, 0);
        return;
    }
    /* A file the kernel opened without us (ops_read.c): the checks of an open for writing, then
     * the write, as the user. */
    if (h)
        fd = h->fd;
    else if ((fd = fs_write_open(m, req, node, O_WRONLY)) < 0) {
        fs_reply_err(m, req, -fd);
        return;
    }
    ssize_t n = pwrite(fd, buf, size, off);
    int saved = errno;
    if (!h)
        close(fd);
    if (n < 0) {
        fs_reply_err(m, req, saved);
        return;
    }
    atomic_fetch_add_explicit(&m->metrics.writes, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->metrics.write_bytes, (uint64_t)n, memory_order_relaxed);
    fuse_reply_write(req, (size_t)n);
}

void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_handle_t *h = fs_handle_of(fi);
    int rc = 0;
    (void)ino;
    if (m->no_open) {
        /* Files the kernel opened itself carry no "nothing to flush" flag: without this answer
         * every close would be a round trip. ENOSYS stops FLUSH for good; a write-area file's
         * delayed write errors, which a local disk does not have, are then not reported at
         * close. */
        fuse_reply_err(req, ENOSYS);
        return;
    }
    /* close() of a duplicate reports delayed write errors now, as close() on a local file would. */
    if (h && h->kind == FS_HANDLE_WRITE) {
        int dfd = dup(h->fd);
        rc = dfd < 0 || close(dfd) < 0 ? errno : 0;
    }
    fs_reply_err(m, req, rc);
}

void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_handle_t *h = fs_handle_of(fi);
    fs_node_t *node = fs_node_get(m, ino);
    int rc = 0, fd = -1;
    if (h && h->kind == FS_HANDLE_WRITE)
        fd = h->fd;
    else if (!h && node->kind == FS_KIND_WRITE && (fd = fs_write_open(m, req, node, O_RDONLY)) < 0)
        rc = -fd;
    if (fd >= 0 && (datasync ? fdatasync(fd) : fsync(fd)) < 0)
        rc = errno;
    if (!h && fd >= 0)
        close(fd);
    fs_reply_err(m, req, rc);
}

void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    fs_mount_t *m = fs_req_mount(req);
    struct statvfs sv;
    (void)ino;
    if (fstatvfs(m->write_fd, &sv) < 0) {
        fs_reply_err(m, req, errno);
        return;
    }
    sv.f_namemax = NAME_MAX;
    fuse_reply_statfs(req, &sv);
}
