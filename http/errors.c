/* SPDX-License-Identifier: MIT */
/*
 * errors.c — a store error as an HTTP status and a one-line reason.
 *
 * The mapping is chosen for the go command, which treats 404 and 410 as "not found, try the next
 * proxy" and every other non-200 as fatal, and shows the first lines of a text/plain body:
 *   -ENOENT            404, or 410 when upstream said 410
 *   -EINVAL            404: a well-formed name that cannot be a module (what proxy.golang.org does)
 *   -EACCES            403: the allow/deny rules refuse it; the body names the rule
 *   -EAGAIN, shutdown  503: the fetch queue is full or the server is stopping
 *   -EREMOTEIO         503: the shared object store is unreachable and required (--s3-required)
 *   -EUSERS            429: the client's miss budget is spent, or its share of the fetch queue is
 *                      full (the caller adds Retry-After)
 *   -ENOSPC, -EDQUOT   507: the store's disk is full, or the object is larger than its budget
 *   anything else      502: upstream failed, or a chunk on disk failed its check
 * A malformed request (bad percent-encoding) is a 400 decided by the router, never here; no bad
 * input ever becomes a 500.
 *
 * The body says what failed, never where upstream is: the store's messages name upstream URLs
 * (an internal host, a path, a masked user name), which are the operator's business, so they go
 * to the log and the client reads a fixed phrase and the path it asked for. Reasons that come
 * from the request itself (an invalid module path) are the client's own and are shown, and so
 * are three more that name no upstream: the allow/deny rule that refused a module, the go
 * command's own words when it fetched a module from its repository itself (`direct`): an unknown
 * tag or refused git credentials are what the client must read to fix its build, and the checksum
 * database's verdict on a module it refused (both hashes of a mismatch, a SECURITY ERROR).
 */
#include "http_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int http_status_of_error(int rc, const cache_err_t *err)
{
    switch (rc) {
    case 0:
        return 200;
    case -ENOENT:
        return err != NULL && err->upstream_status == 410 ? 410 : 404;
    case -EINVAL:
    case -ENAMETOOLONG:
        return 404;
    case -EACCES:
        return 403;
    case -EAGAIN:
    case -ECANCELED:
    case -ESHUTDOWN:
    case -EREMOTEIO:
        return 503;
    case -ENOSPC: /* the store's disk is full */
    case -EDQUOT: /* the object is larger than the store's whole budget */
        return 507;
    case -EUSERS: /* the client's miss budget, or its share of the fetch queue, is spent */
        return 429;
    default:
        return 502;
    }
}

/* Copies the first line of msg into out, replacing bytes a terminal or log could misread. */
static size_t first_line(const char *msg, char *out, size_t cap)
{
    size_t n = 0;
    for (; msg[n] != '\0' && msg[n] != '\n' && n + 1 < cap; n++) {
        unsigned char c = (unsigned char)msg[n];
        out[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[n] = '\0';
    return n;
}

/* Whether msg is the go command's reason for a failed `direct` fetch: upstream/direct.c words
 * every such failure "direct go <subcommand> <module>@<query>: <go's reason>". */
static bool is_direct_reason(const char *msg)
{
    return strncmp(msg, "direct go ", 10) == 0;
}

/* What went wrong upstream, in words that name no host. */
static const char *upstream_failure(int rc, const cache_err_t *err, const char *line, char *buf, size_t cap)
{
    switch (rc) {
    case -EBADMSG:
        return "upstream's answer failed validation";
    case -EFBIG:
        return "upstream's answer is larger than go allows";
    case -ETIMEDOUT: {
        /* upstream/judge.c words a timeout "upstream URL: timed out: CAUSE" with a CAUSE that
         * names no host ("no response within 15 s of the request"): that much is shown */
        const char *cause = strstr(line, ": timed out: ");
        if (cause == NULL)
            return "upstream timed out";
        snprintf(buf, cap, "upstream timed out: %s", cause + 13);
        return buf;
    }
    case -ECONNREFUSED:
    case -EHOSTUNREACH:
    case -ENETUNREACH:
    case -EHOSTDOWN:
        return "upstream is unreachable";
    case -EPROTO:
        return "upstream TLS or protocol error";
    default:
        if (err != NULL && err->upstream_status >= 400) {
            snprintf(buf, cap, "upstream answered %d", err->upstream_status);
            return buf;
        }
        return "upstream or store failure";
    }
}

const char *http_failure_reason(int rc, const cache_err_t *err, char *buf, size_t cap)
{
    char line[sizeof err->msg] = "";
    /* go's own reason, and the checksum database's verdict (the module, both hashes, no host) */
    if (err != NULL && first_line(err->msg, line, sizeof line) > 0 &&
        (is_direct_reason(line) || cache_sumdb_is_refusal(line))) {
        snprintf(buf, cap, "%s", line);
        return buf;
    }
    switch (rc) {
    case -ENOENT:
        return "not found upstream";
    case -ENOSPC:
        return "the store's disk is full";
    case -EDQUOT:
        return "larger than the store's whole budget";
    default:
        return upstream_failure(rc, err, line, buf, cap);
    }
}

size_t http_error_body(int status, int rc, const cache_err_t *err, const char *path, char *out, size_t cap)
{
    char line[sizeof err->msg], word[192];
    size_t n = err != NULL ? first_line(err->msg, line, sizeof line) : 0;
    if (n == 0)
        first_line(strerror(rc < 0 ? -rc : rc), line, sizeof line);
    int len;
    switch (status) {
    case 404:
    case 410:
        /* about the name the client sent, or go's own reason */
        if (rc == -EINVAL || rc == -ENAMETOOLONG || is_direct_reason(line))
            len = snprintf(out, cap, "not found: %s\n", line);
        else if (err != NULL && err->upstream_status == 0 && strstr(line, "GOPROXY=off") != NULL)
            len = snprintf(out, cap, "not found: %s (the store does not hold it and upstream is off)\n", path);
        else
            len = snprintf(out, cap, "not found: %s\n", path);
        break;
    case 503:
        if (rc == -EREMOTEIO) /* the message names the object store: the operator's business */
            len = snprintf(out, cap,
                           "unavailable: %s: the shared object store is unreachable, and this server fetches "
                           "only through it\n",
                           path);
        else if (rc == -ECANCELED || rc == -ESHUTDOWN) /* an upstream transfer cut short names its URL */
            len = snprintf(out, cap, "unavailable: %s: the server is shutting down\n", path);
        else
            len = snprintf(out, cap, "unavailable: %s\n", line); /* our own words: queue full */
        break;
    case 507: /* the budget's message names the key and the budget; a full disk's would name paths */
        len = snprintf(out, cap, "insufficient storage: the store cannot hold %s: %s\n", path,
                       rc == -EDQUOT ? line : "its disk is full");
        break;
    case 403: /* the allow/deny rule that refused it, as the operator wrote it */
        len = snprintf(out, cap, "forbidden: %s\n", line);
        break;
    case 429: /* our own words: which budget, and when to come back */
        len = snprintf(out, cap, "too many requests: %s\n", line);
        break;
    default:
        len = snprintf(out, cap, "bad gateway: fetching %s failed: %s\n", path,
                       is_direct_reason(line) || cache_sumdb_is_refusal(line) /* the module, both hashes, no host */ ? line
                                                                        : upstream_failure(rc, err, line, word, sizeof word));
        break;
    }
    if (len < 0)
        len = 0;
    if (cap > 0 && (size_t)len >= cap) {
        len = (int)cap - 1;
        out[len - 1] = '\n';
    }
    return (size_t)len;
}

void http_send_error(h2o_req_t *req, int rc, const cache_err_t *err)
{
    int status = http_status_of_error(rc, err);
    char path[HTTP_LOG_PATH_MAX];
    http_log_path(req, path, sizeof path);
    char body[sizeof path + 128];
    size_t len = http_error_body(status, rc, err, path, body, sizeof body);
    if (status >= 500 || status == 403) {
        http_thread_t *t = http_thread_of(req);
        if (status == 502)
            HTTP_COUNT(t->metrics.upstream_errors, 1);
        char line[sizeof err->msg];
        if (err == NULL || first_line(err->msg, line, sizeof line) == 0)
            first_line(strerror(rc < 0 ? -rc : rc), line, sizeof line);
        LOG_W("%.*s %s: %d %s", (int)req->method.len, req->method.base, path, status, line);
    }
    http_send_text(req, status, body, len);
}

int http_readiness(const cache_upstream_health_t *h, char *out, size_t cap)
{
    if (h->off) {
        snprintf(out, cap, "ready: upstream is off, the store answers alone\n");
        return 200;
    }
    if (h->failure_age_ms >= 0 && (h->answer_age_ms < 0 || h->failure_age_ms < h->answer_age_ms)) {
        /* the log has what failed and where; the body only says when */
        snprintf(out, cap, "not ready: the last upstream request, %lld s ago, got no answer\n",
                 (long long)(h->failure_age_ms / 1000));
        return 503;
    }
    if (h->answer_age_ms >= 0)
        snprintf(out, cap, "ready: upstream answered %lld s ago\n", (long long)(h->answer_age_ms / 1000));
    else
        snprintf(out, cap, "ready: no upstream request yet\n");
    return 200;
}
