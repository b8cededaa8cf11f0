/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/store/state.c: state files beside the store, read whole and replaced whole by
 * compare-and-swap. Threads race to bump a counter kept in one file, each with a read-then-swap
 * loop: no bump may be lost, which is what the checksum database's kept tree head relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

typedef struct fixture {
    char dir[64];
    store_t *store;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/modfs-state-test.XXXXXX");
    if (mkdtemp(f->dir) == NULL || store_open(f->dir, false, &f->store, NULL) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static slice_t S(const char *s)
{
    return (slice_t){(const uint8_t *)s, strlen(s)};
}

static void read_swap_read(void **state)
{
    fixture_t *f = *state;
    buf_t b = BUF_INIT;
    cache_err_t err = {0};
    const char *name = "sumdb/sum.example.com/path/latest";
    assert_int_equal(store_state_read(f->store, name, &b, &err), 0);
    assert_int_equal(b.len, 0); /* none yet */
    assert_int_equal(store_state_swap(f->store, name, S(""), S("head 1\n"), &err), 0);
    assert_int_equal(store_state_read(f->store, name, &b, &err), 0);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.base, "head 1\n", 7);
    /* a swap from a stale copy is refused and changes nothing */
    assert_int_equal(store_state_swap(f->store, name, S(""), S("head X\n"), &err), -EAGAIN);
    assert_int_equal(store_state_swap(f->store, name, S("head 0\n"), S("head X\n"), &err), -EAGAIN);
    assert_int_equal(store_state_read(f->store, name, &b, &err), 0);
    assert_memory_equal(b.base, "head 1\n", 7);
    assert_int_equal(store_state_swap(f->store, name, S("head 1\n"), S("head 2, longer\n"), &err), 0);
    assert_int_equal(store_state_read(f->store, name, &b, &err), 0);
    assert_int_equal(b.len, 15);
    /* it is a plain file where an operator would look for it */
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 15);
    /* what a crash between write and rename leaves does not count */
    snprintf(path, sizeof path, "%s/%s.new", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("half written", fp);
    fclose(fp);
    assert_int_equal(store_state_read(f->store, name, &b, &err), 0);
    assert_int_equal(b.len, 15);
    assert_int_equal(store_state_swap(f->store, name, S("head 2, longer\n"), S("head 3\n"), &err), 0);
    assert_int_equal(store_state_read(f->store, name, &b, &err), 0);
    assert_memory_equal(b.base, "head 3\n", 7);
    buf_dispose(&b);
}

static void names_stay_inside(void **state)
{
    fixture_t *f = *state;
    buf_t b = BUF_INIT;
    cache_err_t err = {0};
    const char *bad[] = {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/", ".", "a b", "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(store_state_read(f->store, bad[i], &b, &err), -EINVAL);
        assert_int_equal(store_state_swap(f->store, bad[i], S(""), S("x"), &err), -EINVAL);
    }
    assert_non_null(strstr(err.msg, "clean relative path"));
    /* too large to be state */
    size_t big = STORE_STATE_MAX + 1;
    uint8_t *p = calloc(1, big);
    assert_int_equal(store_state_swap(f->store, "big", S(""), (slice_t){p, big}, &err), -EFBIG);
    free(p);
    buf_dispose(&b);
}

#define RACERS 4
#define BUMPS 50

/* The number a state file holds: its bytes are not NUL-terminated, and strtol would read on. */
static long number_of(const buf_t *b)
{
    char text[32] = "";
    if (b->len > 0 && b->len < sizeof text)
        memcpy(text, b->base, b->len);
    return strtol(text, NULL, 10);
}

static void *racer(void *arg)
{
    store_t *s = arg;
    buf_t cur = BUF_INIT;
    for (int i = 0; i < BUMPS; i++) {
        for (;;) {
            if (store_state_read(s, "counter", &cur, NULL) != 0)
                return (void *)1;
            long v = number_of(&cur);
            char next[32];
            snprintf(next, sizeof next, "%ld", v + 1);
            int rc = store_state_swap(s, "counter", (slice_t){cur.base, cur.len}, S(next), NULL);
            if (rc == 0)
                break;
            if (rc != -EAGAIN)
                return (void *)2;
        }
    }
    buf_dispose(&cur);
    return NULL;
}

static void swaps_lose_nothing(void **state)
{
    fixture_t *f = *state;
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, racer, f->store), 0);
    for (int i = 0; i < RACERS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    buf_t b = BUF_INIT;
    assert_int_equal(store_state_read(f->store, "counter", &b, NULL), 0);
    assert_int_equal(number_of(&b), RACERS * BUMPS);
    buf_dispose(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(read_swap_read, setup, teardown),
        cmocka_unit_test_setup_teardown(names_stay_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(swaps_lose_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
