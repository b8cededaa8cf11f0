/* SPDX-License-Identifier: MIT */
/*
 * fetch.c — the one road into the store (cache_i.h: cache_fetch, cache_ingest): a body from
 * upstream or from the shared bucket is checked by Go's rules (gomod_validate_body) and stored
 * (store_put); what came from upstream is then written to the bucket when the caller holds the
 * key's lease. A body that fails a check is never stored or served, whatever its source: a
 * bucket is shared and written by other machines, so its bytes cross the same boundary as
 * upstream's. A stored object is visible only once its bytes are durable.
 *
 * The body goes to an anonymous temporary file (O_TMPFILE: nothing to clean up after a crash) and
 * is mapped for the checks and the ingest, so a 500 MiB zip never sits in the heap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_i.h"

int cache_tmpfile(cache_t *c, cache_err_t *err)
{
    int fd = open(c->tmp_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return cache_err_set(err, -errno, "temp file in %s: %s", c->tmp_dir, strerror(errno));
    return fd;
}

/* Writes what was just stored to the bucket: the object's bytes as served, its facts from the
 * store. A failure costs the other fronts an upstream fetch, never this answer. */
static void share(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len, const cache_object_t *o,
                  int64_t now)
{
    const store_object_info_t *in = store_object_info(o);
    shared_object_info_t info = {.size = in->size, .time = now};
    memcpy(info.sha256, in->sha256, sizeof info.sha256);
    memcpy(info.h1, in->h1, sizeof in->h1 < sizeof info.h1 ? sizeof in->h1 : sizeof info.h1);
    cache_err_t err = {0};
    if (shared_object_put(c->shared, key->escaped, body, len, &info, &err) != 0)
        LOG_W("%s: stored here but not shared: %s", key->escaped, err.msg);
}

int cache_ingest(cache_t *c, const modkey_t *key, int fd, const char *origin, int64_t now, bool share_it,
                 cache_object_t **out, cache_err_t *err)
{
    uint8_t *map = NULL;
    size_t len = 0;
    buf_t canon = BUF_INIT;
    zipfile_t z;
    memset(&z, 0, sizeof z);
    int rc = 0;
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
        rc = cache_err_prefix(err, -EBADMSG, "%s", origin);
        goto out;
    }
    const uint8_t *body = canon.base ? canon.base : map;
    size_t body_len = canon.base ? canon.len : len;
    rc = store_put(c->store, key, body, body_len, key->kind == MODKEY_ZIP ? &z : NULL, now, out, err);
    if (rc == 0 && share_it && c->shared != NULL)
        share(c, key, body, body_len, *out, now);
out:
    if (map)
        munmap(map, len);
    zipfile_dispose(&z);
    buf_dispose(&canon);
    return rc;
}

int cache_fetch(cache_t *c, const modkey_t *key, int64_t now, bool share_it, cache_object_t **out,
                cache_err_t *err)
{
    int fd = cache_tmpfile(c, err);
    if (fd < 0)
        return fd;
    upstream_result_t res;
    memset(&res, 0, sizeof res);
    LOG_I("fetching %s", key->escaped);
    uint64_t limit = gomod_body_limit(key->kind);
    /* a private module goes to the go command alone, whatever the list says, and is never shared */
    bool private_module = cache_is_private(c, key);
    int rc = upstream_fetch(c->upstream, key->escaped, private_module, fd, limit, &res, err);
    if (rc == -EFBIG)
        cache_err_set(err, rc, "upstream %s: %s larger than %llu bytes", res.url, modkey_kind_name(key->kind),
                      (unsigned long long)limit);
    if (rc == 0) {
        char origin[sizeof res.url + 16];
        snprintf(origin, sizeof origin, "upstream %s", res.url);
        rc = cache_ingest(c, key, fd, origin, now, share_it && !private_module, out, err);
    }
    close(fd);
    return rc;
}
