/* SPDX-License-Identifier: MIT */
/*
 * quote.c — names from the network, made safe to print in a message (common.h: str_quote). One
 * quoting for every message of modfs: a module path, a zip entry or a JSON error can carry any
 * byte, and none may reach a log line or a terminal raw.
 */
#include <assert.h>
#include <stdio.h>

#include "common.h"

const char *str_quote(char *dst, size_t cap, const void *str, size_t len)
{
    assert(cap >= 16);
    const unsigned char *s = str;
    size_t o = 0, room = cap - 6; /* keeps room for `..."` and the NUL */
    dst[o++] = '"';
    for (size_t i = 0; i < len;) {
        uint32_t r = 0;
        size_t l = utf8_decode(s + i, len - i, &r);
        char tmp[8];
        size_t tl;
        if (l == 1 && (r == '"' || r == '\\')) {
            tmp[0] = '\\', tmp[1] = (char)r, tl = 2;
        } else if (l == 1 && r >= 0x20 && r < 0x7f) {
            tmp[0] = (char)r, tl = 1;
        } else if (l > 1 && r >= 0xa0) { /* a printable rune beyond ASCII (C1 controls are not) */
            memcpy(tmp, s + i, l), tl = l;
        } else {
            snprintf(tmp, sizeof tmp, "\\x%02x", s[i]), tl = 4, l = 1;
        }
        if (o + tl > room) {
            memcpy(dst + o, "...", 3), o += 3;
            break;
        }
        memcpy(dst + o, tmp, tl), o += tl;
        i += l;
    }
    dst[o++] = '"';
    dst[o] = '\0';
    return dst;
}
