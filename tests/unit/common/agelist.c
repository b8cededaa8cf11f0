/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/common/agelist.c: push makes the newest, unlink from the ends and the middle
 * keeps both directions consistent, touch moves an entry to the front, and an emptied list is
 * empty again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common.h"

typedef struct item {
    int value;
    agelist_link_t age;
} item_t;

/* The values newest to oldest, and checks the links the other way agree. */
static const char *order(const agelist_t *l)
{
    static char out[64];
    size_t o = 0, n = 0;
    out[0] = '\0';
    const agelist_link_t *last = NULL;
    for (const agelist_link_t *a = l->newest; a != NULL; a = a->older) {
        assert_ptr_equal(a->newer, last);
        o += (size_t)snprintf(out + o, sizeof out - o, "%d", AGELIST_ENTRY(a, item_t, age)->value);
        last = a;
        n++;
    }
    assert_ptr_equal(l->oldest, last);
    size_t back = 0;
    for (const agelist_link_t *a = l->oldest; a != NULL; a = a->newer)
        back++;
    assert_int_equal(back, n);
    return out;
}

static void test_order(void **state)
{
    (void)state;
    agelist_t l = {0};
    item_t it[5];
    for (int i = 0; i < 5; i++) {
        it[i].value = i;
        agelist_push(&l, &it[i].age);
    }
    assert_string_equal(order(&l), "43210");
    agelist_unlink(&l, &it[2].age); /* the middle */
    assert_string_equal(order(&l), "4310");
    agelist_unlink(&l, &it[0].age); /* the oldest */
    agelist_unlink(&l, &it[4].age); /* the newest */
    assert_string_equal(order(&l), "31");
    agelist_touch(&l, &it[1].age);
    assert_string_equal(order(&l), "13");
    agelist_touch(&l, &it[1].age); /* already the newest */
    assert_string_equal(order(&l), "13");
    agelist_push(&l, &it[2].age); /* an unlinked entry comes back */
    assert_string_equal(order(&l), "213");
    agelist_unlink(&l, &it[1].age);
    agelist_unlink(&l, &it[2].age);
    agelist_unlink(&l, &it[3].age);
    assert_null(l.newest);
    assert_null(l.oldest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_order)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
