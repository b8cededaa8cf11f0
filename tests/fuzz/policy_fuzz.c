/* SPDX-License-Identifier: MIT */
/*
 * policy_fuzz.c — libFuzzer target for the glob lists and rules an operator writes (--private,
 * --allow, --deny; cache/gomod/pattern.c and policy.c), matched against module paths and
 * versions that come from requests.
 *
 * Input: fields separated by '\n' — allow rules, deny rules, module path, version. Beyond "does
 * not crash" it checks: a glob list that passes modpath_patterns_check never reports a syntax
 * error while matching; a refusal is -EACCES with a reason; a module denied whole stays denied at
 * every version.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gomod.h"

static char *field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *e = nl ? nl : end;
    char *s = strndup((const char *)*p, (size_t)(e - *p));
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *allow = field(&p, end), *deny = field(&p, end), *module = field(&p, end), *version = field(&p, end);
    if (!allow || !deny || !module || !version)
        goto out;

    cache_err_t err = {0};
    if (modpath_patterns_check(deny, &err) == 0) {
        /* every glob of the list is well-formed: matching never meets a syntax error */
        const char *g = deny;
        while (*g) {
            size_t n = strcspn(g, ",");
            size_t gl = n > 0 && g[n - 1] == '/' ? n - 1 : n;
            if (gl > 0)
                CHECK(modpath_glob_match(g, gl, module, strlen(module)) >= 0);
            g += n + (g[n] == ',');
        }
    }
    (void)modpath_match_prefix_patterns(allow, module);

    modpolicy_t *pol = NULL;
    if (modpolicy_new(allow, deny, &pol, &err) == 0) {
        cache_err_t why = {0};
        int rc = modpolicy_check(pol, module, version, &why);
        CHECK(rc == 0 || (rc == -EACCES && why.msg[0] != '\0'));
        cache_err_t why2 = {0};
        if (modpolicy_check(pol, module, "", &why2) == -EACCES && strstr(why2.msg, "deny rule") != NULL)
            CHECK(rc == -EACCES);
        modpolicy_free(pol);
    } else {
        CHECK(pol == NULL && err.msg[0] != '\0');
    }
out:
    free(allow);
    free(deny);
    free(module);
    free(version);
    return 0;
}
