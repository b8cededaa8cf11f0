/* SPDX-License-Identifier: MIT */
/* Tests of cache/gomodfile.c and cache/gosum.c: go.mod, go.work and go.sum as the go command reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "expect.h"
#include "gomod.h"

typedef int (*parse_fn)(const char *, size_t, const char *, gomod_file_t *, cache_err_t *);

/* Parses text and renders what came out as "path@version[ mod] line" lines, or the error. */
static void render(parse_fn parse, const char *text, char *out, size_t cap)
{
    gomod_file_t f;
    cache_err_t err = {0};
    int rc = parse(text, strlen(text), "f", &f, &err);
    if (rc != 0) {
        snprintf(out, cap, "error %d: %s", rc, err.msg);
        return;
    }
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < f.nrefs && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s@%s%s %d;", f.refs[i].path, f.refs[i].version,
                              f.refs[i].gomod_only ? " mod" : "", f.refs[i].line);
    for (size_t i = 0; i < f.nuses && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "use %s %d;", f.uses[i].dir, f.uses[i].line);
    gomod_file_dispose(&f);
}

static void check(parse_fn parse, const char *text, const char *want)
{
    char got[2048];
    render(parse, text, got, sizeof got);
    if (want == NULL) { /* any error */
        expect(strncmp(got, "error -22: f:1: ", 16) == 0, "%s\n  got  %s\n  want an error on line 1", text, got);
        return;
    }
    expect(strcmp(got, want) == 0, "%s\n  got  %s\n  want %s", text, got, want);
}

static void gomod_requires(void **state)
{
    (void)state;
    check(gomod_parse_mod, "module example.com/app\n\ngo 1.19\n\nrequire example.com/a v1.0.0\n",
          "example.com/a@v1.0.0 5;");
    check(gomod_parse_mod,
          "module m\nrequire (\n\texample.com/a v1.0.0 // indirect\n\t\"example.com/b\" v1.2.3\n"
          "\t`example.com/c/v2` v2.0.0\n)\n",
          "example.com/a@v1.0.0 3;example.com/b@v1.2.3 4;example.com/c/v2@v2.0.0 5;");
    check(gomod_parse_mod, "// a comment\nrequire example.com/a v1.0.0// no space\r\n", "example.com/a@v1.0.0 2;");
    check(gomod_parse_mod, "require \"example.com/\\u0061\" v1.0.0\n", "example.com/a@v1.0.0 1;");
    check(gomod_parse_mod, "require example.com/old v2.0.0+incompatible\n", "example.com/old@v2.0.0+incompatible 1;");
    check(gomod_parse_mod, "require example.com/a v0.0.0-20200101000000-abcdefabcdef\n",
          "example.com/a@v0.0.0-20200101000000-abcdefabcdef 1;");
    /* directives that name nothing to fetch are read for syntax only */
    check(gomod_parse_mod,
          "module m\ngo 1.21\ntoolchain go1.21.0\nexclude example.com/x v1.0.0\n"
          "retract [v1.0.0, v1.1.0] // oops\ngodebug (\n\tdefault=go1.21\n)\n",
          "");
    check(gomod_parse_mod, "", "");
}

static void gomod_replace(void **state)
{
    (void)state;
    /* a directory replacement drops the require; a module replacement is fetched instead */
    check(gomod_parse_mod,
          "require (\n\texample.com/a v1.0.0\n\texample.com/b v1.0.0\n\texample.com/c v1.0.0\n)\n"
          "replace example.com/a => ./a\n"
          "replace example.com/b v1.0.0 => example.com/fork v1.1.0\n"
          "replace example.com/c v1.5.0 => ../c\n",
          "example.com/fork@v1.1.0 7;example.com/c@v1.0.0 4;");
    check(gomod_parse_mod, "replace (\n\texample.com/a => example.com/b v1.0.0\n)\n", "example.com/b@v1.0.0 2;");
}

static void gomod_errors(void **state)
{
    (void)state;
    check(gomod_parse_mod, "require example.com/a\n", "error -22: f:1: usage: require module/path v1.2.3");
    check(gomod_parse_mod, "module m\nrequire example.com/a v1.0\n",
          "error -22: f:2: require: example.com/a@v1.0: invalid version: not canonical (should be v1.0.0)");
    check(gomod_parse_mod, "require (\n\texample.com/a v1.0.0\n",
          "error -22: f:1: require block is never closed with )");
    check(gomod_parse_mod, "require \"example.com/a v1.0.0\n", "error -22: f:1: unterminated quoted string");
    check(gomod_parse_mod, "/* no */\n", "error -22: f:1: go.mod files use // comments, not /* */");
    check(gomod_parse_mod, "require example.com/a/v2 v1.0.0\n", NULL);
    check(gomod_parse_mod, "require ../evil v1.0.0\n", NULL);
    check(gomod_parse_mod, ")\n", "error -22: f:1: expected a directive (require, replace, ...), not )");
    check(gomod_parse_mod, "replace example.com/a => example.com/b\n",
          "error -22: f:1: replace example.com/a: a replacement module needs a version (or a ./directory)");
    check(gomod_parse_mod, "require x\x01 v1.0.0\n", "error -22: f:1: unexpected character 0x01");
    assert_int_equal(failures, 0);
}

static void gowork(void **state)
{
    (void)state;
    check(gomod_parse_work, "go 1.21\n\nuse (\n\t./app\n\t\"./lib\" // the library\n)\nuse ./tools\n",
          "use ./app 4;use ./lib 5;use ./tools 7;");
    check(gomod_parse_work, "go 1.21\nreplace example.com/a v1.0.0 => example.com/b v1.0.1\n",
          "example.com/b@v1.0.1 2;");
    check(gomod_parse_work, "use\n", "error -22: f:1: usage: use ./dir");
    /* require is not a go.work directive: nothing to fetch */
    check(gomod_parse_work, "require example.com/a v1.0.0\n", "");
    assert_int_equal(failures, 0);
}

static void gosum(void **state)
{
    (void)state;
    check(gomod_parse_sum,
          "example.com/a v1.0.0 h1:AAAA=\nexample.com/a v1.0.0/go.mod h1:BBBB=\n\n"
          "example.com/B v0.1.0/go.mod h1:CCCC=\n",
          "example.com/a@v1.0.0 1;example.com/a@v1.0.0 mod 2;example.com/B@v0.1.0 mod 4;");
    check(gomod_parse_sum, "example.com/a v1.0.0 h1:AAAA= extra\n",
          "error -22: f:1: malformed line: want \"module version hash\"");
    check(gomod_parse_sum, "example.com/a v1.0.0\n", "error -22: f:1: malformed line: want \"module version hash\"");
    check(gomod_parse_sum, "example.com/a v1.0.0 AAAA\n", "error -22: f:1: malformed hash AAAA: want h1:...");
    check(gomod_parse_sum, "example.com/a v1 h1:x\n", NULL);
    gomod_file_t f;
    cache_err_t err = {0};
    assert_int_equal(gomod_parse_sum("a\0b v1.0.0 h1:x\n", 16, "f", &f, &err), -EINVAL);
    assert_string_equal(err.msg, "f: contains a NUL byte: not a text file");
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gomod_requires), cmocka_unit_test(gomod_replace), cmocka_unit_test(gomod_errors),
        cmocka_unit_test(gowork),         cmocka_unit_test(gosum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
