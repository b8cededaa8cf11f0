/* SPDX-License-Identifier: MIT */
/*
 * state.c — small named files of state beside the store (store.h: store_state_read and
 * store_state_swap), such as the tree head of a checksum database that every newer one must be
 * proven consistent with.
 *
 * A file, not a row of the index: it is what an operator may need to look at or remove by hand
 * (go keeps its own in $GOPATH/pkg/sumdb/<name>/latest, and the recovery from a database that
 * changed its key is to delete that file), and it never waits on a commit of the index. Each is
 * replaced whole: under an exclusive flock on "<name>.lock" the current bytes are compared with
 * what the caller last read, the new bytes go to "<name>.new", which is synced and renamed over
 * the name, and the directory is synced. flock conflicts between separate open file descriptions
 * even inside one process, so one lock serves threads and processes (a server and a `modfs get`
 * beside it) alike. A crash leaves the old file or the new one, never a mix; a stale "<name>.new"
 * is simply overwritten by the next swap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_i.h"

/* A name is relative, its elements non-empty and not "." or "..", printable ASCII without
 * spaces: it can never leave the store's directory. */
static bool state_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 512)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f)
            return false;
    for (size_t start = 0; start <= len;) {
        const char *slash = strchr(name + start, '/');
        size_t end = slash ? (size_t)(slash - name) : len;
        size_t n = end - start;
        if (n == 0 || (n == 1 && name[start] == '.') ||
            (n == 2 && name[start] == '.' && name[start + 1] == '.'))
            return false;
        start = end + 1;
    }
    return true;
}

/* Reads the whole file at path (relative to dirfd) into out: 0, 0 with out empty when there is no
 * file, -EFBIG past STORE_STATE_MAX, or -errno. */
static int read_whole(int dirfd, const char *path, buf_t *out)
{
    buf_reset(out);
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    int rc = 0;
    for (;;) {
        if ((rc = buf_reserve(out, 4096)) != 0)
            break;
        ssize_t n = read(fd, out->base + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        if (out->len > STORE_STATE_MAX) {
            rc = -EFBIG;
            break;
        }
    }
    close(fd);
    if (rc != 0)
        buf_reset(out);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int store_state_read(store_t *s, const char *name, buf_t *out, cache_err_t *err)
{
    buf_reset(out);
    if (!state_name_ok(name))
        return cache_err_set(err, -EINVAL, "state file name \"%.100s\" is not a clean relative path", name);
    int dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cache_err_set(err, -errno, "open %s: %s", s->dir, strerror(errno));
    int rc = read_whole(dirfd, name, out);
    close(dirfd);
    if (rc != 0)
        return cache_err_set(err, rc, "read %s/%s: %s", s->dir, name,
                             rc == -EFBIG ? "larger than a state file may be" : strerror(-rc));
    return 0;
}

int store_state_swap(store_t *s, const char *name, slice_t old, slice_t new_bytes, cache_err_t *err)
{
    if (!state_name_ok(name))
        return cache_err_set(err, -EINVAL, "state file name \"%.100s\" is not a clean relative path", name);
    if (new_bytes.len > STORE_STATE_MAX)
        return cache_err_set(err, -EFBIG, "state %s: %zu bytes is larger than a state file may be", name,
                             new_bytes.len);
    size_t nlen = strlen(name);
    char *lock = malloc(nlen + 8), *tmp = malloc(nlen + 8), *parent = strdup(name);
    int dirfd = -1, lockfd = -1, fd = -1, pfd = -1, rc = 0;
    buf_t cur = BUF_INIT;
    if (lock == NULL || tmp == NULL || parent == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    snprintf(lock, nlen + 8, "%s.lock", name);
    snprintf(tmp, nlen + 8, "%s.new", name);
    char *slash = strrchr(parent, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        strcpy(parent, ".");
    if ((dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = cache_err_set(err, -errno, "open %s: %s", s->dir, strerror(errno));
        goto out;
    }
    if (slash != NULL && (rc = path_mkdirs_at(dirfd, parent, 0755)) != 0) {
        cache_err_set(err, rc, "create %s/%s: %s", s->dir, parent, strerror(-rc));
        goto out;
    }
    if ((lockfd = openat(dirfd, lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        rc = cache_err_set(err, -errno, "open %s/%s: %s", s->dir, lock, strerror(errno));
        goto out;
    }
    while (flock(lockfd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            rc = cache_err_set(err, -errno, "lock %s/%s: %s", s->dir, lock, strerror(errno));
            goto out;
        }
    }
    if ((rc = read_whole(dirfd, name, &cur)) != 0) {
        cache_err_set(err, rc, "read %s/%s: %s", s->dir, name, strerror(-rc));
        goto out;
    }
    if (cur.len != old.len || (old.len > 0 && memcmp(cur.base, old.base, old.len) != 0)) {
        rc = -EAGAIN; /* someone swapped it since the caller read it */
        goto out;
    }
    if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        rc = cache_err_set(err, -errno, "create %s/%s: %s", s->dir, tmp, strerror(errno));
        goto out;
    }
    rc = write_all(fd, new_bytes.base, new_bytes.len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (rc != 0) {
        cache_err_set(err, rc, "write %s/%s: %s", s->dir, tmp, strerror(-rc));
        goto out;
    }
    if (renameat(dirfd, tmp, dirfd, name) != 0) {
        rc = cache_err_set(err, -errno, "rename %s/%s: %s", s->dir, tmp, strerror(errno));
        goto out;
    }
    /* The rename is durable once the directory holding it is. */
    if ((pfd = openat(dirfd, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(pfd) != 0) {
        rc = cache_err_set(err, -errno, "sync %s/%s: %s", s->dir, parent, strerror(errno));
        goto out;
    }
out:
    if (pfd >= 0)
        close(pfd);
    if (fd >= 0)
        close(fd);
    if (lockfd >= 0)
        close(lockfd); /* drops the flock */
    if (dirfd >= 0)
        close(dirfd);
    buf_dispose(&cur);
    free(lock);
    free(tmp);
    free(parent);
    return rc;
}
