/* SPDX-License-Identifier: MIT */
/*
 * shared.h — the shared tier: one S3-compatible bucket behind many modfs fronts, so that what one
 * front fetched from upstream no other front fetches again. The policy layer (cache.c, bucket.c)
 * is its only user; the fronts never see it.
 *
 * What this layer knows: the S3 protocol (requests signed with AWS Signature V4 by libcurl), the
 * layout of the bucket (layout.c), the object manifest (manifest.c), leases (lease.c) and the
 * bucket's garbage collection (gc.c). What it does not: Go's rules (a key is an opaque name of
 * printable ASCII) and the local store (it is handed the bytes of an object and gives bytes back;
 * how the local store chunks and compresses them is none of its business).
 *
 * An object in the bucket: its bytes, exactly as upstream served them, in one write-once pack
 * named by their SHA-256, and a manifest (size, SHA-256, h1, the checksum database that proved
 * it, the SHA-256 of every chunk of
 * SHARED_CHUNK_SIZE bytes) written after the pack: a reader that finds the manifest finds every
 * byte it names, and checks each chunk as its range arrives. Small objects (.info, .mod) live
 * inside their manifest: one request to write, one to read.
 *
 * Threads: every function may be called from any thread at once. Requests block the calling
 * thread (each on a curl easy handle of its own, taken from a pool that keeps connections open);
 * a thread of the layer renews the leases held.
 *
 * Errors: 0 or -errno with words in a cache_err_t. The errors that mean "the tier is down or
 * unusable" (no answer, a timeout, a 5xx after retries, credentials refused) also put the tier
 * in a back-off: for SHARED_DOWN_BACKOFF_MS every call fails at once with -EHOSTDOWN and the
 * reason, so that a dead or hanging object store costs one timeout per spell, not one per miss.
 * shared_is_down tells it beforehand. Errors about one object (-ENOENT: not in the bucket,
 * -EBADMSG: in the bucket but damaged) leave the tier up.
 */
#ifndef MODFS_SHARED_H
#define MODFS_SHARED_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

typedef struct shared shared_t;

#define SHARED_DEFAULT_REGION "us-east-1"
#define SHARED_DEFAULT_TIMEOUT_MS 10000L
#define SHARED_DEFAULT_LEASE_S 30u
#define SHARED_DEFAULT_GC_GRACE_S 3600u
#define SHARED_DOWN_BACKOFF_MS 5000L

typedef struct shared_config {
    const char *url;         /* http(s)://HOST[:PORT]/BUCKET[/PREFIX] (shared_url_check) */
    const char *region;      /* of the SigV4 scope; NULL: SHARED_DEFAULT_REGION */
    const char *credentials; /* a file of aws_access_key_id / aws_secret_access_key lines, or NULL:
                                $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY */
    const char *ca_file;     /* for https; NULL: the system's CAs */
    long timeout_ms;         /* connecting, and the longest stall of a transfer; 0: the default */
    unsigned lease_s;        /* how long a lease lives unless renewed; 0: the default */
    unsigned gc_grace_s;     /* unreferenced bytes younger than this are never collected; 0: the default */
} shared_config_t;

/*
 * Checks url (the syntax of shared_config_t.url) and gives a copy fit for messages in *shown
 * (malloc'd; the URL holds no secret: credentials in it are refused). 0, -EINVAL with err.
 */
int shared_url_check(const char *url, char **shown, cache_err_t *err);

/*
 * Reads the credentials (cfg->credentials or the environment), checks the URL, and makes sure the
 * bucket exists, creating it when it is missing. An object store that does not answer is not an
 * error here: the tier starts down, with a warning, and is tried again after the back-off. Refused
 * credentials, a bucket that belongs to someone else, a bad URL or a missing credential are
 * errors (-EACCES, -EINVAL with words): they would not heal by waiting. The secret is never
 * written to a message or a log.
 */
int shared_open(const shared_config_t *cfg, shared_t **out, cache_err_t *err);
/* Releases the leases still held and frees everything. No call may be running. */
void shared_close(shared_t *s);

/* From now on every request fails at once with -ECANCELED and those in flight are aborted, lease
 * waits included (shutdown). Leases are still released by shared_close. Any thread. */
void shared_cancel(shared_t *s);

/* Whether the tier is in its back-off after a failure; why (may be NULL) gets the reason. */
bool shared_is_down(shared_t *s, char *why, size_t cap);

/* ---- objects ---- */

#define SHARED_CHUNK_SIZE (1u << 20)  /* bytes covered by one SHA-256 of the manifest */
#define SHARED_INLINE_MAX (16u << 10) /* objects up to this size live inside their manifest */

/* What the manifest says of an object besides its bytes. */
typedef struct shared_object_info {
    uint64_t size;
    uint8_t sha256[32]; /* of the bytes */
    char h1[64];        /* "h1:..." of a .zip or a .mod, "" for other objects; opaque here */
    char sumdb[256];    /* the checksum database that proved it before it was written, "" when
                           none did (exempt, or none configured); opaque here */
    int64_t time;       /* unix s, when the writer fetched it from upstream */
} shared_object_info_t;

/*
 * Reads the object named key from the bucket and writes its bytes to fd from offset 0 (fd is
 * truncated first). Every chunk is checked against its SHA-256 as it arrives, and the whole
 * against the object's. max_size bounds the size the manifest may announce.
 *   0           *info filled, the bytes in fd
 *   -ENOENT     no manifest: the bucket does not hold it
 *   -EBADMSG    a manifest that does not parse or names another key, a pack missing or shorter
 *               than the manifest says, a chunk whose bytes do not match: the object is damaged
 *               in the bucket (write it again); err says what
 *   -EFBIG      the manifest announces more than max_size bytes
 *   -EHOSTDOWN, -ETIMEDOUT, -ECONNREFUSED, -EIO, -EACCES, -ECANCELED   the tier failed
 */
int shared_object_get(shared_t *s, const char *key, int fd, uint64_t max_size, shared_object_info_t *info,
                      cache_err_t *err);

/* The caller found the bytes shared_object_get gave for key unfit by checks of its own (Go's,
 * for modfs): counted and logged as an object damaged in the bucket. */
void shared_object_reject(shared_t *s, const char *key, const char *why);

/*
 * Writes body[0..len) to the bucket as key: its pack first (unless it is small enough to live in
 * the manifest), then the manifest, so that the object becomes visible whole or not at all. A
 * write that fails half way leaves at most a pack no manifest names, which bucket gc removes
 * after the grace period. info->size must be len and info->sha256 the bytes' SHA-256 (checked).
 * 0 or -errno with err.
 */
int shared_object_put(shared_t *s, const char *key, const uint8_t *body, size_t len,
                      const shared_object_info_t *info, cache_err_t *err);

/* ---- leases: one fetch per key across every front ---- */

typedef struct shared_lease shared_lease_t;

/*
 * Takes the lease on key: a create-only object in the bucket (PUT If-None-Match: *) that the layer
 * renews while it is held. While another front holds a live lease this waits (polling), and takes
 * over a lease whose holder stopped renewing it for its lifetime (a front that died mid-fetch
 * blocks the key no longer than that). *waited says whether it had to wait: the holder has
 * probably just written the object, so look in the bucket again. Gives up after max_wait_ms.
 * 0 and *out (release it with shared_lease_release), -ETIMEDOUT, or a tier error.
 */
int shared_lease_acquire(shared_t *s, const char *key, uint64_t max_wait_ms, shared_lease_t **out,
                         bool *waited, cache_err_t *err);
/* Stops renewing and deletes the lease (best effort: a lease that cannot be deleted expires). */
void shared_lease_release(shared_t *s, shared_lease_t *l);

/* ---- garbage collection of the bucket ---- */

typedef struct shared_gc_report {
    uint64_t manifests;              /* objects the bucket holds */
    uint64_t packs, pack_bytes;      /* packs found, and their bytes */
    uint64_t deleted, deleted_bytes; /* packs no manifest names, older than the grace period: deleted */
    uint64_t young, young_bytes;     /* packs no manifest names yet, kept for the grace period */
    uint64_t leases_deleted; /* abandoned leases (every entry of the key older than the grace period) */
} shared_gc_report_t;

/*
 * Deletes what no manifest names (packs, abandoned leases) and is older than the grace period.
 * Safe while other fronts write: a writer puts its pack before its manifest, and redoes the pack
 * when more than half the grace period passed between the two (see gc.c). With dry_run nothing is
 * deleted and the report says what would be. 0 or -errno with err.
 */
int shared_gc(shared_t *s, bool dry_run, shared_gc_report_t *r, cache_err_t *err);

/*
 * For a background collector on every front: whether no front of the bucket collected in the
 * last interval_s seconds (a stamp object in the bucket says when one last did); then the
 * caller runs shared_gc and shared_gc_stamp. 1 due, 0 not, -errno when the bucket cannot tell.
 */
int shared_gc_due(shared_t *s, unsigned interval_s);
int shared_gc_stamp(shared_t *s);

/* ---- figures ---- */

typedef struct shared_stats {
    uint64_t requests; /* sent to the object store */
    uint64_t errors;   /* requests that got no usable answer (no answer, 5xx, refused credentials) */
    uint64_t bytes_read, bytes_written; /* bodies */
    uint64_t objects_read;              /* objects read whole and checked */
    uint64_t objects_written;           /* objects made visible (manifest written) */
    uint64_t damaged;                   /* objects found damaged in the bucket */
    uint64_t lease_waits;               /* lease requests that found another front's lease */
    uint64_t lease_takeovers;           /* expired leases taken over */
    uint64_t gc_runs, gc_deleted, gc_deleted_bytes;
    bool down; /* in the back-off now */
} shared_stats_t;

void shared_stats_get(shared_t *s, shared_stats_t *st);

#endif
