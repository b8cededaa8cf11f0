/* SPDX-License-Identifier: MIT */
/* flight.c — per-key fetch locks as flock'd files in <cache-dir>/locks (see flight.h). */
#include "flight.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

struct flight {
    int dirfd;
};

int flight_open(const char *dir, flight_t **out, cache_err_t *err)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cache_err_set(err, -errno, "create %s: %s", dir, strerror(errno));
    flight_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dirfd < 0) {
        int e = errno;
        free(f);
        return cache_err_set(err, -e, "open %s: %s", dir, strerror(e));
    }
    *out = f;
    return 0;
}

void flight_close(flight_t *f)
{
    if (f == NULL)
        return;
    close(f->dirfd);
    free(f);
}

int flight_acquire(flight_t *f, const char *key)
{
    char name[16];
    snprintf(name, sizeof name, "%03x.lock", (unsigned)(XXH3_64bits(key, strlen(key)) % FLIGHT_BUCKETS));
    int fd = openat(f->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return -e;
        }
    }
    return fd;
}

void flight_release(flight_t *f, int token)
{
    (void)f;
    if (token >= 0)
        close(token); /* closing the last fd of the open file description drops the flock */
}
