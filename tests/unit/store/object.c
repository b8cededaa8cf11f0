/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/store/object.c's loading of a whole object into memory (store_object_load), on
 * a real store in a temporary directory, with bytes damaged in the pack file on disk:
 *   - the first load of a handle only counts (-EAGAIN); the next gives the exact bytes, the same
 *     copy every time after, and store_object_read answers from it;
 *   - a byte damaged on disk before the load is caught by the load (-EIO, the object dropped):
 *     loading checks every chunk it reads from disk;
 *   - a byte damaged on disk after the load is never read: the handle's reads give the bytes that
 *     were checked, from memory;
 *   - the store's budget of loaded bytes is honoured (-ENOSPC) and given back when the handle goes;
 *   - the load in two steps (begin on an event loop, run on another thread): begin claims the
 *     handle's one load and its budget without reading (a second begin meanwhile is -EBUSY, and
 *     a damaged byte is not seen yet), cancel gives both back, run gives the checked bytes and
 *     ends the claim, and a run that finds damage gives the budget and the claim back.
 * Bodies are random bytes, so chunks are stored raw and a flipped byte lands in the object.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_i.h"

#define OBJ (1u << 20) /* body of the test object: many chunks */

typedef struct fixture {
    char dir[40];
    store_t *s;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/modfs-object-test.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, false, &f->s, NULL), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->s);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static uint8_t *body_of(unsigned seed, size_t n)
{
    uint8_t *b = malloc(n);
    uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[i] = (uint8_t)x;
    }
    return b;
}

static void key_of(modkey_buf_t *kb)
{
    assert_int_equal(modkey_make(MODKEY_MOD, "example.com/load", "v1.0.0", &kb->key, NULL), 0);
}

/* Puts the test object, drops the handle the put gave, and opens it afresh (as a hit does). */
static store_object_t *put_and_open(fixture_t *f, const uint8_t *body)
{
    modkey_buf_t kb;
    key_of(&kb);
    store_object_t *o = NULL;
    cache_err_t err = {0};
    if (store_put(f->s, &kb.key, body, OBJ, NULL, 1, &o, &err) != 0)
        fail_msg("store_put: %s", err.msg);
    store_object_unref(o);
    o = NULL;
    assert_int_equal(store_object_open(f->s, &kb.key, &o), 0);
    return o;
}

/* Inverts the byte of the object at off where it lies in its pack file on disk. */
static void damage(fixture_t *f, const store_object_t *o, uint64_t off)
{
    size_t i = 0;
    while (o->chunk_start[i + 1] <= off)
        i++;
    const store_chunk_t *ch = &o->chunks[i];
    assert_int_equal(ch->codec, CHUNK_CODEC_RAW);
    char path[128];
    snprintf(path, sizeof path, "%s/packs/%08u.pack", f->dir, ch->pack);
    int fd = open(path, O_RDWR);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    uint8_t b;
    off_t at = (off_t)(ch->offset + (off - o->chunk_start[i]));
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

static void test_load_gives_the_bytes_once(void **state)
{
    fixture_t *f = *state;
    uint8_t *want = body_of(1, OBJ), *got = malloc(OBJ);
    store_object_t *o = put_and_open(f, want);
    assert_true(o->nchunks > 4);

    slice_t m = {0};
    assert_int_equal(store_object_load(o, &m), -EAGAIN); /* the first whole read streams */
    assert_null(m.base);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), 0);
    assert_int_equal(store_object_load(o, &m), 0);
    assert_int_equal(m.len, OBJ);
    assert_memory_equal(m.base, want, OBJ);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), OBJ);
    slice_t again = {0};
    assert_int_equal(store_object_load(o, &again), 0);
    assert_ptr_equal(again.base, m.base); /* one copy per handle */
    assert_int_equal(store_object_read(o, got, OBJ, 0), OBJ);
    assert_memory_equal(got, want, OBJ);
    assert_int_equal(store_object_span(o, 1, 4096), 4096);

    store_object_unref(o);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), 0); /* given back with the handle */
    free(want);
    free(got);
}

static void test_damage_before_load_is_caught(void **state)
{
    fixture_t *f = *state;
    uint8_t *want = body_of(2, OBJ);
    store_object_t *o = put_and_open(f, want);
    slice_t m = {0};
    assert_int_equal(store_object_load(o, &m), -EAGAIN);
    damage(f, o, OBJ / 2 + 7); /* a chunk in the middle */
    assert_int_equal(store_object_load(o, &m), -EIO);
    assert_null(atomic_load(&o->loaded));
    assert_int_equal(atomic_load(&f->s->loaded_bytes), 0);
    store_object_unref(o);

    /* the damaged chunk was dropped with its object: the next open misses */
    modkey_buf_t kb;
    key_of(&kb);
    o = NULL;
    assert_int_not_equal(store_object_open(f->s, &kb.key, &o), 0);
    assert_null(o);
    free(want);
}

static void test_damage_after_load_is_never_read(void **state)
{
    fixture_t *f = *state;
    uint8_t *want = body_of(3, OBJ), *got = malloc(OBJ);
    store_object_t *o = put_and_open(f, want);
    slice_t m = {0};
    assert_int_equal(store_object_load(o, &m), -EAGAIN);
    assert_int_equal(store_object_load(o, &m), 0);
    damage(f, o, OBJ / 3);
    assert_int_equal(store_object_read(o, got, OBJ, 0), OBJ);
    assert_memory_equal(got, want, OBJ); /* the checked copy, not the disk */
    assert_memory_equal(m.base, want, OBJ);
    store_object_unref(o);
    free(want);
    free(got);
}

static void test_budget(void **state)
{
    fixture_t *f = *state;
    uint8_t *want = body_of(4, OBJ);
    store_object_t *o = put_and_open(f, want);
    slice_t m = {0};
    assert_int_equal(store_object_load(o, &m), -EAGAIN);
    atomic_store(&f->s->loaded_bytes, STORE_LOAD_BUDGET - OBJ + 1); /* others hold all but OBJ - 1 */
    assert_int_equal(store_object_load(o, &m), -ENOSPC);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), STORE_LOAD_BUDGET - OBJ + 1);
    atomic_store(&f->s->loaded_bytes, STORE_LOAD_BUDGET - OBJ);
    assert_int_equal(store_object_load(o, &m), 0);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), STORE_LOAD_BUDGET);
    store_object_unref(o);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), STORE_LOAD_BUDGET - OBJ);
    atomic_store(&f->s->loaded_bytes, 0);
    free(want);
}

static void test_load_in_two_steps(void **state)
{
    fixture_t *f = *state;
    uint8_t *want = body_of(5, OBJ);
    store_object_t *o = put_and_open(f, want);
    slice_t m = {0};
    assert_int_equal(store_object_load_begin(o, &m), -EAGAIN);
    assert_int_equal(store_object_load_begin(o, &m), -EINPROGRESS);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), OBJ); /* taken with the claim */
    assert_int_equal(store_object_load_begin(o, &m), -EBUSY); /* one load per handle */
    store_object_load_cancel(o);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), 0);
    assert_null(atomic_load(&o->loaded));

    /* claimed again; the byte damaged now is found by run, not by begin (which reads nothing) */
    assert_int_equal(store_object_load_begin(o, &m), -EINPROGRESS);
    assert_int_equal(store_object_load_run(o, &m), 0);
    assert_int_equal(m.len, OBJ);
    assert_memory_equal(m.base, want, OBJ);
    slice_t again = {0};
    assert_int_equal(store_object_load_begin(o, &again), 0); /* loaded: the claim is over */
    assert_ptr_equal(again.base, m.base);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), OBJ);
    store_object_unref(o);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), 0);

    free(want);
}

static void test_damage_found_by_run(void **state)
{
    fixture_t *f = *state;
    uint8_t *want = body_of(6, OBJ);
    store_object_t *o = put_and_open(f, want);
    slice_t m = {0};
    assert_int_equal(store_object_load_begin(o, &m), -EAGAIN);
    assert_int_equal(store_object_load_begin(o, &m), -EINPROGRESS);
    damage(f, o, OBJ / 2);
    assert_int_equal(store_object_load_run(o, &m), -EIO);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), 0);
    assert_null(atomic_load(&o->loaded));
    assert_int_equal(store_object_load_begin(o, &m), -EINPROGRESS); /* the claim ended with the run */
    store_object_load_cancel(o);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), 0);
    store_object_unref(o);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_gives_the_bytes_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_before_load_is_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_in_two_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_found_by_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage_after_load_is_never_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
