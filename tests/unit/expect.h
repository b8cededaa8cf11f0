/* SPDX-License-Identifier: MIT */
/*
 * expect.h — table-driven checks for cmocka tests: expect() records a failing row with its own
 * message and carries on, so one run reports every bad row of a table, not just the first; the
 * test then asserts that `failures` is zero. Include after <cmocka.h>.
 */
#ifndef MODFS_TEST_EXPECT_H
#define MODFS_TEST_EXPECT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int failures;

/* A table test starts counting, checks each row with expect(), then fails once if a row failed. */
#define TABLE_BEGIN() failures = 0
#define TABLE_END() assert_int_equal(failures, 0)
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* GCC 12 with -fsanitize=undefined believes some table strings may be NULL when printed
 * (-Wformat-overflow); they never are, and this says so in a way it can see. */
__attribute__((unused)) static const char *str(const char *s)
{
    return s ? s : "(null)";
}

__attribute__((format(printf, 2, 3), unused)) static void expect(bool ok, const char *fmt, ...)
{
    if (ok)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    print_error("%s\n", line);
    failures++;
}

#endif
