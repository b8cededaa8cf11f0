/* SPDX-License-Identifier: MIT */
/*
 * respond.c — turning an object into an HTTP response, and the sending functions every response uses.
 *
 * A cache hit of a small object (.info, .mod, list: cache_object_bytes gives the bytes) goes out
 * in a single h2o_send with FINAL: no generator state, no second trip through the loop. Bodies up
 * to a few KiB are copied into the request's pool so the object reference is dropped at once;
 * larger in-memory bodies pin the object to the pool instead. Larger objects go through body.c:
 * streamed from disk, or handed out from memory once loaded there (a zip hit served before).
 *
 * h2o 2.2.5 does not strip the body of a HEAD response produced by a custom handler (a body sent
 * anyway breaks HTTP/2 framing and HTTP/1.1 keep-alive), so every path here checks for HEAD and
 * sends the headers, Content-Length included, with no body.
 */
#include "http_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Bodies up to this size are copied into the pool (cheaper than pinning the object). */
#define HTTP_COPY_MAX 4096

static h2o_generator_t generator_none = {NULL, NULL};

static const char cc_immutable[] = "public, max-age=31536000, immutable";
static const char ct_json[] = "application/json";
static const char ct_text[] = "text/plain; charset=utf-8";
static const char ct_zip[] = "application/zip";
static const char ct_binary[] = "application/octet-stream";
/* A database's newest tree head: whoever caches it must ask again (the store keeps it seconds). */
static const char cc_no_cache[] = "no-cache";

const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 206:
        return "Partial Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 410:
        return "Gone";
    case 412:
        return "Precondition Failed";
    case 416:
        return "Range Not Satisfiable";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return "Unknown";
    }
}

static bool is_head(const h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

/* Headers set, content_length set: send everything or, for HEAD, nothing. */
static void send_final(h2o_req_t *req, const void *body, size_t len)
{
    h2o_start_response(req, &generator_none);
    if (is_head(req) || len == 0) {
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    h2o_iovec_t iov = h2o_iovec_init(body, len);
    h2o_send(req, &iov, 1, H2O_SEND_STATE_FINAL);
}

void http_send_body(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = http_reason(status);
    req->res.content_length = len;
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    send_final(req, body, len);
}

void http_send_text(h2o_req_t *req, int status, const char *body, size_t len)
{
    char *copy = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(copy, body, len);
    http_send_body(req, status, ct_text, copy, len);
}

static const char *content_type_of(const modkey_t *key)
{
    switch (key->kind) {
    case MODKEY_INFO:
    case MODKEY_LATEST:
        return ct_json;
    case MODKEY_ZIP:
        return ct_zip;
    case MODKEY_SUMDB:
        /* as sum.golang.org: tiles are hashes, lookups and tree heads signed text */
        return key->db_kind == SUMDB_PATH_TILE ? ct_binary : ct_text;
    case MODKEY_LIST:
    case MODKEY_MOD:
        break;
    }
    return ct_text;
}

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value, size_t len)
{
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, len);
}

static void unref_pinned(void *p)
{
    cache_object_unref(*(cache_object_t **)p);
}

/* Applies Range and If-Range to a 200 response of size bytes: on a satisfiable single range sets
 * 206, Content-Range and the window [*first, *first + *len). Returns false for a range that
 * cannot be satisfied (416, Content-Range already set). */
static bool apply_range(h2o_req_t *req, const char *etag, int64_t mtime, uint64_t size, uint64_t *first,
                        uint64_t *len)
{
    ssize_t at = h2o_find_header(&req->headers, H2O_TOKEN_RANGE, -1);
    if (at < 0 || is_head(req))
        return true; /* Range is defined for GET only */
    ssize_t ir = h2o_find_header(&req->headers, H2O_TOKEN_IF_RANGE, -1);
    if (ir >= 0) {
        const h2o_iovec_t *v = &req->headers.entries[ir].value;
        if (!http_if_range_matches(v->base, v->len, etag, mtime))
            return true; /* the client's copy is stale: send it all */
    }
    const h2o_iovec_t *v = &req->headers.entries[at].value;
    uint64_t a, b;
    char *cr = h2o_mem_alloc_pool(&req->pool, 64);
    switch (http_range_parse(v->base, v->len, size, &a, &b)) {
    case HTTP_RANGE_NONE:
        return true;
    case HTTP_RANGE_UNSATISFIABLE: {
        int n = snprintf(cr, 64, "bytes */%llu", (unsigned long long)size);
        add_header(req, H2O_TOKEN_CONTENT_RANGE, cr, (size_t)n);
        return false;
    }
    case HTTP_RANGE_PARTIAL: {
        int n = snprintf(cr, 64, "bytes %llu-%llu/%llu", (unsigned long long)a, (unsigned long long)b,
                         (unsigned long long)size);
        add_header(req, H2O_TOKEN_CONTENT_RANGE, cr, (size_t)n);
        req->res.status = 206;
        *first = a;
        *len = b - a + 1;
        return true;
    }
    }
    return true;
}

void http_respond_refetch(h2o_req_t *req, const modkey_t *key, bool retried, int rc)
{
    http_thread_t *t = http_thread_of(req);
    HTTP_COUNT(t->metrics.read_errors, 1);
    req->res.status = 0;
    req->res.reason = NULL;
    req->res.content_length = SIZE_MAX;
    req->res.headers = (h2o_headers_t){NULL, 0, 0};
    cache_err_t err = {0};
    if (!retried && rc == -EIO && http_fetch_retry(t, req, key) == 0)
        return;
    cache_err_set(&err, -EIO, "%s: the stored copy is damaged and could not be fetched again", key->escaped);
    http_send_error(req, -EIO, &err);
}

void http_respond_object(h2o_req_t *req, const modkey_t *key, cache_object_t *obj, bool retried)
{
    http_thread_t *t = http_thread_of(req);
    cache_stat_t st;
    cache_object_stat(obj, &st);

    char *etag = h2o_mem_alloc_pool(&req->pool, HTTP_ETAG_LEN + 1);
    http_etag_format(st.sha256, etag);
    char *lm = h2o_mem_alloc_pool(&req->pool, HTTP_DATE_LEN + 1);
    http_date_format(st.mtime, lm);

    add_header(req, H2O_TOKEN_ETAG, etag, HTTP_ETAG_LEN);
    add_header(req, H2O_TOKEN_LAST_MODIFIED, lm, HTTP_DATE_LEN);
    if (st.immutable)
        add_header(req, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT(cc_immutable));
    else if (key->kind == MODKEY_SUMDB && key->db_kind == SUMDB_PATH_LATEST)
        add_header(req, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT(cc_no_cache));
    else
        add_header(req, H2O_TOKEN_CACHE_CONTROL, t->cc_mutable.base, t->cc_mutable.len);

    const char *why = NULL;
    http_precond_t pre = http_precond_eval(&req->headers, etag, st.mtime, &why);
    if (pre == HTTP_PRECOND_FAILED) {
        cache_object_unref(obj);
        char body[128];
        int n = snprintf(body, sizeof body, "precondition failed: %s\n", why);
        http_send_text(req, 412, body, (size_t)n);
        return;
    }
    if (pre == HTTP_PRECOND_NOT_MODIFIED) {
        cache_object_unref(obj);
        req->res.status = 304;
        req->res.reason = http_reason(304);
        /* no Content-Length: a 304 describes the representation, it carries none */
        req->res.content_length = SIZE_MAX;
        h2o_start_response(req, &generator_none);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }

    if (key->kind == MODKEY_ZIP)
        add_header(req, H2O_TOKEN_ACCEPT_RANGES, H2O_STRLIT("bytes"));

    uint64_t first = 0, len = st.size;
    req->res.status = 200;
    if (!apply_range(req, etag, st.mtime, st.size, &first, &len)) {
        cache_object_unref(obj);
        http_send_body(req, 416, NULL, "", 0);
        return;
    }
    const char *ct = content_type_of(key);
    add_header(req, H2O_TOKEN_CONTENT_TYPE, ct, strlen(ct));
    req->res.reason = http_reason(req->res.status);
    req->res.content_length = (size_t)len;

    if (is_head(req) || len == 0) {
        cache_object_unref(obj);
        send_final(req, NULL, 0);
        return;
    }

    slice_t bytes = cache_object_bytes(obj);
    if (bytes.base != NULL && first + len <= bytes.len) {
        const uint8_t *body = bytes.base + first;
        if (len <= HTTP_COPY_MAX) {
            void *copy = h2o_mem_alloc_pool(&req->pool, (size_t)len);
            memcpy(copy, body, (size_t)len);
            cache_object_unref(obj);
            body = copy;
        } else {
            /* keep the object alive until the response is written and the request disposed */
            cache_object_t **pin = h2o_mem_alloc_shared(&req->pool, sizeof *pin, unref_pinned);
            *pin = obj;
        }
        send_final(req, body, (size_t)len);
        return;
    }
    http_body_t *body;
    int rc = http_body_prepare(req, key, obj, first, len, retried, &body);
    if (rc == -EINPROGRESS)
        return; /* the body answers once the object is loaded into memory off the loop */
    if (rc != 0) {
        cache_object_unref(obj);
        http_respond_refetch(req, key, retried, rc);
        return;
    }
    http_body_start(req, body);
}
