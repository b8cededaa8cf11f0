/* SPDX-License-Identifier: MIT */
/* fixture.c — the store's unit tests' temporary store and seeded bodies (fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

int store_fixture_setup(void **state)
{
    store_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/modfs-store-test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    cache_err_t err = {0};
    if (store_open(f->dir, false, &f->s, &err) != 0)
        fail_msg("store_open %s: %s", f->dir, err.msg);
    *state = f;
    return 0;
}

int store_fixture_teardown(void **state)
{
    store_fixture_t *f = *state;
    store_close(f->s);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

void store_fixture_fill(uint8_t *b, size_t n, unsigned seed)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[i] = (uint8_t)x;
    }
}

uint8_t *store_fixture_body(unsigned seed, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    store_fixture_fill(b, n, seed);
    return b;
}
