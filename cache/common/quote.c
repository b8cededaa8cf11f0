/* SPDX-License-Identifier: MIT */
/*
 * quote.c — names from the network, made safe to print in a message (common.h: str_quote). One
 * quoting for every message of modfs: a module path, a zip entry or a JSON error can carry any
 * byte, and none may reach a log line or a terminal raw.
 *
 * Only printable ASCII is left as it is. Bytes beyond it are escaped even where they form valid
 * UTF-8: a message goes to logs, the journal and HTTP bodies whose readers need not decode
 * UTF-8, and a valid rune can still look like another (homoglyphs in a module path) or reorder
 * the line (bidirectional controls). \xNN keeps every byte readable and exact.
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
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        char tmp[8];
        size_t tl;
        if (c == '"' || c == '\\')
            tmp[0] = '\\', tmp[1] = (char)c, tl = 2;
        else if (c >= 0x20 && c < 0x7f)
            tmp[0] = (char)c, tl = 1;
        else
            snprintf(tmp, sizeof tmp, "\\x%02x", c), tl = 4;
        if (o + tl > room) {
            memcpy(dst + o, "...", 3), o += 3;
            break;
        }
        memcpy(dst + o, tmp, tl), o += tl;
    }
    dst[o++] = '"';
    dst[o] = '\0';
    return dst;
}
