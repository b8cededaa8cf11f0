/* SPDX-License-Identifier: MIT */
/*
 * writearea.c — the real directory behind what the go command writes into GOMODCACHE.
 *
 * Lock files, the sumdb cache, cache/lock, temp files and whole modules the go command
 * downloads itself live in write_dir at the same relative path they have on the mount. The
 * directories above them are made on demand (the view's directories exist only virtually).
 * Every call is relative to one directory descriptor, with names the kernel has already
 * checked (no '/', no "." or ".."), and nothing here ever creates a symbolic link, so no path
 * leads out of write_dir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fs_i.h"

int fs_write_stat(fs_mount_t *m, const char *rel, struct stat *st)
{
    if (fstatat(m->write_fd, rel, st, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    int e = errno;
    return e == ENOTDIR ? -ENOENT : -e;
}

int fs_write_mkparents(fs_mount_t *m, const char *rel)
{
    char buf[PATH_MAX];
    size_t len = strlen(rel);
    if (len >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, rel, len + 1);
    char *slash = strrchr(buf, '/');
    if (slash == NULL)
        return 0; /* directly in the write area's root */
    *slash = '\0';
    return path_mkdirs_at(m->write_fd, buf, 0755);
}

int fs_write_list(fs_mount_t *m, const char *rel, fs_dirlist_t *out)
{
    int fd = openat(m->write_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        mode_t type = DTTOIF(de->d_type);
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            type = st.st_mode & S_IFMT;
        }
        if ((rc = fs_dirlist_add(out, de->d_name, strlen(de->d_name), type, true)) < 0)
            break;
    }
    closedir(d);
    return rc;
}

void fs_write_own(fs_mount_t *m, fuse_req_t req, int fd, const char *rel, mode_t mode)
{
    /* The kernel applied the caller's umask to mode already; this process's own umask must
     * not take more bits away. Errors are ignored: the entry exists, only its owner or mode
     * is off, which is what a file system without ownership would show anyway. */
    int r;
    if (m->as_root) {
        const struct fuse_ctx *ctx = fuse_req_ctx(req);
        r = fd >= 0 ? fchown(fd, ctx->uid, ctx->gid) : fchownat(m->write_fd, rel, ctx->uid, ctx->gid, AT_SYMLINK_NOFOLLOW);
        (void)r;
    }
    r = fd >= 0 ? fchmod(fd, mode & 07777) : fchmodat(m->write_fd, rel, mode & 07777, 0);
    (void)r;
}
