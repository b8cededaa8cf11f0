/* SPDX-License-Identifier: MIT */
/*
 * Tests of cache/shared/listing.c: a ListObjectsV2 answer as Ceph's gateway writes it is read
 * whole (names with entities decoded, times, sizes, paging), pages add up, and anything else is
 * refused without changing the list (gc decides deletions from these). ISO times read right.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "shared_i.h"
#include "expect.h"

/* An answer of Ceph 16.2's radosgw, as it is on the wire. */
static const char page1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>farm</Name><Prefix>p/</Prefix><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
    "<Contents><Key>p/manifests/a/@v/v1.0.0.zip</Key><LastModified>2026-11-29T17:51:15.146Z</LastModified>"
    "<ETag>&quot;b1946ac92492d2347c6235b4d2611184&quot;</ETag><Size>6</Size><StorageClass>STANDARD</"
    "StorageClass>"
    "<Owner><ID>s3test</ID><DisplayName>S3 test user</DisplayName></Owner><Type>Normal</Type></Contents>"
    "<Contents><Key>p/x &amp; &lt;y&gt; &#233;&#x41;</Key><LastModified>1970-01-01T00:00:01Z</LastModified>"
    "<ETag>&quot;x&quot;</ETag><Size>9999999999999999999</Size></Contents>"
    "<KeyCount>2</KeyCount><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</"
    "NextContinuationToken>"
    "</ListBucketResult>";

static const char page2[] =
    "<?xml version=\"1.0\"?>\n<ListBucketResult>\n  <IsTruncated>false</IsTruncated>\n"
    "  <Contents><Key>p/z</Key><LastModified>2000-02-29T23:59:59.5Z</LastModified>"
    "<Size>0</Size></Contents>\n  <CommonPrefixes/>\n</ListBucketResult>\n";

static void test_pages(void **state)
{
    (void)state;
    shared_list_t list = {0};
    cache_err_t err = {0};
    assert_int_equal(shared_list_parse((const uint8_t *)page1, strlen(page1), &list, &err), 0);
    assert_int_equal(list.n, 2);
    assert_true(list.truncated);
    assert_string_equal(list.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    assert_string_equal(list.v[0].name, "p/manifests/a/@v/v1.0.0.zip");
    assert_int_equal(list.v[0].size, 6);
    assert_int_equal(list.v[0].mtime_ms, 1795974675146LL);
    assert_string_equal(list.v[1].name, "p/x & <y> \xc3\xa9"
                                        "A");
    assert_int_equal(list.v[1].size, 9999999999999999999ull);
    assert_int_equal(list.v[1].mtime_ms, 1000);
    assert_int_equal(shared_list_parse((const uint8_t *)page2, strlen(page2), &list, &err), 0);
    assert_int_equal(list.n, 3);
    assert_false(list.truncated);
    assert_null(list.next_token);
    assert_string_equal(list.v[2].name, "p/z");
    assert_int_equal(list.v[2].mtime_ms, 951868799500LL);
    shared_list_dispose(&list);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *rows[] = {
        "",
        "<Error><Code>AccessDenied</Code></Error>",
        "<ListBucketResult><IsTruncated>false</IsTruncated>",
        "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
        "<ListBucketResult></ListBucketResult>", /* no IsTruncated */
        "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult><x/>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>1</Size></Contents>"
        "</ListBucketResult>", /* no LastModified */
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Key>b</Key>"
        "<LastModified>2026-11-29T17:51:15Z</LastModified><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
        "<LastModified>2026-13-29T17:51:15Z</LastModified><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
        "<LastModified>2026-11-29T17:51:15Z</LastModified><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&bogus;</Key>"
        "<LastModified>2026-11-29T17:51:15Z</LastModified><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&#0;</Key>"
        "<LastModified>2026-11-29T17:51:15Z</LastModified><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&#xD800;</Key>"
        "<LastModified>2026-11-29T17:51:15Z</LastModified><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key><![CDATA[a]]></Key>"
        "<LastModified>2026-11-29T17:51:15Z</LastModified><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Kay>"
        "<LastModified>2026-11-29T17:51:15Z</LastModified><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key>"
        "<LastModified>2026-11-29T17:51:15Z</LastModified><Size>18446744073709551616</Size></Contents></"
        "ListBucketResult>",
        "<ListBucketResult a=\"1>\"><IsTruncated>false</IsTruncated></ListBucketResult",
        "<!DOCTYPE x><ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><a><b><c><d><e><f><g><h><i></i></h></g></f></e></"
        "d></c>"
        "</b></a></ListBucketResult>",
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++) {
        shared_list_t list = {0};
        cache_err_t err = {0};
        int rc = shared_list_parse((const uint8_t *)rows[i], strlen(rows[i]), &list, &err);
        expect(rc == -EBADMSG && list.n == 0 && err.msg[0], "row %zu: got %d with %zu entries", i, rc,
               list.n);
        shared_list_dispose(&list);
    }
    TABLE_END();
}

static void test_times(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t ms; /* -1: refused */
    } rows[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.001Z", 1},
        {"2024-02-29T12:00:00.123456Z", 1709208000123LL},
        {"2026-11-29T17:51:15.146Z", 1795974675146LL},
        {"2026-11-29 17:51:15Z", -1},
        {"2026-11-29T17:51:15", -1},
        {"2026-11-29T17:51:15.Z", -1},
        {"2026-11-29T24:00:00Z", -1},
        {"2026-02-30T00:00:00Z", -1},
        {"1969-12-31T23:59:59Z", -1},
        {"2026-1a-29T17:51:15Z", -1},
    };
    TABLE_BEGIN();
    for (size_t i = 0; i < N(rows); i++) {
        int64_t ms = -1;
        int rc = shared_time_parse_iso(rows[i].s, strlen(rows[i].s), &ms);
        if (rows[i].ms < 0)
            expect(rc == -EINVAL, "%s: accepted as %lld", rows[i].s, (long long)ms);
        else
            expect(rc == 0 && ms == rows[i].ms, "%s: got %d %lld, want %lld", rows[i].s, rc, (long long)ms,
                   (long long)rows[i].ms);
    }
    TABLE_END();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
