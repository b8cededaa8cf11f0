/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/validate.c. The expected .info outputs are what go's json.Marshal of the
 * go command's RevInfo prints for the same input after json.Unmarshal (checked with Go 1.19's
 * encoding/json and time packages), because that is the form the go command keeps in GOMODCACHE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod.h"
#include "expect.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *module, *body, *want; /* want NULL: rejected */
} info_tests[] = {
    /* What proxy.golang.org sends, and with the Origin of newer go versions dropped. */
    {"golang.org/x/text", "{\"Version\":\"v0.7.0\",\"Time\":\"2023-01-04T17:32:49Z\"}",
     "{\"Version\":\"v0.7.0\",\"Time\":\"2023-01-04T17:32:49Z\"}"},
    {"golang.org/x/text", "{\"Version\":\"v0.7.0\",\"Time\":\"2023-01-04T17:32:49Z\"}\n",
     "{\"Version\":\"v0.7.0\",\"Time\":\"2023-01-04T17:32:49Z\"}"},
    {"golang.org/x/text",
     "{\"Version\":\"v0.7.0\",\"Time\":\"2023-01-04T17:32:49Z\",\"Origin\":{\"VCS\":\"git\",\"URL\":\"https:/"
     "/go."
     "googlesource.com/text\",\"Ref\":\"refs/tags/v0.7.0\",\"Hash\":\"71a9c9a\"}}",
     "{\"Version\":\"v0.7.0\",\"Time\":\"2023-01-04T17:32:49Z\"}"},
    /* Key order, whitespace, other fields do not matter. */
    {"example.com/m",
     " {\n \"Time\" : \"2019-01-01T00:00:00Z\", \"Name\": \"abc\", \"Short\": "
     "1,\n\"Version\":\"v1.2.3\"}\r\n",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00Z\"}"},
    /* Time as time.Time.MarshalJSON prints it: fraction without trailing zeros, "Z" for a zero offset. */
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00.500Z\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00.5Z\"}"},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00.000Z\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00Z\"}"},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00.123456789123Z\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00.123456789Z\"}"},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00+00:00\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00Z\"}"},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00-00:00\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00Z\"}"},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T05:30:00.010+05:30\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T05:30:00.01+05:30\"}"},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2020-02-29T23:59:59-08:00\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2020-02-29T23:59:59-08:00\"}"},
    /* No Time, or null: go writes the zero time.Time. Version null is no version. */
    {"example.com/m", "{\"Version\":\"v1.2.3\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"0001-01-01T00:00:00Z\"}"},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":null}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"0001-01-01T00:00:00Z\"}"},
    {"example.com/m", "{\"Version\":null,\"Time\":\"2019-01-01T00:00:00Z\"}", NULL},
    /* encoding/json matches field names case-insensitively, with U+017F for 's'. */
    {"example.com/m", "{\"version\":\"v1.2.3\",\"TIME\":\"2019-01-01T00:00:00Z\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00Z\"}"},
    {"example.com/m", "{\"Ver\\u017fion\":\"v1.2.3\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"0001-01-01T00:00:00Z\"}"},
    {"example.com/m", "{\"Versions\":\"v1.2.3\"}", NULL},
    /* JSON escapes in the Version decode as go decodes them. */
    {"example.com/m", "{\"Version\":\"v1.2\\u002e3\"}",
     "{\"Version\":\"v1.2.3\",\"Time\":\"0001-01-01T00:00:00Z\"}"},
    /* Versions: canonical and valid for the module. */
    {"example.com/m/v2", "{\"Version\":\"v2.0.1\",\"Time\":\"2019-01-01T00:00:00Z\"}",
     "{\"Version\":\"v2.0.1\",\"Time\":\"2019-01-01T00:00:00Z\"}"},
    {"example.com/m", "{\"Version\":\"v2.0.0+incompatible\",\"Time\":\"2019-01-01T00:00:00Z\"}",
     "{\"Version\":\"v2.0.0+incompatible\",\"Time\":\"2019-01-01T00:00:00Z\"}"},
    {"example.com/m",
     "{\"Version\":\"v0.0.0-20191109021931-daa7c04131f5\",\"Time\":\"2019-11-09T02:19:31Z\"}",
     "{\"Version\":\"v0.0.0-20191109021931-daa7c04131f5\",\"Time\":\"2019-11-09T02:19:31Z\"}"},
    {"example.com/m/v2", "{\"Version\":\"v1.0.0\",\"Time\":\"2019-01-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v2.0.0\",\"Time\":\"2019-01-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2\",\"Time\":\"2019-01-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3+meta\",\"Time\":\"2019-01-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"master\",\"Time\":\"2019-01-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"\",\"Time\":\"2019-01-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Time\":\"2019-01-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":123}", NULL},
    {"example.com/m", "{\"Version\":[\"v1.2.3\"]}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\\u0000\"}", NULL},
    {"not a module", "{\"Version\":\"v1.2.3\"}", NULL},
    /* Bad times. */
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":0}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01 00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01t00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-13-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-02-29T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"1900-02-29T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-04-31T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-00T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T24:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:60:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2016-12-31T23:59:60Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00.Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00,5Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00+24:00\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00+0100\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00Z<script>\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"+2019-01-01T00:00:00Z\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Time\":\"19-01-01T00:00:00Z\"}", NULL},
    /* Not one JSON object. */
    {"example.com/m", "", NULL},
    {"example.com/m", "null", NULL},
    {"example.com/m", "[]", NULL},
    {"example.com/m", "\"v1.2.3\"", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\"} {}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\"}x", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\"", NULL},
    {"example.com/m", "{'Version':'v1.2.3'}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Name\":\"\xff\"}", NULL},
    /* Two fields go would read into Version: go keeps the last, modfs refuses to guess. */
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"Version\":\"v1.2.4\"}", NULL},
    {"example.com/m", "{\"Version\":\"v1.2.3\",\"version\":\"v1.2.4\"}", NULL},
    {"example.com/m", "{\"Time\":\"2019-01-01T00:00:00Z\",\"time\":null,\"Version\":\"v1.2.3\"}", NULL},
};

static void test_info_table(void **state)
{
    (void)state;
    failures = 0;
    buf_t out = BUF_INIT;
    for (size_t i = 0; i < N(info_tests); i++) {
        cache_err_t err = {0};
        const char *body = info_tests[i].body;
        int rc = gomod_validate_info((const uint8_t *)body, strlen(body), info_tests[i].module, NULL, &out, &err);
        if (info_tests[i].want == NULL) {
            expect(rc == -EINVAL && err.msg[0] != '\0' && out.len == 0,
                   "gomod_validate_info(%s, %s) = %d, want -EINVAL with a reason", info_tests[i].module, body, rc);
            continue;
        }
        expect(rc == 0, "gomod_validate_info(%s, %s) = %d (%s), want 0", info_tests[i].module, body, rc, err.msg);
        if (rc != 0)
            continue;
        expect(out.len == strlen(info_tests[i].want) && memcmp(out.base, info_tests[i].want, out.len) == 0,
               "gomod_validate_info(%s) wrote %.*s, want %s", body, (int)out.len, (const char *)out.base,
               info_tests[i].want);
        /* The output is itself valid and is its own normal form. */
        buf_t again = BUF_INIT;
        rc = gomod_validate_info(out.base, out.len, info_tests[i].module, NULL, &again, NULL);
        expect(rc == 0 && again.len == out.len && memcmp(again.base, out.base, out.len) == 0,
               "validate_info is not idempotent on %s", body);
        buf_dispose(&again);
    }
    buf_dispose(&out);
    assert_int_equal(failures, 0);
}

static void test_info_want_version(void **state)
{
    (void)state;
    static const char body[] = "{\"Version\":\"v1.2.3\",\"Time\":\"2019-01-01T00:00:00Z\"}";
    buf_t out = BUF_INIT;
    cache_err_t err = {0};
    assert_int_equal(
        gomod_validate_info((const uint8_t *)body, strlen(body), "example.com/m", "v1.2.3", &out, &err), 0);
    assert_int_equal(out.len, strlen(body));
    assert_int_equal(
        gomod_validate_info((const uint8_t *)body, strlen(body), "example.com/m", "v1.2.4", &out, &err), -EINVAL);
    assert_string_equal(
        err.msg, "invalid .info: proxy returned info for version v1.2.3 instead of requested version v1.2.4");
    assert_int_equal(out.len, 0);

    /* An earlier content of out is replaced, not appended to. */
    assert_int_equal(buf_append(&out, "junk", 4), 0);
    assert_int_equal(gomod_validate_info((const uint8_t *)body, strlen(body), "example.com/m", NULL, &out, &err),
                     0);
    assert_int_equal(out.len, strlen(body));
    assert_memory_equal(out.base, body, out.len);

    /* The messages name the problem. */
    static const struct {
        const char *module, *body, *msg;
    } msgs[] = {
        {"example.com/m", "[1]", "invalid .info: not a JSON object"},
        {"example.com/m", "{\"Version\":1}", "invalid .info: Version is not a string"},
        {"example.com/m", "{}", "invalid .info: no Version"},
        {"example.com/m/v2", "{\"Version\":\"v1.0.0\"}",
         "invalid .info: example.com/m/v2@v1.0.0: invalid version: should be v2, not v1"},
        {"example.com/m", "{\"Version\":\"v1.0.0\",\"Time\":\"2019-02-29T00:00:00Z\"}",
         "invalid .info: Time: day out of range"},
        {"example.com/m", "{\"Version\":\"v1.0.0\",\"version\":\"v1.0.0\"}",
         "invalid .info: more than one Version field"},
    };
    failures = 0;
    for (size_t i = 0; i < N(msgs); i++) {
        int rc = gomod_validate_info((const uint8_t *)msgs[i].body, strlen(msgs[i].body), msgs[i].module, NULL,
                               &out, &err);
        expect(rc == -EINVAL && strcmp(err.msg, msgs[i].msg) == 0,
               "gomod_validate_info(%s) = %d \"%s\", want \"%s\"", msgs[i].body, rc, err.msg, msgs[i].msg);
    }
    /* A JSON syntax error says where. */
    assert_int_equal(
        gomod_validate_info((const uint8_t *)"{\n\"Version\":}", 13, "example.com/m", NULL, &out, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "line 2"));
    buf_dispose(&out);
    assert_int_equal(failures, 0);
}

/* A valid .info body of exactly n bytes, padded with an ignored field. */
static uint8_t *info_of_size(size_t n)
{
    static const char head[] = "{\"Version\":\"v1.2.3\",\"Pad\":\"";
    uint8_t *body = malloc(n);
    assert_non_null(body);
    memcpy(body, head, sizeof head - 1);
    memset(body + sizeof head - 1, 'x', n - (sizeof head - 1) - 2);
    memcpy(body + n - 2, "\"}", 2);
    return body;
}

static void test_info_limits(void **state)
{
    (void)state;
    buf_t out = BUF_INIT;
    cache_err_t err = {0};
    /* 1 MiB is accepted; one byte more is refused before it is parsed. */
    uint8_t *body = info_of_size(GOMOD_MAX_INFO);
    assert_int_equal(gomod_validate_info(body, GOMOD_MAX_INFO, "example.com/m", NULL, &out, &err), 0);
    assert_string_equal((const char *)out.base, "{\"Version\":\"v1.2.3\",\"Time\":\"0001-01-01T00:00:00Z\"}");
    free(body);
    body = info_of_size(GOMOD_MAX_INFO + 1);
    assert_int_equal(gomod_validate_info(body, GOMOD_MAX_INFO + 1, "example.com/m", NULL, &out, &err), -EINVAL);
    assert_string_equal(err.msg, "invalid .info: 1048577 bytes, more than 1048576");
    free(body);
    assert_int_equal(gomod_validate_info(NULL, 0, "example.com/m", NULL, &out, &err), -EINVAL);

    /* Deep nesting is a clean error, not a stack overflow. */
    size_t depth = 100000;
    buf_t deep = BUF_INIT;
    assert_int_equal(buf_append(&deep, "{\"a\":", 5), 0);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(buf_append(&deep, "[", 1), 0);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(buf_append(&deep, "]", 1), 0);
    assert_int_equal(buf_append(&deep, "}", 1), 0);
    assert_int_equal(gomod_validate_info(deep.base, deep.len, "example.com/m", NULL, &out, &err), -EINVAL);
    buf_dispose(&deep);
    buf_dispose(&out);
}

static void test_mod_and_list(void **state)
{
    (void)state;
    static const char gomod[] = "module example.com/m\n\ngo 1.19\n\nrequire golang.org/x/text v0.7.0\n";
    cache_err_t err = {0};
    assert_int_equal(gomod_validate_mod((const uint8_t *)gomod, strlen(gomod), &err), 0);
    assert_int_equal(gomod_validate_mod((const uint8_t *)"", 0, &err), 0);
    assert_int_equal(gomod_validate_mod(NULL, 0, &err), 0);
    assert_int_equal(gomod_validate_mod((const uint8_t *)"module a\0b\n", 11, &err), -EINVAL);
    assert_string_equal(err.msg, "invalid go.mod: NUL byte at offset 8");

    static const char list[] = "v1.0.0\nv1.1.0 2019-01-01T00:00:00Z\nnot-a-version\n\nv2.0.0+incompatible";
    assert_int_equal(gomod_validate_list((const uint8_t *)list, strlen(list), &err), 0);
    assert_int_equal(gomod_validate_list((const uint8_t *)"", 0, &err), 0);
    assert_int_equal(gomod_validate_list((const uint8_t *)"v1.0.0\n\0", 8, &err), -EINVAL);
    assert_string_equal(err.msg, "invalid list: NUL byte at offset 7");

    /* The size limits: 16 MiB accepted, one byte more refused. */
    size_t max = GOMOD_MAX_MOD;
    uint8_t *big = malloc(max + 1);
    assert_non_null(big);
    memset(big, '\n', max + 1);
    assert_int_equal(gomod_validate_mod(big, max, &err), 0);
    assert_int_equal(gomod_validate_mod(big, max + 1, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "more than 16777216"));
    assert_int_equal(gomod_validate_list(big, GOMOD_MAX_LIST, &err), 0);
    assert_int_equal(gomod_validate_list(big, GOMOD_MAX_LIST + 1, &err), -EINVAL);
    free(big);
}

/* A checksum database's answers are checked for their form: hash tiles by their exact size. */
static void test_sumdb_answers(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        size_t len;
        bool ok;
    } rows[] = {
        {"sumdb/s.io/tile/8/0/000.p/9", 9 * 32, true},
        {"sumdb/s.io/tile/8/0/000.p/9", 9 * 32 - 1, false},
        {"sumdb/s.io/tile/8/0/000.p/9", 10 * 32, false},
        {"sumdb/s.io/tile/8/0/000.p/9", 0, false},
        {"sumdb/s.io/tile/8/1/000", 256 * 32, true},
        {"sumdb/s.io/tile/8/1/000", 255 * 32, false},
        {"sumdb/s.io/tile/8/data/000.p/3", 200, true},
        {"sumdb/s.io/tile/8/data/000.p/3", 0, false},
        {"sumdb/s.io/tile/8/data/000.p/3", SUMDB_BODY_MAX + 1, false},
        {"sumdb/s.io/lookup/a.com/x@v1.0.0", 100, true},
        {"sumdb/s.io/lookup/a.com/x@v1.0.0", 0, false},
        {"sumdb/s.io/lookup/a.com/x@v1.0.0", SUMDB_BODY_MAX + 1, false},
        {"sumdb/s.io/latest", 100, true},
        {"sumdb/s.io/supported", 0, false},
        {"sumdb/s.io/supported", 10, false},
    };
    uint8_t *body = calloc(1, SUMDB_BODY_MAX + 2);
    assert_non_null(body);
    memset(body, 'a', SUMDB_BODY_MAX + 1);
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++) {
        modkey_buf_t kb;
        assert_int_equal(modkey_parse_sumdb(rows[i].key, strlen(rows[i].key), &kb.key, NULL), 0);
        cache_err_t err = {0};
        buf_t canon = BUF_INIT;
        zipfile_t z;
        memset(&z, 0, sizeof z);
        int rc = gomod_validate_body(&kb.key, body, rows[i].len, &canon, &z, &err);
        expect((rc == 0) == rows[i].ok, "%s with %zu bytes: %d (%s)", rows[i].key, rows[i].len, rc, err.msg);
        expect(rc == 0 || strncmp(err.msg, "invalid ", 8) == 0, "%s: message %s", rows[i].key, err.msg);
        expect(canon.base == NULL, "%s: canonical form made", rows[i].key);
    }
    TABLE_END();
    /* a NUL is not text */
    modkey_buf_t kb;
    assert_int_equal(modkey_parse_sumdb("sumdb/s.io/latest", 17, &kb.key, NULL), 0);
    body[5] = 0;
    assert_int_equal(gomod_validate_body(&kb.key, body, 10, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(gomod_body_limit(MODKEY_SUMDB), SUMDB_BODY_MAX);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_table),
        cmocka_unit_test(test_info_want_version),
        cmocka_unit_test(test_info_limits),
        cmocka_unit_test(test_mod_and_list),
        cmocka_unit_test(test_sumdb_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
