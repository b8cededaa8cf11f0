/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/chunker.c: cuts respect the size bounds, depend only on content (an insertion
 * near the start leaves later boundaries where they were), and zip segmentation puts every
 * member's data in a segment of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store_i.h"

#define DATA_LEN (8u << 20)

static uint8_t *random_bytes(size_t n, uint64_t seed)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
    return p;
}

/* Cut points (absolute end offsets) of p[0..n). */
static size_t cut_all(const uint8_t *p, size_t n, uint64_t *ends, size_t cap)
{
    size_t k = 0, pos = 0;
    while (pos < n && k < cap) {
        size_t c = store_chunker_cut(p + pos, n - pos);
        assert_true(c > 0);
        pos += c;
        ends[k++] = pos;
    }
    return k;
}

static void cuts_respect_bounds(void **state)
{
    (void)state;
    uint8_t *p = random_bytes(DATA_LEN, 1);
    size_t pos = 0, n = 0;
    while (pos < DATA_LEN) {
        size_t c = store_chunker_cut(p + pos, DATA_LEN - pos);
        assert_true(c <= CHUNKER_MAX);
        if (pos + c < DATA_LEN)
            assert_true(c > CHUNKER_MIN);
        pos += c;
        n++;
    }
    /* normalised chunking keeps the mean near the target: 8 MiB in roughly 128 chunks */
    assert_in_range(n, DATA_LEN / (2 * CHUNKER_AVG), DATA_LEN / (CHUNKER_AVG / 2));
    assert_int_equal(store_chunker_cut(p, 100), 100); /* small input: one chunk */
    free(p);
}

static void insertion_moves_only_nearby_boundaries(void **state)
{
    (void)state;
    uint8_t *a = random_bytes(DATA_LEN, 7);
    uint8_t *b = malloc(DATA_LEN + 100);
    assert_non_null(b);
    memcpy(b, a, 1000);
    memset(b + 1000, 0x5a, 100); /* 100 bytes inserted near the start */
    memcpy(b + 1100, a + 1000, DATA_LEN - 1000);
    static uint64_t ea[4096], eb[4096];
    size_t na = cut_all(a, DATA_LEN, ea, 4096), nb = cut_all(b, DATA_LEN + 100, eb, 4096);
    size_t shared = 0;
    for (size_t i = 0, j = 0; i < na && j < nb;) {
        if (ea[i] + 100 == eb[j]) {
            shared++;
            i++;
            j++;
        } else if (ea[i] + 100 < eb[j]) {
            i++;
        } else {
            j++;
        }
    }
    assert_true(shared + 3 >= na); /* all but the first couple of boundaries re-synchronise */
    free(a);
    free(b);
}

static void zip_segments_follow_members(void **state)
{
    (void)state;
    zipfile_member_t m[2] = {
        {.name = NULL, .header_offset = 0, .data_offset = 50, .compressed_size = 1000, .method = ZIP_METHOD_DEFLATE},
        {.name = NULL, .header_offset = 1050, .data_offset = 1110, .compressed_size = 20, .method = ZIP_METHOD_STORE},
    };
    zipfile_t z = {.members = m, .count = 2, .central_dir_offset = 1130};
    store_segment_t *s = NULL;
    long n = store_chunker_segments(1200, &z, &s);
    assert_int_equal(n, 5);
    const uint64_t want[5][2] = {{0, 50}, {50, 1000}, {1050, 60}, {1110, 20}, {1130, 70}};
    for (long i = 0; i < n; i++) {
        assert_int_equal(s[i].offset, want[i][0]);
        assert_int_equal(s[i].len, want[i][1]);
    }
    assert_true(s[1].compressed);  /* deflated data: stored raw */
    assert_false(s[3].compressed); /* stored member: zstd may help */
    free(s);
    n = store_chunker_segments(10, NULL, &s);
    assert_int_equal(n, 1);
    assert_int_equal(s[0].len, 10);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cuts_respect_bounds),
        cmocka_unit_test(insertion_moves_only_nearby_boundaries),
        cmocka_unit_test(zip_segments_follow_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
