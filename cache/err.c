/* SPDX-License-Identifier: MIT */
/* err.c — filling cache_err_t; truncation is fine, a message is for people. */
#include "err.h"

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
    if (n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", old);
    return rc;
}
