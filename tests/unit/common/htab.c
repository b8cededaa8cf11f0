/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/common/htab.c: entries found by hash and equality, collisions on one hash kept
 * apart, removal from the middle of a chain, growth past the bucket count keeping every entry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct item {
    htab_link_t link;
    int value;
} item_t;

static bool item_eq(const htab_link_t *l, const void *key)
{
    return ((const item_t *)l)->value == *(const int *)key;
}

static item_t *find(htab_t *t, int v, uint64_t hash)
{
    return (item_t *)htab_find(t, hash, item_eq, &v);
}

static int count_each(htab_link_t *l, void *arg)
{
    (void)l;
    (*(size_t *)arg)++;
    return 0;
}

static void test_grow_and_find(void **state)
{
    (void)state;
    htab_t t;
    assert_int_equal(htab_init(&t, 4), 0);
    enum { N = 10000 };
    item_t *items = calloc(N, sizeof *items);
    for (int i = 0; i < N; i++) {
        items[i].value = i;
        htab_insert(&t, &items[i].link, hash_bytes(&i, sizeof i, 1));
    }
    assert_int_equal(t.count, N);
    assert_true(t.mask + 1 >= N); /* it grew */
    for (int i = 0; i < N; i++)
        assert_ptr_equal(find(&t, i, hash_bytes(&i, sizeof i, 1)), &items[i]);
    int absent = N + 5;
    assert_null(find(&t, absent, hash_bytes(&absent, sizeof absent, 1)));
    for (int i = 0; i < N; i += 2)
        htab_remove(&t, &items[i].link);
    assert_int_equal(t.count, N / 2);
    for (int i = 0; i < N; i++)
        assert_true((find(&t, i, hash_bytes(&i, sizeof i, 1)) != NULL) == (i % 2 == 1));
    size_t seen = 0;
    htab_each(&t, count_each, &seen);
    assert_int_equal(seen, N / 2);
    htab_dispose(&t);
    free(items);
}

static void test_same_hash(void **state)
{
    (void)state;
    htab_t t;
    assert_int_equal(htab_init(&t, 16), 0);
    item_t a = {.value = 1}, b = {.value = 2}, c = {.value = 3};
    htab_insert(&t, &a.link, 42);
    htab_insert(&t, &b.link, 42);
    htab_insert(&t, &c.link, 42);
    assert_ptr_equal(find(&t, 2, 42), &b);
    htab_remove(&t, &b.link); /* the middle of the chain */
    assert_null(find(&t, 2, 42));
    assert_ptr_equal(find(&t, 1, 42), &a);
    assert_ptr_equal(find(&t, 3, 42), &c);
    assert_null(find(&t, 1, 43)); /* equal value, other hash: not the same entry */
    htab_dispose(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_and_find),
        cmocka_unit_test(test_same_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
