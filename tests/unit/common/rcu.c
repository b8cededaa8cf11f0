/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/common/rcu.c: readers on several threads, each in a tight loop of sections that
 * load a shared pointer and check the block it points to, while a writer replaces the pointer a
 * few thousand times, waits with modfs_rcu_synchronize and then poisons the old block (kept aside
 * rather than freed, so malloc cannot hand the same memory back whole). A reader that ever sees a
 * poisoned block fails the test:
 * it would mean synchronize returned while a section could still hold the old pointer. Threads
 * that exit hand their slot back, and a new thread takes it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define READERS 3
#define SWAPS 5000
#define MAGIC 0x5eed5eed5eed5eedull

typedef struct block {
    uint64_t magic[8]; /* all MAGIC while live; poisoned once replaced and waited for */
    uint64_t serial;
    struct block *grave; /* replaced blocks are kept poisoned, never reused, until the end */
} block_t;

static block_t *_Atomic shared;
static atomic_bool stop;
static atomic_uint_fast64_t bad, sections;

static block_t *block_new(uint64_t serial)
{
    block_t *b = malloc(sizeof *b);
    assert_non_null(b);
    for (size_t i = 0; i < 8; i++)
        b->magic[i] = MAGIC;
    b->serial = serial;
    return b;
}

static void *reader_main(void *arg)
{
    (void)arg;
    uint64_t last = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        modfs_rcu_slot_t *s = modfs_rcu_read_enter();
        block_t *b = atomic_load(&shared);
        /* twice, a little apart: a section as long as a rule check */
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < 8; i++)
                if (((volatile block_t *)b)->magic[i] != MAGIC)
                    atomic_fetch_add(&bad, 1);
        if (b->serial < last)
            atomic_fetch_add(&bad, 1); /* a pointer older than one already seen */
        last = b->serial;
        modfs_rcu_read_leave(s);
        atomic_fetch_add_explicit(&sections, 1, memory_order_relaxed);
    }
    return NULL;
}

static void test_swaps_under_readers(void **state)
{
    (void)state;
    atomic_store(&shared, block_new(0));
    atomic_store(&stop, false);
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader_main, NULL), 0);
    block_t *graves = NULL;
    uint64_t seen = 0;
    for (uint64_t n = 1; n <= SWAPS; n++) {
        /* every few swaps, let the readers run some sections first: interleaving without a
         * clock, whatever else the machine is doing */
        if (n % 50 == 0) {
            while (atomic_load(&sections) == seen)
                sched_yield();
            seen = atomic_load(&sections);
        }
        block_t *old = atomic_exchange(&shared, block_new(n));
        modfs_rcu_synchronize();
        /* what freeing would allow: the block's memory changes under any reader still in it
         * (kept, not freed, so that malloc cannot hand it back whole to the next block) */
        memset(old->magic, 0xdd, sizeof old->magic);
        old->grave = graves;
        graves = old;
    }
    atomic_store(&stop, true);
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(atomic_load(&bad), 0);
    assert_true(atomic_load(&sections) >= SWAPS / 50); /* the readers did run meanwhile */
    free(atomic_load(&shared));
    while (graves) {
        block_t *next = graves->grave;
        free(graves);
        graves = next;
    }
}

static void *one_section(void *arg)
{
    (void)arg;
    modfs_rcu_read_leave(modfs_rcu_read_enter());
    return NULL;
}

/* Threads that come and go (libfuse's workers do) reuse slots; synchronize never waits on an
 * exited thread's slot. */
static void test_threads_come_and_go(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, one_section, NULL), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        modfs_rcu_synchronize();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swaps_under_readers),
        cmocka_unit_test(test_threads_come_and_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
