/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/gomod/pattern.c: Go's own tables for path.Match (path/match_test.go, Go 1.19)
 * and module.MatchPrefixPatterns (golang.org/x/mod module_test.go), lists as operators write them
 * for --private and --nosumdb, plus the start-up check of pattern lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "gomod.h"
#include "expect.h"

/* path/match_test.go matchTests: pattern, name, match, bad pattern. */
static const struct {
    const char *pattern, *s;
    bool match;
    bool bad;
} match_tests[] = {
    {"abc", "abc", true, false},
    {"*", "abc", true, false},
    {"*c", "abc", true, false},
    {"a*", "a", true, false},
    {"a*", "abc", true, false},
    {"a*", "ab/c", false, false},
    {"a*/b", "abc/b", true, false},
    {"a*/b", "a/c/b", false, false},
    {"a*b*c*d*e*/f", "axbxcxdxe/f", true, false},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false},
    {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false},
    {"a*b?c*x", "abxbbxdbxebxczzx", true, false},
    {"a*b?c*x", "abxbbxdbxebxczzy", false, false},
    {"ab[c]", "abc", true, false},
    {"ab[b-d]", "abc", true, false},
    {"ab[e-g]", "abc", false, false},
    {"ab[^c]", "abc", false, false},
    {"ab[^b-d]", "abc", false, false},
    {"ab[^e-g]", "abc", true, false},
    {"a\\*b", "a*b", true, false},
    {"a\\*b", "ab", false, false},
    {"a?b", "a\xe2\x98\xba" "b", true, false},
    {"a[^a]b", "a\xe2\x98\xba" "b", true, false},
    {"a???b", "a\xe2\x98\xba" "b", false, false},
    {"a[^a][^a][^a]b", "a\xe2\x98\xba" "b", false, false},
    {"[a-\xce\xb6]*", "\xce\xb1", true, false},
    {"*[a-\xce\xb6]", "A", false, false},
    {"a?b", "a/b", false, false},
    {"a*b", "a/b", false, false},
    {"[\\]a]", "]", true, false},
    {"[\\-]", "-", true, false},
    {"[x\\-]", "x", true, false},
    {"[x\\-]", "-", true, false},
    {"[x\\-]", "z", false, false},
    {"[\\-x]", "x", true, false},
    {"[\\-x]", "-", true, false},
    {"[\\-x]", "a", false, false},
    {"[]a]", "]", false, true},
    {"[-]", "-", false, true},
    {"[x-]", "x", false, true},
    {"[x-]", "-", false, true},
    {"[x-]", "z", false, true},
    {"[-x]", "x", false, true},
    {"[-x]", "-", false, true},
    {"[-x]", "a", false, true},
    {"\\", "a", false, true},
    {"[a-b-c]", "a", false, true},
    {"[", "a", false, true},
    {"[^", "a", false, true},
    {"[^bc", "a", false, true},
    {"a[", "a", false, true},
    {"a[", "ab", false, true},
    {"a[", "x", false, true},
    {"a/b[", "x", false, true},
    {"*x", "xxx", true, false},
};

static void test_glob_match(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(match_tests); i++) {
        int m = modpath_glob_match(match_tests[i].pattern, strlen(match_tests[i].pattern), match_tests[i].s,
                                   strlen(match_tests[i].s));
        int want = match_tests[i].bad ? -EINVAL : match_tests[i].match;
        expect(m == want, "Match(%s, %s) = %d, want %d", match_tests[i].pattern, match_tests[i].s, m, want);
    }
    TABLE_END();
}

/* module_test.go TestMatchPrefixPatterns. */
static const struct {
    const char *globs, *target;
    bool want;
} prefix_tests[] = {
    {"", "rsc.io/quote", false},
    {"/", "rsc.io/quote", false},
    {"*/quote", "rsc.io/quote", true},
    {"*/quo", "rsc.io/quote", false},
    {"*/quo??", "rsc.io/quote", true},
    {"*/quo*", "rsc.io/quote", true},
    {"*quo*", "rsc.io/quote", false},
    {"rsc.io", "rsc.io/quote", true},
    {"*.io", "rsc.io/quote", true},
    {"rsc.io/", "rsc.io/quote", true},
    {"rsc", "rsc.io/quote", false},
    {"rsc*", "rsc.io/quote", true},

    {"rsc.io", "rsc.io/quote/v3", true},
    {"*/quote", "rsc.io/quote/v3", true},
    {"*/quote/", "rsc.io/quote/v3", true},
    {"*/quote/*", "rsc.io/quote/v3", true},
    {"*/quote/*/", "rsc.io/quote/v3", true},
    {"*/v3", "rsc.io/quote/v3", false},
    {"*/*/v3", "rsc.io/quote/v3", true},
    {"*/*/*", "rsc.io/quote/v3", true},
    {"*/*/*/", "rsc.io/quote/v3", true},
    {"*/*/*", "rsc.io/quote", false},
    {"*/*/*/", "rsc.io/quote", false},

    {"*/*/*,,", "rsc.io/quote", false},
    {"*/*/*,,*/quote", "rsc.io/quote", true},
    {",,*/quote", "rsc.io/quote", true},

    /* what --private is for */
    {"private.example", "private.example/lib", true},
    {"private.example/lib", "private.example/lib/v2", true},
    {"private.example/lib", "private.example/library", false},
    {"*.corp.example", "git.corp.example/team/x", true},
    {"*.corp.example", "corp.example/x", false},
    /* lists as GOPRIVATE and GONOSUMDB are usually written */
    {"corp.example.com,github.com/acme", "github.com/acme/tool", true},
    {"corp.example.com,github.com/acme", "github.com/acmeco/tool", false},
    {"corp.example.com,github.com/acme", "corp.example.com", true},
    {"example.com/Upper", "example.com/Upper/Lib", true},
    {"example.com/upper", "example.com/Upper/Lib", false},
    /* a malformed glob matches nothing, the others still count */
    {"[,example.com", "example.com/multi", true},
    {"[", "[", false},
};

static void test_match_prefix_patterns(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(prefix_tests); i++) {
        bool got = modpath_match_prefix_patterns(prefix_tests[i].globs, prefix_tests[i].target);
        expect(got == prefix_tests[i].want, "MatchPrefixPatterns(%s, %s) = %d, want %d", prefix_tests[i].globs,
               prefix_tests[i].target, got, prefix_tests[i].want);
    }
    expect(!modpath_match_prefix_patterns(NULL, "rsc.io/quote"), "NULL patterns match nothing");
    TABLE_END();
}

static void test_patterns_check(void **state)
{
    (void)state;
    cache_err_t err = {0};
    assert_int_equal(modpath_patterns_check("private.example,*.corp.example/team,,", &err), 0);
    assert_int_equal(modpath_patterns_check(NULL, &err), 0);
    assert_int_equal(modpath_patterns_check("ok.example,bad[", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "bad["));
    assert_int_equal(modpath_patterns_check("a.example, b.example", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "space"));
    assert_int_equal(modpath_patterns_check("x\\", &err), -EINVAL);
    assert_int_equal(modpath_patterns_check("", &err), 0);
    assert_int_equal(modpath_patterns_check(",,", &err), 0);
    assert_int_equal(modpath_patterns_check("corp.example.com,*.acme.io/,x/[a-c]*", &err), 0);
    /* malformed past a part that would already fail to match "" */
    assert_int_equal(modpath_patterns_check("a*[", &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob_match),
        cmocka_unit_test(test_match_prefix_patterns),
        cmocka_unit_test(test_patterns_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
