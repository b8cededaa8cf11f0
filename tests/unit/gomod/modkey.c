/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/gomod/modkey.c: the GOPROXY keys modfs's fronts depend on, parsed, made, copied.
 * A table test reports every failing row, then fails once.
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



static const struct {
    const char *key;
    bool ok;
    modkey_kind_t kind;
    bool immutable;
    const char *module, *version;
} key_tests[] = {
    {"golang.org/x/text/@v/v0.7.0.zip", true, MODKEY_ZIP, true, "golang.org/x/text", "v0.7.0"},
    {"golang.org/x/text/@v/v0.7.0.mod", true, MODKEY_MOD, true, "golang.org/x/text", "v0.7.0"},
    {"golang.org/x/text/@v/v0.7.0.info", true, MODKEY_INFO, true, "golang.org/x/text", "v0.7.0"},
    {"golang.org/x/text/@v/list", true, MODKEY_LIST, false, "golang.org/x/text", ""},
    {"golang.org/x/text/@latest", true, MODKEY_LATEST, false, "golang.org/x/text", ""},
    {"github.com/!burnt!sushi/toml/@v/v1.2.0.info", true, MODKEY_INFO, true, "github.com/BurntSushi/toml",
     "v1.2.0"},
    {"github.com/BurntSushi/toml/@v/list", false, 0, false, "", ""},
    {"../etc/passwd/@v/list", false, 0, false, "", ""},
    {"golang.org/x/text/@v/master.info", true, MODKEY_INFO, false, "golang.org/x/text", "master"},
    {"golang.org/x/text/@v/master.zip", false, 0, false, "", ""},
    {"example.com/m/v2/@v/v1.0.0.mod", false, 0, false, "", ""},
    {"example.com/m/@v/v2.0.0+incompatible.zip", true, MODKEY_ZIP, true, "example.com/m",
     "v2.0.0+incompatible"},
    {"example.com/m/@v/v2.0.0.zip", false, 0, false, "", ""},
    /* .info takes queries: short or non-canonical semver, commits, upper case escaped. */
    {"example.com/m/@v/v2.0.0.info", true, MODKEY_INFO, false, "example.com/m", "v2.0.0"},
    {"example.com/m/@v/v1.2.info", true, MODKEY_INFO, false, "example.com/m", "v1.2"},
    {"example.com/m/@v/daa7c04131f5.info", true, MODKEY_INFO, false, "example.com/m", "daa7c04131f5"},
    {"example.com/m/@v/!feature-!x.info", true, MODKEY_INFO, false, "example.com/m", "Feature-X"},
    {"example.com/m/@v/v1.0.0-!r!c.1.zip", true, MODKEY_ZIP, true, "example.com/m", "v1.0.0-RC.1"},
    {"example.com/m/@v/list.info", true, MODKEY_INFO, false, "example.com/m", "list"},
    {"example.com/m/@v/v1.0.0.zip.info", true, MODKEY_INFO, false, "example.com/m", "v1.0.0.zip"},
    {"gopkg.in/yaml.v2/@v/v2.4.0.zip", true, MODKEY_ZIP, true, "gopkg.in/yaml.v2", "v2.4.0"},
    {"gopkg.in/check.v1/@v/v0.0.0-20161208181325-20d25e280405.mod", true, MODKEY_MOD, true,
     "gopkg.in/check.v1", "v0.0.0-20161208181325-20d25e280405"},
    /* Everything else is refused. */
    {"", false, 0, false, "", ""},
    {"/golang.org/x/text/@v/list", false, 0, false, "", ""},
    {"golang.org//x/text/@v/list", false, 0, false, "", ""},
    {"golang.org/x/text/@v//v1.0.0.zip", false, 0, false, "", ""},
    {"golang.org/x/../text/@v/list", false, 0, false, "", ""},
    {"golang.org/x/text/@v/../../../etc/passwd.info", false, 0, false, "", ""},
    {"golang.org/x/text/@v/...info", false, 0, false, "", ""},
    {"golang.org/x/text/@v/..info", false, 0, false, "", ""},
    {"golang.org/x/text/@v/.info", false, 0, false, "", ""},
    {"golang.org/x/text/@v/v1.0.0.ziphash", false, 0, false, "", ""},
    {"golang.org/x/text/@v/v1.0.0.lock", false, 0, false, "", ""},
    {"golang.org/x/text/@v/v1.0.0", false, 0, false, "", ""},
    {"golang.org/x/text/@v/", false, 0, false, "", ""},
    {"golang.org/x/text/@v/list/", false, 0, false, "", ""},
    {"golang.org/x/text/@latest/", false, 0, false, "", ""},
    {"golang.org/x/text/@v/LIST", false, 0, false, "", ""},
    {"golang.org/x/text", false, 0, false, "", ""},
    {"golang.org/x/text@v1.0.0", false, 0, false, "", ""},
    {"@v/list", false, 0, false, "", ""},
    {"/@v/list", false, 0, false, "", ""},
    /* '%' and ' ' are allowed in versions (module.EscapeVersion); upstream URLs must path-escape them. */
    {"golang.org/x/text/@v/v1.0.0%2Finfo.info", false, 0, false, "", ""}, /* upper case */
    {"golang.org/x/text/@v/v1.0.0%2finfo.info", true, MODKEY_INFO, false, "golang.org/x/text",
     "v1.0.0%2finfo"},
    {"golang.org/x/text/@v/v1 0.info", true, MODKEY_INFO, false, "golang.org/x/text", "v1 0"},
    {"golang.org/x/text/@v/con.info", false, 0, false, "", ""},
    {"golang.org/x/text/@v/v1.0.0-!.info", false, 0, false, "", ""},
    {"golang.org/x/text/@v/v1.0.0?.info", false, 0, false, "", ""},
    {"golang.org/x/text/@v/v1.0.0.info\n", false, 0, false, "", ""},
    {"golang.org/x/t\text/@v/list", false, 0, false, "", ""},
    {"golang.org/x/text\xc3\xa9/@v/list", false, 0, false, "", ""},
    {"golang.org/x/text/@v/v1.0.1+meta.zip", false, 0, false, "", ""},
    {"example.com/m/@v/v1.0.0+incompatible.zip", false, 0, false, "", ""},
    {"example.com/m/v1/@v/list", false, 0, false, "", ""},
    {"example.com/m/v0/@v/list", false, 0, false, "", ""},
    {"example.com/m/v2/@v/v2.0.0.zip", true, MODKEY_ZIP, true, "example.com/m/v2", "v2.0.0"},
    {"localhost/m/@v/list", false, 0, false, "", ""},
};

static void test_modkey_parse(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(key_tests); i++) {
        const char *key = key_tests[i].key;
        modkey_buf_t kb;
        modkey_t *kp = &kb.key;
        cache_err_t err = {0};
        int rc = modkey_parse(key, strlen(key), kp, &err);
        if (!key_tests[i].ok) {
            expect(rc == -EINVAL && err.msg[0] != '\0', "modkey_parse(%s) = %d, want -EINVAL with a reason",
                   key, rc);
            continue;
        }
        expect(rc == 0, "modkey_parse(%s) = %d (%s), want 0", key, rc, err.msg);
        if (rc != 0)
            continue;
        expect(kp->kind == key_tests[i].kind, "modkey_parse(%s).kind = %d, want %d", key, kp->kind,
               key_tests[i].kind);
        expect(kp->immutable == key_tests[i].immutable, "modkey_parse(%s).immutable = %d", key, kp->immutable);
        expect(strcmp(kp->module, key_tests[i].module) == 0, "modkey_parse(%s).module = %s", key, kp->module);
        expect(strcmp(kp->version, key_tests[i].version) == 0, "modkey_parse(%s).version = %s", key, kp->version);
        expect(strcmp(kp->escaped, key) == 0, "modkey_parse(%s).escaped = %s", str(key), kp->escaped);
        const char *at = strstr(key, "/@");
        expect(strlen(kp->esc_module) == (size_t)(at - key) &&
                   strncmp(kp->esc_module, key, (size_t)(at - key)) == 0,
               "modkey_parse(%s).esc_module = %s", key, kp->esc_module);

        /* modkey_make from the unescaped parts builds the same key. */
        modkey_buf_t mb;
        const modkey_t *m = &mb.key;
        rc = modkey_make(kp->kind, kp->module, kp->version, &mb.key, &err);
        expect(rc == 0 && m->kind == kp->kind && m->immutable == kp->immutable && strcmp(m->module, kp->module) == 0 &&
                   strcmp(m->version, kp->version) == 0 && strcmp(m->escaped, kp->escaped) == 0 &&
                   strcmp(m->esc_module, kp->esc_module) == 0 && strcmp(m->esc_version, kp->esc_version) == 0,
               "modkey_make(%s) differs from modkey_parse", key);

        /* a right-sized copy and a copy into a full-size key are the same key */
        modkey_t *d = modkey_dup(kp);
        modkey_buf_t cb;
        modkey_copy(&cb.key, d);
        expect(d != NULL && modkey_equal(d, kp) && strcmp(d->module, kp->module) == 0 &&
                   strcmp(cb.key.version, kp->version) == 0 && strcmp(cb.key.esc_module, kp->esc_module) == 0 &&
                   cb.key.escaped != d->escaped,
               "modkey_dup/modkey_copy(%s) differ", key);
        free(d);
    }
    TABLE_END();

    /* The length is explicit: bytes past it are not read, a NUL inside is refused. */
    modkey_buf_t kb;
    modkey_t *k = &kb.key;
    const char *key = "golang.org/x/text/@v/listXYZ";
    assert_int_equal(modkey_parse(key, strlen(key) - 3, k, NULL), 0);
    assert_int_equal(k->kind, MODKEY_LIST);
    assert_int_equal(modkey_parse("golang.org/x/text\0/@v/list", 26, k, NULL), -EINVAL);
    assert_int_equal(modkey_parse("golang.org/x/text/@v/v1.0.0\0.zip", 33, k, NULL), -EINVAL);
    cache_err_t err = {0};
    assert_int_equal(modkey_parse("golang.org/x/text/@v/master.zip", 31, k, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "not a semantic version"));
}

static void test_modkey_limits(void **state)
{
    (void)state;
    /* Longest accepted key: exactly MODKEY_MAX bytes. */
    char key[MODKEY_MAX + 2];
    const char *suffix = "/@v/list";
    size_t fill = MODKEY_MAX - strlen("example.com/") - strlen(suffix);
    /* a path of 63-byte elements */
    size_t o = (size_t)sprintf(key, "example.com/");
    for (size_t i = 0; i < fill; i++)
        key[o++] = (i % 64 == 63) ? '/' : 'a';
    if (key[o - 1] == '/')
        key[o - 1] = 'a';
    strcpy(key + o, suffix);
    assert_int_equal(strlen(key), MODKEY_MAX);
    modkey_buf_t kb2;
    modkey_t *k = &kb2.key;
    cache_err_t err = {0};
    assert_int_equal(modkey_parse(key, strlen(key), k, &err), 0);
    assert_string_equal(k->escaped, key);
    /* One more byte is refused. */
    memmove(key + 13, key + 12, strlen(key + 12) + 1);
    key[12] = 'b';
    assert_int_equal(strlen(key), MODKEY_MAX + 1);
    assert_int_equal(modkey_parse(key, strlen(key), k, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "longer than"));

    /* modkey_make refuses a key whose escaped form outgrows the limit (capitals double). */
    char module[MODKEY_MAX];
    o = (size_t)sprintf(module, "example.com/");
    for (; o < 600; o++)
        module[o] = (o % 64 == 0) ? '/' : 'A';
    module[o] = '\0';
    assert_int_equal(modpath_check(module, NULL), 0);
    assert_int_equal(modkey_make(MODKEY_LIST, module, NULL, k, &err), -EINVAL);
    assert_int_equal(modkey_make(MODKEY_ZIP, "example.com/m", NULL, k, &err), -EINVAL);
    assert_int_equal(modkey_make(MODKEY_ZIP, "example.com/m", "master", k, &err), -EINVAL);
    assert_int_equal(modkey_make(MODKEY_INFO, "example.com/m", "master", k, &err), 0);
    assert_string_equal(k->escaped, "example.com/m/@v/master.info");
    assert_false(k->immutable);
    assert_int_equal(modkey_make(MODKEY_LATEST, "example.com/M", "ignored", k, &err), 0);
    assert_string_equal(k->escaped, "example.com/!m/@latest");
    assert_string_equal(k->esc_module, "example.com/!m");
    assert_string_equal(k->version, "");
    assert_int_equal(modkey_make((modkey_kind_t)42, "example.com/m", "v1.0.0", k, &err), -EINVAL);

    /* the longest key and its copies fit: every string of it at full length */
    strcpy(module, "example.com/");
    for (o = strlen(module); o < 500; o++)
        module[o] = (o % 60 == 0) ? '/' : 'A'; /* escapes to about twice its length */
    module[o] = '\0';
    if (modkey_make(MODKEY_INFO, module, "V", k, &err) == 0) {
        modkey_t *d = modkey_dup(k);
        assert_non_null(d);
        assert_string_equal(d->escaped, k->escaped);
        assert_string_equal(d->module, module);
        free(d);
    }
}

static void test_modkey_kind_of_path(void **state)
{
    (void)state;
    modkey_kind_t kind;
    assert_true(modkey_kind_of_path("/a.b/c/@v/list", 14, &kind));
    assert_int_equal(kind, MODKEY_LIST);
    assert_true(modkey_kind_of_path("/a.b/c/@latest", 14, &kind));
    assert_int_equal(kind, MODKEY_LATEST);
    assert_true(modkey_kind_of_path("/a.b/c/@v/v1.0.0.zip", 20, &kind));
    assert_int_equal(kind, MODKEY_ZIP);
    assert_false(modkey_kind_of_path("/healthz", 8, &kind));
    assert_string_equal(modkey_kind_name(MODKEY_MOD), ".mod");
}

/* Keys of a checksum database's answers: what a go client asks $GOPROXY/sumdb/<name>/ for. */
static const struct {
    const char *key;
    bool ok;
    sumdb_path_kind_t kind;
    bool immutable;
    const char *name, *path, *module, *version;
} sumdb_tests[] = {
    {"sumdb/sum.golang.org/supported", true, SUMDB_PATH_SUPPORTED, false, "sum.golang.org", "supported", "", ""},
    {"sumdb/sum.golang.org/latest", true, SUMDB_PATH_LATEST, false, "sum.golang.org", "latest", "", ""},
    {"sumdb/sum.golang.org/lookup/golang.org/x/text@v0.7.0", true, SUMDB_PATH_LOOKUP, false, "sum.golang.org",
     "lookup/golang.org/x/text@v0.7.0", "golang.org/x/text", "v0.7.0"},
    {"sumdb/sum.golang.org/lookup/example.com/!upper/!lib@v1.2.3", true, SUMDB_PATH_LOOKUP, false,
     "sum.golang.org", "lookup/example.com/!upper/!lib@v1.2.3", "example.com/Upper/Lib", "v1.2.3"},
    {"sumdb/sum.golang.org/lookup/example.com/old@v2.0.0+incompatible", true, SUMDB_PATH_LOOKUP, false,
     "sum.golang.org", "lookup/example.com/old@v2.0.0+incompatible", "example.com/old", "v2.0.0+incompatible"},
    {"sumdb/sum.golang.org/tile/8/0/000.p/9", true, SUMDB_PATH_TILE, false, "sum.golang.org",
     "tile/8/0/000.p/9", "", ""},
    {"sumdb/sum.golang.org/tile/8/0/x001/234", true, SUMDB_PATH_TILE, true, "sum.golang.org",
     "tile/8/0/x001/234", "", ""},
    {"sumdb/sum.golang.org/tile/8/1/000.p/1", true, SUMDB_PATH_TILE, false, "sum.golang.org", "tile/8/1/000.p/1",
     "", ""},
    {"sumdb/sum.golang.org/tile/8/data/000", true, SUMDB_PATH_TILE, true, "sum.golang.org", "tile/8/data/000", "",
     ""},
    {"sumdb/db.example.com:8443/go/sum/lookup/a.com/x@v1.0.0", true, SUMDB_PATH_LOOKUP, false,
     "db.example.com:8443/go/sum", "lookup/a.com/x@v1.0.0", "a.com/x", "v1.0.0"},
    {"sumdb/sum.modfs.test/tile/8/2/000.p/3", true, SUMDB_PATH_TILE, false, "sum.modfs.test", "tile/8/2/000.p/3",
     "", ""},
    /* refused: no such answer, no name, a name go refuses, non-canonical spellings */
    {"sumdb/sum.golang.org", false, 0, false, "", "", "", ""},
    {"sumdb/supported", false, 0, false, "", "", "", ""},
    {"sumdb//supported", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/supported/", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/supported/x", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/lookup", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/lookup/", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/lookup/golang.org/x/text", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/lookup/golang.org/x/text@v0.7", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/lookup/golang.org/x/text@v0.7.0/go.mod", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/lookup/example.com/Upper/Lib@v1.2.3", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/lookup/example.com/m/v2@v1.0.0", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/lookup/../x@v1.0.0", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/tile/8/0/0.p/9", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/tile/8/0/000.p/256", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/tile/8/0/000.p/0", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/tile/4/0/000", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/tile/8/0/x000/001", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/latest/x", false, 0, false, "", "", "", ""},
    {"sumdb/sum.golang.org/tiles/8/0/000", false, 0, false, "", "", "", ""},
    {"sumdb/../x/latest", false, 0, false, "", "", "", ""},
    {"sumdb/a.com/./b/latest", false, 0, false, "", "", "", ""},
    {"sumdb/db?x/latest", false, 0, false, "", "", "", ""},
    {"sumdb/sum golang.org/latest", false, 0, false, "", "", "", ""},
    {"/sumdb/sum.golang.org/latest", false, 0, false, "", "", "", ""},
    {"sumdbx/sum.golang.org/latest", false, 0, false, "", "", "", ""},
    {"golang.org/x/text/@v/list", false, 0, false, "", "", "", ""},
};

static void test_modkey_sumdb(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(sumdb_tests); i++) {
        const char *key = sumdb_tests[i].key;
        modkey_buf_t kb;
        modkey_t *k = &kb.key;
        cache_err_t err = {0};
        int rc = modkey_parse_sumdb(key, strlen(key), k, &err);
        /* module keys and answers never share a name */
        modkey_buf_t ob;
        expect(modkey_parse(key, strlen(key), &ob.key, NULL) != 0 || !sumdb_tests[i].ok,
               "modkey_parse accepts the sumdb key %s", key);
        if (!sumdb_tests[i].ok) {
            expect(rc == -EINVAL && err.msg[0] != '\0', "modkey_parse_sumdb(%s) = %d, want -EINVAL with a reason",
                   key, rc);
            continue;
        }
        expect(rc == 0, "modkey_parse_sumdb(%s) = %d (%s), want 0", key, rc, err.msg);
        if (rc != 0)
            continue;
        expect(k->kind == MODKEY_SUMDB && k->db_kind == sumdb_tests[i].kind, "%s: kind %d/%d", key, k->kind,
               k->db_kind);
        expect(k->immutable == sumdb_tests[i].immutable, "%s: immutable = %d", key, k->immutable);
        expect(strcmp(k->escaped, key) == 0 && k->escaped_len == strlen(key), "%s: escaped = %s", key,
               k->escaped);
        expect(strcmp(k->db_name, sumdb_tests[i].name) == 0, "%s: db_name = %s", key, k->db_name);
        expect(strcmp(k->db_path, sumdb_tests[i].path) == 0, "%s: db_path = %s", key, k->db_path);
        expect(strcmp(k->module, sumdb_tests[i].module) == 0, "%s: module = %s", key, k->module);
        expect(strcmp(k->version, sumdb_tests[i].version) == 0, "%s: version = %s", key, k->version);
        /* made from its parts, copied, duplicated: the same key */
        modkey_buf_t mb;
        rc = modkey_make_sumdb(k->db_name, k->db_path, &mb.key, &err);
        expect(rc == 0 && modkey_equal(&mb.key, k) && strcmp(mb.key.db_path, k->db_path) == 0,
               "modkey_make_sumdb(%s) differs", key);
        modkey_t *d = modkey_dup(k);
        modkey_buf_t cb;
        modkey_copy(&cb.key, d);
        expect(d != NULL && modkey_equal(d, k) && strcmp(d->db_name, k->db_name) == 0 &&
                   strcmp(cb.key.db_path, k->db_path) == 0 && strcmp(cb.key.module, k->module) == 0 &&
                   cb.key.db_path != d->db_path,
               "modkey_dup/modkey_copy(%s) differ", key);
        free(d);
        modkey_buf_t sb;
        expect(modkey_sibling(k, MODKEY_ZIP, &sb.key, NULL) == -EINVAL, "%s has a sibling", key);
    }
    TABLE_END();

    /* module keys carry empty database fields */
    modkey_buf_t kb;
    assert_int_equal(modkey_parse("golang.org/x/text/@v/v0.7.0.zip", 31, &kb.key, NULL), 0);
    assert_string_equal(kb.key.db_name, "");
    assert_string_equal(kb.key.db_path, "");
    /* a name with an element that starts an answer's path cannot be served */
    cache_err_t err = {0};
    assert_int_equal(modkey_make_sumdb("db.example.com/lookup", "supported", &kb.key, &err), -EINVAL);
    assert_int_equal(modkey_make_sumdb("db.example.com/tile/x", "latest", &kb.key, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "cannot be served"));
    assert_int_equal(modkey_make_sumdb("sum.golang.org", "lookup/x", &kb.key, &err), -EINVAL);
    assert_int_equal(modkey_make(MODKEY_SUMDB, "sum.golang.org", "latest", &kb.key, &err), -EINVAL);
    /* the longest lookup key fits the limit, one more byte does not */
    char path[MODKEY_MAX + 8];
    size_t o = (size_t)sprintf(path, "lookup/example.com/");
    size_t room = MODKEY_MAX - strlen("sumdb/s.io/") - strlen("@v1.0.0");
    for (; o < room; o++)
        path[o] = (o % 60 == 0) ? '/' : 'a';
    if (path[o - 1] == '/')
        path[o - 1] = 'a';
    strcpy(path + o, "@v1.0.0");
    assert_int_equal(modkey_make_sumdb("s.io", path, &kb.key, &err), 0);
    assert_int_equal(kb.key.escaped_len, MODKEY_MAX);
    memmove(path + 20, path + 19, strlen(path + 19) + 1);
    path[19] = 'b';
    assert_int_equal(modkey_make_sumdb("s.io", path, &kb.key, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modkey_parse),
        cmocka_unit_test(test_modkey_limits),
        cmocka_unit_test(test_modkey_kind_of_path),
        cmocka_unit_test(test_modkey_sumdb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
