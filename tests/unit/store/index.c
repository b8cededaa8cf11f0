/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/store/index.c. The first is the read path's promise: while the writer is in the
 * middle of a transaction (its lock held, rows written, COMMIT not yet run), every read of the
 * index still answers at once, from the last committed state. The reads run on a second thread
 * joined with a deadline, so a read that waited on the writer fails the test instead of hanging
 * it. The test compiles index.c itself to reach the writer's lock and connection.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_beside_a_write),
        cmocka_unit_test(test_counters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
