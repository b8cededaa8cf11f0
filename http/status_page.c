/* SPDX-License-Identifier: MIT */
/*
 * status_page.c — the status page as HTML, from figures already gathered (http_status_view_t).
 *
 * One self-contained document: inline CSS, inline SVG charts (status_svg.c) and six lines of
 * inline script that fetch the page again every HTTP_STATUS_REFRESH_S seconds and swap its body
 * in, so the page stays where the reader scrolled (without script, a meta refresh does the same,
 * less gently). Nothing is loaded from anywhere else — no library, font or stylesheet — so it
 * works from a build network that reaches only modfs, and there is nothing to build: the page is
 * this file. Every name that comes from outside (module paths, keys, go's error words) is
 * HTML-escaped; upstream's location is never shown (failures are told as errors.c tells clients),
 * and private module names only to a reader who showed credentials.
 */
#include "http_i.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HTTP_STATUS_REFRESH_S 10

void http_page_put(http_page_t *p, const char *fmt, ...)
{
    if (p->rc != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        p->rc = -EINVAL;
        return;
    }
    if ((p->rc = buf_reserve(p->out, (size_t)n)) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)p->out->base + p->out->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    p->out->len += (size_t)n;
}

void http_page_escaped(http_page_t *p, const char *s)
{
    for (; *s != '\0' && p->rc == 0; s++) {
        switch (*s) {
        case '&':
            http_page_put(p, "&amp;");
            break;
        case '<':
            http_page_put(p, "&lt;");
            break;
        case '>':
            http_page_put(p, "&gt;");
            break;
        case '"':
            http_page_put(p, "&quot;");
            break;
        case '\'':
            http_page_put(p, "&#39;");
            break;
        default:
            p->rc = buf_append(p->out, s, 1);
        }
    }
}

const char *http_format_bytes(uint64_t v, char *buf, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (v < 1024) {
        snprintf(buf, cap, "%llu B", (unsigned long long)v);
        return buf;
    }
    double x = (double)v / 1024;
    size_t u = 0;
    while (x >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        x /= 1024;
        u++;
    }
    snprintf(buf, cap, x < 10 ? "%.2f %s" : x < 100 ? "%.1f %s" : "%.0f %s", x, units[u]);
    return buf;
}

static const char *format_duration(uint64_t us, char *buf, size_t cap)
{
    if (us < 1000)
        snprintf(buf, cap, "%llu µs", (unsigned long long)us);
    else if (us < 1000000)
        snprintf(buf, cap, "%.1f ms", (double)us / 1e3);
    else
        snprintf(buf, cap, "%.2f s", (double)us / 1e6);
    return buf;
}

static const char *format_age(int64_t s, char *buf, size_t cap)
{
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(buf, cap, "%lld s", (long long)s);
    else if (s < 7200)
        snprintf(buf, cap, "%lld min", (long long)(s / 60));
    else if (s < 2 * 86400)
        snprintf(buf, cap, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(buf, cap, "%lld days %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    return buf;
}

static const char *format_count(uint64_t v, char *buf, size_t cap)
{
    /* thousands separated by a thin space: 12 345 678 */
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 4 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            memcpy(buf + o, "\u2009", 3);
            o += 3;
        }
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static void put_ratio(http_page_t *p, uint64_t part, uint64_t whole)
{
    if (whole == 0)
        http_page_put(p, "–");
    else
        http_page_put(p, "%.1f %%", 100.0 * (double)part / (double)whole);
}

static const char style[] =
    "<style>"
    ":root{--fg:#1d2330;--muted:#5d6778;--bg:#f4f5f7;--card:#fff;--line:#dde1e7;--hit:#2f8f5b;--miss:#e08a2e;"
    "--other:#a3abb8;--fail:#c8372d;--nf:#8f7fd6;--use:#2f6db5}"
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:var(--bg);color:var(--fg)}"
    "header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 18px;padding:14px 24px;background:#1d2330;"
    "color:#e8ebf0}"
    "header h1{font-size:20px;margin:0;color:#fff}header span{color:#b7bfcc}"
    ".ok{color:#7fd19b}.bad{color:#ff8a80}"
    "main{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:16px;padding:16px 24px}"
    "section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0}"
    "h2{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:0 0 8px}"
    ".big{font-size:26px;font-weight:600;margin-right:8px}.sub{color:var(--muted)}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:2px 14px;margin:10px 0 0}dt{color:var(--muted)}dd{margin:0}"
    "table{width:100%;border-collapse:collapse;font-size:13px}"
    "th{font-weight:500;color:var(--muted);text-align:left}"
    "td,th{padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}"
    ".n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
    "code{font:12px ui-monospace,'DejaVu Sans Mono',monospace;word-break:break-all}"
    ".empty{color:var(--muted);font-style:italic}"
    ".share{display:inline-block;height:8px;background:var(--use);border-radius:2px;vertical-align:middle;"
    "opacity:.7}"
    "svg{display:block;width:100%;height:auto}svg text{font:10px system-ui,sans-serif;fill:var(--muted)}"
    ".axis{stroke:#8a93a3}.grid{stroke:var(--line);stroke-dasharray:2 3}"
    "rect.hit{fill:var(--hit)}rect.miss{fill:var(--miss)}rect.other{fill:var(--other)}rect.ok{fill:var(--use)}"
    "rect.nf{fill:var(--nf)}rect.fail{fill:var(--fail)}"
    "polyline.usage{fill:none;stroke:var(--use);stroke-width:1.5}circle.usage{fill:var(--use)}"
    "line.budget{stroke:var(--fail);stroke-dasharray:5 4}"
    ".gauge{margin:8px 0 4px}.gauge .track{fill:#e7eaee}.gauge .used{fill:#8fb3df}.gauge .live{fill:var(--use)}"
    ".gauge .mark{stroke:var(--fail);stroke-width:2}"
    ".legend{font-size:12px;color:var(--muted);margin:4px 0 0}.legend i{display:inline-block;width:10px;"
    "height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px}"
    "footer{padding:0 24px 18px;color:var(--muted);font-size:12px}"
    "</style>";

/* Re-fetches the page and swaps the body in: no flash, the scroll position stays. */
#define STATUS_SCRIPT                                                                                        \
    "<script>"                                                                                               \
    "setInterval(function(){fetch(location.href,{cache:'no-store'}).then(function(r){return r.ok?r.text():null})" \
    ".then(function(t){if(t)document.body.replaceWith(new DOMParser().parseFromString(t,'text/html').body)})"    \
    ".catch(function(){})},%d000);"                                                                   \
    "</script>"

static void put_header(http_page_t *p, const http_status_view_t *v)
{
    char up[48], ready[160];
    int status = http_readiness(&v->upstream, ready, sizeof ready);
    ready[strcspn(ready, "\n")] = '\0';
    struct tm tm;
    time_t now = (time_t)v->now;
    gmtime_r(&now, &tm);
    http_page_put(p,
                  "<header><h1>modfs</h1><span>" MODFS_VERSION "</span><span>up %s</span><span>%zu event loop%s</span>"
                  "<span class=\"%s\" id=\"upstream\">",
                  format_age(v->now - v->started, up, sizeof up), v->threads, v->threads == 1 ? "" : "s",
                  status == 200 ? "ok" : "bad");
    http_page_escaped(p, ready);
    http_page_put(p, "</span><span>%04d-%02d-%02d %02d:%02d:%02d UTC</span></header>", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_store(http_page_t *p, const http_status_view_t *v)
{
    const cache_stats_t *st = &v->store;
    char a[32], b[32], c[32], d[32];
    http_page_put(p, "<section id=\"store\"><h2>Store</h2>");
    if (st->max_bytes > 0) {
        http_page_put(p,
                      "<div id=\"budget\"><span class=\"big\">%s</span><span class=\"sub\">of %s budget (%.1f "
                      "%%)</span></div>",
                      http_format_bytes(st->usage_bytes, a, sizeof a), http_format_bytes(st->max_bytes, b, sizeof b),
                      100.0 * (double)st->usage_bytes / (double)st->max_bytes);
        http_svg_gauge(p, "budget-gauge", st->usage_bytes, st->live_bytes, st->max_bytes);
    } else {
        http_page_put(p,
                      "<div id=\"budget\"><span class=\"big\">%s</span><span class=\"sub\">on disk, no budget "
                      "(--max-size)</span></div>",
                      http_format_bytes(st->usage_bytes, a, sizeof a));
    }
    http_page_put(p, "<dl><dt>objects</dt><dd>%s (%s as served)</dd>", format_count(st->objects, a, sizeof a),
                  http_format_bytes(st->logical_bytes, b, sizeof b));
    http_page_put(p, "<dt>live share of the packs</dt><dd>");
    put_ratio(p, st->live_bytes, st->pack_bytes);
    http_page_put(p, " of %s</dd>", http_format_bytes(st->pack_bytes, a, sizeof a));
    http_page_put(p,
                  "<dt>evicted</dt><dd id=\"evictions\">%s objects, %s</dd>"
                  "<dt>given back</dt><dd>%s (%s packs compacted)</dd></dl></section>",
                  format_count(st->evictions, a, sizeof a), http_format_bytes(st->evicted_bytes, b, sizeof b),
                  http_format_bytes(st->reclaimed_bytes, c, sizeof c), format_count(st->compactions, d, sizeof d));
}

static void put_hits(http_page_t *p, const http_status_view_t *v)
{
    uint64_t hits = 0, misses = 0, requests = 0;
    for (size_t i = 0; i <= HTTP_HISTORY_MINUTES; i++) {
        hits += v->minutes[i].hits;
        misses += v->minutes[i].misses;
        requests += v->minutes[i].requests;
    }
    char a[32], b[32], c[32];
    http_page_put(p, "<section id=\"hits\"><h2>Hit ratio</h2><div><span class=\"big\" id=\"hit-ratio\">");
    put_ratio(p, hits, hits + misses);
    http_page_put(p, "</span><span class=\"sub\">of the last hour's lookups answered from the store</span></div>");
    http_page_put(p, "<dl><dt>last hour</dt><dd>%s requests, %s from the store, %s upstream</dd>",
                  format_count(requests, a, sizeof a), format_count(hits, b, sizeof b),
                  format_count(misses, c, sizeof c));
    http_page_put(p, "<dt>since the start</dt><dd>");
    put_ratio(p, v->hits, v->hits + v->misses);
    http_page_put(p, " (%s from the store, %s upstream)</dd>", format_count(v->hits, a, sizeof a),
                  format_count(v->misses, b, sizeof b));
    http_page_put(p, "<dt>store, all time</dt><dd>");
    put_ratio(p, v->store.hits, v->store.hits + v->store.misses);
    http_page_put(p, " (both fronts: %s hits, %s misses)</dd></dl></section>",
                  format_count(v->store.hits, a, sizeof a), format_count(v->store.misses, b, sizeof b));
}

static void legend(http_page_t *p, const http_svg_series_t *s, size_t n)
{
    http_page_put(p, "<div class=\"legend\">");
    for (size_t k = 0; k < n; k++) {
        uint64_t sum = 0;
        for (size_t i = 0; i <= HTTP_HISTORY_MINUTES; i++)
            sum += s[k].v[i];
        http_page_put(p, "<i style=\"background:var(--%s)\"></i>%s %llu", strcmp(s[k].cls, "ok") == 0 ? "use" : s[k].cls,
                      s[k].name, (unsigned long long)sum);
    }
    http_page_put(p, " in the last hour</div>");
}

static int put_charts(http_page_t *p, const http_status_view_t *v)
{
    http_svg_series_t *s = calloc(3, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s[0].name = "from the store";
    s[0].cls = "hit";
    s[1].name = "upstream";
    s[1].cls = "miss";
    s[2].name = "other (refused, remembered as absent)";
    s[2].cls = "other";
    for (size_t i = 0; i <= HTTP_HISTORY_MINUTES; i++) {
        const http_history_point_t *m = &v->minutes[i];
        s[0].v[i] = m->hits;
        s[1].v[i] = m->misses;
        s[2].v[i] = m->requests > m->hits + m->misses ? m->requests - m->hits - m->misses : 0;
    }
    http_page_put(p, "<section id=\"requests\"><h2>GOPROXY requests per minute</h2>");
    http_svg_bars(p, "chart-requests", "GOPROXY requests per minute, last hour", s, 3, v->minutes);
    legend(p, s, 3);
    http_page_put(p, "</section>");

    s[0].name = "stored";
    s[0].cls = "ok";
    s[1].name = "not found";
    s[1].cls = "nf";
    s[2].name = "failed";
    s[2].cls = "fail";
    for (size_t i = 0; i <= HTTP_HISTORY_MINUTES; i++) {
        s[0].v[i] = v->minutes[i].fetch_ok;
        s[1].v[i] = v->minutes[i].fetch_not_found;
        s[2].v[i] = v->minutes[i].fetch_failed;
    }
    http_page_put(p, "<section id=\"fetches\"><h2>Upstream fetches per minute</h2>");
    http_svg_bars(p, "chart-fetches", "upstream fetches per minute, last hour", s, 3, v->minutes);
    legend(p, s, 3);
    http_page_put(p, "</section>");
    free(s);

    http_page_put(p, "<section id=\"usage\"><h2>Store disk, last hour</h2>");
    http_svg_usage(p, "chart-usage", "the store's disk in use, last hour", v->minutes);
    http_page_put(p, "<div class=\"legend\"><i style=\"background:var(--use)\"></i>in use");
    if (v->store.max_bytes > 0)
        http_page_put(p, "<i style=\"background:var(--fail)\"></i>budget (--max-size)");
    http_page_put(p, "</div></section>");
    return 0;
}

static void put_popular(http_page_t *p, const http_status_view_t *v)
{
    http_page_put(p, "<section id=\"popular\"><h2>Most requested modules</h2>");
    if (v->npopular == 0) {
        http_page_put(p, "<p class=\"empty\">No module requested yet.</p></section>");
        return;
    }
    uint64_t top = v->popular[0].count;
    http_page_put(p, "<table><tr><th>module</th><th class=\"n\">requests (est.)</th><th></th></tr>");
    for (size_t i = 0; i < v->npopular; i++) {
        const http_popular_entry_t *e = &v->popular[i];
        http_page_put(p, "<tr><td><code>");
        if (e->private_module && !v->show_private)
            http_page_put(p, "(a private module)");
        else
            http_page_escaped(p, e->module);
        http_page_put(p,
                      "</code></td><td class=\"n\">~%llu</td><td><span class=\"share\" style=\"width:%llupx\">"
                      "</span></td></tr>",
                      (unsigned long long)(e->count * HTTP_POPULAR_SAMPLE),
                      (unsigned long long)(top > 0 ? 1 + e->count * 100 / top : 0));
    }
    http_page_put(p,
                  "</table><p class=\"sub\">Since the start; one GOPROXY request in %d is counted, so the figures "
                  "are estimates.</p></section>",
                  HTTP_POPULAR_SAMPLE);
}

static void put_key(http_page_t *p, const http_status_view_t *v, const cache_fetch_note_t *n)
{
    http_page_put(p, "<code>");
    if (n->private_module && !v->show_private)
        http_page_put(p, "(a private module)");
    else
        http_page_escaped(p, n->key);
    http_page_put(p, "</code>");
}

/* What failed: the go command's own words name the module, so not for a private one unless the
 * reader showed credentials. */
static const char *reason(const http_status_view_t *v, const cache_fetch_note_t *n, char *buf, size_t cap)
{
    if (n->private_module && !v->show_private)
        return "failed (the log has why)";
    return http_failure_reason(n->rc, &n->err, buf, cap);
}

static void put_slowest(http_page_t *p, const http_status_view_t *v)
{
    const cache_fetch_notes_t *notes = v->notes;
    http_page_put(p, "<section id=\"slowest\"><h2>Slowest upstream fetches, last hour</h2>");
    if (notes->nslowest == 0) {
        http_page_put(p, "<p class=\"empty\">No upstream fetch in the last hour.</p></section>");
        return;
    }
    http_page_put(p, "<table><tr><th>key</th><th class=\"n\">took</th><th class=\"n\">size</th><th>result</th>"
                     "<th class=\"n\">ago</th></tr>");
    for (size_t i = 0; i < notes->nslowest; i++) {
        const cache_fetch_note_t *n = &notes->slowest[i];
        char took[32], size[32], ago[48], why[160];
        http_page_put(p, "<tr><td>");
        put_key(p, v, n);
        http_page_put(p, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>",
                      format_duration(n->duration_us, took, sizeof took),
                      n->rc == 0 ? http_format_bytes(n->bytes, size, sizeof size) : "–");
        http_page_escaped(p, n->rc == 0 ? "stored" : reason(v, n, why, sizeof why));
        http_page_put(p, "</td><td class=\"n\">%s</td></tr>", format_age(v->now - n->ended_at, ago, sizeof ago));
    }
    http_page_put(p, "</table></section>");
}

static void put_failing(http_page_t *p, const http_status_view_t *v)
{
    const cache_fetch_notes_t *notes = v->notes;
    http_page_put(p, "<section id=\"failing\"><h2>Failing upstream fetches, latest first</h2>");
    if (notes->nfailed == 0) {
        http_page_put(p, "<p class=\"empty\">No upstream fetch has failed since the start.</p></section>");
        return;
    }
    http_page_put(p, "<table><tr><th>key</th><th>what failed</th><th class=\"n\">ago</th></tr>");
    for (size_t i = 0; i < notes->nfailed; i++) {
        const cache_fetch_note_t *n = &notes->failed[i];
        char ago[48], why[160];
        http_page_put(p, "<tr><td>");
        put_key(p, v, n);
        http_page_put(p, "</td><td>");
        http_page_escaped(p, reason(v, n, why, sizeof why));
        http_page_put(p, "</td><td class=\"n\">%s</td></tr>", format_age(v->now - n->ended_at, ago, sizeof ago));
    }
    http_page_put(p, "</table><p class=\"sub\">The log has each failure in full, with upstream's address.</p>"
                     "</section>");
}

int http_status_page_render(const http_status_view_t *v, buf_t *out)
{
    http_page_t p = {.out = out, .rc = 0};
    http_page_put(&p,
                  "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                  "<title>modfs status</title>"
                  "<noscript><meta http-equiv=\"refresh\" content=\"%d\"></noscript>",
                  3 * HTTP_STATUS_REFRESH_S);
    http_page_put(&p, "%s", style);
    http_page_put(&p, STATUS_SCRIPT, HTTP_STATUS_REFRESH_S);
    http_page_put(&p, "</head><body>");
    put_header(&p, v);
    http_page_put(&p, "<main>");
    put_store(&p, v);
    put_hits(&p, v);
    if (p.rc == 0)
        p.rc = put_charts(&p, v);
    put_popular(&p, v);
    put_slowest(&p, v);
    put_failing(&p, v);
    http_page_put(&p,
                  "</main><footer>Refreshed every %d s. Every figure is from memory: nothing here waits on the "
                  "disk or upstream. The same counters, for Prometheus, are at <a href=\"metrics\">/metrics</a>."
                  "</footer></body></html>\n",
                  HTTP_STATUS_REFRESH_S);
    return p.rc;
}
