/* SPDX-License-Identifier: MIT */
/*
 * server.c — starting and stopping the front: listeners, loop threads, shutdown.
 *
 * One h2o_globalconf_t shared read-only; per thread an evloop, an h2o_context_t, an accept socket
 * per listener (a dup of the shared listening fd), its own references to the SSL_CTX and the
 * access settings, and three receivers on the context's multithread queue: finished fetches, the
 * stop message, and new settings (reload.c).
 *
 * Every h2o object of a loop (evloop, context, multithread queue, listener sockets) is made and
 * disposed on that loop's own thread: libh2o keeps buffer free lists per thread and a socket
 * returns its buffers to the list of the thread that made it (see thread_setup).
 *
 * Stopping is graceful and bounded: each loop closes its listeners, sends HTTP/2 GOAWAY, turns
 * its keep-alive and handshake timeouts down to zero so idle connections go at once, and keeps
 * running until its connections and hand-offs are finished or HTTP_DRAIN_MS have passed; a
 * drained loop then tears itself down. Hand-offs come back quickly because the owner of the
 * cache cancels upstream transfers (cache_shutdown_begin) before it stops the fronts. Then the
 * fetch workers are stopped. A loop that missed the deadline still holds live connections that
 * h2o cannot tear down from outside; it is abandoned with a warning (the process is exiting
 * anyway) rather than freed under them.
 */
#include "http_i.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTP_DRAIN_MS 10000
#define HTTP_FETCH_WORKERS_DEFAULT 8
#define HTTP_FETCH_QUEUE_MAX 4096
/* One client's share of the queue: a sixteenth, so a flood from one client leaves the rest. */
#define HTTP_FETCH_CLIENT_QUEUE_MAX (HTTP_FETCH_QUEUE_MAX / 16)
/* Loads of zips into memory waiting for the loader thread (loader.c): a handle is loaded once,
 * the store's budget allows eight 32 MiB loads, so more than this many distinct zips loading at
 * once only means their requests stream meanwhile. */
#define HTTP_LOAD_QUEUE_MAX 64
/* The miss budget of a client. A cold `go mod download` of a large project (a few hundred
 * modules: .info, .mod, .zip each, plus go's probes of import-path prefixes) asks for about a
 * thousand misses, most of them in its first seconds: the burst takes that first wave and the
 * rate the rest within half a minute, so builds never see a 429, while one client alone can make
 * at most 50 upstream requests a second (rapid resets once made 1,100). */
#define HTTP_MISS_RATE_DEFAULT 50
#define HTTP_MISS_BURST_DEFAULT 500
/* POST bodies are never read; h2o buffers a request body before the handler sees it, so keep
 * what a client can make it buffer small (larger gets 413 from h2o). */
#define HTTP_MAX_REQUEST_BODY (64 * 1024)

static size_t cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (size_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static bool timeout_idle(h2o_timeout_t *to)
{
    return h2o_linklist_is_empty(&to->_entries);
}

/* Nothing left on this loop that h2o_context_dispose would trip over. */
static bool thread_is_idle(http_thread_t *t)
{
    h2o_context_t *c = &t->ctx;
    return t->jobs_pending == 0 && h2o_linklist_is_empty(&c->http1._conns) &&
           h2o_linklist_is_empty(&c->http2._conns) && timeout_idle(&c->zero_timeout) &&
           timeout_idle(&c->one_sec_timeout) && timeout_idle(&c->hundred_ms_timeout) &&
           timeout_idle(&c->handshake_timeout) && timeout_idle(&c->http1.req_timeout) &&
           timeout_idle(&c->http2.idle_timeout) && timeout_idle(&c->http2.graceful_shutdown_timeout) &&
           timeout_idle(&c->proxy.io_timeout);
}

static void close_listeners(http_thread_t *t)
{
    if (t->listener_plain != NULL) {
        h2o_socket_read_stop(t->listener_plain);
        h2o_socket_close(t->listener_plain);
        t->listener_plain = NULL;
    }
    if (t->listener_tls != NULL) {
        h2o_socket_read_stop(t->listener_tls);
        h2o_socket_close(t->listener_tls);
        t->listener_tls = NULL;
    }
    if (t->listener_metrics != NULL) {
        h2o_socket_read_stop(t->listener_metrics);
        h2o_socket_close(t->listener_metrics);
        t->listener_metrics = NULL;
    }
}

static void on_control(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    http_thread_t *t = H2O_STRUCT_FROM_MEMBER(http_thread_t, control, receiver);
    while (!h2o_linklist_is_empty(messages))
        h2o_linklist_unlink(messages->next);
    if (t->draining)
        return;
    t->draining = true;
    t->drain_deadline_ms = h2o_now(t->loop) + HTTP_DRAIN_MS;
    close_listeners(t);
    /* Idle keep-alive connections, half-done TLS handshakes and idle HTTP/2 connections would
     * otherwise linger for their full timeouts; a zero timeout closes them on the next turn of
     * the loop, while requests in progress are not on these timers and finish normally.
     * h2o reads these values each time it checks the timers. */
    t->ctx.http1.req_timeout.timeout = 0;
    t->ctx.handshake_timeout.timeout = 0;
    t->ctx.http2.idle_timeout.timeout = 0;
    /* GOAWAY on HTTP/2; skipped without HTTP/2 connections, as it arms a 1 s timer for nothing */
    if (!h2o_linklist_is_empty(&t->ctx.http2._conns))
        h2o_context_request_shutdown(&t->ctx);
}

/* Undoes thread_setup on the loop's own thread, once nothing is left on the loop (no job out:
 * workers never post to a disposed receiver; no reload runs concurrently with stop). */
static void thread_dispose(http_thread_t *t)
{
    close_listeners(t);
    h2o_evloop_run(t->loop, 0); /* lets the listeners' close finish */
    h2o_multithread_unregister_receiver(t->ctx.queue, &t->fetch_done);
    h2o_multithread_unregister_receiver(t->ctx.queue, &t->load_done);
    h2o_multithread_unregister_receiver(t->ctx.queue, &t->control);
    h2o_multithread_unregister_receiver(t->ctx.queue, &t->reload);
    http_status_thread_dispose(t);
    h2o_multithread_queue_t *queue = t->ctx.queue;
    h2o_context_dispose(&t->ctx);
    /* libh2o 2.2.5 (evloop build) closes the queue in h2o_multithread_destroy_queue but never
     * frees it */
    free(queue);
    h2o_evloop_destroy(t->loop);
    t->loop = NULL;
}

/* Everything h2o of a loop is made here, on the loop's own thread. libh2o 2.2.5 keeps its buffer
 * free lists in thread-local variables and every socket remembers the list of the thread that
 * created it, then takes and returns buffers there whichever thread reads: the event-loop pipe of
 * the multithread queue and the listeners, once made on the main thread for every loop, made all
 * loops share the main thread's list without a lock. Under a flood of fetch results (each one a
 * wake-up through that pipe) two loops corrupted it, and a worker later crashed on the garbage
 * (the segfault of issue 8). Returns 0 or -errno; on failure nothing is left to undo. */
static int thread_setup(http_thread_t *t)
{
    http_server_t *s = t->server;
    t->loop = h2o_evloop_create();
    h2o_context_init(&t->ctx, t->loop, &s->globalconf);
    h2o_multithread_register_receiver(t->ctx.queue, &t->fetch_done, http_fetch_on_done);
    h2o_multithread_register_receiver(t->ctx.queue, &t->load_done, http_loader_on_done);
    h2o_multithread_register_receiver(t->ctx.queue, &t->control, on_control);
    h2o_multithread_register_receiver(t->ctx.queue, &t->reload, http_reload_on_message);
    http_status_thread_init(t);
    int rc = 0;
    if (s->fd_plain >= 0)
        rc = http_listen_attach(t, s->fd_plain, &t->accept_plain, &t->listener_plain);
    if (rc == 0 && s->fd_tls >= 0)
        rc = http_listen_attach(t, s->fd_tls, &t->accept_tls, &t->listener_tls);
    if (rc == 0 && s->fd_metrics >= 0)
        rc = http_listen_attach(t, s->fd_metrics, &t->accept_metrics, &t->listener_metrics);
    if (rc != 0)
        thread_dispose(t);
    return rc;
}

static void *thread_main(void *arg)
{
    http_thread_t *t = arg;
    http_server_t *s = t->server;
    int rc = thread_setup(t);
    pthread_mutex_lock(&s->start_mu);
    t->setup_rc = rc;
    t->setup_done = true;
    pthread_cond_broadcast(&s->start_cv);
    /* A request may read every loop's figures (/metrics, the status page): none is answered
     * before every loop exists. */
    while (!s->loops_go)
        pthread_cond_wait(&s->start_cv, &s->start_mu);
    bool run = rc == 0 && !s->start_failed;
    pthread_mutex_unlock(&s->start_mu);
    if (!run) {
        /* a later loop failed to start: this one never answers (a request could read the slots
         * of loops never made); it lets go of what it set up and counts as stopped */
        if (rc == 0) {
            thread_dispose(t);
            t->drained = true;
        }
        return NULL;
    }
    for (;;) {
        h2o_evloop_run(t->loop, t->draining ? 100 : INT32_MAX);
        if (!t->draining)
            continue;
        if (thread_is_idle(t)) {
            thread_dispose(t);
            t->drained = true;
            break;
        }
        if (h2o_now(t->loop) >= t->drain_deadline_ms) {
            /* h2o cannot tear down live connections from outside: the loop is abandoned as it
             * is (the process is exiting), and a worker may still post to its queue. */
            LOG_W("http loop %zu: connections still open %d s after stop; abandoning them", t->index,
                  HTTP_DRAIN_MS / 1000);
            break;
        }
    }
    return NULL;
}

/* Frees what thread_new made (no h2o object: those are the loop's own, see thread_dispose).
 * After the loop thread has returned, or before it started. */
static void thread_free(http_thread_t *t)
{
    if (t->accept_tls.ssl_ctx != NULL)
        SSL_CTX_free(t->accept_tls.ssl_ctx);
    free(t->cc_mutable.base);
    http_keycache_free(t->keys);
    http_auth_unref(t->auth);
    pthread_mutex_destroy(&t->popular_mu);
    free(t);
}

static http_thread_t *thread_new(http_server_t *s, size_t index)
{
    /* cache-line aligned so two threads' counters never share a line */
    size_t size = (sizeof(http_thread_t) + 63) & ~(size_t)63;
    http_thread_t *t = aligned_alloc(64, size);
    if (t == NULL)
        return NULL;
    memset(t, 0, size);
    t->server = s;
    t->index = index;
    /* the status page's table of this loop is read by any loop: made here, before any runs */
    pthread_mutex_init(&t->popular_mu, NULL);
    t->accept_plain.ctx = &t->ctx;
    t->accept_plain.hosts = s->hosts_main;
    t->accept_tls = t->accept_plain;
    /* each loop holds its own reference, so a reload can swap it on the loop alone (reload.c) */
    if (s->ssl_ctx != NULL) {
        SSL_CTX_up_ref(s->ssl_ctx);
        t->accept_tls.ssl_ctx = s->ssl_ctx;
    }
    t->auth = http_auth_ref(s->auth);
    t->cc_mutable = http_cc_mutable_new(s->list_ttl_s);
    t->keys = http_keycache_new();
    if (t->cc_mutable.base == NULL || t->keys == NULL) {
        thread_free(t);
        return NULL;
    }
    /* its own host: whatever the Host header says, only /metrics and /healthz are there */
    t->accept_metrics.ctx = &t->ctx;
    t->accept_metrics.hosts = s->hosts_metrics;
    return t;
}

static void server_free(http_server_t *s)
{
    if (s->threads != NULL) {
        /* a loop that is running (set up, not yet stopped) gets the stop message */
        for (size_t i = 0; i < s->nthreads; i++) {
            http_thread_t *t = s->threads[i];
            if (t != NULL && t->started && t->setup_rc == 0 && !s->start_failed)
                h2o_multithread_send_message(&t->control, &t->stop_msg);
        }
        for (size_t i = 0; i < s->nthreads; i++) {
            http_thread_t *t = s->threads[i];
            if (t != NULL && t->started)
                pthread_join(t->tid, NULL);
        }
    }
    /* No loop runs any more. Jobs of an abandoned loop may still be with a worker: they post to
     * its queue, which is never disposed. */
    http_fetch_pool_free(s->fetch);
    http_loader_free(s->loader);
    bool leaked = false;
    for (size_t i = 0; s->threads != NULL && i < s->nthreads; i++) {
        http_thread_t *t = s->threads[i];
        if (t == NULL)
            continue;
        if (t->started && t->setup_rc == 0 && !t->drained)
            leaked = true;
        else
            thread_free(t);
    }
    free(s->threads);
    if (s->fd_plain >= 0)
        close(s->fd_plain);
    if (s->fd_tls >= 0)
        close(s->fd_tls);
    if (s->fd_metrics >= 0)
        close(s->fd_metrics);
    if (!leaked) {
        /* an abandoned loop's connections still point into the globalconf and SSL_CTX: when
         * there is one, everything is left as it is for the exiting process */
        h2o_config_dispose(&s->globalconf);
        if (s->ssl_ctx != NULL)
            SSL_CTX_free(s->ssl_ctx);
        http_clients_free(s->clients);
        http_auth_unref(s->auth);
        http_ratelimit_dispose(&s->limit);
        http_history_dispose(&s->history);
        pthread_cond_destroy(&s->reload_cv);
        pthread_mutex_destroy(&s->reload_mu);
        free(s->listen);
        free(s->tls_listen);
        free(s->metrics_listen);
        pthread_cond_destroy(&s->start_cv);
        pthread_mutex_destroy(&s->start_mu);
        free(s);
    }
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* Lets the loops that were started run, or (failed) stop without running: they wait in
 * thread_main until then. */
static void release_loops(http_server_t *s, bool failed)
{
    pthread_mutex_lock(&s->start_mu);
    s->start_failed = failed;
    s->loops_go = true;
    pthread_cond_broadcast(&s->start_cv);
    pthread_mutex_unlock(&s->start_mu);
}

/* Creates and starts each loop in turn, waiting for its setup before the next. */
static int start_threads_in_turn(http_server_t *s, cache_err_t *err)
{
    s->threads = calloc(s->nthreads, sizeof *s->threads);
    if (s->threads == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < s->nthreads; i++) {
        http_thread_t *t = s->threads[i] = thread_new(s, i);
        if (t == NULL)
            return cache_err_set(err, -ENOMEM, "out of memory");
        int rc = pthread_create(&t->tid, NULL, thread_main, t);
        if (rc != 0)
            return cache_err_set(err, -rc, "starting http thread: %s", strerror(rc));
        t->started = true;
        pthread_mutex_lock(&s->start_mu);
        while (!t->setup_done)
            pthread_cond_wait(&s->start_cv, &s->start_mu);
        pthread_mutex_unlock(&s->start_mu);
        if (t->setup_rc != 0)
            return cache_err_set(err, t->setup_rc, "listener: %s", strerror(-t->setup_rc));
    }
    return 0;
}

/* Starts the loops one after the other, each setting itself up before the next starts; they
 * answer requests once all are there, or (on failure) stop without answering any. */
static int start_threads(http_server_t *s, cache_err_t *err)
{
    int rc = start_threads_in_turn(s, err);
    release_loops(s, rc != 0);
    return rc;
}

int http_server_start(cache_t *cache, const http_config_t *cfg, http_server_t **out, cache_err_t *err)
{
    if (cfg->listen == NULL && cfg->tls_listen == NULL && cfg->metrics_listen == NULL)
        return cache_err_set(err, -EINVAL, "nothing to listen on");
    if (cfg->tls_listen != NULL && (cfg->tls_cert == NULL || cfg->tls_key == NULL))
        return cache_err_set(err, -EINVAL, "--tls-listen needs --tls-cert and --tls-key");

    /* a peer closing mid-write must not kill the process: h2o writes with writev(2) */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);

    http_server_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    clock_gettime(CLOCK_MONOTONIC, &s->started_at);
    clock_gettime(CLOCK_REALTIME, &s->started_wall);
    pthread_mutex_init(&s->start_mu, NULL);
    pthread_cond_init(&s->start_cv, NULL);
    s->cache = cache;
    s->fd_plain = s->fd_tls = s->fd_metrics = -1;
    s->listen = dup_or_null(cfg->listen);
    s->tls_listen = dup_or_null(cfg->tls_listen);
    s->metrics_listen = dup_or_null(cfg->metrics_listen);
    s->metrics_extra = cfg->metrics_extra;
    s->metrics_extra_arg = cfg->metrics_extra_arg;
    s->list_ttl_s = cfg->list_ttl_s;
    atomic_init(&s->status_page, cfg->status_page);
    http_history_point_t start = {0};
    cache_fetch_figures_t fetches;
    cache_fetch_figures_get(cache, &fetches); /* the mount may have fetched already */
    start.fetch_ok = fetches.count[CACHE_FETCH_OK];
    start.fetch_not_found = fetches.count[CACHE_FETCH_NOT_FOUND];
    start.fetch_failed = fetches.count[CACHE_FETCH_FAILED];
    http_history_init(&s->history, &start);
    http_ratelimit_init(&s->limit, HTTP_RATELIMIT_FAILURES, HTTP_RATELIMIT_WINDOW_MS, HTTP_RATELIMIT_BLOCK_MS);
    pthread_mutex_init(&s->reload_mu, NULL);
    pthread_cond_init(&s->reload_cv, NULL);
    s->nthreads = cfg->threads > 0 ? (size_t)cfg->threads : cpu_count();
    size_t workers = cfg->fetch_workers > 0 ? (size_t)cfg->fetch_workers : HTTP_FETCH_WORKERS_DEFAULT;

    h2o_config_init(&s->globalconf);
    s->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("modfs"));
    s->globalconf.max_request_entity_size = HTTP_MAX_REQUEST_BODY;
    h2o_hostconf_t *host = h2o_config_register_host(&s->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    http_handler_register(s, host, false);
    s->hosts_main[0] = host;
    h2o_hostconf_t *mhost = h2o_config_register_host(&s->globalconf, h2o_iovec_init(H2O_STRLIT("metrics")), 65535);
    http_handler_register(s, mhost, true);
    s->hosts_metrics[0] = mhost;

    int rc = 0;
    if ((rc = http_auth_from_config(cfg, &s->auth, err)) != 0)
        goto fail;
    if (cfg->listen != NULL && (rc = http_listen_open(cfg->listen, &s->fd_plain, err)) != 0)
        goto fail;
    if (cfg->metrics_listen != NULL && (rc = http_listen_open(cfg->metrics_listen, &s->fd_metrics, err)) != 0)
        goto fail;
    if (cfg->tls_listen != NULL) {
        if ((rc = http_listen_open(cfg->tls_listen, &s->fd_tls, err)) != 0)
            goto fail;
        if ((rc = http_tls_ctx_new(cfg->tls_cert, cfg->tls_key, &s->ssl_ctx, err)) != 0)
            goto fail;
    }
    s->clients = http_clients_new(http_miss_rate_of(cfg), http_miss_burst_of(cfg));
    if (s->clients == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    s->fetch = http_fetch_pool_new(cache, workers, HTTP_FETCH_QUEUE_MAX, HTTP_FETCH_CLIENT_QUEUE_MAX);
    if (s->fetch == NULL) {
        rc = cache_err_set(err, -ENOMEM, "starting fetch workers");
        goto fail;
    }
    s->loader = http_loader_new(HTTP_LOAD_QUEUE_MAX);
    if (s->loader == NULL) {
        rc = cache_err_set(err, -ENOMEM, "starting the zip loader");
        goto fail;
    }
    if ((rc = start_threads(s, err)) != 0)
        goto fail;
    /* each loop accepts on its own dup; closing those closes the port when the loops stop */
    close(s->fd_plain);
    close(s->fd_tls);
    close(s->fd_metrics);
    s->fd_plain = s->fd_tls = s->fd_metrics = -1;
    LOG_I("http: serving on %s%s%s%s%s%s with %zu threads, %zu fetch workers", cfg->listen ? cfg->listen : "",
          cfg->listen && cfg->tls_listen ? " and " : "", cfg->tls_listen ? "https://" : "",
          cfg->tls_listen ? cfg->tls_listen : "", cfg->metrics_listen ? ", metrics only on " : "",
          cfg->metrics_listen ? cfg->metrics_listen : "", s->nthreads, workers);
    *out = s;
    return 0;
fail:
    server_free(s);
    return rc;
}

void http_server_stop(http_server_t *s)
{
    if (s == NULL)
        return;
    server_free(s);
}
