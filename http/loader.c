/* SPDX-License-Identifier: MIT */
/*
 * loader.c — loading a popular zip into memory off the event loops.
 *
 * The second whole read of a zip loads it into memory (cache_object_load_begin/run): up to
 * 32 MiB read from the packs and checked chunk by chunk, tens of milliseconds during which a loop
 * that did it itself would answer nobody else. The loop only claims the load (begin, which never
 * reads) and hands it here; the request waits for it, parked, while its loop goes on with every
 * other connection; the result comes back to that loop through h2o's multithread queue, where
 * the request is answered (only a loop thread may touch an h2o_req_t). The request waits rather
 * than being streamed at once because the load checks every chunk before the status line goes
 * out: a damaged copy is then fetched again and answered whole, where a stream already under way
 * could only be cut short.
 *
 * One thread and a short queue: loads are disk reads and checksums, not waits on a network, the
 * store's memory budget bounds the bytes in flight, each handle has one load at a time (the
 * claim), and a load that finds the queue full is cancelled and its request streamed as a first
 * read would be. The fetch workers are not used for this: a hit must not wait behind misses that
 * hang on upstream.
 *
 * The request may die while its load runs. As with fetch jobs (fetch_worker.c), a guard in the
 * request's pool clears job->req when the pool goes, the job has two references (the guard's and
 * the loader's), both released on the loop thread, and every job comes back to its loop, even at
 * shutdown (cancelled then), so the loop's jobs_pending drains to zero before it is disposed. The
 * job holds its own reference to the object, so a load outlives its request safely, and the bytes
 * it loaded stay with the handle for the next hit.
 */
#include "http_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct http_load_job http_load_job_t;
struct http_load_job {
    h2o_multithread_message_t msg; /* link used to come back to the loop */
    struct http_load_job *next;    /* the queue, under loader->mu */
    http_thread_t *thread;         /* the loop that owns the request */
    h2o_req_t *req;                /* NULL once the request is gone; loop thread only */
    unsigned refs;                 /* loop thread only */
    cache_object_t *obj;           /* the job's own reference; its load claim is the job's */
    http_load_done_fn done;
    void *arg;
    int rc;                        /* set by the loader */
    slice_t bytes;
};

struct http_loader {
    pthread_mutex_t mu;
    pthread_cond_t cv;         /* a job was queued, or stopping */
    http_load_job_t *head;     /* under mu */
    http_load_job_t *tail;
    size_t queued;             /* under mu */
    size_t max_queued;
    bool stopping;             /* under mu */
    bool started;
    pthread_t tid;
};

static void job_release(http_load_job_t *job)
{
    if (--job->refs != 0)
        return;
    cache_object_unref(job->obj);
    free(job);
}

/* The request's pool is being disposed: the request is finished or gone. */
static void guard_dispose(void *p)
{
    http_load_job_t *job = *(http_load_job_t **)p;
    job->req = NULL;
    job_release(job);
}

static void *loader_main(void *arg)
{
    http_loader_t *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        http_load_job_t *job = l->head;
        if (job == NULL) {
            if (l->stopping)
                break;
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        l->head = job->next;
        if (l->head == NULL)
            l->tail = NULL;
        l->queued--;
        bool cancel = l->stopping;
        pthread_mutex_unlock(&l->mu);

        if (cancel) {
            cache_object_load_cancel(job->obj);
            job->rc = -ECANCELED;
        } else {
            job->rc = cache_object_load_run(job->obj, &job->bytes);
        }
        /* the loop may free the job as soon as it is posted: not touched after this */
        h2o_multithread_send_message(&job->thread->load_done, &job->msg);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

http_loader_t *http_loader_new(size_t max_queued)
{
    http_loader_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->max_queued = max_queued;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->tid, NULL, loader_main, l) != 0) {
        http_loader_free(l);
        return NULL;
    }
    l->started = true;
    return l;
}

int http_loader_submit(http_thread_t *t, h2o_req_t *req, cache_object_t *obj, http_load_done_fn done, void *arg)
{
    http_loader_t *l = t->server->loader;
    http_load_job_t *job = calloc(1, sizeof *job);
    if (job == NULL)
        return -ENOMEM;
    job->thread = t;
    job->req = req;
    job->refs = 2; /* the guard's and the loader's */
    job->obj = cache_object_ref(obj);
    job->done = done;
    job->arg = arg;

    pthread_mutex_lock(&l->mu);
    if (l->stopping || l->queued >= l->max_queued) {
        pthread_mutex_unlock(&l->mu);
        cache_object_unref(job->obj);
        free(job);
        return -EAGAIN;
    }
    if (l->tail != NULL)
        l->tail->next = job;
    else
        l->head = job;
    l->tail = job;
    l->queued++;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);

    /* The job cannot come back before this loop runs again, so the guard is in place first. */
    http_load_job_t **guard = h2o_mem_alloc_shared(&req->pool, sizeof *guard, guard_dispose);
    *guard = job;
    t->jobs_pending++;
    return 0;
}

void http_loader_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, load_done, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        http_load_job_t *job = H2O_STRUCT_FROM_MEMBER(http_load_job_t, msg, msg);
        t->jobs_pending--;
        if (job->req != NULL)
            job->done(job->req, job->arg, job->rc, job->bytes);
        job_release(job); /* the loader's reference; the guard may already be gone */
    }
}

void http_loader_free(http_loader_t *l)
{
    if (l == NULL)
        return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stopping = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->tid, NULL);
    }
    /* The thread drains the queue before exiting (cancelling what it pops), so it is empty now. */
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
