/* SPDX-License-Identifier: MIT */
/*
 * Tests of http/auth_file.c, http/auth.c and http/ratelimit.c: the auth file's format and its
 * errors, Basic credentials (yescrypt and bcrypt hashes made here by libcrypt) and bearer tokens,
 * the verdict table that keeps crypt off the loops, and the failed-login limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "http_i.h"

static char dir[] = "/tmp/modfs-auth-test.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static char *hash_of(const char *prefix, const char *password)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    assert_non_null(crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof salt));
    struct crypt_data cd;
    memset(&cd, 0, sizeof cd);
    char *h = crypt_r(password, salt, &cd);
    assert_non_null(h);
    return strdup(h);
}

static char *token_line(const char *name, const char *token)
{
    uint8_t d[32];
    SHA256((const unsigned char *)token, strlen(token), d);
    char *line = malloc(200);
    int n = snprintf(line, 200, "token:%s:", name);
    for (int i = 0; i < 32; i++)
        n += snprintf(line + n, 200 - (size_t)n, "%02x", d[i]);
    snprintf(line + n, 200 - (size_t)n, "\n");
    return line;
}

/* "Basic base64(user:password)" */
static char *basic(const char *user, const char *password)
{
    char plain[256], enc[400];
    int n = snprintf(plain, sizeof plain, "%s:%s", user, password);
    EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)plain, n);
    char *v = malloc(420);
    snprintf(v, 420, "Basic %s", enc);
    return v;
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_file_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"", "no user and no token"},
        {"# only a comment\n\n", "no user and no token"},
        {"user:alice\n", ":1: expected user:NAME:HASH"},
        {"user:al ice:$y$j9T$abc$def\n", ":1: the name must be"},
        {"user:alice:plaintext\n", "yescrypt ($y$) or bcrypt"},
        {"user:alice:$1$abcdefgh$0123456789012345678901\n", "yescrypt ($y$) or bcrypt"},
        {"user:alice:$y$\n", "crypt(3) cannot use this hash"},
        {"token:ci:abcd\n", "64 hex digits"},
        {"token:ci:zz00000000000000000000000000000000000000000000000000000000000000\n", "64 hex digits"},
        {"group:x:y\n", "unknown entry kind"},
        {"\ntoken:ci:0000000000000000000000000000000000000000000000000000000000000000\n"
         "token:ci:1111111111111111111111111111111111111111111111111111111111111111\n",
         ":3: token ci is already defined"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_auth_db_t *db = NULL;
        cache_err_t err = {0};
        int rc = http_auth_db_load(write_file("bad", bad[i].text), &db, &err);
        if (rc != -EINVAL || strstr(err.msg, bad[i].why) == NULL)
            fail_msg("row %zu: rc %d, \"%s\", want \"%s\"", i, rc, err.msg, bad[i].why);
        assert_null(db);
    }
    http_auth_db_t *db = NULL;
    cache_err_t err = {0};
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    assert_int_equal(http_auth_db_load(missing, &db, &err), -ENOENT);
}

static void test_users_and_tokens(void **state)
{
    (void)state;
    char *y = hash_of("$y$", "alice secret");
    char *b = hash_of("$2b$", "bobpass");
    char *t = token_line("ci", "tok-123");
    char text[1024];
    snprintf(text, sizeof text, "# users\n  user:alice:%s  \nuser:bob:%s\r\n%s", y, b, t);
    http_auth_t *a = NULL;
    cache_err_t err = {0};
    assert_int_equal(http_auth_new(write_file("good", text), &a, &err), 0);
    assert_int_equal(a->db->nusers, 2);
    assert_int_equal(a->db->ntokens, 1);

    /* tokens: judged on the spot */
    assert_int_equal(http_auth_check(a, "Bearer tok-123", 14), HTTP_AUTH_OK);
    assert_int_equal(http_auth_check(a, "bearer tok-123", 14), HTTP_AUTH_OK);
    assert_int_equal(http_auth_check(a, "Bearer tok-124", 14), HTTP_AUTH_BAD);
    assert_int_equal(http_auth_check(a, "Bearer ", 7), HTTP_AUTH_BAD);
    assert_int_equal(http_auth_check(a, NULL, 0), HTTP_AUTH_MISSING);
    assert_int_equal(http_auth_check(a, "Digest x", 8), HTTP_AUTH_BAD);

    /* Basic: the loop asks a worker once, then remembers */
    struct {
        const char *user, *password;
        http_auth_result_t want;
    } rows[] = {
        {"alice", "alice secret", HTTP_AUTH_OK},
        {"bob", "bobpass", HTTP_AUTH_OK},
        {"alice", "bobpass", HTTP_AUTH_BAD},
        {"bob", "", HTTP_AUTH_BAD},
        {"mallory", "bobpass", HTTP_AUTH_BAD},
        {"alic", "alice secret", HTTP_AUTH_BAD},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *v = basic(rows[i].user, rows[i].password);
        assert_int_equal(http_auth_check(a, v, strlen(v)), HTTP_AUTH_VERIFY);
        if (http_auth_verify(a, v, strlen(v)) != rows[i].want)
            fail_msg("row %zu: %s:%s not judged %d", i, rows[i].user, rows[i].password, rows[i].want);
        assert_int_equal(http_auth_check(a, v, strlen(v)), rows[i].want);
        free(v);
    }
    assert_int_equal(http_auth_verify(a, "Basic !!!!", 10), HTTP_AUTH_BAD);
    assert_int_equal(http_auth_verify(a, "Basic YWxpY2U=", 14), HTTP_AUTH_BAD); /* "alice", no colon */
    http_auth_unref(a);
    free(y);
    free(b);
    free(t);
}

/* What a reload builds: the settings from a config, a fresh verdict table per load of the file
 * (a user removed from the file is not let in by a verdict made before), references that keep an
 * old set alive for a check in flight. */
static void test_settings_and_reload(void **state)
{
    (void)state;
    char *y = hash_of("$y$", "alice secret");
    char *b = hash_of("$2b$", "bobpass");
    char text[1024];
    snprintf(text, sizeof text, "user:alice:%s\nuser:bob:%s\n", y, b);
    http_config_t cfg = {.auth_file = write_file("both", text), .auth_required = true};
    http_auth_t *a = NULL;
    cache_err_t err = {0};
    assert_int_equal(http_auth_from_config(&cfg, &a, &err), 0);
    assert_true(a->required);
    assert_true(a->metrics_auth); /* implied */
    char *v = basic("bob", "bobpass");
    assert_int_equal(http_auth_verify(a, v, strlen(v)), HTTP_AUTH_OK);
    assert_int_equal(http_auth_check(a, v, strlen(v)), HTTP_AUTH_OK);

    /* the next load, without bob: his remembered verdict is not in it */
    snprintf(text, sizeof text, "user:alice:%s\n", y);
    cfg = (http_config_t){.auth_file = write_file("alice", text), .metrics_auth = true};
    http_auth_t *next = NULL;
    assert_int_equal(http_auth_from_config(&cfg, &next, &err), 0);
    assert_false(next->required);
    assert_true(next->metrics_auth);
    assert_int_equal(http_auth_check(next, v, strlen(v)), HTTP_AUTH_VERIFY);
    assert_int_equal(http_auth_verify(next, v, strlen(v)), HTTP_AUTH_BAD);

    /* a check in flight holds the old set past its owner's unref */
    http_auth_t *held = http_auth_ref(a);
    http_auth_unref(a);
    assert_int_equal(http_auth_check(held, v, strlen(v)), HTTP_AUTH_OK);
    http_auth_unref(held);
    http_auth_unref(next);
    free(v);

    /* no file: no settings, and the switches alone are an error */
    cfg = (http_config_t){0};
    assert_int_equal(http_auth_from_config(&cfg, &a, &err), 0);
    assert_null(a);
    cfg.metrics_auth = true;
    assert_int_equal(http_auth_from_config(&cfg, &a, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "auth-file"));
    free(y);
    free(b);
}

static void test_ratelimit(void **state)
{
    (void)state;
    http_ratelimit_t *rl = malloc(sizeof *rl);
    http_ratelimit_init(rl, 3, 1000, 5000);
    uint8_t a[16] = {0}, b[16] = {0};
    a[15] = 1;
    b[15] = 2;
    uint64_t now = 100000;
    assert_int_equal(http_ratelimit_blocked(rl, a, now), 0);
    assert_false(http_ratelimit_fail(rl, a, now));
    assert_false(http_ratelimit_fail(rl, a, now + 1));
    assert_false(http_ratelimit_fail(rl, a, now + 2));
    assert_true(http_ratelimit_fail(rl, a, now + 3)); /* the 4th within the window */
    assert_int_equal(http_ratelimit_blocked(rl, a, now + 3), 5000);
    assert_int_equal(http_ratelimit_blocked(rl, b, now + 3), 0); /* another address is not */
    assert_int_equal(http_ratelimit_blocked(rl, a, now + 5003), 0); /* the block ends */
    /* failures spread beyond the window never block */
    for (int i = 0; i < 10; i++)
        assert_false(http_ratelimit_fail(rl, b, now + 10000 + (uint64_t)i * 1001));
    /* many addresses: the table stays bounded and keeps working */
    for (uint32_t i = 0; i < 3 * HTTP_RATELIMIT_SLOTS; i++) {
        uint8_t x[16] = {0};
        memcpy(x, &i, sizeof i);
        http_ratelimit_fail(rl, x, now + 50000);
    }
    assert_false(http_ratelimit_fail(rl, a, now + 60000));
    http_ratelimit_dispose(rl);
    free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_users_and_tokens),
        cmocka_unit_test(test_settings_and_reload),
        cmocka_unit_test(test_ratelimit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
