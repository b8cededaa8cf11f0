/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/shared/lease.c's pure parts: a lease body reads back as written, any other body
 * is refused (a waiter then judges the lease by its own lifetime), and expiry is judged by the
 * store's clock with a second's margin for its one-second resolution.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "shared_i.h"
#include "expect.h"

static void test_round_trip(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    assert_int_equal(shared_lease_body_encode("build-7 4242 00ff00ff00ff00ff", 30, &b), 0);
    assert_string_equal((char *)b.base, "modfs-lease 1\nholder build-7 4242 00ff00ff00ff00ff\nttl 30\n");
    char holder[SHARED_HOLDER_MAX];
    unsigned ttl = 0;
    cache_err_t err = {0};
    assert_int_equal(shared_lease_body_decode(b.base, b.len, holder, sizeof holder, &ttl, &err), 0);
    assert_string_equal(holder, "build-7 4242 00ff00ff00ff00ff");
    assert_int_equal(ttl, 30);
    /* what encode refuses */
    assert_int_equal(shared_lease_body_encode("", 30, &b), -EINVAL);
    assert_int_equal(shared_lease_body_encode("a\nb", 30, &b), -EINVAL);
    assert_int_equal(shared_lease_body_encode("a", 0, &b), -EINVAL);
    assert_int_equal(shared_lease_body_encode("a", 86401, &b), -EINVAL);
    buf_dispose(&b);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *rows[] = {
        "",
        "modfs-lease 2\nholder a\nttl 30\n",
        "modfs-lease 1\nttl 30\n",
        "modfs-lease 1\nholder \nttl 30\n",
        "modfs-lease 1\nholder a\x01\nttl 30\n",
        "modfs-lease 1\nholder a\nttl 0\n",
        "modfs-lease 1\nholder a\nttl 030\n",
        "modfs-lease 1\nholder a\nttl 86401\n",
        "modfs-lease 1\nholder a\nttl 3000000\n",
        "modfs-lease 1\nholder a\nttl -1\n",
        "modfs-lease 1\nholder a\nttl 30",
        "modfs-lease 1\nholder a\nttl 30\nmore\n",
        "modfs-lease 1\nholder a\nttl\n",
        "modfs-lease 1\nholder a\nttl 3x\n",
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++) {
        char holder[SHARED_HOLDER_MAX];
        unsigned ttl = 7;
        cache_err_t err = {0};
        int rc = shared_lease_body_decode((const uint8_t *)rows[i], strlen(rows[i]), holder, sizeof holder,
                                          &ttl, &err);
        expect(rc == -EBADMSG && ttl == 7 && err.msg[0], "row %zu: got %d ttl %u", i, rc, ttl);
    }
    /* a holder longer than the caller's room */
    char small[4];
    unsigned ttl;
    const char *body = "modfs-lease 1\nholder abcdef\nttl 30\n";
    expect(shared_lease_body_decode((const uint8_t *)body, strlen(body), small, sizeof small, &ttl, NULL) ==
               -EBADMSG,
           "a holder that does not fit");
    TABLE_END();
}

static void test_expired(void **state)
{
    (void)state;
    /* written at 100 s by the store's clock, lifetime 30 s */
    assert_false(shared_lease_expired(100000, 100000, 30));
    assert_false(shared_lease_expired(100000, 130000, 30));
    assert_false(shared_lease_expired(100000, 131000, 30)); /* the second of resolution */
    assert_true(shared_lease_expired(100000, 131001, 30));
    assert_false(shared_lease_expired(100000, 90000, 30)); /* a clock that went back: alive */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_expired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
