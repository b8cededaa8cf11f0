/* SPDX-License-Identifier: MIT */
/*
 * arrival.c — a zip body worked on while it arrives (cache_i.h: cache_arrival_*): the fetch's
 * transfer thread hands each piece to the sink (upstream_sink_t), which copies it into one buffer;
 * a worker thread meanwhile hashes the body (the object's SHA-256, which the store would otherwise
 * compute after the checks) and walks the zip's members (zipstream_step: inflate, CRC-32 and
 * SHA-256 of each member as soon as its bytes are in). When the transfer ends the walk stops, so
 * that the members it has not reached are shared among the cores by zipfile_parse_streamed, which
 * judges the whole body by every rule as before. Nothing is stored or served before that.
 *
 * Why a buffer and not the temporary file: the body is read as it arrives, while a retry may
 * empty the file under the reader; and the checks then read it from memory instead of reading
 * back what was just written. The buffer is reserved at the body limit (MAP_NORESERVE: only the
 * pages written cost memory) so it never moves while the worker reads it. A body that does not
 * arrive in one piece-by-piece run from offset 0 (a retry or the next proxy starts over, or the
 * go command fetches it) is left to the file: the sink declines every later piece, the worker
 * stops, and the ingest reads the file as it always did.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/evp.h>

#include "cache_i.h"

struct cache_arrival {
    upstream_sink_t sink;
    uint8_t *buf; /* cap bytes reserved; [0, arrived) written */
    size_t cap;
    zipstream_t *walk;
    EVP_MD_CTX *md;
    uint8_t sha256[32];
    bool hashed; /* sha256 is the whole body's */

    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint64_t arrived;     /* under mu */
    bool over;            /* under mu: the transfer ended */
    bool broken;          /* under mu: the body went to the file (see the top of this file) */
    bool waiting;         /* under mu: the worker sleeps on cond */
    atomic_bool stop;     /* the walk should end now (over or broken) */
    pthread_t thread;
    bool started;
};

/* The sink (the fetch's transfer thread, one attempt at a time): keeps the piece when it continues
 * the body, else declines it for good. The worker reads only [0, arrived), so the copy needs no
 * lock. */
static int arrival_take(void *arg, uint64_t offset, const uint8_t *p, size_t n)
{
    cache_arrival_t *a = arg;
    pthread_mutex_lock(&a->mu);
    bool keep = !a->broken && offset == a->arrived && n <= a->cap - offset;
    if (!keep && !a->broken) {
        a->broken = true;
        atomic_store(&a->stop, true);
        pthread_cond_signal(&a->cond);
    }
    pthread_mutex_unlock(&a->mu);
    if (!keep)
        return 0;
    memcpy(a->buf + offset, p, n);
    pthread_mutex_lock(&a->mu);
    a->arrived += n;
    if (a->waiting)
        pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->mu);
    return 1;
}

static void *arrival_work(void *arg)
{
    cache_arrival_t *a = arg;
    uint64_t hashed = 0;
    bool ok = EVP_DigestInit_ex(a->md, EVP_sha256(), NULL) == 1, walking = true;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        uint64_t in = a->arrived;
        if (a->broken)
            break;
        if (in == hashed && !a->over) {
            a->waiting = true;
            pthread_cond_wait(&a->cond, &a->mu);
            a->waiting = false;
            continue;
        }
        bool over = a->over;
        pthread_mutex_unlock(&a->mu);
        /* the body's hash first: it keeps up with any transfer, the walk may not */
        ok = ok && EVP_DigestUpdate(a->md, a->buf + hashed, in - hashed) == 1;
        hashed = in;
        while (walking && !atomic_load(&a->stop)) {
            int r = zipstream_step(a->walk, a->buf, in);
            if (r < 0)
                walking = false;
            if (r <= 0)
                break;
        }
        pthread_mutex_lock(&a->mu);
        if (over && a->arrived == hashed)
            break;
    }
    bool whole = !a->broken && a->over && a->arrived == hashed;
    pthread_mutex_unlock(&a->mu);
    unsigned int n = 0;
    a->hashed = ok && whole && EVP_DigestFinal_ex(a->md, a->sha256, &n) == 1 && n == 32;
    return NULL;
}

int cache_arrival_start(uint64_t limit, cache_arrival_t **out, cache_err_t *err)
{
    cache_arrival_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->cap = (size_t)limit;
    a->buf = mmap(NULL, a->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a->buf == MAP_FAILED) {
        a->buf = NULL;
        cache_arrival_free(a);
        return cache_err_set(err, -ENOMEM, "out of memory for a body of up to %llu bytes",
                             (unsigned long long)limit);
    }
    a->md = EVP_MD_CTX_new();
    if (a->md == NULL || zipstream_new(&a->walk) != 0) {
        cache_arrival_free(a);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    a->sink.take = arrival_take;
    a->sink.arg = a;
    a->started = pthread_create(&a->thread, NULL, arrival_work, a) == 0;
    if (!a->started)
        a->broken = true; /* no worker: the body goes to the file, as without this */
    *out = a;
    return 0;
}

const upstream_sink_t *cache_arrival_sink(cache_arrival_t *a)
{
    return &a->sink;
}

bool cache_arrival_finish(cache_arrival_t *a, const upstream_result_t *res)
{
    pthread_mutex_lock(&a->mu);
    a->over = true;
    atomic_store(&a->stop, true);
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->mu);
    if (a->started) {
        pthread_join(a->thread, NULL);
        a->started = false;
    }
    zipstream_end(a->walk);
    /* the body is the buffer only when every byte of the answer came through the sink: a
     * body the go command wrote, or one after a start-over, is in the file */
    return !a->broken && a->hashed && a->arrived == res->bytes && strcmp(res->url, "direct") != 0;
}

const uint8_t *cache_arrival_body(const cache_arrival_t *a, size_t *len, const uint8_t **sha256,
                                  const zipstream_t **walk)
{
    *len = (size_t)a->arrived;
    *sha256 = a->sha256;
    *walk = a->walk;
    return a->buf;
}

void cache_arrival_free(cache_arrival_t *a)
{
    if (a == NULL)
        return;
    if (a->started) {
        pthread_mutex_lock(&a->mu);
        a->over = true;
        atomic_store(&a->stop, true);
        pthread_cond_signal(&a->cond);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
    }
    if (a->buf != NULL)
        munmap(a->buf, a->cap);
    EVP_MD_CTX_free(a->md);
    zipstream_free(a->walk);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->mu);
    free(a);
}
