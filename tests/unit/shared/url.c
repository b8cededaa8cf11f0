/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/shared/url.c: --s3 URLs are split into endpoint, bucket and prefix as requests
 * need them, and what would go wrong later (credentials in the URL, a bad bucket name, a query,
 * a bad port) is refused with words at start-up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shared_i.h"
#include "expect.h"

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *endpoint, *bucket, *prefix, *shown; /* endpoint NULL: refused */
    } rows[] = {
        {"http://127.0.0.1:7480/farm", "http://127.0.0.1:7480", "farm", "", "http://127.0.0.1:7480/farm"},
        {"http://127.0.0.1:7480/farm/", "http://127.0.0.1:7480", "farm", "", "http://127.0.0.1:7480/farm"},
        {"https://s3.example.com/go-modules/farm/a", "https://s3.example.com", "go-modules", "farm/a/",
         "https://s3.example.com/go-modules/farm/a"},
        {"http://[::1]:9000/b.k-t/p//", "http://[::1]:9000", "b.k-t", "p/", "http://[::1]:9000/b.k-t/p"},
        {"http://key:secret@127.0.0.1/farm", NULL, NULL, NULL, NULL},
        {"ftp://127.0.0.1/farm", NULL, NULL, NULL, NULL},
        {"127.0.0.1/farm", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:7480", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:7480/", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:7480/ab", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:7480/Farm", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:7480/-farm", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:7480/farm?x=1", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:7480/farm#x", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:0/farm", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:65536/farm", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:/farm", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1:80:80/farm", NULL, NULL, NULL, NULL},
        {"http://[::1/farm", NULL, NULL, NULL, NULL},
        {"http:///farm", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1/farm/a/../b", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1/farm/a b", NULL, NULL, NULL, NULL},
        {"http://127.0.0.1/farm/a%2fb", NULL, NULL, NULL, NULL},
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++) {
        shared_url_t u;
        cache_err_t err = {0};
        int rc = shared_url_parse(rows[i].url, &u, &err);
        if (rows[i].endpoint == NULL) {
            expect(rc == -EINVAL && err.msg[0], "%s: accepted", rows[i].url);
            continue;
        }
        expect(rc == 0, "%s: %s", rows[i].url, err.msg);
        if (rc != 0)
            continue;
        expect(strcmp(u.endpoint, rows[i].endpoint) == 0, "%s: endpoint %s", rows[i].url, u.endpoint);
        expect(strcmp(u.bucket, rows[i].bucket) == 0, "%s: bucket %s", rows[i].url, u.bucket);
        expect(strcmp(u.prefix, rows[i].prefix) == 0, "%s: prefix %s", rows[i].url, u.prefix);
        char *shown = NULL;
        expect(shared_url_check(rows[i].url, &shown, &err) == 0 && strcmp(shown, rows[i].shown) == 0,
               "%s: shown as %s", rows[i].url, str(shown));
        free(shown);
    }
    TABLE_END();
    /* the refusal of credentials says where they go, and never repeats them */
    cache_err_t err = {0};
    shared_url_t u;
    assert_int_equal(shared_url_parse("http://AKIA:topsecret@127.0.0.1/farm", &u, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "--s3-credentials"));
    assert_null(strstr(err.msg, "topsecret"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
