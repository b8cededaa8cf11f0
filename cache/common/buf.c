/* SPDX-License-Identifier: MIT */
/*
 * buf.c — the growable byte buffer (common.h): doubling growth, a NUL kept after the last byte so
 * text can go to libc as it is. Sizes here often come from outside (a body, a listing), so every
 * growth is checked and reported as -ENOMEM instead of aborting.
 */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return -ENOMEM;
    size_t need = b->len + extra + 1; /* +1 keeps room for the trailing NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->base, cap);
    if (p == NULL)
        return -ENOMEM;
    b->base = p;
    b->cap = cap;
    return 0;
}

int buf_append(buf_t *b, const void *data, size_t len)
{
    int rc = buf_reserve(b, len);
    if (rc != 0)
        return rc;
    if (len)
        memcpy(b->base + b->len, data, len);
    b->len += len;
    b->base[b->len] = 0;
    return 0;
}

int buf_appendf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return buf_append(b, small, (size_t)n);
    int rc = buf_reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->base + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->base)
        b->base[0] = 0;
}

void buf_dispose(buf_t *b)
{
    free(b->base);
    *b = (buf_t)BUF_INIT;
}
