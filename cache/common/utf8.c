/* SPDX-License-Identifier: MIT */
/*
 * utf8.c — UTF-8 as Go reads it (unicode/utf8), and ASCII case folding: the one decoder that
 * module paths, zip entry names and messages all go through, so they agree on what is valid.
 */
#include "common.h"

size_t utf8_decode(const void *str, size_t len, uint32_t *r)
{
    const unsigned char *s = str;
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *r = c;
        return 1;
    }
    if (c < 0xc2 || c > 0xf4)
        return 0;
    size_t n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (len < n)
        return 0;
    /* The allowed range of the second byte rules out overlong forms, surrogates and values past
     * U+10FFFF in one comparison. */
    unsigned char lo = 0x80, hi = 0xbf;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    uint32_t v = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < n; i++)
        v = v << 6 | (s[i] & 0x3f);
    *r = v;
    return n;
}

size_t utf8_encode(uint32_t r, uint8_t out[4])
{
    if (r < 0x80) {
        out[0] = (uint8_t)r;
        return 1;
    }
    if (r < 0x800) {
        out[0] = (uint8_t)(0xc0 | r >> 6);
        out[1] = (uint8_t)(0x80 | (r & 0x3f));
        return 2;
    }
    if (r < 0x10000) {
        out[0] = (uint8_t)(0xe0 | r >> 12);
        out[1] = (uint8_t)(0x80 | (r >> 6 & 0x3f));
        out[2] = (uint8_t)(0x80 | (r & 0x3f));
        return 3;
    }
    out[0] = (uint8_t)(0xf0 | r >> 18);
    out[1] = (uint8_t)(0x80 | (r >> 12 & 0x3f));
    out[2] = (uint8_t)(0x80 | (r >> 6 & 0x3f));
    out[3] = (uint8_t)(0x80 | (r & 0x3f));
    return 4;
}

bool utf8_valid(const void *str, size_t len)
{
    const unsigned char *s = str;
    uint32_t r;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_decode(s + i, len - i, &r);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

bool ascii_equal_fold(const void *str, size_t len, const char *lit)
{
    const char *s = str;
    if (len != strlen(lit))
        return false;
    for (size_t i = 0; i < len; i++)
        if (ascii_lower(s[i]) != ascii_lower(lit[i]))
            return false;
    return true;
}
