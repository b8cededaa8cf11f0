/* SPDX-License-Identifier: MIT */
/* Tests of cache/buf.c: growth, the trailing NUL, formatted appends, reset and dispose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common.h"

static void append_grows_and_keeps_nul(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    char big[1000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 100; i++)
        assert_int_equal(buf_append(&b, big, sizeof big), 0);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.base[b.len], 0);
    assert_int_equal(b.base[99999], 'x');
    buf_dispose(&b);
    assert_null(b.base);
    assert_int_equal(b.len, 0);
}

static void appendf_formats_long_text(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    assert_int_equal(buf_appendf(&b, "%s=%d;", "a", 1), 0);
    char long_arg[600];
    memset(long_arg, 'y', sizeof long_arg - 1);
    long_arg[sizeof long_arg - 1] = 0;
    assert_int_equal(buf_appendf(&b, "%s", long_arg), 0); /* longer than the formatter's stack buffer */
    assert_int_equal(b.len, 4 + 599);
    assert_memory_equal(b.base, "a=1;yyy", 7);
    assert_int_equal(strlen((char *)b.base), b.len);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal((char *)b.base, "");
    buf_dispose(&b);
}

static void reserve_rejects_overflow(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    assert_int_equal(buf_append(&b, "ab", 2), 0);
    assert_int_not_equal(buf_reserve(&b, SIZE_MAX - 1), 0);
    assert_int_equal(b.len, 2); /* unchanged after the failure */
    buf_dispose(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(append_grows_and_keeps_nul),
        cmocka_unit_test(appendf_formats_long_text),
        cmocka_unit_test(reserve_rejects_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
