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
 *   - an ingest's early object (store_put_with) is offered before anything is written to a pack,
 *     holds its own copy of the body (the caller's buffer may go), is answered from memory, is
 *     charged to that same budget until its last unref, and is not offered over the budget; the
 *     stored object then counts that answer as its first whole read.
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

#include "fixture.h"
#include "store_i.h"

#define OBJ (1u << 20) /* body of the test object: many chunks */

static void key_of(modkey_buf_t *kb)
{
    assert_int_equal(modkey_make(MODKEY_MOD, "example.com/load", "v1.0.0", &kb->key, NULL), 0);
}

/* Puts the test object, drops the handle the put gave, and opens it afresh (as a hit does). */
static store_object_t *put_and_open(store_fixture_t *f, const uint8_t *body)
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
static void damage(store_fixture_t *f, const store_object_t *o, uint64_t off)
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
    store_fixture_t *f = *state;
    uint8_t *want = store_fixture_body(1, OBJ), *got = malloc(OBJ);
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
    store_fixture_t *f = *state;
    uint8_t *want = store_fixture_body(2, OBJ);
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
    store_fixture_t *f = *state;
    uint8_t *want = store_fixture_body(3, OBJ), *got = malloc(OBJ);
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
    store_fixture_t *f = *state;
    uint8_t *want = store_fixture_body(4, OBJ);
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

/* What the early answer saw when it was called. */
typedef struct early_seen {
    store_fixture_t *f;
    const modkey_t *key;
    store_object_t *o;
    unsigned calls;
    uint64_t disk_bytes;   /* the store's pack bytes at the call */
    uint64_t loaded_bytes; /* the store's loaded bytes at the call */
    int open_rc;           /* store_object_open of the key at the call */
} early_seen_t;

static void early_note(void *arg, store_object_t *o)
{
    early_seen_t *e = arg;
    e->calls++;
    e->o = o;
    e->disk_bytes = store_packs_disk_bytes(e->f->s->packs);
    e->loaded_bytes = atomic_load(&e->f->s->loaded_bytes);
    store_object_t *other = NULL;
    e->open_rc = store_object_open(e->f->s, e->key, &other);
    store_object_unref(other);
}

static void test_early_copy_budget(void **state)
{
    store_fixture_t *f = *state;
    uint8_t *want = store_fixture_body(5, OBJ), *body = malloc(OBJ), *got = malloc(OBJ);
    memcpy(body, want, OBJ);
    modkey_buf_t kb;
    key_of(&kb);
    cache_err_t err = {0};
    early_seen_t seen = {.f = f, .key = &kb.key};
    store_put_extra_t extra = {.early = early_note, .early_arg = &seen};
    store_object_t *o = NULL;

    /* over the budget by one byte: no early copy, the put itself goes on */
    atomic_store(&f->s->loaded_bytes, STORE_LOAD_BUDGET - OBJ + 1);
    uint8_t *other = store_fixture_body(6, OBJ); /* other bytes: the second put below writes chunks of its own */
    if (store_put_with(f->s, &kb.key, other, OBJ, NULL, &extra, 1, &o, &err) != 0)
        fail_msg("store_put_with: %s", err.msg);
    free(other);
    assert_int_equal(seen.calls, 0);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), STORE_LOAD_BUDGET - OBJ + 1);
    assert_int_equal(atomic_load(&o->load_asks), 0); /* nothing has read it whole yet */
    store_object_unref(o);
    o = NULL;

    /* within it: offered before a byte reaches a pack, charged to the budget */
    atomic_store(&f->s->loaded_bytes, STORE_LOAD_BUDGET - OBJ);
    assert_int_equal(modkey_make(MODKEY_MOD, "example.com/early", "v1.0.0", &kb.key, NULL), 0);
    uint64_t disk_before = store_packs_disk_bytes(f->s->packs);
    if (store_put_with(f->s, &kb.key, body, OBJ, NULL, &extra, 1, &o, &err) != 0)
        fail_msg("store_put_with: %s", err.msg);
    assert_int_equal(seen.calls, 1);
    assert_non_null(seen.o);
    assert_int_equal(seen.disk_bytes, disk_before);              /* nothing written yet */
    assert_true(store_packs_disk_bytes(f->s->packs) > disk_before); /* then the ingest wrote it */
    assert_int_equal(seen.open_rc, -ENOENT);                      /* and nobody else saw it */
    assert_int_equal(seen.loaded_bytes, STORE_LOAD_BUDGET);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), STORE_LOAD_BUDGET); /* the put's own object is not loaded */
    assert_int_equal(atomic_load(&o->load_asks), 1); /* the early answer was its first whole read */
    store_object_unref(o);

    /* its own copy, answered from memory: the caller's buffer is gone */
    memset(body, 0, OBJ);
    free(body);
    slice_t m = {0};
    assert_int_equal(store_object_load(seen.o, &m), 0); /* already loaded: no -EAGAIN, no read */
    assert_int_equal(m.len, OBJ);
    assert_memory_equal(m.base, want, OBJ);
    assert_int_equal(store_object_read(seen.o, got, OBJ, 0), OBJ);
    assert_memory_equal(got, want, OBJ);
    assert_int_equal(store_object_span(seen.o, 1, 4096), 4096);
    assert_string_equal(store_object_info(seen.o)->h1, "");
    assert_int_equal(store_object_info(seen.o)->size, OBJ);

    store_object_unref(seen.o);
    assert_int_equal(atomic_load(&f->s->loaded_bytes), STORE_LOAD_BUDGET - OBJ); /* given back */
    atomic_store(&f->s->loaded_bytes, 0);
    free(want);
    free(got);
}

static void test_load_in_two_steps(void **state)
{
    store_fixture_t *f = *state;
    uint8_t *want = store_fixture_body(5, OBJ);
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
    store_fixture_t *f = *state;
    uint8_t *want = store_fixture_body(6, OBJ);
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
        cmocka_unit_test_setup_teardown(test_load_gives_the_bytes_once, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_damage_before_load_is_caught, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_load_in_two_steps, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_damage_found_by_run, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_damage_after_load_is_never_read, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_budget, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_early_copy_budget, store_fixture_setup, store_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
