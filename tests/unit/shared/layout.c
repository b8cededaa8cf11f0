/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/shared/layout.c: the names of the bucket (manifests, packs, leases) are made and
 * read back the same, a listed name that is not exactly ours is never taken for ours (gc deletes
 * by these), keys that would make names ambiguous are refused, and the URI encoding is AWS's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared_i.h"
#include "expect.h"

static void test_keys(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        bool ok;
    } rows[] = {
        {"example.com/m/@v/v1.0.0.zip", true},
        {"github.com/!burnt!sushi/toml/@v/v1.2.0+incompatible.info", true},
        {"golang.org/x/text/@latest", true},
        {"a", true},
        {"", false},
        {"/a", false},
        {"a/", false},
        {"a//b", false},
        {"a/./b", false},
        {"a/../b", false},
        {"..", false},
        {"a b", false},
        {"a%2fb", false},
        {"a?b", false},
        {"a\nb", false},
        {"caf\xc3\xa9", false},
        {"m/0000000001", false}, /* would read as a lease number */
        {"m/000000001", true},
        {"m/00000000011", true},
        {"m/3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b", false}, /* a pack's hash */
        {"m/3A7BD3E2360A3D29EEA436FCFB7E44C735D117C42D1C1835420B6B9942DD4F1B", true},
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++)
        expect(shared_key_valid(rows[i].key, strlen(rows[i].key)) == rows[i].ok, "key %s: want %s",
               rows[i].key, rows[i].ok ? "valid" : "invalid");
    char big[SHARED_KEY_MAX + 2];
    memset(big, 'a', sizeof big);
    expect(shared_key_valid(big, SHARED_KEY_MAX), "a key of SHARED_KEY_MAX bytes is valid");
    expect(!shared_key_valid(big, SHARED_KEY_MAX + 1), "a key longer than SHARED_KEY_MAX is not");
    TABLE_END();
}

static void test_names_round_trip(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    uint8_t sha[32];
    for (int i = 0; i < 32; i++)
        sha[i] = (uint8_t)(i * 9);
    const char *key = "example.com/m/@v/v1.0.0.zip";
    shared_name_t n;

    assert_int_equal(shared_layout_manifest("farm/", key, &b), 0);
    assert_string_equal((char *)b.base, "farm/manifests/example.com/m/@v/v1.0.0.zip");
    shared_layout_parse("farm/", (char *)b.base, b.len, &n);
    assert_int_equal(n.kind, SHARED_NAME_MANIFEST);
    assert_int_equal(n.key_len, strlen(key));
    assert_memory_equal(n.key, key, n.key_len);

    assert_int_equal(shared_layout_pack("", key, sha, &b), 0);
    assert_string_equal((char *)b.base, "packs/example.com/m/@v/v1.0.0.zip/"
                                        "0009121b242d363f48515a636c757e879099a2abb4bdc6cfd8e1eaf3fc050e17");
    shared_layout_parse("", (char *)b.base, b.len, &n);
    assert_int_equal(n.kind, SHARED_NAME_PACK);
    assert_memory_equal(n.sha256, sha, 32);
    assert_memory_equal(n.key, key, n.key_len);

    assert_int_equal(shared_layout_lease("p/", key, 42, &b), 0);
    assert_string_equal((char *)b.base, "p/leases/example.com/m/@v/v1.0.0.zip/0000000042");
    shared_layout_parse("p/", (char *)b.base, b.len, &n);
    assert_int_equal(n.kind, SHARED_NAME_LEASE);
    assert_int_equal(n.gen, 42);
    assert_memory_equal(n.key, key, n.key_len);
    assert_int_equal(shared_layout_lease("p/", key, UINT32_MAX, &b), 0);
    shared_layout_parse("p/", (char *)b.base, b.len, &n);
    assert_int_equal(n.gen, UINT32_MAX);

    assert_int_equal(shared_layout_lease_dir("p/", key, &b), 0);
    assert_string_equal((char *)b.base, "p/leases/example.com/m/@v/v1.0.0.zip/");

    /* a key the layout cannot hold makes no name */
    assert_int_equal(shared_layout_manifest("", "a/../b", &b), -EINVAL);
    assert_int_equal(shared_layout_pack("", "", sha, &b), -EINVAL);
    buf_dispose(&b);
}

static void test_foreign_names(void **state)
{
    (void)state;
    /* gc deletes only packs and leases it can name: everything else must read as OTHER */
    static const char *rows[] = {
        "manifests/example.com/m/@v/v1.0.0.zip", /* without the prefix */
        "farm/gc-stamp",
        "farm/something/else",
        "farm/packs/example.com/m/@v/v1.0.0.zip",                                 /* no hash */
        "farm/packs/example.com/m/@v/v1.0.0.zip/00091b242d363f48515a636c757e879", /* short hash */
        "farm/packs/example.com/m/@v/v1.0.0.zip/"
        "0009121B242D363F48515A636C757E879099A2ABB4BDC6CFD8E1EAF3FC050E17",
        "farm/packs//0009121b242d363f48515a636c757e879099a2abb4bdc6cfd8e1eaf3fc050e17",
        "farm/packs/a/../0009121b242d363f48515a636c757e879099a2abb4bdc6cfd8e1eaf3fc050e17",
        "farm/leases/example.com/m/@v/v1.0.0.zip/0000000000", /* numbers start at 1 */
        "farm/leases/example.com/m/@v/v1.0.0.zip/000000001",
        "farm/leases/example.com/m/@v/v1.0.0.zip/00000000x1",
        "farm/leases/example.com/m/@v/v1.0.0.zip/4294967296",
        "farm/leases//0000000001",
        "farm/manifests/",
        "farm/manifests/a b",
        "farmmanifests/a",
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++) {
        shared_name_t n;
        shared_layout_parse("farm/", rows[i], strlen(rows[i]), &n);
        expect(n.kind == SHARED_NAME_OTHER, "%s: read as kind %d, want OTHER", rows[i], n.kind);
    }
    TABLE_END();
}

static void test_uri_encode(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool keep_slash;
        const char *out;
    } rows[] = {
        {"example.com/m/@v/v1.0.0.zip", true, "example.com/m/%40v/v1.0.0.zip"},
        {"github.com/!burnt/@v/v1+incompatible.info", true,
         "github.com/%21burnt/%40v/v1%2Bincompatible.info"},
        {"a/b", false, "a%2Fb"},
        {"A-Z_a.z~0", true, "A-Z_a.z~0"},
        {" =&?%", true, "%20%3D%26%3F%25"},
        {"\xc3\xa9", true, "%C3%A9"},
    };
    TABLE_BEGIN();
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < N(rows); i++) {
        buf_reset(&b);
        assert_int_equal(shared_uri_encode(&b, rows[i].in, strlen(rows[i].in), rows[i].keep_slash), 0);
        expect(strcmp((char *)b.base, rows[i].out) == 0, "encode %s: got %s, want %s", rows[i].in,
               (char *)b.base, rows[i].out);
    }
    buf_dispose(&b);
    TABLE_END();
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t in[3] = {0x00, 0xab, 0xff}, out[3];
    char hex[7];
    shared_hex(in, 3, hex);
    assert_string_equal(hex, "00abff");
    assert_int_equal(shared_unhex(hex, 3, out), 0);
    assert_memory_equal(in, out, 3);
    assert_int_equal(shared_unhex("00ABff", 3, out), -EINVAL); /* one spelling per value */
    assert_int_equal(shared_unhex("0g", 1, out), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),          cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_foreign_names), cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
