/* SPDX-License-Identifier: MIT */
/* cmd_stat.c — `modfs stat`: what the store holds and how well it deduplicates. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static int run_stat(options_t *opt, int argc, char **argv)
{
    (void)argv;
    if (argc != opt->first_arg) {
        print_error("stat: takes no arguments (see modfs stat --help)");
        return 2;
    }
    cache_err_t err = {0};
    cache_t *c = NULL;
    /* stat never fetches: any syntactically valid upstream will do, and no checksum database */
    opt->cache.upstream = "off";
    opt->cache.sumdb = "off";
    opt->cache.must_exist = true; /* reading a mistyped directory must not create a store there */
    if (cache_open(&opt->cache, &c, &err) != 0) {
        print_error("cannot open store %s: %s", opt->cache.dir, err.msg);
        return 1;
    }
    cache_stats_t st;
    int rc = cache_stats_scan(c, &st);
    cache_close(c);
    if (rc != 0) {
        print_error("cannot read store %s: %s", opt->cache.dir, strerror(-rc));
        return 1;
    }
    printf("cache_dir: %s\n", opt->cache.dir);
    printf("objects: %llu\n", (unsigned long long)st.objects);
    printf("logical_bytes: %llu\n", (unsigned long long)st.logical_bytes);
    printf("unique_bytes: %llu\n", (unsigned long long)st.unique_bytes);
    printf("stored_bytes: %llu\n", (unsigned long long)st.stored_bytes);
    printf("disk_bytes: %llu\n", (unsigned long long)st.disk_bytes);
    printf("chunks: %llu\n", (unsigned long long)st.chunks);
    printf("dedup_ratio: %.3f\n", st.unique_bytes ? (double)st.logical_bytes / (double)st.unique_bytes : 1.0);
    printf("hits: %llu\n", (unsigned long long)st.hits);
    printf("misses: %llu\n", (unsigned long long)st.misses);
    printf("upstream_requests: %llu\n", (unsigned long long)st.upstream_requests);
    printf("upstream_errors: %llu\n", (unsigned long long)st.upstream_errors);
    /* group commit: concurrent ingests share an index commit (and its fsync) */
    printf("store_commits: %llu\n", (unsigned long long)st.store_commits);
    printf("committed_objects: %llu\n", (unsigned long long)st.committed_objects);
    printf("max_bytes: %llu%s\n", (unsigned long long)st.max_bytes, st.max_bytes ? "" : " (no budget: --max-size)");
    printf("usage_bytes: %llu\n", (unsigned long long)st.usage_bytes);
    printf("live_share: %.3f\n", st.pack_bytes ? (double)st.live_bytes / (double)st.pack_bytes : 1.0);
    printf("evictions: %llu\n", (unsigned long long)st.evictions);
    printf("evicted_bytes: %llu\n", (unsigned long long)st.evicted_bytes);
    printf("reclaimed_bytes: %llu\n", (unsigned long long)st.reclaimed_bytes);
    printf("compactions: %llu\n", (unsigned long long)st.compactions);
    /* the shared tier, as the fronts on this store counted it */
    printf("s3_requests: %llu\n", (unsigned long long)st.s3_requests);
    printf("s3_errors: %llu\n", (unsigned long long)st.s3_errors);
    printf("s3_bytes_read: %llu\n", (unsigned long long)st.s3_bytes_read);
    printf("s3_bytes_written: %llu\n", (unsigned long long)st.s3_bytes_written);
    printf("s3_hits: %llu\n", (unsigned long long)st.s3_hits);
    printf("s3_writes: %llu\n", (unsigned long long)st.s3_writes);
    printf("s3_damaged: %llu\n", (unsigned long long)st.s3_damaged);
    printf("s3_lease_waits: %llu\n", (unsigned long long)st.s3_lease_waits);
    printf("s3_lease_takeovers: %llu\n", (unsigned long long)st.s3_lease_takeovers);
    printf("s3_gc_runs: %llu\n", (unsigned long long)st.s3_gc_runs);
    printf("s3_gc_deleted: %llu\n", (unsigned long long)st.s3_gc_deleted);
    printf("s3_gc_deleted_bytes: %llu\n", (unsigned long long)st.s3_gc_deleted_bytes);
    printf("sumdb_verified: %llu\n", (unsigned long long)st.sumdb_verified);
    printf("sumdb_skipped: %llu\n", (unsigned long long)st.sumdb_skipped);
    for (int i = 0; i < CACHE_SUMDB_REASONS; i++)
        printf("sumdb_refused_%s: %llu\n", cache_sumdb_reason_name(i), (unsigned long long)st.sumdb_failures[i]);
    return 0;
}

const command_t cmd_stat = {
    .name = "stat",
    .args = "",
    .summary = "print what the store holds: objects, bytes on disk, dedup ratio, hits, misses, budget, evictions, "
               "checksum-database proofs, the shared tier's requests",
    .details = NULL,
    .bit = CMD_STAT,
    .accepts = CMD_STAT,
    .run = run_stat,
};
