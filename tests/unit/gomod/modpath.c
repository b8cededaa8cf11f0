/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/gomod/modpath.c and semver.c. The tables are golang.org/x/mod v0.7.0's own
 * (module_test.go, semver_test.go, pseudo_test.go), so the C rules are held to the cases Go holds
 * its rules to. A table test reports every failing row, then fails once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gomod.h"
#include "expect.h"


/* module_test.go checkPathTests: path, CheckPath ok, CheckImportPath ok, CheckFilePath ok. */
static const struct {
    const char *path;
    bool ok, import_ok, file_ok;
} check_path_tests[] = {
    {"x.y/z", true, true, true},
    {"x.y", true, true, true},

    {"", false, false, false},
    {"x.y/\xFFz", false, false, false},
    {"/x.y/z", false, false, false},
    {"x./z", false, false, false},
    {".x/z", false, true, true},
    {"-x/z", false, false, true},
    {"x..y/z", true, true, true},
    {"x.y/z/../../w", false, false, false},
    {"x.y//z", false, false, false},
    {"x.y/z//w", false, false, false},
    {"x.y/z/", false, false, false},

    {"x.y/z/v0", false, true, true},
    {"x.y/z/v1", false, true, true},
    {"x.y/z/v2", true, true, true},
    {"x.y/z/v2.0", false, true, true},
    {"X.y/z", false, true, true},

    {"!x.y/z", false, false, true},
    {"_x.y/z", false, true, true},
    {"x.y!/z", false, false, true},
    {"x.y\"/z", false, false, false},
    {"x.y#/z", false, false, true},
    {"x.y$/z", false, false, true},
    {"x.y%/z", false, false, true},
    {"x.y&/z", false, false, true},
    {"x.y'/z", false, false, false},
    {"x.y(/z", false, false, true},
    {"x.y)/z", false, false, true},
    {"x.y*/z", false, false, false},
    {"x.y+/z", false, true, true},
    {"x.y,/z", false, false, true},
    {"x.y-/z", true, true, true},
    {"x.y./zt", false, false, false},
    {"x.y:/z", false, false, false},
    {"x.y;/z", false, false, false},
    {"x.y</z", false, false, false},
    {"x.y=/z", false, false, true},
    {"x.y>/z", false, false, false},
    {"x.y?/z", false, false, false},
    {"x.y@/z", false, false, true},
    {"x.y[/z", false, false, true},
    {"x.y\\/z", false, false, false},
    {"x.y]/z", false, false, true},
    {"x.y^/z", false, false, true},
    {"x.y_/z", false, true, true},
    {"x.y`/z", false, false, false},
    {"x.y{/z", false, false, true},
    {"x.y}/z", false, false, true},
    {"x.y~/z", false, true, true},
    {"x.y/z!", false, false, true},
    {"x.y/z\"", false, false, false},
    {"x.y/z#", false, false, true},
    {"x.y/z$", false, false, true},
    {"x.y/z%", false, false, true},
    {"x.y/z&", false, false, true},
    {"x.y/z'", false, false, false},
    {"x.y/z(", false, false, true},
    {"x.y/z)", false, false, true},
    {"x.y/z*", false, false, false},
    {"x.y/z++", false, true, true},
    {"x.y/z,", false, false, true},
    {"x.y/z-", true, true, true},
    {"x.y/z.t", true, true, true},
    {"x.y/z/t", true, true, true},
    {"x.y/z:", false, false, false},
    {"x.y/z;", false, false, false},
    {"x.y/z<", false, false, false},
    {"x.y/z=", false, false, true},
    {"x.y/z>", false, false, false},
    {"x.y/z?", false, false, false},
    {"x.y/z@", false, false, true},
    {"x.y/z[", false, false, true},
    {"x.y/z\\", false, false, false},
    {"x.y/z]", false, false, true},
    {"x.y/z^", false, false, true},
    {"x.y/z_", true, true, true},
    {"x.y/z`", false, false, false},
    {"x.y/z{", false, false, true},
    {"x.y/z}", false, false, true},
    {"x.y/z~", true, true, true},
    {"x.y/x.foo", true, true, true},
    {"x.y/aux.foo", false, false, false},
    {"x.y/prn", false, false, false},
    {"x.y/prn2", true, true, true},
    {"x.y/com", true, true, true},
    {"x.y/com1", false, false, false},
    {"x.y/com1.txt", false, false, false},
    {"x.y/calm1", true, true, true},
    {"x.y/z~", true, true, true},
    {"x.y/z~0", false, false, true},
    {"x.y/z~09", false, false, true},
    {"x.y/z09", true, true, true},
    {"x.y/z09~", true, true, true},
    {"x.y/z09~09z", true, true, true},
    {"x.y/z09~09z~09", false, false, true},
    {"github.com/!123/logrus", false, false, true},
    {"github.com/user/unicode/испытание", false, false, true},
    {"../x", false, false, false},
    {"./y", false, false, false},
    {"x:y", false, false, false},
    {"\\temp\\foo", false, false, false},
    {".gitignore", false, true, true},
    {".github/ISSUE_TEMPLATE", false, true, true},
    {"x☺y", false, false, false},

    /* Beyond Go's table: gopkg.in suffixes, first-element rules, bytes Go rejects as invalid UTF-8. */
    {"gopkg.in/yaml.v2", true, true, true},
    {"gopkg.in/yaml.v0", true, true, true},
    {"gopkg.in/yaml.v1-unstable", true, true, true},
    {"gopkg.in/yaml", false, true, true},
    {"gopkg.in/yaml.v01", false, true, true},
    {"gopkg.in/yaml/v2", false, true, true},
    {"example.com/m/v10", true, true, true},
    {"example.com/m/v02", false, true, true},
    {"example.com/m/v", true, true, true},
    {"example.com/v2", true, true, true},
    {"-example.com/m", false, false, true},
    {"exa_mple.com/m", false, true, true},
    {"example/m", false, true, true},
    {"example.com/CON.d", false, false, false},
    {"example.com/m/a b", false, false, true},
    {"a/b.", false, false, false},
    {"a/..", false, false, false},
    {"a/...b", false, true, true},
    {"a/x\xc3\xa9", false, false, true},          /* é, a letter */
    {"a/x\xc0\xa9", false, false, false},         /* overlong encoding */
    {"a/x\xed\xa0\x80", false, false, false},     /* surrogate half */
    {"a/x\xf4\x90\x80\x80", false, false, false}, /* past U+10FFFF */
    {"a/\xe2\x84\xaa", false, false, true},       /* U+212A KELVIN SIGN is a letter */
    {"a/\xef\xbc\x90", false, false, false},      /* U+FF10 FULLWIDTH DIGIT ZERO is not */
    {"a/\xf0\x9d\x90\x80", false, false, true},   /* U+1D400 MATHEMATICAL BOLD CAPITAL A */
    {"a/x\t", false, false, false},
};

static void test_check_path_tables(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(check_path_tests); i++) {
        const char *p = check_path_tests[i].path;
        cache_err_t err = {0};
        int rc = modpath_check(p, &err);
        expect((rc == 0) == check_path_tests[i].ok, "CheckPath(%s) = %d (%s), want ok=%d", p, rc, err.msg,
               check_path_tests[i].ok);
        expect(rc == 0 || rc == -EINVAL, "CheckPath(%s) = %d, want 0 or -EINVAL", p, rc);
        rc = modpath_check_import(p, &err);
        expect((rc == 0) == check_path_tests[i].import_ok, "CheckImportPath(%s) = %d (%s), want ok=%d", p, rc,
               err.msg, check_path_tests[i].import_ok);
        rc = modpath_check_file(p, &err);
        expect((rc == 0) == check_path_tests[i].file_ok, "CheckFilePath(%s) = %d (%s), want ok=%d", p, rc,
               err.msg, check_path_tests[i].file_ok);
    }
    TABLE_END();
}

static void test_check_path_messages(void **state)
{
    (void)state;
    static const struct {
        const char *path, *msg;
        int (*fn)(const char *, cache_err_t *);
    } cases[] = {
        {"x.y/z/v1", "malformed module path \"x.y/z/v1\": invalid version", modpath_check},
        {"xy/z", "malformed module path \"xy/z\": missing dot in first path element", modpath_check},
        {"x.y//z", "malformed module path \"x.y//z\": double slash", modpath_check},
        {"X.y/z", "malformed module path \"X.y/z\": invalid char 'X' in first path element", modpath_check},
        {"x.y/.z", "malformed module path \"x.y/.z\": leading dot in path element", modpath_check},
        {"x.y/z~1", "malformed import path \"x.y/z~1\": trailing tilde and digits in path element",
         modpath_check_import},
        {"a/Com1.txt",
         "malformed file path \"a/Com1.txt\": \"Com1\" disallowed as path element component on Windows",
         modpath_check_file},
        {"a/b\n", "malformed file path \"a/b\\x0a\": invalid char U+000A", modpath_check_file},
        {"", "malformed file path \"\": empty string", modpath_check_file},
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(cases); i++) {
        cache_err_t err = {0};
        int rc = cases[i].fn(cases[i].path, &err);
        expect(rc == -EINVAL && strcmp(err.msg, cases[i].msg) == 0, "check(%s) = %d \"%s\", want \"%s\"",
               cases[i].path, rc, err.msg, cases[i].msg);
    }
    TABLE_END();
    /* A NULL cache_err_t is allowed everywhere. */
    assert_int_equal(modpath_check("x.y/z/v1", NULL), -EINVAL);
}

/* module_test.go checkTests, plus the go command's +incompatible and canonical-form rules. */
static const struct {
    const char *path, *version;
    bool ok;
} check_tests[] = {
    {"rsc.io/quote", "0.1.0", false},
    {"rsc io/quote", "v1.0.0", false},

    {"github.com/go-yaml/yaml", "v0.8.0", true},
    {"github.com/go-yaml/yaml", "v1.0.0", true},
    {"github.com/go-yaml/yaml", "v2.0.0", false},
    {"github.com/go-yaml/yaml", "v2.1.5", false},
    {"github.com/go-yaml/yaml", "v3.0.0", false},

    {"github.com/go-yaml/yaml/v2", "v1.0.0", false},
    {"github.com/go-yaml/yaml/v2", "v2.0.0", true},
    {"github.com/go-yaml/yaml/v2", "v2.1.5", true},
    {"github.com/go-yaml/yaml/v2", "v3.0.0", false},

    {"gopkg.in/yaml.v0", "v0.8.0", true},
    {"gopkg.in/yaml.v0", "v1.0.0", false},
    {"gopkg.in/yaml.v0", "v2.0.0", false},
    {"gopkg.in/yaml.v0", "v2.1.5", false},
    {"gopkg.in/yaml.v0", "v3.0.0", false},

    {"gopkg.in/yaml.v1", "v0.8.0", false},
    {"gopkg.in/yaml.v1", "v1.0.0", true},
    {"gopkg.in/yaml.v1", "v2.0.0", false},
    {"gopkg.in/yaml.v1", "v2.1.5", false},
    {"gopkg.in/yaml.v1", "v3.0.0", false},

    {"gopkg.in/check.v1", "v0.0.0", false},
    {"gopkg.in/check.v1", "v0.0.0-20160102150405-abcdef123456", true},

    {"gopkg.in/yaml.v2", "v1.0.0", false},
    {"gopkg.in/yaml.v2", "v2.0.0", true},
    {"gopkg.in/yaml.v2", "v2.1.5", true},
    {"gopkg.in/yaml.v2", "v3.0.0", false},

    {"rsc.io/quote", "v17.0.0", false},
    {"rsc.io/quote", "v17.0.0+incompatible", true},

    /* MatchPathMajor cases from module_test.go, as full module paths. */
    {"example.com/m", "v0.0.0", true},
    {"example.com/m/v2", "v0.0.0", false},
    {"gopkg.in/m.v1", "v0.0.0-20190510104115-cbcb75029529", true},
    {"example.com/m/v2", "v1.0.0", false},
    {"gopkg.in/m.v1-unstable", "v1.0.0", true},
    {"example.com/m", "v2.0.0+incompatible", true},
    {"example.com/m", "v2.0.0", false},
    {"example.com/m/v2", "v2.0.0", true},
    {"gopkg.in/m.v2", "v2.0.0", true},

    /* Canonical form (module.CanonicalVersion(v) == v), as the go command requires of .mod/.zip. */
    {"example.com/m", "v1.2", false},
    {"example.com/m", "v1", false},
    {"example.com/m", "v1.2.3+meta", false},
    {"example.com/m", "v1.2.3-pre", true},
    {"example.com/m", "v1.2.4-0.20191109021931-daa7c04131f5", true},
    {"example.com/m", "v2.0.1-0.20191109021931-daa7c04131f5+incompatible", true},
    {"example.com/m", "V1.0.0", false},
    {"example.com/m", "", false},
    /* +incompatible only above v1 and only without a major suffix. */
    {"example.com/m", "v1.0.0+incompatible", false},
    {"example.com/m", "v0.1.0+incompatible", false},
    {"example.com/m/v2", "v2.0.0+incompatible", false},
    {"gopkg.in/m.v2", "v2.0.0+incompatible", false},
    {"example.com/m/v3", "v3.1.0", true},
    {"example.com/m/v10", "v10.0.0", true},
    {"example.com/m/v10", "v1.0.0", false},
    {"x.y/z/v1", "v1.0.0", false},
};

static void test_modversion_check(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(check_tests); i++) {
        cache_err_t err = {0};
        int rc = modversion_check(check_tests[i].path, check_tests[i].version, &err);
        expect((rc == 0) == check_tests[i].ok, "Check(%s, %s) = %d (%s), want ok=%d", check_tests[i].path,
               check_tests[i].version, rc, err.msg, check_tests[i].ok);
    }
    TABLE_END();

    cache_err_t err = {0};
    assert_int_equal(modversion_check("example.com/m/v2", "v1.0.0", &err), -EINVAL);
    assert_string_equal(err.msg, "example.com/m/v2@v1.0.0: invalid version: should be v2, not v1");
    assert_int_equal(modversion_check("example.com/m", "v3.0.0", &err), -EINVAL);
    assert_string_equal(err.msg, "example.com/m@v3.0.0: invalid version: should be v0 or v1, not v3");
    assert_int_equal(modversion_check("example.com/m", "v1.2", &err), -EINVAL);
    assert_string_equal(err.msg, "example.com/m@v1.2: invalid version: not canonical (should be v1.2.0)");
    assert_int_equal(modversion_check("rsc.io/quote", "0.1.0", &err), -EINVAL);
    assert_string_equal(err.msg, "rsc.io/quote@0.1.0: invalid version: not a semantic version");
    assert_int_equal(modversion_check("example.com/m", "v1\n", &err), -EINVAL);
    assert_string_equal(err.msg, "example.com/m@\"v1\\x0a\": invalid version: not a semantic version");
    assert_int_equal(modversion_check("example.com/m", "v1.0.0+incompatible", &err), -EINVAL);
    assert_string_equal(err.msg,
                        "example.com/m@v1.0.0+incompatible: invalid version: +incompatible suffix not "
                        "allowed: major version v1 is compatible");
}

/* module_test.go escapeTests and badUnescape. */
static void test_escape_path(void **state)
{
    (void)state;
    static const struct {
        const char *path, *esc;
    } escape_tests[] = {
        {"ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789",
         "ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789"},
        {"github.com/GoogleCloudPlatform/omega", "github.com/!google!cloud!platform/omega"},
        {"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
        {"github.com/Azure/azure-sdk-for-go", "github.com/!azure/azure-sdk-for-go"},
    };
    static const char *const bad_unescape[] = {
        "github.com/GoogleCloudPlatform/omega",
        "github.com/!google!cloud!platform!/omega",
        "github.com/!0google!cloud!platform/omega",
        "github.com/!_google!cloud!platform/omega",
        "github.com/!!google!cloud!platform/omega",
        "",
        "github.com/!burnt!sushi/toml!",
        "github.com/\xc3\xa9/x",
    };
    char out[MODKEY_MAX + 1];
    TABLE_BEGIN();
    for (size_t i = 0; i < N(escape_tests); i++) {
        int n = modpath_escape(escape_tests[i].path, out, sizeof out);
        expect(n == (int)strlen(escape_tests[i].esc) && strcmp(out, escape_tests[i].esc) == 0,
               "EscapePath(%s) = %d %s, want %s", str(escape_tests[i].path), n, n >= 0 ? out : "",
               str(escape_tests[i].esc));
        cache_err_t err = {0};
        n = modpath_unescape(escape_tests[i].esc, strlen(escape_tests[i].esc), out, sizeof out, &err);
        expect(n == (int)strlen(escape_tests[i].path) && strcmp(out, escape_tests[i].path) == 0,
               "UnescapePath(%s) = %d %s (%s), want %s", escape_tests[i].esc, n, n >= 0 ? out : "", err.msg,
               escape_tests[i].path);
    }
    for (size_t i = 0; i < N(bad_unescape); i++) {
        cache_err_t err = {0};
        int n = modpath_unescape(bad_unescape[i], strlen(bad_unescape[i]), out, sizeof out, &err);
        expect(n == -EINVAL && err.msg[0] != '\0', "UnescapePath(%s) = %d, want -EINVAL", bad_unescape[i], n);
    }
    /* Every path CheckPath rejects is rejected by EscapePath and (as text) by UnescapePath. */
    for (size_t i = 0; i < N(check_path_tests); i++) {
        if (check_path_tests[i].ok)
            continue;
        const char *p = check_path_tests[i].path;
        expect(modpath_escape(p, out, sizeof out) == -EINVAL, "EscapePath(%s) succeeded, want -EINVAL", p);
        expect(modpath_unescape(p, strlen(p), out, sizeof out, NULL) < 0, "UnescapePath(%s) succeeded", p);
    }
    TABLE_END();

    /* The length is explicit: a NUL inside is a bad byte, not the end. */
    assert_int_equal(modpath_unescape("x.y/z\0w", 7, out, sizeof out, NULL), -EINVAL);
    assert_int_equal(modpath_unescape("x.y/zzz", 5, out, sizeof out, NULL), 5);
    assert_string_equal(out, "x.y/z");
    /* Too small an output buffer is reported, never overrun. */
    char small[8];
    assert_int_equal(modpath_escape("github.com/Azure/x", small, sizeof small), -ENAMETOOLONG);
    assert_int_equal(modpath_unescape("github.com/x", 12, small, sizeof small, NULL), -ENAMETOOLONG);
    assert_int_equal(modpath_escape("example.com/x", out, 14), 13);
    assert_int_equal(modpath_escape("example.com/x", out, 13), -ENAMETOOLONG);
}

static void test_escape_version(void **state)
{
    (void)state;
    static const struct {
        const char *v, *esc;
    } good[] = {
        {"v1.2.3", "v1.2.3"},
        {"v1.2.3-RC.1", "v1.2.3-!r!c.1"},
        {"master", "master"},
        {"Feature-X", "!feature-!x"},
        {"v2.0.0+incompatible", "v2.0.0+incompatible"},
        {"a b", "a b"},
    };
    static const char *const bad[] = {"", ".", "..", "a/b", "v1!", "con", "x.", "a\nb", "a\"b", "\xc3\xa9"};
    static const char *const bad_unescape[] = {"V1.0.0", "v1.0.0-!", "v1.0.0-!1", "!!a",
                                               "..",     "a/b",      "nul.txt",   ""};
    char out[256];
    TABLE_BEGIN();
    for (size_t i = 0; i < N(good); i++) {
        int n = modversion_escape(good[i].v, out, sizeof out);
        expect(n >= 0 && strcmp(out, good[i].esc) == 0, "EscapeVersion(%s) = %d %s, want %s", good[i].v, n,
               n >= 0 ? out : "", good[i].esc);
        n = modversion_unescape(good[i].esc, strlen(good[i].esc), out, sizeof out, NULL);
        expect(n >= 0 && strcmp(out, good[i].v) == 0, "UnescapeVersion(%s) = %d %s, want %s", good[i].esc, n,
               n >= 0 ? out : "", good[i].v);
    }
    for (size_t i = 0; i < N(bad); i++)
        expect(modversion_escape(bad[i], out, sizeof out) == -EINVAL, "EscapeVersion(%s) succeeded", bad[i]);
    for (size_t i = 0; i < N(bad_unescape); i++) {
        cache_err_t err = {0};
        int n = modversion_unescape(bad_unescape[i], strlen(bad_unescape[i]), out, sizeof out, &err);
        expect(n == -EINVAL && err.msg[0] != '\0', "UnescapeVersion(%s) = %d, want -EINVAL", bad_unescape[i],
               n);
    }
    TABLE_END();
}

/* semver_test.go tests: input and its canonical form ("" when invalid), in increasing order. */
static const struct {
    const char *in, *out;
} semver_tests[] = {
    {"bad", ""},
    {"v1-alpha.beta.gamma", ""},
    {"v1-pre", ""},
    {"v1+meta", ""},
    {"v1-pre+meta", ""},
    {"v1.2-pre", ""},
    {"v1.2+meta", ""},
    {"v1.2-pre+meta", ""},
    {"v1.0.0-alpha", "v1.0.0-alpha"},
    {"v1.0.0-alpha.1", "v1.0.0-alpha.1"},
    {"v1.0.0-alpha.beta", "v1.0.0-alpha.beta"},
    {"v1.0.0-beta", "v1.0.0-beta"},
    {"v1.0.0-beta.2", "v1.0.0-beta.2"},
    {"v1.0.0-beta.11", "v1.0.0-beta.11"},
    {"v1.0.0-rc.1", "v1.0.0-rc.1"},
    {"v1", "v1.0.0"},
    {"v1.0", "v1.0.0"},
    {"v1.0.0", "v1.0.0"},
    {"v1.2", "v1.2.0"},
    {"v1.2.0", "v1.2.0"},
    {"v1.2.3-456", "v1.2.3-456"},
    {"v1.2.3-456.789", "v1.2.3-456.789"},
    {"v1.2.3-456-789", "v1.2.3-456-789"},
    {"v1.2.3-456a", "v1.2.3-456a"},
    {"v1.2.3-pre", "v1.2.3-pre"},
    {"v1.2.3-pre+meta", "v1.2.3-pre"},
    {"v1.2.3-pre.1", "v1.2.3-pre.1"},
    {"v1.2.3-zzz", "v1.2.3-zzz"},
    {"v1.2.3", "v1.2.3"},
    {"v1.2.3+meta", "v1.2.3"},
    {"v1.2.3+meta-pre", "v1.2.3"},
    {"v1.2.3+meta-pre.sha.256a", "v1.2.3"},
};

static void test_semver(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(semver_tests); i++) {
        const char *in = semver_tests[i].in, *out = semver_tests[i].out;
        bool valid = out[0] != '\0';
        expect(semver_is_valid(in) == valid, "IsValid(%s) = %d, want %d", in, !valid, valid);
        bool canonical = valid && strcmp(in, out) == 0;
        expect(semver_is_canonical(in) == canonical, "Canonical(%s) == v: %d, want %d", in, !canonical,
               canonical);
        bool pre = valid && strchr(out, '-') != NULL;
        expect(semver_is_prerelease(in) == pre, "Prerelease(%s) != \"\": %d, want %d", in, !pre, pre);
        for (size_t j = 0; j < N(semver_tests); j++) {
            int want = strcmp(out, semver_tests[j].out) == 0 ? 0 : i < j ? -1 : 1;
            int got = semver_compare(in, semver_tests[j].in);
            expect(got == want, "Compare(%s, %s) = %d, want %d", in, semver_tests[j].in, got, want);
        }
    }
    /* Corners of the grammar: leading zeros, empty identifiers, big numbers. */
    static const struct {
        const char *v;
        bool valid;
    } extra[] = {
        {"v01.0.0", false},     {"v1.01.0", false},  {"v1.0.01", false},
        {"v1.0.0-01", false},   {"v1.0.0-0", true},  {"v1.0.0-x.01", false},
        {"v1.0.0-x..y", false}, {"v1.0.0-", false},  {"v1.0.0+", false},
        {"v1.0.0+a..b", false}, {"v1.0.0+01", true}, {"v1.0.0-a+b+c", false},
        {"v1.0.0 ", false},     {"1.0.0", false},    {"v", false},
        {"v1.", false},         {"v1.0.", false},    {"v0.0.0", true},
        {"v1.2.3-a_b", false},  {"", false},         {"v99999999999999999999.0.0", true},
    };
    for (size_t i = 0; i < N(extra); i++)
        expect(semver_is_valid(extra[i].v) == extra[i].valid, "IsValid(%s), want %d", extra[i].v,
               extra[i].valid);
    expect(semver_compare("v10.0.0", "v9.0.0") > 0, "v10 > v9");
    expect(semver_compare("v1.0.0-10", "v1.0.0-9") > 0, "numeric prerelease compare");
    expect(semver_compare("v1.0.0-a", "v1.0.0-10") > 0, "word after number");
    expect(semver_compare("v1.0.0-a.b", "v1.0.0-a") > 0, "longer wins");
    expect(semver_compare("v1.0.0-ab", "v1.0.0-a") > 0, "prefix sorts first");
    expect(semver_compare("v99999999999999999999.0.0", "v9999999999999999999.0.0") > 0, "big numbers");
    expect(semver_compare("bad", "") == 0, "invalid equal");
    TABLE_END();
}

/* pseudo_test.go pseudoTests (version is a pseudo-version, older is not) and more. */
static void test_pseudo(void **state)
{
    (void)state;
    static const struct {
        const char *older, *version;
    } pseudo_tests[] = {
        {"", "v0.0.0-20060102150405-hash"},
        {"", "v1.0.0-20060102150405-hash"},
        {"", "v2.0.0-20060102150405-hash"},
        {"v0.0.0", "v0.0.1-0.20060102150405-hash"},
        {"v1.2.3", "v1.2.4-0.20060102150405-hash"},
        {"v1.2.99999999999999999", "v1.2.100000000000000000-0.20060102150405-hash"},
        {"v1.2.3-pre", "v1.2.3-pre.0.20060102150405-hash"},
        {"v1.3.0-pre", "v1.3.0-pre.0.20060102150405-hash"},
        {"v0.0.0--", "v0.0.0--.0.20060102150405-hash"},
        {"v1.0.0+metadata", "v1.0.1-0.20060102150405-hash+metadata"},
        {"v2.0.0+incompatible", "v2.0.1-0.20060102150405-hash+incompatible"},
        {"v2.3.0-pre+incompatible", "v2.3.0-pre.0.20060102150405-hash+incompatible"},
    };
    static const struct {
        const char *v;
        bool pseudo;
    } extra[] = {
        {"v0.0.0-20191109021931-daa7c04131f5", true},
        {"v1.2.3-alpha.beta.0.20191109021931-daa7c04131f5", true},
        {"v1.2.3-a+b.0.20191109021931-daa7c04131f5", false}, /* '+' before the date: build, not prerelease */
        {"v0.0.0-2019110902193-daa7c04131f5", false},        /* 13 digits */
        {"v0.0.0-201911090219311-daa7c04131f5", false},      /* 15 digits */
        {"v0.0.0-20191109021931-", false},
        {"v0.0.0-20191109021931-daa7c04131f5+", false},
        {"v0.0.0-20191109021931-daa_7c04131f5", false},
        {"v1.2.4-1.20191109021931-daa7c04131f5", false}, /* the segment before the date must be 0 */
        {"v1.2.4-0.20191109021931-daa7c04131f5+a.b-c", true},
        {"v1.2.3-pre.1.0.20191109021931-daa7c04131f5", true},
        {"v1.2.3", false},
        {"---", false},
        {"v0.0.0-0.20060102150405-hash", true},
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(pseudo_tests); i++) {
        expect(semver_is_pseudo(pseudo_tests[i].version), "IsPseudoVersion(%s) = false",
               pseudo_tests[i].version);
        expect(!semver_is_pseudo(pseudo_tests[i].older), "IsPseudoVersion(%s) = true", pseudo_tests[i].older);
    }
    for (size_t i = 0; i < N(extra); i++)
        expect(semver_is_pseudo(extra[i].v) == extra[i].pseudo, "IsPseudoVersion(%s), want %d", extra[i].v,
               extra[i].pseudo);
    TABLE_END();
}

/* GOPROXY keys as the fronts hand them over (percent-decoded, no leading '/'). */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_path_tables),
        cmocka_unit_test(test_check_path_messages),
        cmocka_unit_test(test_modversion_check),
        cmocka_unit_test(test_escape_path),
        cmocka_unit_test(test_escape_version),
        cmocka_unit_test(test_semver),
        cmocka_unit_test(test_pseudo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
