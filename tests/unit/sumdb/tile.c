/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/sumdb/tile.c and tlog.c against the tiles golang.org/x/mod/sumdb/tlog wrote: two
 * dumps of one growing database (609 and 309 records, so tiles on levels 0 and 1, full and
 * partial). Every tile path Go wrote parses and prints back; hashes read through the tile reader
 * hash up to Go's signed tree; record and tree proofs built from them check, and fail when one
 * hash is changed; the older tree's hash, computed from the newer tree's tiles, is the one Go
 * signed. Spoiled tiles (short, long, empty, from another tree, garbage) never prove anything.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sumdb_i.h"
#include "testdb.h"
#include "../expect.h"

static char tmp[256];
static char big[400], small[400]; /* dump directories: 609 and 309 records */
static char forked[400];          /* 609 records, the first one different: another tree */
static sumdb_verifier_t verifier;
static sumdb_tree_t big_tree, small_tree;

static int read_tree(const char *dir, sumdb_tree_t *tree)
{
    char path[600];
    snprintf(path, sizeof path, "%s/latest", dir);
    buf_t b = BUF_INIT;
    slice_t text;
    int rc = testdb_read_file(path, &b);
    if (rc == 0)
        rc = sumdb_note_open(b.base, b.len, &verifier, &text, NULL);
    if (rc == 0)
        rc = sumdb_tree_parse(text.base, text.len, tree, NULL);
    buf_dispose(&b);
    return rc;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/modfs-sumdb-tile-XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    char key[400];
    snprintf(key, sizeof key, "%s/key", tmp);
    snprintf(big, sizeof big, "%s/big", tmp);
    snprintf(small, sizeof small, "%s/small", tmp);
    const char *const big_args[] = {"-key-file", key, "-filler", "600", NULL};
    const char *const small_args[] = {"-key-file", key, "-filler", "300", NULL};
    const char *const forked_args[] = {"-key-file", key, "-filler", "600", "-mode", "wronghash", NULL};
    snprintf(forked, sizeof forked, "%s/forked", tmp);
    if (testdb_dump(big, big_args) != 0 || testdb_dump(small, small_args) != 0 ||
        testdb_dump(forked, forked_args) != 0)
        return -1;
    char path[600];
    buf_t b = BUF_INIT;
    snprintf(path, sizeof path, "%s/vkey", big);
    if (testdb_read_file(path, &b) != 0)
        return -1;
    while (b.len && b.base[b.len - 1] == '\n')
        b.len--;
    int rc = sumdb_verifier_parse((const char *)b.base, b.len, &verifier, NULL);
    buf_dispose(&b);
    if (rc != 0 || read_tree(big, &big_tree) != 0 || read_tree(small, &small_tree) != 0)
        return -1;
    return big_tree.n > small_tree.n && small_tree.n > 300 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    testdb_rmtree(tmp);
    return 0;
}

/* ---- a tile source over a dump directory, with spoilers ---- */

typedef enum spoil {
    SPOIL_NONE,
    SPOIL_SHORT,    /* tiles of level `level` lose their last byte */
    SPOIL_LONG,     /* ... gain a byte */
    SPOIL_EMPTY,
    SPOIL_GARBAGE,  /* ... are the right size of made-up bytes */
    SPOIL_OTHER,    /* ... come from the forked dump (another tree of the same size) */
} spoil_t;

typedef struct dir_source {
    const char *dir, *other;
    spoil_t spoil;
    int level;
    int reads, saves;
} dir_source_t;

static int dir_read(void *ctx, const sumdb_tile_t *tiles, size_t n, buf_t *data, bool *cached, cache_err_t *err)
{
    dir_source_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        char rel[SUMDB_TILE_PATH_MAX + 1], path[800];
        assert_true(sumdb_tile_path(&tiles[i], rel, sizeof rel) > 0);
        bool spoil = s->spoil != SPOIL_NONE && tiles[i].l == s->level;
        snprintf(path, sizeof path, "%s/%s", spoil && s->spoil == SPOIL_OTHER ? s->other : s->dir, rel);
        int rc = testdb_read_file(path, &data[i]);
        if (rc != 0)
            return cache_err_set(err, rc, "%s: %s", path, strerror(-rc));
        cached[i] = false;
        s->reads++;
        if (!spoil)
            continue;
        switch (s->spoil) {
        case SPOIL_SHORT:
            data[i].len--;
            break;
        case SPOIL_LONG:
            assert_int_equal(buf_append(&data[i], "x", 1), 0);
            break;
        case SPOIL_EMPTY:
            data[i].len = 0;
            break;
        case SPOIL_GARBAGE:
            for (size_t j = 0; j < data[i].len; j++)
                data[i].base[j] = (uint8_t)(j * 131 + 17);
            break;
        default:
            break;
        }
    }
    return 0;
}

static void dir_save(void *ctx, const sumdb_tile_t *tiles, size_t n, const buf_t *data, const bool *cached)
{
    (void)tiles, (void)data, (void)cached;
    dir_source_t *s = ctx;
    s->saves += (int)n;
}

typedef struct reader {
    sumdb_tree_t tree;
    sumdb_tile_source_t src;
} reader_t;

static int reader_read(void *ctx, const int64_t *indexes, size_t n, sumdb_hash_t *out, cache_err_t *err)
{
    reader_t *r = ctx;
    return sumdb_tile_read_hashes(&r->tree, &r->src, indexes, n, out, err);
}

static sumdb_hash_reader_t make_reader(reader_t *r, const sumdb_tree_t *tree, dir_source_t *s)
{
    r->tree = *tree;
    r->src = (sumdb_tile_source_t){.height = 8, .read = dir_read, .save = dir_save, .ctx = s};
    return (sumdb_hash_reader_t){.read = reader_read, .ctx = r};
}

/* The record text of record id, from Go's data tiles. */
static void record_text(const char *dir, int64_t id, buf_t *out)
{
    sumdb_tile_t t = {.h = 8, .l = -1, .n = id >> 8, .w = 256};
    int64_t total = id < small_tree.n && strcmp(dir, small) == 0 ? small_tree.n : big_tree.n;
    if ((t.n + 1) << 8 > total)
        t.w = (int)(total - (t.n << 8));
    char rel[SUMDB_TILE_PATH_MAX + 1], path[800];
    assert_true(sumdb_tile_path(&t, rel, sizeof rel) > 0);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    buf_t data = BUF_INIT;
    assert_int_equal(testdb_read_file(path, &data), 0);
    /* "<id>\n<text>\n" records back to back; find ours. */
    char head[32];
    int hl = snprintf(head, sizeof head, "%lld\n", (long long)id);
    const uint8_t *p = data.base, *end = data.base + data.len;
    const uint8_t *found = NULL;
    while (p < end) {
        if ((size_t)(end - p) > (size_t)hl && memcmp(p, head, (size_t)hl) == 0 && (p == data.base || p[-1] == '\n') &&
            (p == data.base || p[-2] == '\n')) {
            found = p + hl;
            break;
        }
        const uint8_t *nn = memmem(p, (size_t)(end - p), "\n\n", 2);
        p = nn ? nn + 2 : end;
    }
    assert_non_null(found);
    const uint8_t *stop = memmem(found, (size_t)(end - found), "\n\n", 2);
    assert_non_null(stop);
    buf_reset(out);
    assert_int_equal(buf_append(out, found, (size_t)(stop - found) + 1), 0);
    buf_dispose(&data);
}

/* ---- tests ---- */

static void test_paths(void **state)
{
    (void)state;
    const struct {
        sumdb_tile_t t;
        const char *path;
    } rows[] = {
        {{8, 0, 0, 256}, "tile/8/0/000"},
        {{8, 0, 1234067, 256}, "tile/8/0/x001/x234/067"},
        {{8, 0, 1234067, 5}, "tile/8/0/x001/x234/067.p/5"},
        {{8, -1, 3, 255}, "tile/8/data/003.p/255"},
        {{8, 2, 1000, 256}, "tile/8/2/x001/000"},
        {{1, 63, 999, 1}, "tile/1/63/999.p/1"},
        {{30, 0, 0, 1 << 30}, "tile/30/0/000"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[SUMDB_TILE_PATH_MAX + 1];
        int n = sumdb_tile_path(&rows[i].t, out, sizeof out);
        expect(n > 0 && strcmp(out, rows[i].path) == 0, "format %s: got %s", rows[i].path, n > 0 ? out : "error");
        sumdb_tile_t t;
        int rc = sumdb_tile_parse(rows[i].path, strlen(rows[i].path), &t, NULL);
        expect(rc == 0 && t.h == rows[i].t.h && t.l == rows[i].t.l && t.n == rows[i].t.n && t.w == rows[i].t.w,
               "parse %s: %d", rows[i].path, rc);
    }
    static const char *const bad[] = {
        "tile/8/0/0000", "tile/8/0/x000/067", "tile/8/0/000.p/256", "tile/8/0/000.p/0", "tile/8/0/000.p/01",
        "tile/31/0/000", "tile/0/0/000", "tile/8/64/000", "tile/8/-1/000", "tile/8/0/", "tile/8/0",
        "tile/8/0/abc", "tile/8/0/067/x001", "tile/08/0/000", "tile/8/00/000", "tile/8/0/000.p/", "tile/8/0/000.p",
        "tile/8/0/000/", "/tile/8/0/000", "tiles/8/0/000", "tile/8/data/x", "tile/8/0/x1/000",
        "tile/8/0/x999/x999/x999/x999/x999/x999/999", "tile/8/0/000.p/99999999999", "tile/8/0/0\0000", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sumdb_tile_t t;
        size_t len = strlen(bad[i]);
        if (strcmp(bad[i], "tile/8/0/0") == 0)
            len = 12; /* the one with a NUL inside */
        int rc = sumdb_tile_parse(bad[i], len, &t, NULL);
        expect(rc == -EINVAL, "\"%s\" parsed", bad[i]);
    }
    char small_buf[10];
    sumdb_tile_t t = {8, 0, 1234067, 5};
    expect(sumdb_tile_path(&t, small_buf, sizeof small_buf) == -ENAMETOOLONG, "no room: -ENAMETOOLONG");
    sumdb_tile_t badt = {8, 0, 0, 257};
    expect(sumdb_tile_path(&badt, small_buf, sizeof small_buf) == -EINVAL, "width 257 printed");
    assert_int_equal(failures, 0);
}

/* Every tile path Go wrote parses and prints back the same. */
static int paths_seen;

static int check_path(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    const char *rel = path + strlen(big) + 1;
    sumdb_tile_t t;
    cache_err_t err = {0};
    int rc = sumdb_tile_parse(rel, strlen(rel), &t, &err);
    char again[SUMDB_TILE_PATH_MAX + 1];
    expect(rc == 0 && sumdb_tile_path(&t, again, sizeof again) > 0 && strcmp(again, rel) == 0, "%s: %s", rel, err.msg);
    paths_seen++;
    return 0;
}

static void test_go_paths(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/tile", big);
    assert_int_equal(nftw(dir, check_path, 16, FTW_PHYS), 0);
    assert_true(paths_seen > 10);
    assert_int_equal(failures, 0);
}

static void test_index_math(void **state)
{
    (void)state;
    for (int64_t n = 0; n < 5000; n++) {
        int level;
        int64_t m;
        for (int l = 0; l < 4; l++) {
            int64_t x = sumdb_stored_index(l, n);
            sumdb_stored_split(x, &level, &m);
            expect(level == l && m == n, "split(index(%d, %lld)) = %d, %lld", l, (long long)n, level, (long long)m);
        }
    }
    expect(sumdb_stored_count(0) == 0 && sumdb_stored_count(1) == 1 && sumdb_stored_count(2) == 3 &&
           sumdb_stored_count(3) == 4 && sumdb_stored_count(4) == 7, "stored counts");
    assert_int_equal(failures, 0);
}

/* Go's level-0 tiles hold Go's record hashes, which are ours. */
static void test_record_hashes(void **state)
{
    (void)state;
    dir_source_t s = {.dir = big};
    reader_t r;
    sumdb_hash_reader_t hr = make_reader(&r, &big_tree, &s);
    buf_t text = BUF_INIT;
    static const int64_t ids[] = {0, 1, 8, 255, 256, 300, 511, 512, 608};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        record_text(big, ids[i], &text);
        sumdb_hash_t want, got;
        sumdb_hash_record(text.base, text.len, &want);
        int64_t index = sumdb_stored_index(0, ids[i]);
        cache_err_t err = {0};
        assert_int_equal(hr.read(hr.ctx, &index, 1, &got, &err), 0);
        expect(memcmp(want.b, got.b, 32) == 0, "record %lld: hash differs", (long long)ids[i]);

        /* A record proof from the tiles checks against the signed tree. */
        sumdb_hash_t proof[SUMDB_PROOF_MAX];
        size_t plen;
        assert_int_equal(sumdb_prove_record(big_tree.n, ids[i], &hr, proof, &plen, &err), 0);
        expect(sumdb_check_record(proof, plen, big_tree.n, &big_tree.hash, ids[i], &want, &err) == 0,
               "record %lld: proof does not check: %s", (long long)ids[i], err.msg);
        proof[plen / 2].b[3] ^= 1;
        expect(sumdb_check_record(proof, plen, big_tree.n, &big_tree.hash, ids[i], &want, NULL) == -EPROTO,
               "record %lld: a spoiled proof checks", (long long)ids[i]);
        expect(sumdb_check_record(proof, plen - 1, big_tree.n, &big_tree.hash, ids[i], &want, NULL) == -EPROTO,
               "record %lld: a short proof checks", (long long)ids[i]);
    }
    buf_dispose(&text);
    assert_int_equal(failures, 0);
}

/* The older tree's hash, from the newer tree's tiles, is what Go signed for it; tree proofs check. */
static void test_tree_consistency(void **state)
{
    (void)state;
    dir_source_t s = {.dir = big};
    reader_t r;
    sumdb_hash_reader_t hr = make_reader(&r, &big_tree, &s);
    sumdb_hash_t h, th;
    cache_err_t err = {0};
    assert_int_equal(sumdb_tree_hash(small_tree.n, &hr, &h, &err), 0);
    assert_memory_equal(h.b, small_tree.hash.b, 32);
    assert_int_equal(sumdb_tree_hash(big_tree.n, &hr, &th, &err), 0);
    assert_memory_equal(th.b, big_tree.hash.b, 32);

    static const int64_t sizes[] = {1, 2, 3, 9, 255, 256, 257, 309, 512, 608, 609};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        sumdb_hash_t old, proof[SUMDB_PROOF_MAX];
        size_t plen;
        assert_int_equal(sumdb_tree_hash(sizes[i], &hr, &old, &err), 0);
        assert_int_equal(sumdb_prove_tree(big_tree.n, sizes[i], &hr, proof, &plen, &err), 0);
        expect(sumdb_check_tree(proof, plen, big_tree.n, &big_tree.hash, sizes[i], &old, &err) == 0,
               "size %lld: tree proof does not check: %s", (long long)sizes[i], err.msg);
        if (plen > 0) {
            proof[0].b[0] ^= 0x80;
            expect(sumdb_check_tree(proof, plen, big_tree.n, &big_tree.hash, sizes[i], &old, NULL) == -EPROTO,
                   "size %lld: a spoiled tree proof checks", (long long)sizes[i]);
        }
        old.b[31] ^= 1;
        proof[0].b[0] ^= 0x80;
        expect(sumdb_check_tree(proof, plen, big_tree.n, &big_tree.hash, sizes[i], &old, NULL) == -EPROTO,
               "size %lld: another old hash checks", (long long)sizes[i]);
    }
    /* Out-of-range inputs are refused, not computed. */
    sumdb_hash_t proof[SUMDB_PROOF_MAX];
    size_t plen;
    expect(sumdb_prove_tree(big_tree.n, big_tree.n + 1, &hr, proof, &plen, NULL) == -EINVAL, "n > t proved");
    expect(sumdb_prove_record(big_tree.n, big_tree.n, &hr, proof, &plen, NULL) == -EINVAL, "record t proved");
    expect(sumdb_tree_hash(-1, &hr, &h, NULL) == -EINVAL, "tree -1 hashed");
    int64_t outside = sumdb_stored_index(0, big_tree.n);
    expect(hr.read(hr.ctx, &outside, 1, &h, NULL) == -EINVAL, "a hash outside the tree was read");
    assert_int_equal(failures, 0);
}

/* Spoiled tiles on each level: nothing proves, nothing is saved. Tiles of another tree may
 * hold the same bytes where the trees agree; there they prove the true hash, nowhere a false one. */
static void test_spoiled_tiles(void **state)
{
    (void)state;
    static const struct {
        spoil_t spoil;
        const char *words;
    } kinds[] = {
        {SPOIL_SHORT, "bytes, not"}, {SPOIL_LONG, "bytes, not"}, {SPOIL_EMPTY, "bytes, not"},
        {SPOIL_GARBAGE, "inconsistent tile"}, {SPOIL_OTHER, "inconsistent tile"},
    };
    static const int64_t ids[] = {5, 300, 600};
    sumdb_hash_t truth[3];
    dir_source_t honest = {.dir = big};
    reader_t hr0;
    sumdb_hash_reader_t h0 = make_reader(&hr0, &big_tree, &honest);
    for (size_t i = 0; i < 3; i++) {
        int64_t index = sumdb_stored_index(0, ids[i]);
        assert_int_equal(h0.read(h0.ctx, &index, 1, &truth[i], NULL), 0);
    }
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (int level = 0; level < 2; level++) {
            dir_source_t s = {.dir = big, .other = forked, .spoil = kinds[k].spoil, .level = level};
            reader_t r;
            sumdb_hash_reader_t hr = make_reader(&r, &big_tree, &s);
            for (size_t i = 0; i < 3; i++) {
                int64_t index = sumdb_stored_index(0, ids[i]);
                sumdb_hash_t h;
                cache_err_t err = {0};
                int rc = hr.read(hr.ctx, &index, 1, &h, &err);
                /* Record 0 differs in the forked tree: its level-0 tile 000 and the level-1 tile
                 * above differ; tiles 001 and 002 are the same bytes in both. */
                bool same_bytes = kinds[k].spoil == SPOIL_OTHER && level == 0 && ids[i] >= 256;
                if (same_bytes)
                    expect(rc == 0 && memcmp(h.b, truth[i].b, 32) == 0, "level 0 record %lld: %d %s",
                           (long long)ids[i], rc, err.msg);
                else
                    expect(rc == -EPROTO && strstr(err.msg, kinds[k].words) != NULL,
                           "spoil %d level %d record %lld: got %d \"%s\"", kinds[k].spoil, level, (long long)ids[i],
                           rc, err.msg);
            }
            expect(s.saves == 0 || kinds[k].spoil == SPOIL_OTHER, "spoil %d level %d: spoiled tiles saved",
                   kinds[k].spoil, level);
        }
    dir_source_t s = {.dir = big, .other = forked, .spoil = SPOIL_OTHER, .level = 1};
    reader_t r;
    sumdb_hash_reader_t hr = make_reader(&r, &big_tree, &s);
    sumdb_hash_t h;
    expect(sumdb_tree_hash(big_tree.n, &hr, &h, NULL) == -EPROTO, "another tree's top tile proved ours");
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_go_paths),
        cmocka_unit_test(test_index_math),
        cmocka_unit_test(test_record_hashes),
        cmocka_unit_test(test_tree_consistency),
        cmocka_unit_test(test_spoiled_tiles),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
