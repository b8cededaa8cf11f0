/* SPDX-License-Identifier: MIT */
/*
 * fetch_worker.c — answering misses without blocking an event loop.
 *
 * A miss (cache_get with NOFETCH said -EAGAIN) becomes a job on a queue served by a few threads
 * that call cache_get without NOFETCH, which may wait on upstream (the store makes concurrent
 * fetches of one key a single upstream request). The result goes back to the loop that owns the
 * request through h2o's multithread queue, and the response is built there: only a loop thread
 * may touch an h2o_req_t.
 *
 * The request may die while its job waits (client reset, connection closed). A guard allocated
 * in the request's pool clears job->req when the pool is disposed, and the job is shared by two
 * references — the guard's and the one travelling through the worker — both released on the loop
 * thread, so the count needs no atomics. A job always comes back to its loop, even when cancelled
 * at shutdown, so every reference is released exactly once.
 *
 * The same workers verify Basic credentials (crypt is slow by design, see auth.c): such a job
 * carries the Authorization value and a reference to the settings it is judged by (a reload may
 * replace the loop's meanwhile) instead of a key, and its request continues in
 * http_handler_resume when it comes back.
 *
 * The queue is bounded: past max_queued waiting jobs a miss is answered 503 at once, which keeps
 * a flood of distinct misses from piling up memory.
 */
#include "http_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

typedef struct http_fetch_job {
    h2o_multithread_message_t msg; /* link used to come back to the loop */
    struct http_fetch_job *next;   /* queue link, under pool->mu */
    http_thread_t *thread;         /* the loop that owns the request */
    h2o_req_t *req;                /* NULL once the request is gone; loop thread only */
    unsigned refs;                 /* loop thread only */
    bool answered;                 /* came back and was handled; loop thread only */
    bool retry;                    /* the object was found damaged once already */
    int rc;                        /* set by the worker */
    cache_object_t *obj;
    cache_err_t err;
    modkey_t *key;                 /* a copy, owned; NULL for a verify job */
    http_auth_t *auth;             /* verify job: the settings to verify against, a reference */
    char *auth_value;              /* verify job: the Authorization value, owned */
    size_t auth_len;
    http_auth_result_t auth_result; /* verify job: set by the worker */
} http_fetch_job_t;

struct http_fetch_pool {
    cache_t *cache;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    http_fetch_job_t *head; /* under mu */
    http_fetch_job_t *tail;
    size_t queued;
    size_t max_queued;
    bool stopping;
    size_t nworkers;
    pthread_t *tids;
};

static void job_release(http_fetch_job_t *job)
{
    if (--job->refs != 0)
        return;
    if (job->obj != NULL)
        cache_object_unref(job->obj);
    free(job->key);
    if (job->auth_value != NULL)
        OPENSSL_cleanse(job->auth_value, job->auth_len);
    free(job->auth_value);
    http_auth_unref(job->auth);
    free(job);
}

/* The request's pool is being disposed: the request is finished or gone. */
static void guard_dispose(void *p)
{
    http_fetch_job_t *job = *(http_fetch_job_t **)p;
    if (!job->answered && job->req != NULL) {
        http_thread_t *t = job->thread;
        HTTP_COUNT(t->metrics.aborted, 1);
        http_abuse_note_abort(t, job->req);
    }
    job->req = NULL;
    job_release(job);
}

static void *worker_main(void *arg)
{
    http_fetch_pool_t *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        http_fetch_job_t *job = p->head;
        if (job == NULL) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        p->head = job->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        bool cancel = p->stopping;
        pthread_mutex_unlock(&p->mu);

        if (cancel)
            job->rc = cache_err_set(&job->err, -ECANCELED, "server shutting down");
        else if (job->key == NULL)
            job->auth_result = http_auth_verify(job->auth, job->auth_value, job->auth_len);
        else
            job->rc = cache_get(p->cache, job->key, 0, &job->obj, &job->err);
        h2o_multithread_send_message(&job->thread->fetch_done, &job->msg);
    }
    return NULL;
}

http_fetch_pool_t *http_fetch_pool_new(cache_t *cache, size_t nworkers, size_t max_queued)
{
    http_fetch_pool_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->cache = cache;
    p->max_queued = max_queued;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->tids = calloc(nworkers, sizeof *p->tids);
    if (p->tids == NULL) {
        http_fetch_pool_free(p);
        return NULL;
    }
    for (size_t i = 0; i < nworkers; i++) {
        if (pthread_create(&p->tids[i], NULL, worker_main, p) != 0) {
            http_fetch_pool_free(p);
            return NULL;
        }
        p->nworkers++;
    }
    return p;
}

/* Frees a job that never reached the queue. */
static void job_release_unsubmitted(http_fetch_job_t *job)
{
    job->refs = 1;
    job_release(job);
}

/* Queues job (owned by the caller until this returns 0) for req. */
static int submit(http_thread_t *t, h2o_req_t *req, http_fetch_job_t *job)
{
    http_fetch_pool_t *p = t->server->fetch;
    job->thread = t;
    job->req = req;
    job->refs = 2; /* the guard's and the worker's */

    pthread_mutex_lock(&p->mu);
    if (p->stopping || p->queued >= p->max_queued) {
        pthread_mutex_unlock(&p->mu);
        return -EAGAIN;
    }
    if (p->tail != NULL)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);

    /* The worker cannot come back before this loop runs again, so the guard is in place first. */
    http_fetch_job_t **guard = h2o_mem_alloc_shared(&req->pool, sizeof *guard, guard_dispose);
    *guard = job;
    t->jobs_pending++;
    return 0;
}

static int submit_key(http_thread_t *t, h2o_req_t *req, const modkey_t *key, bool retry)
{
    http_fetch_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (job->key = modkey_dup(key)) == NULL) {
        free(job);
        return -ENOMEM;
    }
    job->retry = retry;
    int rc = submit(t, req, job);
    if (rc == 0)
        HTTP_COUNT(t->metrics.fetches, 1);
    else
        job_release_unsubmitted(job);
    return rc;
}

int http_fetch_submit(http_thread_t *t, h2o_req_t *req, const modkey_t *key)
{
    return submit_key(t, req, key, false);
}

int http_fetch_retry(http_thread_t *t, h2o_req_t *req, const modkey_t *key)
{
    return submit_key(t, req, key, true);
}

int http_fetch_submit_verify(http_thread_t *t, h2o_req_t *req, http_auth_t *a, const char *value, size_t len)
{
    http_fetch_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (job->auth_value = malloc(len + 1)) == NULL) {
        free(job);
        return -ENOMEM;
    }
    memcpy(job->auth_value, value, len);
    job->auth_value[len] = '\0';
    job->auth_len = len;
    job->auth_result = HTTP_AUTH_BAD;
    job->auth = http_auth_ref(a);
    int rc = submit(t, req, job);
    if (rc == 0)
        HTTP_COUNT(t->metrics.auth_verified, 1);
    else
        job_release_unsubmitted(job);
    return rc;
}

void http_fetch_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, fetch_done, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *msg = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&msg->link);
        http_fetch_job_t *job = H2O_STRUCT_FROM_MEMBER(http_fetch_job_t, msg, msg);
        t->jobs_pending--;
        job->answered = true;
        /* After the loop has exited (teardown), requests are abandoned, not answered. */
        if (job->req != NULL && !t->exited) {
            if (job->key == NULL && job->rc == 0) {
                http_handler_resume(job->req, job->auth_result);
            } else if (job->rc == 0) {
                cache_object_t *obj = job->obj;
                job->obj = NULL;
                http_respond_object(job->req, job->key, obj, job->retry);
            } else {
                http_send_error(job->req, job->rc, &job->err);
            }
        }
        job_release(job); /* the worker's reference; the guard may already be gone */
    }
}

void http_fetch_pool_free(http_fetch_pool_t *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nworkers; i++)
        pthread_join(p->tids[i], NULL);
    /* Workers drain the queue before exiting (cancelling what they pop), so it is empty now. */
    free(p->tids);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
