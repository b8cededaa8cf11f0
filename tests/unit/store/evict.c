/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/store/evict.c and compact.c through the store's own API, on a real store in a
 * temporary directory: what a maintenance pass keeps and what it gives back, and the hit path's
 * bookkeeping under it.
 *   - a one-off scan does not push out objects that are read again (S3-FIFO's promise);
 *   - an object with a handle open is not evicted, and stays readable;
 *   - replaced copies of a list are given back to the disk;
 *   - an object larger than the whole budget is refused and nothing is stored;
 *   - the disk stays within the budget plus a segment after every put;
 *   - readers note uses (store_object_note_use queues an object with a reference of its own)
 *     while another thread flushes the queue (store_flush_uses) over and over: every reference
 *     the queue took is dropped exactly once and every object freed at the end (a flush that
 *     followed an object's queue link after a reader queued it again would drop references of
 *     the next queue and leak those of its own, which the sanitizer build reports).
 * Bodies are random bytes, so nothing compresses or deduplicates and disk tracks bytes put.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "store_i.h"

#define OBJ (96u << 10)    /* body of one test object */
#define BUDGET (2u << 20)  /* 2 MiB: the segment is its least, 1 MiB */
#define SEGMENT (1u << 20)

/* The shared fixture's store, with the test budget. */
static int setup(void **state)
{
    store_fixture_setup(state);
    store_fixture_t *f = *state;
    store_set_budget(f->s, BUDGET);
    return 0;
}

static void key_of(modkey_buf_t *kb, modkey_kind_t kind, unsigned i)
{
    char module[64];
    snprintf(module, sizeof module, "example.com/m%03u", i);
    assert_int_equal(modkey_make(kind, module, kind == MODKEY_LIST ? NULL : "v1.0.0", &kb->key, NULL), 0);
}

/* Puts object i (a .mod key; the store does not look inside) and returns its handle. */
static store_object_t *put(store_t *s, unsigned i, size_t n, unsigned seed)
{
    modkey_buf_t kb;
    key_of(&kb, MODKEY_MOD, i);
    uint8_t *b = store_fixture_body(seed, n);
    store_object_t *o = NULL;
    cache_err_t err = {0};
    int rc = store_put(s, &kb.key, b, n, NULL, 1, &o, &err);
    free(b);
    if (rc != 0)
        fail_msg("store_put %u: %s", i, err.msg);
    return o;
}

/* Opens object i: a handle (a hit, noted as a use) or NULL when it is not stored. */
static store_object_t *open_obj(store_t *s, unsigned i)
{
    modkey_buf_t kb;
    key_of(&kb, MODKEY_MOD, i);
    store_object_t *o = NULL;
    if (store_object_open(s, &kb.key, &o) != 0)
        return NULL;
    return o;
}

static bool stored_whole(store_t *s, unsigned i, unsigned seed)
{
    store_object_t *o = open_obj(s, i);
    if (o == NULL)
        return false;
    uint8_t *want = store_fixture_body(seed, OBJ), *got = malloc(OBJ);
    bool same = store_object_read(o, got, OBJ, 0) == (ssize_t)OBJ && memcmp(got, want, OBJ) == 0;
    free(want);
    free(got);
    store_object_unref(o);
    assert_true(same); /* stored means whole: never a damaged copy */
    return true;
}

static void test_scan_does_not_push_out_what_is_read(void **state)
{
    store_fixture_t *f = *state;
    /* 4 hot objects, each read after every new one; 60 one-off objects pass through: 6 MiB
     * through a 2 MiB budget. */
    for (unsigned hot = 0; hot < 4; hot++)
        store_object_unref(put(f->s, hot, OBJ, hot));
    for (unsigned i = 100; i < 160; i++) {
        store_object_unref(put(f->s, i, OBJ, i));
        for (unsigned hot = 0; hot < 4; hot++) {
            store_object_t *o = open_obj(f->s, hot);
            assert_non_null(o); /* never evicted while it keeps being read */
            store_object_note_use(o);
            store_object_unref(o);
        }
        if (i % 8 == 0)
            assert_int_equal(store_maintain(f->s, false, NULL), 0); /* the background pass */
        assert_true(store_usage(f->s) <= BUDGET + SEGMENT);
    }
    for (unsigned hot = 0; hot < 4; hot++)
        assert_true(stored_whole(f->s, hot, hot));
    unsigned cold_left = 0;
    for (unsigned i = 100; i < 160; i++)
        cold_left += stored_whole(f->s, i, i);
    assert_true(cold_left < 20); /* most of the scan is gone */
    store_life_stats_t st;
    store_life_stats(f->s, &st);
    assert_true(st.evictions >= 40);
    assert_true(st.reclaimed_bytes > 0);
}

static void test_open_object_is_not_evicted(void **state)
{
    store_fixture_t *f = *state;
    store_object_t *held = put(f->s, 0, OBJ, 0);
    for (unsigned i = 1; i < 50; i++) /* 4.7 MiB after it, nothing read again */
        store_object_unref(put(f->s, i, OBJ, i));
    assert_int_equal(store_maintain(f->s, false, NULL), 0);
    uint8_t *want = store_fixture_body(0, OBJ), *got = malloc(OBJ);
    assert_int_equal(store_object_read(held, got, OBJ, 0), OBJ);
    assert_memory_equal(got, want, OBJ);
    free(want);
    free(got);
    store_object_unref(held);
    assert_true(stored_whole(f->s, 0, 0)); /* still in the index, not only readable */
    assert_false(stored_whole(f->s, 1, 1)); /* the oldest unread one went */
}

static void test_replaced_list_is_given_back(void **state)
{
    store_fixture_t *f = *state;
    store_set_budget(f->s, 0); /* no budget: garbage alone must be collected */
    modkey_buf_t kb;
    key_of(&kb, MODKEY_LIST, 7);
    for (unsigned round = 0; round < 40; round++) { /* 3.75 MiB of replaced lists */
        uint8_t *b = store_fixture_body(1000 + round, OBJ);
        store_object_t *o = NULL;
        assert_int_equal(store_put(f->s, &kb.key, b, OBJ, NULL, round + 1, &o, NULL), 0);
        store_object_unref(o);
        free(b);
    }
    /* the write pack is never compacted while written to: a budget makes packs small enough to
     * rotate, as a real store with a budget has */
    store_set_budget(f->s, 16u << 20);
    uint8_t *b = store_fixture_body(2000, OBJ);
    store_object_t *o = NULL;
    assert_int_equal(store_put(f->s, &kb.key, b, OBJ, NULL, 100, &o, NULL), 0);
    store_object_unref(o);
    free(b);
    store_life_report_t r = {0};
    assert_int_equal(store_maintain(f->s, true, &r), 0);
    assert_true(r.gc_chunks > 0);
    assert_true(store_usage(f->s) < 3 * OBJ + SEGMENT); /* one list, not forty */
}

static void test_object_over_the_budget_is_refused(void **state)
{
    store_fixture_t *f = *state;
    modkey_buf_t kb;
    key_of(&kb, MODKEY_MOD, 1);
    size_t n = BUDGET + 1;
    uint8_t *b = store_fixture_body(1, n);
    store_object_t *o = NULL;
    cache_err_t err = {0};
    assert_int_equal(store_put(f->s, &kb.key, b, n, NULL, 1, &o, &err), -EDQUOT);
    assert_non_null(strstr(err.msg, "budget"));
    assert_null(o);
    free(b);
    assert_null(open_obj(f->s, 1));
    store_stats_t st;
    assert_int_equal(store_stats_get(f->s, &st), 0);
    assert_int_equal(st.objects, 0);
    assert_int_equal(st.chunks, 0);
}

#define OBJECTS 8

typedef struct readers {
    store_object_t *objs[OBJECTS];
    atomic_bool stop;
} readers_t;

static void *note_loop(void *arg)
{
    readers_t *r = arg;
    for (unsigned i = 0; !atomic_load(&r->stop); i++)
        store_object_note_use(r->objs[i % OBJECTS]);
    return NULL;
}

static void test_uses_flushed_while_noted(void **state)
{
    store_fixture_t *f = *state;
    store_t *s = f->s;
    cache_err_t err = {0};
    readers_t r = {0};
    for (int i = 0; i < OBJECTS; i++) {
        char key[64], body[64];
        snprintf(key, sizeof key, "example.com/m/@v/v1.0.%d.mod", i);
        int n = snprintf(body, sizeof body, "module example.com/m // %d\n", i);
        modkey_buf_t kb;
        assert_int_equal(modkey_parse(key, strlen(key), &kb.key, NULL), 0);
        assert_int_equal(store_put(s, &kb.key, (const uint8_t *)body, (size_t)n, NULL, 1, &r.objs[i], &err), 0);
    }
    pthread_t tids[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&tids[i], NULL, note_loop, &r), 0);
    /* flushes for a while: a few thousand, however busy the machine is */
    time_t end = time(NULL) + 2;
    for (int i = 0; i < 2000 || time(NULL) < end; i++)
        assert_int_equal(store_flush_uses(s), 0);
    atomic_store(&r.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(tids[i], NULL);
    for (int i = 0; i < OBJECTS; i++)
        store_object_unref(r.objs[i]);
    /* the teardown's store_close flushes what is left queued: the last references go */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan_does_not_push_out_what_is_read, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_open_object_is_not_evicted, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_replaced_list_is_given_back, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_object_over_the_budget_is_refused, setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_uses_flushed_while_noted, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
