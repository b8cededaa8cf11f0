/* SPDX-License-Identifier: MIT */
/*
 * flight.c — single-flight (cache_i.h): one upstream fetch per key at a time.
 *
 * Inside the process a table of flights, one per key being fetched: the first thread to miss a
 * key leads, later ones wait on the flight's condition variable and take the leader's result as
 * it is, so twenty concurrent misses of one zip cost one download and no second store lookup.
 * Across processes sharing a store, an exclusive flock on a lock file in <cache-dir>/locks chosen
 * by the key's hash: flock conflicts between separate open file descriptions even inside one
 * process, so the same lock serves a server and a `modfs get` run beside it. Keys share
 * FLIGHT_BUCKETS lock files: two unrelated keys in one bucket only wait for each other across
 * processes, which is rare and harmless.
 *
 * A second kind of flight hands out bytes instead of a stored object: the checksum database's
 * answers read while a module is verified, which must not be stored before the proof holds. They
 * share the table under keys of their own, and take no cross-process lock (nothing of theirs is
 * in the store to look at again).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_i.h"

#define FLIGHT_BUCKETS 4096
#define FLIGHT_HASH_SEED 0x666c /* "fl" */

struct cache_flight_entry {
    htab_link_t link;
    pthread_cond_t done_cv;
    unsigned refs;        /* the leader's and each waiter's; under flight.lock */
    bool done;            /* under flight.lock */
    int rc;
    cache_object_t *obj;  /* one reference held until the last waiter has taken its own */
    buf_t bytes;          /* a bytes flight's outcome, copied by each waiter */
    cache_err_t err;
    char key[];
};

struct cache_flight {
    int dirfd;
    pthread_mutex_t lock; /* the table and every entry's refs and done */
    htab_t table;
};

static bool entry_eq(const htab_link_t *l, const void *key)
{
    return strcmp(((const cache_flight_entry_t *)l)->key, key) == 0;
}

int cache_flight_open(const char *dir, cache_flight_t **out, cache_err_t *err)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cache_err_set(err, -errno, "create %s: %s", dir, strerror(errno));
    cache_flight_t *f = calloc(1, sizeof *f);
    if (f == NULL || htab_init(&f->table, 64) != 0) {
        free(f);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dirfd < 0) {
        int e = errno;
        htab_dispose(&f->table);
        free(f);
        return cache_err_set(err, -e, "open %s: %s", dir, strerror(e));
    }
    pthread_mutex_init(&f->lock, NULL);
    *out = f;
    return 0;
}

void cache_flight_close(cache_flight_t *f)
{
    if (f == NULL)
        return;
    close(f->dirfd);
    htab_dispose(&f->table);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* Drops one reference; the last one frees the entry. Called with f->lock held. */
static void entry_release_locked(cache_flight_entry_t *e, cache_object_t **unref)
{
    if (--e->refs > 0)
        return;
    *unref = e->obj;
    buf_dispose(&e->bytes);
    pthread_cond_destroy(&e->done_cv);
    free(e);
}

/* Joins the flight of key: true when the caller leads it (*entry is its flight, NULL when there was
 * no memory to share it), false once the leader has finished: then *entry is the finished flight,
 * still referenced by the caller, to be released with flight_release after reading it. */
static bool flight_join(cache_flight_t *f, const char *key, cache_flight_entry_t **entry)
{
    uint64_t hash = hash_bytes(key, strlen(key), FLIGHT_HASH_SEED);
    pthread_mutex_lock(&f->lock);
    cache_flight_entry_t *e = (cache_flight_entry_t *)htab_find(&f->table, hash, entry_eq, key);
    if (e == NULL) {
        size_t klen = strlen(key);
        e = calloc(1, sizeof *e + klen + 1);
        if (e == NULL) {
            /* no room to share the fetch: lead one alone, without waiters */
            pthread_mutex_unlock(&f->lock);
            *entry = NULL;
            return true;
        }
        memcpy(e->key, key, klen + 1);
        pthread_cond_init(&e->done_cv, NULL);
        e->refs = 1;
        htab_insert(&f->table, &e->link, hash);
        pthread_mutex_unlock(&f->lock);
        *entry = e;
        return true;
    }
    e->refs++;
    while (!e->done)
        pthread_cond_wait(&e->done_cv, &f->lock);
    pthread_mutex_unlock(&f->lock);
    *entry = e; /* done: its fields no longer change */
    return false;
}

static void flight_release(cache_flight_t *f, cache_flight_entry_t *e)
{
    cache_object_t *unref = NULL;
    pthread_mutex_lock(&f->lock);
    entry_release_locked(e, &unref);
    pthread_mutex_unlock(&f->lock);
    cache_object_unref(unref);
}

bool cache_flight_join(cache_flight_t *f, const char *key, cache_flight_entry_t **entry, int *rc,
                       cache_object_t **out, cache_err_t *err)
{
    cache_flight_entry_t *e;
    if (flight_join(f, key, &e)) {
        *entry = e;
        return true;
    }
    *rc = e->rc;
    *out = e->obj != NULL ? cache_object_ref(e->obj) : NULL;
    if (err != NULL)
        *err = e->err;
    flight_release(f, e);
    *entry = NULL;
    return false;
}

bool cache_flight_join_bytes(cache_flight_t *f, const char *key, cache_flight_entry_t **entry, int *rc, buf_t *out,
                             cache_err_t *err)
{
    cache_flight_entry_t *e;
    if (flight_join(f, key, &e)) {
        *entry = e;
        return true;
    }
    *rc = e->rc;
    buf_reset(out);
    if (*rc == 0 && e->bytes.len > 0 && buf_append(out, e->bytes.base, e->bytes.len) != 0)
        *rc = cache_err_set(err, -ENOMEM, "out of memory");
    else if (err != NULL)
        *err = e->err;
    flight_release(f, e);
    *entry = NULL;
    return false;
}

/* Ends the flight e with the outcome already stored in it: wakes every waiter. */
static void flight_end(cache_flight_t *f, cache_flight_entry_t *e)
{
    pthread_mutex_lock(&f->lock);
    htab_remove(&f->table, &e->link); /* from now on a miss starts a new flight */
    e->done = true;
    pthread_cond_broadcast(&e->done_cv);
    cache_object_t *unref = NULL;
    entry_release_locked(e, &unref);
    pthread_mutex_unlock(&f->lock);
    cache_object_unref(unref);
}

void cache_flight_finish(cache_flight_t *f, cache_flight_entry_t *e, int rc, cache_object_t *obj,
                         const cache_err_t *err)
{
    if (e == NULL)
        return;
    /* The fields are the leader's until done is set, and nobody else's after. */
    e->rc = rc;
    e->obj = obj != NULL ? cache_object_ref(obj) : NULL;
    if (err != NULL)
        e->err = *err;
    flight_end(f, e);
}

void cache_flight_finish_bytes(cache_flight_t *f, cache_flight_entry_t *e, int rc, slice_t bytes,
                               const cache_err_t *err)
{
    if (e == NULL)
        return;
    e->rc = rc;
    if (err != NULL)
        e->err = *err;
    if (rc == 0 && bytes.len > 0 && buf_append(&e->bytes, bytes.base, bytes.len) != 0)
        e->rc = cache_err_set(&e->err, -ENOMEM, "out of memory");
    flight_end(f, e);
}

/* While another process holds a lock, it is tried again every few milliseconds, up to
 * FLIGHT_POLL_MAX_MS apart: a blocking flock could not be interrupted at shutdown, and the wait
 * it replaces is an upstream fetch, next to which the polling delay is noise. */
#define FLIGHT_POLL_FIRST_MS 2
#define FLIGHT_POLL_MAX_MS 50

int cache_flight_lock(cache_flight_t *f, const char *key, const atomic_bool *cancel, bool *waited)
{
    char name[16];
    snprintf(name, sizeof name, "%03x.lock", (unsigned)(hash_bytes(key, strlen(key), 0) % FLIGHT_BUCKETS));
    int fd = openat(f->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    *waited = false;
    long delay_ms = FLIGHT_POLL_FIRST_MS;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int e = errno;
            close(fd);
            return -e;
        }
        *waited = true;
        if (cancel != NULL && atomic_load(cancel)) {
            close(fd);
            return -ECANCELED;
        }
        struct timespec ts = {.tv_sec = 0, .tv_nsec = delay_ms * 1000000L};
        nanosleep(&ts, NULL);
        delay_ms = delay_ms * 2 > FLIGHT_POLL_MAX_MS ? FLIGHT_POLL_MAX_MS : delay_ms * 2;
    }
}

void cache_flight_unlock(int token)
{
    if (token >= 0)
        close(token); /* closing the last fd of the open file description drops the flock */
}
