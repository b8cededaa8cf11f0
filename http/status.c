/* SPDX-License-Identifier: MIT */
/*
 * status.c — the status page at / : where its figures come from, and the tick that keeps them.
 *
 * Nothing here runs per request. A request costs what it cost before (the loop's own counters)
 * plus the countdown of http_status_note; everything else happens on a one-second timer that
 * each loop runs on itself:
 *   - every loop copies its table of most requested modules (popular.c) into the copy readers
 *     take, under a mutex of its own that only this copy and a page being rendered touch;
 *   - loop 0, when a minute has ended, takes the totals (the loops' counters summed with relaxed
 *     loads, as /metrics does, and the store's figures from memory) into the hour's ring
 *     (history.c).
 * The page itself is gathered from memory on the loop that serves it (the store's figures, the
 * fetch notes, the ring, the tables) and rendered by status_page.c. It follows the rules of
 * /metrics: it is there when --status-page is on, and needs credentials where /metrics does.
 */
#include "http_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_STATUS_TICK_MS 1000
#define HTTP_STATUS_MINUTE_MS 60000u

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void http_status_totals(http_server_t *s, http_history_point_t *out)
{
    memset(out, 0, sizeof *out);
    out->valid = true;
    for (size_t i = 0; i < s->nthreads; i++) {
        http_metrics_t *m = &s->threads[i]->metrics;
        for (int r = 0; r < HTTP_ROUTE_COUNT; r++) {
            if (r == HTTP_ROUTE_OTHER) /* /metrics, /healthz, this page, bad paths */
                continue;
            for (size_t c = 0; c < HTTP_STATUS_SLOTS; c++)
                out->requests += LOAD(m->requests[r][c]);
        }
        out->hits += LOAD(m->hits);
        out->misses += LOAD(m->misses);
    }
    cache_fetch_figures_t f;
    cache_fetch_figures_get(s->cache, &f);
    out->fetch_ok = f.count[CACHE_FETCH_OK];
    out->fetch_not_found = f.count[CACHE_FETCH_NOT_FOUND];
    out->fetch_failed = f.count[CACHE_FETCH_FAILED];
    cache_stats_t st;
    cache_stats_get(s->cache, &st);
    out->usage_bytes = st.usage_bytes;
    out->max_bytes = st.max_bytes;
}

static uint64_t minute_now(http_server_t *s)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ms = (uint64_t)(now.tv_sec - s->started_at.tv_sec) * 1000u +
                  (uint64_t)((now.tv_nsec - s->started_at.tv_nsec) / 1000000);
    return ms / HTTP_STATUS_MINUTE_MS;
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, status_tick, entry);
    http_server_t *s = t->server;
    pthread_mutex_lock(&t->popular_mu);
    t->popular_pub = t->popular;
    pthread_mutex_unlock(&t->popular_mu);
    if (t->index == 0) {
        uint64_t minute = minute_now(s);
        if (http_history_due(&s->history, minute)) {
            http_history_point_t totals;
            http_status_totals(s, &totals);
            http_history_tick(&s->history, minute, &totals);
        }
    }
    h2o_timeout_link(t->loop, &t->status_timeout, &t->status_tick);
}

void http_status_thread_init(http_thread_t *t)
{
    /* loops count from different points, so their samples do not fall on the same requests */
    t->popular_countdown = 1 + (unsigned)(t->index % HTTP_POPULAR_SAMPLE);
    h2o_timeout_init(t->loop, &t->status_timeout, HTTP_STATUS_TICK_MS);
    t->status_tick.cb = on_tick;
    h2o_timeout_link(t->loop, &t->status_timeout, &t->status_tick);
}

void http_status_thread_dispose(http_thread_t *t)
{
    if (h2o_timeout_is_linked(&t->status_tick))
        h2o_timeout_unlink(&t->status_tick);
    h2o_timeout_dispose(t->loop, &t->status_timeout);
}

/* The most requested modules of every loop, as they last published them. */
static int gather_popular(http_server_t *s, http_status_view_t *v)
{
    http_popular_t *tables = malloc(s->nthreads * sizeof *tables);
    if (tables == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->nthreads; i++) {
        http_thread_t *t = s->threads[i];
        pthread_mutex_lock(&t->popular_mu);
        tables[i] = t->popular_pub;
        pthread_mutex_unlock(&t->popular_mu);
    }
    int rc = http_popular_merge(tables, s->nthreads, v->popular, HTTP_POPULAR_SHOWN, &v->npopular);
    free(tables);
    return rc;
}

void http_status_send(h2o_req_t *req, http_server_t *s, bool show_private)
{
    buf_t page = BUF_INIT;
    http_status_view_t *v = calloc(1, sizeof *v);
    cache_fetch_notes_t *notes = malloc(sizeof *notes);
    int rc = v != NULL && notes != NULL ? 0 : -ENOMEM;
    if (rc == 0) {
        struct timespec mono;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        v->now = (int64_t)time(NULL);
        v->started = v->now - (int64_t)(mono.tv_sec - s->started_at.tv_sec);
        v->threads = s->nthreads;
        v->show_private = show_private;
        cache_stats_get(s->cache, &v->store);
        cache_upstream_health(s->cache, &v->upstream);
        http_history_point_t totals;
        http_status_totals(s, &totals);
        http_history_get(&s->history, &totals, v->minutes);
        v->hits = totals.hits;
        v->misses = totals.misses;
        cache_fetch_notes_get(s->cache, notes);
        v->notes = notes;
        rc = gather_popular(s, v);
    }
    if (rc == 0)
        rc = http_status_page_render(v, &page);
    free(notes);
    free(v);
    if (rc != 0) {
        buf_dispose(&page);
        http_send_text(req, 503, H2O_STRLIT("out of memory rendering the status page\n"));
        return;
    }
    size_t len = page.len;
    char *body = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(body, page.base, len);
    buf_dispose(&page);
    /* the page loads nothing from anywhere: say so to the browser, which then refuses to */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL,
                          H2O_STRLIT("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                                     "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    http_send_body(req, 200, "text/html; charset=utf-8", body, len);
}
