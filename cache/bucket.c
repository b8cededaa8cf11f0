/* SPDX-License-Identifier: MIT */
/*
 * bucket.c — the shared tier in the policy (cache_i.h: cache_fetch_tiered, cache_bucket_gc):
 * where a miss of the local store goes when many fronts share one bucket.
 *
 *   local store (missed) → the bucket: manifest, then the bytes in ranges, every chunk checked
 *     → the key's lease (one front fetches, the others wait and then read the bucket)
 *       → the bucket once more (the holder we waited for has written it)
 *         → upstream; stored here, then written to the bucket (bytes first, manifest last)
 *
 * What comes from the bucket crosses the same ingest boundary as what comes from upstream (Go's
 * checks in cache_ingest): a bucket is written by other machines. An object damaged in the
 * bucket (a manifest that does not parse, a pack missing, short or not matching its hashes, bytes
 * that fail Go's checks) is fetched from upstream again, under the lease, and written anew.
 *
 * Only immutable objects of public modules (.info, .mod, .zip of a canonical version) go through
 * the bucket: they are the bytes worth sharing, and they never change, so a copy in the bucket is
 * never stale. Lists and @latest are asked of upstream by each front, as before, and so are the
 * checksum databases' answers (full tiles are immutable too, but they are small, each is proven
 * by its signature as it arrives, and the database is not the upstream the tier saves fetches from).
 *
 * When the tier is down or slow (shared.h's back-off), local hits are unaffected (they never get
 * here), and a miss goes to upstream alone, not shared, or fails with -EREMOTEIO when the
 * configuration says the tier is required (a farm that must not fetch twice). Nothing half
 * written becomes visible: the manifest is written last.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_i.h"

/* A tier error, as opposed to "not in the bucket" or "damaged there", or shutting down. */
static bool tier_failed(int rc)
{
    return rc != 0 && rc != -ENOENT && rc != -EBADMSG && rc != -EFBIG && rc != -ENOMEM && rc != -ECANCELED;
}

/* The object from the bucket into the store: 0, -ENOENT (not there), -EBADMSG (damaged there:
 * its bytes, hashes, Go's checks, or refused by the checksum database), a tier error, or (*local
 * set) a failure that is not the bucket's: this store's own (a full disk, a budget the object
 * does not fit) or the checksum database's being unreachable for the proof, which upstream would
 * not cure either. */
static int from_bucket(cache_t *c, const modkey_t *key, int64_t now, cache_object_t **out, bool *local,
                       cache_err_t *err)
{
    *local = false;
    int fd = cache_tmp_take(c, err);
    if (fd < 0) {
        *local = true;
        return fd;
    }
    shared_object_info_t info;
    int rc = shared_object_get(c->shared, key->escaped, fd, gomod_body_limit(key->kind), &info, err);
    if (rc == -EFBIG)
        rc = -EBADMSG; /* a manifest announcing more than go allows is no object of ours */
    if (rc == 0) {
        /* Go's checks, the h1 against the manifest's, and the checksum database's proof unless
         * the manifest names this front's database (fetch.c) */
        cache_ingest_t in = {.origin = "the bucket", .bucket = &info};
        rc = cache_ingest(c, key, fd, &in, now, out, err);
        if (rc == -EBADMSG)
            shared_object_reject(c->shared, key->escaped, err->msg);
        else if (rc == 0) {
            atomic_fetch_add_explicit(&c->s3_hits, 1, memory_order_relaxed);
            LOG_I("%s: from the bucket", key->escaped);
        } else {
            *local = true;
        }
    }
    cache_tmp_give(c, fd);
    return rc;
}

/* The tier cannot be asked: upstream alone, unshared, or -EREMOTEIO when it is required. */
static int without_tier(cache_t *c, const modkey_t *key, int64_t now, const char *why, cache_object_t **out,
                        cache_err_t *err)
{
    if (c->s3_required)
        return cache_err_set(err, -EREMOTEIO,
                             "%s: the shared store is unreachable and is required (--s3-required): %s",
                             key->escaped, why);
    LOG_I("%s: the shared store is unreachable, fetching from upstream unshared: %s", key->escaped, why);
    return cache_fetch(c, key, now, false, out, err);
}

int cache_fetch_tiered(cache_t *c, const modkey_t *key, int64_t now, cache_object_t **out, cache_err_t *err)
{
    char why[sizeof err->msg];
    if (shared_is_down(c->shared, why, sizeof why))
        return without_tier(c, key, now, why, out, err);
    bool local;
    int rc = from_bucket(c, key, now, out, &local, err);
    if (rc == 0 || rc == -ECANCELED || local)
        return rc;
    if (tier_failed(rc)) {
        snprintf(why, sizeof why, "%s", err->msg);
        return without_tier(c, key, now, why, out, err);
    }
    /* not there, or damaged: one front fetches it, the others wait for that one */
    bool damaged = rc == -EBADMSG;
    shared_lease_t *lease = NULL;
    bool waited = false;
    rc = shared_lease_acquire(c->shared, key->escaped, (uint64_t)c->upstream_wait_ms, &lease, &waited, err);
    if (rc == -ETIMEDOUT) {
        LOG_W("%s; fetching it here as well", err->msg);
    } else if (rc == -ECANCELED) {
        return rc;
    } else if (rc != 0) {
        snprintf(why, sizeof why, "%s", err->msg);
        return without_tier(c, key, now, why, out, err);
    }
    /* Look again: the front we waited for has written it, or one finished between our first look
     * and our lease. A damaged copy is not read twice unless we waited for another front (which
     * has rewritten it, then): a repair that slipped in between the look and the lease costs one
     * more upstream fetch, not a wrong byte. */
    local = false;
    rc = damaged && !waited ? -EBADMSG : from_bucket(c, key, now, out, &local, err);
    if (rc != 0 && rc != -ECANCELED && !local) {
        if (tier_failed(rc))
            LOG_I("%s: %s; fetching from upstream", key->escaped, err->msg);
        rc = cache_fetch(c, key, now, !tier_failed(rc), out, err);
    }
    shared_lease_release(c->shared, lease);
    return rc;
}

int cache_bucket_gc(cache_t *c, bool dry_run, cache_gc_report_t *r, cache_err_t *err)
{
    if (c->shared == NULL)
        return 0;
    shared_gc_report_t g;
    int rc = shared_gc(c->shared, dry_run, &g, err);
    r->bucket = true;
    r->bucket_objects = g.manifests;
    r->bucket_packs = g.packs;
    r->bucket_bytes = g.pack_bytes;
    r->bucket_deleted = g.deleted;
    r->bucket_deleted_bytes = g.deleted_bytes;
    r->bucket_young = g.young;
    r->bucket_young_bytes = g.young_bytes;
    r->bucket_leases = g.leases_deleted;
    if (rc == 0 && !dry_run && shared_gc_stamp(c->shared) != 0)
        LOG_I("object store: could not write the gc stamp (another front may collect again soon)");
    return rc;
}

void cache_bucket_gc_background(cache_t *c)
{
    int due = shared_gc_due(c->shared, c->s3_gc_interval_s);
    if (due <= 0)
        return; /* not yet, or the bucket cannot tell now: the next interval will */
    cache_gc_report_t r = {0};
    cache_err_t err = {0};
    if (cache_bucket_gc(c, false, &r, &err) != 0) {
        LOG_W("bucket gc: %s", err.msg);
        return;
    }
    LOG_N("bucket gc: %llu objects, %llu packs (%llu bytes); deleted %llu unreferenced packs (%llu bytes) "
          "and %llu "
          "abandoned leases; %llu unreferenced packs kept for the grace period",
          (unsigned long long)r.bucket_objects, (unsigned long long)r.bucket_packs,
          (unsigned long long)r.bucket_bytes, (unsigned long long)r.bucket_deleted,
          (unsigned long long)r.bucket_deleted_bytes, (unsigned long long)r.bucket_leases,
          (unsigned long long)r.bucket_young);
}
