/* SPDX-License-Identifier: MIT */
/*
 * metrics.c — the counters behind /metrics and their Prometheus text form.
 *
 * Every loop thread counts into its own http_metrics_t, so the hot path never contends on a
 * shared cache line: a count is a relaxed load and store by the single writer. A scrape sums the
 * threads with relaxed loads (a value may be a request behind, never torn) and appends the
 * store's own figures from cache_stats_get and its upstream fetches from cache_fetch_figures_get,
 * then whatever figures the command line wired in (metrics_extra: the FUSE mount's). Everything
 * comes from memory, so a scrape is rendered on the loop that received it: /metrics never waits
 * on upstream, on a fetch worker or on the disk.
 *
 * Names follow Prometheus's conventions, which `promtool check metrics` checks in the tests:
 * the unit in the name and in base units (seconds, bytes), _total on counters, HELP and TYPE on
 * every family, durations and sizes as histograms, and times as timestamps
 * (modfs_start_time_seconds) rather than ages.
 */
#include "http_i.h"

#include <time.h>

/* Status codes with their own series; the rest are summed under code="other". 0 is a request
 * that ended with no response (the client left first). */
static const int status_codes[HTTP_STATUS_SLOTS - 1] = {200, 206, 304, 400, 401, 403, 404, 405, 410, 412,
                                                         413, 416, 429, 0,   500, 502, 503, 504, 507};

/* Upper bounds of the duration histogram, in microseconds. */
static const uint64_t duration_bounds_us[HTTP_DURATION_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

/* Upper bounds of the response size histogram, in bytes: from a .info to go's largest zip. */
static const uint64_t size_bounds[HTTP_SIZE_BUCKETS] = {
    256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 536870912};

uint64_t http_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < HTTP_STATUS_SLOTS - 1; i++)
        if (status_codes[i] == status)
            return i;
    return HTTP_STATUS_SLOTS - 1;
}

void http_metrics_observe(http_metrics_t *m, http_route_t route, int status, uint64_t bytes, uint64_t duration_us)
{
    HTTP_COUNT(m->requests[route][status_slot(status)], 1);
    HTTP_COUNT(m->bytes_sent, bytes);
    HTTP_COUNT(m->duration_sum_us, duration_us);
    size_t b = 0;
    while (b < HTTP_DURATION_BUCKETS && duration_us > duration_bounds_us[b])
        b++;
    HTTP_COUNT(m->duration_bucket[b], 1);
    b = 0;
    while (b < HTTP_SIZE_BUCKETS && bytes > size_bounds[b])
        b++;
    HTTP_COUNT(m->size_bucket[b], 1);
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

/* Sums one counter over every thread. */
#define SUM(s, field)                                                                                        \
    ({                                                                                                       \
        uint64_t sum_ = 0;                                                                                   \
        for (size_t i_ = 0; i_ < (s)->nthreads; i_++)                                                        \
            sum_ += LOAD((s)->threads[i_]->metrics.field);                                                   \
        sum_;                                                                                                \
    })

static int counter(buf_t *out, const char *name, const char *help, const char *type, uint64_t v)
{
    return buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                       (unsigned long long)v);
}

static int render_requests(http_server_t *s, buf_t *out)
{
    int rc = buf_appendf(out, "# HELP modfs_http_requests_total Requests answered, by route and status code.\n"
                              "# TYPE modfs_http_requests_total counter\n");
    for (int r = 0; r < HTTP_ROUTE_COUNT && rc == 0; r++) {
        for (size_t c = 0; c < HTTP_STATUS_SLOTS && rc == 0; c++) {
            uint64_t v = SUM(s, requests[r][c]);
            /* a series appears once it has counted something, except the 200 of each route */
            if (v == 0 && c != 0)
                continue;
            if (c == HTTP_STATUS_SLOTS - 1)
                rc = buf_appendf(out, "modfs_http_requests_total{route=\"%s\",code=\"other\"} %llu\n",
                                 http_route_name((http_route_t)r), (unsigned long long)v);
            else
                rc = buf_appendf(out, "modfs_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
                                 http_route_name((http_route_t)r), status_codes[c], (unsigned long long)v);
        }
    }
    return rc;
}

static int family(buf_t *out, const char *name, const char *help, const char *type)
{
    return buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * One series of a histogram: counts[0..n] are per bucket (not cumulative; counts[n] is over the
 * largest bound), bounds and sum in the unit counted, shown divided by scale (microseconds as
 * seconds: 1e6; bytes: 1). labels is "" or `key="value"`, added to every line.
 */
static int histogram_series(buf_t *out, const char *name, const char *labels, const uint64_t *bounds, size_t n,
                            double scale, const uint64_t *counts, uint64_t sum)
{
    const char *sep = labels[0] != '\0' ? "," : "";
    uint64_t cumulative = 0;
    int rc = 0;
    for (size_t b = 0; b < n && rc == 0; b++) {
        cumulative += counts[b];
        rc = buf_appendf(out, "%s_bucket{%s%sle=\"%.9g\"} %llu\n", name, labels, sep, (double)bounds[b] / scale,
                         (unsigned long long)cumulative);
    }
    cumulative += counts[n];
    if (rc == 0)
        rc = buf_appendf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n%s_sum%s%s%s %.9g\n%s_count%s%s%s %llu\n", name,
                         labels, sep, (unsigned long long)cumulative, name, labels[0] ? "{" : "", labels,
                         labels[0] ? "}" : "", (double)sum / scale, name, labels[0] ? "{" : "", labels,
                         labels[0] ? "}" : "", (unsigned long long)cumulative);
    return rc;
}

static int render_histograms(http_server_t *s, buf_t *out)
{
    uint64_t counts[HTTP_DURATION_BUCKETS + 1];
    for (size_t b = 0; b <= HTTP_DURATION_BUCKETS; b++)
        counts[b] = SUM(s, duration_bucket[b]);
    int rc = family(out, "modfs_http_request_duration_seconds", "Time from request to the end of the response.",
                    "histogram");
    if (rc == 0)
        rc = histogram_series(out, "modfs_http_request_duration_seconds", "", duration_bounds_us,
                              HTTP_DURATION_BUCKETS, 1e6, counts, SUM(s, duration_sum_us));
    uint64_t sizes[HTTP_SIZE_BUCKETS + 1];
    for (size_t b = 0; b <= HTTP_SIZE_BUCKETS; b++)
        sizes[b] = SUM(s, size_bucket[b]);
    if (rc == 0)
        rc = family(out, "modfs_http_response_size_bytes", "Body bytes sent per response.", "histogram");
    if (rc == 0)
        rc = histogram_series(out, "modfs_http_response_size_bytes", "", size_bounds, HTTP_SIZE_BUCKETS, 1, sizes,
                              SUM(s, bytes_sent));
    return rc;
}

/* The store's upstream fetches (both fronts' misses): how long they took, by result, and how
 * large the bodies were. */
static int render_upstream(http_server_t *s, buf_t *out)
{
    static const char *const results[CACHE_FETCH_RESULTS] = {"result=\"ok\"", "result=\"not_found\"",
                                                             "result=\"error\""};
    cache_fetch_figures_t f;
    cache_fetch_figures_get(s->cache, &f);
    int rc = family(out, "modfs_upstream_fetch_duration_seconds",
                    "Time a miss took to fetch, check and store an object, by result (waiters of the same fetch "
                    "count once).",
                    "histogram");
    for (int r = 0; r < CACHE_FETCH_RESULTS && rc == 0; r++)
        rc = histogram_series(out, "modfs_upstream_fetch_duration_seconds", results[r], cache_fetch_duration_bounds_us,
                              CACHE_FETCH_DURATION_BUCKETS, 1e6, f.duration_bucket[r], f.duration_sum_us[r]);
    if (rc == 0)
        rc = family(out, "modfs_upstream_response_size_bytes", "Body bytes of the upstream answers that were stored.",
                    "histogram");
    if (rc == 0)
        rc = histogram_series(out, "modfs_upstream_response_size_bytes", "", cache_fetch_size_bounds,
                              CACHE_FETCH_SIZE_BUCKETS, 1, f.size_bucket, f.size_sum);
    return rc;
}

int http_metrics_render(http_server_t *s, buf_t *out)
{
    int rc = render_requests(s, out);
    if (rc == 0)
        rc = render_histograms(s, out);
    if (rc == 0)
        rc = render_upstream(s, out);
    if (rc == 0)
        rc = counter(out, "modfs_http_response_bytes_total", "Body bytes sent.", "counter", SUM(s, bytes_sent));
    if (rc == 0)
        rc = counter(out, "modfs_http_cache_hits_total", "Objects answered from the store without upstream.",
                     "counter", SUM(s, hits));
    if (rc == 0)
        rc = counter(out, "modfs_http_cache_misses_total", "Requests the store could not answer alone.", "counter",
                     SUM(s, misses));
    if (rc == 0)
        rc = counter(out, "modfs_http_upstream_fetches_total", "Misses handed to a fetch worker.", "counter",
                     SUM(s, fetches));
    if (rc == 0)
        rc = buf_appendf(out,
                         "# HELP modfs_http_errors_total Failed responses: upstream (502), read (store read "
                         "failed mid-body), overload (fetch queue full, 503).\n"
                         "# TYPE modfs_http_errors_total counter\n"
                         "modfs_http_errors_total{kind=\"upstream\"} %llu\n"
                         "modfs_http_errors_total{kind=\"read\"} %llu\n"
                         "modfs_http_errors_total{kind=\"overload\"} %llu\n",
                         (unsigned long long)SUM(s, upstream_errors), (unsigned long long)SUM(s, read_errors),
                         (unsigned long long)SUM(s, fetch_rejected));
    if (rc == 0)
        rc = counter(out, "modfs_http_aborted_responses_total", "Responses the client abandoned before the end.",
                     "counter", SUM(s, aborted));
    if (rc == 0)
        rc = counter(out, "modfs_http_connections_cut_total",
                     "HTTP/2 connections closed for abandoning too many streams.", "counter", SUM(s, conns_cut));
    /* always there (zero without an auth file): a reload may add or drop the file */
    if (rc == 0)
        rc = buf_appendf(out,
                         "# HELP modfs_http_auth_failures_total Requests refused for want of good credentials: "
                         "missing (none sent), bad (wrong password, unknown user or token), limited (429: the "
                         "address failed too often).\n"
                         "# TYPE modfs_http_auth_failures_total counter\n"
                         "modfs_http_auth_failures_total{reason=\"missing\"} %llu\n"
                         "modfs_http_auth_failures_total{reason=\"bad\"} %llu\n"
                         "modfs_http_auth_failures_total{reason=\"limited\"} %llu\n"
                         "# HELP modfs_http_auth_verifications_total Passwords checked with crypt(3) by a worker.\n"
                         "# TYPE modfs_http_auth_verifications_total counter\n"
                         "modfs_http_auth_verifications_total %llu\n",
                         (unsigned long long)SUM(s, auth_missing), (unsigned long long)SUM(s, auth_failures),
                         (unsigned long long)SUM(s, auth_limited), (unsigned long long)SUM(s, auth_verified));
    if (rc == 0)
        rc = buf_appendf(out,
                         "# HELP modfs_http_misses_refused_total Misses answered 429: the client's miss budget "
                         "was spent (budget) or its share of the fetch queue was full (share).\n"
                         "# TYPE modfs_http_misses_refused_total counter\n"
                         "modfs_http_misses_refused_total{reason=\"budget\"} %llu\n"
                         "modfs_http_misses_refused_total{reason=\"share\"} %llu\n",
                         (unsigned long long)SUM(s, over_budget), (unsigned long long)SUM(s, over_share));
    if (rc == 0)
        rc = counter(out, "modfs_http_clients", "Clients remembered (miss budgets, aborted streams), at most 4096.",
                     "gauge", http_clients_count(s->clients));
    if (rc == 0)
        rc = counter(out, "modfs_http_threads", "Event loop threads.", "gauge", s->nthreads);

    cache_stats_t st;
    cache_stats_get(s->cache, &st); /* from memory: rendering never waits on the store */
    if (rc == 0) {
        rc = buf_appendf(
            out,
            "# HELP modfs_store_objects Objects in the store.\n# TYPE modfs_store_objects gauge\n"
            "modfs_store_objects %llu\n"
            "# HELP modfs_store_logical_bytes Sum of the sizes of stored objects.\n"
            "# TYPE modfs_store_logical_bytes gauge\nmodfs_store_logical_bytes %llu\n"
            "# HELP modfs_store_unique_bytes Raw bytes of distinct chunks.\n"
            "# TYPE modfs_store_unique_bytes gauge\nmodfs_store_unique_bytes %llu\n"
            "# HELP modfs_store_disk_bytes Pack files and index on disk.\n"
            "# TYPE modfs_store_disk_bytes gauge\nmodfs_store_disk_bytes %llu\n"
            "# HELP modfs_store_chunks Distinct chunks.\n# TYPE modfs_store_chunks gauge\nmodfs_store_chunks %llu\n"
            "# HELP modfs_store_hits_total Store lookups answered locally.\n"
            "# TYPE modfs_store_hits_total counter\nmodfs_store_hits_total %llu\n"
            "# HELP modfs_store_misses_total Store lookups that went upstream.\n"
            "# TYPE modfs_store_misses_total counter\nmodfs_store_misses_total %llu\n"
            "# HELP modfs_store_upstream_requests_total Requests sent upstream.\n"
            "# TYPE modfs_store_upstream_requests_total counter\nmodfs_store_upstream_requests_total %llu\n"
            "# HELP modfs_store_upstream_errors_total Upstream requests that failed.\n"
            "# TYPE modfs_store_upstream_errors_total counter\nmodfs_store_upstream_errors_total %llu\n",
            (unsigned long long)st.objects, (unsigned long long)st.logical_bytes,
            (unsigned long long)st.unique_bytes, (unsigned long long)st.disk_bytes, (unsigned long long)st.chunks,
            (unsigned long long)st.hits, (unsigned long long)st.misses, (unsigned long long)st.upstream_requests,
            (unsigned long long)st.upstream_errors);
    }
    if (rc == 0)
        rc = counter(out, "modfs_store_commits_total",
                     "Index commits that made ingested objects visible (concurrent ingests share one).", "counter",
                     st.store_commits);
    if (rc == 0)
        rc = counter(out, "modfs_store_committed_objects_total", "Ingested objects those commits made visible.",
                     "counter", st.committed_objects);
    if (rc == 0)
        rc = counter(out, "modfs_sumdb_verified_total",
                     ".mod and .zip from upstream proven to be the checksum database's before they were stored.",
                     "counter", st.sumdb_verified);
    if (rc == 0)
        rc = counter(out, "modfs_sumdb_verify_skipped_total",
                     ".mod and .zip stored unchecked: exempt by --nosumdb, or no database (--sumdb off).", "counter",
                     st.sumdb_skipped);
    if (rc == 0)
        rc = buf_appendf(out, "# HELP modfs_sumdb_verify_failures_total .mod and .zip from upstream refused by the "
                              "checksum database's proof, by reason.\n"
                              "# TYPE modfs_sumdb_verify_failures_total counter\n");
    for (int r = 0; rc == 0 && r < CACHE_SUMDB_REASONS; r++)
        rc = buf_appendf(out, "modfs_sumdb_verify_failures_total{reason=\"%s\"} %llu\n", cache_sumdb_reason_name(r),
                         (unsigned long long)st.sumdb_failures[r]);
    if (rc == 0) {
        rc = buf_appendf(
            out,
            "# HELP modfs_store_max_bytes The store's budget of bytes on disk (--max-size; 0: none).\n"
            "# TYPE modfs_store_max_bytes gauge\nmodfs_store_max_bytes %llu\n"
            "# HELP modfs_store_usage_bytes What the budget counts: packs, their logs and the index.\n"
            "# TYPE modfs_store_usage_bytes gauge\nmodfs_store_usage_bytes %llu\n"
            "# HELP modfs_store_pack_live_bytes Bytes of the packs that stored objects still use.\n"
            "# TYPE modfs_store_pack_live_bytes gauge\nmodfs_store_pack_live_bytes %llu\n"
            "# HELP modfs_store_pack_bytes Bytes of the pack files.\n"
            "# TYPE modfs_store_pack_bytes gauge\nmodfs_store_pack_bytes %llu\n"
            "# HELP modfs_store_evictions_total Objects evicted to stay within the budget.\n"
            "# TYPE modfs_store_evictions_total counter\nmodfs_store_evictions_total %llu\n"
            "# HELP modfs_store_evicted_bytes_total Bytes of the objects evicted.\n"
            "# TYPE modfs_store_evicted_bytes_total counter\nmodfs_store_evicted_bytes_total %llu\n"
            "# HELP modfs_store_reclaimed_bytes_total Disk given back by garbage collection and compaction.\n"
            "# TYPE modfs_store_reclaimed_bytes_total counter\nmodfs_store_reclaimed_bytes_total %llu\n"
            "# HELP modfs_store_compactions_total Packs compacted.\n"
            "# TYPE modfs_store_compactions_total counter\nmodfs_store_compactions_total %llu\n",
            (unsigned long long)st.max_bytes, (unsigned long long)st.usage_bytes, (unsigned long long)st.live_bytes,
            (unsigned long long)st.pack_bytes, (unsigned long long)st.evictions, (unsigned long long)st.evicted_bytes,
            (unsigned long long)st.reclaimed_bytes, (unsigned long long)st.compactions);
    }
    if (rc == 0 && st.s3) {
        rc = buf_appendf(
            out,
            "# HELP modfs_s3_up Whether the shared object store answers (0 while its tier is skipped after a "
            "failure).\n# TYPE modfs_s3_up gauge\nmodfs_s3_up %d\n"
            "# HELP modfs_s3_requests_total Requests sent to the shared object store.\n"
            "# TYPE modfs_s3_requests_total counter\nmodfs_s3_requests_total %llu\n"
            "# HELP modfs_s3_errors_total Requests to the object store that got no usable answer.\n"
            "# TYPE modfs_s3_errors_total counter\nmodfs_s3_errors_total %llu\n"
            "# HELP modfs_s3_bytes_total Body bytes exchanged with the object store.\n"
            "# TYPE modfs_s3_bytes_total counter\nmodfs_s3_bytes_total{direction=\"read\"} %llu\n"
            "modfs_s3_bytes_total{direction=\"written\"} %llu\n"
            "# HELP modfs_s3_hits_total Misses of the local store answered from the bucket.\n"
            "# TYPE modfs_s3_hits_total counter\nmodfs_s3_hits_total %llu\n"
            "# HELP modfs_s3_writes_total Objects written to the bucket.\n"
            "# TYPE modfs_s3_writes_total counter\nmodfs_s3_writes_total %llu\n"
            "# HELP modfs_s3_damaged_total Objects found damaged in the bucket (fetched and written again).\n"
            "# TYPE modfs_s3_damaged_total counter\nmodfs_s3_damaged_total %llu\n"
            "# HELP modfs_s3_lease_waits_total Misses that waited for another front's fetch.\n"
            "# TYPE modfs_s3_lease_waits_total counter\nmodfs_s3_lease_waits_total %llu\n"
            "# HELP modfs_s3_lease_takeovers_total Leases of dead fronts taken over.\n"
            "# TYPE modfs_s3_lease_takeovers_total counter\nmodfs_s3_lease_takeovers_total %llu\n"
            "# HELP modfs_s3_gc_runs_total Bucket garbage collection passes.\n"
            "# TYPE modfs_s3_gc_runs_total counter\nmodfs_s3_gc_runs_total %llu\n"
            "# HELP modfs_s3_gc_deleted_total Packs no object names deleted from the bucket.\n"
            "# TYPE modfs_s3_gc_deleted_total counter\nmodfs_s3_gc_deleted_total %llu\n"
            "# HELP modfs_s3_gc_deleted_bytes_total Bytes of those packs.\n"
            "# TYPE modfs_s3_gc_deleted_bytes_total counter\nmodfs_s3_gc_deleted_bytes_total %llu\n",
            st.s3_down ? 0 : 1, (unsigned long long)st.s3_requests, (unsigned long long)st.s3_errors,
            (unsigned long long)st.s3_bytes_read, (unsigned long long)st.s3_bytes_written,
            (unsigned long long)st.s3_hits, (unsigned long long)st.s3_writes, (unsigned long long)st.s3_damaged,
            (unsigned long long)st.s3_lease_waits, (unsigned long long)st.s3_lease_takeovers,
            (unsigned long long)st.s3_gc_runs, (unsigned long long)st.s3_gc_deleted,
            (unsigned long long)st.s3_gc_deleted_bytes);
    }
    /* the start as a timestamp, not an uptime: Prometheus derives the age (time() - start) and a
     * restart shows as a step, as with process_start_time_seconds */
    if (rc == 0)
        rc = buf_appendf(out,
                         "# HELP modfs_start_time_seconds When the server started, in seconds since the epoch.\n"
                         "# TYPE modfs_start_time_seconds gauge\nmodfs_start_time_seconds %.3f\n",
                         (double)s->started_wall.tv_sec + (double)s->started_wall.tv_nsec / 1e9);
    if (rc == 0 && s->metrics_extra != NULL)
        rc = s->metrics_extra(s->metrics_extra_arg, out);
    return rc;
}
