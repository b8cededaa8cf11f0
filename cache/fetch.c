/* SPDX-License-Identifier: MIT */
/*
 * fetch.c — the one road into the store (cache_i.h: cache_fetch, cache_ingest): a body from
 * upstream or from the shared bucket is checked by Go's rules (gomod_validate_body), a .mod or
 * .zip is proven against the checksum database (cache_sumdb_verify), a database's answer has its
 * signature checked (cache_sumdb_check_answer), and then it is stored (store_put); what came from
 * upstream is then written to the bucket when the caller holds the key's lease. A body that fails
 * a check is never stored or served, whatever its source: a bucket is shared and written by other
 * machines, so its bytes cross the same boundary as upstream's. A stored object is visible only
 * once its bytes are durable. The one client a miss's leader fetches for may be answered sooner
 * (cache_fetch_early, store_put_with): from a copy of the checked bytes of an object of up to
 * 32 MiB, while the store cuts, writes, syncs and commits them; a cold `go mod download` asks for
 * .info, .mod and .zip of each version in turn, and that work was most of each miss's time once
 * the checks were done.
 *
 * A module from the bucket and the checksum database. The front that fetched it from upstream
 * proved it before writing it, and its manifest says so: it carries the h1 of the bytes (the zip's
 * dirhash, or the go.mod's) and the name of the database that proved it. A reader recomputes the
 * h1 of the bytes it assembled and refuses a copy whose h1 is not the manifest's (damaged: fetched
 * again); when the manifest names the database this front would prove the module against, that
 * proof stands and no lookup is made — the bucket is written only by fronts of the same farm, as
 * trusted as this front's own disk, and a lookup per module per front would cost the farm what
 * the tier saves. When it names none or another (a front with --sumdb off or --nosumdb wrote it,
 * or the farm changed databases), this front proves the copy itself, as if upstream had sent it,
 * and a copy the database refuses counts as damaged in the bucket: it is fetched from upstream
 * again (and proven again) under the lease. `modfs verify` re-proves what a store holds.
 *
 * The body goes to an anonymous temporary file (O_TMPFILE: nothing to clean up after a crash; kept
 * for the next fetch, tmpfiles.c) and is mapped for the checks and the ingest, so a 500 MiB zip
 * never sits in the heap. A zip from a proxy is the exception (arrival.c): it lands in a mapping
 * reserved for it, hashed and its members read while it arrives, and the checks and the store read
 * it there (cache_ingest_body) instead of reading back a file just written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_i.h"

static uint64_t fetch_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Writes what was just stored to the bucket: the object's bytes as served, its facts from the
 * store, its h1 and the database that proved it (prover, NULL: exempt). A failure costs the other
 * fronts an upstream fetch, never this answer. */
static void share(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len, const cache_object_t *o,
                  const char *h1, const char *prover, int64_t now)
{
    const store_object_info_t *in = store_object_info(o);
    shared_object_info_t info = {.size = in->size, .time = now};
    memcpy(info.sha256, in->sha256, sizeof info.sha256);
    snprintf(info.h1, sizeof info.h1, "%s", h1);
    snprintf(info.sumdb, sizeof info.sumdb, "%s", prover != NULL ? prover : "");
    cache_err_t err = {0};
    if (shared_object_put(c->shared, key->escaped, body, len, &info, &err) != 0)
        LOG_W("%s: stored here but not shared: %s", key->escaped, err.msg);
}

/* The checksum database's part of the ingest of a .mod or .zip whose h1 is h1: 0 when proven or
 * exempt (*prover: the database that proved it, or NULL), else -errno with err. A refusal by the
 * database's verdict is -EIO worded CACHE_SUMDB_REFUSED_WORDS from upstream, and -EBADMSG (damaged
 * in the bucket: fetch it again) from the bucket. */
static int prove(cache_t *c, const modkey_t *key, const cache_ingest_t *in, const uint8_t *body, size_t len,
                 const zipfile_t *z, const char *h1, const char **prover, cache_err_t *err)
{
    *prover = cache_sumdb_prover(c, key->module, in->private_module);
    if (in->bucket != NULL) {
        if (h1[0] != '\0' && strcmp(in->bucket->h1, h1) != 0)
            return cache_err_set(err, -EBADMSG, "%s: its bytes hash to %s, its manifest says %s", in->origin,
                                 h1, in->bucket->h1[0] ? in->bucket->h1 : "nothing");
        if (*prover != NULL && strcmp(in->bucket->sumdb, *prover) == 0)
            return 0; /* proven by the front that wrote it (see the top of this file) */
    }
    int reason = CACHE_SUMDB_INVALID;
    int rc = cache_sumdb_verify(c, key, in->private_module, body, len, z, &reason, err);
    if (rc == 0 || reason == CACHE_SUMDB_UNAVAILABLE)
        return rc == 0 ? 0 : cache_err_prefix(err, rc, "%s", in->origin);
    /* the database's verdict, in words that name no host: the client's business; where the
     * refused body came from is the log's */
    LOG_W("%s: %s refused by the checksum database (%s): %s", in->origin, key->escaped,
          cache_sumdb_reason_name(reason), err->msg);
    if (in->bucket != NULL)
        return cache_err_prefix(err, -EBADMSG, "%s: " CACHE_SUMDB_REFUSED_WORDS, in->origin);
    /* EIO, not the proof's EBADMSG: the body is upstream's, well formed, and refused; the mount
     * says "input/output error" for it as go says for a checksum mismatch */
    return cache_err_prefix(err, -EIO, CACHE_SUMDB_REFUSED_WORDS);
}

int cache_ingest(cache_t *c, const modkey_t *key, int fd, const cache_ingest_t *in, int64_t now,
                 cache_object_t **out, cache_err_t *err)
{
    uint8_t *map = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cache_err_set(err, -errno, "temp file: %s", strerror(errno));
    size_t len = (size_t)st.st_size;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
            return cache_err_set(err, -errno, "map temp file: %s", strerror(errno));
    }
    int rc = cache_ingest_body(c, key, map, len, NULL, NULL, in, now, out, err);
    if (map)
        munmap(map, len);
    return rc;
}

int cache_ingest_body(cache_t *c, const modkey_t *key, const uint8_t *map, size_t len, const uint8_t *sha256,
                      const zipstream_t *walk, const cache_ingest_t *in, int64_t now, cache_object_t **out,
                      cache_err_t *err)
{
    buf_t canon = BUF_INIT;
    zipfile_t z;
    memset(&z, 0, sizeof z);
    int rc = gomod_validate_body_streamed(key, map, len, walk, &canon, &z, err);
    if (rc != 0) {
        rc = cache_err_prefix(err, -EBADMSG, "%s", in->origin);
        goto out;
    }
    const uint8_t *body = canon.base ? canon.base : map;
    size_t body_len = canon.base ? canon.len : len;
    char h1[48] = "";
    const char *prover = NULL;
    if (key->kind == MODKEY_SUMDB) {
        rc = cache_sumdb_check_answer(c, key, body, body_len, err);
        if (rc != 0) {
            /* a signature that does not verify is the database's verdict on the answer */
            LOG_W("%s: %s refused by the checksum database (invalid): %s", in->origin, key->escaped,
                  err->msg);
            rc = cache_err_prefix(err, -EIO, CACHE_SUMDB_REFUSED_WORDS);
            goto out;
        }
    } else if (key->kind == MODKEY_MOD || key->kind == MODKEY_ZIP) {
        if (key->kind == MODKEY_ZIP)
            snprintf(h1, sizeof h1, "%s", z.h1);
        else if ((rc = dirhash_gomod_h1(body, body_len, h1, err)) != 0)
            goto out;
        if ((rc = prove(c, key, in, body, body_len, &z, h1, &prover, err)) != 0)
            goto out;
    }
    /* the SHA-256 computed while the body arrived is of these bytes unless canon replaced them */
    store_put_extra_t extra = {.sha256 = canon.base ? NULL : sha256, .early = in->early, .early_arg = in->early_arg};
    rc = store_put_with(c->store, key, body, body_len, key->kind == MODKEY_ZIP ? &z : NULL, &extra, now, out, err);
    if (rc == 0 && in->share && c->shared != NULL && !in->private_module)
        share(c, key, body, body_len, *out, h1, prover, now);
out:
    zipfile_dispose(&z);
    buf_dispose(&canon);
    return rc;
}

int cache_fetch(cache_t *c, const modkey_t *key, int64_t now, bool share_it, cache_object_t **out,
                cache_err_t *err)
{
    return cache_fetch_early(c, key, now, share_it, NULL, NULL, out, err);
}

int cache_fetch_early(cache_t *c, const modkey_t *key, int64_t now, bool share_it, cache_early_fn early,
                      void *early_arg, cache_object_t **out, cache_err_t *err)
{
    uint64_t started_us = fetch_now_us();
    int fd = cache_tmp_take(c, err);
    if (fd < 0)
        return fd;
    upstream_result_t res;
    memset(&res, 0, sizeof res);
    LOG_I("fetching %s", key->escaped);
    uint64_t limit = gomod_body_limit(key->kind);
    /* a private module goes to the go command alone, whatever the list says, skips the checksum
     * databases and is never shared; a checksum database's answer is no module's */
    bool private_module = key->kind != MODKEY_SUMDB && cache_is_private(c, key);
    /* a zip from a proxy is hashed and its members read while it arrives (arrival.c); without
     * the memory for that, it is fetched to the file as any other body */
    cache_arrival_t *arrival = NULL;
    if (key->kind == MODKEY_ZIP && !private_module) {
        cache_err_t ignored = {0};
        if (cache_arrival_start(limit, &arrival, &ignored) != 0)
            arrival = NULL;
    }
    int rc = key->kind == MODKEY_SUMDB
                 ? cache_sumdb_download(c, key, fd, &res, err)
                 : upstream_fetch_sink(c->upstream, key->escaped, private_module, fd,
                                       arrival ? cache_arrival_sink(arrival) : NULL, limit, &res, err);
    if (rc == -EFBIG)
        cache_err_set(err, rc, "upstream %s: %s larger than %llu bytes", res.url, modkey_kind_name(key->kind),
                      (unsigned long long)limit);
    if (rc == 0) {
        char origin[sizeof res.url + 16];
        snprintf(origin, sizeof origin, "upstream %s", res.url);
        cache_ingest_t in = {.origin = origin,
                             .private_module = private_module,
                             .share = share_it,
                             .early = early,
                             .early_arg = early_arg};
        if (arrival != NULL && cache_arrival_finish(arrival, &res)) {
            size_t len;
            const uint8_t *sha256;
            const zipstream_t *walk;
            const uint8_t *body = cache_arrival_body(arrival, &len, &sha256, &walk);
            rc = cache_ingest_body(c, key, body, len, sha256, walk, &in, now, out, err);
        } else {
            rc = cache_ingest(c, key, fd, &in, now, out, err);
        }
    }
    cache_arrival_free(arrival);
    /* the status page's and /metrics' figures of upstream fetches (the miss path only) */
    cache_fetchlog_note(c->fetchlog, key, private_module, fetch_now_us() - started_us, res.bytes, rc, err);
    cache_tmp_give(c, fd);
    return rc;
}
