/* SPDX-License-Identifier: MIT */
/*
 * object.c — an object into and out of the bucket (shared.h: shared_object_get/put).
 *
 * Writing: the pack (the bytes, named by their SHA-256, sent with that SHA-256 as the signed
 * payload hash, which the gateway checks), then the manifest. Between the two, no more than half
 * the grace period of bucket gc may pass, or the pack is written again first: gc deletes a pack
 * no manifest names only when it is older than the grace period, so a pack is always younger
 * than that when its manifest appears (gc.c has the argument).
 *
 * Reading: the manifest, then the pack in ranges of up to READ_SPAN bytes (whole chunks), each
 * chunk checked against its SHA-256 as it arrives and written to the caller's file, and the
 * whole against the object's SHA-256 at the end. Memory stays at one range whatever the size.
 * A pack that is gone, short, or does not match is -EBADMSG: the caller fetches the object from
 * upstream again and writes it anew (same bytes, same pack name: the damaged pack is replaced).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "shared_i.h"

#define READ_SPAN (8u * SHARED_CHUNK_SIZE)

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int damaged(shared_t *s, cache_err_t *err, const char *fmt, const char *key, const char *what)
{
    atomic_fetch_add_explicit(&s->damaged, 1, memory_order_relaxed);
    cache_err_set(err, -EBADMSG, fmt, s->shown, key, what);
    LOG_W("%s", err != NULL ? err->msg : "damaged object in the bucket");
    return -EBADMSG;
}

int shared_object_get(shared_t *s, const char *key, int fd, uint64_t max_size, shared_object_info_t *info,
                      cache_err_t *err)
{
    buf_t name = BUF_INIT, body = BUF_INIT;
    shared_manifest_t m = {0};
    EVP_MD_CTX *md = NULL;
    int rc = shared_bucket_ready(s, err);
    if (rc != 0)
        return rc;
    rc = shared_layout_manifest(s->url.prefix, key, &name);
    if (rc != 0) {
        rc = cache_err_set(err, rc == -ENOMEM ? rc : -EINVAL, "%s: not a name the bucket can hold", key);
        goto out;
    }
    s3_req_t rq = {
        .method = "GET", .name = (const char *)name.base, .out = &body, .out_max = SHARED_MANIFEST_MAX};
    s3_resp_t rs;
    if ((rc = shared_s3(s, &rq, &rs, err)) != 0) {
        if (rc == -EFBIG)
            rc = damaged(s, err, "object store %s: %s: manifest %s", key, "longer than any manifest");
        goto out;
    }
    if (rs.status == 404) {
        rc = -ENOENT;
        goto out;
    }
    if (rs.status != 200) {
        rc = cache_err_set(err, -EIO, "object store %s: GET manifest of %s: %ld %s", s->shown, key, rs.status,
                           rs.code);
        goto out;
    }
    cache_err_t perr;
    if ((rc = shared_manifest_decode(body.base, body.len, &m, &perr)) != 0) {
        rc = rc == -ENOMEM ? cache_err_set(err, rc, "out of memory")
                           : damaged(s, err, "object store %s: %s: %s", key, perr.msg);
        goto out;
    }
    if (strcmp(m.key, key) != 0) {
        rc = damaged(s, err, "object store %s: %s: the manifest is %s's", key, m.key);
        goto out;
    }
    if (m.info.size > max_size) {
        rc = cache_err_set(err, -EFBIG, "object store %s: %s: the manifest says %llu bytes, more than %llu",
                           s->shown, key, (unsigned long long)m.info.size, (unsigned long long)max_size);
        goto out;
    }
    if (ftruncate(fd, 0) != 0) {
        rc = cache_err_set(err, -errno, "temp file: %s", strerror(errno));
        goto out;
    }
    uint8_t sum[32];
    unsigned sumlen = 0;
    if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if (m.inline_data) {
        if (EVP_DigestUpdate(md, m.data, m.info.size) != 1 ||
            (rc = write_all(fd, m.data, m.info.size, 0)) != 0) {
            rc = cache_err_set(err, rc ? rc : -EIO, "temp file: %s", strerror(rc ? -rc : EIO));
            goto out;
        }
    } else {
        if ((rc = shared_layout_pack(s->url.prefix, key, m.info.sha256, &name)) != 0) {
            rc = cache_err_set(err, rc, "pack name of %s", key);
            goto out;
        }
        for (size_t first = 0; first < m.nchunks;) {
            uint64_t off = (uint64_t)first * m.chunk_size;
            size_t count = READ_SPAN / m.chunk_size ? READ_SPAN / m.chunk_size : 1;
            if (count > m.nchunks - first)
                count = m.nchunks - first;
            uint64_t span = (uint64_t)count * m.chunk_size;
            if (off + span > m.info.size)
                span = m.info.size - off;
            s3_req_t rr = {.method = "GET",
                           .name = (const char *)name.base,
                           .range_off = off,
                           .range_len = span,
                           .out = &body,
                           .out_max = span};
            if ((rc = shared_s3(s, &rr, &rs, err)) != 0) {
                if (rc == -EFBIG)
                    rc = damaged(s, err, "object store %s: %s: pack %s", key, "answers more than asked");
                goto out;
            }
            if (rs.status == 404 || rs.status == 416) {
                rc = damaged(s, err, "object store %s: %s: %s", key,
                             rs.status == 404 ? "its pack is missing"
                                              : "its pack is shorter than the manifest says");
                goto out;
            }
            /* 200 is a whole pack, which answers a range only when the range is the whole object */
            if (!(rs.status == 206 || (rs.status == 200 && off == 0 && span == m.info.size))) {
                rc = cache_err_set(err, -EIO, "object store %s: GET pack of %s: %ld %s", s->shown, key,
                                   rs.status, rs.code);
                goto out;
            }
            if (body.len != span) {
                rc = damaged(s, err, "object store %s: %s: %s", key,
                             "its pack is shorter than the manifest says");
                goto out;
            }
            for (size_t i = 0; i < count; i++) {
                size_t at = i * (size_t)m.chunk_size;
                size_t n = span - at < m.chunk_size ? (size_t)(span - at) : m.chunk_size;
                uint8_t h[32];
                unsigned hl = 0;
                if (EVP_Digest(body.base + at, n, h, &hl, EVP_sha256(), NULL) != 1 || hl != 32) {
                    rc = cache_err_set(err, -EIO, "hashing failed");
                    goto out;
                }
                if (memcmp(h, m.chunks[first + i], 32) != 0) {
                    char what[64];
                    snprintf(what, sizeof what, "chunk %zu of its pack is damaged", first + i);
                    rc = damaged(s, err, "object store %s: %s: %s", key, what);
                    goto out;
                }
            }
            if (EVP_DigestUpdate(md, body.base, span) != 1 ||
                (rc = write_all(fd, body.base, span, off)) != 0) {
                rc = cache_err_set(err, rc ? rc : -EIO, "temp file: %s", strerror(rc ? -rc : EIO));
                goto out;
            }
            first += count;
        }
    }
    if (EVP_DigestFinal_ex(md, sum, &sumlen) != 1 || sumlen != 32) {
        rc = cache_err_set(err, -EIO, "hashing failed");
        goto out;
    }
    if (memcmp(sum, m.info.sha256, 32) != 0) {
        rc =
            damaged(s, err, "object store %s: %s: %s", key, "its bytes do not hash to the manifest's sha256");
        goto out;
    }
    *info = m.info;
    atomic_fetch_add_explicit(&s->objects_read, 1, memory_order_relaxed);
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    shared_manifest_dispose(&m);
    buf_dispose(&name);
    buf_dispose(&body);
    return rc;
}

void shared_object_reject(shared_t *s, const char *key, const char *why)
{
    atomic_fetch_add_explicit(&s->damaged, 1, memory_order_relaxed);
    LOG_W("object store %s: %s: damaged: %s", s->shown, key, why);
}

static int put(shared_t *s, const char *name, const uint8_t *body, size_t len, const uint8_t *sha256,
               const char *what, const char *key, cache_err_t *err)
{
    s3_req_t rq = {.method = "PUT", .name = name, .body = body, .body_len = len, .body_sha256 = sha256};
    s3_resp_t rs;
    int rc = shared_s3(s, &rq, &rs, err);
    if (rc == 0 && rs.status != 200)
        rc = cache_err_set(err, -EIO, "object store %s: PUT %s of %s: %ld %s", s->shown, what, key, rs.status,
                           rs.code);
    return rc;
}

int shared_object_put(shared_t *s, const char *key, const uint8_t *body, size_t len,
                      const shared_object_info_t *info, cache_err_t *err)
{
    shared_manifest_t m;
    buf_t text = BUF_INIT, name = BUF_INIT;
    uint8_t sum[32];
    unsigned sumlen = 0;
    if (info->size != len || EVP_Digest(body, len, sum, &sumlen, EVP_sha256(), NULL) != 1 || sumlen != 32 ||
        memcmp(sum, info->sha256, 32) != 0)
        return cache_err_set(err, -EINVAL, "%s: the bytes to share do not match their size and sha256", key);
    int rc = shared_bucket_ready(s, err);
    if (rc != 0)
        return rc;
    rc = shared_manifest_build(key, body, len, info, &m);
    if (rc != 0)
        return cache_err_set(err, rc, "%s: cannot describe it for the bucket", key);
    if ((rc = shared_manifest_encode(&m, &text)) != 0) {
        rc = cache_err_set(err, rc, "out of memory");
        goto out;
    }
    if (!m.inline_data) {
        if ((rc = shared_layout_pack(s->url.prefix, key, info->sha256, &name)) != 0) {
            rc = cache_err_set(err, rc, "pack name of %s", key);
            goto out;
        }
        int64_t half_grace = (int64_t)s->gc_grace_s * 500;
        for (int i = 0;; i++) {
            int64_t start = shared_now_ms();
            if ((rc = put(s, (const char *)name.base, body, len, info->sha256, "pack", key, err)) != 0)
                goto out;
            /* the time from the start of the pack's PUT to the manifest's PUT (next) must stay
             * under half the grace period; the manifest's PUT is quick, the pack's may not be */
            if (shared_now_ms() - start < half_grace)
                break;
            if (i == 1) {
                rc = cache_err_set(
                    err, -ETIMEDOUT,
                    "object store %s: writing the pack of %s takes longer than half the gc grace "
                    "period (%u s): not shared",
                    s->shown, key, s->gc_grace_s);
                goto out;
            }
        }
    }
    if ((rc = shared_layout_manifest(s->url.prefix, key, &name)) != 0) {
        rc = cache_err_set(err, rc, "manifest name of %s", key);
        goto out;
    }
    if ((rc = put(s, (const char *)name.base, text.base, text.len, NULL, "manifest", key, err)) != 0)
        goto out;
    atomic_fetch_add_explicit(&s->objects_written, 1, memory_order_relaxed);
out:
    shared_manifest_dispose(&m);
    buf_dispose(&text);
    buf_dispose(&name);
    return rc;
}
