/* SPDX-License-Identifier: MIT */
/*
 * errors.c — a store error as an HTTP status and a one-line reason.
 *
 * The mapping is chosen for the go command, which treats 404 and 410 as "not found, try the next
 * proxy" and every other non-200 as fatal, and shows the first lines of a text/plain body:
 *   -ENOENT            404, or 410 when upstream said 410
 *   -EINVAL            404: a well-formed name that cannot be a module (what proxy.golang.org does)
 *   -EAGAIN, shutdown  503: the fetch queue is full or the server is stopping
 *   -EDQUOT, -EUSERS   429: the client's miss budget is spent, or its share of the fetch queue is
 *                      full (the caller adds Retry-After)
 *   anything else      502: upstream failed, or a chunk on disk failed its check
 * A malformed request (bad percent-encoding) is a 400 decided by the router, never here; no bad
 * input ever becomes a 500.
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
    case -EAGAIN:
    case -ECANCELED:
    case -ESHUTDOWN:
        return 503;
    case -EDQUOT:
    case -EUSERS:
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

void http_send_error(h2o_req_t *req, int rc, const cache_err_t *err)
{
    int status = http_status_of_error(rc, err);
    char line[sizeof err->msg];
    size_t n = err != NULL ? first_line(err->msg, line, sizeof line) : 0;
    if (n == 0)
        n = first_line(strerror(rc < 0 ? -rc : rc), line, sizeof line);

    char body[sizeof line + 64];
    int len;
    switch (status) {
    case 404:
    case 410:
        len = snprintf(body, sizeof body, "not found: %s\n", line);
        break;
    case 503:
        len = snprintf(body, sizeof body, "unavailable: %s\n", line);
        break;
    case 429:
        len = snprintf(body, sizeof body, "too many requests: %s\n", line);
        break;
    default:
        /* the store's upstream errors already start with "upstream <url>:" */
        if (strncmp(line, "upstream ", 9) == 0)
            len = snprintf(body, sizeof body, "%s\n", line);
        else
            len = snprintf(body, sizeof body, "upstream: %s\n", line);
        break;
    }
    if (len < 0)
        len = 0;
    if ((size_t)len >= sizeof body)
        len = (int)sizeof body - 1;
    if (status >= 500) {
        http_thread_t *t = http_thread_of(req);
        if (status == 502)
            HTTP_COUNT(t->metrics.upstream_errors, 1);
        char path[HTTP_LOG_PATH_MAX];
        http_log_path(req, path, sizeof path);
        LOG_W("%.*s %s: %d %s", (int)req->method.len, req->method.base, path, status, line);
    }
    http_send_text(req, status, body, (size_t)len);
}
