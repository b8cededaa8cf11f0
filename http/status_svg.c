/* SPDX-License-Identifier: MIT */
/*
 * status_svg.c — the status page's small charts, as inline SVG written by hand.
 *
 * Three shapes are enough: stacked bars per minute (requests, upstream fetches), a line with a
 * dashed limit (the store's disk against its budget) and a horizontal gauge (the budget now).
 * Each chart is a fixed viewBox scaled by CSS, its colours come from classes the page's inline
 * style defines, and every bar carries a <title>, so a pointer over it tells the exact figures.
 * No script and nothing fetched: the page must work from a browser that can reach only modfs.
 */
#include "http_i.h"

#include <stdio.h>

/* The viewBox of a minute chart, and its plot area inside. */
#define SVG_W 480
#define SVG_H 120
#define PLOT_X0 58
#define PLOT_X1 (SVG_W - 6)
#define PLOT_Y0 8
#define PLOT_Y1 (SVG_H - 20)

/* The smallest 1, 2 or 5 times a power of ten that is at least v (v >= 1). */
static uint64_t nice_ceil(uint64_t v)
{
    uint64_t p = 1;
    for (;;) {
        if (v <= p)
            return p;
        if (v <= 2 * p)
            return 2 * p;
        if (v <= 5 * p)
            return 5 * p;
        if (p > UINT64_MAX / 10)
            return v;
        p *= 10;
    }
}

static const char *minute_label(size_t i, char *buf, size_t cap)
{
    size_t ago = HTTP_HISTORY_MINUTES - i;
    if (ago == 0)
        snprintf(buf, cap, "this minute");
    else
        snprintf(buf, cap, "%zu min ago", ago);
    return buf;
}

/* The frame of a minute chart: the axis, a grid line at max and half of it, the time labels. */
static void frame(http_page_t *p, const char *id, const char *label, const char *top, const char *half)
{
    http_page_put(p,
                  "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">"
                  "<title>%s</title>"
                  "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                  "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                  "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>"
                  "<text x=\"%d\" y=\"%d\">60 min ago</text>"
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">30 min ago</text>"
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">now</text>",
                  id, SVG_W, SVG_H, label, label, PLOT_X0, PLOT_Y0, PLOT_X1, PLOT_Y0, PLOT_X0,
                  (PLOT_Y0 + PLOT_Y1) / 2, PLOT_X1, (PLOT_Y0 + PLOT_Y1) / 2, PLOT_X0, PLOT_Y1, PLOT_X1, PLOT_Y1,
                  PLOT_X0 - 4, PLOT_Y0 + 4, top, PLOT_X0 - 4, (PLOT_Y0 + PLOT_Y1) / 2 + 4, half, PLOT_X0 - 4,
                  PLOT_Y1 + 4, PLOT_X0, SVG_H - 5, (PLOT_X0 + PLOT_X1) / 2, SVG_H - 5, PLOT_X1, SVG_H - 5);
}

void http_svg_bars(http_page_t *p, const char *id, const char *label, const http_svg_series_t *series, size_t n,
                   const http_history_point_t *minutes)
{
    const size_t slots = HTTP_HISTORY_MINUTES + 1;
    uint64_t max = 0;
    for (size_t i = 0; i < slots; i++) {
        uint64_t sum = 0;
        for (size_t k = 0; k < n; k++)
            sum += series[k].v[i];
        if (sum > max)
            max = sum;
    }
    uint64_t top = nice_ceil(max > 0 ? max : 1);
    char top_s[24], half_s[24];
    snprintf(top_s, sizeof top_s, "%llu", (unsigned long long)top);
    if (top % 2 == 0)
        snprintf(half_s, sizeof half_s, "%llu", (unsigned long long)(top / 2));
    else
        snprintf(half_s, sizeof half_s, "%.1f", (double)top / 2);
    frame(p, id, label, top_s, half_s);
    double slot_w = (double)(PLOT_X1 - PLOT_X0) / (double)slots;
    double bar_w = slot_w > 2 ? slot_w - 1 : slot_w;
    double scale = (double)(PLOT_Y1 - PLOT_Y0) / (double)top;
    for (size_t i = 0; i < slots; i++) {
        if (!minutes[i].valid)
            continue;
        uint64_t sum = 0;
        for (size_t k = 0; k < n; k++)
            sum += series[k].v[i];
        char when[32];
        http_page_put(p, "<g><title>%s: %llu", minute_label(i, when, sizeof when), (unsigned long long)sum);
        for (size_t k = 0; k < n; k++)
            http_page_put(p, "%s%llu %s", k == 0 ? " (" : ", ", (unsigned long long)series[k].v[i], series[k].name);
        http_page_put(p, "%s</title>", n > 0 ? ")" : "");
        double x = PLOT_X0 + (double)i * slot_w, y = PLOT_Y1;
        for (size_t k = 0; k < n; k++) {
            if (series[k].v[i] == 0)
                continue;
            double h = (double)series[k].v[i] * scale;
            y -= h;
            http_page_put(p, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                          series[k].cls, x, y, bar_w, h);
        }
        http_page_put(p, "</g>");
    }
    http_page_put(p, "</svg>");
}

void http_svg_usage(http_page_t *p, const char *id, const char *label, const http_history_point_t *minutes)
{
    const size_t slots = HTTP_HISTORY_MINUTES + 1;
    uint64_t max = 0, budget = 0;
    for (size_t i = 0; i < slots; i++) {
        if (!minutes[i].valid)
            continue;
        if (minutes[i].usage_bytes > max)
            max = minutes[i].usage_bytes;
        budget = minutes[i].max_bytes; /* the latest */
    }
    uint64_t top = budget > max ? budget : max;
    top = top + top / 10;
    if (top == 0)
        top = 1;
    char top_s[32], half_s[32];
    http_format_bytes(top, top_s, sizeof top_s);
    http_format_bytes(top / 2, half_s, sizeof half_s);
    frame(p, id, label, top_s, half_s);
    double slot_w = (double)(PLOT_X1 - PLOT_X0) / (double)slots;
    double scale = (double)(PLOT_Y1 - PLOT_Y0) / (double)top;
    if (budget > 0) {
        double y = PLOT_Y1 - (double)budget * scale;
        http_page_put(p,
                      "<line class=\"budget\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"><title>budget</title></line>",
                      PLOT_X0, y, PLOT_X1, y);
    }
    http_page_put(p, "<polyline class=\"usage\" points=\"");
    for (size_t i = 0; i < slots; i++)
        if (minutes[i].valid)
            http_page_put(p, "%.1f,%.1f ", PLOT_X0 + ((double)i + 0.5) * slot_w,
                          PLOT_Y1 - (double)minutes[i].usage_bytes * scale);
    http_page_put(p, "\"/>");
    for (size_t i = 0; i < slots; i++) {
        if (!minutes[i].valid)
            continue;
        char when[32], used[32];
        http_format_bytes(minutes[i].usage_bytes, used, sizeof used);
        http_page_put(p, "<circle class=\"usage\" cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\"><title>%s: %s</title></circle>",
                      PLOT_X0 + ((double)i + 0.5) * slot_w, PLOT_Y1 - (double)minutes[i].usage_bytes * scale,
                      minute_label(i, when, sizeof when), used);
    }
    http_page_put(p, "</svg>");
}

void http_svg_gauge(http_page_t *p, const char *id, uint64_t used, uint64_t live, uint64_t max)
{
    const int w = 480, h = 22;
    double frac = max > 0 ? (double)used / (double)max : 0;
    double live_frac = max > 0 ? (double)live / (double)max : 0;
    if (frac > 1)
        frac = 1;
    if (live_frac > frac)
        live_frac = frac;
    http_page_put(p,
                  "<svg id=\"%s\" class=\"gauge\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"disk in use against "
                  "the budget\"><title>%.1f %% of the budget in use, %.1f %% by live objects</title>"
                  "<rect class=\"track\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" rx=\"4\"/>"
                  "<rect class=\"used\" x=\"0\" y=\"0\" width=\"%.1f\" height=\"%d\" rx=\"4\"/>"
                  "<rect class=\"live\" x=\"0\" y=\"0\" width=\"%.1f\" height=\"%d\" rx=\"4\"/>"
                  /* eviction brings the store back to 90% of the budget */
                  "<line class=\"mark\" x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\"><title>eviction target: 90 %% of "
                  "the budget</title></line></svg>",
                  id, w, h, frac * 100, live_frac * 100, w, h, frac * w, h, live_frac * w, h, 0.9 * w, 0.9 * w, h);
}
