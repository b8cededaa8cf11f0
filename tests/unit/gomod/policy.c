/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/gomod/policy.c: parsing allow and deny rules with version ranges, and which
 * module versions they refuse.
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

static const struct {
    const char *allow, *deny, *module, *version;
    bool refused;
    const char *why; /* a substring of the reason, when refused */
} check_tests[] = {
    {NULL, NULL, "github.com/x/y", "v1.0.0", false, NULL},
    {"", "", "github.com/x/y", "v1.0.0", false, NULL},
    /* a whole module, and everything under a prefix */
    {NULL, "github.com/x/y", "github.com/x/y", "v1.0.0", true, "deny rule \"github.com/x/y\""},
    {NULL, "github.com/x/y", "github.com/x/y", "", true, "github.com/x/y is refused"},
    {NULL, "github.com/x/y", "github.com/x/y/v2", "v2.0.0", true, NULL},
    {NULL, "github.com/x/y", "github.com/x/yz", "v1.0.0", false, NULL},
    {NULL, "github.com/x", "github.com/x/z", "v0.1.0", true, NULL},
    {NULL, "*.corp.example", "git.corp.example/a", "v1.0.0", true, NULL},
    /* ranges */
    {NULL, "github.com/x/y@<v1.4.2", "github.com/x/y", "v1.4.1", true, "@<v1.4.2"},
    {NULL, "github.com/x/y@<v1.4.2", "github.com/x/y", "v1.4.2", false, NULL},
    {NULL, "github.com/x/y@<v1.4.2", "github.com/x/y", "v1.4.2-0.20200101000000-abcdefabcdef", true, NULL},
    {NULL, "github.com/x/y@<=v1.4.2", "github.com/x/y", "v1.4.2", true, NULL},
    {NULL, "github.com/x/y@>v1.4.2", "github.com/x/y", "v1.4.2", false, NULL},
    {NULL, "github.com/x/y@>v1.4.2", "github.com/x/y", "v1.10.0", true, NULL},
    {NULL, "github.com/x/y@>=v1.4.2", "github.com/x/y", "v1.4.2", true, NULL},
    {NULL, "github.com/x/y@=v1.4.2", "github.com/x/y", "v1.4.2", true, NULL},
    {NULL, "github.com/x/y@=v1.4.2", "github.com/x/y", "v1.4.3", false, NULL},
    {NULL, "github.com/x/y@>=v2.0.0", "github.com/x/y", "v2.1.0+incompatible", true, NULL},
    /* a ranged deny rule leaves list and @latest alone, but refuses queries */
    {NULL, "github.com/x/y@<v1.4.2", "github.com/x/y", "", false, NULL},
    {NULL, "github.com/x/y@<v1.4.2", "github.com/x/y", "master", true, NULL},
    /* several rules, spaces around them */
    {NULL, "a.example/one, github.com/x/y@<v1.0.0 ,", "github.com/x/y", "v0.9.0", true, "@<v1.0.0"},
    /* allow lists */
    {"github.com/ok", NULL, "github.com/ok/lib", "v1.0.0", false, NULL},
    {"github.com/ok", NULL, "github.com/other/lib", "v1.0.0", true, "no allow rule"},
    {"github.com/ok@>=v1.2.0", NULL, "github.com/ok", "v1.1.0", true, "no allow rule"},
    {"github.com/ok@>=v1.2.0", NULL, "github.com/ok", "v1.2.0", false, NULL},
    {"github.com/ok@>=v1.2.0", NULL, "github.com/ok", "", false, NULL},
    {"github.com/ok@>=v1.2.0", NULL, "github.com/ok", "master", true, NULL},
    /* deny wins over allow */
    {"github.com/ok", "github.com/ok@=v1.3.0", "github.com/ok", "v1.3.0", true, "deny rule"},
    {"github.com/ok", "github.com/ok@=v1.3.0", "github.com/ok", "v1.3.1", false, NULL},
};

static void test_check(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(check_tests); i++) {
        modpolicy_t *p = NULL;
        cache_err_t err = {0};
        int rc = modpolicy_new(check_tests[i].allow, check_tests[i].deny, &p, &err);
        expect(rc == 0, "row %zu: parse: %s", i, err.msg);
        if (rc != 0)
            continue;
        err.msg[0] = '\0';
        rc = modpolicy_check(p, check_tests[i].module, check_tests[i].version, &err);
        bool refused = rc == -EACCES;
        expect(refused == check_tests[i].refused && (rc == 0 || rc == -EACCES),
               "row %zu: %s@%s: rc %d (%s), want refused=%d", i, check_tests[i].module, check_tests[i].version, rc,
               err.msg, check_tests[i].refused);
        if (refused && check_tests[i].why != NULL)
            expect(strstr(err.msg, check_tests[i].why) != NULL, "row %zu: reason \"%s\" lacks \"%s\"", i, err.msg,
                   check_tests[i].why);
        modpolicy_free(p);
    }
    TABLE_END();
}

static const struct {
    const char *allow, *deny, *why;
} bad_tests[] = {
    {NULL, "github.com/x/y@v1.0.0", "must start with"},
    {NULL, "github.com/x/y@<", "not a semantic version"},
    {NULL, "github.com/x/y@<1.0.0", "not a semantic version"},
    {NULL, "github.com/x/y@~v1.0.0", "must start with"},
    {NULL, "@<v1.0.0", "no module pattern"},
    {"[bad", NULL, "syntax error"},
    {"ok.example,a b", NULL, "space"},
};

static void test_bad_rules(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(bad_tests); i++) {
        modpolicy_t *p = NULL;
        cache_err_t err = {0};
        int rc = modpolicy_new(bad_tests[i].allow, bad_tests[i].deny, &p, &err);
        expect(rc == -EINVAL && p == NULL, "row %zu: rc %d, want -EINVAL", i, rc);
        expect(strstr(err.msg, bad_tests[i].why) != NULL, "row %zu: reason \"%s\" lacks \"%s\"", i, err.msg,
               bad_tests[i].why);
        modpolicy_free(p);
    }
    TABLE_END();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_bad_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
