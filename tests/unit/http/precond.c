/* SPDX-License-Identifier: MIT */
/* Tests of http/precond.c: ETag and HTTP-date formatting, the conditionals (If-Match,
 * If-Unmodified-Since, If-None-Match, If-Modified-Since, strict entity-tag lists), Range and
 * If-Range parsing, against the rules of RFC 9110. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http_i.h"

static void etag_is_quoted_hex_of_sha_prefix(void **state)
{
    (void)state;
    uint8_t sha[32];
    for (int i = 0; i < 32; i++)
        sha[i] = (uint8_t)(i * 17);
    char etag[HTTP_ETAG_LEN + 1];
    http_etag_format(sha, etag);
    assert_string_equal(etag, "\"00112233445566778899aabbccddeeff\"");
}

static void date_format_matches_imf_fixdate(void **state)
{
    (void)state;
    char d[HTTP_DATE_LEN + 1];
    http_date_format(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    http_date_format(784111777, d);
    assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    http_date_format(951782400, d); /* a leap day of a year divisible by 400 */
    assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 GMT");
    http_date_format(4102444799, d);
    assert_string_equal(d, "Thu, 31 Dec 2099 23:59:59 GMT");
}

typedef struct range_case {
    const char *value;
    uint64_t size;
    http_range_result_t want;
    uint64_t first, last;
} range_case_t;

static void range_parse_follows_rfc(void **state)
{
    (void)state;
    static const range_case_t cases[] = {
        {"bytes=0-9", 100, HTTP_RANGE_PARTIAL, 0, 9},
        {"bytes=10-", 100, HTTP_RANGE_PARTIAL, 10, 99},
        {"bytes=-10", 100, HTTP_RANGE_PARTIAL, 90, 99},
        {"bytes=-1000", 100, HTTP_RANGE_PARTIAL, 0, 99},   /* suffix longer than the object */
        {"bytes=50-1000", 100, HTTP_RANGE_PARTIAL, 50, 99}, /* last clamped */
        {"bytes=99-99", 100, HTTP_RANGE_PARTIAL, 99, 99},
        {"  bytes=1-2  ", 100, HTTP_RANGE_PARTIAL, 1, 2},
        {"Bytes=1-2", 100, HTTP_RANGE_PARTIAL, 1, 2}, /* the unit is case-insensitive */
        {"bytes=0-99999999999999999999999", 100, HTTP_RANGE_PARTIAL, 0, 99},
        {"bytes=100-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=99999999999999999999999-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-0", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-0", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-5", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=5-1", 100, HTTP_RANGE_NONE, 0, 0}, /* invalid: ignored */
        {"bytes=0-1,5-6", 100, HTTP_RANGE_NONE, 0, 0},
        {"bytes=-", 100, HTTP_RANGE_NONE, 0, 0},
        {"bytes=a-b", 100, HTTP_RANGE_NONE, 0, 0},
        {"bytes=1-2x", 100, HTTP_RANGE_NONE, 0, 0},
        {"items=0-1", 100, HTTP_RANGE_NONE, 0, 0},
        {"bytes", 100, HTTP_RANGE_NONE, 0, 0},
        {"", 100, HTTP_RANGE_NONE, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const range_case_t *c = &cases[i];
        uint64_t a = 12345, b = 12345;
        http_range_result_t got = http_range_parse(c->value, strlen(c->value), c->size, &a, &b);
        if (got != c->want)
            fail_msg("Range \"%s\" (size %llu): got %d, want %d", c->value, (unsigned long long)c->size, got,
                     c->want);
        if (got == HTTP_RANGE_PARTIAL && (a != c->first || b != c->last))
            fail_msg("Range \"%s\": got %llu-%llu, want %llu-%llu", c->value, (unsigned long long)a,
                     (unsigned long long)b, (unsigned long long)c->first, (unsigned long long)c->last);
    }
}

static const char etag[] = "\"00112233445566778899aabbccddeeff\"";
#define MTIME 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

static void if_range_is_strong(void **state)
{
    (void)state;
    assert_true(http_if_range_matches(etag, strlen(etag), etag, MTIME));
    assert_true(http_if_range_matches(" \"00112233445566778899aabbccddeeff\" ", 36, etag, MTIME));
    char weak[64];
    snprintf(weak, sizeof weak, "W/%s", etag);
    assert_false(http_if_range_matches(weak, strlen(weak), etag, MTIME));
    assert_false(http_if_range_matches("\"0011\"", 6, etag, MTIME));
    const char *d = "Sun, 06 Nov 1994 08:49:37 GMT";
    assert_true(http_if_range_matches(d, strlen(d), etag, MTIME));
    assert_false(http_if_range_matches(d, strlen(d), etag, MTIME + 1));
    assert_false(http_if_range_matches("yesterday", 9, etag, MTIME));
}

/* The precondition verdict for the given header fields (NULL: absent) against etag and MTIME. */
static http_precond_t eval4(const char *im, const char *ius, const char *inm, const char *ims)
{
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    h2o_headers_t headers = {NULL, 0, 0};
    if (im != NULL)
        h2o_add_header(&pool, &headers, H2O_TOKEN_IF_MATCH, NULL, im, strlen(im));
    if (ius != NULL)
        h2o_add_header(&pool, &headers, H2O_TOKEN_IF_UNMODIFIED_SINCE, NULL, ius, strlen(ius));
    if (inm != NULL)
        h2o_add_header(&pool, &headers, H2O_TOKEN_IF_NONE_MATCH, NULL, inm, strlen(inm));
    if (ims != NULL)
        h2o_add_header(&pool, &headers, H2O_TOKEN_IF_MODIFIED_SINCE, NULL, ims, strlen(ims));
    const char *why = NULL;
    http_precond_t r = http_precond_eval(&headers, etag, MTIME, &why);
    if (r == HTTP_PRECOND_FAILED)
        assert_non_null(why);
    h2o_mem_clear_pool(&pool);
    return r;
}

static bool not_modified(const char *inm, const char *ims)
{
    return eval4(NULL, NULL, inm, ims) == HTTP_PRECOND_NOT_MODIFIED;
}

#define TAG "\"00112233445566778899aabbccddeeff\""

static void conditionals_follow_rfc(void **state)
{
    (void)state;
    assert_false(not_modified(NULL, NULL));
    assert_true(not_modified(etag, NULL));
    assert_true(not_modified("W/" TAG, NULL)); /* weak comparison */
    assert_true(not_modified("\"x\", " TAG, NULL));
    assert_true(not_modified("\"x\"," TAG ",", NULL)); /* empty list elements are allowed */
    assert_true(not_modified(" , \"x\" ,\t" TAG " ", NULL));
    assert_true(not_modified("*", NULL));
    assert_true(not_modified(" * ", NULL));
    assert_false(not_modified("\"x\"", NULL));
    assert_false(not_modified("\"00112233445566778899aabbccddeef\"", NULL)); /* one character short */
    assert_false(not_modified("junk, \"y\"", NULL));
    assert_true(not_modified(NULL, "Sun, 06 Nov 1994 08:49:37 GMT"));
    assert_true(not_modified(NULL, "Mon, 07 Nov 1994 08:49:37 GMT"));
    assert_false(not_modified(NULL, "Sun, 06 Nov 1994 08:49:36 GMT"));
    assert_false(not_modified(NULL, "not a date"));
    /* If-None-Match decides alone when present */
    assert_false(not_modified("\"x\"", "Mon, 07 Nov 1994 08:49:37 GMT"));
    assert_true(not_modified(etag, "Thu, 01 Jan 1970 00:00:00 GMT"));
}

/* A list that is not a list of entity-tags matches nothing, even where a tag in it would. */
static void entity_tag_lists_are_strict(void **state)
{
    (void)state;
    static const char *const malformed[] = {
        "\"x\"" TAG,           /* no comma between two tags */
        TAG "\"x\"",
        TAG " " TAG,           /* white space is not a separator */
        TAG "junk",
        "00112233445566778899aabbccddeeff", /* unquoted */
        "\"0011",              /* unterminated */
        "W/ " TAG,             /* W/ belongs to the tag */
        "w/" TAG,              /* W is upper case */
        "*, " TAG,             /* "*" only alone */
        TAG ", *",
        "\"a\"b\"",
        "\"a\x01\"",           /* a control character is not etagc */
        "",
        ",",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        if (not_modified(malformed[i], NULL))
            fail_msg("If-None-Match: %s gave 304", malformed[i]);
        if (eval4(malformed[i], NULL, NULL, NULL) != HTTP_PRECOND_FAILED)
            fail_msg("If-Match: %s did not fail", malformed[i]);
    }
    /* obs-text is etagc */
    assert_false(not_modified("\"\xc3\xa9\", \"x\"", NULL));
    assert_int_equal(eval4("\"\xc3\xa9\", " TAG, NULL, NULL, NULL), HTTP_PRECOND_OK);
}

static void if_match_and_if_unmodified_since(void **state)
{
    (void)state;
    /* If-Match: strong comparison, "*" matches an existing object */
    assert_int_equal(eval4(TAG, NULL, NULL, NULL), HTTP_PRECOND_OK);
    assert_int_equal(eval4("\"x\", " TAG, NULL, NULL, NULL), HTTP_PRECOND_OK);
    assert_int_equal(eval4("*", NULL, NULL, NULL), HTTP_PRECOND_OK);
    assert_int_equal(eval4("\"x\"", NULL, NULL, NULL), HTTP_PRECOND_FAILED);
    assert_int_equal(eval4("W/" TAG, NULL, NULL, NULL), HTTP_PRECOND_FAILED);
    /* If-Unmodified-Since */
    assert_int_equal(eval4(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", NULL, NULL), HTTP_PRECOND_OK);
    assert_int_equal(eval4(NULL, "Mon, 07 Nov 1994 08:49:37 GMT", NULL, NULL), HTTP_PRECOND_OK);
    assert_int_equal(eval4(NULL, "Sun, 06 Nov 1994 08:49:36 GMT", NULL, NULL), HTTP_PRECOND_FAILED);
    assert_int_equal(eval4(NULL, "not a date", NULL, NULL), HTTP_PRECOND_OK); /* ignored */
    /* If-Match wins over If-Unmodified-Since (13.2.2 step 2 only without If-Match) */
    assert_int_equal(eval4(TAG, "Sun, 06 Nov 1994 08:49:36 GMT", NULL, NULL), HTTP_PRECOND_OK);
    assert_int_equal(eval4("\"x\"", "Mon, 07 Nov 1994 08:49:37 GMT", NULL, NULL), HTTP_PRECOND_FAILED);
    /* a failed precondition comes before 304 */
    assert_int_equal(eval4("\"x\"", NULL, TAG, NULL), HTTP_PRECOND_FAILED);
    assert_int_equal(eval4(TAG, NULL, TAG, NULL), HTTP_PRECOND_NOT_MODIFIED);
    assert_int_equal(eval4(NULL, "Mon, 07 Nov 1994 08:49:37 GMT", NULL, "Mon, 07 Nov 1994 08:49:37 GMT"),
                     HTTP_PRECOND_NOT_MODIFIED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(etag_is_quoted_hex_of_sha_prefix),
        cmocka_unit_test(date_format_matches_imf_fixdate),
        cmocka_unit_test(range_parse_follows_rfc),
        cmocka_unit_test(if_range_is_strong),
        cmocka_unit_test(conditionals_follow_rfc),
        cmocka_unit_test(entity_tag_lists_are_strict),
        cmocka_unit_test(if_match_and_if_unmodified_since),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
