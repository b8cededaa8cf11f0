/* SPDX-License-Identifier: MIT */
/*
 * encoding.c — base64 read exactly as Go reads it, because a note or tree head that
 * Go rejects must be rejected here too: a lenient decoder (OpenSSL's EVP_DecodeBlock skips
 * whitespace and miscounts padding) would let two byte strings verify as one. Only '=' padded
 * standard base64 is accepted; Go's habit of ignoring unused trailing bits is kept.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "sumdb_i.h"

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
    /* OpenSSL writes Go's StdEncoding (padded) and a NUL; decoding stays here, where Go's
     * strictness about padding and stray characters matters. */
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
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
