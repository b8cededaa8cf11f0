/* SPDX-License-Identifier: MIT */
/*
 * metrics.c — the mount's figures for /metrics, and the one place that replies FUSE errors.
 *
 * libfuse's worker threads come and go, so there is no per-thread block to count into: every
 * figure is a relaxed atomic in the mount, bumped once per request (a lookup, a read of up to
 * 1 MiB, a lazy fetch), which costs nothing next to the request's round trip to the kernel. The
 * HTTP front renders them through fs_metrics_render, wired by the command line: fs/ and http/
 * never include each other.
 */
#include <errno.h>
#include <string.h>

#include "fs_i.h"

/* Upper bounds of the lazy-fetch histogram, in microseconds: a store hit that needed the
 * upstream's list is a millisecond, a large zip from afar tens of seconds. */
static const uint64_t fs_fetch_bounds_us[FS_FETCH_BUCKETS] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000};

#define FS_COUNT(field, n) atomic_fetch_add_explicit(&(field), (n), memory_order_relaxed)
#define FS_LOAD(field) ((unsigned long long)atomic_load_explicit(&(field), memory_order_relaxed))

void fs_reply_err(fs_mount_t *m, fuse_req_t req, int err)
{
    if (err != 0)
        FS_COUNT(m->metrics.errors[err > 0 && err < FS_ERRNO_SLOTS ? err : FS_ERRNO_SLOTS], 1);
    fuse_reply_err(req, err);
}

void fs_metrics_fetch(fs_mount_t *m, int rc, uint64_t duration_us)
{
    FS_COUNT(m->metrics.fetches[rc == 0 ? 0 : rc == -ENOENT ? 1 : 2], 1);
    FS_COUNT(m->metrics.fetch_sum_us, duration_us);
    size_t b = 0;
    while (b < FS_FETCH_BUCKETS && duration_us > fs_fetch_bounds_us[b])
        b++;
    FS_COUNT(m->metrics.fetch_bucket[b], 1);
}

static int fs_counter(buf_t *out, const char *name, const char *help, const char *type, unsigned long long v)
{
    return buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

static int fs_render_fetches(const fs_metrics_t *x, buf_t *out)
{
    int rc = buf_appendf(out,
                         "# HELP modfs_fuse_lazy_fetches_total Lookups the store could not answer alone, by "
                         "result.\n# TYPE modfs_fuse_lazy_fetches_total counter\n"
                         "modfs_fuse_lazy_fetches_total{result=\"ok\"} %llu\n"
                         "modfs_fuse_lazy_fetches_total{result=\"not_found\"} %llu\n"
                         "modfs_fuse_lazy_fetches_total{result=\"error\"} %llu\n"
                         "# HELP modfs_fuse_lazy_fetch_duration_seconds Time a lookup waited for upstream.\n"
                         "# TYPE modfs_fuse_lazy_fetch_duration_seconds histogram\n",
                         FS_LOAD(x->fetches[0]), FS_LOAD(x->fetches[1]), FS_LOAD(x->fetches[2]));
    unsigned long long cumulative = 0;
    for (size_t b = 0; b < FS_FETCH_BUCKETS && rc == 0; b++) {
        cumulative += FS_LOAD(x->fetch_bucket[b]);
        rc = buf_appendf(out, "modfs_fuse_lazy_fetch_duration_seconds_bucket{le=\"%g\"} %llu\n",
                         (double)fs_fetch_bounds_us[b] / 1e6, cumulative);
    }
    cumulative += FS_LOAD(x->fetch_bucket[FS_FETCH_BUCKETS]);
    if (rc == 0)
        rc = buf_appendf(out,
                         "modfs_fuse_lazy_fetch_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                         "modfs_fuse_lazy_fetch_duration_seconds_sum %.6f\n"
                         "modfs_fuse_lazy_fetch_duration_seconds_count %llu\n",
                         cumulative, (double)FS_LOAD(x->fetch_sum_us) / 1e6, cumulative);
    return rc;
}

static int fs_render_errors(const fs_metrics_t *x, buf_t *out)
{
    int rc = buf_appendf(out, "# HELP modfs_fuse_errors_total Error replies to the kernel, by errno.\n"
                              "# TYPE modfs_fuse_errors_total counter\n");
    for (int e = 1; e <= FS_ERRNO_SLOTS && rc == 0; e++) {
        unsigned long long v = FS_LOAD(x->errors[e]);
        if (v == 0)
            continue;
        const char *name = e < FS_ERRNO_SLOTS ? strerrorname_np(e) : NULL;
        rc = buf_appendf(out, "modfs_fuse_errors_total{errno=\"%s\"} %llu\n", name ? name : "other", v);
    }
    return rc;
}

int fs_metrics_render(fs_mount_t *m, buf_t *out)
{
    const fs_metrics_t *x = &m->metrics;
    int rc = fs_counter(out, "modfs_fuse_lookups_total", "LOOKUP requests from the kernel.", "counter",
                        FS_LOAD(x->lookups));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_lookups_negative_total", "Lookups answered with no such name.", "counter",
                        FS_LOAD(x->lookups_negative));
    if (rc == 0)
        rc = fs_render_fetches(x, out);
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_opens_total",
                        "OPEN requests from the kernel (after the first, files are opened without asking).",
                        "counter", FS_LOAD(x->opens));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_opendirs_total",
                        "OPENDIR requests from the kernel (on a mount of one user, only the first).", "counter",
                        FS_LOAD(x->opendirs));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_readdirs_total", "READDIR and READDIRPLUS requests from the kernel.",
                        "counter", FS_LOAD(x->readdirs));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_getattrs_total", "GETATTR requests from the kernel.", "counter",
                        FS_LOAD(x->getattrs));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_reads_total", "READ requests answered.", "counter", FS_LOAD(x->reads));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_read_bytes_total", "Bytes returned by reads.", "counter",
                        FS_LOAD(x->read_bytes));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_writes_total", "WRITE requests into users' write areas.", "counter",
                        FS_LOAD(x->writes));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_write_bytes_total", "Bytes written into users' write areas.", "counter",
                        FS_LOAD(x->write_bytes));
    if (rc == 0)
        rc = fs_counter(out, "modfs_fuse_whiteouts_total", "Store names removed from a user's view.", "counter",
                        FS_LOAD(x->whiteouts));
    if (rc == 0)
        rc = fs_render_errors(x, out);
    if (rc == 0) {
        pthread_mutex_lock(&m->views_lock);
        size_t views = m->views.count;
        pthread_mutex_unlock(&m->views_lock);
        rc = fs_counter(out, "modfs_fuse_views", "Users that have used the mount.", "gauge",
                        (unsigned long long)views);
    }
    return rc;
}
