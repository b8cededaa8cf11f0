/* SPDX-License-Identifier: MIT */
/*
 * manifest.c — an object's manifest in the bucket (shared_i.h): what a reader needs to fetch the
 * object's bytes and prove them, written after the bytes so that its presence means they are all
 * there. Text, one field a line, so that an operator can read it with any S3 client:
 *
 *   modfs-object 1
 *   key example.com/m/@v/v1.0.0.zip
 *   size 2500000
 *   sha256 <64 hex: the object's bytes>
 *   h1 h1:...                      (.zip and .mod: the go.sum hash)
 *   sumdb sum.golang.org           (the checksum database that proved it, when one did)
 *   time 1732900000                (when the writer fetched it from upstream)
 *   chunk-size 1048576             (a packed object: its bytes are packs/KEY/<sha256>)
 *   chunk <64 hex>                 (the SHA-256 of each chunk-size bytes of the pack, in order)
 *   ...
 *   end <64 hex>                   (SHA-256 of every byte before this line)
 *
 * or, for an object of at most SHARED_INLINE_MAX bytes, `data <hex of the bytes>` in place of the
 * chunk lines: .info and .mod then cost one request to write and one to read.
 *
 * The decoder accepts exactly what the encoder writes (field order, lower-case hex, decimal
 * numbers without sign or leading zeros, one space, '\n' line ends) and checks the end line's
 * hash first: a truncated or bit-flipped manifest is damaged, never half-believed. The manifest
 * names its own key, so a manifest copied under another name is refused too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "shared_i.h"

#define MANIFEST_MAGIC "modfs-object 1"
#define CHUNK_SIZE_MIN (64u << 10)
#define CHUNK_SIZE_MAX (16u << 20)
#define H1_MAX 63
#define SUMDB_MAX 255

void shared_manifest_dispose(shared_manifest_t *m)
{
    free(m->key);
    free(m->data);
    free(m->chunks);
    memset(m, 0, sizeof *m);
}

/* A field value of 1 to max printable bytes without spaces (an h1, a database name). */
static bool token_valid(const char *v, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] <= ' ' || v[i] > '~')
            return false;
    return true;
}

static int sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 0;
    return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : -EIO;
}

int shared_manifest_build(const char *key, const uint8_t *body, size_t len, const shared_object_info_t *info,
                          shared_manifest_t *m)
{
    memset(m, 0, sizeof *m);
    size_t h1len = strnlen(info->h1, sizeof info->h1);
    size_t dblen = strnlen(info->sumdb, sizeof info->sumdb);
    if (!shared_key_valid(key, strlen(key)) || info->size != len ||
        (h1len > 0 && !token_valid(info->h1, h1len, H1_MAX)) || h1len == sizeof info->h1 ||
        (dblen > 0 && !token_valid(info->sumdb, dblen, SUMDB_MAX)) || dblen == sizeof info->sumdb ||
        info->time < 0)
        return -EINVAL;
    m->info = *info;
    if ((m->key = strdup(key)) == NULL)
        return -ENOMEM;
    int rc = 0;
    if (len <= SHARED_INLINE_MAX) {
        m->inline_data = true;
        if ((m->data = malloc(len ? len : 1)) == NULL)
            rc = -ENOMEM;
        else if (len)
            memcpy(m->data, body, len);
    } else {
        m->chunk_size = SHARED_CHUNK_SIZE;
        m->nchunks = (len + SHARED_CHUNK_SIZE - 1) / SHARED_CHUNK_SIZE;
        if ((m->chunks = malloc(m->nchunks * 32)) == NULL)
            rc = -ENOMEM;
        for (size_t i = 0; rc == 0 && i < m->nchunks; i++) {
            size_t off = i * (size_t)SHARED_CHUNK_SIZE;
            size_t n = len - off < SHARED_CHUNK_SIZE ? len - off : SHARED_CHUNK_SIZE;
            rc = sha256(body + off, n, m->chunks[i]);
        }
    }
    if (rc != 0)
        shared_manifest_dispose(m);
    return rc;
}

int shared_manifest_encode(const shared_manifest_t *m, buf_t *out)
{
    char hex[65];
    buf_reset(out);
    shared_hex(m->info.sha256, 32, hex);
    int rc = buf_appendf(out, MANIFEST_MAGIC "\nkey %s\nsize %llu\nsha256 %s\n", m->key,
                         (unsigned long long)m->info.size, hex);
    if (rc == 0 && m->info.h1[0])
        rc = buf_appendf(out, "h1 %s\n", m->info.h1);
    if (rc == 0 && m->info.sumdb[0])
        rc = buf_appendf(out, "sumdb %s\n", m->info.sumdb);
    if (rc == 0)
        rc = buf_appendf(out, "time %lld\n", (long long)m->info.time);
    if (rc == 0 && m->inline_data) {
        rc = buf_reserve(out, 6 + 2 * m->info.size + 1);
        if (rc == 0) {
            memcpy(out->base + out->len, "data ", 5);
            out->len += 5;
            shared_hex(m->data, m->info.size, (char *)out->base + out->len);
            out->len += 2 * m->info.size;
            rc = buf_append(out, "\n", 1);
        }
    } else if (rc == 0) {
        rc = buf_appendf(out, "chunk-size %u\n", m->chunk_size);
        for (size_t i = 0; rc == 0 && i < m->nchunks; i++) {
            shared_hex(m->chunks[i], 32, hex);
            rc = buf_appendf(out, "chunk %s\n", hex);
        }
    }
    uint8_t sum[32];
    if (rc == 0)
        rc = sha256(out->base, out->len, sum);
    if (rc == 0) {
        shared_hex(sum, 32, hex);
        rc = buf_appendf(out, "end %s\n", hex);
    }
    return rc;
}

/* ---- decoding ---- */

typedef struct cursor {
    const char *p, *end;
    int line;
} cursor_t;

/* The next line's value after "name ", or NULL when the next line is not that field. */
static const char *field(cursor_t *c, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *eol = memchr(c->p, '\n', (size_t)(c->end - c->p));
    if (eol == NULL || (size_t)(eol - c->p) < nl + 1 || memcmp(c->p, name, nl) != 0 || c->p[nl] != ' ')
        return NULL;
    const char *v = c->p + nl + 1;
    *len = (size_t)(eol - v);
    c->p = eol + 1;
    c->line++;
    return v;
}

static bool number(const char *v, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 19 || (n > 1 && v[0] == '0'))
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ascii_is_digit(v[i]))
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > max)
        return false;
    *out = x;
    return true;
}

#define BAD(...) (rc = cache_err_set(err, -EBADMSG, __VA_ARGS__))

int shared_manifest_decode(const uint8_t *p, size_t len, shared_manifest_t *m, cache_err_t *err)
{
    memset(m, 0, sizeof *m);
    int rc = 0;
    /* the last line: "end " and 64 hex digits and '\n', over everything before it */
    const size_t endlen = 4 + 64 + 1;
    uint8_t want[32], got[32];
    if (len > SHARED_MANIFEST_MAX)
        return BAD("manifest: longer than %u bytes", SHARED_MANIFEST_MAX);
    if (len < endlen || memcmp(p + len - endlen, "end ", 4) != 0 || p[len - 1] != '\n' ||
        (len > endlen && p[len - endlen - 1] != '\n') ||
        shared_unhex((const char *)p + len - endlen + 4, 32, want) != 0)
        return BAD("manifest: truncated (no end line)");
    if (sha256(p, len - endlen, got) != 0)
        return cache_err_set(err, -EIO, "manifest: hashing failed");
    if (memcmp(want, got, 32) != 0)
        return BAD("manifest: damaged (its end line's hash does not match)");
    cursor_t c = {(const char *)p, (const char *)p + len - endlen, 1};
    size_t n;
    const char *v;
    uint64_t x;
    if (c.end - c.p < (long)sizeof MANIFEST_MAGIC ||
        memcmp(c.p, MANIFEST_MAGIC "\n", sizeof MANIFEST_MAGIC) != 0)
        return BAD("manifest: not a modfs-object 1 manifest");
    c.p += sizeof MANIFEST_MAGIC;
    c.line++;
    if (!(v = field(&c, "key", &n)) || !shared_key_valid(v, n))
        return BAD("manifest line %d: want \"key KEY\"", c.line);
    if ((m->key = strndup(v, n)) == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    if (!(v = field(&c, "size", &n)) || !number(v, n, INT64_MAX, &m->info.size))
        BAD("manifest line %d: want \"size BYTES\"", c.line);
    else if (!(v = field(&c, "sha256", &n)) || n != 64 || shared_unhex(v, 32, m->info.sha256) != 0)
        BAD("manifest line %d: want \"sha256 HEX\"", c.line);
    if (rc == 0 && (v = field(&c, "h1", &n)) != NULL) {
        if (!token_valid(v, n, H1_MAX))
            BAD("manifest line %d: want \"h1 H1\" of at most %d printable bytes", c.line - 1, H1_MAX);
        else
            memcpy(m->info.h1, v, n);
    }
    if (rc == 0 && (v = field(&c, "sumdb", &n)) != NULL) {
        if (!token_valid(v, n, SUMDB_MAX))
            BAD("manifest line %d: want \"sumdb NAME\" of at most %d printable bytes", c.line - 1, SUMDB_MAX);
        else
            memcpy(m->info.sumdb, v, n);
    }
    if (rc == 0) {
        if (!(v = field(&c, "time", &n)) || !number(v, n, INT64_MAX, &x))
            BAD("manifest line %d: want \"time UNIX-SECONDS\"", c.line);
        else
            m->info.time = (int64_t)x;
    }
    if (rc == 0 && (v = field(&c, "data", &n)) != NULL) {
        m->inline_data = true;
        if (m->info.size > SHARED_INLINE_MAX || n != 2 * m->info.size)
            BAD("manifest line %d: data of %zu hex digits for %llu bytes", c.line - 1, n,
                (unsigned long long)m->info.size);
        else if ((m->data = malloc(m->info.size ? m->info.size : 1)) == NULL)
            rc = cache_err_set(err, -ENOMEM, "out of memory");
        else if (shared_unhex(v, m->info.size, m->data) != 0)
            BAD("manifest line %d: data is not lower-case hex", c.line - 1);
    } else if (rc == 0) {
        if (!(v = field(&c, "chunk-size", &n)) || !number(v, n, CHUNK_SIZE_MAX, &x) || x < CHUNK_SIZE_MIN ||
            (x & (x - 1)) != 0)
            BAD("manifest line %d: want \"data HEX\" or \"chunk-size BYTES\" (a power of two from %u to %u)",
                c.line, CHUNK_SIZE_MIN, CHUNK_SIZE_MAX);
        else if (m->info.size <= SHARED_INLINE_MAX)
            BAD("manifest: an object of %llu bytes is kept inline, not in a pack",
                (unsigned long long)m->info.size);
        else {
            m->chunk_size = (uint32_t)x;
            m->nchunks = (size_t)((m->info.size + x - 1) / x);
            /* the lines must be there before anything is allocated for them */
            if ((uint64_t)(c.end - c.p) != (uint64_t)m->nchunks * (6 + 64 + 1))
                BAD("manifest: %llu bytes need %zu chunk lines", (unsigned long long)m->info.size,
                    m->nchunks);
            else if ((m->chunks = malloc(m->nchunks * 32)) == NULL)
                rc = cache_err_set(err, -ENOMEM, "out of memory");
            for (size_t i = 0; rc == 0 && i < m->nchunks; i++)
                if (!(v = field(&c, "chunk", &n)) || n != 64 || shared_unhex(v, 32, m->chunks[i]) != 0)
                    BAD("manifest line %d: want \"chunk HEX\"", c.line);
        }
    }
    if (rc == 0 && c.p != c.end)
        BAD("manifest line %d: unexpected text", c.line);
    if (rc != 0)
        shared_manifest_dispose(m);
    return rc;
}
