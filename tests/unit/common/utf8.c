/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/common/utf8.c and quote.c: the decoder accepts exactly what Go's unicode/utf8
 * accepts (overlong forms, surrogates and values past U+10FFFF are invalid), encoding round-trips,
 * and a quoted name never carries a control byte or broken UTF-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "common.h"

static void test_decode(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        uint32_t rune; /* when len > 0 */
    } cases[] = {
        {"a", 1, 'a'},
        {"\xc3\xa9", 2, 0xe9},
        {"\xe2\x84\xaa", 3, 0x212a},
        {"\xf0\x9f\x98\x80", 4, 0x1f600},
        {"\xc0\x80", 0, 0},         /* overlong NUL */
        {"\xe0\x80\xaf", 0, 0},     /* overlong '/' */
        {"\xed\xa0\x80", 0, 0},     /* surrogate */
        {"\xf4\x90\x80\x80", 0, 0}, /* past U+10FFFF */
        {"\xc3", 0, 0},             /* cut short */
        {"\x80", 0, 0},             /* continuation byte alone */
        {"\xff", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t r = 0;
        size_t n = utf8_decode(cases[i].s, strlen(cases[i].s), &r);
        assert_int_equal(n, cases[i].len);
        if (n > 0) {
            assert_int_equal(r, cases[i].rune);
            uint8_t out[4];
            assert_int_equal(utf8_encode(r, out), n);
            assert_memory_equal(out, cases[i].s, n);
        }
    }
    assert_int_equal(utf8_decode("", 0, &(uint32_t){0}), 0);
    assert_true(utf8_valid("h\xc3\xa9llo", 6));
    assert_false(utf8_valid("h\xc3llo", 5));
    assert_true(ascii_equal_fold("GO.Mod", 6, "go.mod"));
    assert_false(ascii_equal_fold("go.mo", 5, "go.mod"));
}

static void test_quote(void **state)
{
    (void)state;
    char q[64];
    assert_string_equal(str_quote(q, sizeof q, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    assert_string_equal(str_quote(q, sizeof q, "a\nb", 3), "\"a\\x0ab\"");
    /* beyond ASCII, valid UTF-8 too, every byte is escaped: the result is printable ASCII */
    assert_string_equal(str_quote(q, sizeof q, "\xc3\xa9\xff", 3), "\"\\xc3\\xa9\\xff\"");
    assert_string_equal(str_quote(q, sizeof q, "e\xd1\x9com/m", 7), "\"e\\xd1\\x9com/m\"");
    assert_string_equal(str_quote(q, sizeof q, "\xc2\x85", 2), "\"\\xc2\\x85\""); /* a C1 control */
    char long_name[200];
    memset(long_name, 'x', sizeof long_name);
    str_quote(q, sizeof q, long_name, sizeof long_name);
    assert_true(strlen(q) < sizeof q);
    assert_non_null(strstr(q, "...\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
