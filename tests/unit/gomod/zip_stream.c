/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/gomod/zip_stream.c: a module zip walked while it arrives, then checked with the
 * walk (zipfile_parse_streamed). The zips are the go command's own (the fixtures' x/mod zip and a
 * small one, made by x/mod/zip with data descriptors). Every verdict with a walk must be
 * zipfile_parse's on the same bytes; a zip whose local header, data descriptor or central
 * directory disagree is refused as without a walk, and so is a body cut short.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "gomod.h"

#define XMOD "proxy/golang.org/x/mod/@v/v0.7.0.zip"
#define SMALL "proxy/example.com/multi/@v/v1.1.0.zip"

static uint8_t *read_fixture(const char *name, size_t *len)
{
    uint8_t *b = gomod_fixture_read(getenv("MODFS_FIXTURES"), name, len);
    assert_true(*len > 0);
    return b;
}

/* Walks buf[0..len) as it would arrive in pieces of piece bytes. */
static zipstream_t *walk(const uint8_t *buf, size_t len, size_t piece)
{
    zipstream_t *s = NULL;
    assert_int_equal(zipstream_new(&s), 0);
    for (size_t in = 0; in < len;) {
        in = len - in > piece ? in + piece : len;
        int r;
        while ((r = zipstream_step(s, buf, in)) == 1)
            ;
        assert_true(r == 0 || r == -1);
    }
    return s;
}

/* Checks buf[0..len) with a walk of buf[0..walked) and without one; both must say the same.
 * Returns the answer; *msg gets the message. */
static int both(const uint8_t *buf, size_t len, size_t walked, size_t piece, size_t *nwalked, char msg[600])
{
    zipstream_t *s = walk(buf, walked, piece);
    zipfile_t a, b;
    cache_err_t ea = {0}, eb = {0};
    int ra = zipfile_parse_streamed(buf, len, "golang.org/x/mod", "v0.7.0", s, &a, &ea);
    int rb = zipfile_parse(buf, len, "golang.org/x/mod", "v0.7.0", &b, &eb);
    assert_int_equal(ra, rb);
    assert_string_equal(ea.msg, eb.msg);
    assert_string_equal(a.h1, b.h1);
    assert_int_equal(a.count, b.count);
    if (nwalked != NULL)
        *nwalked = zipstream_walked(s);
    snprintf(msg, 600, "%s", ea.msg);
    zipfile_dispose(&a);
    zipfile_dispose(&b);
    zipstream_free(s);
    return ra;
}

/* A real zip walked in pieces of every kind of size: every member is read by the walk, and the
 * answer (h1 included) is the one without it. */
static void test_walk_reads_every_member(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture(XMOD, &len);
    zipfile_t z;
    assert_int_equal(zipfile_parse(buf, len, "golang.org/x/mod", "v0.7.0", &z, NULL), 0);
    assert_true(z.count > 50);
    const size_t pieces[] = {1, 17, 1000, 16384, 65536, len};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        size_t n = 0;
        char msg[600];
        assert_int_equal(both(buf, len, len, pieces[i], &n, msg), 0);
        assert_int_equal(n, z.count); /* the walk stopped at the central directory, not before */
    }
    zipfile_dispose(&z);
    free(buf);
}

/* The offset of the local header of the member named name (ending in it). */
static const zipfile_member_t *member(const zipfile_t *z, const char *suffix)
{
    for (size_t i = 0; i < z->count; i++) {
        size_t n = strlen(z->members[i].name), k = strlen(suffix);
        if (n >= k && strcmp(z->members[i].name + n - k, suffix) == 0)
            return &z->members[i];
    }
    fail_msg("no member %s", suffix);
    return NULL;
}

/* A zip whose local header names another file than its central directory entry: the walk reads
 * the member under its local header, and the zip is still refused as without the walk. */
static void test_local_header_disagrees(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture(XMOD, &len);
    zipfile_t z;
    assert_int_equal(zipfile_parse(buf, len, "golang.org/x/mod", "v0.7.0", &z, NULL), 0);
    const zipfile_member_t *m = member(&z, "/semver/semver.go");
    size_t name_len = le_get(buf + m->header_offset + 26, 2);
    buf[m->header_offset + 30 + name_len - 1] = 'x'; /* semver.gx */
    size_t n = 0;
    char msg[600];
    assert_int_equal(both(buf, len, len, 4096, &n, msg), -EINVAL);
    assert_non_null(strstr(msg, "local header names"));
    assert_int_equal(n, z.count); /* the walk read it: its record was there and not taken */
    zipfile_dispose(&z);
    free(buf);
}

/* A data descriptor whose CRC-32 disagrees with the central directory, and a central directory
 * whose CRC-32 disagrees with the content the walk inflated: both refused as without the walk. */
static void test_descriptor_and_central_disagree(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture(XMOD, &len);
    zipfile_t z;
    assert_int_equal(zipfile_parse(buf, len, "golang.org/x/mod", "v0.7.0", &z, NULL), 0);
    const zipfile_member_t *m = member(&z, "/semver/semver.go");
    uint64_t desc = m->data_offset + m->compressed_size;
    assert_int_equal(le_get(buf + desc, 4), 0x08074b50);
    char msg[600];
    buf[desc + 4] ^= 1;
    assert_int_equal(both(buf, len, len, 4096, NULL, msg), -EINVAL);
    assert_non_null(strstr(msg, "data descriptor CRC-32"));
    buf[desc + 4] ^= 1;

    /* the same CRC-32 changed in the descriptor and the central directory: the content's is
     * then the only witness, and the walk's record of it must not be taken */
    uint64_t cd = z.central_dir_offset;
    while (!(le_get(buf + cd, 4) == 0x02014b50 && le_get(buf + cd + 42, 4) == m->header_offset))
        cd += 46 + le_get(buf + cd + 28, 2) + le_get(buf + cd + 30, 2) + le_get(buf + cd + 32, 2);
    buf[desc + 4] ^= 1;
    buf[cd + 16] ^= 1;
    size_t n = 0;
    assert_int_equal(both(buf, len, len, 4096, &n, msg), -EINVAL);
    assert_non_null(strstr(msg, "CRC-32"));
    assert_non_null(strstr(msg, "differs from the declared"));
    assert_int_equal(n, z.count);
    zipfile_dispose(&z);
    free(buf);
}

/* A body cut short: what the walk read of it changes nothing, it is refused; and a walk of a
 * part of the body (the transfer ended, the rest read at the end) gives the full answer. */
static void test_truncated_body(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture(XMOD, &len);
    const size_t cuts[] = {len / 3, len / 2, len - 30, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t n = 0;
        char msg[600];
        assert_int_equal(both(buf, cuts[i], cuts[i], 1000, &n, msg), -EINVAL);
        assert_true(n > 0); /* the walk did read members of the part that came */
        assert_int_equal(both(buf, len, cuts[i], 1000, &n, msg), 0);
    }
    free(buf);
}

/* Every single-byte change of a small zip: the same verdict and message with the walk as without
 * (the sanitizer build checks the reads of both). */
static void test_mutations(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = read_fixture(SMALL, &len);
    for (size_t i = 0; i < len; i++) {
        const uint8_t deltas[] = {1, 0x80, 0xff};
        for (size_t d = 0; d < sizeof deltas; d++) {
            buf[i] ^= deltas[d];
            zipstream_t *s = walk(buf, len, 7);
            zipfile_t a, b;
            cache_err_t ea = {0}, eb = {0};
            int ra = zipfile_parse_streamed(buf, len, "example.com/multi", "v1.1.0", s, &a, &ea);
            int rb = zipfile_parse(buf, len, "example.com/multi", "v1.1.0", &b, &eb);
            assert_int_equal(ra, rb);
            assert_string_equal(ea.msg, eb.msg);
            assert_string_equal(a.h1, b.h1);
            zipfile_dispose(&a);
            zipfile_dispose(&b);
            zipstream_free(s);
            buf[i] ^= deltas[d];
        }
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_reads_every_member),
        cmocka_unit_test(test_local_header_disagrees),
        cmocka_unit_test(test_descriptor_and_central_disagree),
        cmocka_unit_test(test_truncated_body),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
