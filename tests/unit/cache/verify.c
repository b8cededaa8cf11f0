/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/verify.c through the cache's API: every .mod and .zip fetched from upstream (the
 * module fixtures, as a file:// proxy) is proven against a real checksum database
 * (tools/fixtures/sumdb's server, a key made per run) before it is stored. A database that logged
 * another hash, an upstream that serves other bytes, a database signing with another key and one
 * that forks its log are each refused with nothing stored; exempt modules pass unchecked; the
 * database's answers kept by the proxy side are served from the store and, when gone bad, replaced
 * by fresh proven ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cache.h"
#include "testdb.h"

#define TARGET "example.com/multi@v1.0.0"

static char tmp[256];
static char proxy_url[600];

typedef struct fixture {
    char module[256], version[64], zip_h1[80], gomod_h1[80];
} fixture_t;

static fixture_t fixtures[64];
static size_t nfixtures;

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/modfs-unit-verify-XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    const char *fix = getenv("MODFS_FIXTURES");
    if (fix == NULL)
        return -1;
    snprintf(proxy_url, sizeof proxy_url, "file://%s/proxy", fix);
    FILE *f = fopen(testdb_modules(), "r");
    if (f == NULL)
        return -1;
    while (nfixtures < 64) {
        fixture_t *x = &fixtures[nfixtures];
        if (fscanf(f, "%255s %63s %79s %79s", x->module, x->version, x->zip_h1, x->gomod_h1) != 4)
            break;
        nfixtures++;
    }
    fclose(f);
    return nfixtures >= 5 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    testdb_rmtree(tmp);
    return 0;
}

static void start(testdb_t *db, const char *const *args)
{
    if (testdb_start(db, args) != 0)
        fail_msg("cannot start the test checksum database (%s)", testdb_server());
}

/* A cache in dir (made if needed) with upstream and the one database db (vkey and URL). */
static cache_t *open_cache_private(const char *dir, const char *upstream, const testdb_t *db, const char *nosumdb,
                                   const char *private_patterns)
{
    static char value[2048];
    snprintf(value, sizeof value, "%s %s", db->vkey, db->url);
    cache_config_t cfg;
    cache_config_init(&cfg);
    cfg.dir = dir;
    cfg.upstream = upstream;
    cfg.retries = 0;
    cfg.sumdb = value;
    cfg.nosumdb = nosumdb;
    cfg.private_patterns = private_patterns;
    cache_t *c = NULL;
    cache_err_t err = {0};
    if (cache_open(&cfg, &c, &err) != 0)
        fail_msg("cache_open: %s", err.msg);
    return c;
}

static cache_t *open_cache(const char *dir, const char *upstream, const testdb_t *db, const char *nosumdb)
{
    return open_cache_private(dir, upstream, db, nosumdb, NULL);
}

static char *store_dir(const char *name)
{
    static char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    return dir;
}

static int get_key(cache_t *c, const char *key, cache_err_t *err)
{
    modkey_buf_t *kb = malloc(sizeof *kb);
    assert_non_null(kb);
    int rc = modkey_parse(key, strlen(key), &kb->key, err);
    if (rc != 0)
        rc = modkey_parse_sumdb(key, strlen(key), &kb->key, err);
    assert_int_equal(rc, 0);
    cache_object_t *o = NULL;
    rc = cache_get(c, &kb->key, 0, &o, err);
    cache_object_unref(o);
    free(kb);
    return rc;
}

/* The key of module@version's object of kind ("mod", "zip"). */
static const char *key_of(const char *mv, const char *ext)
{
    static char key[512];
    char module[256], emod[300];
    const char *at = strchr(mv, '@');
    snprintf(module, sizeof module, "%.*s", (int)(at - mv), mv);
    assert_true(modpath_escape(module, emod, sizeof emod) > 0);
    snprintf(key, sizeof key, "%s/@v/%s.%s", emod, at + 1, ext);
    return key;
}

static uint64_t objects(cache_t *c)
{
    cache_stats_t st;
    assert_int_equal(cache_stats_scan(c, &st), 0);
    return st.objects;
}

static long db_count(const testdb_t *db, const char *what)
{
    char url[256];
    buf_t b = BUF_INIT;
    snprintf(url, sizeof url, "%s/_test/stats", db->url);
    assert_int_equal(testdb_http(url, false, &b), 200);
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", what);
    const char *p = strstr((const char *)b.base, pat);
    long n = p ? strtol(p + strlen(pat), NULL, 10) : -1;
    buf_dispose(&b);
    return n;
}

/* Every fixture's .mod and .zip verifies and is stored; the database was asked once per module
 * version (the .zip's check reads the lookup the .mod's check stored); the answers are served
 * from the store afterwards, and the kept tree head is a file of the store. */
static void every_fixture_verifies(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    start(&db, NULL);
    cache_t *c = open_cache(store_dir("good"), proxy_url, &db, NULL);
    cache_err_t err = {0};
    for (size_t i = 0; i < nfixtures; i++) {
        char mv[400];
        snprintf(mv, sizeof mv, "%.255s@%.63s", fixtures[i].module, fixtures[i].version);
        if (get_key(c, key_of(mv, "mod"), &err) != 0 || get_key(c, key_of(mv, "zip"), &err) != 0)
            fail_msg("%s: %s", mv, err.msg);
    }
    cache_stats_t st;
    cache_stats_get(c, &st);
    assert_int_equal(st.sumdb_verified, 2 * nfixtures);
    for (int r = 0; r < CACHE_SUMDB_REASONS; r++)
        assert_int_equal(st.sumdb_failures[r], 0);
    assert_int_equal(db_count(&db, "lookup"), (long)nfixtures);
    long tiles = db_count(&db, "tile");
    assert_true(tiles >= 1 && tiles <= 2);

    /* the proxy side: the database's answers are stored objects, served without asking it */
    char path[600];
    assert_int_equal(get_key(c, "sumdb/sum.modfs.test/lookup/example.com/multi@v1.0.0", &err), 0);
    assert_int_equal(get_key(c, "sumdb/sum.modfs.test/lookup/example.com/!upper/!lib@v1.2.3", &err), 0);
    snprintf(path, sizeof path, "sumdb/sum.modfs.test/tile/8/0/000.p/%zu", nfixtures);
    assert_int_equal(get_key(c, path, &err), 0);
    assert_int_equal(db_count(&db, "lookup"), (long)nfixtures);
    assert_int_equal(db_count(&db, "tile"), tiles);
    /* latest was never stored: the proxy fetches it */
    assert_int_equal(get_key(c, "sumdb/sum.modfs.test/latest", &err), 0);
    assert_int_equal(db_count(&db, "latest"), 1);
    /* supported: this database, not another */
    modkey_buf_t kb;
    assert_int_equal(modkey_parse_sumdb("sumdb/sum.modfs.test/supported", 30, &kb.key, NULL), 0);
    assert_int_equal(cache_sumdb_supported(c, &kb.key, &err), 0);
    assert_int_equal(get_key(c, "sumdb/sum.modfs.test/supported", &err), -EINVAL);
    assert_int_equal(modkey_parse_sumdb("sumdb/sum.golang.org/supported", 30, &kb.key, NULL), 0);
    assert_int_equal(cache_sumdb_supported(c, &kb.key, &err), -ENOENT);
    assert_int_equal(get_key(c, "sumdb/sum.golang.org/latest", &err), -ENOENT);
    assert_non_null(strstr(err.msg, "not served"));

    /* a stored module checks again (modfs verify), from the stored answers alone */
    assert_int_equal(modkey_parse(key_of(TARGET, "zip"), strlen(key_of(TARGET, "zip")), &kb.key, NULL), 0);
    bool exempt = true;
    int reason = -1;
    assert_int_equal(cache_verify_stored(c, &kb.key, &exempt, &reason, &err), 0);
    assert_false(exempt);
    assert_int_equal(db_count(&db, "lookup"), (long)nfixtures);
    cache_close(c);

    char latest[500];
    snprintf(latest, sizeof latest, "%s/sumdb/sum.modfs.test/latest", store_dir("good"));
    buf_t b = BUF_INIT;
    assert_int_equal(testdb_read_file(latest, &b), 0);
    assert_true(strncmp((const char *)b.base, "go.sum database tree\n", 21) == 0);
    buf_dispose(&b);
    testdb_stop(&db);
}

typedef struct refused {
    int n;
    char key[400];
} refused_t;

static void note_refused(void *arg, const modkey_t *key, int reason, const char *why)
{
    refused_t *r = arg;
    assert_int_equal(reason, CACHE_SUMDB_MISMATCH);
    assert_non_null(strstr(why, "checksum mismatch"));
    snprintf(r->key, sizeof r->key, "%s", key->escaped);
    r->n++;
}

/* The database logged another hash for the zip: the .mod is fine, the .zip is a checksum mismatch
 * naming both hashes, and nothing at all is stored for it. */
static void mismatch_stores_nothing(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-mode", "wronghash", "-target", TARGET, NULL};
    start(&db, args);
    cache_t *c = open_cache(store_dir("wronghash"), proxy_url, &db, NULL);
    cache_err_t err = {0};
    assert_int_equal(get_key(c, key_of(TARGET, "mod"), &err), 0);
    uint64_t before = objects(c);
    assert_int_equal(get_key(c, key_of(TARGET, "zip"), &err), -EIO); /* the verdict, as EIO (fetch.c) */
    assert_true(strncmp(err.msg, CACHE_SUMDB_REFUSED_WORDS, strlen(CACHE_SUMDB_REFUSED_WORDS)) == 0);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    const fixture_t *x = NULL;
    for (size_t i = 0; i < nfixtures; i++)
        if (strcmp(fixtures[i].module, "example.com/multi") == 0 &&
            strcmp(fixtures[i].version, "v1.0.0") == 0)
            x = &fixtures[i];
    assert_non_null(x);
    assert_non_null(strstr(err.msg, x->zip_h1));                                   /* the zip's own */
    assert_non_null(strstr(err.msg, "checksum database sum.modfs.test says h1:")); /* and the database's */
    assert_int_equal(objects(c), before);
    /* a fresh lookup was asked and not kept: asked again */
    long lookups = db_count(&db, "lookup");
    assert_int_equal(get_key(c, key_of(TARGET, "zip"), &err), -EIO); /* the verdict, as EIO (fetch.c) */
    assert_true(strncmp(err.msg, CACHE_SUMDB_REFUSED_WORDS, strlen(CACHE_SUMDB_REFUSED_WORDS)) == 0);
    assert_int_equal(objects(c), before);
    cache_stats_t st;
    cache_stats_get(c, &st);
    assert_int_equal(st.sumdb_failures[0], 2);
    assert_string_equal(cache_sumdb_reason_name(0), "mismatch");
    assert_true(db_count(&db, "lookup") >= lookups);
    cache_close(c);

    /* exempt by --nosumdb: stored unchecked, as go would take it */
    c = open_cache(store_dir("wronghash"), proxy_url, &db, "example.com/other,example.com/multi");
    assert_int_equal(get_key(c, key_of(TARGET, "zip"), &err), 0);
    cache_stats_get(c, &st);
    assert_int_equal(st.sumdb_skipped, 1);
    cache_close(c);

    /* stored, it checks again: the database disagrees */
    c = open_cache(store_dir("wronghash"), proxy_url, &db, NULL);
    modkey_buf_t kb;
    assert_int_equal(modkey_parse(key_of(TARGET, "zip"), strlen(key_of(TARGET, "zip")), &kb.key, NULL), 0);
    bool exempt = true;
    int reason = -1;
    assert_int_equal(cache_verify_stored(c, &kb.key, &exempt, &reason, &err), -EBADMSG);
    assert_int_equal(reason, CACHE_SUMDB_MISMATCH);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    assert_int_equal(modkey_parse(key_of(TARGET, "mod"), strlen(key_of(TARGET, "mod")), &kb.key, NULL), 0);
    assert_int_equal(cache_verify_stored(c, &kb.key, &exempt, &reason, &err), 0);
    assert_int_equal(modkey_parse("example.com/m/v2/@v/v2.1.0.zip", 30, &kb.key, NULL), 0);
    assert_int_equal(cache_verify_stored(c, &kb.key, &exempt, &reason, &err), -ENOENT);
    /* the whole store checked again (modfs verify --sumdb-check): the zip is the one refused */
    cache_sumdb_recheck_t r;
    refused_t seen = {0};
    assert_int_equal(cache_sumdb_recheck(c, note_refused, &seen, NULL, NULL, &r, &err), 0);
    assert_int_equal(r.refused[CACHE_SUMDB_MISMATCH], 1);
    assert_int_equal(r.unchecked, 0);
    assert_true(r.verified >= 1);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.key, key_of(TARGET, "zip"));
    cache_close(c);

    /* private modules are never checked, and their names never sent to a database */
    c = open_cache_private(store_dir("wronghash"), proxy_url, &db, NULL, "example.com/multi");
    assert_int_equal(modkey_parse(key_of(TARGET, "zip"), strlen(key_of(TARGET, "zip")), &kb.key, NULL), 0);
    long asked = db_count(&db, "lookup");
    assert_int_equal(cache_verify_stored(c, &kb.key, &exempt, &reason, &err), 0);
    assert_true(exempt);
    assert_int_equal(get_key(c, "sumdb/sum.modfs.test/lookup/example.com/multi@v1.0.0", &err), -ENOENT);
    assert_non_null(strstr(err.msg, "private"));
    assert_int_equal(db_count(&db, "lookup"), asked);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(cache_sumdb_recheck(c, note_refused, &seen, NULL, NULL, &r, &err), 0);
    assert_int_equal(seen.n, 0);
    assert_true(r.exempt >= 2);
    cache_close(c);
    testdb_stop(&db);
}

/* An upstream that serves a go.mod other than the one the database logged. */
static void bad_upstream_refused(void **state)
{
    (void)state;
    char cmd[4096], dir[600], url[700];
    const char *fix = getenv("MODFS_FIXTURES");
    snprintf(dir, sizeof dir, "%s/bad-proxy", tmp);
    snprintf(cmd, sizeof cmd, "cp -r '%s/proxy' '%s' && echo '// tampered' >> '%s/%s'", fix, dir, dir,
             key_of(TARGET, "mod"));
    assert_int_equal(system(cmd), 0);
    snprintf(url, sizeof url, "file://%s", dir);
    testdb_t db = TESTDB_INIT;
    start(&db, NULL);
    cache_t *c = open_cache(store_dir("badup"), url, &db, NULL);
    cache_err_t err = {0};
    uint64_t before = objects(c);
    assert_int_equal(get_key(c, key_of(TARGET, "mod"), &err), -EIO); /* the verdict, as EIO (fetch.c) */
    assert_true(strncmp(err.msg, CACHE_SUMDB_REFUSED_WORDS, strlen(CACHE_SUMDB_REFUSED_WORDS)) == 0);
    assert_non_null(strstr(err.msg, "checksum mismatch: go.mod has h1:"));
    /* the database's verdict, for the client; which upstream is the log's */
    assert_true(strncmp(err.msg, CACHE_SUMDB_REFUSED_WORDS ": ", strlen(CACHE_SUMDB_REFUSED_WORDS) + 2) == 0);
    assert_null(strstr(err.msg, dir));
    assert_int_equal(objects(c), before);
    cache_close(c);
    /* the same module from a correct upstream then works */
    c = open_cache(store_dir("badup"), proxy_url, &db, NULL);
    assert_int_equal(get_key(c, key_of(TARGET, "mod"), &err), 0);
    cache_close(c);
    testdb_stop(&db);
}

/* Tree heads signed by another key: refused, nothing stored, no head kept. */
static void wrong_key_refused(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-mode", "wrongkey", NULL};
    start(&db, args);
    cache_t *c = open_cache(store_dir("wrongkey"), proxy_url, &db, NULL);
    cache_err_t err = {0};
    assert_int_equal(get_key(c, key_of(TARGET, "mod"), &err), -EIO); /* the verdict, as EIO (fetch.c) */
    assert_true(strncmp(err.msg, CACHE_SUMDB_REFUSED_WORDS, strlen(CACHE_SUMDB_REFUSED_WORDS)) == 0);
    assert_non_null(strstr(err.msg, "signature"));
    assert_int_equal(objects(c), 0);
    cache_stats_t st;
    cache_stats_get(c, &st);
    assert_int_equal(st.sumdb_failures[2], 1);
    assert_string_equal(cache_sumdb_reason_name(2), "invalid");
    /* the proxy side refuses to keep its answers too */
    char path[300];
    snprintf(path, sizeof path, "sumdb/sum.modfs.test/lookup/example.com/multi@v1.0.0");
    assert_int_equal(get_key(c, path, &err), -EIO); /* the verdict, as EIO (fetch.c) */
    assert_true(strncmp(err.msg, CACHE_SUMDB_REFUSED_WORDS, strlen(CACHE_SUMDB_REFUSED_WORDS)) == 0);
    assert_int_equal(objects(c), 0);
    cache_close(c);
    char latest[500];
    snprintf(latest, sizeof latest, "%s/sumdb/sum.modfs.test/latest", store_dir("wrongkey"));
    buf_t b = BUF_INIT;
    assert_int_equal(testdb_read_file(latest, &b), -ENOENT);
    buf_dispose(&b);
    testdb_stop(&db);
}

/* A database that forks its log after a head was kept: SECURITY ERROR, nothing stored; the honest
 * database again: the same module works. */
static void fork_refused(void **state)
{
    (void)state;
    char keyfile[400];
    snprintf(keyfile, sizeof keyfile, "%s/fork.key", tmp);
    const char *normal[] = {"-key-file", keyfile, NULL};
    const char *fork[] = {"-key-file", keyfile, "-mode", "fork", NULL};
    testdb_t db = TESTDB_INIT;
    start(&db, normal);
    cache_t *c = open_cache(store_dir("fork"), proxy_url, &db, NULL);
    cache_err_t err = {0};
    assert_int_equal(get_key(c, key_of("golang.org/x/text@v0.7.0", "mod"), &err), 0);
    cache_close(c);
    testdb_stop(&db);

    start(&db, fork);
    c = open_cache(store_dir("fork"), proxy_url, &db, NULL);
    uint64_t before = objects(c);
    assert_int_equal(get_key(c, key_of(TARGET, "mod"), &err), -EIO); /* the verdict, as EIO (fetch.c) */
    assert_true(strncmp(err.msg, CACHE_SUMDB_REFUSED_WORDS, strlen(CACHE_SUMDB_REFUSED_WORDS)) == 0);
    assert_non_null(strstr(err.msg, "SECURITY ERROR"));
    assert_int_equal(objects(c), before);
    cache_stats_t st;
    cache_stats_get(c, &st);
    assert_int_equal(st.sumdb_failures[1], 1);
    cache_close(c);
    testdb_stop(&db);

    start(&db, normal);
    c = open_cache(store_dir("fork"), proxy_url, &db, NULL);
    assert_int_equal(get_key(c, key_of(TARGET, "mod"), &err), 0);
    cache_close(c);
    testdb_stop(&db);
}

/* A lookup kept by the proxy side that does not prove (a database that tampered with it, then
 * mended its ways): the check fails on it, runs again from the database, and the proven answer
 * replaces the stored one. */
static void bad_stored_answer_replaced(void **state)
{
    (void)state;
    char keyfile[400];
    snprintf(keyfile, sizeof keyfile, "%s/tamper.key", tmp);
    const char *tamper[] = {"-key-file", keyfile, "-mode", "tamper", "-target", TARGET, NULL};
    const char *normal[] = {"-key-file", keyfile, NULL};
    const char *path = "sumdb/sum.modfs.test/lookup/example.com/multi@v1.0.0";
    testdb_t db = TESTDB_INIT;
    start(&db, tamper);
    cache_t *c = open_cache(store_dir("tamper"), proxy_url, &db, NULL);
    cache_err_t err = {0};
    assert_int_equal(get_key(c, path, &err), 0); /* signed by the right key: kept */
    assert_int_equal(get_key(c, key_of(TARGET, "mod"), &err), -EIO); /* the verdict, as EIO (fetch.c) */
    assert_true(strncmp(err.msg, CACHE_SUMDB_REFUSED_WORDS, strlen(CACHE_SUMDB_REFUSED_WORDS)) == 0);
    assert_non_null(strstr(err.msg, "cannot authenticate record data"));
    cache_close(c);
    testdb_stop(&db);

    start(&db, normal);
    c = open_cache(store_dir("tamper"), proxy_url, &db, NULL);
    assert_int_equal(get_key(c, key_of(TARGET, "mod"), &err), 0);
    long lookups = db_count(&db, "lookup");
    assert_int_equal(lookups, 1);
    /* the stored answer is now the database's own: the .zip's check uses it, no new question */
    assert_int_equal(get_key(c, key_of(TARGET, "zip"), &err), 0);
    assert_int_equal(db_count(&db, "lookup"), 1);
    cache_close(c);
    testdb_stop(&db);
}

/* NAME+HASH+KEY of an Ed25519 key (algorithm byte 1, 32 bytes) for name, with its right hash. */
static void make_vkey(const char *name, char *out, size_t cap)
{
    uint8_t key[33] = {1}, buf[128], sum[SHA256_DIGEST_LENGTH];
    for (int i = 1; i < 33; i++)
        key[i] = (uint8_t)(i * 7);
    size_t nl = strlen(name);
    memcpy(buf, name, nl);
    buf[nl] = '\n';
    memcpy(buf + nl + 1, key, sizeof key);
    SHA256(buf, nl + 1 + sizeof key, sum);
    unsigned char b64[64];
    EVP_EncodeBlock(b64, key, (int)sizeof key);
    snprintf(out, cap, "%s+%02x%02x%02x%02x+%s", name, sum[0], sum[1], sum[2], sum[3], b64);
}

static void config_checked(void **state)
{
    (void)state;
    static const struct {
        const char *list;
        const char *words;
    } bad[] = {
        {"nope", "unknown database"},
        {"off,sum.golang.org", "no other checksum database"},
        {"sum.golang.org,sum.golang.org", "given twice"},
        {"sum.golang.org https://x?y", "GOSUMDB URL"},
        {",", "no checksum database"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cache_err_t err = {0};
        assert_int_equal(cache_sumdb_list_check(bad[i].list, &err), -EINVAL);
        if (bad[i].words != NULL && strstr(err.msg, bad[i].words) == NULL)
            fail_msg("row %zu: %s", i, err.msg);
    }
    /* sixteen databases at most: seventeen good keys of distinct names */
    char list[17 * 120] = "";
    for (int i = 0; i < 17; i++) {
        char name[32], vkey[120];
        snprintf(name, sizeof name, "db%d.example", i);
        make_vkey(name, vkey, sizeof vkey);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? "," : "", vkey);
        if (i == 15)
            assert_int_equal(cache_sumdb_list_check(list, NULL), 0);
    }
    cache_err_t err = {0};
    assert_int_equal(cache_sumdb_list_check(list, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "at most 16"));
    assert_int_equal(cache_sumdb_list_check(NULL, NULL), 0); /* the default: sum.golang.org */
    assert_int_equal(cache_sumdb_list_check("off", NULL), 0);
    assert_int_equal(cache_sumdb_list_check("sum.golang.org,sum.golang.google.cn", NULL), -EINVAL); /* one name */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_fixture_verifies), cmocka_unit_test(mismatch_stores_nothing),
        cmocka_unit_test(bad_upstream_refused),   cmocka_unit_test(wrong_key_refused),
        cmocka_unit_test(fork_refused),           cmocka_unit_test(bad_stored_answer_replaced),
        cmocka_unit_test(config_checked),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
