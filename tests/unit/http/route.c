/* SPDX-License-Identifier: MIT */
/* Tests of http/route.c: percent-decoding of request paths and what each path resolves to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "http_i.h"

static int decode(const char *in, char *out, size_t cap)
{
    return http_path_decode(in, strlen(in), out, cap);
}

static void decode_keeps_plus_and_rejects_bad_escapes(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(decode("/a/%21b/v1.0.0+incompatible.zip", out, sizeof out), 29);
    assert_string_equal(out, "/a/!b/v1.0.0+incompatible.zip");
    assert_int_equal(decode("%7e%7E", out, sizeof out), 2);
    assert_string_equal(out, "~~");
    /* an escaped '/' is no key's: refused, whatever its case */
    assert_int_equal(decode("/golang.org%2fx/text/@v/list", out, sizeof out), -ENOENT);
    assert_int_equal(decode("/golang.org%2Fx/text/@v/list", out, sizeof out), -ENOENT);
    assert_int_equal(decode("", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(decode("/%zz", out, sizeof out), -EINVAL);
    assert_int_equal(decode("/%2", out, sizeof out), -EINVAL);
    assert_int_equal(decode("/%", out, sizeof out), -EINVAL);
    assert_int_equal(decode("/%00x", out, sizeof out), -EINVAL);
    assert_int_equal(decode("/abcd", out, 5), -ENAMETOOLONG); /* room for 4 bytes and the NUL */
    assert_int_equal(decode("/abc", out, 5), 4);
}

static http_target_t resolve(const char *path, modkey_t *key, cache_err_t *err)
{
    memset(err, 0, sizeof *err);
    return http_route_resolve(path, strlen(path), key, err);
}

static void resolve_names_targets(void **state)
{
    (void)state;
    static modkey_buf_t kb;
    modkey_t *key = &kb.key;
    cache_err_t err;
    assert_int_equal(resolve("/healthz", key, &err), HTTP_TARGET_HEALTHZ);
    assert_int_equal(resolve("/readyz", key, &err), HTTP_TARGET_READYZ);
    assert_int_equal(resolve("/metrics", key, &err), HTTP_TARGET_METRICS);
    assert_int_equal(resolve("/sumdb/sum.golang.org/supported", key, &err), HTTP_TARGET_KEY);
    assert_int_equal(key->kind, MODKEY_SUMDB);
    assert_int_equal(key->db_kind, SUMDB_PATH_SUPPORTED);
    assert_string_equal(key->db_name, "sum.golang.org");
    /* go sends '!' as it is in sumdb paths; %21 means the same */
    assert_int_equal(resolve("/sumdb/sum.golang.org/lookup/example.com/!upper/!lib@v1.2.3", key, &err),
                     HTTP_TARGET_KEY);
    assert_string_equal(key->module, "example.com/Upper/Lib");
    assert_int_equal(resolve("/sumdb/sum.golang.org/lookup/example.com/%21upper/%21lib@v1.2.3", key, &err),
                     HTTP_TARGET_KEY);
    assert_string_equal(key->escaped, "sumdb/sum.golang.org/lookup/example.com/!upper/!lib@v1.2.3");
    assert_int_equal(resolve("/sumdb/sum.golang.org/tile/8/0/x001/002.p/5", key, &err), HTTP_TARGET_KEY);
    assert_string_equal(key->db_path, "tile/8/0/x001/002.p/5");
    assert_int_equal(resolve("/sumdb/sum.golang.org/tile/8/0/1002.p/5", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_int_equal(resolve("/sumdb/sum.golang.org/lookup/example.com/Upper@v1.0.0", key, &err),
                     HTTP_TARGET_NOT_FOUND);
    assert_int_equal(resolve("/sumdb/sum.golang.org", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(resolve("/sumdb", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_int_equal(resolve("/sumdb/", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_int_equal(resolve("/", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_int_equal(resolve("/%zz", key, &err), HTTP_TARGET_BAD_REQUEST);
    /* one object, one URL: /golang.org%2Fx/text/... is not /golang.org/x/text/... */
    assert_int_equal(resolve("/golang.org%2Fx/text/@v/v0.8.0.zip", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_non_null(strstr(err.msg, "%2F"));
    assert_int_equal(resolve("/golang.org/x/text%2f@v/v0.8.0.zip", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_int_equal(resolve("no-slash", key, &err), HTTP_TARGET_BAD_REQUEST);

    assert_int_equal(resolve("/golang.org/x/text/@v/v0.8.0.zip", key, &err), HTTP_TARGET_KEY);
    assert_int_equal(key->kind, MODKEY_ZIP);
    assert_string_equal(key->module, "golang.org/x/text");
    assert_string_equal(key->version, "v0.8.0");

    assert_int_equal(resolve("/example.com/%21upper/%21lib/@v/list", key, &err), HTTP_TARGET_KEY);
    assert_int_equal(key->kind, MODKEY_LIST);
    assert_string_equal(key->module, "example.com/Upper/Lib");
    assert_string_equal(key->escaped, "example.com/!upper/!lib/@v/list");

    assert_int_equal(resolve("/example.com/old/@v/v2.0.0+incompatible.info", key, &err), HTTP_TARGET_KEY);
    assert_string_equal(key->version, "v2.0.0+incompatible");
    assert_int_equal(resolve("/example.com/multi/@latest", key, &err), HTTP_TARGET_KEY);
    assert_int_equal(key->kind, MODKEY_LATEST);

    /* well-formed paths that cannot be modules: 404 with a reason */
    assert_int_equal(resolve("/Golang.org/x/text/@v/list", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_true(err.msg[0] != '\0');
    assert_int_equal(resolve("/golang.org/x/text/@v/v0.8.0.tar", key, &err), HTTP_TARGET_NOT_FOUND);
    assert_int_equal(resolve("/golang.org/../x/@v/list", key, &err), HTTP_TARGET_NOT_FOUND);
    char longpath[MODKEY_MAX + 64];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(resolve(longpath, key, &err), HTTP_TARGET_NOT_FOUND);
}

static void route_labels_follow_the_suffix(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        http_route_t want;
    } cases[] = {
        {"/a.com/x/@v/list", HTTP_ROUTE_LIST},     {"/a.com/x/@latest", HTTP_ROUTE_LATEST},
        {"/a.com/x/@v/v1.0.0.info", HTTP_ROUTE_INFO}, {"/a.com/x/@v/v1.0.0.mod", HTTP_ROUTE_MOD},
        {"/a.com/x/@v/v1.0.0.zip", HTTP_ROUTE_ZIP},   {"/metrics", HTTP_ROUTE_OTHER},
        {"/sumdb/x/lookup/a.com/x@v1.0.0.zip", HTTP_ROUTE_SUMDB},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(http_route_of_path(cases[i].path, strlen(cases[i].path)), cases[i].want);
    assert_string_equal(http_route_name(HTTP_ROUTE_ZIP), "zip");
    assert_int_equal(http_route_of_kind(MODKEY_LATEST), HTTP_ROUTE_LATEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_keeps_plus_and_rejects_bad_escapes),
        cmocka_unit_test(resolve_names_targets),
        cmocka_unit_test(route_labels_follow_the_suffix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
