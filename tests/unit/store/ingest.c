/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/store/ingest.c: many threads calling store_put on one store at once, as the
 * fetches of a cold `go mod download` do. Their pack syncs and index commits are shared between
 * them (pack.c's group sync, index.c's group commit); every object must still come out stored,
 * whole and readable, each caller with its own handle, and every object counted as committed by
 * exactly one COMMIT. Bodies share their first half (chunks deduplicated across ingests that are
 * committed in the same group) and differ in the rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "store_i.h"

#define THREADS 8
#define PER_THREAD 12
#define BODY (96u << 10)

typedef struct putter {
    store_t *s;
    int t;
    int failed;
    char why[600];
} putter_t;

/* Body n: a half shared by every body (seed 0), then bytes of its own (seed n + 1). */
static uint8_t *body_of(unsigned n)
{
    uint8_t *b = store_fixture_body(0, BODY);
    store_fixture_fill(b + BODY / 2, BODY - BODY / 2, n + 1);
    return b;
}

static void key_of(unsigned n, modkey_buf_t *kb)
{
    char version[32];
    snprintf(version, sizeof version, "v1.0.%u", n);
    assert_int_equal(modkey_make(MODKEY_MOD, "example.com/many", version, &kb->key, NULL), 0);
}

static void *putter_run(void *arg)
{
    putter_t *p = arg;
    for (unsigned i = 0; i < PER_THREAD && !p->failed; i++) {
        unsigned n = (unsigned)p->t * PER_THREAD + i;
        modkey_buf_t kb;
        key_of(n, &kb);
        uint8_t *body = body_of(n);
        store_object_t *o = NULL;
        cache_err_t err = {0};
        if (store_put(p->s, &kb.key, body, BODY, NULL, 1, &o, &err) != 0) {
            p->failed = 1;
            snprintf(p->why, sizeof p->why, "store_put %u: %s", n, err.msg);
        } else {
            store_object_unref(o);
        }
        free(body);
    }
    return NULL;
}

static void test_concurrent_puts(void **state)
{
    store_fixture_t *f = *state;
    store_t *s = f->s;

    putter_t p[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        p[i] = (putter_t){.s = s, .t = i};
        assert_int_equal(pthread_create(&t[i], NULL, putter_run, &p[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (p[i].failed)
            fail_msg("thread %d: %s", i, p[i].why);
    }

    /* Every object stored and readable, byte for byte, through a fresh handle (as a hit is). */
    uint8_t *got = malloc(BODY);
    assert_non_null(got);
    for (unsigned n = 0; n < THREADS * PER_THREAD; n++) {
        modkey_buf_t kb;
        key_of(n, &kb);
        store_object_t *o = NULL;
        if (store_object_open(s, &kb.key, &o) != 0)
            fail_msg("object %u not stored", n);
        uint8_t *want = body_of(n);
        assert_int_equal(store_object_read(o, got, BODY, 0), BODY);
        if (memcmp(got, want, BODY) != 0)
            fail_msg("object %u: bytes differ", n);
        free(want);
        store_object_unref(o);
    }
    free(got);
    store_stats_t st;
    assert_int_equal(store_stats_get(s, &st), 0);
    assert_int_equal(st.objects, THREADS * PER_THREAD);

    /* Each object made visible by exactly one COMMIT; how many COMMITs depends on how the threads
     * met (the grouping itself is proved deterministically in tests/unit/store/index.c). */
    uint64_t commits, objects;
    store_commit_figures(s, &commits, &objects);
    assert_int_equal(objects, THREADS * PER_THREAD);
    assert_true(commits >= 1 && commits <= objects);
    print_message("%llu objects in %llu commits\n", (unsigned long long)objects, (unsigned long long)commits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_puts, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
