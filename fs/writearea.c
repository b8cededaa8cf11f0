/* SPDX-License-Identifier: MIT */
/*
 * writearea.c — the real directory behind what one user's go commands write into GOMODCACHE.
 *
 * Lock files, the sumdb cache, cache/lock, cache/vcs, temp files and whole modules the go
 * command downloads itself live in write_dir/<uid> at the same relative path they have in the
 * user's view. The directories above them are made on demand (the view's directories exist only
 * virtually). Every call is relative to the user's area descriptor, with names the kernel has
 * already checked (no '/', no "." or ".."), and nothing here ever creates a symbolic link, so no
 * path leads out of the area. Callers that change the area do so as the user (fs_cred_enter).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fs_i.h"

int fs_write_stat(fs_mount_t *m, fs_view_t *v, const char *rel, struct stat *st)
{
    int wfd = fs_view_wfd(m, v, false);
    if (wfd < 0)
        return wfd == -ENOENT ? -ENOENT : wfd;
    if (fstatat(wfd, rel, st, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    int e = errno;
    return e == ENOTDIR ? -ENOENT : -e;
}

int fs_write_mkparents(fs_mount_t *m, fs_view_t *v, const char *rel)
{
    char buf[PATH_MAX];
    size_t len = strlen(rel);
    if (len >= sizeof(buf))
        return -ENAMETOOLONG;
    int wfd = fs_view_wfd(m, v, true);
    if (wfd < 0)
        return wfd;
    memcpy(buf, rel, len + 1);
    char *slash = strrchr(buf, '/');
    if (slash == NULL)
        return 0; /* directly in the write area's root */
    *slash = '\0';
    return path_mkdirs_at(wfd, buf, 0755);
}

int fs_write_list(fs_mount_t *m, fs_view_t *v, const char *rel, fs_dirlist_t *out)
{
    int wfd = fs_view_wfd(m, v, false);
    if (wfd < 0)
        return wfd == -ENOENT ? 0 : wfd;
    int fd = openat(wfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

void fs_write_mode(fs_mount_t *m, fs_view_t *v, int fd, const char *rel, mode_t mode)
{
    /* The kernel applied the caller's umask to mode already; this process's own umask must
     * not take more bits away. An error leaves the mode umask gave, which is harmless. */
    int wfd = fs_view_wfd(m, v, false);
    int r = fd >= 0 ? fchmod(fd, mode & 07777) : wfd >= 0 ? fchmodat(wfd, rel, mode & 07777, 0) : -1;
    (void)r;
}
