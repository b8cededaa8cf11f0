/* SPDX-License-Identifier: MIT */
/*
 * upstream.c — fetching keys from the upstream GOPROXY list: the walk along the list, retries,
 * cancellation. The transfers themselves run on the curl multi threads of transfer.c.
 *
 * The walk mirrors go's modfetch.TryProxies: after "URL," only 404/410 move on, after "URL|"
 * anything does; of several failures the last one that is not "not found" wins, else the last
 * "not found".
 *
 * Retries: a transient failure (connection refused or reset, a timeout, 429, 5xx, a truncated
 * body) is tried again up to max_retries times with a jittered exponential backoff, but a new
 * attempt starts only within the retry window (8 s by default) of the fetch's start. That bounds the whole
 * fetch: with the defaults (connect 5 s, stall 15 s, 2 retries) a hung upstream errors after one
 * stall (15 s, no retry fits), a blackholed one after two connect timeouts (about 10 s), and the
 * worst case (an attempt that connects slowly then stalls, started just inside the window) stays
 * under 30 s; a refused connection or a 503 is retried within a second. A Retry-After from the
 * upstream (429, 503) replaces the backoff when it fits in the window, and ends the fetch with
 * that said when it does not.
 */
#include "upstream.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common.h"
#include "upstream_i.h"

#define UPSTREAM_MAX_PATH 4096 /* escaped key length limit */
#define UPSTREAM_BACKOFF_FIRST_MS 100L
#define UPSTREAM_BACKOFF_MAX_MS 5000L

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* libcurl's global set-up loads the TLS library's configuration (about a millisecond): done at the
 * first transfer (transfer.c), or at once by a user of libcurl outside upstream/ (the shared tier). */
int upstream_global_init(cache_err_t *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return cache_err_set(err, -EIO, "curl_global_init: %s", curl_easy_strerror(global_rc));
    return 0;
}

/* ---- keys ---- */

/* What go's url.PathEscape leaves alone in a path segment, plus '/' which go's proxy client puts
 * back ("%2F" -> "/"). Everything else, '!' included, becomes %XX, except in the paths of a
 * checksum database, which go joins with web.Join and sends with '!' as it is. */
static bool key_char_plain(unsigned char c, bool bang_plain)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    if (c == '!')
        return bang_plain;
    return c != '\0' && strchr("-_.~$&+:=@/", c) != NULL;
}

int upstream_fetch_begin(const char *path, bool bang_plain, char *out, size_t cap, upstream_result_t **res,
                         upstream_result_t *scratch, cache_err_t *err)
{
    if (*res == NULL)
        *res = scratch;
    memset(*res, 0, sizeof **res);
    if (err != NULL)
        err->upstream_status = 0;
    return upstream_path_escape(path, bang_plain, out, cap, err);
}

/* Checks the key's shape (relative, no empty, "." or ".." segment: go cleans such paths, a proxy
 * URL must not climb out of its base) and writes its escaped form into out. */
int upstream_path_escape(const char *key, bool bang_plain, char *out, size_t cap, cache_err_t *err)
{
    if (key[0] == '\0' || key[0] == '/')
        return cache_err_set(err, -EINVAL, "upstream key \"%s\": must be a non-empty relative path", key);
    const char *seg = key;
    for (;;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return cache_err_set(err, -EINVAL, "upstream key \"%s\": empty, \".\" or \"..\" path element",
                                 key);
        if (seg[n] == '\0')
            break;
        seg += n + 1;
    }
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)key; *c != '\0'; c++) {
        if (*c < 0x20 || *c == 0x7f)
            return cache_err_set(err, -EINVAL, "upstream key: contains a control character");
        if (o + 4 > cap)
            return cache_err_set(err, -ENAMETOOLONG, "upstream key \"%.64s...\": too long", key);
        if (key_char_plain(*c, bang_plain)) {
            out[o++] = (char)*c;
        } else {
            out[o++] = '%';
            out[o++] = hex[*c >> 4];
            out[o++] = hex[*c & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

/* ---- retries ---- */

static uint64_t backoff_random(void)
{
    static _Thread_local uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&state;
        state |= 1;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* 100 ms, 200 ms, 400 ms ... capped at 5 s, each +-25% so that many waiters do not return in step. */
static long backoff_ms(int attempt)
{
    long d = UPSTREAM_BACKOFF_FIRST_MS;
    for (int i = 0; i < attempt && d < UPSTREAM_BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > UPSTREAM_BACKOFF_MAX_MS)
        d = UPSTREAM_BACKOFF_MAX_MS;
    return d * 3 / 4 + (long)(backoff_random() % (uint64_t)(d / 2 + 1));
}

uint64_t upstream_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Remembers whether this attempt reached upstream (any HTTP status is an answer: a readiness
 * check asks whether upstream is there, not whether it has a module). */
static void note_health(upstream_t *u, bool answered, const cache_err_t *err)
{
    uint64_t now = upstream_now_ms();
    if (answered) {
        atomic_store(&u->last_answer_ms, now);
        return;
    }
    pthread_mutex_lock(&u->health_mu);
    snprintf(u->last_failure, sizeof u->last_failure, "%.*s", (int)sizeof u->last_failure - 1, err->msg);
    pthread_mutex_unlock(&u->health_mu);
    atomic_store(&u->last_failure_ms, now);
}

bool upstream_health(upstream_t *u, uint64_t *answer_ms, uint64_t *failure_ms, char *why, size_t cap)
{
    *answer_ms = atomic_load(&u->last_answer_ms);
    *failure_ms = atomic_load(&u->last_failure_ms);
    if (why != NULL && cap > 0) {
        pthread_mutex_lock(&u->health_mu);
        snprintf(why, cap, "%s", u->last_failure);
        pthread_mutex_unlock(&u->health_mu);
    }
    for (size_t i = 0; i < u->nproxies; i++)
        if (u->proxies[i].kind == PROXY_URL)
            return false;
    return true;
}

/* Sleeps ms, or less when the upstream is cancelled meanwhile. Returns false when cancelled. */
static bool backoff_wait(upstream_t *u, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&u->mu);
    while (!u->cancelled && pthread_cond_timedwait(&u->cancel_cv, &u->mu, &until) != ETIMEDOUT)
        ;
    bool cancelled = u->cancelled;
    pthread_mutex_unlock(&u->mu);
    return !cancelled;
}

int upstream_fetch_url(upstream_t *u, const upstream_proxy_t *p, const char *key, const char *url,
                     const char *shown, int fd, const upstream_sink_t *sink, uint64_t max_bytes,
                     upstream_result_t *res, cache_err_t *err)
{
    assert(err != NULL);
    snprintf(res->url, sizeof res->url, "%s", shown);
    if (p->file) {
        /* curl reads a directory as an empty file; go's file proxy fails to read it. */
        char *local = NULL;
        struct stat st;
        if (asprintf(&local, "%s/%s", p->file_dir, key) < 0)
            return cache_err_set(err, -ENOMEM, "out of memory");
        bool not_file = stat(local, &st) == 0 && !S_ISREG(st.st_mode);
        free(local);
        if (not_file) {
            res->status = 404;
            return cache_err_set(err, -ENOENT, "upstream %s: 404 Not Found (not a regular file)", shown);
        }
    }
    uint64_t start = upstream_now_ms();
    for (int attempt = 0;; attempt++) {
        if (ftruncate(fd, 0) != 0) {
            int e = errno;
            return cache_err_set(err, -e, "upstream %s: truncating the output file: %s", shown, strerror(e));
        }
        upstream_transfer_t t;
        memset(&t, 0, sizeof t);
        t.proxy = p;
        t.url = url;
        t.shown = shown;
        t.fd = fd;
        t.sink = sink;
        t.max_bytes = max_bytes;
        pthread_cond_init(&t.done_cond, NULL);
        atomic_fetch_add(&u->requests, 1);
        upstream_transfer_run(u, &t);
        pthread_cond_destroy(&t.done_cond);
        if (t.redirects > 0)
            atomic_fetch_add(&u->requests, (uint64_t)t.redirects);
        bool transient;
        int rc = upstream_transfer_judge(u, &t, shown, &transient, err);
        res->status = t.status;
        res->bytes = t.bytes;
        note_health(u, t.status > 0 || p->file || rc == 0 || rc == -ENOENT, err);
        if (rc == 0) {
            LOG_D("upstream %s: %ld, %llu bytes", shown, t.status, (unsigned long long)t.bytes);
            return 0;
        }
        if (!transient || attempt >= u->max_retries) {
            if (attempt > 0)
                cache_err_prefix(err, rc, "after %d attempts", attempt + 1);
            return rc;
        }
        long delay = backoff_ms(attempt);
        long left = u->retry_window_ms - (long)(upstream_now_ms() - start);
        if (t.retry_after_s >= 0) {
            if (t.retry_after_s * 1000 > left) {
                /* the upstream asks for more patience than this fetch has */
                size_t n = strlen(err->msg);
                snprintf(err->msg + n, sizeof err->msg - n, " (retry after %ld s)", t.retry_after_s);
                if (attempt > 0)
                    cache_err_prefix(err, rc, "after %d attempts", attempt + 1);
                return rc;
            }
            if (t.retry_after_s * 1000 > delay)
                delay = t.retry_after_s * 1000;
        }
        if (delay > left) {
            if (attempt > 0)
                cache_err_prefix(err, rc, "after %d attempts", attempt + 1);
            return rc;
        }
        LOG_W("%s; retrying in %ld ms", err->msg, delay);
        if (!backoff_wait(u, delay))
            return cache_err_set(err, -ECANCELED, "upstream %s: cancelled (shutting down)", shown);
    }
}

/* ---- public API ---- */

int upstream_new(const upstream_config_t *cfg, upstream_t **out, cache_err_t *err)
{
    assert(cfg != NULL && out != NULL);
    *out = NULL;
    upstream_t *u = calloc(1, sizeof *u);
    if (u == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&u->mu, NULL);
    pthread_mutex_init(&u->health_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&u->cancel_cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&u->share_locks[i], NULL);
    int rc = upstream_proxylist_parse(cfg->proxy_list, &u->proxies, &u->nproxies, err);
    if (rc != 0)
        goto fail;
    if (cfg->ca_file != NULL && cfg->ca_file[0] != '\0') {
        if (access(cfg->ca_file, R_OK) != 0) {
            int e = errno;
            rc = cache_err_set(err, -e, "upstream CA file %s: %s", cfg->ca_file, strerror(e));
            goto fail;
        }
        u->ca_file = strdup(cfg->ca_file);
        if (u->ca_file == NULL) {
            rc = cache_err_set(err, -ENOMEM, "out of memory");
            goto fail;
        }
    }
    /* http_proxy and friends are honoured (curl reads them), except for loopback, as in go. */
    const char *np = getenv("no_proxy");
    if (np == NULL || np[0] == '\0')
        np = getenv("NO_PROXY");
    if (asprintf(&u->no_proxy, "%s%slocalhost,127.0.0.0/8,::1", np ? np : "", np && np[0] ? "," : "") < 0) {
        u->no_proxy = NULL;
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    /* The go command is needed for a "direct" entry, and for private modules whenever the caller
     * says a key is one (a reload may name private modules later): with a work directory, the
     * runner is always ready. It costs a copy of the environment until its first use. */
    bool need_direct = cfg->work_dir != NULL;
    for (size_t i = 0; i < u->nproxies; i++)
        need_direct |= u->proxies[i].kind == PROXY_DIRECT;
    if (need_direct) {
        upstream_direct_config_t dcfg = {
            .go_command = cfg->go_command,
            .work_dir = cfg->work_dir,
            .timeout_ms = cfg->direct_timeout_ms,
            .max_jobs = cfg->direct_jobs,
        };
        if ((rc = upstream_direct_new(&dcfg, &u->direct, err)) != 0)
            goto fail;
    }
    u->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : UPSTREAM_DEFAULT_CONNECT_TIMEOUT_MS;
    u->stall_ms = cfg->stall_timeout_ms > 0 ? cfg->stall_timeout_ms : UPSTREAM_DEFAULT_STALL_TIMEOUT_MS;
    u->total_timeout_ms = cfg->total_timeout_ms > 0 ? cfg->total_timeout_ms : UPSTREAM_DEFAULT_TOTAL_TIMEOUT_MS;
    u->max_retries = cfg->max_retries < 0 ? UPSTREAM_DEFAULT_RETRIES : cfg->max_retries;
    u->retry_window_ms = cfg->retry_window_ms > 0 ? cfg->retry_window_ms : UPSTREAM_DEFAULT_RETRY_WINDOW_MS;
    if ((u->sumdb_routes = upstream_sumdb_routes_new()) == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    /* the transfer threads start with the first transfer (transfer.c) */
    *out = u;
    return 0;
fail:
    upstream_free(u);
    return rc;
}

void upstream_cancel_all(upstream_t *u)
{
    pthread_mutex_lock(&u->mu);
    bool was = u->cancelled;
    u->cancelled = true;
    pthread_cond_broadcast(&u->cancel_cv);
    pthread_mutex_unlock(&u->mu);
    if (!was)
        upstream_transfers_wake(u);
    upstream_direct_cancel(u->direct);
}

void upstream_free(upstream_t *u)
{
    if (u == NULL)
        return;
    /* no caller is left (the contract), so cancelling only cuts short what a hung transfer would
     * otherwise hold up here */
    upstream_cancel_all(u);
    upstream_transfers_stop(u);
    for (size_t i = 0; i < u->nproxies; i++)
        upstream_proxy_dispose(&u->proxies[i]);
    free(u->proxies);
    upstream_sumdb_routes_free(u->sumdb_routes);
    free(u->ca_file);
    free(u->no_proxy);
    upstream_direct_free(u->direct);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&u->share_locks[i]);
    pthread_cond_destroy(&u->cancel_cv);
    pthread_mutex_destroy(&u->mu);
    pthread_mutex_destroy(&u->health_mu);
    free(u);
}

enum { RANK_NOT_FOUND, RANK_PROXY };

int upstream_fetch(upstream_t *u, const char *escaped_key, bool private_module, int fd, uint64_t max_bytes,
                   upstream_result_t *res, cache_err_t *err)
{
    return upstream_fetch_sink(u, escaped_key, private_module, fd, NULL, max_bytes, res, err);
}

int upstream_fetch_sink(upstream_t *u, const char *escaped_key, bool private_module, int fd,
                        const upstream_sink_t *sink, uint64_t max_bytes, upstream_result_t *res, cache_err_t *err)
{
    assert(u != NULL && escaped_key != NULL);
    upstream_result_t scratch;
    char path[UPSTREAM_MAX_PATH];
    int rc = upstream_fetch_begin(escaped_key, false, path, sizeof path, &res, &scratch, err);
    if (rc != 0)
        return rc;

    /* direct entries and private modules need the key's module and version */
    modkey_buf_t kb;
    bool parsed = false;
    if (u->direct != NULL || private_module)
        parsed = modkey_parse(escaped_key, strlen(escaped_key), &kb.key, NULL) == 0;
    if (private_module) {
        /* never asked of a proxy, whatever the list says */
        if (!parsed || u->direct == NULL)
            return cache_err_set(err, -EINVAL, "private module %s: %s", escaped_key,
                                 parsed ? "no go command runner (no work directory)" : "not a module key");
        rc = upstream_direct_fetch(u->direct, &kb.key, true, fd, max_bytes, res, err);
        if (err != NULL)
            err->upstream_status = rc == -ENOENT ? 404 : 0;
        return rc;
    }

    int best_rc = 0, best_rank = RANK_NOT_FOUND;
    cache_err_t best_err = {0};
    upstream_result_t best_res;
    memset(&best_res, 0, sizeof best_res);
    for (size_t i = 0; i < u->nproxies; i++) {
        const upstream_proxy_t *p = &u->proxies[i];
        cache_err_t e = {0};
        upstream_result_t r;
        memset(&r, 0, sizeof r);
        if (p->kind == PROXY_OFF) {
            rc = cache_err_set(&e, -ENOENT, "module lookup disabled by GOPROXY=off");
        } else if (p->kind == PROXY_DIRECT) {
            if (!parsed) {
                rc = cache_err_set(&e, -ENOENT, "direct: \"%s\" is not a module key", escaped_key);
                r.status = 404;
            } else {
                if (ftruncate(fd, 0) != 0)
                    return cache_err_set(err, -errno, "truncating the output file: %s", strerror(errno));
                rc = upstream_direct_fetch(u->direct, &kb.key, false, fd, max_bytes, &r, &e);
            }
            if (rc == 0) {
                *res = r;
                return 0;
            }
        } else {
            char *url = NULL, *shown = NULL;
            if (asprintf(&url, "%s/%s", p->base, path) < 0)
                return cache_err_set(err, -ENOMEM, "out of memory");
            if (asprintf(&shown, "%s/%s", p->shown, path) < 0) {
                free(url);
                return cache_err_set(err, -ENOMEM, "out of memory");
            }
            rc = upstream_fetch_url(u, p, escaped_key, url, shown, fd, sink, max_bytes, &r, &e);
            free(url);
            free(shown);
            if (rc == 0) {
                *res = r;
                return 0;
            }
            if (rc == -ECANCELED) {
                /* shutting down: the rest of the list would be cancelled too */
                *res = r;
                if (err != NULL)
                    *err = e;
                return rc;
            }
        }
        bool not_found = rc == -ENOENT;
        if (!not_found && best_rank <= RANK_PROXY) {
            best_rc = rc, best_err = e, best_res = r, best_rank = RANK_PROXY;
        } else if (best_rank == RANK_NOT_FOUND) {
            best_rc = rc, best_err = e, best_res = r;
        }
        if (p->kind == PROXY_OFF || (!p->fall_back_on_error && !not_found))
            break;
    }
    *res = best_res;
    if (err != NULL) {
        *err = best_err;
        err->upstream_status = (int)best_res.status;
    }
    return best_rc;
}

uint64_t upstream_request_count(const upstream_t *u)
{
    return atomic_load(&u->requests);
}
