/* SPDX-License-Identifier: MIT */
/*
 * Tests of http/keycache.c: a path answered from the table gives the key a fresh parse gives;
 * more paths than slots (so slots are shared and replaced) each still get their own key, in
 * any order; a path that names no key is refused again, never answered from the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http_i.h"

#define PATHS (3 * HTTP_KEYCACHE_SLOTS)

static void path_of(int i, char *out, size_t cap)
{
    /* escaped forms too (%21 for '!'): the table is keyed by the raw path */
    snprintf(out, cap, "/github.com/%%21user%d/mod/@v/v1.%d.%d.%s", i % 7, i / 3, i % 3,
             i % 2 ? "mod" : "info");
}

static void check(http_keycache_t *kc, const char *path)
{
    modkey_buf_t a, b;
    cache_err_t err = {0};
    assert_int_equal(http_keycache_resolve(kc, path, strlen(path), &a.key, &err), HTTP_TARGET_KEY);
    assert_int_equal(http_route_resolve(path, strlen(path), &b.key, &err), HTTP_TARGET_KEY);
    assert_string_equal(a.key.escaped, b.key.escaped);
    assert_string_equal(a.key.module, b.key.module);
    assert_string_equal(a.key.version, b.key.version);
    assert_int_equal(a.key.kind, b.key.kind);
    assert_int_equal(a.key.immutable, b.key.immutable);
}

static void same_key_as_a_parse(void **state)
{
    (void)state;
    http_keycache_t *kc = http_keycache_new();
    assert_non_null(kc);
    for (int pass = 0; pass < 3; pass++)
        check(kc, "/golang.org/x/text/@v/v0.8.0.info");
    http_keycache_free(kc);
}

static void more_paths_than_slots(void **state)
{
    (void)state;
    http_keycache_t *kc = http_keycache_new();
    char path[128];
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < PATHS; i++) {
            path_of(pass ? PATHS - 1 - i : i, path, sizeof path);
            check(kc, path);
        }
    }
    http_keycache_free(kc);
}

static void refusals_are_not_kept(void **state)
{
    (void)state;
    http_keycache_t *kc = http_keycache_new();
    modkey_buf_t k;
    const char *bad = "/golang.org/x/text/@v/v0.8.zip"; /* not canonical: a 404 */
    for (int pass = 0; pass < 2; pass++) {
        cache_err_t err = {0};
        assert_int_equal(http_keycache_resolve(kc, bad, strlen(bad), &k.key, &err), HTTP_TARGET_NOT_FOUND);
        assert_true(err.msg[0] != '\0');
    }
    cache_err_t err = {0};
    assert_int_equal(http_keycache_resolve(kc, "/metrics", 8, &k.key, &err), HTTP_TARGET_METRICS);
    http_keycache_free(kc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_key_as_a_parse),
        cmocka_unit_test(more_paths_than_slots),
        cmocka_unit_test(refusals_are_not_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
