/* SPDX-License-Identifier: MIT */
/*
 * layout.c — the names of the bucket (shared_i.h): where an object's manifest, its pack and its
 * leases live, how a listed name is told apart, and the one URI encoding libcurl's SigV4 needs.
 *
 * How bytes are grouped into S3 objects: one pack per stored object, holding its bytes exactly as
 * upstream served them and named by their SHA-256. The alternatives cost more than they give:
 *  - one S3 object per local chunk (16-256 KiB, one per zip member at least) makes a module zip
 *    hundreds of PUTs to write and hundreds of GETs to read; requests, not bytes, are what an
 *    object store charges for and what its latency is made of;
 *  - packs of chunks shared between objects (as the local store's packs are) would keep the
 *    cross-version dedup of the local store, but a manifest would then name bytes another front
 *    wrote, and gc could not tell a pack about to be named from an abandoned one without a
 *    bucket-wide lock or index: with one pack per object the writer of a manifest always wrote
 *    (or rewrote) its pack moments before, which a grace period covers (gc.c).
 * So dedup in the bucket is per object: fronts that fetch the same object write the same pack,
 * under the same name. Module zips are deflated already and .info/.mod are small, so storing the
 * bytes as served, uncompressed, costs little, and the pack's name is then the object's own
 * SHA-256. Reads are ranged (shared_object_get reads a pack a few MiB at a time, checking each
 * SHARED_CHUNK_SIZE chunk against the manifest), so memory stays bounded for a 500 MB zip.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared_i.h"

static const char hexdigits[] = "0123456789abcdef";

void shared_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[p[i] >> 4];
        out[2 * i + 1] = hexdigits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The names this layout writes are lower-case hex: an upper-case digit is some other name. */
static int hexval(char c)
{
    return ascii_is_upper(c) ? -1 : ascii_hex_value(c);
}

int shared_unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static bool key_char(char c)
{
    return ascii_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '!' || c == '+' ||
           c == '@' || c == '/';
}

bool shared_key_valid(const char *key, size_t len)
{
    if (len == 0 || len > SHARED_KEY_MAX)
        return false;
    size_t seg = 0; /* start of the current segment */
    for (size_t i = 0; i <= len; i++) {
        if (i < len && key[i] != '/') {
            if (!key_char(key[i]))
                return false;
            continue;
        }
        size_t n = i - seg;
        if (n == 0 || (n == 1 && key[seg] == '.') || (n == 2 && key[seg] == '.' && key[seg + 1] == '.'))
            return false;
        if (i == len) {
            /* a last segment that looks like a lease number or a pack's hash would make the names
             * of the layout ambiguous (packs/KEY/HASH, leases/KEY/NUMBER) */
            bool digits = n == 10, hex = n == 64;
            for (size_t k = seg; k < len && (digits || hex); k++) {
                digits = digits && ascii_is_digit(key[k]);
                hex = hex && (ascii_is_digit(key[k]) || (key[k] >= 'a' && key[k] <= 'f'));
            }
            if (digits || hex)
                return false;
        }
        seg = i + 1;
    }
    return true;
}

static int name3(buf_t *out, const char *prefix, const char *dir, const char *key)
{
    buf_reset(out);
    if (!shared_key_valid(key, strlen(key)))
        return -EINVAL;
    return buf_appendf(out, "%s%s%s", prefix, dir, key);
}

int shared_layout_manifest(const char *prefix, const char *key, buf_t *out)
{
    return name3(out, prefix, "manifests/", key);
}

int shared_layout_pack(const char *prefix, const char *key, const uint8_t sha256[32], buf_t *out)
{
    char hex[65];
    shared_hex(sha256, 32, hex);
    int rc = name3(out, prefix, "packs/", key);
    return rc != 0 ? rc : buf_appendf(out, "/%s", hex);
}

int shared_layout_lease(const char *prefix, const char *key, uint32_t gen, buf_t *out)
{
    int rc = name3(out, prefix, "leases/", key);
    return rc != 0 ? rc : buf_appendf(out, "/%010u", gen);
}

int shared_layout_lease_dir(const char *prefix, const char *key, buf_t *out)
{
    int rc = name3(out, prefix, "leases/", key);
    return rc != 0 ? rc : buf_append(out, "/", 1);
}

/* name[0..len) after "<prefix><dir>", when it starts so; NULL otherwise. */
static const char *after(const char *prefix, const char *dir, const char *name, size_t len, size_t *rest)
{
    size_t pl = strlen(prefix), dl = strlen(dir);
    if (len < pl + dl || memcmp(name, prefix, pl) != 0 || memcmp(name + pl, dir, dl) != 0)
        return NULL;
    *rest = len - pl - dl;
    return name + pl + dl;
}

void shared_layout_parse(const char *prefix, const char *name, size_t len, shared_name_t *out)
{
    memset(out, 0, sizeof *out);
    out->kind = SHARED_NAME_OTHER;
    size_t n;
    const char *p;
    if ((p = after(prefix, "manifests/", name, len, &n)) != NULL) {
        if (shared_key_valid(p, n)) {
            out->kind = SHARED_NAME_MANIFEST;
            out->key = p;
            out->key_len = n;
        }
    } else if ((p = after(prefix, "packs/", name, len, &n)) != NULL) {
        /* KEY/ and 64 hex digits: the key is what comes before the last segment */
        if (n > 65 && p[n - 65] == '/' && shared_key_valid(p, n - 65) &&
            shared_unhex(p + n - 64, 32, out->sha256) == 0) {
            out->kind = SHARED_NAME_PACK;
            out->key = p;
            out->key_len = n - 65;
        }
    } else if ((p = after(prefix, "leases/", name, len, &n)) != NULL) {
        if (n > 11 && p[n - 11] == '/' && shared_key_valid(p, n - 11)) {
            uint64_t gen = 0;
            bool ok = true;
            for (size_t i = n - 10; i < n && ok; i++) {
                ok = ascii_is_digit(p[i]);
                gen = gen * 10 + (uint64_t)(p[i] - '0');
            }
            if (ok && gen >= 1 && gen <= UINT32_MAX) {
                out->kind = SHARED_NAME_LEASE;
                out->key = p;
                out->key_len = n - 11;
                out->gen = (uint32_t)gen;
            }
        }
    }
}

int shared_uri_encode(buf_t *out, const char *s, size_t len, bool keep_slash)
{
    static const char upper[] = "0123456789ABCDEF";
    if (buf_reserve(out, len * 3) != 0)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (ascii_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            out->base[out->len++] = (uint8_t)c;
        } else {
            unsigned char u = (unsigned char)c;
            out->base[out->len++] = '%';
            out->base[out->len++] = (uint8_t)upper[u >> 4];
            out->base[out->len++] = (uint8_t)upper[u & 15];
        }
    }
    out->base[out->len] = 0;
    return 0;
}
