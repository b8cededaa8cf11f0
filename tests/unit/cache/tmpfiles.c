/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/tmpfiles.c: the temporary files of upstream bodies, kept for the next fetch.
 * A file given back comes out again empty (no byte of one body in front of the next), and no
 * more than CACHE_TMP_KEPT are kept open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_i.h"

static char dir[] = "/tmp/modfs-unit-tmpfiles.XXXXXX";

static unsigned open_fds(void)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

static void reused_empty(void **state)
{
    (void)state;
    cache_config_t cfg;
    cache_config_init(&cfg);
    cfg.dir = dir;
    cfg.upstream = "off";
    cfg.sumdb = "off";
    cache_t *c = NULL;
    cache_err_t err = {0};
    assert_int_equal(cache_open(&cfg, &c, &err), 0);

    int fd = cache_tmp_take(c, &err);
    assert_true(fd >= 0);
    static const char body[] = "a body of some bytes, left by the last fetch";
    assert_int_equal(pwrite(fd, body, sizeof body, 0), (ssize_t)sizeof body);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    ino_t ino = st.st_ino;
    cache_tmp_give(c, fd);
    int again = cache_tmp_take(c, &err);
    assert_true(again >= 0);
    assert_int_equal(fstat(again, &st), 0);
    assert_int_equal(st.st_ino, ino); /* the same file, kept */
    assert_int_equal(st.st_size, 0);  /* and empty */
    cache_tmp_give(c, again);

    /* many at once: all distinct; given back, at most CACHE_TMP_KEPT stay open */
    unsigned before = open_fds();
    int fds[CACHE_TMP_KEPT + 8];
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        fds[i] = cache_tmp_take(c, &err);
        assert_true(fds[i] >= 0);
        assert_int_equal(pwrite(fds[i], body, sizeof body, 0), (ssize_t)sizeof body);
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(fds[i], fds[j]);
    }
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        cache_tmp_give(c, fds[i]);
    /* one was kept before the burst: the burst adds at most CACHE_TMP_KEPT - 1 */
    assert_true(open_fds() <= before + CACHE_TMP_KEPT - 1);
    for (unsigned i = 0; i < CACHE_TMP_KEPT; i++) {
        int fd2 = cache_tmp_take(c, &err);
        assert_int_equal(fstat(fd2, &st), 0);
        assert_int_equal(st.st_size, 0);
        fds[i] = fd2;
    }
    for (unsigned i = 0; i < CACHE_TMP_KEPT; i++)
        cache_tmp_give(c, fds[i]);
    cache_tmp_give(c, -1); /* ignored */
    cache_close(c);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(reused_empty)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
