/* SPDX-License-Identifier: MIT */
/*
 * shared_fuzz.c — libFuzzer target for what cache/shared/ reads from the bucket and the
 * configuration: object manifests, lease bodies, ListObjectsV2 answers, listed names, --s3 URLs
 * and credentials files.
 *
 * The first byte picks the parser; the rest is its input. A manifest ends with the SHA-256 of
 * what precedes it, which a fuzzer never guesses: one selector seals the input (adds the right
 * end line) first, so that the fields behind the hash are explored too. Promises checked: refusals are
 * -EBADMSG
 * (-EINVAL for URLs and credentials) with words, never a crash or another errno; a manifest or a
 * lease body that decodes encodes back to exactly the same bytes (one form per value, so nothing
 * a writer did not write is ever believed); listed entries have non-empty names without NUL; a
 * name read as a pack or a lease names a key the layout accepts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "shared_i.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_manifest(const uint8_t *p, size_t n)
{
    shared_manifest_t m;
    cache_err_t err = {0};
    int rc = shared_manifest_decode(p, n, &m, &err);
    CHECK(rc == 0 || (rc == -EBADMSG && err.msg[0] != '\0'));
    if (rc != 0)
        return;
    CHECK(shared_key_valid(m.key, strlen(m.key)));
    CHECK(m.inline_data ? m.info.size <= SHARED_INLINE_MAX && m.chunks == NULL
                        : m.nchunks == (m.info.size + m.chunk_size - 1) / m.chunk_size && m.data == NULL);
    buf_t again = BUF_INIT;
    CHECK(shared_manifest_encode(&m, &again) == 0);
    CHECK(again.len == n && memcmp(again.base, p, n) == 0);
    buf_dispose(&again);
    shared_manifest_dispose(&m);
}

/* The input with the end line a writer would add: the fields, past the hash check. */
static void fuzz_manifest_sealed(const uint8_t *p, size_t n)
{
    buf_t t = BUF_INIT;
    uint8_t h[32];
    unsigned hl = 0;
    char hex[65];
    if (buf_append(&t, p, n) != 0 || EVP_Digest(p, n, h, &hl, EVP_sha256(), NULL) != 1) {
        buf_dispose(&t);
        return;
    }
    shared_hex(h, 32, hex);
    if (buf_appendf(&t, "end %s\n", hex) == 0)
        fuzz_manifest(t.base, t.len);
    buf_dispose(&t);
}

static void fuzz_lease(const uint8_t *p, size_t n)
{
    char holder[SHARED_HOLDER_MAX];
    unsigned ttl = 0;
    cache_err_t err = {0};
    int rc = shared_lease_body_decode(p, n, holder, sizeof holder, &ttl, &err);
    CHECK(rc == 0 || (rc == -EBADMSG && err.msg[0] != '\0'));
    if (rc != 0)
        return;
    buf_t again = BUF_INIT;
    CHECK(shared_lease_body_encode(holder, ttl, &again) == 0);
    CHECK(again.len == n && memcmp(again.base, p, n) == 0);
    buf_dispose(&again);
}

static void fuzz_listing(const uint8_t *p, size_t n)
{
    shared_list_t list = {0};
    cache_err_t err = {0};
    int rc = shared_list_parse(p, n, &list, &err);
    CHECK(rc == 0 || (rc == -EBADMSG && list.n == 0 && err.msg[0] != '\0'));
    for (size_t i = 0; i < list.n; i++) {
        CHECK(list.v[i].name != NULL && list.v[i].name[0] != '\0');
        shared_name_t nm;
        shared_layout_parse("p/", list.v[i].name, strlen(list.v[i].name), &nm);
        if (nm.kind != SHARED_NAME_OTHER)
            CHECK(shared_key_valid(nm.key, nm.key_len));
    }
    CHECK(!list.truncated || rc != 0 || list.next_token == NULL || list.next_token[0] != '\0');
    shared_list_dispose(&list);
}

static void fuzz_name(const uint8_t *p, size_t n)
{
    shared_name_t nm;
    shared_layout_parse("farm/", (const char *)p, n, &nm);
    if (nm.kind == SHARED_NAME_OTHER)
        return;
    CHECK(shared_key_valid(nm.key, nm.key_len));
    CHECK(nm.key > (const char *)p && nm.key + nm.key_len <= (const char *)p + n);
    if (nm.kind == SHARED_NAME_LEASE)
        CHECK(nm.gen >= 1);
}

static void fuzz_text(const uint8_t *p, size_t n, bool url)
{
    char *text = malloc(n + 1);
    if (text == NULL)
        return;
    memcpy(text, p, n);
    text[n] = '\0';
    cache_err_t err = {0};
    if (url) {
        shared_url_t u;
        int rc = shared_url_parse(text, &u, &err);
        CHECK(rc == 0 || (rc == -EINVAL && err.msg[0] != '\0'));
        if (rc == 0)
            CHECK(strlen(u.bucket) >= 3 && (u.prefix[0] == '\0' || u.prefix[strlen(u.prefix) - 1] == '/'));
    } else {
        char *a = NULL, *s = NULL;
        int rc = shared_credentials_parse(text, n, "f", &a, &s, &err);
        CHECK(rc == 0 || (rc == -EINVAL && err.msg[0] != '\0' && a == NULL && s == NULL));
        free(a);
        shared_secret_free(s);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 7) {
    case 0:
        fuzz_manifest(p, n);
        break;
    case 1:
        fuzz_lease(p, n);
        break;
    case 2:
        fuzz_listing(p, n);
        break;
    case 3:
        fuzz_name(p, n);
        break;
    case 4:
        fuzz_text(p, n, true);
        break;
    case 5:
        fuzz_text(p, n, false);
        break;
    default:
        fuzz_manifest_sealed(p, n);
        break;
    }
    return 0;
}
