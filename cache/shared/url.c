/* SPDX-License-Identifier: MIT */
/*
 * url.c — the --s3 URL (shared_i.h: shared_url_parse; shared.h: shared_url_check):
 * http(s)://HOST[:PORT]/BUCKET[/PREFIX], checked whole before anything is sent.
 *
 * Path-style only: the bucket is the first path segment, which works with a gateway on a bare
 * address (virtual-host style needs a DNS name per bucket). The bucket follows S3's naming rules
 * (3 to 63 of a-z 0-9 . -, a letter or digit at each end), so a typo is refused here rather than
 * by a CreateBucket at start-up. Credentials in the URL are refused: a URL travels into messages,
 * logs and `modfs config`; the keys come from a file or the environment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared_i.h"

static bool bucket_valid(const char *b, size_t n)
{
    if (n < 3 || n > SHARED_BUCKET_MAX || !ascii_is_alnum(b[0]) || !ascii_is_alnum(b[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(ascii_is_lower(b[i]) || ascii_is_digit(b[i]) || b[i] == '-' || b[i] == '.'))
            return false;
    return true;
}

static bool prefix_char(char c)
{
    return ascii_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int shared_url_parse(const char *url, shared_url_t *out, cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    const char *p;
    if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        p = url + 8;
        out->https = true;
    } else {
        return cache_err_set(err, -EINVAL, "the object store URL must start with http:// or https://");
    }
    size_t hostlen = strcspn(p, "/?#");
    if (memchr(p, '@', hostlen) != NULL)
        return cache_err_set(err, -EINVAL,
                             "the object store URL must not hold credentials: give them in --s3-credentials "
                             "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    if (hostlen == 0)
        return cache_err_set(err, -EINVAL, "the object store URL has no host");
    for (size_t i = 0; i < hostlen; i++) {
        char c = p[i];
        if (!(ascii_is_alnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
            return cache_err_set(err, -EINVAL, "the object store URL's host has a character it cannot have");
    }
    const char *close = memchr(p, ']', hostlen);
    if ((p[0] == '[') != (close != NULL))
        return cache_err_set(err, -EINVAL, "the object store URL's host has an unmatched [ or ]");
    const char *after_host = close != NULL ? close + 1 : p;
    const char *colon = memchr(after_host, ':', hostlen - (size_t)(after_host - p));
    if (close != NULL && after_host != p + hostlen && *after_host != ':')
        return cache_err_set(err, -EINVAL, "the object store URL's host has text after ]");
    if (colon != NULL) {
        size_t digits = hostlen - (size_t)(colon + 1 - p);
        long port = 0;
        for (size_t i = 0; i < digits && port <= 65535; i++)
            port = ascii_is_digit(colon[1 + i]) ? port * 10 + (colon[1 + i] - '0') : 99999;
        if (digits == 0 || digits > 5 || port < 1 || port > 65535 || colon == p)
            return cache_err_set(err, -EINVAL, "the object store URL's port is not a number from 1 to 65535");
    }
    if ((size_t)(p - url) + hostlen >= sizeof out->endpoint)
        return cache_err_set(err, -EINVAL, "the object store URL's host is too long");
    memcpy(out->endpoint, url, (size_t)(p - url) + hostlen);
    const char *path = p + hostlen;
    if (*path != '/')
        return cache_err_set(err, -EINVAL, "the object store URL names no bucket (http://HOST:PORT/BUCKET)");
    if (strpbrk(path, "?#") != NULL)
        return cache_err_set(err, -EINVAL, "the object store URL must not have a query or a fragment");
    path++;
    size_t blen = strcspn(path, "/");
    if (!bucket_valid(path, blen))
        return cache_err_set(err, -EINVAL,
                             "the bucket name must be 3 to 63 characters of a-z 0-9 . -, starting and ending "
                             "with a letter or a digit");
    memcpy(out->bucket, path, blen);
    const char *prefix = path + blen;
    while (*prefix == '/')
        prefix++;
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    if (plen > SHARED_PREFIX_MAX)
        return cache_err_set(err, -EINVAL, "the object store URL's prefix is longer than %d bytes",
                             SHARED_PREFIX_MAX);
    size_t seg = 0;
    for (size_t i = 0; i <= plen; i++) {
        if (i < plen && prefix[i] != '/') {
            if (!prefix_char(prefix[i]))
                return cache_err_set(err, -EINVAL,
                                     "the object store URL's prefix may hold A-Z a-z 0-9 - . _ ~ and /");
            continue;
        }
        size_t n = i - seg;
        if (plen > 0 &&
            (n == 0 || (n == 1 && prefix[seg] == '.') || (n == 2 && !memcmp(prefix + seg, "..", 2))))
            return cache_err_set(err, -EINVAL, "the object store URL's prefix has an empty, . or .. segment");
        seg = i + 1;
    }
    if (plen > 0) {
        memcpy(out->prefix, prefix, plen);
        out->prefix[plen] = '/';
    }
    return 0;
}

int shared_url_check(const char *url, char **shown, cache_err_t *err)
{
    shared_url_t u;
    int rc = shared_url_parse(url, &u, err);
    if (rc != 0)
        return rc;
    if (shown != NULL) {
        if (asprintf(shown, "%s/%s%s%.*s", u.endpoint, u.bucket, u.prefix[0] ? "/" : "",
                     u.prefix[0] ? (int)strlen(u.prefix) - 1 : 0, u.prefix) < 0) {
            *shown = NULL;
            return cache_err_set(err, -ENOMEM, "out of memory");
        }
    }
    return 0;
}
