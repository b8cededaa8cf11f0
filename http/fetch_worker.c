/* SPDX-License-Identifier: MIT */
/*
 * fetch_worker.c — answering misses without blocking an event loop.
 *
 * A miss (cache_get with NOFETCH said -EAGAIN) becomes a job on a queue served by a few threads
 * that call cache_get without NOFETCH, which may wait on upstream (the store makes concurrent
 * fetches of one key a single upstream request). The result goes back to the loop that owns the
 * request through h2o's multithread queue, and the response is built there: only a loop thread
 * may touch an h2o_req_t. A miss of up to 32 MiB goes back as soon as its bytes are checked
 * (cache_get_early), before the store has stored and committed them: the worker goes on
 * with that commit after posting the job, and touches the job no more.
 *
 * The request may die while its job waits (client reset, connection closed). A guard allocated
 * in the request's pool clears job->req when the pool is disposed, and the job is shared by two
 * references — the guard's and the one travelling through the worker — both released on the loop
 * thread, so the count needs no atomics. A job always comes back to its loop, even when
 * cancelled at shutdown, so every reference is released exactly once. The guard also marks the
 * job abandoned, so that a job still queued costs no upstream request: streams reset as soon as
 * they are opened (the rapid reset pattern) no longer turn into upstream fetches, except those a
 * worker had already begun.
 *
 * The same workers verify Basic credentials (crypt is slow by design, see auth.c): such a job
 * carries the Authorization value and a reference to the settings it is judged by (a reload may
 * replace the loop's meanwhile) instead of a key, and its request continues in
 * http_handler_resume when it comes back.
 *
 * The queue is bounded: past max_queued waiting jobs a miss is answered 503 at once, which keeps
 * a flood of distinct misses from piling up memory. It is also fair between clients (clients.c):
 * each client has its own queue, with at most client_queued jobs in it (past that its misses get
 * 429, other clients' still go in), workers take jobs from the clients in turn (round robin over
 * the clients with jobs waiting), and no client has more than client_running jobs in the workers
 * at once (three quarters of them, at least one): a client whose misses hang upstream holds some
 * workers for the stall time, never all of them.
 */
#include "http_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct http_fetch_job {
    h2o_multithread_message_t msg; /* link used to come back to the loop */
    struct http_fetch_job *next;   /* the client's queue, under pool->mu */
    http_thread_t *thread;         /* the loop that owns the request */
    http_client_t *client;         /* pinned until the job is freed */
    http_clients_t *clients;
    h2o_req_t *req;                /* NULL once the request is gone; loop thread only */
    atomic_bool abandoned;         /* the request died unanswered: a worker skips the fetch */
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
};

struct http_fetch_pool {
    cache_t *cache;
    pthread_mutex_t mu;
    pthread_cond_t cv;        /* a job was queued, a job finished, or stopping */
    http_client_t *ring_head; /* under mu: clients with queued jobs, in turn */
    http_client_t *ring_tail;
    size_t queued;            /* under mu: jobs in every client's queue */
    size_t max_queued;
    size_t client_queued;     /* most jobs one client may have queued */
    unsigned client_running;  /* most jobs of one client in the workers at once */
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
    http_clients_release(job->clients, job->client);
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
        atomic_store(&job->abandoned, true);
        HTTP_COUNT(t->metrics.aborted, 1);
        http_abuse_note_abort(t, job->req);
    }
    job->req = NULL;
    job_release(job);
}

static void ring_push(http_fetch_pool_t *p, http_client_t *c)
{
    c->ring_next = NULL;
    c->in_ring = true;
    if (p->ring_tail != NULL)
        p->ring_tail->ring_next = c;
    else
        p->ring_head = c;
    p->ring_tail = c;
}

/* The next job in turn: the first client in the ring that may run one more (all of them when
 * stopping: queued jobs are only cancelled then) gives its oldest job and goes to the back of the
 * ring if it has more. NULL when every client with jobs waiting is at its share. Under p->mu. */
static http_fetch_job_t *job_next(http_fetch_pool_t *p)
{
    http_client_t *prev = NULL;
    for (http_client_t *c = p->ring_head; c != NULL; prev = c, c = c->ring_next) {
        if (c->running >= p->client_running && !p->stopping)
            continue;
        http_fetch_job_t *job = c->q_head;
        c->q_head = job->next;
        if (c->q_head == NULL)
            c->q_tail = NULL;
        job->next = NULL;
        c->queued--;
        c->running++;
        p->queued--;
        /* out of the ring, and back at its end when more jobs wait */
        if (prev != NULL)
            prev->ring_next = c->ring_next;
        else
            p->ring_head = c->ring_next;
        if (p->ring_tail == c)
            p->ring_tail = prev;
        c->in_ring = false;
        if (c->queued > 0)
            ring_push(p, c);
        return job;
    }
    return NULL;
}

/* Sends job back to its loop; the worker must not touch it afterwards (the loop may free it and
 * unpin its client). */
static void job_post(http_fetch_pool_t *p, http_fetch_job_t *job)
{
    pthread_mutex_lock(&p->mu);
    /* Before posting: once posted, the loop may free the job and unpin its client. */
    job->client->running--;
    /* a client below its share again may have jobs waiting */
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    h2o_multithread_send_message(&job->thread->fetch_done, &job->msg);
}

/* A miss being fetched for one job (cache_get_early). */
typedef struct early_ctx {
    http_fetch_pool_t *pool;
    http_fetch_job_t *job;
    bool posted; /* the job went back to its loop with the early object */
} early_ctx_t;

/* The object is verified but not yet durable (cache.h: cache_get_early): this job's client is
 * answered now, while the worker goes on to the store's sync and commit. */
static void job_early(void *arg, cache_object_t *obj)
{
    early_ctx_t *e = arg;
    e->job->rc = 0;
    e->job->obj = obj;
    e->posted = true;
    job_post(e->pool, e->job);
}

/* Runs a miss job: true when the job has already gone back to its loop (an early answer). */
static bool job_fetch(http_fetch_pool_t *p, http_fetch_job_t *job)
{
    /* the worker's own copy of the key: once the early answer is posted, the loop may free the
     * job, key and all, while cache_get_early still commits (and files the object) under it */
    modkey_t *key = modkey_dup(job->key);
    if (key == NULL) {
        job->rc = cache_err_set(&job->err, -ENOMEM, "out of memory");
        return false;
    }
    early_ctx_t e = {.pool = p, .job = job};
    cache_object_t *obj = NULL;
    cache_err_t err = {0};
    int rc = cache_get_early(p->cache, key, 0, job_early, &e, &obj, &err);
    if (e.posted) {
        /* its client has its answer; the commit's outcome is the store's (logged there), and the
         * operator's: a full disk shows here, not as a 507 to that client */
        if (rc != 0)
            LOG_W("%s: a client was answered from verified bytes that were then not stored: %s", key->escaped,
                  err.msg);
        free(key);
        cache_object_unref(obj);
        return true;
    }
    free(key);
    job->rc = rc;
    job->obj = obj;
    job->err = err;
    return false;
}

static void *worker_main(void *arg)
{
    http_fetch_pool_t *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        http_fetch_job_t *job = job_next(p);
        if (job == NULL) {
            if (p->stopping && p->queued == 0)
                break;
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        bool cancel = p->stopping;
        pthread_mutex_unlock(&p->mu);

        if (cancel)
            job->rc = cache_err_set(&job->err, -ECANCELED, "server shutting down");
        else if (atomic_load(&job->abandoned))
            job->rc = cache_err_set(&job->err, -ECANCELED, "client went away"); /* nobody to answer: no work */
        else if (job->key == NULL)
            job->auth_result = http_auth_verify(job->auth, job->auth_value, job->auth_len);
        else if (job_fetch(p, job)) {
            pthread_mutex_lock(&p->mu);
            continue;
        }
        job_post(p, job);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

http_fetch_pool_t *http_fetch_pool_new(cache_t *cache, size_t nworkers, size_t max_queued, size_t client_queued)
{
    http_fetch_pool_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->cache = cache;
    p->max_queued = max_queued;
    p->client_queued = client_queued;
    p->client_running = (unsigned)(nworkers - nworkers / 4);
    if (p->client_running == 0)
        p->client_running = 1;
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

/* Queues job (owned by the caller until this returns 0) for req. */
static int submit(http_thread_t *t, h2o_req_t *req, http_fetch_job_t *job)
{
    http_fetch_pool_t *p = t->server->fetch;
    http_client_t *c = job->client;
    job->thread = t;
    job->req = req;
    job->refs = 2; /* the guard's and the worker's */

    pthread_mutex_lock(&p->mu);
    if (p->stopping || p->queued >= p->max_queued) {
        pthread_mutex_unlock(&p->mu);
        return -EAGAIN;
    }
    if (c->queued >= p->client_queued) {
        pthread_mutex_unlock(&p->mu);
        return -EUSERS;
    }
    if (c->q_tail != NULL)
        c->q_tail->next = job;
    else
        c->q_head = job;
    c->q_tail = job;
    c->queued++;
    if (!c->in_ring)
        ring_push(p, c);
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);

    /* The worker cannot come back before this loop runs again, so the guard is in place first. */
    http_fetch_job_t **guard = h2o_mem_alloc_shared(&req->pool, sizeof *guard, guard_dispose);
    *guard = job;
    t->jobs_pending++;
    return 0;
}

/* Frees a job that never reached the queue; its client's pin stays the caller's. */
static void job_free_unsubmitted(http_fetch_job_t *job)
{
    job->client = NULL;
    job->refs = 1;
    job_release(job);
}

int http_fetch_submit(http_thread_t *t, h2o_req_t *req, const modkey_t *key, http_client_t *client)
{
    http_fetch_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (job->key = modkey_dup(key)) == NULL) {
        free(job);
        return -ENOMEM;
    }
    job->client = client;
    job->clients = t->server->clients;
    int rc = submit(t, req, job);
    if (rc == 0)
        HTTP_COUNT(t->metrics.fetches, 1);
    else
        job_free_unsubmitted(job);
    return rc;
}

/* A job of req's own client, which it pins (not a miss of its budget: see the callers). */
static int submit_pinned(http_thread_t *t, h2o_req_t *req, http_fetch_job_t *job)
{
    http_clients_t *cs = t->server->clients;
    http_client_id_t id;
    http_client_id_of(req, &id);
    job->clients = cs;
    job->client = http_clients_acquire(cs, &id, http_now_us() / 1000);
    http_client_t *c = job->client;
    int rc = submit(t, req, job);
    if (rc != 0) {
        job_free_unsubmitted(job);
        http_clients_release(cs, c);
    }
    return rc;
}

int http_fetch_retry(http_thread_t *t, h2o_req_t *req, const modkey_t *key)
{
    /* the store dropped a damaged object: fetching it again is no miss of the client's making */
    http_fetch_job_t *job = calloc(1, sizeof *job);
    if (job == NULL || (job->key = modkey_dup(key)) == NULL) {
        free(job);
        return -ENOMEM;
    }
    job->retry = true;
    int rc = submit_pinned(t, req, job);
    if (rc == 0)
        HTTP_COUNT(t->metrics.fetches, 1);
    return rc;
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
    /* in the asking client's queue (its address: it is not authenticated yet), so that a flood
     * of password guesses waits behind itself, not in front of other clients' misses */
    int rc = submit_pinned(t, req, job);
    if (rc == 0)
        HTTP_COUNT(t->metrics.auth_verified, 1);
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
        if (job->req != NULL) {
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
