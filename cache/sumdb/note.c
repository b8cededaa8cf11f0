/* SPDX-License-Identifier: MIT */
/*
 * note.c — verifier keys and signed notes, the format of golang.org/x/mod/sumdb/note, checked with
 * OpenSSL's Ed25519 (EVP_DigestVerify over the raw public key).
 *
 * The rules are Go's, to the byte: a note Go's note.Open refuses is refused here, and a note it
 * accepts verifies here. Only one key is ever known (the database's), so "the verifier list" is a
 * single comparison of name and key hash. An EVP_PKEY is made per verification rather than kept
 * in the client: it costs microseconds against a network round trip, and leaves no OpenSSL object
 * shared between threads.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sumdb_i.h"

/* At most this many signature lines are read, as in Go: a note is not a place to spend time. */
#define NOTE_SIGS_MAX 100

static uint32_t key_hash(const char *name, size_t namelen, const uint8_t *key, size_t keylen)
{
    uint8_t sum[SHA256_DIGEST_LENGTH];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(md, name, namelen) == 1 && EVP_DigestUpdate(md, "\n", 1) == 1 &&
              EVP_DigestUpdate(md, key, keylen) == 1 && EVP_DigestFinal_ex(md, sum, &n) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return 0; /* out of memory in OpenSSL: no key has hash 0 by chance worth caring about */
    return (uint32_t)sum[0] << 24 | (uint32_t)sum[1] << 16 | (uint32_t)sum[2] << 8 | sum[3];
}

bool sumdb_note_name_valid(const char *name, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len;) {
        uint32_t r = 0;
        size_t size = utf8_decode(name + i, len - i, &r);
        if (size == 0 || r == '+' || sumdb_rune_is_space((int32_t)r))
            return false;
        i += size;
    }
    return true;
}

int sumdb_verifier_parse(const char *vkey, size_t len, sumdb_verifier_t *out, cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    /* NAME+HASH+KEY: the name ends at the first '+', the hash at the next. */
    const char *p1 = memchr(vkey, '+', len);
    if (p1 == NULL)
        return cache_err_set(err, -EINVAL, "malformed verifier key: want NAME+HASH+KEY");
    size_t namelen = (size_t)(p1 - vkey);
    const char *hash16 = p1 + 1;
    const char *end = vkey + len;
    const char *p2 = memchr(hash16, '+', (size_t)(end - hash16));
    if (p2 == NULL)
        return cache_err_set(err, -EINVAL, "malformed verifier key: want NAME+HASH+KEY");
    if (!sumdb_note_name_valid(vkey, namelen) || namelen > SUMDB_NAME_MAX)
        return cache_err_set(err, -EINVAL, "malformed verifier key: bad name \"%.*s\"", (int)(namelen > 80 ? 80 : namelen), vkey);
    if (p2 - hash16 != 8)
        return cache_err_set(err, -EINVAL, "malformed verifier key: the key hash must be 8 hex digits");
    uint32_t hash = 0;
    for (int i = 0; i < 8; i++) {
        int v = ascii_hex_value(hash16[i]);
        if (v < 0)
            return cache_err_set(err, -EINVAL, "malformed verifier key: the key hash must be 8 hex digits");
        hash = hash << 4 | (uint32_t)v;
    }
    const char *key64 = p2 + 1;
    uint8_t key[64];
    int keylen = sumdb_b64_decode(key64, (size_t)(end - key64), key, sizeof key);
    if (keylen <= 0)
        return cache_err_set(err, -EINVAL, "malformed verifier key: the key is not base64 (or too long)");
    if (key_hash(vkey, namelen, key, (size_t)keylen) != hash)
        return cache_err_set(err, -EINVAL, "invalid verifier key: hash %.8s does not match the key of %.*s",
                             hash16, (int)namelen, vkey);
    if (key[0] != SUMDB_ALG_ED25519)
        return cache_err_set(err, -EINVAL, "invalid verifier key: unknown algorithm %u (only 1, Ed25519, exists)",
                             key[0]);
    if (keylen != 33)
        return cache_err_set(err, -EINVAL, "malformed verifier key: an Ed25519 key has 32 bytes, not %d",
                             keylen - 1);
    memcpy(out->name, vkey, namelen);
    out->name[namelen] = '\0';
    out->hash = hash;
    memcpy(out->key, key + 1, 32);
    return 0;
}

static bool ed25519_verify(const uint8_t key[32], const uint8_t *msg, size_t len, const uint8_t sig[64])
{
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* Ed25519 is one-shot: EVP_DigestVerify with no digest named. */
    bool ok = pkey != NULL && md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
              EVP_DigestVerify(md, sig, 64, msg, len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return ok;
}

static const uint8_t sig_prefix[] = {0xe2, 0x80, 0x94, ' '}; /* "— " */

int sumdb_note_open(const uint8_t *msg, size_t len, const sumdb_verifier_t *v, slice_t *text, cache_err_t *err)
{
    /* Valid UTF-8 throughout, no control character but '\n'. */
    for (size_t i = 0; i < len;) {
        uint32_t r = 0;
        size_t size = utf8_decode(msg + i, len - i, &r);
        if (size == 0 || (r < 0x20 && r != '\n'))
            return cache_err_set(err, -EPROTO, "malformed note: %s at byte %zu",
                                 size == 0 ? "invalid UTF-8" : "control character", i);
        i += size;
    }
    /* The signatures follow the last blank line. */
    size_t split = len;
    for (size_t i = len; i >= 2; i--) {
        if (msg[i - 2] == '\n' && msg[i - 1] == '\n') {
            split = i - 2;
            break;
        }
    }
    if (split == len)
        return cache_err_set(err, -EPROTO, "malformed note: no blank line before the signatures");
    const uint8_t *sigs = msg + split + 2;
    size_t sigslen = len - split - 2;
    if (sigslen == 0 || sigs[sigslen - 1] != '\n')
        return cache_err_set(err, -EPROTO, "malformed note: the signatures must end with a newline");
    size_t textlen = split + 1;

    int nsig = 0;
    bool verified = false, seen_ours = false;
    while (sigslen > 0) {
        const uint8_t *nl = memchr(sigs, '\n', sigslen);
        size_t linelen = (size_t)(nl - sigs);
        const uint8_t *line = sigs;
        sigs += linelen + 1;
        sigslen -= linelen + 1;

        if (linelen < sizeof sig_prefix || memcmp(line, sig_prefix, sizeof sig_prefix) != 0)
            return cache_err_set(err, -EPROTO, "malformed note: a signature line must start with \"— \"");
        line += sizeof sig_prefix;
        linelen -= sizeof sig_prefix;
        const uint8_t *sp = memchr(line, ' ', linelen);
        size_t namelen = sp ? (size_t)(sp - line) : linelen;
        const char *b64 = sp ? (const char *)sp + 1 : "";
        size_t b64len = sp ? linelen - namelen - 1 : 0;
        /* Any length of base64 is well formed (Go decodes it all); only 4+64 bytes can be an
         * Ed25519 signature, which matters only when the line names our key. */
        int siglen = b64len ? sumdb_b64_decode(b64, b64len, NULL, SIZE_MAX) : -EPROTO;
        if (siglen < 5 || !sumdb_note_name_valid((const char *)line, namelen))
            return cache_err_set(err, -EPROTO, "malformed note: bad signature line");
        uint8_t sig[4 + 64];
        /* The first 8 characters hold the 4-byte key hash (and are all of it when siglen < 7). */
        (void)sumdb_b64_decode(b64, 8, sig, 6);
        if (++nsig > NOTE_SIGS_MAX)
            return cache_err_set(err, -EPROTO, "malformed note: more than %d signatures", NOTE_SIGS_MAX);
        uint32_t hash = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3];

        if (namelen != strlen(v->name) || memcmp(line, v->name, namelen) != 0 || hash != v->hash)
            continue; /* another key's signature: neither trusted nor an error */
        if (seen_ours)
            continue; /* a repeated signature by our key is ignored, as Go does */
        seen_ours = true;
        if (siglen != (int)sizeof sig || sumdb_b64_decode(b64, b64len, sig, sizeof sig) != (int)sizeof sig ||
            !ed25519_verify(v->key, msg, textlen, sig + 4))
            return cache_err_set(err, -EPROTO, "invalid signature for key %s+%08x", v->name, v->hash);
        verified = true;
    }
    if (!verified)
        return cache_err_set(err, -EPROTO, "note has no verifiable signatures (none by %s+%08x)", v->name, v->hash);
    text->base = msg;
    text->len = textlen;
    return 0;
}
