/* SPDX-License-Identifier: MIT */
/*
 * pack.c — pack files: one writable pack per process (held by flock), read-only fds cached per
 * pack id so a read is a single pread with no lock taken.
 */
#include "store_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>


struct store_packs {
    int dirfd;
    store_pack_end_fn referenced_end;
    void *referenced_arg;

    pthread_mutex_t write_lock; /* protects the fields below */
    int write_fd;               /* -1 until the first append */
    uint32_t write_id;
    uint64_t write_size;
    int unsynced_fd;            /* a rotated-out pack not yet synced, or -1 */

    pthread_mutex_t open_lock;  /* serialises opening read fds */
    _Atomic int read_fds[PACK_MAX_COUNT]; /* 0 = not open yet; fd+1 otherwise */
};

static void pack_name(uint32_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%08u.pack", id);
}

int store_packs_open(const char *dir, store_pack_end_fn referenced_end, void *arg, store_packs_t **out,
                  cache_err_t *err)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cache_err_set(err, -errno, "create %s: %s", dir, strerror(errno));
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cache_err_set(err, -errno, "open %s: %s", dir, strerror(errno));
    store_packs_t *ps = calloc(1, sizeof *ps);
    if (ps == NULL) {
        close(dirfd);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    ps->dirfd = dirfd;
    ps->referenced_end = referenced_end;
    ps->referenced_arg = arg;
    ps->write_fd = -1;
    ps->unsynced_fd = -1;
    pthread_mutex_init(&ps->write_lock, NULL);
    pthread_mutex_init(&ps->open_lock, NULL);
    *out = ps;
    return 0;
}

void store_packs_close(store_packs_t *ps)
{
    if (ps == NULL)
        return;
    if (ps->write_fd >= 0)
        close(ps->write_fd); /* releases the flock */
    if (ps->unsynced_fd >= 0)
        close(ps->unsynced_fd);
    for (size_t i = 0; i < PACK_MAX_COUNT; i++) {
        int v = atomic_load(&ps->read_fds[i]);
        if (v > 0)
            close(v - 1);
    }
    close(ps->dirfd);
    pthread_mutex_destroy(&ps->write_lock);
    pthread_mutex_destroy(&ps->open_lock);
    free(ps);
}

/*
 * Cuts the tail of pack id (open as fd and flock'd by the caller, so no live writer's bytes are
 * there) back to where its indexed bytes end: bytes past the last indexed chunk were written by a
 * process that died before its index commit, and nothing refers to them. Returns 0 with *end
 * set, 1 when the pack is shorter than its index says (not to be written to), or -errno.
 */
static int pack_reclaim_tail(store_packs_t *ps, int fd, uint32_t id, uint64_t *end, cache_err_t *err)
{
    char name[32];
    pack_name(id, name, sizeof name);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cache_err_set(err, -errno, "stat pack %s: %s", name, strerror(errno));
    int rc = ps->referenced_end(ps->referenced_arg, id, end);
    if (rc != 0)
        return cache_err_set(err, rc, "pack %s: cannot read index", name);
    if ((uint64_t)st.st_size > *end) {
        if (ftruncate(fd, (off_t)*end) != 0)
            return cache_err_set(err, -errno, "truncate pack %s: %s", name, strerror(errno));
        LOG_I("pack %s: reclaimed %llu unindexed bytes", name, (unsigned long long)((uint64_t)st.st_size - *end));
    } else if ((uint64_t)st.st_size < *end) {
        LOG_W("pack %s is shorter than its index says (%llu < %llu); not writing to it", name,
              (unsigned long long)st.st_size, (unsigned long long)*end);
        return 1;
    }
    return 0;
}

int store_packs_reclaim(store_packs_t *ps, cache_err_t *err)
{
    int rc = 0;
    for (uint32_t id = 1; id < PACK_MAX_COUNT && rc == 0; id++) {
        char name[32];
        pack_name(id, name, sizeof name);
        int fd = openat(ps->dirfd, name, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT)
                break; /* packs are numbered from 1 without gaps */
            return cache_err_set(err, -errno, "open pack %s: %s", name, strerror(errno));
        }
        uint64_t end;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) /* else another process writes here: its tail is live */
            rc = pack_reclaim_tail(ps, fd, id, &end, err) < 0 ? -EIO : 0;
        close(fd);
    }
    return rc;
}

/*
 * Finds a pack this process may append to: the first existing pack below the size limit that no
 * other process holds, with any unindexed tail (a crash) cut off; else a new one. Called with
 * write_lock held.
 */
static int writer_adopt(store_packs_t *ps, cache_err_t *err)
{
    for (uint32_t id = 1; id < PACK_MAX_COUNT; id++) {
        char name[32];
        pack_name(id, name, sizeof name);
        int fd = openat(ps->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return cache_err_set(err, -errno, "open pack %s: %s", name, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd); /* another process writes here */
            continue;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || (uint64_t)st.st_size >= PACK_MAX_BYTES) {
            close(fd);
            continue;
        }
        uint64_t end = 0;
        int rc = pack_reclaim_tail(ps, fd, id, &end, err);
        if (rc != 0) {
            close(fd);
            if (rc < 0)
                return rc;
            continue;
        }
        ps->write_fd = fd;
        ps->write_id = id;
        ps->write_size = end;
        return 0;
    }
    return cache_err_set(err, -ENOSPC, "no pack slot left (%d packs)", PACK_MAX_COUNT);
}

int store_pack_append(store_packs_t *ps, const void *data, size_t len, uint32_t *pack_id, uint64_t *offset,
                cache_err_t *err)
{
    int rc = 0;
    pthread_mutex_lock(&ps->write_lock);
    if (ps->write_fd >= 0 && ps->write_size + len > PACK_MAX_BYTES && ps->write_size > 0) {
        /* Rotate: keep the old fd until the next sync makes its bytes durable. */
        if (ps->unsynced_fd >= 0) {
            if (fdatasync(ps->unsynced_fd) != 0) {
                rc = cache_err_set(err, -errno, "sync pack: %s", strerror(errno));
                goto out;
            }
            close(ps->unsynced_fd);
        }
        ps->unsynced_fd = ps->write_fd;
        ps->write_fd = -1;
    }
    if (ps->write_fd < 0 && (rc = writer_adopt(ps, err)) != 0)
        goto out;
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(ps->write_fd, p + done, len - done, (off_t)(ps->write_size + done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = cache_err_set(err, -errno, "write pack %08u: %s", ps->write_id, strerror(errno));
            goto out;
        }
        done += (size_t)w;
    }
    *pack_id = ps->write_id;
    *offset = ps->write_size;
    ps->write_size += len;
out:
    pthread_mutex_unlock(&ps->write_lock);
    return rc;
}

int store_pack_sync(store_packs_t *ps, cache_err_t *err)
{
    int rc = 0;
    pthread_mutex_lock(&ps->write_lock);
    if (ps->unsynced_fd >= 0) {
        if (fdatasync(ps->unsynced_fd) != 0)
            rc = cache_err_set(err, -errno, "sync pack: %s", strerror(errno));
        close(ps->unsynced_fd);
        ps->unsynced_fd = -1;
    }
    if (rc == 0 && ps->write_fd >= 0 && fdatasync(ps->write_fd) != 0)
        rc = cache_err_set(err, -errno, "sync pack %08u: %s", ps->write_id, strerror(errno));
    pthread_mutex_unlock(&ps->write_lock);
    return rc;
}

static int read_fd(store_packs_t *ps, uint32_t id)
{
    if (id == 0 || id >= PACK_MAX_COUNT)
        return -ENOENT;
    int v = atomic_load_explicit(&ps->read_fds[id], memory_order_acquire);
    if (v > 0)
        return v - 1;
    pthread_mutex_lock(&ps->open_lock);
    v = atomic_load(&ps->read_fds[id]);
    if (v == 0) {
        char name[32];
        pack_name(id, name, sizeof name);
        int fd = openat(ps->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            pthread_mutex_unlock(&ps->open_lock);
            return -e;
        }
        v = fd + 1;
        atomic_store_explicit(&ps->read_fds[id], v, memory_order_release);
    }
    pthread_mutex_unlock(&ps->open_lock);
    return v - 1;
}

int store_pack_read(store_packs_t *ps, uint32_t pack_id, uint64_t off, void *buf, size_t len)
{
    int fd = read_fd(ps, pack_id);
    if (fd < 0)
        return fd == -ENOENT ? -EIO : fd;
    uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, p + done, len - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -EIO;
        }
        if (r == 0)
            return -EIO; /* the index points past the end of the pack */
        done += (size_t)r;
    }
    return 0;
}

uint64_t store_packs_disk_bytes(store_packs_t *ps)
{
    /* A directory stream of its own: a dup() would share the read position with every other
     * caller, and two scans at once would each see part of the directory. */
    int fd = openat(ps->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return 0;
    }
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] != '.' && fstatat(ps->dirfd, e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_blocks * 512;
    }
    closedir(d);
    return total;
}
