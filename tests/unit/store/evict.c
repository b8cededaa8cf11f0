/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/store/evict.c. The first is the hit path's bookkeeping under a maintenance
 * pass: readers note uses (store_object_note_use queues an object with a reference of its own)
 * while another thread flushes the queue (store_flush_uses) over and over. Every reference the
 * queue took must be dropped exactly once and every object freed at the end: a flush that
 * follows an object's queue link after a reader queued it again would drop references of the
 * next queue and leak those of its own, which the sanitizer build reports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_i.h"

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
    (void)state;
    char dir[] = "/tmp/modfs-evict-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    store_t *s = NULL;
    cache_err_t err = {0};
    assert_int_equal(store_open(dir, false, &s, &err), 0);
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
    store_close(s); /* flushes what is left queued: the last references go */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_uses_flushed_while_noted)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
