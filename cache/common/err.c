/* SPDX-License-Identifier: MIT */
/*
 * err.c — filling cache_err_t (common.h). A message is for people: it is cut to fit rather than
 * allocated, so reporting an error can never fail with another one.
 */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cache_err_set(cache_err_t *err, int rc, const char *fmt, ...)
{
    if (err == NULL)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return rc;
}

int cache_err_prefix(cache_err_t *err, int rc, const char *fmt, ...)
{
    if (err == NULL)
        return rc;
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n + 2 < sizeof err->msg) {
        /* ": " then as much of the old message as fits */
        size_t room = sizeof err->msg - (size_t)n - 2;
        size_t oldlen = strnlen(old, sizeof old);
        if (oldlen >= room)
            oldlen = room - 1;
        memcpy(err->msg + n, ": ", 2);
        memcpy(err->msg + n + 2, old, oldlen);
        err->msg[(size_t)n + 2 + oldlen] = 0;
    }
    return rc;
}
