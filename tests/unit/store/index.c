/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/store/index.c. The first is the read path's promise: while the writer is in the
 * middle of a transaction (its lock held, rows written, COMMIT not yet run), every read of the
 * index still answers at once, from the last committed state. The reads run on a second thread
 * joined with a deadline, so a read that waited on the writer fails the test instead of hanging
 * it. The test compiles index.c itself to reach the writer's lock and connection.
 * The group commit: ingests that arrive while a commit is under way (here: while the test holds
 * the writer's lock) are committed together by one COMMIT, each with its own result; one whose
 * rows fail (a chunk it counted on is gone: -EAGAIN) is rolled back alone, the others' rows and
 * references are all in.
 * The keys' generation: it stays put while nothing commits (reads included), and moves with
 * every commit that adds or removes a key, this handle's and another handle's on the same file
 * (another process).
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
#include <time.h>

#include "../../../cache/store/index.c"

/* A fresh index in a new temporary directory (dir: room for the name, removed by index_done). */
static store_index_t *index_fresh(char dir[32])
{
    strcpy(dir, "/tmp/modfs-index-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/index.db", dir);
    store_index_t *ix = NULL;
    assert_int_equal(store_index_open(path, &ix, NULL), 0);
    return ix;
}

static void index_done(store_index_t *ix, const char *dir)
{
    store_index_close(ix);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int put_empty(store_index_t *ix, const char *key)
{
    store_row_t row = {0};
    row.info.kind = MODKEY_MOD;
    row.info.stored_at = row.info.fetched_at = 1;
    return store_index_object_put(ix, key, &row, NULL, NULL);
}

typedef struct reads {
    store_index_t *ix;
    int committed, uncommitted, visited;
    store_stats_t stats;
} reads_t;

static int count_key(void *arg, const char *key)
{
    (void)key;
    (*(int *)arg)++;
    return 0;
}

static void *do_reads(void *arg)
{
    reads_t *r = arg;
    store_row_t row;
    r->committed = store_index_object_get(r->ix, "a.b/m/@v/v1.0.0.mod", &row);
    store_row_dispose(&row);
    r->uncommitted = store_index_object_get(r->ix, "a.b/m/@v/v2.0.0.mod", &row);
    store_row_dispose(&row);
    store_index_keys_visit(r->ix, "", count_key, &r->visited);
    store_index_stats(r->ix, &r->stats);
    return NULL;
}

static void test_reads_beside_a_write(void **state)
{
    (void)state;
    char dir[32];
    store_index_t *ix = index_fresh(dir);
    assert_int_equal(put_empty(ix, "a.b/m/@v/v1.0.0.mod"), 0);

    /* The writer, stopped half-way through a transaction. */
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    assert_int_equal(ix_exec(w, "BEGIN IMMEDIATE"), 0);
    assert_int_equal(ix_exec(w, "INSERT INTO objects(key, kind, size, sha256, stored_at, fetched_at, layout) "
                             "VALUES ('a.b/m/@v/v2.0.0.mod', 3, 0, zeroblob(32), 1, 1, x'')"),
                     0);

    reads_t r = {.ix = ix};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, do_reads, &r), 0);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20;
    int jr = pthread_timedjoin_np(t, NULL, &deadline);
    if (jr != 0)
        fail_msg("reads did not finish while the writer held its transaction: they wait on the writer");
    assert_int_equal(r.committed, 0);
    assert_int_equal(r.uncommitted, -ENOENT); /* not committed: not visible */
    assert_int_equal(r.visited, 1);
    assert_int_equal(r.stats.objects, 1);

    assert_int_equal(ix_exec(w, "ROLLBACK"), 0);
    pthread_mutex_unlock(&ix->write_lock);
    index_done(ix, dir);
}

typedef struct second_open {
    const char *path;
    int open_rc, get_rc;
} second_open_t;

static void *do_second_open(void *arg)
{
    second_open_t *o = arg;
    store_index_t *ix = NULL;
    cache_err_t err = {0};
    o->open_rc = store_index_open(o->path, &ix, &err);
    if (o->open_rc == 0) {
        store_row_t row;
        o->get_rc = store_index_object_get(ix, "a.b/m/@v/v1.0.0.mod", &row);
        if (o->get_rc == 0)
            store_row_dispose(&row);
    }
    store_index_close(ix);
    return NULL;
}

/* Opening an index that has its schema asks for no write lock: a `modfs get` beside a server
 * halfway through a commit (or a gc's long transaction) opens and reads at once, where the open
 * used to wait for the lock to run its CREATE statements. */
static void test_open_beside_a_write(void **state)
{
    (void)state;
    char dir[32];
    store_index_t *ix = index_fresh(dir);
    assert_int_equal(put_empty(ix, "a.b/m/@v/v1.0.0.mod"), 0);
    pthread_mutex_lock(&ix->write_lock);
    conn_t *w = &ix->writer;
    assert_int_equal(ix_exec(w, "BEGIN IMMEDIATE"), 0);
    assert_int_equal(ix_exec(w, "INSERT INTO counters(name, value) VALUES ('x', 1)"), 0);

    char path[64];
    snprintf(path, sizeof path, "%s/index.db", dir);
    second_open_t o = {.path = path, .open_rc = 1, .get_rc = 1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, do_second_open, &o), 0);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20; /* the busy timeout is 30 s */
    int jr = pthread_timedjoin_np(t, NULL, &deadline);
    if (jr != 0)
        fail_msg("a second open did not finish while the writer held its transaction: it waits for the lock");
    assert_int_equal(o.open_rc, 0);
    assert_int_equal(o.get_rc, 0);

    assert_int_equal(ix_exec(w, "ROLLBACK"), 0);
    pthread_mutex_unlock(&ix->write_lock);
    index_done(ix, dir);
}

static void test_counters(void **state)
{
    (void)state;
    char dir[32];
    store_index_t *ix = index_fresh(dir);
    store_counters_t d = {.hits = 3, .misses = 2, .upstream_requests = 5, .upstream_errors = 1}, got;
    assert_int_equal(store_index_counters_add(ix, &d), 0);
    assert_int_equal(store_index_counters_add(ix, &d), 0);
    assert_int_equal(store_index_counters_get(ix, &got), 0);
    assert_int_equal(got.hits, 6);
    assert_int_equal(got.misses, 4);
    assert_int_equal(got.upstream_requests, 10);
    assert_int_equal(got.upstream_errors, 2);
    index_done(ix, dir);
}

#define GROUP 8
#define GROUP_BAD 3 /* the ingest whose rows fail */

typedef struct group_put {
    store_index_t *ix;
    int i, ret;
    cache_err_t err;
} group_put_t;

/* A chunk row of an ingest that wrote it: its hash from seed, a location in pack 1. */
static void chunk_fill(store_chunk_t *c, unsigned seed)
{
    memset(c, 0, sizeof *c);
    for (int k = 0; k < 32; k++)
        c->hash[k] = (uint8_t)(seed * 31 + (unsigned)k * 7 + 1);
    c->pack = 1;
    c->offset = 4096u * seed;
    c->stored_size = c->raw_size = 100;
    c->xxh3 = seed;
}

/* Ingest i: a chunk of its own and one every ingest shares; the bad one names, after its own new
 * chunk, a chunk as known (pack 0) that the index does not have. */
static void *group_put_run(void *arg)
{
    group_put_t *g = arg;
    store_chunk_t chunks[3];
    chunk_fill(&chunks[0], 100 + (unsigned)g->i);
    chunk_fill(&chunks[1], 1);
    size_t n = 2;
    if (g->i == GROUP_BAD) {
        chunk_fill(&chunks[2], 999);
        chunks[2].pack = 0;
        n = 3;
    }
    store_row_t row = {.chunks = chunks, .nchunks = n};
    row.info.kind = MODKEY_MOD;
    row.info.size = 100 * n;
    row.info.stored_at = row.info.fetched_at = 1;
    char key[64];
    snprintf(key, sizeof key, "a.b/m%d/@v/v1.0.0.mod", g->i);
    g->ret = store_index_object_put(g->ix, key, &row, NULL, &g->err);
    return NULL;
}

static size_t queued(store_index_t *ix)
{
    size_t n = 0;
    pthread_mutex_lock(&ix->group_lock);
    for (ix_put_t *p = ix->queue; ix->leading && p != NULL; p = p->next)
        n++;
    pthread_mutex_unlock(&ix->group_lock);
    return n;
}

static int64_t refs_of(store_index_t *ix, unsigned seed)
{
    store_chunk_t c;
    chunk_fill(&c, seed);
    conn_t *r = ix_reader_take(ix);
    sqlite3_stmt *s = NULL;
    int64_t refs = -1;
    if (sqlite3_prepare_v2(r->db, "SELECT refs FROM chunks WHERE hash = ?1", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_blob(s, 1, c.hash, 32, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            refs = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    ix_reader_give(ix, r);
    return refs;
}

static void test_group_commit(void **state)
{
    (void)state;
    char dir[32];
    store_index_t *ix = index_fresh(dir);
    group_put_t g[GROUP];
    pthread_t t[GROUP];

    /* A commit under way: the first ingest leads and waits for the writer, the others queue. */
    pthread_mutex_lock(&ix->write_lock);
    for (int i = 0; i < GROUP; i++) {
        g[i] = (group_put_t){.ix = ix, .i = i};
        assert_int_equal(pthread_create(&t[i], NULL, group_put_run, &g[i]), 0);
    }
    for (int waited = 0; queued(ix) < GROUP - 1; waited++) {
        if (waited > 60000)
            fail_msg("the ingests never queued behind the leader (%zu queued)", queued(ix));
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    pthread_mutex_unlock(&ix->write_lock);
    for (int i = 0; i < GROUP; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);

    for (int i = 0; i < GROUP; i++) {
        char key[64];
        snprintf(key, sizeof key, "a.b/m%d/@v/v1.0.0.mod", i);
        store_row_t row;
        int got = store_index_object_get(ix, key, &row);
        if (i == GROUP_BAD) {
            assert_int_equal(g[i].ret, -EAGAIN);
            assert_non_null(strstr(g[i].err.msg, key));
            assert_int_equal(got, -ENOENT);
            continue;
        }
        if (g[i].ret != 0)
            fail_msg("ingest %d: %d %s", i, g[i].ret, g[i].err.msg);
        assert_int_equal(got, 0);
        assert_int_equal(row.nchunks, 2);
        store_row_dispose(&row);
    }
    /* The bad ingest's rows were rolled back alone: its own chunk is not there, the shared one is
     * referenced once per good ingest, each good one's own chunk once. */
    assert_int_equal(refs_of(ix, 1), GROUP - 1);
    assert_int_equal(refs_of(ix, 100 + GROUP_BAD), -1);
    assert_int_equal(refs_of(ix, 100), 1);
    store_stats_t st;
    assert_int_equal(store_index_stats(ix, &st), 0);
    assert_int_equal(st.objects, GROUP - 1);
    assert_int_equal(st.chunks, GROUP); /* GROUP - 1 own chunks and the shared one */

    /* The leader committed what had arrived before it (itself); the next one the rest, at once. */
    uint64_t commits, objects;
    store_index_group_figures(ix, &commits, &objects);
    assert_int_equal(objects, GROUP - 1);
    if (commits > 2)
        fail_msg("%llu commits for %d ingests queued together: not grouped", (unsigned long long)commits,
                 GROUP - 1);
    index_done(ix, dir);
}

static uint64_t generation(store_index_t *ix)
{
    uint64_t g = 0;
    assert_int_equal(store_index_generation(ix, &g), 0);
    return g;
}

static void test_generation(void **state)
{
    (void)state;
    char dir[32];
    store_index_t *ix = index_fresh(dir);
    uint64_t g = generation(ix);
    int visited = 0;
    store_index_keys_visit(ix, "", count_key, &visited);
    assert_int_equal(generation(ix), g);

    assert_int_equal(put_empty(ix, "a.b/m/@v/v1.0.0.mod"), 0);
    uint64_t g1 = generation(ix);
    assert_true(g1 != g);
    assert_int_equal(generation(ix), g1);

    /* another handle on the same index, as another process would have */
    char path[64];
    snprintf(path, sizeof path, "%s/index.db", dir);
    store_index_t *other = NULL;
    assert_int_equal(store_index_open(path, &other, NULL), 0);
    assert_int_equal(put_empty(other, "a.b/m/@v/v2.0.0.mod"), 0);
    uint64_t g2 = generation(ix);
    assert_true(g2 != g1);
    pthread_mutex_lock(&other->write_lock);
    assert_int_equal(ix_exec(&other->writer, "DELETE FROM objects WHERE key = 'a.b/m/@v/v1.0.0.mod'"), 0);
    pthread_mutex_unlock(&other->write_lock);
    assert_true(generation(ix) != g2);
    store_index_close(other);
    index_done(ix, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_beside_a_write),
        cmocka_unit_test(test_open_beside_a_write),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_generation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
