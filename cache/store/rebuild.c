/* SPDX-License-Identifier: MIT */
/*
 * rebuild.c — a new index from the pack logs (store.h: store_repair), for a store whose
 * index.db is lost or damaged: the cost is a rebuild, not the cache.
 *
 * Every pack's log says which chunks it holds and which objects were committed while it was
 * written (packlog.c). The rebuild reads every log, keeps the latest record of each key (records
 * carry a wall-clock order; list and @latest are replaced over time), and restores an object only
 * when every chunk it names is recorded somewhere and its bytes pass their checksum: whatever
 * cannot be proven whole is left out, to be fetched again on its next use. The old index is moved
 * aside, never deleted. Commits run without fsync until the end (a crash mid-rebuild leaves a
 * half-made index the next `modfs repair` moves aside again).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_i.h"

#define REBUILD_HASH_SEED 0x7265 /* "re" */

/* A chunk some log records: where, and whether its bytes have been checked yet. The same
 * address recorded again (a damaged copy dropped and written anew, or two writers racing) hangs
 * on the first as an alternative, tried when the first fails its check. */
typedef struct known_chunk {
    htab_link_t link;
    store_chunk_t c;
    int verdict;              /* 0 not yet read, 1 good, -1 gone or bad */
    struct known_chunk *alt;  /* another copy of the same bytes */
} known_chunk_t;

/* The latest object record of one key. */
typedef struct known_object {
    htab_link_t link;
    store_packlog_object_t rec;
} known_object_t;

typedef struct rebuild {
    store_packs_t *packs;
    htab_t chunks, objects;
    buf_t *all_logs; /* every log read, kept while records point into them */
    size_t nlogs, cap_logs;
    store_rebuild_report_t *report;
    int rc;
} rebuild_t;

static bool chunk_eq(const htab_link_t *l, const void *key)
{
    return memcmp(((const known_chunk_t *)l)->c.hash, key, 32) == 0;
}

static bool object_eq(const htab_link_t *l, const void *key)
{
    return strcmp(((const known_object_t *)l)->rec.key, key) == 0;
}

static uint64_t hash_of(const uint8_t h[32])
{
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

typedef struct log_ctx {
    rebuild_t *r;
    uint32_t pack;
} log_ctx_t;

static int take_record(void *arg, int type, const uint8_t *payload, size_t len, uint64_t offset)
{
    (void)offset;
    log_ctx_t *lc = arg;
    rebuild_t *r = lc->r;
    if (type == PACKLOG_CHUNK) {
        store_chunk_t c;
        if (store_packlog_decode_chunk(payload, len, &c) != 0)
            return 0;
        c.pack = lc->pack;
        r->report->chunk_records++;
        uint64_t h = hash_of(c.hash);
        known_chunk_t *k = calloc(1, sizeof *k);
        if (k == NULL)
            return r->rc = -ENOMEM;
        k->c = c;
        known_chunk_t *first = (known_chunk_t *)htab_find(&r->chunks, h, chunk_eq, c.hash);
        if (first != NULL) {
            k->alt = first->alt;
            first->alt = k;
        } else {
            htab_insert(&r->chunks, &k->link, h);
        }
    } else if (type == PACKLOG_OBJECT) {
        known_object_t *o = calloc(1, sizeof *o);
        if (o == NULL)
            return r->rc = -ENOMEM;
        if (store_packlog_decode_object(payload, len, &o->rec) != 0) {
            free(o);
            return 0;
        }
        uint64_t h = hash_bytes(o->rec.key, strlen(o->rec.key), REBUILD_HASH_SEED);
        known_object_t *old = (known_object_t *)htab_find(&r->objects, h, object_eq, o->rec.key);
        if (old != NULL && old->rec.seq >= o->rec.seq) {
            free(o);
            return 0;
        }
        if (old != NULL) {
            htab_remove(&r->objects, &old->link);
            free(old);
        }
        htab_insert(&r->objects, &o->link, h);
    }
    return 0;
}

static int read_log(store_packs_t *ps, uint32_t id, void *arg)
{
    rebuild_t *r = arg;
    r->report->packs++;
    if (!store_pack_has_log(ps, id)) {
        r->report->packs_without_log++;
        return 0;
    }
    if (r->nlogs == r->cap_logs) {
        size_t cap = r->cap_logs ? 2 * r->cap_logs : 16;
        buf_t *more = realloc(r->all_logs, cap * sizeof *more);
        if (more == NULL)
            return -ENOMEM;
        r->all_logs = more;
        r->cap_logs = cap;
    }
    buf_t *log = &r->all_logs[r->nlogs++];
    *log = (buf_t)BUF_INIT;
    int rc = store_pack_log_read(ps, id, log);
    if (rc != 0)
        return rc;
    log_ctx_t lc = {r, id};
    store_packlog_scan(log->base, log->len, take_record, &lc);
    return r->rc;
}

/* The first copy of a chunk whose stored bytes pass their recorded checksum (each copy is read
 * once), or NULL. */
static known_chunk_t *chunk_good(rebuild_t *r, known_chunk_t *first, buf_t *scratch)
{
    for (known_chunk_t *k = first; k != NULL; k = k->alt) {
        if (k->verdict == 0) {
            buf_reset(scratch);
            bool ok = buf_reserve(scratch, k->c.stored_size) == 0 &&
                      store_pack_read(r->packs, k->c.pack, k->c.offset, scratch->base, k->c.stored_size) == 0 &&
                      chunk_checksum(scratch->base, k->c.stored_size) == k->c.xxh3;
            k->verdict = ok ? 1 : -1;
            if (!ok)
                r->report->chunks_bad++;
        }
        if (k->verdict > 0)
            return k;
    }
    return NULL;
}

typedef struct restore_ctx {
    rebuild_t *r;
    store_index_t *ix;
    buf_t scratch;
    int rc;
} restore_ctx_t;

static int restore_object(htab_link_t *l, void *arg)
{
    restore_ctx_t *rc = arg;
    rebuild_t *r = rc->r;
    known_object_t *o = (known_object_t *)l;
    store_row_t row = {.info = o->rec.row.info};
    row.chunks = calloc(o->rec.nchunks ? o->rec.nchunks : 1, sizeof *row.chunks);
    if (row.chunks == NULL)
        return rc->rc = -ENOMEM;
    uint64_t total = 0;
    bool whole = true;
    for (size_t i = 0; whole && i < o->rec.nchunks; i++) {
        const uint8_t *h = o->rec.hashes + 32 * i;
        known_chunk_t *k = (known_chunk_t *)htab_find(&r->chunks, hash_of(h), chunk_eq, h);
        k = k != NULL ? chunk_good(r, k, &rc->scratch) : NULL;
        whole = k != NULL;
        if (whole) {
            row.chunks[i] = k->c;
            total += k->c.raw_size;
        }
    }
    row.nchunks = o->rec.nchunks;
    if (!whole || total != row.info.size) {
        r->report->objects_skipped++;
        LOG_W("repair: %s left out: a chunk of it is gone or damaged", o->rec.key);
        store_row_dispose(&row);
        return 0;
    }
    buf_t members = {(uint8_t *)o->rec.members, o->rec.members_len, o->rec.members_len};
    cache_err_t err = {0};
    int put = store_index_object_put(rc->ix, o->rec.key, &row,
                                     row.info.kind == MODKEY_ZIP && o->rec.members_len > 0 ? &members : NULL, &err);
    store_row_dispose(&row);
    if (put != 0) {
        LOG_E("repair: %s", err.msg);
        return rc->rc = put;
    }
    r->report->objects++;
    return 0;
}

static int free_entry(htab_link_t *l, void *arg)
{
    (void)arg;
    free(l);
    return 0;
}

static int free_chunk(htab_link_t *l, void *arg)
{
    (void)arg;
    known_chunk_t *k = (known_chunk_t *)l;
    while (k != NULL) {
        known_chunk_t *next = k->alt;
        free(k);
        k = next;
    }
    return 0;
}

/* Moves path (and its -wal and -shm) to path.damaged-<time>; the name used goes to out. */
static int move_aside(const char *path, char *out, size_t cap)
{
    struct stat st;
    out[0] = '\0';
    if (stat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    int n = snprintf(out, cap, "%s.damaged-%lld", path, (long long)time(NULL));
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return -ENAMETOOLONG;
    }
    if (rename(path, out) != 0)
        return -errno;
    const char *sfx[] = {"-wal", "-shm"};
    for (int i = 0; i < 2; i++) {
        char a[4200], b[4200];
        snprintf(a, sizeof a, "%s%s", path, sfx[i]);
        snprintf(b, sizeof b, "%s%s", out, sfx[i]);
        if (rename(a, b) != 0 && errno != ENOENT)
            return -errno;
    }
    return 0;
}

static int busy_check(store_packs_t *ps, uint32_t id, void *arg)
{
    (void)arg;
    int fd = store_pack_trylock(ps, id);
    if (fd == -EBUSY)
        return -EBUSY;
    if (fd >= 0)
        close(fd);
    return 0;
}

int store_repair(const char *dir, store_rebuild_report_t *report, cache_err_t *err)
{
    memset(report, 0, sizeof *report);
    char *packs_dir = path_join(dir, "packs");
    char *index_path = path_join(dir, "index.db");
    rebuild_t r = {.report = report};
    store_index_t *ix = NULL;
    int rc = 0;
    if (packs_dir == NULL || index_path == NULL || htab_init(&r.chunks, 4096) != 0 ||
        htab_init(&r.objects, 1024) != 0) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    struct stat st;
    if (stat(packs_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = cache_err_set(err, -ENOENT, "%s: no store there (no packs/)", dir);
        goto out;
    }
    if ((rc = store_packs_open(packs_dir, NULL, NULL, &r.packs, err)) != 0)
        goto out;
    if ((rc = store_packs_each(r.packs, busy_check, NULL)) != 0) {
        rc = cache_err_set(err, rc, "%s: another modfs process is writing to this store; stop it first", dir);
        goto out;
    }
    if ((rc = store_packs_each(r.packs, read_log, &r)) != 0) {
        cache_err_set(err, rc, "%s: reading the pack logs: %s", dir, strerror(-rc));
        goto out;
    }
    if ((rc = move_aside(index_path, report->moved_aside, sizeof report->moved_aside)) != 0) {
        cache_err_set(err, rc, "moving %s aside: %s", index_path, strerror(-rc));
        goto out;
    }
    if ((rc = store_index_open(index_path, &ix, err)) != 0)
        goto out;
    store_index_set_durable(ix, false);
    restore_ctx_t rctx = {.r = &r, .ix = ix, .scratch = BUF_INIT};
    htab_each(&r.objects, restore_object, &rctx);
    buf_dispose(&rctx.scratch);
    if ((rc = rctx.rc) != 0) {
        cache_err_set(err, rc, "%s: writing the new index: %s", dir, strerror(-rc));
        goto out;
    }
    if ((rc = store_index_set_durable(ix, true)) != 0)
        cache_err_set(err, rc, "%s: making the new index durable", dir);
out:
    store_index_close(ix);
    store_packs_close(r.packs);
    if (r.chunks.buckets)
        htab_each(&r.chunks, free_chunk, NULL);
    if (r.objects.buckets)
        htab_each(&r.objects, free_entry, NULL);
    htab_dispose(&r.chunks);
    htab_dispose(&r.objects);
    for (size_t i = 0; i < r.nlogs; i++)
        buf_dispose(&r.all_logs[i]);
    free(r.all_logs);
    free(packs_dir);
    free(index_path);
    return rc;
}
