/* SPDX-License-Identifier: MIT */
/*
 * pack.c — pack files and their logs (store_i.h): one writable pack per process (held by flock),
 * read-only fds cached per pack id so a read is a single pread with no lock taken.
 *
 * packs/NNNNNNNN.pack holds chunk bytes back to back; packs/NNNNNNNN.log says what they are
 * (packlog.c), so the index can be rebuilt from the packs alone. Every chunk is appended to the
 * pack and recorded in the log under one lock, in the same order; both files are synced together
 * before any index commit that points into them. A crash leaves at most bytes past the last
 * indexed chunk (and their log records), which the next open cuts off.
 * Packs written before logs existed have none; they are read as ever but never written to again.
 */
#include "store_i.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct store_packs {
    int dirfd;
    store_pack_end_fn referenced_end;
    void *referenced_arg;

    pthread_mutex_t write_lock; /* protects the fields below */
    int write_fd;               /* -1 until the first append */
    int write_log_fd;
    uint32_t write_id;
    uint64_t write_size;
    uint64_t write_log_size;
    uint64_t segment;           /* a pack is closed for writing past this size */
    int unsynced_fd;            /* a rotated-out pack not yet synced, or -1 */
    int unsynced_log_fd;
    uint32_t unsynced_id;
    /* Packs holding bytes of writes not yet committed (store_pack_hold): not this process's to
     * delete, and their flock'd fds are kept past rotation so no other process deletes or cuts
     * them either. */
    struct pack_hold *holds;
    size_t nholds, holds_cap;
    buf_t record;               /* scratch for one chunk record */
    /* Group sync (store_pack_sync): appends are counted; one thread at a time syncs, outside the
     * lock, everything appended when it began, and every writer whose appends that covers takes
     * the same fdatasync as its own. */
    uint64_t appended;          /* appends (chunks and log records) so far */
    uint64_t synced;            /* the appends known durable */
    uint64_t sync_failed;       /* the appends a failed sync covered: never reported durable */
    bool syncing;
    pthread_cond_t sync_cv;     /* a sync ended */

    pthread_mutex_t open_lock;  /* serialises opening read fds; protects retired */
    _Atomic int read_fds[PACK_MAX_COUNT]; /* 0 = not open yet; fd+1 otherwise */
    /* Read fds taken out of their slot: closed only with the set, since a reader on another
     * thread may still be in pread on one. Few: a pack lost, or renumbered by another process. */
    buf_t retired;
};

typedef struct pack_hold {
    uint32_t id;
    unsigned count;     /* writes with uncommitted bytes in the pack */
    int fd, log_fd;     /* the writer's flock'd fds, kept after rotation; -1 while still writing */
} pack_hold_t;

static void pack_name(uint32_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%08u.pack", id);
}

static void log_name(uint32_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%08u.log", id);
}

int store_packs_open(const char *dir, store_pack_end_fn referenced_end, void *arg, store_packs_t **out,
                     cache_err_t *err)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cache_err_set(err, -errno, "create %s: %s", dir, strerror(errno));
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return cache_err_set(err, -errno, "open %s: %s", dir, strerror(errno));
    store_packs_t *ps = calloc(1, sizeof *ps);
    if (ps == NULL) {
        close(dirfd);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    ps->dirfd = dirfd;
    ps->referenced_end = referenced_end;
    ps->referenced_arg = arg;
    ps->write_fd = ps->write_log_fd = -1;
    ps->unsynced_fd = ps->unsynced_log_fd = -1;
    ps->segment = PACK_MAX_BYTES;
    pthread_mutex_init(&ps->write_lock, NULL);
    pthread_mutex_init(&ps->open_lock, NULL);
    pthread_cond_init(&ps->sync_cv, NULL);
    *out = ps;
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static pack_hold_t *hold_find(store_packs_t *ps, uint32_t id)
{
    for (size_t i = 0; i < ps->nholds; i++)
        if (ps->holds[i].id == id)
            return &ps->holds[i];
    return NULL;
}

/* Lets go of the writer's fds of pack id (rotated out and synced): closed, or kept by its hold
 * until the writes in it are committed. Called with write_lock held. */
static void writer_fds_release(store_packs_t *ps, uint32_t id, int *fd, int *log_fd)
{
    pack_hold_t *h = hold_find(ps, id);
    if (h != NULL && h->fd < 0) {
        h->fd = *fd;
        h->log_fd = *log_fd;
        *fd = *log_fd = -1;
        return;
    }
    close_fd(fd);
    close_fd(log_fd);
}

void store_packs_close(store_packs_t *ps)
{
    if (ps == NULL)
        return;
    close_fd(&ps->write_fd); /* releases the flock */
    close_fd(&ps->write_log_fd);
    close_fd(&ps->unsynced_fd);
    close_fd(&ps->unsynced_log_fd);
    for (size_t i = 0; i < ps->nholds; i++) {
        close_fd(&ps->holds[i].fd);
        close_fd(&ps->holds[i].log_fd);
    }
    free(ps->holds);
    for (size_t i = 0; i < PACK_MAX_COUNT; i++) {
        int v = atomic_load(&ps->read_fds[i]);
        if (v > 0)
            close(v - 1);
    }
    const int *retired = (const int *)(void *)ps->retired.base;
    for (size_t i = 0; i < ps->retired.len / sizeof *retired; i++)
        close(retired[i]);
    close(ps->dirfd);
    buf_dispose(&ps->record);
    buf_dispose(&ps->retired);
    pthread_mutex_destroy(&ps->write_lock);
    pthread_mutex_destroy(&ps->open_lock);
    pthread_cond_destroy(&ps->sync_cv);
    free(ps);
}

int store_packs_each(store_packs_t *ps, int (*fn)(store_packs_t *ps, uint32_t id, void *arg), void *arg)
{
    int fd = openat(ps->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return -e;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        unsigned id;
        char tail[8];
        if (sscanf(e->d_name, "%8u.%7s", &id, tail) == 2 && strcmp(tail, "pack") == 0 && strlen(e->d_name) == 13 &&
            id > 0 && id < PACK_MAX_COUNT)
            rc = fn(ps, id, arg);
    }
    closedir(d);
    return rc;
}

static int write_all(int fd, const void *data, size_t len, uint64_t off)
{
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(fd, p + done, len - done, (off_t)(off + done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        done += (size_t)w;
    }
    return 0;
}

int store_pack_log_read(store_packs_t *ps, uint32_t id, buf_t *out)
{
    char name[32];
    log_name(id, name, sizeof name);
    int fd = openat(ps->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    for (;;) {
        if ((rc = buf_reserve(out, 65536)) != 0)
            break;
        ssize_t r = read(fd, out->base + out->len, out->cap - out->len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            break;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
    }
    close(fd);
    return rc;
}

/* Keeps the records of a log that do not point past the pack's end. */
typedef struct log_cut {
    uint64_t end;
    const uint8_t *log;
    buf_t kept;
    int rc;
} log_cut_t;

static int log_cut_record(void *arg, int type, const uint8_t *payload, size_t len, uint64_t offset)
{
    log_cut_t *c = arg;
    store_chunk_t ch;
    if (type == PACKLOG_CHUNK &&
        (store_packlog_decode_chunk(payload, len, &ch) != 0 || ch.offset + ch.stored_size > c->end))
        return 0;
    c->rc = buf_append(&c->kept, c->log + offset, len + PACKLOG_RECORD_OVERHEAD);
    return c->rc;
}

/* Rewrites pack id's log without the records of chunks past end (written, never committed): a
 * new file renamed into place, so a crash leaves the old log or the new one. */
static int log_cut(store_packs_t *ps, uint32_t id, uint64_t end, cache_err_t *err)
{
    char name[32], tmp[40];
    log_name(id, name, sizeof name);
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    buf_t log = BUF_INIT;
    int rc = store_pack_log_read(ps, id, &log);
    if (rc == -ENOENT)
        return 0;
    log_cut_t c = {.end = end, .log = log.base, .kept = BUF_INIT};
    uint64_t good = rc == 0 ? store_packlog_scan(log.base, log.len, log_cut_record, &c) : 0;
    if (rc == 0 && c.rc != 0)
        rc = c.rc;
    if (rc == 0 && (c.kept.len != log.len || good != log.len)) {
        int fd = openat(ps->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            rc = -errno;
        if (rc == 0)
            rc = write_all(fd, c.kept.base, c.kept.len, 0);
        if (rc == 0 && fdatasync(fd) != 0)
            rc = -errno;
        if (rc == 0 && renameat(ps->dirfd, tmp, ps->dirfd, name) != 0)
            rc = -errno;
        if (fd >= 0)
            close(fd);
        if (rc == 0)
            LOG_I("pack log %s: dropped %zu bytes of records of unindexed chunks", name, log.len - c.kept.len);
    }
    buf_dispose(&log);
    buf_dispose(&c.kept);
    if (rc != 0)
        return cache_err_set(err, rc, "rewrite pack log %s: %s", name, strerror(-rc));
    return 0;
}

/*
 * Cuts the tail of pack id (open as fd and flock'd by the caller, so no live writer's bytes are
 * there) back to where its indexed bytes end, and its log with it: bytes past the last indexed
 * chunk were written by a process that died before its index commit, and nothing refers to them.
 * Returns 0 with *end set, 1 when the pack is shorter than its index says (not to be written
 * to), or -errno.
 */
static int pack_reclaim_tail(store_packs_t *ps, int fd, uint32_t id, uint64_t *end, cache_err_t *err)
{
    char name[32];
    pack_name(id, name, sizeof name);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cache_err_set(err, -errno, "stat pack %s: %s", name, strerror(errno));
    int rc = ps->referenced_end(ps->referenced_arg, id, end);
    if (rc != 0)
        return cache_err_set(err, rc, "pack %s: cannot read index", name);
    if ((uint64_t)st.st_size > *end) {
        if (ftruncate(fd, (off_t)*end) != 0)
            return cache_err_set(err, -errno, "truncate pack %s: %s", name, strerror(errno));
        LOG_I("pack %s: reclaimed %llu unindexed bytes", name, (unsigned long long)((uint64_t)st.st_size - *end));
        if ((rc = log_cut(ps, id, *end, err)) != 0)
            return rc;
    } else if ((uint64_t)st.st_size < *end) {
        LOG_W("pack %s is shorter than its index says (%llu < %llu); not writing to it", name,
              (unsigned long long)st.st_size, (unsigned long long)*end);
        return 1;
    }
    return 0;
}

typedef struct reclaim_ctx {
    cache_err_t *err;
} reclaim_ctx_t;

static int reclaim_one(store_packs_t *ps, uint32_t id, void *arg)
{
    reclaim_ctx_t *r = arg;
    char name[32];
    pack_name(id, name, sizeof name);
    int fd = openat(ps->dirfd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : cache_err_set(r->err, -errno, "open pack %s: %s", name, strerror(errno));
    int rc = 0;
    uint64_t end;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) /* else another process writes here: its tail is live */
        rc = pack_reclaim_tail(ps, fd, id, &end, r->err) < 0 ? -EIO : 0;
    close(fd);
    return rc;
}

int store_packs_reclaim(store_packs_t *ps, cache_err_t *err)
{
    reclaim_ctx_t r = {err};
    return store_packs_each(ps, reclaim_one, &r);
}

/*
 * Finds a pack this process may append to: the first pack below the size limit that no other
 * process holds and that has a log (or is new), appended to at its end; else a new one. Called
 * with write_lock held.
 */
static int writer_adopt(store_packs_t *ps, cache_err_t *err)
{
    for (uint32_t id = 1; id < PACK_MAX_COUNT; id++) {
        char name[32], lname[32];
        pack_name(id, name, sizeof name);
        log_name(id, lname, sizeof lname);
        int fd = openat(ps->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return cache_err_set(err, -errno, "open pack %s: %s", name, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd); /* another process writes here */
            continue;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || (uint64_t)st.st_size >= ps->segment) {
            close(fd);
            continue;
        }
        int lfd = openat(ps->dirfd, lname, O_RDWR | O_CLOEXEC);
        if (lfd < 0 && errno == ENOENT && st.st_size == 0)
            lfd = openat(ps->dirfd, lname, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lfd < 0) {
            close(fd); /* a pack from before logs: read, never written to again */
            continue;
        }
        /* Only a pack whose indexed bytes reach its end is appended to, and it is never cut
         * back first: past the bytes the index names there may be chunks that gc or compaction
         * has just taken out of the index while an open object still reads them, and a pack
         * with a dead tail is compaction's to give back, not a place for new bytes. What a crash
         * left is cut at open (store_packs_reclaim), before anything can read it. */
        uint64_t end = 0;
        int rc = ps->referenced_end(ps->referenced_arg, id, &end);
        if (rc != 0)
            rc = cache_err_set(err, rc, "pack %s: cannot read index", name);
        else if ((uint64_t)st.st_size != end)
            rc = 1; /* a dead tail, or shorter than the index says (healed on its first read) */
        struct stat lst;
        if (rc == 0 && fstat(lfd, &lst) != 0)
            rc = cache_err_set(err, -errno, "stat pack log %s: %s", lname, strerror(errno));
        if (rc != 0) {
            close(fd);
            close(lfd);
            if (rc < 0)
                return rc;
            continue;
        }
        ps->write_fd = fd;
        ps->write_log_fd = lfd;
        ps->write_id = id;
        ps->write_size = end;
        ps->write_log_size = (uint64_t)lst.st_size;
        return 0;
    }
    return cache_err_set(err, -ENOSPC, "no pack slot left (%d packs)", PACK_MAX_COUNT);
}

/* A writable pack with room for len more bytes, rotating to a new one when the current is full.
 * Called with write_lock held. */
static int writer_ready(store_packs_t *ps, size_t len, cache_err_t *err)
{
    if (ps->write_fd >= 0 && ps->write_size + len > ps->segment && ps->write_size > 0) {
        /* Rotate: keep the old fds until the next sync makes their bytes durable. */
        if (ps->unsynced_fd >= 0) {
            if (fdatasync(ps->unsynced_fd) != 0 || fdatasync(ps->unsynced_log_fd) != 0)
                return cache_err_set(err, -errno, "sync pack: %s", strerror(errno));
            writer_fds_release(ps, ps->unsynced_id, &ps->unsynced_fd, &ps->unsynced_log_fd);
        }
        ps->unsynced_fd = ps->write_fd;
        ps->unsynced_log_fd = ps->write_log_fd;
        ps->unsynced_id = ps->write_id;
        ps->write_fd = ps->write_log_fd = -1;
    }
    return ps->write_fd < 0 ? writer_adopt(ps, err) : 0;
}

/* Counts one more uncommitted write in pack id. Called with write_lock held. */
static int hold_add(store_packs_t *ps, uint32_t id)
{
    pack_hold_t *h = hold_find(ps, id);
    if (h == NULL) {
        if (ps->nholds == ps->holds_cap) {
            size_t cap = ps->holds_cap ? 2 * ps->holds_cap : 8;
            pack_hold_t *more = realloc(ps->holds, cap * sizeof *more);
            if (more == NULL)
                return -ENOMEM;
            ps->holds = more;
            ps->holds_cap = cap;
        }
        h = &ps->holds[ps->nholds++];
        *h = (pack_hold_t){.id = id, .fd = -1, .log_fd = -1};
    }
    h->count++;
    return 0;
}

int store_pack_append(store_packs_t *ps, const void *data, store_chunk_t *c, store_pack_holds_t *holds,
                      cache_err_t *err)
{
    pthread_mutex_lock(&ps->write_lock);
    int rc = writer_ready(ps, c->stored_size, err);
    if (rc == 0 && (rc = write_all(ps->write_fd, data, c->stored_size, ps->write_size)) != 0)
        cache_err_set(err, rc, "write pack %08u: %s", ps->write_id, strerror(-rc));
    if (rc == 0) {
        c->pack = ps->write_id;
        c->offset = ps->write_size;
        buf_reset(&ps->record);
        if ((rc = store_packlog_chunk(&ps->record, c)) != 0 ||
            (rc = write_all(ps->write_log_fd, ps->record.base, ps->record.len, ps->write_log_size)) != 0)
            cache_err_set(err, rc, "write pack log %08u: %s", ps->write_id, strerror(-rc));
    }
    if (rc == 0) {
        ps->write_size += c->stored_size;
        ps->write_log_size += ps->record.len;
        ps->appended++;
    }
    if (rc == 0 && holds != NULL) {
        bool held = false;
        for (size_t i = 0; i < holds->n && !held; i++)
            held = holds->ids[i] == c->pack;
        if (!held && (holds->n == STORE_PACK_HOLDS_MAX || hold_add(ps, c->pack) != 0))
            rc = cache_err_set(err, -ENOMEM, "too many packs held by one write");
        else if (!held)
            holds->ids[holds->n++] = c->pack;
    }
    pthread_mutex_unlock(&ps->write_lock);
    return rc;
}

void store_pack_unhold(store_packs_t *ps, store_pack_holds_t *holds)
{
    pthread_mutex_lock(&ps->write_lock);
    for (size_t i = 0; i < holds->n; i++) {
        pack_hold_t *h = hold_find(ps, holds->ids[i]);
        if (h == NULL || --h->count > 0)
            continue;
        close_fd(&h->fd);
        close_fd(&h->log_fd);
        *h = ps->holds[--ps->nholds];
    }
    holds->n = 0;
    pthread_mutex_unlock(&ps->write_lock);
}

int store_pack_log(store_packs_t *ps, const buf_t *records, cache_err_t *err)
{
    pthread_mutex_lock(&ps->write_lock);
    int rc = writer_ready(ps, 0, err);
    if (rc == 0 && (rc = write_all(ps->write_log_fd, records->base, records->len, ps->write_log_size)) != 0)
        cache_err_set(err, rc, "write pack log %08u: %s", ps->write_id, strerror(-rc));
    if (rc == 0) {
        ps->write_log_size += records->len;
        ps->appended++;
    }
    pthread_mutex_unlock(&ps->write_lock);
    return rc;
}

/* fdatasync of each fd; 0 or -errno of the first failure (every fd is still synced). */
static int sync_fds(const int *fds, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (fdatasync(fds[i]) != 0 && rc == 0)
            rc = -errno;
    return rc;
}

/*
 * Group sync. The caller's appends are among the first `want`; a sync that began after them
 * covers them. The syncing thread takes copies (dup) of the fds of the rotated-out pack and of
 * the writable one and the count of appends so far under the lock, then syncs without it, so
 * appends (other ingests' chunks) go on meanwhile and their writers find, when they come to
 * sync, one sync under way and the next covering them all. Every append counted was written
 * to one of those two packs, or to an older one that a rotation already synced (writer_ready).
 */
int store_pack_sync(store_packs_t *ps, cache_err_t *err)
{
    int rc = 0;
    pthread_mutex_lock(&ps->write_lock);
    uint64_t want = ps->appended;
    while (rc == 0 && ps->synced < want) {
        if (want <= ps->sync_failed) {
            rc = cache_err_set(err, -EIO, "sync pack: an earlier sync of these bytes failed");
            break;
        }
        if (ps->syncing) {
            pthread_cond_wait(&ps->sync_cv, &ps->write_lock);
            continue;
        }
        uint64_t target = ps->appended;
        int fds[4];
        size_t n = 0;
        uint32_t rotated = ps->unsynced_fd >= 0 ? ps->unsynced_id : 0;
        int from[4] = {ps->unsynced_fd, ps->unsynced_log_fd, ps->write_fd, ps->write_log_fd};
        for (size_t i = 0; i < 4 && rc == 0; i++)
            if (from[i] >= 0 && (fds[n] = fcntl(from[i], F_DUPFD_CLOEXEC, 0)) >= 0)
                n++;
            else if (from[i] >= 0)
                rc = cache_err_set(err, -errno, "sync pack: %s", strerror(errno));
        if (rc == 0) {
            ps->syncing = true;
            pthread_mutex_unlock(&ps->write_lock);
            STORE_FAULT("pack-sync-begun");
            rc = sync_fds(fds, n);
            pthread_mutex_lock(&ps->write_lock);
            ps->syncing = false;
            if (rc != 0) {
                if (target > ps->sync_failed)
                    ps->sync_failed = target;
                cache_err_set(err, rc, "sync pack %08u: %s", ps->write_id, strerror(-rc));
            } else if (target > ps->synced) {
                ps->synced = target;
            }
            /* the rotated-out pack is durable: its fds may go (unless a rotation since did that) */
            if (rc == 0 && rotated != 0 && ps->unsynced_fd >= 0 && ps->unsynced_id == rotated)
                writer_fds_release(ps, rotated, &ps->unsynced_fd, &ps->unsynced_log_fd);
            pthread_cond_broadcast(&ps->sync_cv);
        }
        for (size_t i = 0; i < n; i++)
            close(fds[i]);
    }
    pthread_mutex_unlock(&ps->write_lock);
    return rc;
}

static int read_fd(store_packs_t *ps, uint32_t id)
{
    if (id == 0 || id >= PACK_MAX_COUNT)
        return -ENOENT;
    int v = atomic_load_explicit(&ps->read_fds[id], memory_order_acquire);
    if (v > 0)
        return v - 1;
    pthread_mutex_lock(&ps->open_lock);
    v = atomic_load(&ps->read_fds[id]);
    if (v == 0) {
        char name[32];
        pack_name(id, name, sizeof name);
        int fd = openat(ps->dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            pthread_mutex_unlock(&ps->open_lock);
            return -e;
        }
        v = fd + 1;
        atomic_store_explicit(&ps->read_fds[id], v, memory_order_release);
    }
    pthread_mutex_unlock(&ps->open_lock);
    return v - 1;
}

int store_pack_read(store_packs_t *ps, uint32_t pack_id, uint64_t off, void *buf, size_t len)
{
    int fd = read_fd(ps, pack_id);
    if (fd < 0)
        return fd == -ENOENT ? -ENOENT : -EIO;
    uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, p + done, len - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -EIO;
        }
        if (r == 0)
            return -ESPIPE; /* the index points past the end of the pack */
        done += (size_t)r;
    }
    return 0;
}

/* Empties slot id, keeping its fd open until the set closes. Called with open_lock held. */
static void slot_retire(store_packs_t *ps, uint32_t id)
{
    int v = atomic_exchange(&ps->read_fds[id], 0);
    if (v > 0) {
        int fd = v - 1;
        if (buf_append(&ps->retired, &fd, sizeof fd) != 0)
            close(fd); /* out of memory: a reader in pread on it gets EBADF, an error it handles */
    }
}

void store_pack_forget(store_packs_t *ps, uint32_t id)
{
    if (id == 0 || id >= PACK_MAX_COUNT)
        return;
    /* Only the slot is cleared, so the next read opens the file again or finds it gone. */
    pthread_mutex_lock(&ps->open_lock);
    slot_retire(ps, id);
    pthread_mutex_unlock(&ps->open_lock);
}

bool store_pack_reopened(store_packs_t *ps, uint32_t id)
{
    if (id == 0 || id >= PACK_MAX_COUNT)
        return false;
    char name[32];
    pack_name(id, name, sizeof name);
    bool replaced = false;
    pthread_mutex_lock(&ps->open_lock);
    int v = atomic_load(&ps->read_fds[id]);
    struct stat held, named;
    if (v > 0 && fstat(v - 1, &held) == 0 &&
        (fstatat(ps->dirfd, name, &named, 0) != 0 || held.st_ino != named.st_ino || held.st_dev != named.st_dev)) {
        slot_retire(ps, id);
        replaced = true;
    }
    pthread_mutex_unlock(&ps->open_lock);
    return replaced;
}

void store_packs_set_segment(store_packs_t *ps, uint64_t bytes)
{
    pthread_mutex_lock(&ps->write_lock);
    ps->segment = bytes;
    pthread_mutex_unlock(&ps->write_lock);
}

bool store_pack_is_writing(store_packs_t *ps, uint32_t id)
{
    pthread_mutex_lock(&ps->write_lock);
    bool w = (ps->write_fd >= 0 && ps->write_id == id) || (ps->unsynced_fd >= 0 && ps->unsynced_id == id) ||
             hold_find(ps, id) != NULL;
    pthread_mutex_unlock(&ps->write_lock);
    return w;
}

int store_pack_remove(store_packs_t *ps, uint32_t id)
{
    char name[32], lname[32];
    pack_name(id, name, sizeof name);
    log_name(id, lname, sizeof lname);
    int rc = unlinkat(ps->dirfd, lname, 0) != 0 && errno != ENOENT ? -errno : 0;
    if (unlinkat(ps->dirfd, name, 0) != 0 && errno != ENOENT)
        rc = -errno;
    return rc;
}

bool store_pack_has_log(store_packs_t *ps, uint32_t id)
{
    char name[32];
    log_name(id, name, sizeof name);
    return faccessat(ps->dirfd, name, F_OK, 0) == 0;
}

int store_pack_trylock(store_packs_t *ps, uint32_t id)
{
    char name[32];
    pack_name(id, name, sizeof name);
    int fd = openat(ps->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -EBUSY;
    }
    return fd;
}

int store_pack_size(store_packs_t *ps, uint32_t id, uint64_t *size)
{
    char name[32];
    pack_name(id, name, sizeof name);
    struct stat st;
    if (fstatat(ps->dirfd, name, &st, 0) != 0)
        return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

uint64_t store_packs_disk_bytes(store_packs_t *ps)
{
    /* A directory stream of its own: a dup() would share the read position with every other
     * caller, and two scans at once would each see part of the directory. */
    int fd = openat(ps->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return 0;
    }
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] != '.' && fstatat(ps->dirfd, e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_blocks * 512;
    }
    closedir(d);
    return total;
}
