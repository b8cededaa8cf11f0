/* SPDX-License-Identifier: MIT */
/*
 * path.c — directories and names on the local disk (common.h): mkdir -p relative to a directory
 * fd (the write area of the mount is reached only through its fd) and joining two names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common.h"

int path_mkdirs_at(int dirfd, const char *path, mode_t mode)
{
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (p == NULL)
        return -ENOMEM;
    memcpy(p, path, n + 1);
    int rc = 0;
    /* Each prefix that ends before a '/' (and the whole path), from the top down: EEXIST is the
     * common case, and a parent made by someone else in between is fine. */
    for (size_t i = 1; i <= n && rc == 0; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdirat(dirfd, p, mode) != 0 && errno != EEXIST)
            rc = -errno;
        p[i] = saved;
    }
    free(p);
    return rc;
}

char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}
