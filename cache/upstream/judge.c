/* SPDX-License-Identifier: MIT */
/*
 * judge.c — what a finished attempt means: 0, or -errno with one line that names the URL and the
 * real cause, and whether trying again may help.
 *
 * Timeouts are told apart by what the transfer had reached, not by curl's wording: no connection
 * within the connect timeout (which also covers waiting for a connection another transfer was
 * opening), no response head within the stall time after the request went out (a hung upstream),
 * a body that stalled, or an attempt that kept trickling past the total timeout. Each is worded
 * "upstream URL: timed out: CAUSE", where CAUSE names no host: the HTTP front shows a client the
 * cause alone (http/errors.c), never the URL.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "upstream_i.h"

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

static bool transfer_is_payload(const upstream_transfer_t *t)
{
    return t->status == 200 || (t->proxy->file && t->status == 0);
}

/* The first line of a text/plain error body, printable characters only (go shows such bodies to
 * its users too: proxy.golang.org explains its 404s and 410s there). */
static void transfer_detail(const upstream_transfer_t *t, char *out, size_t cap)
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

static int transfer_status_error(const upstream_transfer_t *t, const char *shown, cache_err_t *err)
{
    const char *reason = t->reason[0] != '\0' ? t->reason : status_text(t->status);
    char detail[UPSTREAM_DETAIL_MAX + 1];
    transfer_detail(t, detail, sizeof detail);
    int rc = (t->status == 404 || t->status == 410) ? -ENOENT : -EIO;
    return cache_err_set(err, rc, "upstream %s: %ld%s%s%s%s", shown, t->status, reason[0] ? " " : "", reason,
                         detail[0] ? ": " : "", detail);
}

/* "15 s", or "300 ms" below a second. */
static void duration_text(long ms, char *out, size_t cap)
{
    if (ms < 1000)
        snprintf(out, cap, "%ld ms", ms);
    else
        snprintf(out, cap, "%ld s", (ms + 999) / 1000);
}

static int transfer_timeout_error(const upstream_t *u, const upstream_transfer_t *t, const char *shown,
                                  cache_err_t *err)
{
    char d[32];
    if (!t->connected) {
        duration_text(u->connect_timeout_ms, d, sizeof d);
        return cache_err_set(err, -ETIMEDOUT, "upstream %s: timed out: no connection within %s", shown, d);
    }
    if (t->elapsed_us / 1000 + 100 >= u->total_timeout_ms) {
        duration_text(u->total_timeout_ms, d, sizeof d);
        return cache_err_set(err, -ETIMEDOUT,
                             "upstream %s: timed out: not finished within %s (%llu bytes received)", shown, d,
                             (unsigned long long)t->bytes);
    }
    duration_text(u->stall_ms, d, sizeof d);
    if (!t->got_head)
        return cache_err_set(err, -ETIMEDOUT, "upstream %s: timed out: no response within %s of the request",
                             shown, d);
    return cache_err_set(err, -ETIMEDOUT,
                         "upstream %s: timed out: body stalled after %llu bytes (under %ld bytes/s for %s)",
                         shown, (unsigned long long)t->bytes, UPSTREAM_STALL_BYTES_PER_S, d);
}

/* A transport failure: which errno, which words, and whether trying again may help. */
static int transfer_curl_error(const upstream_t *u, const upstream_transfer_t *t, const char *shown,
                               bool *transient, cache_err_t *err)
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
        return transfer_timeout_error(u, t, shown, err);
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
    case CURLE_ABORTED_BY_CALLBACK:
        return cache_err_set(err, -ECANCELED, "upstream %s: cancelled (shutting down)", shown);
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

int upstream_transfer_judge(const upstream_t *u, upstream_transfer_t *t, const char *shown, bool *transient,
                            cache_err_t *err)
{
    *transient = false;
    if (t->cancelled)
        return cache_err_set(err, -ECANCELED, "upstream %s: cancelled (shutting down)", shown);
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
    return transfer_curl_error(u, t, shown, transient, err);
}
