/* SPDX-License-Identifier: MIT */
/*
 * fs.h — the GOMODCACHE front: a FUSE mount (libfuse3 low-level API, multi-threaded) laid out
 * like $GOMODCACHE, serving the store through cache.h and fetching on lookup.
 *
 * What the mount shows:
 *   cache/download/<M>/@v/list                 upstream's list through the store (list TTL)
 *   cache/download/<M>/@v/<V>.info|.mod|.zip   store objects, fetched on lookup
 *   cache/download/<M>/@v/<V>.ziphash          the zip's "h1:" hash, 47 bytes, no newline
 *   cache/download/<M>/@v/<V>.error, list.error why the user's last lookup of that version (or
 *                                              of the list) failed, in upstream's words; only
 *                                              while it is the latest news (a later success or
 *                                              rm drops it), and only in that user's view
 *   cache/download/<M>/@latest                 upstream's @latest (list TTL)
 *   <M>@<V>/...                                every file of the module zip, inflated on read
 *   gomodcache/                                (in the mount's root only) the same view again, as
 *                                              a directory that can be removed: the documented
 *                                              GOMODCACHE is <mount>/gomodcache
 * Store files are 0444 and directories 0555, and immutable for everyone, root included: no
 * write, truncate, chmod, rename or link, and no new name inside a module's tree or beside its
 * objects (EROFS). The kernel calls in with root's credentials too, so the mount runs without
 * default_permissions and modfs checks every write-type request itself.
 *
 * The write-area model: each user (uid) has a view of their own, the store plus what that
 * user's go commands wrote, kept in write_dir/<uid> (made at the user's first write, 0700 and
 * owned by the user when modfs runs as root; every call in it is made with the user's fsuid, so
 * its real modes apply to the user as on a plain directory). A user writes only what the go
 * command itself writes, where it writes it (modcache_write_rule): lock files, .partial and temp
 * files, cache/lock, cache/vcs, cache/download/sumdb, and the objects and extracted tree of a
 * module the store does not serve (a tree only while go's own .partial for it exists). No user
 * sees, reads or can plant anything in another user's writes: a module one user fetched with
 * their credentials (a private repository) is never served to another, whose go fetches it
 * for itself. What every user shares is the store, which only modfs writes, after Go's checks.
 *
 * Removing is per view too: a user removing a store name (go clean -modcache) hides it from
 * that user's listings until the user next looks it up, when it is back from the store without
 * a fetch; a directory is removable once the user's own part is empty and every store name in
 * it is hidden. So `go clean -modcache` exits 0 with GOMODCACHE=<mount>/gomodcache, frees what
 * that user's writes took and destroys nothing shared. With GOMODCACHE=<mount> builds work the
 * same, but go's last step, removing the mount point itself, gets EBUSY from the kernel.
 * -modcacherw only changes go's own downloads (their directories stay 0755); the store's
 * directories stay 0555 and refuse chmod, which go ignores.
 *
 * With allow_other, the kernel's entries of names in the mount's root are shared by every user
 * while their nodes are per user, so those entries carry no kernel cache time (one LOOKUP per
 * path walk); without it, only the mounting user can enter and nothing changes.
 */
#ifndef MODFS_FS_H
#define MODFS_FS_H

#include <stdbool.h>

#include "cache.h"

typedef struct fs_mount fs_mount_t;

/* Strings are copied by fs_mount_start. */
typedef struct fs_config {
    const char *mountpoint;   /* an existing empty directory */
    const char *write_dir;    /* holds each user's write area, <uid>/ (lock files, sumdb, vcs, go's own
                                 downloads); created 0700 if missing */
    bool allow_other;         /* -o allow_other: other users (build users) may use the mount, each in
                                 a view of their own */
    int max_threads;          /* FUSE worker threads; 0 = 64, so lookups waiting on upstream do not starve the rest */
    bool debug;               /* libfuse debug output */
    unsigned list_ttl_s;      /* how long the kernel keeps list, @latest and query .info (0: asks every time);
                                 give the store's list_ttl_s */
    unsigned notfound_ttl_s;  /* how long the kernel keeps a "not found" answer (0: not at all); give the
                                 store's notfound_ttl_s */
} fs_config_t;

/* Mounts and starts the FUSE loop threads, then returns. Returns 0 or -errno with err
 * (a stale mount left by a killed process is reported with the command that clears it; a
 * mountpoint that is already a live mount is refused with -EBUSY).
 * The caller should block SIGINT/SIGTERM in every thread first: the loop threads inherit
 * its signal mask and install no handlers. */
int fs_mount_start(cache_t *cache, const fs_config_t *cfg, fs_mount_t **out, cache_err_t *err);
/* Applies what may change while mounted: list_ttl_s and notfound_ttl_s (answers given before keep
 * the TTL they were given with). Other fields are ignored. Any thread. */
void fs_mount_reload(fs_mount_t *m, const fs_config_t *cfg);
/* Unmounts, waits for the loop to end, frees. NULL is allowed. */
void fs_mount_stop(fs_mount_t *m);

/* Appends the mount's figures to out in Prometheus text form: lookups, lazy fetches with their
 * duration histogram, reads and bytes, writes, whiteouts, error replies by errno, views. From
 * memory only (relaxed atomics): any thread may call it while the mount runs. 0 or -ENOMEM. */
int fs_metrics_render(fs_mount_t *m, buf_t *out);

#endif
