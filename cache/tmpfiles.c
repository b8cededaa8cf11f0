/* SPDX-License-Identifier: MIT */
/*
 * tmpfiles.c — the anonymous temporary files (cache_i.h: cache_tmp_take, cache_tmp_give) that
 * upstream bodies land in before they are checked and stored.
 *
 * Each is an O_TMPFILE in <cache-dir>/tmp (nothing to clean up after a crash, and a 500 MiB zip
 * lives in the page cache, never the heap). They are kept for the next fetch, emptied, instead of
 * being closed: a cold `go mod download` asks for three keys per module version, and creating an
 * inode for each costs more CPU than checking a small body (ext4's inode allocation scans for
 * recently freed inodes on a busy filesystem). An emptied file holds no blocks; at most
 * CACHE_TMP_KEPT are kept, more are closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cache_i.h"

int cache_tmp_take(cache_t *c, cache_err_t *err)
{
    pthread_mutex_lock(&c->tmp_lock);
    int fd = c->tmp_n > 0 ? c->tmp_fds[--c->tmp_n] : -1;
    pthread_mutex_unlock(&c->tmp_lock);
    if (fd >= 0)
        return fd;
    fd = open(c->tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return cache_err_set(err, -errno, "temp file in %s: %s", c->tmp_dir, strerror(errno));
    return fd;
}

void cache_tmp_give(cache_t *c, int fd)
{
    if (fd < 0)
        return;
    /* a file that cannot be emptied is not reused: its bytes would mix with the next body's */
    if (ftruncate(fd, 0) != 0) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&c->tmp_lock);
    if (c->tmp_n < CACHE_TMP_KEPT) {
        c->tmp_fds[c->tmp_n++] = fd;
        fd = -1;
    }
    pthread_mutex_unlock(&c->tmp_lock);
    if (fd >= 0)
        close(fd);
}

void cache_tmp_close_all(cache_t *c)
{
    for (unsigned i = 0; i < c->tmp_n; i++)
        close(c->tmp_fds[i]);
    c->tmp_n = 0;
}
