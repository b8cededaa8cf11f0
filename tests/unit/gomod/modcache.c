/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/gomod/modcache.c: which names of a GOMODCACHE are store objects, hashes, notes,
 * extracted modules or directories on the way, and which names each stored key adds to a
 * directory's listing. Every store object must have exactly one path: a name in another spelling
 * (upper case, a non-canonical version) is nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod.h"
#include "expect.h"

static const struct {
    modcache_dir_t dir;
    const char *prefix;
    const char *name;
    modcache_entry_t want;
    const char *key; /* escaped key for OBJECT, ZIPHASH, MODROOT */
} lookups[] = {
    {MODCACHE_DIR_ROOT, "", "cache", MODCACHE_CACHE, NULL},
    {MODCACHE_DIR_ROOT, "", "golang.org", MODCACHE_PREFIX, NULL},
    {MODCACHE_DIR_ROOT, "", "localhost", MODCACHE_NONE, NULL}, /* the first element needs a dot */
    {MODCACHE_DIR_ROOT, "", "Golang.org", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ROOT, "", "-a.b", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ROOT, "", ".a.b", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_CACHE, "", "download", MODCACHE_DOWNLOAD, NULL},
    {MODCACHE_DIR_CACHE, "", "vcs", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_EXTRACTED, "golang.org/x", "text", MODCACHE_PREFIX, NULL},
    {MODCACHE_DIR_EXTRACTED, "golang.org/x", "text@v0.7.0", MODCACHE_MODROOT, "golang.org/x/text/@v/v0.7.0.zip"},
    {MODCACHE_DIR_EXTRACTED, "golang.org/x", "text@v0.7", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_EXTRACTED, "golang.org/x", "text@master", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_EXTRACTED, "github.com", "!burnt!sushi", MODCACHE_PREFIX, NULL},
    {MODCACHE_DIR_EXTRACTED, "github.com", "BurntSushi", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_EXTRACTED, "github.com/!burnt!sushi", "toml@v1.3.2", MODCACHE_MODROOT,
     "github.com/!burnt!sushi/toml/@v/v1.3.2.zip"},
    {MODCACHE_DIR_EXTRACTED, "example.com", "m@v2.0.0", MODCACHE_NONE, NULL}, /* v2 needs /v2 */
    {MODCACHE_DIR_EXTRACTED, "example.com/m", "v2@v2.0.0", MODCACHE_MODROOT, "example.com/m/v2/@v/v2.0.0.zip"},
    {MODCACHE_DIR_EXTRACTED, "example.com", "old@v2.0.0+incompatible", MODCACHE_MODROOT,
     "example.com/old/@v/v2.0.0+incompatible.zip"},
    {MODCACHE_DIR_DOWNLOAD, "", "golang.org", MODCACHE_PREFIX, NULL},
    {MODCACHE_DIR_DOWNLOAD, "", "@v", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_DOWNLOAD, "golang.org/x/text", "@v", MODCACHE_ATV, NULL},
    {MODCACHE_DIR_DOWNLOAD, "example.com/m/v1", "@v", MODCACHE_NONE, NULL}, /* not a module path: /v1 */
    {MODCACHE_DIR_DOWNLOAD, "golang.org/x/text", "@latest", MODCACHE_OBJECT, "golang.org/x/text/@latest"},
    {MODCACHE_DIR_DOWNLOAD, "golang.org/x/text", "..", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_DOWNLOAD, "golang.org/x/text", "a b", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "list", MODCACHE_OBJECT, "golang.org/x/text/@v/list"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "v0.7.0.info", MODCACHE_OBJECT, "golang.org/x/text/@v/v0.7.0.info"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "master.info", MODCACHE_OBJECT, "golang.org/x/text/@v/master.info"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "v0.7.0.mod", MODCACHE_OBJECT, "golang.org/x/text/@v/v0.7.0.mod"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "v0.7.0.zip", MODCACHE_OBJECT, "golang.org/x/text/@v/v0.7.0.zip"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "v0.7.0.ziphash", MODCACHE_ZIPHASH, "golang.org/x/text/@v/v0.7.0.zip"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "v0.7.0.partial", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "v0.7.0.lock", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "v0.7.0.zip123.tmp", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "master.zip", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "master.ziphash", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "V0.7.0.mod", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "!v0.7.0.mod", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "@latest", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "v0.7.0.error", MODCACHE_NOTE, "golang.org/x/text/@v/v0.7.0.info"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "list.error", MODCACHE_NOTE, "golang.org/x/text/@v/list"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "master.error", MODCACHE_NOTE, "golang.org/x/text/@v/master.info"},
    {MODCACHE_DIR_ATV, "golang.org/x/text", ".error", MODCACHE_NONE, NULL},
    {MODCACHE_DIR_ATV, "golang.org/x/text", "V0.7.0.error", MODCACHE_NONE, NULL},
};

static void test_lookup(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(lookups); i++) {
        modkey_buf_t kb;
        const char *p = lookups[i].prefix;
        modcache_entry_t got = modcache_lookup(lookups[i].dir, p, strlen(p), lookups[i].name, &kb.key);
        expect(got == lookups[i].want, "modcache_lookup(%d, %s, %s) = %d, want %d", lookups[i].dir, p,
               lookups[i].name, got, lookups[i].want);
        if (got == lookups[i].want && lookups[i].key != NULL)
            expect(strcmp(kb.key.escaped, lookups[i].key) == 0, "modcache_lookup(%s, %s).key = %s, want %s", p,
                   lookups[i].name, kb.key.escaped, lookups[i].key);
    }
    TABLE_END();
}

static void test_download_path(void **state)
{
    (void)state;
    modkey_buf_t kb;
    const char *p = "golang.org/x/text/@v/v0.7.0.ziphash";
    assert_int_equal(modcache_download_path(p, strlen(p), &kb.key), MODCACHE_ZIPHASH);
    assert_string_equal(kb.key.escaped, "golang.org/x/text/@v/v0.7.0.zip");
    p = "golang.org/x/text/@latest";
    assert_int_equal(modcache_download_path(p, strlen(p), &kb.key), MODCACHE_OBJECT);
    p = "golang.org/x/text/@v/v0.7.0.mod";
    assert_int_equal(modcache_download_path(p, strlen(p), &kb.key), MODCACHE_OBJECT);
    assert_int_equal(kb.key.kind, MODKEY_MOD);
    p = "golang.org/x/text/@v/sub/v0.7.0.mod";
    assert_int_equal(modcache_download_path(p, strlen(p), &kb.key), MODCACHE_NONE);
    p = "golang.org/x/text";
    assert_int_equal(modcache_download_path(p, strlen(p), &kb.key), MODCACHE_NONE);
}

/* Collects names given to emit as "name/" (directory) or "name", space-separated. */
static int collect(void *arg, const char *name, size_t len, bool is_dir)
{
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s%.*s%s", n ? " " : "", (int)len, name, is_dir ? "/" : "");
    return 0;
}

static void names(modcache_dir_t dir, const char *prefix, const char *key, const char *want)
{
    modkey_buf_t kb;
    assert_int_equal(modkey_parse(key, strlen(key), &kb.key, NULL), 0);
    char got[512] = "";
    assert_int_equal(modcache_names_of_key(dir, prefix, strlen(prefix), &kb.key, collect, got), 0);
    expect(strcmp(got, want) == 0, "names of %s in %d:%s = \"%s\", want \"%s\"", key, dir, prefix, got, want);
}

static void test_names_of_key(void **state)
{
    (void)state;
    TABLE_BEGIN();
    const char *zip = "golang.org/x/text/@v/v0.7.0.zip";
    names(MODCACHE_DIR_ATV, "golang.org/x/text", zip, "v0.7.0.zip v0.7.0.ziphash");
    names(MODCACHE_DIR_ATV, "golang.org/x/text", "golang.org/x/text/@v/list", "list");
    names(MODCACHE_DIR_ATV, "golang.org/x/text", "golang.org/x/text/@latest", "");
    names(MODCACHE_DIR_ATV, "golang.org/x", zip, "");
    names(MODCACHE_DIR_DOWNLOAD, "", zip, "golang.org/");
    names(MODCACHE_DIR_DOWNLOAD, "golang.org", zip, "x/");
    names(MODCACHE_DIR_DOWNLOAD, "golang.org/x", zip, "text/");
    names(MODCACHE_DIR_DOWNLOAD, "golang.org/x/text", zip, "@v/");
    names(MODCACHE_DIR_DOWNLOAD, "golang.org/x/text", "golang.org/x/text/@latest", "@latest");
    names(MODCACHE_DIR_DOWNLOAD, "golang.org/x/te", zip, "");
    names(MODCACHE_DIR_ROOT, "", zip, "golang.org/");
    names(MODCACHE_DIR_EXTRACTED, "golang.org/x", zip, "text@v0.7.0/");
    names(MODCACHE_DIR_EXTRACTED, "golang.org/x", "golang.org/x/text/@v/v0.7.0.mod", "");
    names(MODCACHE_DIR_EXTRACTED, "golang.org/x/text", zip, "");
    names(MODCACHE_DIR_EXTRACTED, "github.com", "github.com/!burnt!sushi/toml/@v/v1.3.2.zip", "!burnt!sushi/");
    char got[512] = "";
    assert_int_equal(modcache_fixed_names(MODCACHE_DIR_ROOT, collect, got), 0);
    assert_string_equal(got, "cache/");
    TABLE_END();
}

static void test_prefixes(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(modcache_visit_prefix(MODCACHE_DIR_ATV, "a.b/c", 5, out, sizeof out), 9);
    assert_string_equal(out, "a.b/c/@v/");
    assert_int_equal(modcache_visit_prefix(MODCACHE_DIR_DOWNLOAD, "a.b/c", 5, out, sizeof out), 6);
    assert_string_equal(out, "a.b/c/");
    assert_int_equal(modcache_visit_prefix(MODCACHE_DIR_ROOT, "", 0, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_true(modcache_child_prefix(MODCACHE_PREFIX, "a.b", 3, "c", out, sizeof out) > 0);
    assert_string_equal(out, "a.b/c");
    assert_true(modcache_child_prefix(MODCACHE_PREFIX, "", 0, "a.b", out, sizeof out) > 0);
    assert_string_equal(out, "a.b");
    assert_true(modcache_child_prefix(MODCACHE_ATV, "a.b/c", 5, "@v", out, sizeof out) > 0);
    assert_string_equal(out, "a.b/c");
    assert_int_equal(modcache_child_prefix(MODCACHE_PREFIX, "a.b", 3, "cccccccccc", out, 8), -ENAMETOOLONG);
}

static void test_note_path(void **state)
{
    (void)state;
    static const struct {
        const char *key, *want;
    } rows[] = {
        {"golang.org/x/text/@v/v0.7.0.zip", "cache/download/golang.org/x/text/@v/v0.7.0.error"},
        {"golang.org/x/text/@v/v0.7.0.mod", "cache/download/golang.org/x/text/@v/v0.7.0.error"},
        {"golang.org/x/text/@v/v0.7.0.info", "cache/download/golang.org/x/text/@v/v0.7.0.error"},
        {"golang.org/x/text/@v/list", "cache/download/golang.org/x/text/@v/list.error"},
        {"golang.org/x/text/@latest", "cache/download/golang.org/x/text/@v/list.error"},
        {"github.com/!burnt!sushi/toml/@v/v1.3.2.zip", "cache/download/github.com/!burnt!sushi/toml/@v/v1.3.2.error"},
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++) {
        modkey_buf_t kb;
        char out[256];
        assert_int_equal(modkey_parse(rows[i].key, strlen(rows[i].key), &kb.key, NULL), 0);
        int n = modcache_note_path(&kb.key, out, sizeof out);
        expect(n == (int)strlen(rows[i].want) && strcmp(out, rows[i].want) == 0, "note of %s = %s, want %s",
               rows[i].key, n > 0 ? out : "(error)", rows[i].want);
        /* and the name of the note, looked up in its @v, gives back a key with the same note */
        const char *name = strrchr(out, '/') + 1;
        size_t mlen = strlen(kb.key.esc_module);
        modkey_buf_t back;
        expect(modcache_lookup(MODCACHE_DIR_ATV, kb.key.esc_module, mlen, name, &back.key) == MODCACHE_NOTE,
               "lookup of note %s", name);
        char again[256];
        expect(modcache_note_path(&back.key, again, sizeof again) > 0 && strcmp(again, out) == 0,
               "note of the note's key: %s, want %s", again, out);
    }
    TABLE_END();
    modkey_buf_t kb;
    char small[8];
    assert_int_equal(modkey_parse("a.b/c/@v/list", 13, &kb.key, NULL), 0);
    assert_int_equal(modcache_note_path(&kb.key, small, sizeof small), -ENAMETOOLONG);
}

#define HASH "343ede687564611bd8f3dcff0205aacc631e0506105bf252f7ae6018dfb21747"

static const struct {
    const char *path;
    modcache_write_t want;
    const char *key; /* for DOWNLOAD and EXTRACT */
} writes[] = {
    /* go's bookkeeping, whatever the store holds */
    {"cache/lock", MODCACHE_WRITE_GO, NULL},
    {"cache/vcs", MODCACHE_WRITE_GO, NULL},
    {"cache/vcs/" HASH, MODCACHE_WRITE_GO, NULL},
    {"cache/vcs/" HASH ".lock", MODCACHE_WRITE_GO, NULL},
    {"cache/vcs/" HASH ".info", MODCACHE_WRITE_GO, NULL},
    {"cache/vcs/" HASH "/objects/pack/tmp_pack_x", MODCACHE_WRITE_GO, NULL},
    {"cache/vcs/" HASH "/config.lock", MODCACHE_WRITE_GO, NULL},
    {"cache/download/sumdb", MODCACHE_WRITE_GO, NULL},
    {"cache/download/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.7.0", MODCACHE_WRITE_GO, NULL},
    {"cache/download/sumdb/sum.golang.org/tile/8/0/x001/234.p/5", MODCACHE_WRITE_GO, NULL},
    {"cache/download/golang.org/x/text/@v/v0.7.0.lock", MODCACHE_WRITE_GO, NULL},
    {"cache/download/golang.org/x/text/@v/v0.7.0.info298498081.tmp", MODCACHE_WRITE_GO, NULL},
    {"cache/download/golang.org/x/text/@v/v0.7.0.mod4.tmp", MODCACHE_WRITE_GO, NULL},
    {"cache/download/golang.org/x/text/@v/v0.7.0.zip939984059.tmp", MODCACHE_WRITE_GO, NULL},
    {"cache/download/github.com/!burnt!sushi/toml/@v/v1.3.2.lock", MODCACHE_WRITE_GO, NULL},
    /* a module go downloads itself: only what the store does not serve */
    {"cache/download/golang.org/x/text/@v/v0.7.0.partial", MODCACHE_WRITE_DOWNLOAD, "golang.org/x/text/@v/v0.7.0.zip"},
    {"cache/download/golang.org/x/text/@v/v0.7.0.info", MODCACHE_WRITE_DOWNLOAD, "golang.org/x/text/@v/v0.7.0.info"},
    {"cache/download/golang.org/x/text/@v/v0.7.0.mod", MODCACHE_WRITE_DOWNLOAD, "golang.org/x/text/@v/v0.7.0.mod"},
    {"cache/download/golang.org/x/text/@v/v0.7.0.zip", MODCACHE_WRITE_DOWNLOAD, "golang.org/x/text/@v/v0.7.0.zip"},
    {"cache/download/golang.org/x/text/@v/v0.7.0.ziphash", MODCACHE_WRITE_DOWNLOAD, "golang.org/x/text/@v/v0.7.0.zip"},
    {"cache/download/golang.org/x/text/@v/list", MODCACHE_WRITE_DOWNLOAD, "golang.org/x/text/@v/list"},
    {"cache/download/private.example/lib.git/@v/v1.0.0.zip", MODCACHE_WRITE_DOWNLOAD,
     "private.example/lib.git/@v/v1.0.0.zip"},
    {"golang.org/x/text@v0.7.0", MODCACHE_WRITE_EXTRACT, "golang.org/x/text/@v/v0.7.0.zip"},
    {"golang.org/x/text@v0.7.0/cases/evil.go", MODCACHE_WRITE_EXTRACT, "golang.org/x/text/@v/v0.7.0.zip"},
    {"github.com/!burnt!sushi/toml@v1.3.2/a@b", MODCACHE_WRITE_EXTRACT, "github.com/!burnt!sushi/toml/@v/v1.3.2.zip"},
    {"example.com/old@v2.0.0+incompatible", MODCACHE_WRITE_EXTRACT, "example.com/old/@v/v2.0.0+incompatible.zip"},
    /* never */
    {"", MODCACHE_WRITE_NEVER, NULL},
    {"cache", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download", MODCACHE_WRITE_NEVER, NULL},
    {"cache/other", MODCACHE_WRITE_NEVER, NULL},
    {"cache/lock2", MODCACHE_WRITE_NEVER, NULL},
    {"cache/vcs/evil", MODCACHE_WRITE_NEVER, NULL},
    {"cache/vcs/" HASH ".evil", MODCACHE_WRITE_NEVER, NULL},
    {"cache/vcs/343EDE687564611BD8F3DCFF0205AACC631E0506105BF252F7AE6018DFB21747", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@v", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@v/evil", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@v/v0.7.0.error", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@v/master.info", MODCACHE_WRITE_NEVER, NULL}, /* queries are never cached */
    {"cache/download/golang.org/x/text/@v/v0.7.lock", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@v/v0.7.0.zip.tmp", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@v/v0.7.0.zip12345678901.tmp", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@v/v0.7.0.ziphash1.tmp", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@v/sub/v0.7.0.lock", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/golang.org/x/text/@latest", MODCACHE_WRITE_NEVER, NULL},
    {"cache/download/Golang.org/x/text/@v/v0.7.0.lock", MODCACHE_WRITE_NEVER, NULL},
    {"golang.org", MODCACHE_WRITE_NEVER, NULL},
    {"golang.org/x/text", MODCACHE_WRITE_NEVER, NULL},
    {"golang.org/x/text@v0.7", MODCACHE_WRITE_NEVER, NULL},
    {"golang.org/x/text@v0.7.0.tmp-123", MODCACHE_WRITE_NEVER, NULL},
    {"golang.org/x/text@v0.7.0@v0.8.0", MODCACHE_WRITE_NEVER, NULL},
    {"gomodcache", MODCACHE_WRITE_NEVER, NULL},
    {"evil", MODCACHE_WRITE_NEVER, NULL},
};

static void test_write_rule(void **state)
{
    (void)state;
    TABLE_BEGIN();
    for (size_t i = 0; i < N(writes); i++) {
        modkey_buf_t kb;
        const char *p = writes[i].path;
        modcache_write_t got = modcache_write_rule(p, strlen(p), &kb.key);
        expect(got == writes[i].want, "modcache_write_rule(%s) = %d, want %d", p, got, writes[i].want);
        if (got == writes[i].want && writes[i].key != NULL)
            expect(strcmp(kb.key.escaped, writes[i].key) == 0, "modcache_write_rule(%s).key = %s, want %s", p,
                   kb.key.escaped, writes[i].key);
    }
    TABLE_END();
}

static void test_partial_path(void **state)
{
    (void)state;
    modkey_buf_t kb;
    char out[128];
    const char *k = "github.com/!burnt!sushi/toml/@v/v1.3.2.zip";
    assert_int_equal(modkey_parse(k, strlen(k), &kb.key, NULL), 0);
    assert_true(modcache_partial_path(&kb.key, out, sizeof out) > 0);
    assert_string_equal(out, "cache/download/github.com/!burnt!sushi/toml/@v/v1.3.2.partial");
    /* the .partial it names is itself a name go may write (for a module it downloads) */
    modkey_buf_t back;
    assert_int_equal(modcache_write_rule(out, strlen(out), &back.key), MODCACHE_WRITE_DOWNLOAD);
    assert_true(modkey_equal(&back.key, &kb.key));
    k = "github.com/!burnt!sushi/toml/@v/v1.3.2.mod";
    assert_int_equal(modkey_parse(k, strlen(k), &kb.key, NULL), 0);
    assert_int_equal(modcache_partial_path(&kb.key, out, sizeof out), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_download_path),
        cmocka_unit_test(test_names_of_key),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_note_path),
        cmocka_unit_test(test_write_rule),
        cmocka_unit_test(test_partial_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
