/* SPDX-License-Identifier: MIT */
/*
 * gc.c — garbage collection of the bucket (shared.h: shared_gc, shared_gc_due, shared_gc_stamp).
 *
 * What becomes garbage: a pack no manifest names (its writer died between the pack and the
 * manifest, or an object was written again after damage, or two fronts wrote one object with
 * bytes that differ), and the lease objects of a key whose holders all died. Nothing else is ever
 * deleted: manifests and the packs they name stay, since immutable objects stay valid forever.
 *
 * The pass: list the packs (with their Last-Modified and the store's Date), then the manifests.
 * A key with a manifest and exactly one pack written at most half the grace period before it (a
 * writer's pack and manifest, the pair every write makes) keeps the pack without a read: nearly
 * every key, so two listings of 1000 names a request cover the bucket. Any other key has its
 * manifest read to know which pack it names (none, for an object rewritten small enough to live
 * in its manifest); a key without a manifest names none. A pack named by no manifest is deleted
 * only when it is older than the grace period. What this lets through: a key rewritten with other
 * bytes within half the grace period of its first write keeps the first pack until it is
 * written again (immutable objects are rewritten only after damage, with the same bytes).
 *
 * Why that is safe beside writers: a writer PUTs the pack, then the manifest, and gives up
 * (writes the pack again) when the two are more than half the grace period apart (object.c). The
 * manifests are listed after the packs, so a manifest this pass did not see was written after a
 * listing that saw its pack already older than the grace period: its writer would have taken
 * longer than that between pack and manifest. The one case left is a writer that rewrites a pack
 * gc saw as an old orphan (same bytes, same name) at the moment gc deletes it; gc reads the
 * pack's Last-Modified and the key's manifest again just before deleting, which shrinks that to
 * the milliseconds between a HEAD and a DELETE, and a reader that then finds the pack missing
 * reports the object damaged and it is fetched and written again: no wrong byte is ever served.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared_i.h"

typedef struct pack_ref {
    size_t entry; /* index in the packs listing */
    shared_name_t name;
} pack_ref_t;

static int cmp_key(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c != 0 ? c : (an > bn) - (an < bn);
}

static int ref_cmp(const void *x, const void *y)
{
    const pack_ref_t *a = x, *b = y;
    return cmp_key(a->name.key, a->name.key_len, b->name.key, b->name.key_len);
}

/* Whether the manifest named key exists now (1), not (0), or -errno; with names filled from it
 * when it does (the SHA-256 of the pack it names in *named). */
static int manifest_names(shared_t *s, const char *key, uint8_t named[32], cache_err_t *err)
{
    buf_t name = BUF_INIT, body = BUF_INIT;
    int rc = shared_layout_manifest(s->url.prefix, key, &name);
    if (rc != 0) {
        buf_dispose(&name);
        return rc;
    }
    s3_req_t rq = {
        .method = "GET", .name = (const char *)name.base, .out = &body, .out_max = SHARED_MANIFEST_MAX};
    s3_resp_t rs;
    if ((rc = shared_s3(s, &rq, &rs, err)) == 0) {
        if (rs.status == 404) {
            rc = 0;
        } else if (rs.status != 200) {
            rc = cache_err_set(err, -EIO, "object store %s: GET manifest of %s: %ld %s", s->shown, key,
                               rs.status, rs.code);
        } else {
            shared_manifest_t m;
            cache_err_t perr;
            if (shared_manifest_decode(body.base, body.len, &m, &perr) == 0) {
                /* an inline object names no pack; a damaged manifest names none we can trust, and
                 * its object is written again with a pack of the same name when next read */
                memcpy(named, m.info.sha256, 32);
                rc = m.inline_data ? 2 : 1;
                shared_manifest_dispose(&m);
            } else {
                rc = 2;
            }
        }
    }
    buf_dispose(&name);
    buf_dispose(&body);
    return rc;
}

/* Deletes the pack of ref if, read again now, no manifest names it and it is still old. */
static int delete_pack(shared_t *s, const shared_list_entry_t *e, const char *key, const uint8_t sha[32],
                       bool dry_run, shared_gc_report_t *r, cache_err_t *err)
{
    uint8_t named[32];
    int rc = manifest_names(s, key, named, err);
    if (rc < 0)
        return rc;
    if (rc == 1 && memcmp(named, sha, 32) == 0)
        return 0; /* written meanwhile */
    s3_req_t rq = {.method = "HEAD", .name = e->name};
    s3_resp_t rs;
    if ((rc = shared_s3(s, &rq, &rs, err)) != 0)
        return rc;
    if (rs.status == 404)
        return 0;
    if (rs.status != 200 || rs.last_modified_ms == 0 || rs.date_ms == 0 ||
        rs.date_ms - rs.last_modified_ms <= (int64_t)s->gc_grace_s * 1000)
        return 0; /* rewritten meanwhile (or the store will not say): kept */
    r->deleted++;
    r->deleted_bytes += e->size;
    if (dry_run)
        return 0;
    s3_req_t del = {.method = "DELETE", .name = e->name};
    if ((rc = shared_s3(s, &del, &rs, err)) != 0)
        return rc;
    if (rs.status != 204 && rs.status != 200 && rs.status != 404)
        return cache_err_set(err, -EIO, "object store %s: DELETE %s: %ld %s", s->shown, e->name, rs.status,
                             rs.code);
    atomic_fetch_add_explicit(&s->gc_deleted, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->gc_deleted_bytes, e->size, memory_order_relaxed);
    LOG_I("object store %s: gc deleted %s (%llu bytes no manifest names)", s->shown, e->name,
          (unsigned long long)e->size);
    return 0;
}

static const shared_list_entry_t *in_manifests(const shared_list_t *manifests, const char *prefix,
                                               const char *key, size_t klen)
{
    /* the listing is in name order, and every name shares "<prefix>manifests/": bisect on the key */
    size_t skip = strlen(prefix) + strlen("manifests/"), lo = 0, hi = manifests->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *n = manifests->v[mid].name;
        size_t nl = strlen(n);
        int c = nl < skip ? -1 : cmp_key(n + skip, nl - skip, key, klen);
        if (c == 0)
            return &manifests->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int collect_packs(shared_t *s, bool dry_run, const shared_list_t *packs, int64_t now_ms,
                         const shared_list_t *manifests, shared_gc_report_t *r, cache_err_t *err)
{
    pack_ref_t *refs = packs->n ? calloc(packs->n, sizeof *refs) : NULL;
    if (packs->n && refs == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < packs->n; i++) {
        shared_name_t nm;
        shared_layout_parse(s->url.prefix, packs->v[i].name, strlen(packs->v[i].name), &nm);
        if (nm.kind != SHARED_NAME_PACK)
            continue; /* not ours: never touched */
        r->packs++;
        r->pack_bytes += packs->v[i].size;
        refs[n].entry = i;
        refs[n].name = nm;
        n++;
    }
    qsort(refs, n, sizeof *refs, ref_cmp);
    int rc = 0;
    char key[SHARED_KEY_MAX + 1];
    for (size_t i = 0; i < n && rc == 0;) {
        size_t j = i + 1;
        while (j < n && ref_cmp(&refs[i], &refs[j]) == 0)
            j++;
        memcpy(key, refs[i].name.key, refs[i].name.key_len);
        key[refs[i].name.key_len] = '\0';
        const shared_list_entry_t *m = in_manifests(manifests, s->url.prefix, key, refs[i].name.key_len);
        bool has_manifest = m != NULL;
        uint8_t named[32];
        int which = 0; /* 1: the manifest names `named`; 0: names none of these */
        int64_t apart = has_manifest ? m->mtime_ms - packs->v[refs[i].entry].mtime_ms : 0;
        if (has_manifest && j - i == 1 && apart >= -1000 && apart <= (int64_t)s->gc_grace_s * 500 + 1000) {
            i = j; /* the common case, a pack and the manifest written right after it: kept unread */
            continue;
        }
        if (has_manifest && (which = manifest_names(s, key, named, err)) < 0) {
            rc = which;
            break;
        }
        for (size_t k = i; k < j && rc == 0; k++) {
            const shared_list_entry_t *e = &packs->v[refs[k].entry];
            if (which == 1 && memcmp(named, refs[k].name.sha256, 32) == 0)
                continue;
            if (now_ms - e->mtime_ms <= (int64_t)s->gc_grace_s * 1000) {
                r->young++;
                r->young_bytes += e->size;
                continue;
            }
            rc = delete_pack(s, e, key, refs[k].name.sha256, dry_run, r, err);
        }
        i = j;
    }
    free(refs);
    return rc;
}

/* Deletes the leases of keys whose every lease is older than the grace period (their holders
 * all died long ago), highest number first. */
static int collect_leases(shared_t *s, bool dry_run, const shared_list_t *leases, int64_t now_ms,
                          shared_gc_report_t *r, cache_err_t *err)
{
    int rc = 0;
    for (size_t i = 0; i < leases->n && rc == 0;) {
        shared_name_t first, nm;
        shared_layout_parse(s->url.prefix, leases->v[i].name, strlen(leases->v[i].name), &first);
        if (first.kind != SHARED_NAME_LEASE) {
            i++;
            continue;
        }
        size_t j = i;
        bool all_old = true;
        while (j < leases->n) {
            shared_layout_parse(s->url.prefix, leases->v[j].name, strlen(leases->v[j].name), &nm);
            if (nm.kind != SHARED_NAME_LEASE || cmp_key(nm.key, nm.key_len, first.key, first.key_len) != 0)
                break;
            if (now_ms - leases->v[j].mtime_ms <= (int64_t)s->gc_grace_s * 1000)
                all_old = false;
            j++;
        }
        for (size_t k = j; all_old && k-- > i && rc == 0;) {
            r->leases_deleted++;
            if (dry_run)
                continue;
            s3_req_t del = {.method = "DELETE", .name = leases->v[k].name};
            s3_resp_t rs;
            rc = shared_s3(s, &del, &rs, err);
        }
        i = j;
    }
    return rc;
}

int shared_gc(shared_t *s, bool dry_run, shared_gc_report_t *r, cache_err_t *err)
{
    memset(r, 0, sizeof *r);
    shared_list_t packs = {0}, manifests = {0}, leases = {0};
    buf_t dir = BUF_INIT;
    int64_t now_ms = 0, unused;
    int rc = shared_bucket_ready(s, err);
    if (rc != 0)
        return rc;
    /* packs first, manifests second: see the argument at the top */
    rc = buf_appendf(&dir, "%spacks/", s->url.prefix);
    if (rc == 0)
        rc = shared_s3_list(s, (const char *)dir.base, &packs, &now_ms, err);
    buf_reset(&dir);
    if (rc == 0 && (rc = buf_appendf(&dir, "%smanifests/", s->url.prefix)) == 0)
        rc = shared_s3_list(s, (const char *)dir.base, &manifests, &unused, err);
    if (rc == 0 && now_ms == 0)
        rc = cache_err_set(
            err, -EPROTO, "object store %s: its answers carry no Date; gc needs the store's clock", s->shown);
    if (rc == 0) {
        for (size_t i = 0; i < manifests.n; i++) {
            shared_name_t nm;
            shared_layout_parse(s->url.prefix, manifests.v[i].name, strlen(manifests.v[i].name), &nm);
            r->manifests += nm.kind == SHARED_NAME_MANIFEST;
        }
        rc = collect_packs(s, dry_run, &packs, now_ms, &manifests, r, err);
    }
    buf_reset(&dir);
    int64_t lease_now = 0;
    if (rc == 0 && (rc = buf_appendf(&dir, "%sleases/", s->url.prefix)) == 0)
        rc = shared_s3_list(s, (const char *)dir.base, &leases, &lease_now, err);
    if (rc == 0)
        rc = collect_leases(s, dry_run, &leases, lease_now ? lease_now : now_ms, r, err);
    shared_list_dispose(&packs);
    shared_list_dispose(&manifests);
    shared_list_dispose(&leases);
    buf_dispose(&dir);
    if (rc == 0 && !dry_run)
        atomic_fetch_add_explicit(&s->gc_runs, 1, memory_order_relaxed);
    if (rc == -ENOMEM)
        cache_err_set(err, rc, "out of memory");
    return rc;
}

int shared_gc_due(shared_t *s, unsigned interval_s)
{
    buf_t name = BUF_INIT;
    int rc = shared_bucket_ready(s, NULL);
    if (rc == 0)
        rc = buf_appendf(&name, "%sgc-stamp", s->url.prefix);
    if (rc != 0) {
        buf_dispose(&name);
        return rc;
    }
    s3_req_t rq = {.method = "HEAD", .name = (const char *)name.base};
    s3_resp_t rs;
    rc = shared_s3(s, &rq, &rs, NULL);
    buf_dispose(&name);
    if (rc != 0)
        return rc;
    if (rs.status == 404)
        return 1;
    if (rs.status != 200 || rs.date_ms == 0 || rs.last_modified_ms == 0)
        return -EIO;
    return rs.date_ms - rs.last_modified_ms >= (int64_t)interval_s * 1000 ? 1 : 0;
}

int shared_gc_stamp(shared_t *s)
{
    buf_t name = BUF_INIT, body = BUF_INIT;
    int rc = buf_appendf(&name, "%sgc-stamp", s->url.prefix);
    if (rc == 0)
        rc = buf_appendf(&body, "collected by %s\n", s->holder);
    if (rc == 0) {
        s3_req_t rq = {
            .method = "PUT", .name = (const char *)name.base, .body = body.base, .body_len = body.len};
        s3_resp_t rs;
        rc = shared_s3(s, &rq, &rs, NULL);
        if (rc == 0 && rs.status != 200)
            rc = -EIO;
    }
    buf_dispose(&name);
    buf_dispose(&body);
    return rc;
}
