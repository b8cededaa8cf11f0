/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/gomod/modpattern.c: GOPRIVATE/GONOSUMDB glob lists (module.MatchPrefixPatterns)
 * and the path.Match under them, with the tables of Go's own tests (x/mod module_test.go
 * TestMatchPrefixPatterns, Go 1.19 path/match_test.go) plus the checks of a whole list.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "gomod_i.h"
#include "expect.h"

/* path/match_test.go's matchTests: pattern, name, match, bad pattern. */
static const struct {
    const char *pattern, *name;
    bool match, bad;
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
    {"a?b",
     "a\xe2\x98\xba"
     "b",
     true, false},
    {"a[^a]b",
     "a\xe2\x98\xba"
     "b",
     true, false},
    {"a???b",
     "a\xe2\x98\xba"
     "b",
     false, false},
    {"a[^a][^a][^a]b",
     "a\xe2\x98\xba"
     "b",
     false, false},
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

static void path_match_as_go(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(match_tests); i++) {
        const char *p = match_tests[i].pattern, *n = match_tests[i].name;
        int got = gomod_path_match(p, strlen(p), n, strlen(n));
        int want = match_tests[i].bad ? -EINVAL : match_tests[i].match;
        expect(got == want, "path.Match(%s, %s) = %d, want %d", p, n, got, want);
    }
    TABLE_END();
}

/* module_test.go's TestMatchPrefixPatterns, plus lists as operators write them. */
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
    /* lists as GOPRIVATE is usually written */
    {"corp.example.com,github.com/acme", "github.com/acme/tool", true},
    {"corp.example.com,github.com/acme", "github.com/acmeco/tool", false},
    {"corp.example.com,github.com/acme", "corp.example.com", true},
    {"*.corp.example.com", "git.corp.example.com/x/y", true},
    {"*.corp.example.com", "corp.example.com/x", false},
    {"example.com/Upper", "example.com/Upper/Lib", true},
    {"example.com/upper", "example.com/Upper/Lib", false},
    /* a malformed glob matches nothing, the others still count */
    {"[,example.com", "example.com/multi", true},
    {"[", "[", false},
};

static void prefix_patterns_as_go(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(prefix_tests); i++) {
        bool got = modpath_match_prefix_patterns(prefix_tests[i].globs, prefix_tests[i].target);
        expect(got == prefix_tests[i].want, "MatchPrefixPatterns(%s, %s) = %d, want %d",
               prefix_tests[i].globs, prefix_tests[i].target, got, prefix_tests[i].want);
    }
    TABLE_END();
}

static void lists_are_checked_whole(void **state)
{
    (void)state;
    cache_err_t err = {0};
    assert_int_equal(modpath_prefix_patterns_check("", &err), 0);
    assert_int_equal(modpath_prefix_patterns_check(",,", &err), 0);
    assert_int_equal(modpath_prefix_patterns_check("corp.example.com,*.acme.io/,x/[a-c]*", &err), 0);
    assert_int_equal(modpath_prefix_patterns_check("ok.example.com,bad.example.com/[x", &err), -EINVAL);
    assert_non_null(strstr(err.msg, "\"bad.example.com/[x\""));
    assert_non_null(strstr(err.msg, "syntax error in pattern"));
    /* malformed past a part that would already fail to match "" */
    assert_int_equal(modpath_prefix_patterns_check("abc\\", &err), -EINVAL);
    assert_int_equal(modpath_prefix_patterns_check("a*[", &err), -EINVAL);
    assert_int_equal(modpath_prefix_patterns_check(NULL, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_match_as_go),
        cmocka_unit_test(prefix_patterns_as_go),
        cmocka_unit_test(lists_are_checked_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
