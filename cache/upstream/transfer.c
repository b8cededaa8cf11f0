/* SPDX-License-Identifier: MIT */
/*
 * transfer.c — the transfer threads: every upstream GET runs on one of a small pool of threads,
 * each driving its own curl multi handle. upstream_transfer_run gives a transfer to the thread
 * with the fewest transfers queued or running, wakes that thread (curl_multi_wakeup on its multi)
 * and sleeps until the transfer is done; retries and their backoff sleep in the calling thread
 * (upstream.c), never here.
 *
 * Why a pool and not one thread: every byte of every body is received, and written to its temp
 * file or handed to the ingest's sink, on the thread that runs its transfer. With one thread, a
 * cold `go mod download` asking for dozens of modules at once had all their bodies cross one
 * core. The pool has one thread per core (at least 2, so one slow sink never holds up every
 * other body), UPSTREAM_MAX_THREADS at most.
 *
 * Why each thread has its own multi: a multi handle is driven by one thread at a time. libcurl
 * multiplexes HTTP/2 streams only among transfers of the same multi handle, so concurrent fetches
 * to an HTTP/2 upstream share one TLS connection per thread, and HTTP/1.1 upstreams get a pool of
 * keep-alive connections per thread. The curl share handle keeps DNS answers and TLS sessions
 * across all threads (a new connection of another thread resumes the TLS session). The connection
 * pool itself is not shared (CURL_LOCK_DATA_CONNECT): libcurl 7.88 documents that sharing
 * connections between concurrent threads is not supported. What that costs: up to one HTTP/2
 * connection per thread instead of one, and an idle keep-alive connection is reused only by
 * the thread that made it; the idle connections kept are split among the threads.
 *
 * Why transfers never wait for each other: a transfer waits for another one's connection
 * (CURLOPT_PIPEWAIT) only on https, where the TLS handshake's ALPN tells within the connect
 * timeout whether that connection multiplexes. On plain http curl speaks HTTP/1.1 only, learns
 * that a connection cannot multiplex only from its first response, and PIPEWAIT made every other
 * transfer queue behind a first request that hung, until its timeout, and then fail with a
 * misleading "Failed to resolve host ... after 0 ms". So on http (and on https after an
 * http/1.1 handshake) each concurrent transfer has a connection of its own; there is no
 * per-host limit besides the callers' own concurrency (the HTTP front's fetch workers, the FUSE
 * threads), and idle connections beyond UPSTREAM_MAX_CONNECTS (over all threads) are closed.
 *
 * Why a hung upstream fails fast: a connect timeout, and a stall limit (less than
 * UPSTREAM_STALL_BYTES_PER_S for stall_ms, curl's low-speed limit) that covers the wait for the
 * response as well as a body that stops, beside the per-attempt total timeout that bounds even a
 * transfer that trickles. A slow body that keeps moving (a large zip at 1 MB/s) is never cut
 * short by the stall limit.
 *
 * Cancellation (upstream_cancel_all): every thread removes its running handles and completes
 * their transfers as cancelled, and completes anything queued later at once.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "upstream_i.h"

#define UPSTREAM_USER_AGENT "modfs/" MODFS_VERSION
#define UPSTREAM_MAX_REDIRECTS 10L
#define UPSTREAM_MAX_CONNECTS 64L     /* idle connections kept open, over all the multi handles */
#define UPSTREAM_MIN_CONNECTS 8L      /* ... and at least this many by each */
#define UPSTREAM_ERROR_BODY_MAX 65536 /* an error body longer than this is not read to its end */
#define UPSTREAM_RETRY_AFTER_MAX_S 86400L

/* ---- curl callbacks (the transfer's thread) ---- */

static void share_lock(CURL *easy, curl_lock_data data, curl_lock_access access, void *ud)
{
    (void)easy;
    (void)access;
    upstream_t *u = ud;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&u->share_locks[data]);
}

static void share_unlock(CURL *easy, curl_lock_data data, void *ud)
{
    (void)easy;
    upstream_t *u = ud;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&u->share_locks[data]);
}

/* A header's value without the name, the colon and surrounding white space. */
static bool header_value(const char *buf, size_t len, const char *name, const char **v, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(buf, name, n) != 0 || buf[n] != ':')
        return false;
    const char *s = buf + n + 1, *end = buf + len;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    *v = s;
    *vlen = (size_t)(end - s);
    return true;
}

/* Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date; -1 when neither. */
static long retry_after_parse(const char *v, size_t len)
{
    char s[64];
    if (len == 0 || len >= sizeof s)
        return -1;
    memcpy(s, v, len);
    s[len] = '\0';
    if (isdigit((unsigned char)s[0])) {
        long n = 0;
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)s[i]))
                return -1;
            n = n * 10 + (s[i] - '0');
            if (n > UPSTREAM_RETRY_AFTER_MAX_S)
                n = UPSTREAM_RETRY_AFTER_MAX_S;
        }
        return n;
    }
    time_t when = curl_getdate(s, NULL);
    if (when < 0)
        return -1;
    time_t now = time(NULL);
    if (when <= now)
        return 0;
    return when - now > UPSTREAM_RETRY_AFTER_MAX_S ? UPSTREAM_RETRY_AFTER_MAX_S : (long)(when - now);
}

/* Watches response heads: each status line starts a new response (redirects, 1xx), so the
 * per-response facts are reset there. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    upstream_transfer_t *t = ud;
    size_t len = size * nitems;
    const char *v;
    size_t vlen;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        t->got_head = true;
        t->encoded = false;
        t->retry_after_s = -1;
        t->reason[0] = '\0';
        /* "HTTP/1.1 404 Not Found\r\n"; HTTP/2 has no reason phrase. */
        const char *p = memchr(buf, ' ', len);
        if (p != NULL && (size_t)(p - buf) + 5 < len && p[4] == ' ') {
            const char *r = p + 5, *end = buf + len;
            while (end > r && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
            size_t n = (size_t)(end - r);
            if (n >= sizeof t->reason)
                n = sizeof t->reason - 1;
            for (size_t i = 0; i < n; i++)
                t->reason[i] = isprint((unsigned char)r[i]) ? r[i] : '?';
            t->reason[n] = '\0';
        }
    } else if (header_value(buf, len, "content-encoding", &v, &vlen)) {
        t->encoded = vlen > 0 && !(vlen == 8 && strncasecmp(v, "identity", 8) == 0);
    } else if (header_value(buf, len, "retry-after", &v, &vlen)) {
        t->retry_after_s = retry_after_parse(v, vlen);
    }
    return len;
}

static bool transfer_is_payload(const upstream_transfer_t *t)
{
    /* file:// has no status: a readable file is the answer. */
    return t->status == 200 || (t->proxy->file && t->status == 0);
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *ud)
{
    upstream_transfer_t *t = ud;
    size_t len = size * nmemb;
    if (!t->status_known) {
        t->status_known = true;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
        curl_off_t clen = -1;
        if (transfer_is_payload(t) && !t->encoded &&
            curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen) == CURLE_OK && clen >= 0 &&
            (uint64_t)clen > t->max_bytes) {
            t->too_big = true; /* refused before a byte is written */
            return CURL_WRITEFUNC_ERROR;
        }
    }
    if (!transfer_is_payload(t)) {
        /* An error answer: keep the start for the message, read (a bounded amount of) the rest so
         * the connection stays reusable. */
        size_t room = UPSTREAM_DETAIL_MAX - t->detail_len;
        size_t take = len < room ? len : room;
        memcpy(t->detail + t->detail_len, buf, take);
        t->detail_len += take;
        t->error_body_bytes += len;
        return t->error_body_bytes > UPSTREAM_ERROR_BODY_MAX ? CURL_WRITEFUNC_ERROR : len;
    }
    if (len > t->max_bytes - t->bytes) {
        t->too_big = true;
        return CURL_WRITEFUNC_ERROR;
    }
    if (t->sink != NULL) {
        /* the hook: a consumer (the ingest) may take the piece as it arrives instead of the file */
        int kept = t->sink->take(t->sink->arg, t->bytes, (const uint8_t *)buf, len);
        if (kept < 0) {
            t->write_errno = -kept;
            return CURL_WRITEFUNC_ERROR;
        }
        if (kept > 0) {
            t->bytes += len;
            return len;
        }
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(t->fd, buf + done, len - done, (off_t)(t->bytes + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            t->write_errno = w < 0 ? errno : EIO;
            return CURL_WRITEFUNC_ERROR;
        }
        done += (size_t)w;
    }
    t->bytes += len;
    return len;
}

/* A connection is ready (new or reused) and the request is about to go out: a timeout from here
 * on is the upstream's silence, not a failure to connect. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    ((upstream_transfer_t *)ud)->connected = true;
    return CURL_PREREQFUNC_OK;
}

/* ---- the transfer threads ---- */

static void transfer_complete(upstream_t *u, upstream_transfer_t *t, CURLcode code)
{
    pthread_mutex_lock(&u->mu);
    t->code = code;
    t->done = true;
    t->worker->load--;
    pthread_cond_signal(&t->done_cond);
    pthread_mutex_unlock(&u->mu);
}

static void easy_release(upstream_worker_t *w, CURL *e)
{
    if (w->nidle < UPSTREAM_IDLE_HANDLES)
        w->idle[w->nidle++] = e;
    else
        curl_easy_cleanup(e);
}

static CURLcode easy_configure(upstream_t *u, CURL *e, upstream_transfer_t *t)
{
    CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                                        \
    do {                                                                                                     \
        if (c == CURLE_OK)                                                                                   \
            c = curl_easy_setopt(e, opt, val);                                                               \
    } while (0)
    SET(CURLOPT_URL, t->url);
    SET(CURLOPT_PRIVATE, (void *)t);
    SET(CURLOPT_SHARE, u->share);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)t);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)t);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    SET(CURLOPT_PREREQDATA, (void *)t);
    SET(CURLOPT_USERAGENT, UPSTREAM_USER_AGENT);
    SET(CURLOPT_CONNECTTIMEOUT_MS, u->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, u->total_timeout_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, UPSTREAM_STALL_BYTES_PER_S);
    SET(CURLOPT_LOW_SPEED_TIME, (u->stall_ms + 999) / 1000);
    if (t->proxy->file) {
        SET(CURLOPT_PROTOCOLS_STR, "file");
    } else {
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        /* go refuses a redirect from https to http (securityPreservingHTTPClient). */
        SET(CURLOPT_REDIR_PROTOCOLS_STR, t->proxy->https ? "https" : "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, UPSTREAM_MAX_REDIRECTS);
        SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        /* See the file comment: waiting for another transfer's connection only where ALPN answers
         * within the connect timeout whether it multiplexes. */
        SET(CURLOPT_PIPEWAIT, t->proxy->https ? 1L : 0L);
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
        SET(CURLOPT_TCP_KEEPIDLE, 60L);
        SET(CURLOPT_TCP_KEEPINTVL, 30L);
        /* What go's net/http asks for, so an upstream answers us as it answers go; curl decodes,
         * the fd gets the decoded bytes. */
        SET(CURLOPT_ACCEPT_ENCODING, "gzip");
        SET(CURLOPT_NOPROXY, u->no_proxy);
        SET(CURLOPT_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_SSL_VERIFYHOST, 2L);
        if (u->ca_file != NULL)
            SET(CURLOPT_CAINFO, u->ca_file);
    }
#undef SET
    return c;
}

static void transfer_start(upstream_worker_t *w, upstream_transfer_t *t)
{
    upstream_t *u = w->u;
    CURL *e = w->nidle > 0 ? w->idle[--w->nidle] : curl_easy_init();
    if (e == NULL) {
        transfer_complete(u, t, CURLE_OUT_OF_MEMORY);
        return;
    }
    curl_easy_reset(e);
    t->easy = e;
    CURLcode c = easy_configure(u, e, t);
    if (c == CURLE_OK && curl_multi_add_handle(w->multi, e) != CURLM_OK)
        c = CURLE_FAILED_INIT;
    if (c != CURLE_OK) {
        easy_release(w, e);
        transfer_complete(u, t, c);
        return;
    }
    agelist_push(&w->running, &t->run);
    w->nrunning++;
    LOG_D("upstream: transfer thread %u: GET %s (%u running on it)", w->index,
          t->shown != NULL ? t->shown : "?", w->nrunning);
}

static void transfer_reap(upstream_worker_t *w)
{
    upstream_t *u = w->u;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode code = msg->data.result; /* msg is invalid once the handle is removed */
        char *priv = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        upstream_transfer_t *t = (upstream_transfer_t *)(void *)priv;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t->status);
        curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &t->redirects);
        curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &t->os_errno);
        curl_off_t total = 0;
        if (curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total) == CURLE_OK)
            t->elapsed_us = (int64_t)total;
        char *ctype = NULL;
        if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != NULL)
            snprintf(t->content_type, sizeof t->content_type, "%s", ctype);
        curl_multi_remove_handle(w->multi, e);
        agelist_unlink(&w->running, &t->run);
        w->nrunning--;
        easy_release(w, e);
        transfer_complete(u, t, code);
    }
}

/* Removes every running transfer of this thread and completes it as cancelled. A handle removed
 * mid-transfer has its connection closed by curl, so nothing half-read is ever reused. */
static void transfer_abort_running(upstream_worker_t *w)
{
    while (w->running.newest != NULL) {
        upstream_transfer_t *t = AGELIST_ENTRY(w->running.newest, upstream_transfer_t, run);
        agelist_unlink(&w->running, &t->run);
        w->nrunning--;
        curl_multi_remove_handle(w->multi, t->easy);
        easy_release(w, t->easy);
        t->cancelled = true;
        transfer_complete(w->u, t, CURLE_ABORTED_BY_CALLBACK);
    }
}

static void *transfer_thread(void *arg)
{
    upstream_worker_t *w = arg;
    upstream_t *u = w->u;
    for (;;) {
        pthread_mutex_lock(&u->mu);
        upstream_transfer_t *q = w->queue_head;
        w->queue_head = w->queue_tail = NULL;
        bool stopping = u->stopping, cancelled = u->cancelled;
        pthread_mutex_unlock(&u->mu);
        while (q != NULL) {
            upstream_transfer_t *next = q->next;
            if (cancelled) {
                q->cancelled = true;
                transfer_complete(u, q, CURLE_ABORTED_BY_CALLBACK);
            } else {
                transfer_start(w, q);
            }
            q = next;
        }
        if (cancelled)
            transfer_abort_running(w);
        int running = 0;
        CURLMcode mc = curl_multi_perform(w->multi, &running);
        if (mc != CURLM_OK)
            LOG_E("upstream: curl_multi_perform: %s", curl_multi_strerror(mc));
        transfer_reap(w);
        if (stopping && w->running.newest == NULL)
            break;
        mc = curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK)
            LOG_E("upstream: curl_multi_poll: %s", curl_multi_strerror(mc));
    }
    return NULL;
}

/* The pool is started by the first transfer, not by upstream_new: a `modfs get` of a hit, or a
 * server whose store answers everything, never starts a thread nor makes a multi handle. Under
 * u->mu (the new threads wait on it before their first turn). A pool that failed to start is not
 * tried again: every transfer then fails with the reason in its errbuf. */
static bool transfers_ready(upstream_t *u, upstream_transfer_t *t)
{
    if (u->nworkers == 0 && !u->start_failed) {
        cache_err_t err = {0};
        if (upstream_global_init(&err) != 0 || upstream_transfers_start(u, 0, &err) != 0) {
            LOG_E("%s", err.msg);
            snprintf(u->start_error, sizeof u->start_error, "%.*s", (int)sizeof u->start_error - 1, err.msg);
            u->start_failed = true;
        }
    }
    if (!u->start_failed)
        return true;
    snprintf(t->errbuf, sizeof t->errbuf, "%s", u->start_error);
    t->code = CURLE_FAILED_INIT;
    t->done = true;
    return false;
}

void upstream_transfer_run(upstream_t *u, upstream_transfer_t *t)
{
    t->retry_after_s = -1;
    pthread_mutex_lock(&u->mu);
    assert(!u->stopping);
    if (u->cancelled) {
        t->cancelled = true;
        t->code = CURLE_ABORTED_BY_CALLBACK;
        t->done = true;
        pthread_mutex_unlock(&u->mu);
        return;
    }
    if (!transfers_ready(u, t)) {
        pthread_mutex_unlock(&u->mu);
        return;
    }
    /* the fewest transfers queued or running; the first such thread on a tie */
    upstream_worker_t *w = &u->workers[0];
    for (unsigned i = 1; i < u->nworkers; i++)
        if (u->workers[i].load < w->load)
            w = &u->workers[i];
    w->load++;
    t->worker = w;
    t->next = NULL;
    if (w->queue_tail != NULL)
        w->queue_tail->next = t;
    else
        w->queue_head = t;
    w->queue_tail = t;
    pthread_mutex_unlock(&u->mu);
    curl_multi_wakeup(w->multi);
    pthread_mutex_lock(&u->mu);
    while (!t->done)
        pthread_cond_wait(&t->done_cond, &u->mu);
    pthread_mutex_unlock(&u->mu);
}

void upstream_transfers_wake(upstream_t *u)
{
    pthread_mutex_lock(&u->mu); /* the pool may be starting on another thread */
    for (unsigned i = 0; i < u->nworkers; i++)
        if (u->workers[i].multi != NULL)
            curl_multi_wakeup(u->workers[i].multi);
    pthread_mutex_unlock(&u->mu);
}

/* One per core, at least 2 (a sink or a disk write that lingers on one thread leaves the others
 * receiving), at most UPSTREAM_MAX_THREADS. */
static unsigned transfer_threads_default(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 2)
        n = 2;
    if (n > UPSTREAM_MAX_THREADS)
        n = UPSTREAM_MAX_THREADS;
    return (unsigned)n;
}

int upstream_transfers_start(upstream_t *u, unsigned nthreads, cache_err_t *err)
{
    if (nthreads == 0)
        nthreads = transfer_threads_default();
    if (nthreads > UPSTREAM_MAX_THREADS)
        nthreads = UPSTREAM_MAX_THREADS;
    u->share = curl_share_init();
    u->workers = calloc(nthreads, sizeof *u->workers);
    if (u->share == NULL || u->workers == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    curl_share_setopt(u->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(u->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(u->share, CURLSHOPT_USERDATA, (void *)u);
    curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    long maxconnects = UPSTREAM_MAX_CONNECTS / (long)nthreads;
    if (maxconnects < UPSTREAM_MIN_CONNECTS)
        maxconnects = UPSTREAM_MIN_CONNECTS;
    u->nworkers = nthreads;
    for (unsigned i = 0; i < nthreads; i++) {
        upstream_worker_t *w = &u->workers[i];
        w->u = u;
        w->index = i;
        if ((w->multi = curl_multi_init()) == NULL)
            return cache_err_set(err, -ENOMEM, "out of memory");
        curl_multi_setopt(w->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
        curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, maxconnects);
    }

    /* The transfer threads take no signals: they belong to the threads of the program. A write to
     * a socket the peer closed then fails with EPIPE instead of killing the process. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = 0;
    for (unsigned i = 0; i < nthreads && prc == 0; i++) {
        upstream_worker_t *w = &u->workers[i];
        prc = pthread_create(&w->thread, NULL, transfer_thread, w);
        if (prc == 0) {
            w->started = true;
            char name[16];
            snprintf(name, sizeof name, "modfs-xfer%u", i % 100u); /* i < UPSTREAM_MAX_THREADS */
            pthread_setname_np(w->thread, name);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0)
        return cache_err_set(err, -prc, "upstream: starting a transfer thread: %s", strerror(prc));
    LOG_I("upstream: %u transfer threads", nthreads);
    return 0;
}

void upstream_transfers_stop(upstream_t *u)
{
    pthread_mutex_lock(&u->mu);
    u->stopping = true;
    pthread_mutex_unlock(&u->mu);
    upstream_transfers_wake(u);
    for (unsigned i = 0; i < u->nworkers; i++) {
        upstream_worker_t *w = &u->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        w->started = false;
        for (size_t k = 0; k < w->nidle; k++)
            curl_easy_cleanup(w->idle[k]);
        w->nidle = 0;
        if (w->multi != NULL)
            curl_multi_cleanup(w->multi);
        w->multi = NULL;
    }
    free(u->workers);
    u->workers = NULL;
    u->nworkers = 0;
    if (u->share != NULL)
        curl_share_cleanup(u->share);
    u->share = NULL;
}
