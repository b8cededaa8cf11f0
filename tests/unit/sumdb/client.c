/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/sumdb/client.c against a real checksum database: tools/fixtures/sumdb's server
 * (golang.org/x/mod/sumdb.NewServer over the fixture modules, a key made per run) on 127.0.0.1,
 * in each of its modes: honest, a tampered record, a wrong signing key, a forked log, a log that
 * grows. The test's callbacks fetch with libcurl and keep the tree head and the cache in files,
 * as the store will; a wrapper spoils answers in transit (truncated tiles, flipped bytes, cut
 * notes) to check that nothing spoiled ever verifies.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sumdb.h"
#include "testdb.h"

static char tmp[256];

/* ---- fixtures: modules.txt ---- */

typedef struct fixture {
    char module[256], version[64], zip_h1[80], gomod_h1[80];
} fixture_t;

static fixture_t fixtures[64];
static size_t nfixtures;

static int load_fixtures(void)
{
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
    return nfixtures > 0 ? 0 : -1;
}

/* ---- the caller's side: callbacks over HTTP and files ---- */

typedef enum spoil {
    SPOIL_NONE,
    SPOIL_TILE_TRUNCATE, /* every tile loses its last byte */
    SPOIL_TILE_FLIP,     /* one bit flipped in every level-0 tile */
    SPOIL_TILE_EMPTY,    /* every tile arrives empty */
    SPOIL_LOOKUP_NOTE,   /* a lookup answer's signature line cut short */
    SPOIL_LOOKUP_ID,     /* a lookup answer names another record number */
    SPOIL_LOOKUP_GARBAGE,
    SPOIL_PARTIAL_GONE,  /* partial tiles answer 404, as once their tile has filled up */
} spoil_t;

typedef struct caller {
    const char *url;
    char latest_path[400];
    char cache_dir[400]; /* "" for no cache */
    bool fresh_lookups;  /* lookups always from the database (they are still written to the cache) */
    spoil_t spoil;
    pthread_mutex_t mu; /* makes write_latest a compare-and-swap */
    int remote_reads, full_tile_reads, cache_writes, security_errors;
    char report[8192];
} caller_t;

static int cb_read_remote(void *ctx, const char *path, buf_t *out, cache_err_t *err)
{
    caller_t *c = ctx;
    bool tile = strncmp(path, "tile/", 5) == 0;
    bool partial = tile && strstr(path, ".p/") != NULL;
    char url[2048];
    if (c->spoil == SPOIL_PARTIAL_GONE && partial) {
        /* Gone only once its tile has filled up, as a database that keeps full tiles only. */
        snprintf(url, sizeof url, "%s/%.*s", c->url, (int)(strstr(path, ".p/") - path), path);
        if (testdb_http(url, false, out) == 200)
            return cache_err_set(err, -ENOENT, "%s: 404", path);
    }
    snprintf(url, sizeof url, "%s/%s", c->url, path);
    long status = testdb_http(url, false, out);
    pthread_mutex_lock(&c->mu);
    c->remote_reads++;
    if (tile && !partial)
        c->full_tile_reads++;
    pthread_mutex_unlock(&c->mu);
    if (status == 404 || status == 410)
        return cache_err_set(err, -ENOENT, "%s: %ld", path, status);
    if (status != 200)
        return cache_err_set(err, -EIO, "%s: status %ld", path, status);
    switch (c->spoil) {
    case SPOIL_TILE_TRUNCATE:
        if (tile && out->len > 0)
            out->len--;
        break;
    case SPOIL_TILE_FLIP:
        if (tile && strncmp(path, "tile/8/0/", 9) == 0 && out->len > 0)
            out->base[out->len / 2] ^= 0x10;
        break;
    case SPOIL_TILE_EMPTY:
        if (tile)
            out->len = 0;
        break;
    case SPOIL_LOOKUP_NOTE:
        if (!tile && out->len > 10)
            out->len -= 10, out->base[out->len - 1] = '\n';
        break;
    case SPOIL_LOOKUP_ID:
        if (!tile && out->len > 0 && out->base[0] >= '0' && out->base[0] < '8')
            out->base[0]++;
        break;
    case SPOIL_LOOKUP_GARBAGE:
        if (!tile)
            for (size_t i = 0; i < out->len; i += 7)
                out->base[i] = (uint8_t)(out->base[i] * 31 + 7);
        break;
    default:
        break;
    }
    return 0;
}

static int cb_read_latest(void *ctx, buf_t *out, cache_err_t *err)
{
    caller_t *c = ctx;
    pthread_mutex_lock(&c->mu);
    int rc = testdb_read_file(c->latest_path, out);
    pthread_mutex_unlock(&c->mu);
    if (rc == -ENOENT)
        return 0;
    return rc == 0 ? 0 : cache_err_set(err, rc, "%s: %s", c->latest_path, strerror(-rc));
}

static int cb_write_latest(void *ctx, slice_t old, slice_t new_head, cache_err_t *err)
{
    caller_t *c = ctx;
    buf_t cur = BUF_INIT;
    pthread_mutex_lock(&c->mu);
    int rc = testdb_read_file(c->latest_path, &cur);
    if (rc == -ENOENT)
        rc = 0;
    if (rc == 0 && (cur.len != old.len || (old.len && memcmp(cur.base, old.base, old.len) != 0)))
        rc = -EAGAIN;
    char tmpname[512];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", c->latest_path);
    if (rc == 0 && (rc = testdb_write_file(tmpname, new_head.base, new_head.len)) == 0 &&
        rename(tmpname, c->latest_path) != 0)
        rc = -errno;
    pthread_mutex_unlock(&c->mu);
    buf_dispose(&cur);
    return rc == 0 || rc == -EAGAIN ? rc : cache_err_set(err, rc, "writing %s", c->latest_path);
}

static int cb_read_cache(void *ctx, const char *path, buf_t *out)
{
    caller_t *c = ctx;
    if (c->fresh_lookups && strncmp(path, "lookup/", 7) == 0)
        return -ENOENT;
    char file[2048];
    snprintf(file, sizeof file, "%s/%s", c->cache_dir, path);
    return testdb_read_file(file, out);
}

static void cb_write_cache(void *ctx, const char *path, slice_t data)
{
    caller_t *c = ctx;
    char file[2048];
    snprintf(file, sizeof file, "%s/%s", c->cache_dir, path);
    /* Written aside and renamed, so a reader in another thread sees all of it or nothing. */
    char tmpname[2100];
    snprintf(tmpname, sizeof tmpname, "%s.%lu", file, (unsigned long)pthread_self());
    assert_int_equal(testdb_write_file(tmpname, data.base, data.len), 0);
    assert_int_equal(rename(tmpname, file), 0);
    pthread_mutex_lock(&c->mu);
    c->cache_writes++;
    pthread_mutex_unlock(&c->mu);
}

static void cb_security_error(void *ctx, const char *report)
{
    caller_t *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->security_errors++;
    snprintf(c->report, sizeof c->report, "%s", report);
    pthread_mutex_unlock(&c->mu);
}

static int case_no;

/* A fresh caller: its own kept-head file, and a cache directory when with_cache. */
static void caller_init(caller_t *c, const testdb_t *db, bool with_cache)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->url = db->url;
    case_no++;
    snprintf(c->latest_path, sizeof c->latest_path, "%s/latest-%d", tmp, case_no);
    if (with_cache)
        snprintf(c->cache_dir, sizeof c->cache_dir, "%s/cache-%d", tmp, case_no);
}

static sumdb_client_t *client_new(caller_t *c, const char *vkey)
{
    sumdb_spec_t spec;
    char value[2048];
    cache_err_t err = {0};
    snprintf(value, sizeof value, "%s %s", vkey, c->url);
    assert_int_equal(sumdb_spec_parse(value, &spec, &err), 0);
    sumdb_ops_t ops = {
        .ctx = c,
        .read_remote = cb_read_remote,
        .read_latest = cb_read_latest,
        .write_latest = cb_write_latest,
        .read_cache = c->cache_dir[0] ? cb_read_cache : NULL,
        .write_cache = c->cache_dir[0] ? cb_write_cache : NULL,
        .security_error = cb_security_error,
    };
    sumdb_client_t *client = NULL;
    int rc = sumdb_client_new(&spec, &ops, &client, &err);
    if (rc != 0)
        fail_msg("sumdb_client_new: %d %s", rc, err.msg);
    return client;
}

static void start(testdb_t *db, const char *const *args)
{
    if (testdb_start(db, args) != 0)
        fail_msg("cannot start the test checksum database (%s)", testdb_server());
}

static int64_t kept_size(const caller_t *c)
{
    buf_t b = BUF_INIT;
    int64_t n = -1;
    if (testdb_read_file(c->latest_path, &b) == 0 && b.len > 21)
        n = strtoll((const char *)b.base + 21, NULL, 10);
    buf_dispose(&b);
    return n;
}

static void expect_lookup_ok(sumdb_client_t *client, const fixture_t *x)
{
    sumdb_lines_t lines;
    cache_err_t err = {0};
    int rc = sumdb_client_lookup(client, x->module, x->version, &lines, &err);
    if (rc != 0)
        fail_msg("lookup %s@%s: %d %s", x->module, x->version, rc, err.msg);
    assert_string_equal(lines.zip_h1, x->zip_h1);
    assert_string_equal(lines.gomod_h1, x->gomod_h1);
    char want[1024];
    snprintf(want, sizeof want, "%s %s %s", x->module, x->version, x->zip_h1);
    assert_string_equal(lines.zip_line, want);
    snprintf(want, sizeof want, "%s %s/go.mod %s", x->module, x->version, x->gomod_h1);
    assert_string_equal(lines.gomod_line, want);
}

static int expect_lookup_fails(sumdb_client_t *client, const fixture_t *x, int want_rc, const char *want_words)
{
    sumdb_lines_t lines;
    cache_err_t err = {0};
    int rc = sumdb_client_lookup(client, x->module, x->version, &lines, &err);
    if (rc != want_rc || strstr(err.msg, want_words) == NULL)
        fail_msg("lookup %s@%s: want %d \"%s\", got %d \"%s\"", x->module, x->version, want_rc, want_words, rc,
                 err.msg);
    assert_string_equal(lines.zip_h1, "");
    return rc;
}

/* ---- tests ---- */

/* Every fixture verifies and comes back with its own lines; sumdb_check agrees; the kept head is
 * the database's. */
static void test_lookup_every_fixture(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    start(&db, NULL);
    caller_t c;
    caller_init(&c, &db, false);
    sumdb_client_t *client = client_new(&c, db.vkey);
    for (size_t i = 0; i < nfixtures; i++) {
        expect_lookup_ok(client, &fixtures[i]);
        cache_err_t err = {0};
        assert_int_equal(sumdb_check(client, fixtures[i].module, fixtures[i].version, fixtures[i].zip_h1,
                                     fixtures[i].gomod_h1, &err), 0);
        assert_int_equal(sumdb_check(client, fixtures[i].module, fixtures[i].version, NULL, NULL, &err), 0);
    }
    int64_t n;
    sumdb_client_latest(client, &n, NULL);
    assert_int_equal(n, (int64_t)nfixtures);
    assert_int_equal(kept_size(&c), (int64_t)nfixtures);
    /* Not in the database: -ENOENT, not a verification failure. */
    fixture_t none = {"example.com/none", "v1.0.0", "", ""};
    expect_lookup_fails(client, &none, -ENOENT, "not found");
    /* Not a module path: refused before anything is asked. */
    fixture_t bad = {"example.com/a b", "v1.0.0", "", ""};
    int before = c.remote_reads;
    expect_lookup_fails(client, &bad, -EINVAL, "not a module path");
    assert_int_equal(c.remote_reads, before);
    sumdb_client_free(client);
    testdb_stop(&db);
}

/* sumdb_check names both hashes when the given ones differ from the database's. */
static void test_check_mismatch(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    start(&db, NULL);
    caller_t c;
    caller_init(&c, &db, false);
    sumdb_client_t *client = client_new(&c, db.vkey);
    const fixture_t *x = &fixtures[0], *y = &fixtures[1];
    cache_err_t err = {0};
    assert_int_equal(sumdb_check(client, x->module, x->version, y->zip_h1, x->gomod_h1, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    assert_non_null(strstr(err.msg, y->zip_h1));
    assert_non_null(strstr(err.msg, x->zip_h1));
    memset(&err, 0, sizeof err);
    assert_int_equal(sumdb_check(client, x->module, x->version, NULL, "h1:AAAA", &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    assert_non_null(strstr(err.msg, "h1:AAAA"));
    assert_non_null(strstr(err.msg, x->gomod_h1));
    sumdb_client_free(client);
    testdb_stop(&db);
}

/* A database that logged a wrong hash: the lookup verifies (the log is honest about its lie), and
 * the check against the module's real hash is a checksum mismatch. */
static void test_wronghash(void **state)
{
    (void)state;
    const fixture_t *x = &fixtures[2];
    char target[400];
    snprintf(target, sizeof target, "%s@%s", x->module, x->version);
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-mode", "wronghash", "-target", target, NULL};
    start(&db, args);
    caller_t c;
    caller_init(&c, &db, false);
    sumdb_client_t *client = client_new(&c, db.vkey);
    cache_err_t err = {0};
    assert_int_equal(sumdb_check(client, x->module, x->version, x->zip_h1, x->gomod_h1, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    assert_non_null(strstr(err.msg, x->zip_h1));
    expect_lookup_ok(client, &fixtures[0]);
    sumdb_client_free(client);
    testdb_stop(&db);
}

/* A lookup answer whose record was changed after the log was built: signature and tree are
 * honest, so only the inclusion proof through the tiles can catch it. */
static void test_tampered_record(void **state)
{
    (void)state;
    const fixture_t *x = &fixtures[1];
    char target[400];
    snprintf(target, sizeof target, "%s@%s", x->module, x->version);
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-mode", "tamper", "-target", target, NULL};
    start(&db, args);
    caller_t c;
    caller_init(&c, &db, true);
    sumdb_client_t *client = client_new(&c, db.vkey);
    expect_lookup_fails(client, x, -EPROTO, "cannot authenticate record data");
    /* Nothing of it was cached as verified. */
    char file[1024];
    snprintf(file, sizeof file, "%s/lookup/%s@%s", c.cache_dir, x->module, x->version);
    assert_int_not_equal(access(file, F_OK), 0);
    expect_lookup_ok(client, &fixtures[0]);
    sumdb_client_free(client);
    testdb_stop(&db);
}

/* Tree heads signed by another key that claims the database key's hash: invalid signature. A
 * client configured with another database's key finds no signature it can verify. */
static void test_wrong_key(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-mode", "wrongkey", NULL};
    start(&db, args);
    caller_t c;
    caller_init(&c, &db, true);
    sumdb_client_t *client = client_new(&c, db.vkey);
    expect_lookup_fails(client, &fixtures[0], -EPROTO, "invalid signature");
    assert_int_equal(kept_size(&c), -1);
    assert_int_equal(c.cache_writes, 0);
    sumdb_client_free(client);
    testdb_stop(&db);

    testdb_t a = TESTDB_INIT, b = TESTDB_INIT;
    start(&a, NULL);
    start(&b, NULL);
    caller_init(&c, &b, false);
    client = client_new(&c, a.vkey); /* same name, a's key, b's database */
    expect_lookup_fails(client, &fixtures[0], -EPROTO, "no verifiable signatures");
    assert_int_equal(kept_size(&c), -1);
    sumdb_client_free(client);
    testdb_stop(&a);
    testdb_stop(&b);
}

/* A database that rewrites its history: the client kept the honest head, the database now serves
 * a longer tree in which an old record differs. SECURITY ERROR, every lookup refused, the kept
 * head untouched; a client started afresh from the kept head refuses too. */
static void test_fork(void **state)
{
    (void)state;
    char keyfile[400];
    snprintf(keyfile, sizeof keyfile, "%s/fork.key", tmp);
    testdb_t db = TESTDB_INIT;
    const char *normal[] = {"-key-file", keyfile, NULL};
    start(&db, normal);
    caller_t c;
    caller_init(&c, &db, true);
    sumdb_client_t *client = client_new(&c, db.vkey);
    expect_lookup_ok(client, &fixtures[0]);
    assert_int_equal(kept_size(&c), (int64_t)nfixtures);
    char vkey[1024];
    snprintf(vkey, sizeof vkey, "%s", db.vkey);
    testdb_stop(&db);

    const char *fork[] = {"-key-file", keyfile, "-mode", "fork", NULL};
    start(&db, fork);
    assert_string_equal(db.vkey, vkey); /* the same database, by its key */
    c.url = db.url;
    expect_lookup_fails(client, &fixtures[1], -ENOTRECOVERABLE, "SECURITY ERROR");
    assert_int_equal(c.security_errors, 1);
    assert_non_null(strstr(c.report, "old database:"));
    assert_non_null(strstr(c.report, "proof of misbehavior:"));
    assert_int_equal(kept_size(&c), (int64_t)nfixtures);
    sumdb_client_free(client);

    /* (fixtures[0]'s answer is in the cache with the honest head, and still verifies: a new
     * question is needed to meet the forked database.) */
    client = client_new(&c, vkey);
    expect_lookup_fails(client, &fixtures[1], -ENOTRECOVERABLE, "SECURITY ERROR");
    assert_int_equal(kept_size(&c), (int64_t)nfixtures);
    sumdb_client_free(client);
    testdb_stop(&db);

    /* The same, forking while running (the control path), seen through "latest". */
    start(&db, NULL);
    caller_init(&c, &db, false);
    client = client_new(&c, db.vkey);
    cache_err_t err = {0};
    assert_int_equal(sumdb_client_refresh(client, &err), 0);
    char url[256];
    buf_t body = BUF_INIT;
    snprintf(url, sizeof url, "%s/_test/fork", db.url);
    assert_int_equal(testdb_http(url, true, &body), 200);
    assert_int_equal(sumdb_client_refresh(client, &err), -ENOTRECOVERABLE);
    assert_non_null(strstr(err.msg, "is not a prefix of"));
    buf_dispose(&body);
    sumdb_client_free(client);
    testdb_stop(&db);
}

static void grow(const testdb_t *db, int n)
{
    char url[256];
    buf_t body = BUF_INIT;
    snprintf(url, sizeof url, "%s/_test/add?n=%d", db->url, n);
    assert_int_equal(testdb_http(url, true, &body), 200);
    buf_dispose(&body);
}

/* The log grows across tile boundaries; each newer head is proven an extension of the kept one,
 * by this client and by a new one started from the kept head. */
static void test_growing_tree(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-filler", "300", NULL};
    start(&db, args);
    caller_t c;
    caller_init(&c, &db, true);
    c.fresh_lookups = true;
    sumdb_client_t *client = client_new(&c, db.vkey);
    int64_t size = (int64_t)nfixtures + 300;
    expect_lookup_ok(client, &fixtures[0]);
    assert_int_equal(kept_size(&c), size);
    static const int steps[] = {1, 200, 11, 256, 1000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        grow(&db, steps[i]);
        size += steps[i];
        expect_lookup_ok(client, &fixtures[i % nfixtures]);
        assert_int_equal(kept_size(&c), size);
        int64_t n;
        sumdb_client_latest(client, &n, NULL);
        assert_int_equal(n, size);
    }
    fixture_t filler = {"example.com/filler/f001700", "v1.0.0", "", ""};
    sumdb_lines_t lines;
    cache_err_t err = {0};
    assert_int_equal(sumdb_client_lookup(client, filler.module, filler.version, &lines, &err), 0);
    assert_int_equal(lines.record, (int64_t)nfixtures + 1699);
    sumdb_client_free(client);

    /* A client that restarts from the kept head, after more growth. */
    grow(&db, 77);
    size += 77;
    client = client_new(&c, db.vkey);
    int64_t n;
    sumdb_client_latest(client, &n, NULL);
    assert_int_equal(n, size - 77);
    expect_lookup_ok(client, &fixtures[nfixtures - 1]);
    assert_int_equal(kept_size(&c), size);
    sumdb_client_free(client);

    /* With the database gone, a client sharing the cache still verifies what was looked up. */
    testdb_stop(&db);
    caller_t offline;
    caller_init(&offline, &db, false);
    snprintf(offline.cache_dir, sizeof offline.cache_dir, "%s", c.cache_dir);
    offline.url = "http://127.0.0.1:1";
    client = client_new(&offline, db.vkey);
    expect_lookup_ok(client, &fixtures[nfixtures - 1]);
    sumdb_client_free(client);
}

/* A cached lookup answer carries an older head whose partial tile the database no longer serves:
 * the client takes the prefix of the full tile, as go does. */
static void test_partial_tile_gone(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-filler", "300", NULL};
    start(&db, args);
    caller_t c;
    caller_init(&c, &db, true);
    sumdb_client_t *client = client_new(&c, db.vkey);
    expect_lookup_ok(client, &fixtures[0]);
    sumdb_client_free(client);
    grow(&db, 300); /* tile 1 of level 0 fills up */

    /* Keep only the cached lookup answer; a new client reads its head's tiles afresh. */
    char tiles[600];
    snprintf(tiles, sizeof tiles, "%s/tile", c.cache_dir);
    testdb_rmtree(tiles);
    caller_t c2;
    caller_init(&c2, &db, false);
    snprintf(c2.cache_dir, sizeof c2.cache_dir, "%s", c.cache_dir);
    c2.spoil = SPOIL_PARTIAL_GONE;
    client = client_new(&c2, db.vkey);
    expect_lookup_ok(client, &fixtures[0]);
    assert_true(c2.full_tile_reads >= 2); /* tile 0 (always full) and tile 1 in place of 001.p/53 */
    sumdb_client_free(client);
    testdb_stop(&db);
}

/* A tree past 65536 records: tiles on levels 0, 1 and 2. */
static void test_three_levels(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-filler", "66000", NULL};
    start(&db, args);
    caller_t c;
    caller_init(&c, &db, false);
    sumdb_client_t *client = client_new(&c, db.vkey);
    expect_lookup_ok(client, &fixtures[3]);
    static const char *const fillers[] = {"example.com/filler/f000001", "example.com/filler/f065528",
                                          "example.com/filler/f066000"};
    for (size_t i = 0; i < 3; i++) {
        sumdb_lines_t lines;
        cache_err_t err = {0};
        if (sumdb_client_lookup(client, fillers[i], "v1.0.0", &lines, &err) != 0)
            fail_msg("%s: %s", fillers[i], err.msg);
    }
    grow(&db, 100);
    expect_lookup_ok(client, &fixtures[4]);
    assert_int_equal(kept_size(&c), (int64_t)nfixtures + 66100);
    sumdb_client_free(client);
    testdb_stop(&db);
}

/* Spoiled answers never verify, each with the error of its kind; the kept head never moves. */
static void test_spoiled_answers(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-filler", "20", NULL};
    start(&db, args);
    static const struct {
        spoil_t spoil;
        const char *words;
    } cases[] = {
        {SPOIL_TILE_TRUNCATE, "bytes, not"},
        {SPOIL_TILE_FLIP, "downloaded inconsistent tile"},
        {SPOIL_TILE_EMPTY, "bytes, not"},
        {SPOIL_LOOKUP_NOTE, "reading tree note"},
        {SPOIL_LOOKUP_ID, "cannot authenticate record data"},
        {SPOIL_LOOKUP_GARBAGE, "malformed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        caller_t c;
        caller_init(&c, &db, true);
        c.spoil = cases[i].spoil;
        sumdb_client_t *client = client_new(&c, db.vkey);
        expect_lookup_fails(client, &fixtures[5], -EPROTO, cases[i].words);
        int64_t n;
        sumdb_client_latest(client, &n, NULL);
        /* A head may have verified (its note was fine) while the tiles did not: that is kept, as
         * in go; a spoiled note never is. */
        if (cases[i].spoil == SPOIL_LOOKUP_NOTE || cases[i].spoil == SPOIL_LOOKUP_GARBAGE)
            assert_int_equal(n, 0);
        char tiles[600];
        snprintf(tiles, sizeof tiles, "%s/tile", c.cache_dir);
        if (cases[i].spoil <= SPOIL_TILE_EMPTY)
            assert_int_not_equal(access(tiles, F_OK), 0); /* no spoiled tile was cached */
        char lookups[600];
        snprintf(lookups, sizeof lookups, "%s/lookup", c.cache_dir);
        assert_int_not_equal(access(lookups, F_OK), 0); /* nor any answer */
        sumdb_client_free(client);
    }
    testdb_stop(&db);
}

/* A kept head that does not verify stops the client at start. */
static void test_bad_kept_head(void **state)
{
    (void)state;
    testdb_t a = TESTDB_INIT, b = TESTDB_INIT;
    start(&a, NULL);
    start(&b, NULL);
    caller_t c;
    caller_init(&c, &a, false);
    buf_t head = BUF_INIT;
    char url[256];
    snprintf(url, sizeof url, "%s/_test/latest", b.url);
    assert_int_equal(testdb_http(url, false, &head), 200);
    assert_int_equal(testdb_write_file(c.latest_path, head.base, head.len), 0);
    sumdb_spec_t spec;
    cache_err_t err = {0};
    assert_int_equal(sumdb_spec_parse(a.vkey, &spec, &err), 0);
    sumdb_ops_t ops = {.ctx = &c, .read_remote = cb_read_remote, .read_latest = cb_read_latest,
                       .write_latest = cb_write_latest};
    sumdb_client_t *client = NULL;
    assert_int_equal(sumdb_client_new(&spec, &ops, &client, &err), -EPROTO);
    assert_null(client);
    assert_non_null(strstr(err.msg, "kept tree head"));
    buf_dispose(&head);
    testdb_stop(&a);
    testdb_stop(&b);
}

/* Lookups from several threads while the log grows: all verify; the kept head ends at the end. */
typedef struct worker {
    sumdb_client_t *client;
    int failures;
    char msg[600];
} worker_t;

static void *worker_run(void *arg)
{
    worker_t *w = arg;
    for (int round = 0; round < 4; round++)
        for (size_t i = 0; i < nfixtures; i++) {
            sumdb_lines_t lines;
            cache_err_t err = {0};
            if (sumdb_client_lookup(w->client, fixtures[i].module, fixtures[i].version, &lines, &err) != 0 ||
                strcmp(lines.zip_h1, fixtures[i].zip_h1) != 0) {
                w->failures++;
                snprintf(w->msg, sizeof w->msg, "%s", err.msg);
            }
        }
    return NULL;
}

static void test_concurrent_lookups(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT;
    const char *args[] = {"-filler", "250", NULL};
    start(&db, args);
    caller_t c;
    caller_init(&c, &db, true);
    c.fresh_lookups = true;
    sumdb_client_t *client = client_new(&c, db.vkey);
    worker_t w[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (worker_t){.client = client};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 5; i++)
        grow(&db, 3 + 50 * i);
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        if (w[i].failures)
            fail_msg("worker %d: %d failures, last: %s", i, w[i].failures, w[i].msg);
    }
    /* One more lookup sees the final tree, whatever the workers saw last. */
    expect_lookup_ok(client, &fixtures[0]);
    int64_t final = (int64_t)nfixtures + 250 + 5 * 3 + 50 * (0 + 1 + 2 + 3 + 4);
    assert_int_equal(kept_size(&c), final);
    sumdb_client_free(client);
    testdb_stop(&db);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (load_fixtures() != 0) {
        fprintf(stderr, "no fixtures at %s\n", testdb_modules());
        return -1;
    }
    snprintf(tmp, sizeof tmp, "/tmp/modfs-sumdb-XXXXXX");
    return mkdtemp(tmp) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    testdb_rmtree(tmp);
    curl_global_cleanup();
    return 0;
}

/* What a proxy checks before it keeps an answer: the tree head's signature by the database's key,
 * the lookup's form; tiles pass; nothing is fetched or merged into a client. */
static void test_check_answer(void **state)
{
    (void)state;
    testdb_t db = TESTDB_INIT, other = TESTDB_INIT;
    const char *wrong[] = {"-mode", "wrongkey", NULL};
    start(&db, NULL);
    start(&other, wrong);
    caller_t c;
    caller_init(&c, &db, false);
    sumdb_client_t *client = client_new(&c, db.vkey);
    sumdb_spec_t spec;
    assert_int_equal(sumdb_spec_parse(db.vkey, &spec, NULL), 0);
    char url[1024], path[400];
    buf_t body = BUF_INIT, bad = BUF_INIT;
    const fixture_t *x = &fixtures[3];
    char emod[256];
    assert_true(modpath_escape(x->module, emod, sizeof emod) > 0);
    snprintf(path, sizeof path, "lookup/%s@%s", emod, x->version);
    snprintf(url, sizeof url, "%s/%s", db.url, path);
    assert_int_equal(testdb_http(url, false, &body), 200);
    cache_err_t err = {0};
    assert_int_equal(sumdb_answer_check(&spec, path, body.base, body.len, &err), 0);
    snprintf(url, sizeof url, "%s/latest", db.url);
    assert_int_equal(testdb_http(url, false, &bad), 200);
    assert_int_equal(sumdb_answer_check(&spec, "latest", bad.base, bad.len, &err), 0);
    /* another key's signature, a cut note, a lookup without its record number */
    snprintf(url, sizeof url, "%s/%s", other.url, path);
    assert_int_equal(testdb_http(url, false, &bad), 200);
    assert_int_equal(sumdb_answer_check(&spec, path, bad.base, bad.len, &err), -EPROTO);
    assert_non_null(strstr(err.msg, "signature"));
    assert_int_equal(sumdb_answer_check(&spec, path, body.base, body.len - 10, &err), -EPROTO);
    const char *nonum = "x\ngarbage\n\n";
    assert_int_equal(sumdb_answer_check(&spec, path, (const uint8_t *)nonum, strlen(nonum), &err), -EPROTO);
    assert_int_equal(sumdb_answer_check(&spec, "latest", body.base, body.len, &err), -EPROTO);
    assert_int_equal(sumdb_answer_check(&spec, "tile/8/0/000.p/9", (const uint8_t *)"x", 1, &err), 0);
    /* nothing was fetched or kept */
    assert_int_equal(c.remote_reads, 0);
    assert_int_equal(kept_size(&c), -1);
    int64_t n;
    sumdb_client_latest(client, &n, NULL);
    assert_int_equal(n, 0);
    buf_dispose(&body);
    buf_dispose(&bad);
    sumdb_client_free(client);
    testdb_stop(&db);
    testdb_stop(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_every_fixture),
        cmocka_unit_test(test_check_mismatch),
        cmocka_unit_test(test_wronghash),
        cmocka_unit_test(test_tampered_record),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_growing_tree),
        cmocka_unit_test(test_partial_tile_gone),
        cmocka_unit_test(test_three_levels),
        cmocka_unit_test(test_spoiled_answers),
        cmocka_unit_test(test_bad_kept_head),
        cmocka_unit_test(test_concurrent_lookups),
        cmocka_unit_test(test_check_answer),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
