/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/shared/credentials.c: the AWS credentials file format is read as `aws configure`
 * writes it, the environment is the fallback, and a refusal never quotes a secret.
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
#include <unistd.h>

#include "shared_i.h"
#include "expect.h"

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *access, *secret; /* NULL: refused */
    } rows[] = {
        {"[default]\naws_access_key_id = AK1\naws_secret_access_key = SK/1+x\n", "AK1", "SK/1+x"},
        {"aws_access_key_id=AK2\r\naws_secret_access_key=SK2\r\n", "AK2", "SK2"},
        {"# a comment\n; another\n\n[other]\naws_access_key_id = NO\n[ default ]\n"
         "AWS_ACCESS_KEY_ID = AK3\n\taws_secret_access_key\t=\tSK3  \nregion = eu\n",
         "AK3", "SK3"},
        {"[other]\naws_access_key_id = AK\naws_secret_access_key = SK\n", NULL, NULL},
        {"aws_access_key_id = AK\n", NULL, NULL},
        {"aws_access_key_id = AK\naws_secret_access_key = \n", NULL, NULL},
        {"aws_access_key_id = AK\naws_secret_access_key = two words\n", NULL, NULL},
        {"aws_access_key_id = AK\naws_access_key_id = AK\naws_secret_access_key = SK\n", NULL, NULL},
        {"aws_access_key_id AK\naws_secret_access_key = SK\n", NULL, NULL},
        {"[default\naws_access_key_id = AK\naws_secret_access_key = SK\n", NULL, NULL},
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++) {
        char *a = NULL, *s = NULL;
        cache_err_t err = {0};
        int rc = shared_credentials_parse(rows[i].text, strlen(rows[i].text), "creds", &a, &s, &err);
        if (rows[i].access == NULL) {
            expect(rc == -EINVAL && a == NULL && s == NULL && strncmp(err.msg, "creds", 5) == 0,
                   "row %zu: accepted (%d)", i, rc);
            expect(strstr(err.msg, "SK") == NULL && strstr(err.msg, "two words") == NULL,
                   "row %zu: the message quotes a value: %s", i, err.msg);
        } else {
            expect(rc == 0 && strcmp(str(a), rows[i].access) == 0 && strcmp(str(s), rows[i].secret) == 0,
                   "row %zu: %d %s", i, rc, err.msg);
        }
        free(a);
        shared_secret_free(s);
    }
    char text[] = "aws_access_key_id = AK\0\naws_secret_access_key = SK\n";
    char *a = NULL, *s = NULL;
    expect(shared_credentials_parse(text, sizeof text - 1, "creds", &a, &s, NULL) == -EINVAL, "a NUL byte");
    TABLE_END();
}

static void test_load(void **state)
{
    (void)state;
    char *a = NULL, *s = NULL;
    cache_err_t err = {0};
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(shared_credentials_load(NULL, &a, &s, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID"));
    setenv("AWS_ACCESS_KEY_ID", "ENVAK", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSK", 1);
    assert_int_equal(shared_credentials_load(NULL, &a, &s, &err), 0);
    assert_string_equal(a, "ENVAK");
    assert_string_equal(s, "ENVSK");
    free(a);
    shared_secret_free(s);
    setenv("AWS_SECRET_ACCESS_KEY", "with space", 1);
    assert_int_equal(shared_credentials_load(NULL, &a, &s, &err), -EINVAL);
    assert_null(strstr(err.msg, "with space"));

    char path[] = "/tmp/modfs-creds.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[default]\naws_access_key_id = FILEAK\naws_secret_access_key = FILESK\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(shared_credentials_load(path, &a, &s, &err), 0); /* the file wins over the environment */
    assert_string_equal(a, "FILEAK");
    assert_string_equal(s, "FILESK");
    free(a);
    shared_secret_free(s);
    unlink(path);
    assert_int_equal(shared_credentials_load(path, &a, &s, &err), -ENOENT);
    assert_non_null(strstr(err.msg, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
