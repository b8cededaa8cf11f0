/* SPDX-License-Identifier: MIT */
/*
 * fs.h — the GOMODCACHE front: a FUSE mount (libfuse3 low-level API, multi-threaded) laid out
 * like $GOMODCACHE, serving the store through cache.h and fetching on lookup.
 *
 * What the mount shows:
 *   cache/download/<M>/@v/list                 upstream's list through the store (list TTL)
 *   cache/download/<M>/@v/<V>.info|.mod|.zip   store objects, fetched on lookup
 *   cache/download/<M>/@v/<V>.ziphash          the zip's "h1:" hash, 47 bytes, no newline
 *   cache/download/<M>/@latest                 upstream's @latest (list TTL)
 *   <M>@<V>/...                                every file of the module zip, inflated on read
 * Files are 0444 and directories 0555. Whatever the go command writes (lock files, sumdb
 * cache, temp files, a module it downloads itself) lands in write_dir at the same relative
 * path and is shown merged into the tree; a real file there hides the store's file of the
 * same name. Store-backed names cannot be removed (EROFS), so `go clean -modcache` empties
 * write_dir and leaves the store alone.
 */
#ifndef MODFS_FS_H
#define MODFS_FS_H

#include <stdbool.h>

#include "cache.h"

typedef struct fs_mount fs_mount_t;

/* Strings are copied by fs_mount_start. */
typedef struct fs_config {
    const char *mountpoint;   /* an existing empty directory */
    const char *write_dir;    /* where what the go command writes into GOMODCACHE is kept (lock files, sumdb...); created if missing */
    bool allow_other;         /* -o allow_other: other users (build users) may read the mount */
    int max_threads;          /* FUSE worker threads; 0 = 64, so lookups waiting on upstream do not starve the rest */
    bool debug;               /* libfuse debug output */
    unsigned list_ttl_s;      /* how long the kernel keeps list, @latest and query .info (0: asks every time);
                                 give the store's list_ttl_s */
    unsigned notfound_ttl_s;  /* how long the kernel keeps a "not found" answer (0: not at all); give the
                                 store's notfound_ttl_s */
} fs_config_t;

/* Mounts and starts the FUSE loop threads, then returns. Returns 0 or -errno with err
 * (a stale mount left by a killed process is reported with the command that clears it).
 * The caller should block SIGINT/SIGTERM in every thread first: the loop threads inherit
 * its signal mask and install no handlers. */
int fs_mount_start(cache_t *cache, const fs_config_t *cfg, fs_mount_t **out, cache_err_t *err);
/* Unmounts, waits for the loop to end, frees. NULL is allowed. */
void fs_mount_stop(fs_mount_t *m);

/* Appends the mount's figures to out in Prometheus text form: lookups, lazy fetches with their
 * duration histogram, reads and bytes, writes, whiteouts, error replies by errno, views. From
 * memory only (relaxed atomics): any thread may call it while the mount runs. 0 or -ENOMEM. */
int fs_metrics_render(fs_mount_t *m, buf_t *out);

#endif
