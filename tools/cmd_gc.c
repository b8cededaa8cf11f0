/* SPDX-License-Identifier: MIT */
/*
 * cmd_gc.c — `modfs gc`: one maintenance pass now, the one a running modfs makes every second:
 * over --max-size, evict down to 90% of it; collect the chunks no object uses; compact the packs
 * whose live share fell low; delete the packs nothing uses. Safe beside a running modfs serve on
 * the same store (one pass at a time across processes: gc waits for the other's). With --s3, the
 * bucket's garbage too (packs no object names, past --s3-gc-grace), safe beside fronts writing.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report.h"

static void show_progress(void *arg, const cache_gc_report_t *r)
{
    (void)arg;
    char copied[32];
    human_bytes((double)r->copied_bytes, copied, sizeof copied);
    progress_line(false, "gc: %llu evicted, %llu unused chunks, %llu packs compacted (%s copied)",
                  (unsigned long long)r->evicted, (unsigned long long)r->gc_chunks,
                  (unsigned long long)r->compacted_packs, copied);
}

static int run_gc(options_t *o, int argc, char **argv)
{
    (void)argv;
    if (argc != o->first_arg) {
        print_error("gc: takes no arguments (see modfs gc --help)");
        return 2;
    }
    o->cache.upstream = "off"; /* gc never fetches, nor asks a checksum database */
    o->cache.sumdb = "off";
    o->cache.must_exist = true;
    cache_t *c = NULL;
    cache_err_t err = {0};
    if (cache_open(&o->cache, &c, &err) != 0) {
        print_error("cannot open store %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    cache_gc_report_t r;
    int rc = cache_gc(c, o->dry_run, show_progress, NULL, &r, &err);
    progress_line(true, "gc: done");
    cache_close(c);
    if (rc != 0) {
        print_error("gc %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    char before[32], after[32], gc[32], back[32], evicted[32];
    human_bytes((double)r.usage_before, before, sizeof before);
    human_bytes((double)r.usage_after, after, sizeof after);
    human_bytes((double)r.gc_bytes, gc, sizeof gc);
    human_bytes((double)r.reclaimed_bytes, back, sizeof back);
    human_bytes((double)r.evicted_bytes, evicted, sizeof evicted);
    printf("store: %s\n", o->cache.dir);
    if (r.bucket) {
        char bytes[32], deleted[32], young[32];
        human_bytes((double)r.bucket_bytes, bytes, sizeof bytes);
        human_bytes((double)r.bucket_deleted_bytes, deleted, sizeof deleted);
        human_bytes((double)r.bucket_young_bytes, young, sizeof young);
        printf("bucket: %llu objects, %llu packs (%s)\n", (unsigned long long)r.bucket_objects,
               (unsigned long long)r.bucket_packs, bytes);
        printf("bucket %s: %llu packs no object names (%s), %llu abandoned leases\n",
               o->dry_run ? "would delete" : "deleted", (unsigned long long)r.bucket_deleted, deleted,
               (unsigned long long)r.bucket_leases);
        printf("bucket kept: %llu packs no object names yet, within --s3-gc-grace (%s)\n",
               (unsigned long long)r.bucket_young, young);
    }
    if (o->dry_run) {
        printf("on disk: %s\n", before);
        printf("would collect: %llu unused chunks (%s in packs; compaction gives it back)\n",
               (unsigned long long)r.gc_chunks, gc);
        return 0;
    }
    printf("on disk: %s before, %s after\n", before, after);
    if (o->cache.max_size > 0)
        printf("evicted: %llu objects (%s) to stay within --max-size\n", (unsigned long long)r.evicted, evicted);
    printf("collected: %llu unused chunks (%s)\n", (unsigned long long)r.gc_chunks, gc);
    printf("compacted: %llu packs\n", (unsigned long long)r.compacted_packs);
    printf("given back: %s\n", back);
    return 0;
}

const command_t cmd_gc = {
    .name = "gc",
    .args = "",
    .summary = "collect garbage now: evict down to --max-size, drop unused chunks, compact sparse packs",
    .details = "A running modfs does this in the background every second; gc does it now and reports.\n"
               "It may run beside a modfs serve on the same store. With --dry-run nothing changes.\n"
               "With --s3, the bucket too: packs no object names, older than --s3-gc-grace.",
    .bit = CMD_GC,
    .accepts = CMD_GC,
    .run = run_gc,
};
