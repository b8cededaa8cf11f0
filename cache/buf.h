/* SPDX-License-Identifier: MIT */
/*
 * buf.h — the one non-owning slice and the one growable byte buffer of modfs.
 * Binary data never travels as a NUL-terminated string. buf_t keeps a NUL after
 * its last byte anyway, so a buffer holding text can be handed to libc.
 */
#ifndef MODFS_BUF_H
#define MODFS_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A view of bytes someone else owns. */
typedef struct slice {
    const uint8_t *base;
    size_t len;
} slice_t;

/* A heap buffer; base is NULL until the first append. */
typedef struct buf {
    uint8_t *base;
    size_t len;
    size_t cap;
} buf_t;

#define BUF_INIT {NULL, 0, 0}

/* Appends len bytes. Returns 0 or -ENOMEM (sizes here come from outside, so growth is checked). */
__attribute__((warn_unused_result)) int buf_append(buf_t *b, const void *data, size_t len);
/* Appends printf-formatted text. Returns 0 or -ENOMEM. */
__attribute__((warn_unused_result, format(printf, 2, 3))) int buf_appendf(buf_t *b, const char *fmt, ...);
/* Makes room for at least extra more bytes. Returns 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int buf_reserve(buf_t *b, size_t extra);
void buf_reset(buf_t *b);   /* len = 0, memory kept */
void buf_dispose(buf_t *b); /* frees, back to BUF_INIT */

#endif
