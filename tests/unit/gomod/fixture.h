/* SPDX-License-Identifier: MIT */
/*
 * fixture.h — what the zip unit tests share: a fixture file read whole into memory (the zips
 * the go command made, which the tests parse as a proxy's body would arrive).
 */
#ifndef MODFS_TEST_GOMOD_FIXTURE_H
#define MODFS_TEST_GOMOD_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* The bytes of dir/name, malloc'd (one byte more than *len, so an empty file is a valid
 * pointer); the caller frees them. Fails the test when the file cannot be read. */
uint8_t *gomod_fixture_read(const char *dir, const char *name, size_t *len);

#endif
