/* SPDX-License-Identifier: MIT */
/* Tests of http/clients.c: the miss bucket (burst, rate, Retry-After), aborted streams counted
 * per client across connections, and a table whose size stays bounded whatever ids arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http_i.h"

static http_client_id_t ipv4(uint32_t a)
{
    http_client_id_t id;
    memset(&id, 0, sizeof id);
    id.b[0] = HTTP_CLIENT_IPV4;
    memcpy(id.b + 1, &a, 4);
    return id;
}

static void bucket_gives_burst_then_rate(void **state)
{
    (void)state;
    http_clients_t *cs = http_clients_new(10, 5); /* 10 a second, 5 at once */
    assert_non_null(cs);
    http_client_id_t a = ipv4(1), b = ipv4(2);
    uint64_t t = 1000000;
    http_client_t *ca = http_clients_acquire(cs, &a, t);
    unsigned retry = 0;
    for (int i = 0; i < 5; i++)
        assert_true(http_clients_take_miss(cs, ca, t, &retry));
    assert_false(http_clients_take_miss(cs, ca, t, &retry));
    assert_int_equal(retry, 1); /* 100 ms to the next one, said in whole seconds */
    /* another client is not touched by a's flood */
    http_client_t *cb = http_clients_acquire(cs, &b, t);
    assert_true(http_clients_take_miss(cs, cb, t, &retry));
    /* 250 ms later two more (10 a second), not three */
    assert_true(http_clients_take_miss(cs, ca, t + 250, &retry));
    assert_true(http_clients_take_miss(cs, ca, t + 250, &retry));
    assert_false(http_clients_take_miss(cs, ca, t + 250, &retry));
    /* an hour later the bucket is full again, not fuller */
    for (int i = 0; i < 5; i++)
        assert_true(http_clients_take_miss(cs, ca, t + 3600000, &retry));
    assert_false(http_clients_take_miss(cs, ca, t + 3600000, &retry));
    http_clients_release(cs, ca);
    http_clients_release(cs, cb);
    http_clients_free(cs);

    /* rate 0: no limit */
    cs = http_clients_new(0, 5);
    ca = http_clients_acquire(cs, &a, t);
    for (int i = 0; i < 10000; i++)
        assert_true(http_clients_take_miss(cs, ca, t, &retry));
    http_clients_release(cs, ca);
    http_clients_free(cs);
}

static void aborts_count_per_client_not_per_connection(void **state)
{
    (void)state;
    http_clients_t *cs = http_clients_new(10, 5);
    http_client_id_t a = ipv4(7), b = ipv4(8);
    uint64_t t = 5000000;
    http_client_t *ca = http_clients_acquire(cs, &a, t);
    /* the limit spread over many connections, reconnecting every 50 */
    for (int i = 0; i < HTTP_ABUSE_LIMIT; i++)
        assert_false(http_clients_note_abort(cs, ca, 100 + (uint64_t)i / 50, t));
    /* one more: the connection it came on is cut, once */
    assert_true(http_clients_note_abort(cs, ca, 200, t));
    assert_false(http_clients_note_abort(cs, ca, 200, t));
    /* and a new connection of the same client is cut at its first abort */
    assert_true(http_clients_note_abort(cs, ca, 201, t + 1000));
    /* another client is not */
    http_client_t *cb = http_clients_acquire(cs, &b, t);
    assert_false(http_clients_note_abort(cs, cb, 300, t));
    /* the window passes: counting starts again */
    assert_false(http_clients_note_abort(cs, ca, 202, t + HTTP_ABUSE_WINDOW_MS + 2000));
    http_clients_release(cs, ca);
    http_clients_release(cs, cb);
    http_clients_free(cs);
}

static void table_stays_bounded(void **state)
{
    (void)state;
    http_clients_t *cs = http_clients_new(10, 5);
    uint64_t t = 9000000;
    unsigned retry;
    /* a million addresses, each spending its budget: at most 4096 entries ever exist */
    for (uint32_t i = 0; i < 1000000; i++) {
        http_client_id_t id = ipv4(i);
        http_client_t *c = http_clients_acquire(cs, &id, t);
        http_clients_take_miss(cs, c, t, &retry);
        http_clients_release(cs, c);
        if (i % 1000 == 0)
            t++;
    }
    assert_true(http_clients_count(cs) <= 4096);

    /* every entry pinned: newcomers share the overflow entry, and its one bucket */
    http_clients_free(cs);
    cs = http_clients_new(10, 5);
    static http_client_t *pinned[4096];
    for (uint32_t i = 0; i < 4096; i++) {
        http_client_id_t id = ipv4(i);
        pinned[i] = http_clients_acquire(cs, &id, t);
    }
    assert_int_equal(http_clients_count(cs), 4096);
    http_client_id_t x = ipv4(100000), y = ipv4(100001);
    http_client_t *cx = http_clients_acquire(cs, &x, t);
    http_client_t *cy = http_clients_acquire(cs, &y, t);
    assert_ptr_equal(cx, cy);
    assert_int_equal(cx->id.b[0], HTTP_CLIENT_OVERFLOW);
    int taken = 0;
    while (http_clients_take_miss(cs, cx, t, &retry) || http_clients_take_miss(cs, cy, t, &retry))
        taken++;
    assert_int_equal(taken, 5);
    http_clients_release(cs, cx);
    http_clients_release(cs, cy);
    /* a known client is still found while the table is full */
    http_client_id_t z = ipv4(17);
    assert_ptr_equal(http_clients_acquire(cs, &z, t), pinned[17]);
    http_clients_release(cs, pinned[17]);
    for (uint32_t i = 0; i < 4096; i++)
        http_clients_release(cs, pinned[i]);
    /* once entries are idle (a full bucket, nothing pinned), newcomers get entries of their own */
    http_client_t *cw = http_clients_acquire(cs, &x, t + 60000);
    assert_int_not_equal(cw->id.b[0], HTTP_CLIENT_OVERFLOW);
    http_clients_release(cs, cw);
    assert_true(http_clients_count(cs) <= 4096);
    http_clients_free(cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_gives_burst_then_rate),
        cmocka_unit_test(aborts_count_per_client_not_per_connection),
        cmocka_unit_test(table_stays_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
