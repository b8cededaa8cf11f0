/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/store/packlog.c: records come back as they went in, a torn or damaged record
 * ends the scan (what came before it is kept), and nothing outside a record's bounds is read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "store_i.h"

typedef struct seen {
    int chunks, objects;
    store_chunk_t chunk;
    store_packlog_object_t object;
} seen_t;

static int collect(void *arg, int type, const uint8_t *payload, size_t len, uint64_t offset)
{
    (void)offset;
    seen_t *s = arg;
    if (type == PACKLOG_CHUNK) {
        assert_int_equal(store_packlog_decode_chunk(payload, len, &s->chunk), 0);
        s->chunks++;
    } else if (type == PACKLOG_OBJECT) {
        assert_int_equal(store_packlog_decode_object(payload, len, &s->object), 0);
        s->objects++;
    }
    return 0;
}

static void log_of_one_object(buf_t *log)
{
    store_chunk_t c = {.offset = 4096, .stored_size = 100, .raw_size = 100, .codec = CHUNK_CODEC_RAW, .xxh3 = 42};
    memset(c.hash, 0xab, 32);
    assert_int_equal(store_packlog_chunk(log, &c), 0);
    store_row_t row = {0};
    row.info.kind = MODKEY_ZIP;
    row.info.size = 100;
    row.info.stored_at = 7;
    row.info.fetched_at = 8;
    strcpy(row.info.h1, "h1:xyz");
    row.chunks = &c;
    row.nchunks = 1;
    buf_t members = BUF_INIT;
    assert_int_equal(buf_append(&members, "MEMBERS", 7), 0);
    assert_int_equal(store_packlog_object(log, "a.b/m/@v/v1.0.0.zip", &row, &members, 123), 0);
    buf_dispose(&members);
}

static void test_round_trip(void **state)
{
    (void)state;
    buf_t log = BUF_INIT;
    log_of_one_object(&log);
    seen_t s = {0};
    assert_int_equal(store_packlog_scan(log.base, log.len, collect, &s), log.len);
    assert_int_equal(s.chunks, 1);
    assert_int_equal(s.objects, 1);
    assert_int_equal(s.chunk.offset, 4096);
    assert_int_equal(s.chunk.xxh3, 42);
    assert_string_equal(s.object.key, "a.b/m/@v/v1.0.0.zip");
    assert_int_equal(s.object.seq, 123);
    assert_int_equal(s.object.row.info.kind, MODKEY_ZIP);
    assert_string_equal(s.object.row.info.h1, "h1:xyz");
    assert_int_equal(s.object.nchunks, 1);
    assert_int_equal(s.object.hashes[0], 0xab);
    assert_int_equal(s.object.members_len, 7);
    assert_memory_equal(s.object.members, "MEMBERS", 7);
    buf_dispose(&log);
}

static void test_torn_and_damaged(void **state)
{
    (void)state;
    buf_t log = BUF_INIT;
    log_of_one_object(&log);
    seen_t s = {0};
    size_t first = (size_t)store_packlog_scan(log.base, log.len, NULL, NULL);
    assert_int_equal(first, log.len);
    /* every cut inside the second record keeps exactly the first */
    size_t one = 0;
    {
        buf_t c = BUF_INIT;
        store_chunk_t ch = {.stored_size = 1, .raw_size = 1};
        assert_int_equal(store_packlog_chunk(&c, &ch), 0);
        one = c.len;
        buf_dispose(&c);
    }
    for (size_t cut = one; cut < log.len; cut++) {
        memset(&s, 0, sizeof s);
        assert_int_equal(store_packlog_scan(log.base, cut, collect, &s), one);
        assert_int_equal(s.objects, 0);
    }
    /* a flipped byte anywhere in the second record drops it */
    for (size_t i = one; i < log.len; i++) {
        log.base[i] ^= 0x10;
        memset(&s, 0, sizeof s);
        assert_int_equal(store_packlog_scan(log.base, log.len, collect, &s), one);
        log.base[i] ^= 0x10;
    }
    buf_dispose(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_torn_and_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
