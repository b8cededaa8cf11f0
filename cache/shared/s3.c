/* SPDX-License-Identifier: MIT */
/*
 * s3.c — one S3 request at a time per calling thread (shared_i.h: shared_s3, shared_s3_list),
 * signed with AWS Signature V4 by libcurl itself (CURLOPT_AWS_SIGV4): no new dependency.
 *
 * Blocking easy handles, not the upstream client's multi thread: a request to the object store
 * is made by a thread that is waiting for it anyway (a miss's leader, the maintenance thread),
 * S3 gateways speak HTTP/1.1, and a pool of idle handles keeps their keep-alive connections for
 * the next request of any thread.
 *
 * What libcurl 7.88's SigV4 needs to be told (each cost a 403 on Ceph's gateway):
 *  - x-amz-content-sha256 on every request: libcurl signs a payload hash but does not send it,
 *    and the gateway then assumes UNSIGNED-PAYLOAD. We send the body's real SHA-256, which the
 *    gateway checks (400 on a mismatch): an upload damaged on the way is refused, not stored.
 *  - the path and the query exactly as they will be signed: AWS's URI encoding (layout.c), query
 *    parameters sorted, values encoded, no empty "Expect:" header (libcurl signs it as sent).
 *  - a Content-Length (CURLOPT_INFILESIZE_LARGE): chunked uploads get 411.
 *
 * The back-off of shared.h lives here: a failure of the tier (no answer, a stall past the
 * timeout, 5xx twice retried, 403) marks it down for SHARED_DOWN_BACKOFF_MS, during which
 * requests fail at once; the first request after that is a probe, alone (the others keep failing
 * at once until it answers), so a blackholed store costs one timeout per spell.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "shared_i.h"

#define S3_USER_AGENT "modfs/" MODFS_VERSION
#define S3_RETRIES 2
#define S3_ERROR_BODY_MAX 4096
#define S3_TOTAL_TIMEOUT_MS (30L * 60 * 1000) /* a cap even on a transfer that keeps moving */
#define S3_LIST_PAGE_MAX (8u << 20)

int64_t shared_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int shared_sleep(shared_t *s, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->wake_lock);
    int rc = 0;
    while (!atomic_load(&s->cancelled) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&s->wake_cv, &s->wake_lock, &until);
    pthread_mutex_unlock(&s->wake_lock);
    return atomic_load(&s->cancelled) ? -ECANCELED : 0;
}

/* ---- the back-off ---- */

/* 0 when a request may go out now (perhaps as the probe), -EHOSTDOWN with err otherwise. */
static int tier_check(shared_t *s, cache_err_t *err)
{
    pthread_mutex_lock(&s->down_lock);
    int rc = 0;
    if (s->down) {
        int64_t now = shared_now_ms();
        if (now < s->down_until_ms) {
            rc = cache_err_set(err, -EHOSTDOWN, "object store %s is down (next try in %lld s): %s", s->shown,
                               (long long)((s->down_until_ms - now + 999) / 1000), s->down_why);
        } else {
            /* this request is the probe: the others wait for its outcome */
            s->down_until_ms = now + s->timeout_ms + SHARED_DOWN_BACKOFF_MS;
        }
    }
    pthread_mutex_unlock(&s->down_lock);
    return rc;
}

static void tier_up(shared_t *s)
{
    pthread_mutex_lock(&s->down_lock);
    if (s->down) {
        s->down = false;
        LOG_N("object store %s answers again", s->shown);
    }
    pthread_mutex_unlock(&s->down_lock);
}

static void tier_down(shared_t *s, const char *why)
{
    pthread_mutex_lock(&s->down_lock);
    if (!s->down)
        LOG_W("object store %s: %s; the shared tier is skipped for %ld s at a time until it answers",
              s->shown, why, SHARED_DOWN_BACKOFF_MS / 1000);
    s->down = true;
    s->down_until_ms = shared_now_ms() + SHARED_DOWN_BACKOFF_MS;
    snprintf(s->down_why, sizeof s->down_why, "%s", why);
    pthread_mutex_unlock(&s->down_lock);
}

bool shared_is_down(shared_t *s, char *why, size_t cap)
{
    pthread_mutex_lock(&s->down_lock);
    bool down = s->down && shared_now_ms() < s->down_until_ms;
    if (down && why != NULL)
        snprintf(why, cap, "object store %s: %s", s->shown, s->down_why);
    pthread_mutex_unlock(&s->down_lock);
    return down;
}

/* ---- handles ---- */

static CURL *handle_take(shared_t *s)
{
    CURL *h = NULL;
    pthread_mutex_lock(&s->pool_lock);
    if (s->nidle > 0)
        h = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->pool_lock);
    if (h != NULL)
        curl_easy_reset(h); /* options back to defaults; the open connections stay */
    else
        h = curl_easy_init();
    return h;
}

static void handle_give(shared_t *s, CURL *h)
{
    pthread_mutex_lock(&s->pool_lock);
    if (s->nidle < SHARED_IDLE_HANDLES) {
        s->idle[s->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->pool_lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* ---- one exchange ---- */

typedef struct exchange {
    shared_t *s;
    const s3_req_t *rq;
    CURL *h;
    size_t sent;   /* of rq->body */
    buf_t errbody; /* the body of a non-2xx answer, cut at S3_ERROR_BODY_MAX */
    bool too_big, no_memory;
    int64_t date_ms, last_modified_ms;
} exchange_t;

static size_t on_read(char *dst, size_t size, size_t nmemb, void *arg)
{
    exchange_t *x = arg;
    size_t n = x->rq->body_len - x->sent;
    if (n > size * nmemb)
        n = size * nmemb;
    memcpy(dst, x->rq->body + x->sent, n);
    x->sent += n;
    return n;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
    exchange_t *x = arg;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        size_t room = S3_ERROR_BODY_MAX - x->errbody.len;
        if (room > 0 && buf_append(&x->errbody, p, n < room ? n : room) != 0)
            x->no_memory = true;
        return x->no_memory ? 0 : n;
    }
    if (x->rq->out == NULL)
        return n;
    if (x->rq->out->len + n > x->rq->out_max) {
        x->too_big = true;
        return 0;
    }
    if (buf_append(x->rq->out, p, n) != 0) {
        x->no_memory = true;
        return 0;
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    exchange_t *x = arg;
    size_t n = size * nmemb;
    char line[128];
    if (n < sizeof line) {
        memcpy(line, p, n);
        line[n] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        if (strncasecmp(line, "HTTP/", 5) == 0) {
            x->date_ms = x->last_modified_ms = 0; /* a new response (after 100 Continue) */
        } else if (strncasecmp(line, "Date:", 5) == 0) {
            time_t t = curl_getdate(line + 5, NULL);
            x->date_ms = t > 0 ? (int64_t)t * 1000 : 0;
        } else if (strncasecmp(line, "Last-Modified:", 14) == 0) {
            time_t t = curl_getdate(line + 14, NULL);
            x->last_modified_ms = t > 0 ? (int64_t)t * 1000 : 0;
        }
    }
    return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    exchange_t *x = arg;
    return !x->rq->after_cancel && atomic_load_explicit(&x->s->cancelled, memory_order_relaxed) ? 1 : 0;
}

/* The <Code> of an S3 error body, "" when there is none. */
static void error_code(const buf_t *b, char *out, size_t cap)
{
    out[0] = '\0';
    if (b->base == NULL)
        return;
    const char *start = strstr((const char *)b->base, "<Code>");
    const char *end = start ? strstr(start, "</Code>") : NULL;
    if (start == NULL || end == NULL)
        return;
    start += 6;
    size_t n = (size_t)(end - start);
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = ascii_is_alnum(start[i]) ? start[i] : '?';
    out[n] = '\0';
}

static int curl_errno(CURLcode code, long os_errno)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        return os_errno == ENETUNREACH || os_errno == EHOSTUNREACH ? -(int)os_errno : -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return -EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_ABORTED_BY_CALLBACK:
        return -ECANCELED;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return -EPROTO;
    default:
        return -EIO;
    }
}

static int sha256_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t sum[32];
    unsigned len = 0;
    if (EVP_Digest(p, n, sum, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return -EIO;
    shared_hex(sum, 32, out);
    return 0;
}

/* One attempt. Returns 0 with an answer in rs, or -errno (no usable answer). */
static int attempt(shared_t *s, const s3_req_t *rq, const char *url, const char *what,
                   const char *payload_hex, s3_resp_t *rs, cache_err_t *err)
{
    exchange_t x = {.s = s, .rq = rq, .errbody = BUF_INIT};
    CURL *h = x.h = handle_take(s);
    if (h == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    struct curl_slist *hdrs = NULL, *tmp;
    char line[128];
    bool ok = true;
#define HDR(text)                                                                                            \
    do {                                                                                                     \
        if (ok && (tmp = curl_slist_append(hdrs, (text))) != NULL)                                           \
            hdrs = tmp;                                                                                      \
        else                                                                                                 \
            ok = false;                                                                                      \
    } while (0)
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", payload_hex);
    HDR(line);
    if (rq->create_only)
        HDR("If-None-Match: *");
    if (rq->range_len > 0) {
        snprintf(line, sizeof line, "Range: bytes=%llu-%llu", (unsigned long long)rq->range_off,
                 (unsigned long long)(rq->range_off + rq->range_len - 1));
        HDR(line);
    }
#undef HDR
    if (!ok) {
        curl_slist_free_all(hdrs);
        handle_give(s, h);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    if (rq->out != NULL)
        buf_reset(rq->out);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, S3_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, s->access);
    curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->timeout_ms < 1000 ? 1L : s->timeout_ms / 1000);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, S3_TOTAL_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    if (s->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
    if (strcmp(rq->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &x);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
    } else if (strcmp(rq->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "DELETE") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
    CURLcode code = curl_easy_perform(h);
    long os_errno = 0;
    curl_off_t down = 0, up = 0;
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    atomic_fetch_add_explicit(&s->bytes_read, (uint64_t)down, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->bytes_written, (uint64_t)up, memory_order_relaxed);
    curl_slist_free_all(hdrs);
    rs->date_ms = x.date_ms;
    rs->last_modified_ms = x.last_modified_ms;
    error_code(&x.errbody, rs->code, sizeof rs->code);
    buf_dispose(&x.errbody);
    int rc = 0;
    if (x.too_big)
        rc = cache_err_set(err, -EFBIG, "%s %s: the answer is longer than %zu bytes", rq->method, url,
                           rq->out_max);
    else if (x.no_memory)
        rc = cache_err_set(err, -ENOMEM, "out of memory");
    else if (code != CURLE_OK)
        rc = cache_err_set(err, curl_errno(code, os_errno), "%s %s: %s", rq->method, what,
                           curl_easy_strerror(code));
    /* a handle whose transfer failed may hold a connection in a bad state: not kept */
    if (rc == 0)
        handle_give(s, h);
    else
        curl_easy_cleanup(h);
    return rc;
}

int shared_s3(shared_t *s, const s3_req_t *rq, s3_resp_t *rs, cache_err_t *err)
{
    memset(rs, 0, sizeof *rs);
    if (atomic_load(&s->cancelled) && !rq->after_cancel)
        return cache_err_set(err, -ECANCELED, "shutting down");
    int rc = tier_check(s, err);
    if (rc != 0)
        return rc;
    char payload[65];
    if (rq->body_sha256 != NULL)
        shared_hex(rq->body_sha256, 32, payload);
    else if ((rc = sha256_hex(rq->body ? rq->body : (const uint8_t *)"", rq->body_len, payload)) != 0)
        return cache_err_set(err, rc, "hashing a request body failed");
    buf_t url = BUF_INIT;
    rc = buf_appendf(&url, "%s/%s", s->url.endpoint, s->url.bucket);
    if (rc == 0 && rq->name != NULL && (rc = buf_append(&url, "/", 1)) == 0)
        rc = shared_uri_encode(&url, rq->name, strlen(rq->name), true);
    if (rc == 0 && rq->query != NULL)
        rc = buf_appendf(&url, "?%s", rq->query);
    if (rc != 0) {
        buf_dispose(&url);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    const char *what = rq->name ? rq->name : s->url.bucket;
    char why[sizeof((cache_err_t *)0)->msg];
    for (int i = 0;; i++) {
        rc = attempt(s, rq, (const char *)url.base, what, payload, rs, err);
        if (rc == -ECANCELED || rc == -EFBIG || rc == -ENOMEM)
            break;
        if (rc == 0 && rs->status < 500 && rs->status != 403)
            break;
        if (rc == 0 && rs->status == 403) {
            rc = cache_err_set(err, -EACCES, "%s %s: 403 %s: the object store refused the credentials",
                               rq->method, what, rs->code[0] ? rs->code : "Forbidden");
            break;
        }
        if (rc == 0)
            rc = cache_err_set(err, -EIO, "%s %s: %ld %s", rq->method, what, rs->status,
                               rs->code[0] ? rs->code : "server error");
        /* a connection refused or a timeout is not worth a second try now: that is the back-off's */
        if (i >= S3_RETRIES || rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EHOSTUNREACH ||
            rc == -ENETUNREACH || rc == -EPROTO)
            break;
        if (shared_sleep(s, 100L << (2 * i)) != 0) {
            rc = cache_err_set(err, -ECANCELED, "shutting down");
            break;
        }
    }
    buf_dispose(&url);
    if (rc == 0) {
        tier_up(s);
    } else if (rc != -ECANCELED && rc != -EFBIG && rc != -ENOMEM) {
        atomic_fetch_add_explicit(&s->errors, 1, memory_order_relaxed);
        snprintf(why, sizeof why, "%s", err != NULL ? err->msg : strerror(-rc));
        tier_down(s, why);
        cache_err_prefix(err, rc, "object store %s", s->shown);
    }
    return rc;
}

int shared_s3_list(shared_t *s, const char *prefix, shared_list_t *list, int64_t *date_ms, cache_err_t *err)
{
    buf_t query = BUF_INIT, page = BUF_INIT, enc = BUF_INIT;
    int rc = 0;
    *date_ms = 0;
    do {
        /* parameters sorted by name, values encoded: libcurl signs the query as it is */
        buf_reset(&query);
        if (list->next_token != NULL) {
            buf_reset(&enc);
            rc = shared_uri_encode(&enc, list->next_token, strlen(list->next_token), false);
            if (rc == 0)
                rc = buf_appendf(&query, "continuation-token=%s&", (const char *)enc.base);
        }
        buf_reset(&enc);
        if (rc == 0)
            rc = shared_uri_encode(&enc, prefix, strlen(prefix), false);
        if (rc == 0)
            rc = buf_appendf(&query, "list-type=2&max-keys=1000&prefix=%s", (const char *)enc.base);
        if (rc != 0) {
            rc = cache_err_set(err, -ENOMEM, "out of memory");
            break;
        }
        s3_req_t rq = {
            .method = "GET", .query = (const char *)query.base, .out = &page, .out_max = S3_LIST_PAGE_MAX};
        s3_resp_t rs;
        if ((rc = shared_s3(s, &rq, &rs, err)) != 0)
            break;
        if (rs.status != 200) {
            rc = cache_err_set(err, -EIO, "object store %s: listing %s: %ld %s", s->shown, prefix, rs.status,
                               rs.code);
            break;
        }
        if (*date_ms == 0)
            *date_ms = rs.date_ms;
        free(list->next_token);
        list->next_token = NULL;
        rc = shared_list_parse(page.base, page.len, list, err);
        if (rc == 0 && list->truncated && list->next_token == NULL)
            rc = cache_err_set(err, -EBADMSG,
                               "object store %s: a truncated listing without a continuation token", s->shown);
    } while (rc == 0 && list->truncated);
    buf_dispose(&query);
    buf_dispose(&page);
    buf_dispose(&enc);
    return rc;
}
