/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/shared/manifest.c: a manifest decodes to what was encoded (inline and packed,
 * at the edges of the chunk size, with and without h1 and the proving database), and every other
 * form is refused as -EBADMSG: a truncated, bit-flipped, reordered or padded manifest, numbers in
 * another spelling, counts that do not match the size. The refusals are made with a correct end
 * line, so they test the fields, not only the hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "shared_i.h"
#include "expect.h"

static void info_of(const uint8_t *p, size_t n, const char *h1, const char *sumdb, shared_object_info_t *info)
{
    memset(info, 0, sizeof *info);
    info->size = n;
    info->time = 1732900000;
    unsigned l;
    assert_int_equal(EVP_Digest(p, n, info->sha256, &l, EVP_sha256(), NULL), 1);
    snprintf(info->h1, sizeof info->h1, "%s", h1);
    snprintf(info->sumdb, sizeof info->sumdb, "%s", sumdb);
}

/* Encodes body as key, decodes it back and checks every field. */
static void round_trip(const char *key, size_t n, const char *h1, const char *sumdb)
{
    uint8_t *body = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        body[i] = (uint8_t)(i * 31 + (i >> 11));
    shared_object_info_t info;
    info_of(body, n, h1, sumdb, &info);
    shared_manifest_t m, d;
    buf_t text = BUF_INIT;
    assert_int_equal(shared_manifest_build(key, body, n, &info, &m), 0);
    assert_int_equal(shared_manifest_encode(&m, &text), 0);
    cache_err_t err = {0};
    int rc = shared_manifest_decode(text.base, text.len, &d, &err);
    if (rc != 0)
        fail_msg("decode of a %zu-byte object: %s", n, err.msg);
    assert_string_equal(d.key, key);
    assert_int_equal(d.info.size, n);
    assert_memory_equal(d.info.sha256, info.sha256, 32);
    assert_string_equal(d.info.h1, h1);
    assert_string_equal(d.info.sumdb, sumdb);
    assert_int_equal(d.info.time, info.time);
    assert_int_equal(d.inline_data, n <= SHARED_INLINE_MAX);
    if (d.inline_data) {
        assert_memory_equal(d.data, body, n);
    } else {
        assert_int_equal(d.chunk_size, SHARED_CHUNK_SIZE);
        assert_int_equal(d.nchunks, (n + SHARED_CHUNK_SIZE - 1) / SHARED_CHUNK_SIZE);
        assert_memory_equal(d.chunks, m.chunks, d.nchunks * 32);
        uint8_t h[32];
        unsigned l;
        size_t last = (d.nchunks - 1) * (size_t)SHARED_CHUNK_SIZE;
        EVP_Digest(body + last, n - last, h, &l, EVP_sha256(), NULL);
        assert_memory_equal(d.chunks[d.nchunks - 1], h, 32);
    }
    shared_manifest_dispose(&d);
    shared_manifest_dispose(&m);
    buf_dispose(&text);
    free(body);
}

static void test_round_trip(void **state)
{
    (void)state;
    round_trip("example.com/m/@v/v1.0.0.info", 0, "", "");
    round_trip("example.com/m/@v/v1.0.0.mod", 57, "", "");
    round_trip("example.com/m/@v/v1.0.0.mod", 57, "h1:abc=", "sum.golang.org");
    round_trip("example.com/m/@v/v1.0.0.zip", SHARED_INLINE_MAX, "h1:abc=", "");
    round_trip("example.com/m/@v/v1.0.0.zip", SHARED_INLINE_MAX + 1, "h1:abc=", "sum.example.com/db");
    round_trip("example.com/m/@v/v1.0.0.zip", SHARED_CHUNK_SIZE, "h1:abc=", "");
    round_trip("example.com/m/@v/v1.0.0.zip", 3 * SHARED_CHUNK_SIZE + 17,
               "h1:S44igHwYeuvL4lxvTi0JMo+BNqfvxkEvt0CT3Zka2DU=", "sum.golang.org");
}

/* Replaces the end line of text[0..len) with the right hash of what comes before it. */
static void reseal(buf_t *t)
{
    size_t body = t->len;
    const char *end = strstr((char *)t->base, "end ");
    while (end != NULL && end != (char *)t->base && end[-1] != '\n')
        end = strstr(end + 1, "end ");
    if (end != NULL && (size_t)((const uint8_t *)end - t->base) + 69 == t->len)
        body = (size_t)((const uint8_t *)end - t->base);
    t->len = body;
    uint8_t h[32];
    unsigned l;
    EVP_Digest(t->base, t->len, h, &l, EVP_sha256(), NULL);
    char hex[65];
    shared_hex(h, 32, hex);
    assert_int_equal(buf_appendf(t, "end %s\n", hex), 0);
}

static void expect_refused(const char *text, bool sealed, const char *what)
{
    buf_t t = BUF_INIT;
    assert_int_equal(buf_append(&t, text, strlen(text)), 0);
    if (sealed)
        reseal(&t);
    shared_manifest_t m;
    cache_err_t err = {0};
    int rc = shared_manifest_decode(t.base, t.len, &m, &err);
    expect(rc == -EBADMSG && err.msg[0] != '\0', "%s: got %d (%s), want -EBADMSG with words", what, rc,
           err.msg);
    if (rc == 0)
        shared_manifest_dispose(&m);
    buf_dispose(&t);
}

#define SHA "6f1ed002ab5595859014ebf0951522d9f0e4c89cf6b9b3e0c5ffd25a6bc1d6d4"
#define HEAD "modfs-object 1\nkey example.com/m/@v/v1.0.0.zip\n"

static void test_refused(void **state)
{
    (void)state;
    char chunks[4 * 71 + 1] = "";
    for (int i = 0; i < 2; i++)
        strcat(chunks, "chunk " SHA "\n");
    char packed[1024];
    snprintf(packed, sizeof packed, HEAD "size 1048577\nsha256 " SHA "\ntime 5\nchunk-size 1048576\n%s",
             chunks);
    TABLE_BEGIN();
    /* the well-formed base the rows below break */
    buf_t t = BUF_INIT;
    assert_int_equal(buf_append(&t, packed, strlen(packed)), 0);
    reseal(&t);
    shared_manifest_t m;
    cache_err_t err = {0};
    int rc = shared_manifest_decode(t.base, t.len, &m, &err);
    expect(rc == 0, "the base manifest: %s", err.msg);
    if (rc == 0)
        shared_manifest_dispose(&m);
    /* damage that the end line catches */
    t.base[30] ^= 1;
    rc = shared_manifest_decode(t.base, t.len, &m, &err);
    expect(rc == -EBADMSG, "a flipped bit: got %d", rc);
    t.base[30] ^= 1;
    rc = shared_manifest_decode(t.base, t.len - 1, &m, &err);
    expect(rc == -EBADMSG, "the last byte cut: got %d", rc);
    rc = shared_manifest_decode(t.base, t.len - 70, &m, &err);
    expect(rc == -EBADMSG, "the end line cut: got %d", rc);
    rc = shared_manifest_decode(t.base, 0, &m, &err);
    expect(rc == -EBADMSG, "empty: got %d", rc);
    buf_reset(&t);
    const char *small = "modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\ntime 0\ndata 00\n";
    assert_int_equal(buf_append(&t, small, strlen(small)), 0);
    reseal(&t);
    rc = shared_manifest_decode(t.base, t.len, &m, &err);
    expect(rc == 0 && m.inline_data && m.info.size == 1 && m.data[0] == 0, "the base inline manifest: %s",
           err.msg);
    if (rc == 0)
        shared_manifest_dispose(&m);
    buf_dispose(&t);

    static const struct {
        const char *text;
        const char *what;
    } rows[] = {
        {"modfs-object 2\nkey a\nsize 1\nsha256 " SHA "\ntime 5\ndata 00\n", "another version"},
        {"modfs-object 1\nkey a/../b\nsize 1\nsha256 " SHA "\ntime 5\ndata 00\n", "a key with .."},
        {"modfs-object 1\nkey \nsize 1\nsha256 " SHA "\ntime 5\ndata 00\n", "an empty key"},
        {"modfs-object 1\nkey a\nsize 01\nsha256 " SHA "\ntime 5\ndata 00\n", "a leading zero"},
        {"modfs-object 1\nkey a\nsize +1\nsha256 " SHA "\ntime 5\ndata 00\n", "a sign"},
        {"modfs-object 1\nkey a\nsize 1 \nsha256 " SHA "\ntime 5\ndata 00\n", "a trailing space"},
        {"modfs-object 1\nkey a\nsize  1\nsha256 " SHA "\ntime 5\ndata 00\n", "two spaces"},
        {"modfs-object 1\nkey a\nsize 99999999999999999999\nsha256 " SHA "\ntime 5\ndata 00\n",
         "a huge size"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 "
         "6F1ED002AB5595859014EBF0951522D9F0E4C89CF6B9B3E0C5FFD25A6BC1D6D4\ntime 5\ndata 00\n",
         "upper-case hex"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 6f1e\ntime 5\ndata 00\n", "a short sha256"},
        {"modfs-object 1\nkey a\nsize 1\ntime 5\nsha256 " SHA "\ndata 00\n", "fields out of order"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\nh1 \ntime 5\ndata 00\n", "an empty h1"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\nh1 h1 x\ntime 5\ndata 00\n", "an h1 with a space"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\nsumdb \ntime 5\ndata 00\n", "an empty sumdb"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\nsumdb sum golang\ntime 5\ndata 00\n",
         "a sumdb with a space"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\nsumdb s\nh1 h1:x\ntime 5\ndata 00\n",
         "sumdb before h1"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\ntime -5\ndata 00\n", "a negative time"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\ntime 5\ndata 0\n", "odd hex data"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\ntime 5\ndata 0000\n", "more data than size"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\ntime 5\ndata zz\n", "data that is not hex"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\ntime 5\ndata 00\nextra\n", "a line after the data"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\ntime 5\n", "neither data nor chunks"},
        {"modfs-object 1\nkey a\nsize 16385\nsha256 " SHA "\ntime 5\nchunk-size 1048576\n", "no chunk lines"},
        {"modfs-object 1\nkey a\nsize 16385\nsha256 " SHA "\ntime 5\nchunk-size 1000000\nchunk " SHA "\n",
         "a chunk size that is not a power of two"},
        {"modfs-object 1\nkey a\nsize 16385\nsha256 " SHA "\ntime 5\nchunk-size 4096\nchunk " SHA "\n",
         "a chunk size below the least"},
        {"modfs-object 1\nkey a\nsize 16385\nsha256 " SHA "\ntime 5\nchunk-size 1048576\nchunk " SHA
         "\nchunk " SHA "\n",
         "one chunk line too many"},
        {"modfs-object 1\nkey a\nsize 10\nsha256 " SHA "\ntime 5\nchunk-size 1048576\nchunk " SHA "\n",
         "a small object in a pack"},
        {"modfs-object 1\nkey a\nsize 16385\nsha256 " SHA "\ntime 5\nchunk-size 1048576\nchunk " SHA "x\n",
         "a chunk hash too long"},
        {"modfs-object 1\r\nkey a\nsize 1\nsha256 " SHA "\ntime 5\ndata 00\n", "a CR"},
        {"modfs-object 1\nkey a\nsize 1\nsha256 " SHA "\ntime 5\ndata 00", "no end line"},
    };
    for (size_t i = 0; i < N(rows); i++)
        expect_refused(rows[i].text, true, rows[i].what);
    expect_refused(HEAD "size 1\nsha256 " SHA "\ntime 5\ndata 00\nend " SHA "\n", false, "a wrong end hash");
    TABLE_END();
}

static void test_build_refuses(void **state)
{
    (void)state;
    shared_object_info_t info;
    info_of((const uint8_t *)"x", 1, "", "", &info);
    shared_manifest_t m;
    assert_int_equal(shared_manifest_build("a/../b", (const uint8_t *)"x", 1, &info, &m), -EINVAL);
    assert_int_equal(shared_manifest_build("a", (const uint8_t *)"xy", 2, &info, &m), -EINVAL); /* size */
    snprintf(info.h1, sizeof info.h1, "h1 x");
    assert_int_equal(shared_manifest_build("a", (const uint8_t *)"x", 1, &info, &m), -EINVAL);
    snprintf(info.h1, sizeof info.h1, "h1:x");
    snprintf(info.sumdb, sizeof info.sumdb, "sum golang");
    assert_int_equal(shared_manifest_build("a", (const uint8_t *)"x", 1, &info, &m), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_build_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
