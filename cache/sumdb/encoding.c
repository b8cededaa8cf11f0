/* SPDX-License-Identifier: MIT */
/*
 * encoding.c — base64 and UTF-8 read exactly as Go reads them, because a note or tree head that
 * Go rejects must be rejected here too: a lenient decoder (OpenSSL's EVP_DecodeBlock skips
 * whitespace and miscounts padding) would let two byte strings verify as one. Only '=' padded
 * standard base64 is accepted; Go's habit of ignoring unused trailing bits is kept.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "sumdb_i.h"

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int sumdb_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    if (len % 4 != 0)
        return -EPROTO;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = s[i + (size_t)j];
            if (c == '=') {
                /* Padding only in the last quantum, only in its last two places, and nothing
                 * but padding after it. */
                if (i + 4 != len || j < 2)
                    return -EPROTO;
                pad++;
                v[j] = 0;
                continue;
            }
            if (pad)
                return -EPROTO;
            v[j] = b64_value(c);
            if (v[j] < 0)
                return -EPROTO;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        int take = 3 - pad;
        if (n + (size_t)take > cap || n + (size_t)take > INT_MAX)
            return -EPROTO;
        if (out == NULL) {
            n += (size_t)take;
            continue;
        }
        out[n++] = (uint8_t)(w >> 16);
        if (take > 1)
            out[n++] = (uint8_t)(w >> 8);
        if (take > 2)
            out[n++] = (uint8_t)w;
    }
    return (int)n;
}

void sumdb_b64_encode(const uint8_t *data, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t w = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            w |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            w |= data[i + 2];
        out[o++] = b64_alphabet[(w >> 18) & 63];
        out[o++] = b64_alphabet[(w >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(w >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_alphabet[w & 63] : '=';
    }
    out[o] = '\0';
}

int32_t sumdb_utf8_decode(const uint8_t *s, size_t len, size_t *size)
{
    *size = 1;
    if (len == 0)
        return -1;
    uint8_t c = s[0];
    if (c < 0x80)
        return c;
    size_t need;
    int32_t r, min;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2, r = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3, r = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4, r = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (len < need)
        return -1;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        r = r << 6 | (s[i] & 0x3f);
    }
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid, as in Go. */
    if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
        return -1;
    *size = need;
    return r;
}

bool sumdb_rune_is_space(int32_t r)
{
    switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
        return true;
    default:
        return r >= 0x2000 && r <= 0x200a;
    }
}
