/* SPDX-License-Identifier: MIT */
/*
 * fixture.h — what the store's unit tests share: a real store in a fresh temporary directory
 * (cmocka setup and teardown), and bodies of seeded pseudo-random bytes. Random bytes do not
 * compress or deduplicate, so a body's chunks are stored raw and the disk tracks the bytes put;
 * the same seed gives the same bytes, so a test can make a body again to compare what it reads.
 */
#ifndef MODFS_TEST_STORE_FIXTURE_H
#define MODFS_TEST_STORE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct store_fixture {
    char dir[40]; /* the store's directory, removed with everything in it at teardown */
    store_t *s;
} store_fixture_t;

/* cmocka setup: *state becomes a store_fixture_t with an empty store open. 0 (fails the test
 * otherwise). */
int store_fixture_setup(void **state);
/* cmocka teardown: closes the store and removes its directory. */
int store_fixture_teardown(void **state);

/* Fills b[0..n) with the bytes of seed (xorshift64 from a seed-derived start). */
void store_fixture_fill(uint8_t *b, size_t n, unsigned seed);
/* A malloc'd body of n bytes of seed (store_fixture_fill); the caller frees it. */
uint8_t *store_fixture_body(unsigned seed, size_t n);

#endif
