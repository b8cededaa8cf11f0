/* SPDX-License-Identifier: MIT */
/*
 * dirhash.c — golang.org/x/mod/sumdb/dirhash.Hash1, the "h1:" of go.sum and .ziphash: the
 * SHA-256 of one line "hex(sha256(content))  name\n" per file, files sorted bytewise by name,
 * base64-encoded after "h1:". The same function hashes a zip's entries and a lone go.mod, so
 * the two go.sum lines of a module version are computed by one piece of code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gomod_i.h"

static int by_name(const void *a, const void *b)
{
    const dirhash_file_t *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c != 0)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

int dirhash_h1(dirhash_file_t *files, size_t count, char out[48], cache_err_t *err)
{
    static const char hex[] = "0123456789abcdef";
    if (count > 1)
        qsort(files, count, sizeof *files, by_name);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    int rc = 0;
    bool ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < count; i++) {
        const dirhash_file_t *f = &files[i];
        if (memchr(f->name, '\n', f->name_len) != NULL) {
            char q[200];
            rc = cache_err_set(err, -EINVAL, "%s: file names with newlines are not supported",
                               str_quote(q, sizeof q, f->name, f->name_len));
            goto out;
        }
        char line[64 + 2];
        for (int k = 0; k < 32; k++) {
            line[2 * k] = hex[f->sha256[k] >> 4];
            line[2 * k + 1] = hex[f->sha256[k] & 15];
        }
        line[64] = line[65] = ' ';
        ok = EVP_DigestUpdate(md, line, sizeof line) == 1 && EVP_DigestUpdate(md, f->name, f->name_len) == 1 &&
             EVP_DigestUpdate(md, "\n", 1) == 1;
    }
    uint8_t sum[32];
    unsigned int len = 0;
    if (!ok || EVP_DigestFinal_ex(md, sum, &len) != 1 || len != 32) {
        rc = cache_err_set(err, -EIO, "SHA-256 failed");
        goto out;
    }
    memcpy(out, "h1:", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, sum, 32); /* 44 characters and a NUL */
out:
    EVP_MD_CTX_free(md);
    return rc;
}

int dirhash_gomod_h1(const uint8_t *gomod, size_t len, char out[48], cache_err_t *err)
{
    dirhash_file_t f = {.name = (const uint8_t *)"go.mod", .name_len = 6};
    unsigned int n = 0;
    if (EVP_Digest(gomod, len, f.sha256, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return cache_err_set(err, -EIO, "SHA-256 failed");
    return dirhash_h1(&f, 1, out, err);
}
