/* SPDX-License-Identifier: MIT */
/*
 * history.c — the last hour, minute by minute, for the status page's charts.
 *
 * The figures are counters that already exist (the loops' http_metrics_t, the store's fetch
 * counts) plus two gauges (the store's usage and budget). Rather than count anything again, one
 * timer on loop 0 (status.c) takes their totals when a minute ends and keeps the difference from
 * the minute before in a ring of HTTP_HISTORY_MINUTES points: a few hundred bytes, written once a
 * minute, whatever the traffic. The minute in progress is not in the ring: a reader takes the
 * totals now and subtracts the totals at its start. The mutex is taken by that timer and by a
 * page being rendered, never by a request.
 *
 * Minutes count from the server's start (monotonic), so a clock step never reorders them.
 */
#include "http_i.h"

#include <string.h>

void http_history_init(http_history_t *h, const http_history_point_t *totals)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    h->base = *totals;
}

void http_history_dispose(http_history_t *h)
{
    pthread_mutex_destroy(&h->mu);
}

/* to - from for the counters, to's gauges. */
static http_history_point_t point_delta(const http_history_point_t *to, const http_history_point_t *from)
{
    http_history_point_t d = *to;
    /* counters never go down; a store reopened under us cannot happen, but a wrap would */
#define DELTA(f) d.f = to->f >= from->f ? to->f - from->f : 0
    DELTA(requests);
    DELTA(hits);
    DELTA(misses);
    DELTA(fetch_ok);
    DELTA(fetch_not_found);
    DELTA(fetch_failed);
#undef DELTA
    d.valid = true;
    return d;
}

bool http_history_due(http_history_t *h, uint64_t minute)
{
    pthread_mutex_lock(&h->mu);
    bool due = minute > h->minute;
    pthread_mutex_unlock(&h->mu);
    return due;
}

void http_history_tick(http_history_t *h, uint64_t minute, const http_history_point_t *totals)
{
    pthread_mutex_lock(&h->mu);
    if (minute > h->minute) {
        h->ring[h->minute % HTTP_HISTORY_MINUTES] = point_delta(totals, &h->base);
        /* minutes the timer slept through (a stalled loop): nothing is known of them but their end */
        http_history_point_t quiet = point_delta(totals, totals);
        uint64_t from = minute - h->minute > HTTP_HISTORY_MINUTES ? minute - HTTP_HISTORY_MINUTES : h->minute + 1;
        for (uint64_t m = from; m < minute; m++)
            h->ring[m % HTTP_HISTORY_MINUTES] = quiet;
        h->base = *totals;
        h->minute = minute;
    }
    pthread_mutex_unlock(&h->mu);
}

void http_history_get(http_history_t *h, const http_history_point_t *totals, http_history_point_t out[HTTP_HISTORY_MINUTES + 1])
{
    pthread_mutex_lock(&h->mu);
    for (uint64_t i = 0; i < HTTP_HISTORY_MINUTES; i++) {
        /* out[i] is minute h->minute - HTTP_HISTORY_MINUTES + i */
        if (h->minute + i < HTTP_HISTORY_MINUTES)
            memset(&out[i], 0, sizeof out[i]); /* before the start */
        else
            out[i] = h->ring[(h->minute + i) % HTTP_HISTORY_MINUTES];
    }
    out[HTTP_HISTORY_MINUTES] = point_delta(totals, &h->base);
    pthread_mutex_unlock(&h->mu);
}
