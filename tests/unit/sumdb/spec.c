/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/sumdb/spec.c (GOSUMDB values, verifier keys) and cache/sumdb/escape.c (lookup
 * path escaping). Keys with a wrong algorithm or length are made here with a correct key hash, so
 * that each rule is what refuses them, not the hash check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "sumdb_i.h"
#include "../expect.h"

/* NAME+HASH+BASE64(key) with the right hash for whatever key bytes. */
static void make_vkey(const char *name, const uint8_t *key, size_t len, char *out, size_t cap)
{
    uint8_t buf[256], sum[SHA256_DIGEST_LENGTH];
    size_t nl = strlen(name);
    memcpy(buf, name, nl);
    buf[nl] = '\n';
    memcpy(buf + nl + 1, key, len);
    SHA256(buf, nl + 1 + len, sum);
    char b64[128];
    sumdb_b64_encode(key, len, b64);
    snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", name, sum[0], sum[1], sum[2], sum[3], b64);
}

static void test_known_values(void **state)
{
    (void)state;
    sumdb_spec_t s;
    cache_err_t err = {0};
    assert_int_equal(sumdb_spec_parse("off", &s, &err), 0);
    assert_true(s.off);

    assert_int_equal(sumdb_spec_parse("sum.golang.org", &s, &err), 0);
    assert_false(s.off);
    assert_string_equal(s.name, "sum.golang.org");
    assert_string_equal(s.vkey, SUMDB_GOLANG_VKEY);
    assert_string_equal(s.url, "https://sum.golang.org");
    assert_false(s.url_given);

    assert_int_equal(sumdb_spec_parse("  sum.golang.google.cn\n", &s, &err), 0);
    assert_string_equal(s.name, "sum.golang.org");
    assert_string_equal(s.vkey, SUMDB_GOLANG_VKEY);
    assert_string_equal(s.url, "https://sum.golang.google.cn");

    assert_int_equal(sumdb_spec_parse("sum.golang.org http://127.0.0.1:8080/sumdb/sum.golang.org/", &s, &err), 0);
    assert_string_equal(s.url, "http://127.0.0.1:8080/sumdb/sum.golang.org");
    assert_true(s.url_given);

    assert_int_equal(sumdb_spec_parse(SUMDB_GOLANG_VKEY, &s, &err), 0);
    assert_string_equal(s.name, "sum.golang.org");
    assert_string_equal(s.url, "https://sum.golang.org");

    /* The key sum.golang.org is known by, checked by the same rules as any other. */
    sumdb_verifier_t v;
    assert_int_equal(sumdb_verifier_parse(SUMDB_GOLANG_VKEY, strlen(SUMDB_GOLANG_VKEY), &v, &err), 0);
    assert_int_equal(v.hash, 0x033de0ae);
}

static void test_bad_values(void **state)
{
    (void)state;
    uint8_t key33[33] = {1}, key32[32] = {1}, alg2[33] = {2};
    for (int i = 1; i < 33; i++)
        key33[i] = alg2[i] = (uint8_t)(i * 7);
    char good[400], short_key[400], other_alg[400], bad_name[400], good_path[400], long_sig[400];
    make_vkey("db.example", key33, sizeof key33, good, sizeof good);
    make_vkey("db.example", key32, sizeof key32, short_key, sizeof short_key);
    make_vkey("db.example", alg2, sizeof alg2, other_alg, sizeof other_alg);
    make_vkey("db.example?x", key33, sizeof key33, bad_name, sizeof bad_name);
    make_vkey("db.example/sub", key33, sizeof key33, good_path, sizeof good_path);
    uint8_t key34[34] = {1};
    make_vkey("db.example", key34, sizeof key34, long_sig, sizeof long_sig);
    char wrong_hash[400];
    snprintf(wrong_hash, sizeof wrong_hash, "%s", good);
    char *h = strchr(wrong_hash, '+') + 1;
    h[7] = h[7] == '0' ? '1' : '0';
    char bad_b64[400];
    snprintf(bad_b64, sizeof bad_b64, "%s", good);
    bad_b64[strlen(bad_b64) - 3] = '*';
    char two_fields[500], bad_url[500], three[600];
    snprintf(two_fields, sizeof two_fields, "%s https://db.example/x", good);
    snprintf(bad_url, sizeof bad_url, "%s ftp://db.example", good);
    snprintf(three, sizeof three, "%s https://a https://b", good);

    static const char *none = NULL;
    const struct {
        const char *value;
        const char *words; /* NULL: accepted */
    } rows[] = {
        {good, none},
        {good_path, none},
        {two_fields, none},
        {"", "empty"},
        {"   ", "empty"},
        {three, "too many fields"},
        {"example.com", "unknown database"},
        {"sum.golang.google.cn https://x.example", "unknown database"},
        {wrong_hash, "does not match"},
        {short_key, "32 bytes"},
        {long_sig, "32 bytes"},
        {other_alg, "unknown algorithm"},
        {bad_b64, "not base64"},
        {bad_name, "host[/path]"},
        {bad_url, "invalid GOSUMDB URL"},
        {"db.example+0123abcd", "NAME+HASH+KEY"},
        {"+01234567+AQ==", "bad name"},
        {"db.example+0123abc+AQ==", "8 hex digits"},
        {"db.example+0123abcg+AQ==", "8 hex digits"},
        {"db.example+01234567+", "not base64"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sumdb_spec_t s;
        cache_err_t err = {0};
        int rc = sumdb_spec_parse(rows[i].value, &s, &err);
        if (rows[i].words == NULL)
            expect(rc == 0, "%s: want accepted, got %d %s", rows[i].value, rc, err.msg);
        else
            expect(rc == -EINVAL && strstr(err.msg, rows[i].words) != NULL && strstr(err.msg, "GOSUMDB") != NULL,
                   "\"%s\": want -EINVAL \"%s\", got %d \"%s\"", rows[i].value, rows[i].words, rc, err.msg);
    }
    assert_int_equal(failures, 0);
}

static void test_base64(void **state)
{
    (void)state;
    uint8_t out[8];
    assert_int_equal(sumdb_b64_decode("AQID", 4, out, sizeof out), 3);
    assert_int_equal(sumdb_b64_decode("AQI=", 4, out, sizeof out), 2);
    assert_int_equal(sumdb_b64_decode("AQ==", 4, out, sizeof out), 1);
    assert_int_equal(sumdb_b64_decode("AR==", 4, out, sizeof out), 1); /* unused bits ignored, as in Go */
    assert_int_equal(sumdb_b64_decode("", 0, out, sizeof out), 0);
    static const char *const bad[] = {"AQ", "AQ=", "A===", "AQ=A", "AQ==AQ==", "AQ\nI", "AQ I", "AQ-_", "===="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(sumdb_b64_decode(bad[i], strlen(bad[i]), out, sizeof out) == -EPROTO, "\"%s\" accepted", bad[i]);
    expect(sumdb_b64_decode("AAAAAAAAAAAA", 12, out, sizeof out) == -EPROTO, "9 bytes into 8 accepted");
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
