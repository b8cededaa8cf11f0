/* SPDX-License-Identifier: MIT */
/*
 * upstream.c — fetching keys from the upstream GOPROXY list with libcurl.
 *
 * Every transfer runs on one thread that drives one curl multi handle. upstream_fetch queues a
 * transfer, wakes that thread (curl_multi_wakeup) and sleeps until the transfer is done; retries
 * and their backoff sleep in the calling thread, never on the transfer thread. Why not an easy
 * handle per calling thread: libcurl multiplexes HTTP/2 streams only among transfers of the same
 * multi handle (a connection busy in another multi is skipped), and with CURLOPT_PIPEWAIT a
 * transfer that finds another multi's connection still handshaking is parked until its own multi
 * finishes something, which can be never. With one multi, concurrent fetches to an HTTP/2 upstream
 * share one TLS connection, and HTTP/1.1 upstreams get a pool of keep-alive connections. A curl
 * share handle keeps DNS answers and TLS sessions across the pooled easy handles.
 *
 * The walk along the proxy list mirrors go's modfetch.TryProxies: after "URL," only 404/410 move
 * on, after "URL|" anything does; of several failures the last one that is not "not found" wins,
 * else the last "not found".
 */
#include "upstream.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common.h"
#include "upstream_i.h"

#define UPSTREAM_USER_AGENT "modfs/" MODFS_VERSION
#define UPSTREAM_MAX_REDIRECTS 10L
#define UPSTREAM_IDLE_HANDLES 32      /* easy handles kept for reuse by the transfer thread */
#define UPSTREAM_MAX_CONNECTS 64L     /* idle connections the multi handle keeps open */
#define UPSTREAM_MAX_PATH 4096        /* escaped key length limit */
#define UPSTREAM_ERROR_BODY_MAX 65536 /* an error body longer than this is not read to its end */
#define UPSTREAM_DETAIL_MAX 200       /* bytes of an error body's first line shown in messages */
#define UPSTREAM_BACKOFF_FIRST_MS 100L
#define UPSTREAM_BACKOFF_MAX_MS 5000L

/* One attempt of one GET. Lives on the calling thread's stack; the transfer thread writes the
 * result fields until it sets done under upstream.mu, and never touches it afterwards. */
typedef struct transfer {
    const upstream_proxy_t *proxy;
    const char *url;
    int fd;
    uint64_t max_bytes;
    CURL *easy;

    CURLcode code;
    long status;
    long redirects;
    long os_errno;
    uint64_t bytes;
    bool status_known;
    bool encoded; /* the final response has a Content-Encoding: its Content-Length is not the size */
    bool too_big;
    int write_errno;
    uint64_t error_body_bytes;
    size_t detail_len;
    char detail[UPSTREAM_DETAIL_MAX + 1];
    char reason[64];
    char content_type[64];
    char errbuf[CURL_ERROR_SIZE];

    bool done; /* protected by upstream.mu */
    pthread_cond_t done_cond;
    struct transfer *next;
} transfer_t;

struct upstream {
    upstream_proxy_t *proxies;
    size_t nproxies;
    char *ca_file;
    char *no_proxy;
    long connect_timeout_ms;
    long total_timeout_ms;
    int max_retries;
    upstream_direct_t *direct;  /* the go command; NULL without a work directory and a "direct" entry */
    _Atomic uint64_t requests;
    _Atomic uint64_t last_answer_ms;  /* upstream_now_ms() of the last HTTP answer, 0: never */
    _Atomic uint64_t last_failure_ms; /* of the last attempt with no answer at all, 0: never */
    pthread_mutex_t health_mu;        /* protects last_failure */
    char last_failure[256];

    pthread_mutex_t mu; /* protects queue_head, queue_tail, stopping, transfer.done */
    transfer_t *queue_head;
    transfer_t *queue_tail;
    bool stopping;

    CURLM *multi;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    CURL *idle[UPSTREAM_IDLE_HANDLES]; /* transfer thread only */
    size_t nidle;
    pthread_t thread;
    bool thread_started;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- keys ---- */

/* What go's url.PathEscape leaves alone in a path segment, plus '/' which go's proxy client puts
 * back ("%2F" -> "/"). Everything else, '!' included, becomes %XX. */
static bool key_char_plain(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-_.~$&+:=@/", c) != NULL;
}

/* Checks the key's shape (relative, no empty, "." or ".." segment: go cleans such paths, a proxy
 * URL must not climb out of its base) and writes its escaped form into out. */
static int key_escape(const char *key, char *out, size_t cap, cache_err_t *err)
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
        if (key_char_plain(*c)) {
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

/* ---- curl callbacks (transfer thread) ---- */

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

/* Watches response heads: each status line starts a new response (redirects, 1xx), so the
 * per-response facts are reset there. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    transfer_t *t = ud;
    size_t len = size * nitems;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        t->encoded = false;
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
    } else if (len > 17 && strncasecmp(buf, "content-encoding:", 17) == 0) {
        const char *v = buf + 17, *end = buf + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && isspace((unsigned char)end[-1]))
            end--;
        t->encoded = end > v && !((size_t)(end - v) == 8 && strncasecmp(v, "identity", 8) == 0);
    }
    return len;
}

static bool transfer_is_payload(const transfer_t *t)
{
    /* file:// has no status: a readable file is the answer. */
    return t->status == 200 || (t->proxy->file && t->status == 0);
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *ud)
{
    transfer_t *t = ud;
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

/* ---- the transfer thread ---- */

static void transfer_complete(upstream_t *u, transfer_t *t, CURLcode code)
{
    pthread_mutex_lock(&u->mu);
    t->code = code;
    t->done = true;
    pthread_cond_signal(&t->done_cond);
    pthread_mutex_unlock(&u->mu);
}

static void easy_release(upstream_t *u, CURL *e)
{
    if (u->nidle < UPSTREAM_IDLE_HANDLES)
        u->idle[u->nidle++] = e;
    else
        curl_easy_cleanup(e);
}

static CURLcode easy_configure(upstream_t *u, CURL *e, transfer_t *t)
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
    SET(CURLOPT_USERAGENT, UPSTREAM_USER_AGENT);
    SET(CURLOPT_CONNECTTIMEOUT_MS, u->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, u->total_timeout_ms);
    if (t->proxy->file) {
        SET(CURLOPT_PROTOCOLS_STR, "file");
    } else {
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        /* go refuses a redirect from https to http (securityPreservingHTTPClient). */
        SET(CURLOPT_REDIR_PROTOCOLS_STR, t->proxy->https ? "https" : "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, UPSTREAM_MAX_REDIRECTS);
        SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        SET(CURLOPT_PIPEWAIT, 1L);
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

static void transfer_start(upstream_t *u, transfer_t *t)
{
    CURL *e = u->nidle > 0 ? u->idle[--u->nidle] : curl_easy_init();
    if (e == NULL) {
        transfer_complete(u, t, CURLE_OUT_OF_MEMORY);
        return;
    }
    curl_easy_reset(e);
    t->easy = e;
    CURLcode c = easy_configure(u, e, t);
    if (c == CURLE_OK && curl_multi_add_handle(u->multi, e) != CURLM_OK)
        c = CURLE_FAILED_INIT;
    if (c != CURLE_OK) {
        easy_release(u, e);
        transfer_complete(u, t, c);
    }
}

static void transfer_reap(upstream_t *u)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(u->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode code = msg->data.result; /* msg is invalid once the handle is removed */
        char *priv = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        transfer_t *t = (transfer_t *)(void *)priv;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t->status);
        curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &t->redirects);
        curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &t->os_errno);
        char *ctype = NULL;
        if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != NULL)
            snprintf(t->content_type, sizeof t->content_type, "%s", ctype);
        curl_multi_remove_handle(u->multi, e);
        easy_release(u, e);
        transfer_complete(u, t, code);
    }
}

static void *transfer_thread(void *arg)
{
    upstream_t *u = arg;
    for (;;) {
        pthread_mutex_lock(&u->mu);
        transfer_t *q = u->queue_head;
        u->queue_head = u->queue_tail = NULL;
        bool stopping = u->stopping;
        pthread_mutex_unlock(&u->mu);
        while (q != NULL) {
            transfer_t *next = q->next;
            transfer_start(u, q);
            q = next;
        }
        int running = 0;
        CURLMcode mc = curl_multi_perform(u->multi, &running);
        if (mc != CURLM_OK)
            LOG_E("upstream: curl_multi_perform: %s", curl_multi_strerror(mc));
        transfer_reap(u);
        if (stopping && running == 0)
            break;
        mc = curl_multi_poll(u->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK)
            LOG_E("upstream: curl_multi_poll: %s", curl_multi_strerror(mc));
    }
    return NULL;
}

/* Queues t and blocks until the transfer thread has finished it. */
static void transfer_run(upstream_t *u, transfer_t *t)
{
    pthread_mutex_lock(&u->mu);
    assert(!u->stopping);
    t->next = NULL;
    if (u->queue_tail != NULL)
        u->queue_tail->next = t;
    else
        u->queue_head = t;
    u->queue_tail = t;
    pthread_mutex_unlock(&u->mu);
    curl_multi_wakeup(u->multi);
    pthread_mutex_lock(&u->mu);
    while (!t->done)
        pthread_cond_wait(&t->done_cond, &u->mu);
    pthread_mutex_unlock(&u->mu);
}

/* ---- judging an attempt ---- */

/* Reason phrases for answers without one (HTTP/2 has none), as go's http.StatusText. */
static const char *status_text(long status)
{
    static const struct {
        long status;
        const char *text;
    } texts[] = {
        {200, "OK"},
        {204, "No Content"},
        {206, "Partial Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {410, "Gone"},
        {429, "Too Many Requests"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (texts[i].status == status)
            return texts[i].text;
    return "";
}

static bool status_is_transient(long status)
{
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* The first line of a text/plain error body, printable characters only (go shows such bodies to
 * its users too: proxy.golang.org explains its 404s and 410s there). */
static void transfer_detail(const transfer_t *t, char *out, size_t cap)
{
    out[0] = '\0';
    if (strncasecmp(t->content_type, "text/plain", 10) != 0)
        return;
    size_t o = 0;
    for (size_t i = 0; i < t->detail_len && t->detail[i] != '\n' && t->detail[i] != '\r' && o + 1 < cap;
         i++) {
        unsigned char c = (unsigned char)t->detail[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

static int transfer_status_error(const transfer_t *t, const char *shown, cache_err_t *err)
{
    const char *reason = t->reason[0] != '\0' ? t->reason : status_text(t->status);
    char detail[UPSTREAM_DETAIL_MAX + 1];
    transfer_detail(t, detail, sizeof detail);
    int rc = (t->status == 404 || t->status == 410) ? -ENOENT : -EIO;
    return cache_err_set(err, rc, "upstream %s: %ld%s%s%s%s", shown, t->status, reason[0] ? " " : "", reason,
                         detail[0] ? ": " : "", detail);
}

/* A transport failure: which errno, which words, and whether trying again may help. */
static int transfer_curl_error(const transfer_t *t, const char *shown, bool *transient, cache_err_t *err)
{
    const char *why = t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(t->code);
    int rc;
    switch (t->code) {
    case CURLE_COULDNT_CONNECT: {
        rc = t->os_errno > 0 ? -(int)t->os_errno : -ECONNREFUSED;
        *transient = true;
        char what[128];
        snprintf(what, sizeof what, "%s", strerror(-rc));
        what[0] = (char)tolower((unsigned char)what[0]);
        return cache_err_set(err, rc, "upstream %s: %s (%s)", shown, what, why);
    }
    case CURLE_OPERATION_TIMEDOUT:
        *transient = true;
        return cache_err_set(err, -ETIMEDOUT, "upstream %s: timed out (%s)", shown, why);
    case CURLE_PARTIAL_FILE:
        *transient = true;
        return cache_err_set(err, -EIO, "upstream %s: truncated body (%s)", shown, why);
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        *transient = true;
        return cache_err_set(err, -EIO, "upstream %s: %s", shown, why);
    case CURLE_COULDNT_RESOLVE_HOST:
        rc = -EHOSTUNREACH;
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        rc = -ELOOP;
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return cache_err_set(err, -EPROTO, "upstream %s: redirect to a refused scheme (%s)", shown, why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return cache_err_set(err, -EPROTO, "upstream %s: TLS: %s", shown, why);
    case CURLE_FILE_COULDNT_READ_FILE:
        rc = -ENOENT;
        break;
    case CURLE_OUT_OF_MEMORY:
        rc = -ENOMEM;
        break;
    default:
        rc = -EIO;
        break;
    }
    return cache_err_set(err, rc, "upstream %s: %s", shown, why);
}

/* Turns a finished attempt into 0 or -errno with words. */
static int transfer_judge(transfer_t *t, const char *shown, bool *transient, cache_err_t *err)
{
    *transient = false;
    if (t->too_big)
        return cache_err_set(err, -EFBIG, "upstream %s: body larger than %llu bytes", shown,
                             (unsigned long long)t->max_bytes);
    if (t->write_errno != 0)
        return cache_err_set(err, -t->write_errno, "upstream %s: writing the body: %s", shown,
                             strerror(t->write_errno));
    /* Redirect and TLS failures leave a 3xx or no status; they explain themselves better than it. */
    bool transport_first = t->code == CURLE_TOO_MANY_REDIRECTS || t->code == CURLE_UNSUPPORTED_PROTOCOL;
    if (!transport_first && t->status != 0 && t->status != 200) {
        *transient = status_is_transient(t->status);
        return transfer_status_error(t, shown, err);
    }
    if (t->code == CURLE_OK) {
        if (transfer_is_payload(t)) {
            t->status = 200; /* file:// has none; report what an HTTP proxy would have said */
            return 0;
        }
        return cache_err_set(err, -EIO, "upstream %s: no HTTP status", shown);
    }
    if (t->code == CURLE_FILE_COULDNT_READ_FILE) {
        t->status = 404; /* a missing file under a file:// proxy is go's "not found" */
        return cache_err_set(err, -ENOENT, "upstream %s: 404 Not Found (no such file)", shown);
    }
    return transfer_curl_error(t, shown, transient, err);
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

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
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

/* GET one URL, retrying transient failures. */
static int fetch_url(upstream_t *u, const upstream_proxy_t *p, const char *key, const char *url,
                     const char *shown, int fd, uint64_t max_bytes, upstream_result_t *res, cache_err_t *err)
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
    for (int attempt = 0;; attempt++) {
        if (ftruncate(fd, 0) != 0) {
            int e = errno;
            return cache_err_set(err, -e, "upstream %s: truncating the output file: %s", shown, strerror(e));
        }
        transfer_t t;
        memset(&t, 0, sizeof t);
        t.proxy = p;
        t.url = url;
        t.fd = fd;
        t.max_bytes = max_bytes;
        pthread_cond_init(&t.done_cond, NULL);
        atomic_fetch_add(&u->requests, 1);
        transfer_run(u, &t);
        pthread_cond_destroy(&t.done_cond);
        if (t.redirects > 0)
            atomic_fetch_add(&u->requests, (uint64_t)t.redirects);
        bool transient;
        int rc = transfer_judge(&t, shown, &transient, err);
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
        LOG_W("%s; retrying in %ld ms", err->msg, delay);
        sleep_ms(delay);
    }
}

/* ---- public API ---- */

int upstream_new(const upstream_config_t *cfg, upstream_t **out, cache_err_t *err)
{
    assert(cfg != NULL && out != NULL);
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return cache_err_set(err, -EIO, "curl_global_init: %s", curl_easy_strerror(global_rc));
    upstream_t *u = calloc(1, sizeof *u);
    if (u == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&u->mu, NULL);
    pthread_mutex_init(&u->health_mu, NULL);
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
    u->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
    u->total_timeout_ms = cfg->total_timeout_ms > 0 ? cfg->total_timeout_ms : 300000;
    u->max_retries = cfg->max_retries < 0 ? UPSTREAM_DEFAULT_RETRIES : cfg->max_retries;

    u->share = curl_share_init();
    u->multi = curl_multi_init();
    if (u->share == NULL || u->multi == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    curl_share_setopt(u->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(u->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(u->share, CURLSHOPT_USERDATA, (void *)u);
    curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_multi_setopt(u->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, UPSTREAM_MAX_CONNECTS);

    /* The transfer thread takes no signals: they belong to the threads of the program. A write to
     * a socket the peer closed then fails with EPIPE instead of killing the process. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&u->thread, NULL, transfer_thread, u);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        rc = cache_err_set(err, -prc, "upstream: starting the transfer thread: %s", strerror(prc));
        goto fail;
    }
    u->thread_started = true;
    *out = u;
    return 0;
fail:
    upstream_free(u);
    return rc;
}

void upstream_free(upstream_t *u)
{
    if (u == NULL)
        return;
    if (u->thread_started) {
        pthread_mutex_lock(&u->mu);
        u->stopping = true;
        pthread_mutex_unlock(&u->mu);
        curl_multi_wakeup(u->multi);
        pthread_join(u->thread, NULL);
    }
    for (size_t i = 0; i < u->nidle; i++)
        curl_easy_cleanup(u->idle[i]);
    if (u->multi != NULL)
        curl_multi_cleanup(u->multi);
    if (u->share != NULL)
        curl_share_cleanup(u->share);
    for (size_t i = 0; i < u->nproxies; i++)
        upstream_proxy_dispose(&u->proxies[i]);
    free(u->proxies);
    free(u->ca_file);
    free(u->no_proxy);
    upstream_direct_free(u->direct);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&u->share_locks[i]);
    pthread_mutex_destroy(&u->mu);
    pthread_mutex_destroy(&u->health_mu);
    free(u);
}

enum { RANK_NOT_FOUND, RANK_PROXY };

int upstream_fetch(upstream_t *u, const char *escaped_key, bool private_module, int fd, uint64_t max_bytes,
                   upstream_result_t *res, cache_err_t *err)
{
    assert(u != NULL && escaped_key != NULL);
    upstream_result_t scratch;
    if (res == NULL)
        res = &scratch;
    memset(res, 0, sizeof *res);
    if (err != NULL)
        err->upstream_status = 0;
    char path[UPSTREAM_MAX_PATH];
    int rc = key_escape(escaped_key, path, sizeof path, err);
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
            rc = fetch_url(u, p, escaped_key, url, shown, fd, max_bytes, &r, &e);
            free(url);
            free(shown);
            if (rc == 0) {
                *res = r;
                return 0;
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
