/* SPDX-License-Identifier: MIT */
/*
 * Tests of the status page's pieces that need no server: the most requested modules (popular.c:
 * the space-saving table and the merge of the loops' tables), the hour's ring (history.c), and
 * the page (status_page.c): every outside name escaped, private names masked, the budget shown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http_i.h"

static void note(http_popular_t *p, const char *module, int times)
{
    for (int i = 0; i < times; i++)
        http_popular_note(p, module, strlen(module), false);
}

static void popular_keeps_the_heavy_hitters(void **state)
{
    (void)state;
    http_popular_t *p = calloc(1, sizeof *p);
    assert_non_null(p);
    note(p, "golang.org/x/text", 500);
    /* far more distinct modules than slots, each seen a few times, interleaved */
    char name[64];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 200; i++) {
            snprintf(name, sizeof name, "example.com/m%d", i);
            note(p, name, 1);
        }
        note(p, "golang.org/x/mod", 60);
    }
    http_popular_entry_t out[HTTP_POPULAR_SHOWN];
    size_t n = 0;
    assert_int_equal(http_popular_merge(p, 1, out, HTTP_POPULAR_SHOWN, &n), 0);
    assert_int_equal(n, HTTP_POPULAR_SHOWN);
    assert_string_equal(out[0].module, "golang.org/x/text");
    assert_true(out[0].count >= 500);
    assert_string_equal(out[1].module, "golang.org/x/mod");
    assert_true(out[1].count >= 300);
    free(p);
}

static void popular_merge_sums_loops(void **state)
{
    (void)state;
    http_popular_t *p = calloc(3, sizeof *p);
    assert_non_null(p);
    note(&p[0], "a.example/one", 5);
    note(&p[0], "a.example/two", 7);
    note(&p[1], "a.example/one", 4);
    note(&p[2], "a.example/one", 1);
    note(&p[2], "a.example/three", 2);
    http_popular_entry_t out[2];
    size_t n = 0;
    assert_int_equal(http_popular_merge(p, 3, out, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].module, "a.example/one");
    assert_int_equal(out[0].count, 10);
    assert_string_equal(out[1].module, "a.example/two");
    assert_int_equal(out[1].count, 7);
    /* empty tables merge to nothing */
    memset(p, 0, 3 * sizeof *p);
    assert_int_equal(http_popular_merge(p, 3, out, 2, &n), 0);
    assert_int_equal(n, 0);
    free(p);
}

static void popular_cuts_long_names(void **state)
{
    (void)state;
    http_popular_t *p = calloc(1, sizeof *p);
    char name[400];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    note(p, name, 2);
    name[10] = 'b'; /* another module, same first bytes past the cut: still told apart */
    note(p, name, 1);
    http_popular_entry_t out[2];
    size_t n = 0;
    assert_int_equal(http_popular_merge(p, 1, out, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(strlen(out[0].module), HTTP_POPULAR_NAME_MAX - 1);
    assert_int_equal(out[0].count, 2);
    free(p);
}

static http_history_point_t totals(uint64_t requests, uint64_t usage)
{
    http_history_point_t t = {.valid = true, .requests = requests, .hits = requests / 2, .usage_bytes = usage};
    return t;
}

static void history_keeps_an_hour_by_minute(void **state)
{
    (void)state;
    http_history_t *h = malloc(sizeof *h);
    http_history_point_t *out = malloc((HTTP_HISTORY_MINUTES + 1) * sizeof *out);
    assert_non_null(h);
    assert_non_null(out);
    http_history_point_t t = totals(0, 0);
    http_history_init(h, &t);
    /* minute 0 in progress: nothing before the start is valid */
    t = totals(10, 100);
    http_history_get(h, &t, out);
    for (int i = 0; i < HTTP_HISTORY_MINUTES; i++)
        assert_false(out[i].valid);
    assert_true(out[HTTP_HISTORY_MINUTES].valid);
    assert_int_equal(out[HTTP_HISTORY_MINUTES].requests, 10);
    assert_false(http_history_due(h, 0));
    assert_true(http_history_due(h, 1));
    http_history_tick(h, 1, &t); /* minute 0 had 10 requests */
    t = totals(15, 120);
    http_history_tick(h, 4, &t); /* minute 1 had 5; minutes 2 and 3 were slept through */
    t = totals(22, 130);
    http_history_get(h, &t, out);
    assert_int_equal(out[HTTP_HISTORY_MINUTES].requests, 7); /* minute 4, in progress */
    assert_int_equal(out[HTTP_HISTORY_MINUTES].usage_bytes, 130);
    assert_true(out[HTTP_HISTORY_MINUTES - 1].valid && out[HTTP_HISTORY_MINUTES - 1].requests == 0);
    assert_true(out[HTTP_HISTORY_MINUTES - 2].valid && out[HTTP_HISTORY_MINUTES - 2].requests == 0);
    assert_int_equal(out[HTTP_HISTORY_MINUTES - 3].requests, 5);
    assert_int_equal(out[HTTP_HISTORY_MINUTES - 3].hits, 15 / 2 - 10 / 2);
    assert_int_equal(out[HTTP_HISTORY_MINUTES - 3].usage_bytes, 120);
    assert_int_equal(out[HTTP_HISTORY_MINUTES - 4].requests, 10);
    assert_false(out[HTTP_HISTORY_MINUTES - 5].valid);
    /* two hours later the ring holds the last hour only */
    for (uint64_t m = 5; m <= 125; m++) {
        t = totals(22 + m, 130);
        http_history_tick(h, m, &t);
    }
    http_history_get(h, &t, out);
    for (int i = 0; i < HTTP_HISTORY_MINUTES; i++) {
        assert_true(out[i].valid);
        assert_int_equal(out[i].requests, 1);
    }
    http_history_dispose(h);
    free(out);
    free(h);
}

static void page_escapes_and_masks(void **state)
{
    (void)state;
    http_status_view_t *v = calloc(1, sizeof *v);
    cache_fetch_notes_t *notes = calloc(1, sizeof *notes);
    assert_non_null(v);
    assert_non_null(notes);
    v->now = 1700000000;
    v->started = v->now - 3700;
    v->threads = 2;
    v->store.max_bytes = 64ull << 20;
    v->store.usage_bytes = 48ull << 20;
    v->upstream.answer_age_ms = 2000;
    v->upstream.failure_age_ms = -1;
    for (int i = 0; i <= HTTP_HISTORY_MINUTES; i++)
        v->minutes[i] = totals((uint64_t)i, 48ull << 20);
    v->npopular = 2;
    strcpy(v->popular[0].module, "example.com/<script>");
    v->popular[0].count = 9;
    strcpy(v->popular[1].module, "corp.example/secret");
    v->popular[1].count = 3;
    v->popular[1].private_module = true;
    notes->nfailed = 1;
    strcpy(notes->failed[0].key, "example.com/a&b/@v/v1.0.0.zip");
    notes->failed[0].rc = -EIO;
    notes->failed[0].err.upstream_status = 500;
    strcpy(notes->failed[0].err.msg, "upstream http://internal.example:8080/x: 500");
    v->notes = notes;
    buf_t out = BUF_INIT;
    assert_int_equal(http_status_page_render(v, &out), 0);
    assert_int_equal(buf_append(&out, "", 1), 0);
    const char *page = (const char *)out.base;
    assert_non_null(strstr(page, "<code>example.com/&lt;script&gt;</code>"));
    assert_null(strstr(page, "<script>\"")); /* the module's name never opens a tag */
    assert_null(strstr(page, "corp.example/secret"));
    assert_non_null(strstr(page, "(a private module)"));
    assert_non_null(strstr(page, "<code>example.com/a&amp;b/@v/v1.0.0.zip</code></td><td>upstream answered 500"));
    assert_null(strstr(page, "internal.example"));
    assert_non_null(strstr(page, "of 64.0 MiB budget (75.0 %)"));
    assert_non_null(strstr(page, "<svg id=\"chart-requests\""));
    /* each figure in its own words: 1830 requests in the hour, 900 of them hits */
    assert_non_null(strstr(page, "<dd>1\u2009830 requests, 900 from the store, 0 upstream</dd>"));
    /* with credentials shown, private names are there */
    buf_dispose(&out);
    v->show_private = true;
    assert_int_equal(http_status_page_render(v, &out), 0);
    assert_int_equal(buf_append(&out, "", 1), 0);
    assert_non_null(strstr((const char *)out.base, "corp.example/secret"));
    buf_dispose(&out);
    free(notes);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(popular_keeps_the_heavy_hitters),
        cmocka_unit_test(popular_merge_sums_loops),
        cmocka_unit_test(popular_cuts_long_names),
        cmocka_unit_test(history_keeps_an_hour_by_minute),
        cmocka_unit_test(page_escapes_and_masks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
