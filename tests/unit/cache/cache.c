/* SPDX-License-Identifier: MIT */
/*
 * Tests of the store through its public API (cache/cache.h), with the module fixtures
 * ($MODFS_FIXTURES, made from real Go sources with golang.org/x/mod/zip) as a file:// upstream:
 * bytes and h1 hashes as upstream has them, member reads, sharing of chunks between versions,
 * the negative cache, freshness and serving stale copies, that invalid bodies store nothing, and
 * the access rules (allow/deny, private) and their replacement under running cache_gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cache.h"

typedef struct fixture {
    char dir[256];      /* temp store */
    char upstream[600]; /* file:// URL of the fixture proxy tree */
    char proxy[512];    /* its path */
    cache_t *cache;
} fixture_t;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

static cache_t *open_store(const char *dir, const char *upstream, unsigned list_ttl)
{
    cache_config_t cfg;
    cache_config_init(&cfg);
    cfg.dir = dir;
    cfg.upstream = upstream;
    cfg.list_ttl_s = list_ttl;
    cfg.retries = 0;
    cfg.connect_timeout_ms = 2000;
    cfg.sumdb = "off"; /* the checksum database has tests of its own (verify.c) */
    cache_t *c = NULL;
    cache_err_t err = {0};
    int rc = cache_open(&cfg, &c, &err);
    if (rc != 0)
        fail_msg("cache_open: %s", err.msg);
    return c;
}

static int setup(void **state)
{
    const char *fixtures = getenv("MODFS_FIXTURES");
    if (fixtures == NULL)
        return -1;
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/modfs-unit-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->proxy, sizeof f->proxy, "%s/proxy", fixtures);
    snprintf(f->upstream, sizeof f->upstream, "file://%s", f->proxy);
    f->cache = open_store(f->dir, f->upstream, 60);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    cache_close(f->cache);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static cache_object_t *get_ok(cache_t *c, const char *key)
{
    modkey_buf_t *kb = malloc(sizeof *kb);
    modkey_t *k = &kb->key;
    cache_err_t err = {0};
    assert_int_equal(modkey_parse(key, strlen(key), k, &err), 0);
    cache_object_t *o = NULL;
    int rc = cache_get(c, k, 0, &o, &err);
    if (rc != 0)
        fail_msg("cache_get %s: %d %s", key, rc, err.msg);
    free(kb);
    return o;
}

static int get_rc(cache_t *c, const char *key, int flags, cache_err_t *err)
{
    modkey_buf_t *kb = malloc(sizeof *kb);
    modkey_t *k = &kb->key;
    assert_int_equal(modkey_parse(key, strlen(key), k, err), 0);
    cache_object_t *o = NULL;
    int rc = cache_get(c, k, flags, &o, err);
    cache_object_unref(o);
    free(kb);
    return rc;
}

static void assert_object_equals_file(cache_object_t *o, const char *path)
{
    size_t len;
    char *want = read_file(path, &len);
    cache_stat_t st;
    cache_object_stat(o, &st);
    assert_int_equal(st.size, len);
    char *got = malloc(len + 1);
    /* read in odd pieces so reads start and end inside chunks */
    size_t off = 0;
    while (off < len) {
        ssize_t n = cache_object_read(o, got + off, 77777, off);
        assert_true(n > 0);
        off += (size_t)n;
    }
    assert_int_equal(cache_object_read(o, got, 10, len), 0);
    assert_memory_equal(got, want, len);
    free(got);
    free(want);
}

static void zip_bytes_and_h1_match_upstream(void **state)
{
    fixture_t *f = *state;
    cache_object_t *o = get_ok(f->cache, "golang.org/x/text/@v/v0.7.0.zip");
    char path[700];
    snprintf(path, sizeof path, "%s/golang.org/x/text/@v/v0.7.0.zip", f->proxy);
    assert_object_equals_file(o, path);
    cache_stat_t st;
    cache_object_stat(o, &st);
    assert_true(st.immutable);
    /* modules.txt has the h1 golang.org/x/mod/sumdb/dirhash computed for this zip */
    size_t len;
    char mpath[600];
    snprintf(mpath, sizeof mpath, "%s/modules.txt", getenv("MODFS_FIXTURES"));
    char *modules = read_file(mpath, &len);
    char want[200];
    snprintf(want, sizeof want, "golang.org/x/text v0.7.0 %s ", st.h1);
    assert_non_null(strstr(modules, want));
    assert_int_equal(strlen(st.h1), 47);
    free(modules);
    cache_object_unref(o);
}

static void spans_cover_the_object(void **state)
{
    fixture_t *f = *state;
    cache_object_t *o = get_ok(f->cache, "golang.org/x/text/@v/v0.7.0.zip");
    char path[700];
    snprintf(path, sizeof path, "%s/golang.org/x/text/@v/v0.7.0.zip", f->proxy);
    size_t len;
    char *want = read_file(path, &len);
    char *got = malloc(len);
    const size_t max = 128 << 10;
    size_t spans = 0;
    for (uint64_t off = 0; off < len; spans++) {
        size_t n = cache_object_span(o, off, max);
        assert_true(n > 0 && n <= max);
        assert_int_equal(cache_object_read(o, got + off, n, off), (ssize_t)n);
        off += n;
    }
    assert_int_equal(cache_object_span(o, len, max), 0);
    assert_memory_equal(got, want, len);
    /* spans end on chunk boundaries, so they are fewer than twice the minimum count */
    assert_true(spans < 2 * (len / max + 1));
    free(got);
    free(want);
    cache_object_unref(o);
}

static void members_inflate_to_their_crc(void **state)
{
    fixture_t *f = *state;
    cache_object_t *o = get_ok(f->cache, "golang.org/x/text/@v/v0.7.0.zip");
    const cache_member_t *ms;
    size_t n;
    assert_int_equal(cache_zip_members(o, &ms, &n), 0);
    assert_true(n > 100);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(ms[i - 1].path, ms[i].path) < 0);
    size_t biggest = 0;
    for (size_t i = 0; i < n; i++) {
        cache_member_reader_t *r;
        assert_int_equal(cache_member_reader_new(o, i, &r), 0);
        uint8_t piece[4099];
        uLong crc = crc32(0, NULL, 0);
        uint64_t off = 0;
        ssize_t got;
        while ((got = cache_member_reader_read(r, piece, sizeof piece, off)) > 0) {
            crc = crc32(crc, piece, (uInt)got);
            off += (uint64_t)got;
        }
        assert_int_equal(got, 0);
        assert_int_equal(off, ms[i].size);
        assert_int_equal(crc, ms[i].crc32);
        cache_member_reader_free(r);
        if (ms[i].size > ms[biggest].size)
            biggest = i;
    }
    /* a read behind the position resumes from a checkpoint and still returns the right bytes */
    cache_member_reader_t *r;
    assert_int_equal(cache_member_reader_new(o, biggest, &r), 0);
    size_t size = (size_t)ms[biggest].size;
    uint8_t *all = malloc(size), *again = malloc(size);
    assert_int_equal(cache_member_reader_read(r, all, size, 0), (ssize_t)size);
    assert_int_equal(cache_member_reader_read(r, again + size / 2, size - size / 2, size / 2),
                     (ssize_t)(size - size / 2));
    assert_int_equal(cache_member_reader_read(r, again, size / 2, 0), (ssize_t)(size / 2));
    assert_memory_equal(all, again, size);
    /* backwards, 4 KiB pages from the end: every read is behind the position (checkpoints) */
    memset(again, 0, size);
    for (size_t end = size; end > 0;) {
        size_t start = end > 4096 ? end - 4096 : 0;
        assert_int_equal(cache_member_reader_read(r, again + start, end - start, start), (ssize_t)(end - start));
        end = start;
        if (end > 8 * 4096 && end < size - 8 * 4096)
            end = 8 * 4096; /* skip the middle: the ends are what matter, and it keeps the test fast */
    }
    assert_memory_equal(all, again, 8 * 4096);
    assert_memory_equal(all + size - 8 * 4096, again + size - 8 * 4096, 8 * 4096);
    free(all);
    free(again);
    cache_member_reader_free(r);
    cache_object_unref(o);
}

static void versions_share_chunks(void **state)
{
    fixture_t *f = *state;
    cache_object_unref(get_ok(f->cache, "golang.org/x/text/@v/v0.7.0.zip"));
    cache_object_unref(get_ok(f->cache, "golang.org/x/text/@v/v0.8.0.zip"));
    cache_stats_t st;
    assert_int_equal(cache_stats_scan(f->cache, &st), 0);
    assert_true(st.logical_bytes > 16000000);
    assert_true(st.unique_bytes < st.logical_bytes * 6 / 10);
    assert_true(st.disk_bytes < st.logical_bytes * 6 / 10);
}

/* The objects the background thread last counted, once they reach want (false after 20 s). */
static bool counts_reach(cache_t *c, uint64_t want)
{
    for (int i = 0; i < 2000; i++) {
        cache_stats_t st;
        cache_stats_get(c, &st);
        if (st.objects == want)
            return true;
        usleep(10000);
    }
    return false;
}

/* The counts come from memory, taken by the background thread: at once for a cache opened with
 * counts_at_open (serve), at its first tick otherwise (a short command never waits for the scan),
 * but either way without a change to the store to prompt them. */
static void counts_taken_after_the_open(void **state)
{
    fixture_t *f = *state;
    cache_object_unref(get_ok(f->cache, "golang.org/x/mod/@v/v0.7.0.mod"));
    cache_object_unref(get_ok(f->cache, "golang.org/x/text/@v/v0.7.0.zip"));
    for (int at_open = 0; at_open < 2; at_open++) {
        cache_close(f->cache);
        cache_config_t cfg;
        cache_config_init(&cfg);
        cfg.dir = f->dir;
        cfg.upstream = "off";
        cfg.sumdb = "off";
        cfg.counts_at_open = at_open;
        cache_err_t err = {0};
        f->cache = NULL;
        if (cache_open(&cfg, &f->cache, &err) != 0)
            fail_msg("cache_open: %s", err.msg);
        if (!counts_reach(f->cache, 2))
            fail_msg("counts_at_open %d: the objects were not counted", at_open);
    }
}

static void small_objects_and_keys(void **state)
{
    fixture_t *f = *state;
    const char *keys[] = {"golang.org/x/text/@v/v0.7.0.info", "golang.org/x/text/@v/v0.7.0.mod",
                          "golang.org/x/text/@v/list", "example.com/!upper/!lib/@v/v1.2.3.mod"};
    for (size_t i = 0; i < 4; i++) {
        cache_object_t *o = get_ok(f->cache, keys[i]);
        char path[700];
        snprintf(path, sizeof path, "%s/%s", f->proxy, keys[i]);
        assert_object_equals_file(o, path);
        assert_non_null(cache_object_bytes(o).base); /* small: kept whole in memory */
        cache_object_unref(o);
    }
    char seen[4096] = "";
    int visit(void *arg, const modkey_t *key);
    assert_int_equal(cache_keys_visit(f->cache, "golang.org/x/text/@v/v0.7.0.", visit, seen), 0);
    assert_string_equal(seen, "golang.org/x/text/@v/v0.7.0.info;golang.org/x/text/@v/v0.7.0.mod;");
}

int visit(void *arg, const modkey_t *key)
{
    strcat(arg, key->escaped);
    strcat(arg, ";");
    return 0;
}

static void nofetch_and_notfound(void **state)
{
    fixture_t *f = *state;
    cache_err_t err = {0};
    assert_int_equal(get_rc(f->cache, "golang.org/x/mod/@v/v0.7.0.mod", CACHE_GET_NOFETCH, &err), -EAGAIN);
    assert_int_equal(get_rc(f->cache, "golang.org/x/mod/@v/v0.7.0.mod", 0, &err), 0);
    assert_int_equal(get_rc(f->cache, "golang.org/x/mod/@v/v0.7.0.mod", CACHE_GET_NOFETCH, &err), 0);

    cache_stats_t before, after;
    cache_stats_get(f->cache, &before);
    assert_int_equal(get_rc(f->cache, "example.com/nothere/@v/list", 0, &err), -ENOENT);
    assert_int_equal(err.upstream_status, 404);
    for (int i = 0; i < 5; i++)
        assert_int_equal(get_rc(f->cache, "example.com/nothere/@v/list", 0, &err), -ENOENT);
    cache_stats_get(f->cache, &after);
    assert_int_equal(after.upstream_requests, before.upstream_requests + 1); /* remembered */
}

static void stale_list_served_when_upstream_fails(void **state)
{
    fixture_t *f = *state;
    cache_object_t *o = get_ok(f->cache, "example.com/multi/@v/list");
    cache_object_unref(o);
    cache_object_unref(get_ok(f->cache, "golang.org/x/mod/@v/v0.7.0.mod"));
    cache_close(f->cache);
    /* nothing listens on port 1: every fetch fails at connect */
    f->cache = open_store(f->dir, "http://127.0.0.1:1", 0);
    o = get_ok(f->cache, "example.com/multi/@v/list");
    char path[700];
    snprintf(path, sizeof path, "%s/example.com/multi/@v/list", f->proxy);
    assert_object_equals_file(o, path);
    cache_object_unref(o);
    /* after one failed refresh, the stale copy is served without asking upstream again */
    cache_stats_t before, after;
    cache_stats_get(f->cache, &before);
    for (int i = 0; i < 5; i++)
        cache_object_unref(get_ok(f->cache, "example.com/multi/@v/list"));
    cache_stats_get(f->cache, &after);
    assert_int_equal(after.upstream_requests, before.upstream_requests);
    /* an immutable object never asks upstream again */
    cache_err_t err = {0};
    assert_int_equal(get_rc(f->cache, "golang.org/x/mod/@v/v0.7.0.mod", 0, &err), 0);
    cache_close(f->cache);
    f->cache = open_store(f->dir, f->upstream, 60);
}

static void invalid_bodies_store_nothing(void **state)
{
    fixture_t *f = *state;
    /* an upstream whose v1.0.0.info names another version, and whose zip is not a zip */
    char bad[300], cmd[1200];
    snprintf(bad, sizeof bad, "%s/bad", f->dir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/example.com/evil/@v && printf '{\"Version\":\"v9.9.9\"}' > %s/example.com/evil/@v/v1.0.0.info"
             " && printf 'PK not a zip' > %s/example.com/evil/@v/v1.0.0.zip",
             bad, bad, bad);
    assert_int_equal(system(cmd), 0);
    char url[400];
    snprintf(url, sizeof url, "file://%s", bad);
    cache_close(f->cache);
    f->cache = open_store(f->dir, url, 60);
    cache_err_t err = {0};
    assert_int_equal(get_rc(f->cache, "example.com/evil/@v/v1.0.0.info", 0, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "v9.9.9"));
    assert_int_equal(get_rc(f->cache, "example.com/evil/@v/v1.0.0.zip", 0, &err), -EBADMSG);
    char seen[4096] = "";
    assert_int_equal(cache_keys_visit(f->cache, "example.com/evil/", visit, seen), 0);
    assert_string_equal(seen, "");
    cache_close(f->cache);
    f->cache = open_store(f->dir, f->upstream, 60);
}

typedef struct access_reader {
    cache_t *cache;
    atomic_bool stop;
    atomic_uint refused, served; /* by every reader thread */
} access_reader_t;

/* Reads a stored object over and over while the rules change under it. */
static void *access_read_loop(void *arg)
{
    access_reader_t *r = arg;
    while (!atomic_load(&r->stop)) {
        cache_err_t err = {0};
        int rc = get_rc(r->cache, "golang.org/x/text/@v/v0.7.0.mod", CACHE_GET_NOFETCH, &err);
        assert_true(rc == 0 || rc == -EACCES);
        atomic_fetch_add(rc == 0 ? &r->served : &r->refused, 1);
        modkey_buf_t kb;
        assert_int_equal(modkey_parse("golang.org/x/text/@v/list", 25, &kb.key, NULL), 0);
        (void)cache_key_is_private(r->cache, &kb.key);
    }
    return NULL;
}

static void access_rules_swap_whole(void **state)
{
    fixture_t *f = *state;
    cache_object_unref(get_ok(f->cache, "golang.org/x/text/@v/v0.7.0.mod"));
    cache_err_t err = {0};
    cache_access_t *a = NULL;

    /* a bad set is refused whole, naming the rule */
    assert_int_equal(cache_access_new(NULL, "golang.org/x@~v1", NULL, &a, &err), -EINVAL);
    assert_null(a);
    assert_non_null(strstr(err.msg, "deny rule"));
    assert_int_equal(cache_access_new(NULL, NULL, "a.example,[bad", &a, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "private modules"));

    /* deny, even what the store holds; the message names the rule */
    assert_int_equal(cache_access_new(NULL, "golang.org/x/text@<v0.8.0", "corp.example", &a, &err), 0);
    cache_access_set(f->cache, a);
    assert_int_equal(get_rc(f->cache, "golang.org/x/text/@v/v0.7.0.mod", CACHE_GET_NOFETCH, &err), -EACCES);
    assert_non_null(strstr(err.msg, "golang.org/x/text@<v0.8.0"));
    modkey_buf_t kb;
    assert_int_equal(modkey_parse("corp.example/lib/@v/list", 24, &kb.key, NULL), 0);
    assert_true(cache_key_is_private(f->cache, &kb.key));

    /* replaced while readers run: each read sees one set or the other, never freed memory
     * (the sanitizer build checks that) */
    access_reader_t r = {.cache = f->cache};
    pthread_t tids[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&tids[i], NULL, access_read_loop, &r), 0);
    /* at least 400 swaps, and on until the readers have met both sets (a generous deadline: the
     * machine may be busy) */
    time_t deadline = time(NULL) + 60;
    for (int round = 0; round < 400 || ((atomic_load(&r.served) == 0 || atomic_load(&r.refused) == 0) &&
                                        time(NULL) < deadline);
         round++) {
        bool deny = round % 2 == 0;
        assert_int_equal(cache_access_new(NULL, deny ? "golang.org/x/text" : NULL, deny ? NULL : "corp.example", &a,
                                          &err),
                         0);
        cache_access_set(f->cache, a);
        if (round % 16 == 0)
            sched_yield();
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(tids[i], NULL);
    assert_true(atomic_load(&r.served) > 0 && atomic_load(&r.refused) > 0);
    /* the set installed last is the one in force */
    assert_int_equal(cache_access_new(NULL, NULL, "corp.example", &a, &err), 0);
    cache_access_set(f->cache, a);
    assert_int_equal(get_rc(f->cache, "golang.org/x/text/@v/v0.7.0.mod", CACHE_GET_NOFETCH, &err), 0);
    assert_true(cache_key_is_private(f->cache, &kb.key));
    assert_int_equal(cache_access_new(NULL, NULL, NULL, &a, &err), 0);
    cache_access_set(f->cache, a);
    assert_false(cache_key_is_private(f->cache, &kb.key));
}

int main(void)
{
    if (getenv("MODFS_FIXTURES") == NULL) {
        fprintf(stderr, "MODFS_FIXTURES not set\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(zip_bytes_and_h1_match_upstream, setup, teardown),
        cmocka_unit_test_setup_teardown(spans_cover_the_object, setup, teardown),
        cmocka_unit_test_setup_teardown(members_inflate_to_their_crc, setup, teardown),
        cmocka_unit_test_setup_teardown(versions_share_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(small_objects_and_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(counts_taken_after_the_open, setup, teardown),
        cmocka_unit_test_setup_teardown(nofetch_and_notfound, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_list_served_when_upstream_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_bodies_store_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(access_rules_swap_whole, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
