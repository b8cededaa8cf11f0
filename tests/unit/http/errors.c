/* SPDX-License-Identifier: MIT */
/* Tests of http/errors.c: statuses, error bodies that never name the upstream (but do give the
 * refusing rule and the go command's reason), and readiness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "http_i.h"

static const char *body(int rc, int upstream_status, const char *msg)
{
    static char out[1024];
    cache_err_t err = {.upstream_status = upstream_status};
    snprintf(err.msg, sizeof err.msg, "%s", msg);
    http_error_body(http_status_of_error(rc, &err), rc, &err, "/example.com/a/@v/v1.0.0.zip", out, sizeof out);
    return out;
}

static void bodies_name_no_upstream(void **state)
{
    (void)state;
    const char *internal = "upstream http://ci:xxxxx@10.1.2.3:8080/example.com/a/@v/v1.0.0.zip: 404 Not Found";
    assert_string_equal(body(-ENOENT, 404, internal), "not found: /example.com/a/@v/v1.0.0.zip\n");
    assert_string_equal(body(-ENOENT, 410, internal), "not found: /example.com/a/@v/v1.0.0.zip\n");
    assert_int_equal(http_status_of_error(-ENOENT, &(cache_err_t){.upstream_status = 410}), 410);
    assert_string_equal(body(-ENOENT, 0, "module lookup disabled by GOPROXY=off"),
                        "not found: /example.com/a/@v/v1.0.0.zip (the store does not hold it and upstream is off)\n");
    assert_string_equal(body(-ETIMEDOUT, 0, "upstream http://10.1.2.3/x: timed out"),
                        "bad gateway: fetching /example.com/a/@v/v1.0.0.zip failed: upstream timed out\n");
    /* a timeout's cause is shown without its URL, also after retries */
    assert_string_equal(body(-ETIMEDOUT, 0,
                             "after 3 attempts: upstream http://10.1.2.3/x: timed out: no response within 15 s of the "
                             "request"),
                        "bad gateway: fetching /example.com/a/@v/v1.0.0.zip failed: upstream timed out: no response "
                        "within 15 s of the request\n");
    /* shutting down: a cancelled upstream transfer names its URL, the body does not */
    assert_string_equal(body(-ECANCELED, 0, "upstream http://10.1.2.3/x: cancelled (shutting down)"),
                        "unavailable: /example.com/a/@v/v1.0.0.zip: the server is shutting down\n");
    /* a client over its miss budget reads which budget and when to come back */
    assert_int_equal(http_status_of_error(-EUSERS, NULL), 429);
    assert_string_equal(body(-EUSERS, 0, "this client's budget of misses is spent; retry after 2 s"),
                        "too many requests: this client's budget of misses is spent; retry after 2 s\n");
    /* the checksum database's verdict is shown, never where the refused body came from */
    assert_string_equal(body(-EBADMSG, 0,
                             "refused by the checksum database: example.com/a@v1.0.0: checksum mismatch: zip has "
                             "h1:AAA=, checksum database sum.golang.org says h1:BBB="),
                        "bad gateway: fetching /example.com/a/@v/v1.0.0.zip failed: refused by the checksum database: "
                        "example.com/a@v1.0.0: checksum mismatch: zip has h1:AAA=, checksum database sum.golang.org "
                        "says h1:BBB=\n");
    /* the store's budget is not the client's */
    assert_int_equal(http_status_of_error(-EDQUOT, NULL), 507);
    assert_string_equal(body(-EIO, 500, "upstream http://10.1.2.3/x: 500"),
                        "bad gateway: fetching /example.com/a/@v/v1.0.0.zip failed: upstream answered 500\n");
    assert_string_equal(body(-EBADMSG, 0, "upstream http://10.1.2.3/x: invalid .zip: ..."),
                        "bad gateway: fetching /example.com/a/@v/v1.0.0.zip failed: upstream's answer failed validation\n");
    /* the reason of a name the client sent is the client's own */
    assert_string_equal(body(-EINVAL, 0, "malformed module path \"A..b\""), "not found: malformed module path \"A..b\"\n");
    assert_string_equal(body(-EAGAIN, 0, "too many upstream fetches in progress"),
                        "unavailable: too many upstream fetches in progress\n");
    /* the rule that refused a module, and the go command's own reason for a direct fetch */
    assert_int_equal(http_status_of_error(-EACCES, NULL), 403);
    assert_string_equal(body(-EACCES, 0, "example.com/a@v1.0.0 is refused by the deny rule \"example.com/a\""),
                        "forbidden: example.com/a@v1.0.0 is refused by the deny rule \"example.com/a\"\n");
    const char *unknown = "direct go mod download example.com/a@v1.0.0: example.com/a@v1.0.0: invalid version: "
                          "unknown revision v1.0.0";
    assert_string_equal(body(-ENOENT, 404, unknown), "not found: direct go mod download example.com/a@v1.0.0: "
                                                     "example.com/a@v1.0.0: invalid version: unknown revision v1.0.0\n");
    assert_string_equal(body(-EIO, 0, "direct go list -m example.com/a@v1.0.0: terminal prompts disabled"),
                        "bad gateway: fetching /example.com/a/@v/v1.0.0.zip failed: direct go list -m "
                        "example.com/a@v1.0.0: terminal prompts disabled\n");
    /* the runner's own failures name local paths: not shown */
    assert_string_equal(body(-EIO, 0, "direct: temporary directory in /var/cache/x: full"),
                        "bad gateway: fetching /example.com/a/@v/v1.0.0.zip failed: upstream or store failure\n");
    /* the shared store's address is the operator's business too */
    assert_int_equal(http_status_of_error(-EREMOTEIO, NULL), 503);
    assert_string_equal(body(-EREMOTEIO, 0, "x: the shared store is unreachable: object store http://10.1.2.3:7480/farm"),
                        "unavailable: /example.com/a/@v/v1.0.0.zip: the shared object store is unreachable, and this "
                        "server fetches only through it\n");
}

static void readiness(void **state)
{
    (void)state;
    char out[256];
    cache_upstream_health_t h = {.answer_age_ms = -1, .failure_age_ms = -1};
    assert_int_equal(http_readiness(&h, out, sizeof out), 200);
    assert_string_equal(out, "ready: no upstream request yet\n");
    h.answer_age_ms = 5000;
    assert_int_equal(http_readiness(&h, out, sizeof out), 200);
    assert_string_equal(out, "ready: upstream answered 5 s ago\n");
    h.failure_age_ms = 2000; /* failed after the last answer */
    snprintf(h.failure, sizeof h.failure, "upstream http://10.1.2.3: refused");
    assert_int_equal(http_readiness(&h, out, sizeof out), 503);
    assert_string_equal(out, "not ready: the last upstream request, 2 s ago, got no answer\n");
    h.answer_age_ms = 1000; /* answered again since */
    assert_int_equal(http_readiness(&h, out, sizeof out), 200);
    h.off = true;
    h.answer_age_ms = -1;
    assert_int_equal(http_readiness(&h, out, sizeof out), 200);
    assert_string_equal(out, "ready: upstream is off, the store answers alone\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(bodies_name_no_upstream), cmocka_unit_test(readiness)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
