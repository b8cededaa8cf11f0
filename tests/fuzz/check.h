/* SPDX-License-Identifier: MIT */
/*
 * check.h — CHECK(cond) for fuzz targets: a promise of the code under test that must hold for
 * every input; breaking it aborts, which libFuzzer reports as a crash with the input.
 */
#ifndef MODFS_FUZZ_CHECK_H
#define MODFS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);                       \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

#endif
