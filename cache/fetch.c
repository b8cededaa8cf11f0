/* SPDX-License-Identifier: MIT */
/*
 * fetch.c — the one road from upstream into the store (cache_i.h: cache_fetch): download, check
 * by Go's rules (gomod_validate_body), prove a .mod or .zip against the checksum database
 * (cache_sumdb_verify) or check a database's answer's signature (cache_sumdb_check_answer), store
 * (store_put). A body that fails a check is never stored or served; a stored object is visible
 * only once its bytes are durable.
 *
 * The body goes to an anonymous temporary file (O_TMPFILE: nothing to clean up after a crash; kept
 * for the next fetch, tmpfiles.c) and is mapped for the checks and the ingest, so a 500 MiB zip
 * never sits in the heap.
 */
#include <errno.h>
#include <fcntl.h>
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

int cache_fetch(cache_t *c, const modkey_t *key, int64_t now, cache_object_t **out, cache_err_t *err)
{
    uint64_t started_us = fetch_now_us();
    int fd = cache_tmp_take(c, err);
    if (fd < 0)
        return fd;
    upstream_result_t res;
    memset(&res, 0, sizeof res);
    uint8_t *map = NULL;
    size_t len = 0;
    buf_t canon = BUF_INIT;
    zipfile_t z;
    memset(&z, 0, sizeof z);
    LOG_I("fetching %s", key->escaped);
    uint64_t limit = gomod_body_limit(key->kind);
    /* a private module goes to the go command alone, whatever the list says, and skips the
     * checksum databases; a checksum database's answer is no module's */
    bool private_module = false;
    if (key->kind != MODKEY_SUMDB) {
        cache_access_t *access = cache_access_acquire(c);
        private_module = cache_access_is_private(access, key->module);
        cache_access_release(access);
    }
    int rc = key->kind == MODKEY_SUMDB
                 ? cache_sumdb_download(c, key, fd, &res, err)
                 : upstream_fetch(c->upstream, key->escaped, private_module, fd, limit, &res, err);
    if (rc == -EFBIG)
        cache_err_set(err, rc, "upstream %s: %s larger than %llu bytes", res.url, modkey_kind_name(key->kind),
                      (unsigned long long)limit);
    if (rc != 0)
        goto out;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = cache_err_set(err, -errno, "temp file: %s", strerror(errno));
        goto out;
    }
    len = (size_t)st.st_size;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            map = NULL;
            rc = cache_err_set(err, -errno, "map temp file: %s", strerror(errno));
            goto out;
        }
    }
    rc = gomod_validate_body(key, map, len, &canon, &z, err);
    if (rc != 0) {
        rc = cache_err_prefix(err, -EBADMSG, "upstream %s", res.url);
        goto out;
    }
    const uint8_t *body = canon.base ? canon.base : map;
    size_t body_len = canon.base ? canon.len : len;
    int reason = CACHE_SUMDB_INVALID; /* a database's answer that does not verify */
    if (key->kind == MODKEY_SUMDB)
        rc = cache_sumdb_check_answer(c, key, body, body_len, err);
    else
        rc = cache_sumdb_verify(c, key, private_module, body, body_len, &z, &reason, err);
    if (rc != 0 && reason != CACHE_SUMDB_UNAVAILABLE) {
        /* the database's verdict, in words that name no host: the client's business; where the
         * refused body came from is the log's */
        LOG_W("upstream %s: %s refused by the checksum database (%s): %s", res.url, key->escaped,
              cache_sumdb_reason_name(reason), err->msg);
        cache_err_prefix(err, rc, CACHE_SUMDB_REFUSED_WORDS);
        goto out;
    }
    if (rc != 0) {
        cache_err_prefix(err, rc, "upstream %s", res.url);
        goto out;
    }
    rc = store_put(c->store, key, body, body_len, key->kind == MODKEY_ZIP ? &z : NULL, now, out, err);
out:
    /* the status page's and /metrics' figures of upstream fetches (the miss path only) */
    cache_fetchlog_note(c->fetchlog, key, private_module, fetch_now_us() - started_us, res.bytes, rc, err);
    if (map)
        munmap(map, len);
    zipfile_dispose(&z);
    buf_dispose(&canon);
    cache_tmp_give(c, fd);
    return rc;
}
