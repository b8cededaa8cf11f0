/* SPDX-License-Identifier: MIT */
/*
 * proxylist.c — parsing the GOPROXY list the way the go command does.
 *
 * Mirrors go's modfetch proxyList and newProxyRepo: entries separated by ',' (move on after
 * 404/410) or '|' (move on after any error), the words "off" and "direct", a bare host name
 * taken as https://, and only the https, http and file schemes. Each URL is checked with curl's
 * own URL parser, the one that later sends the requests, and its password is redacted once here
 * for every message and log line. A separate file because it is a parser of outside input with
 * rules of its own, while upstream.c is the transfer machinery.
 */
#include "upstream_i.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

void upstream_proxy_dispose(upstream_proxy_t *p)
{
    free(p->base);
    free(p->shown);
    free(p->file_dir);
}

/* RFC 3986 scheme ":" at the start of s; returns the scheme length or 0. */
static size_t url_scheme_len(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

/* Drops trailing '/', but not those of "scheme://" ("file:///" is the root directory). */
static void strip_trailing_slashes(char *s)
{
    const char *sep = strstr(s, "://");
    size_t keep = sep != NULL ? (size_t)(sep - s) + 3 : 0;
    size_t n = strlen(s);
    while (n > keep && s[n - 1] == '/')
        s[--n] = '\0';
}

/* Builds p->shown: the URL as curl renders it with the password replaced by "xxxxx", as go's
 * url.Redacted does; the plain base when there is no password. */
static int proxy_redact(upstream_proxy_t *p, CURLU *h)
{
    char *password = NULL;
    if (curl_url_get(h, CURLUPART_PASSWORD, &password, 0) != CURLUE_OK || password == NULL) {
        p->shown = strdup(p->base);
        return p->shown == NULL ? -ENOMEM : 0;
    }
    curl_free(password);
    char *redacted = NULL;
    if (curl_url_set(h, CURLUPART_PASSWORD, "xxxxx", 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_URL, &redacted, 0) != CURLUE_OK)
        return -ENOMEM;
    p->shown = strdup(redacted);
    curl_free(redacted);
    if (p->shown == NULL)
        return -ENOMEM;
    strip_trailing_slashes(p->shown);
    return 0;
}

/* One URL entry of the list, as go's proxyList and newProxyRepo accept it. */
static int proxy_url_parse(const char *s, size_t len, upstream_proxy_t *p, cache_err_t *err)
{
    char *entry = strndup(s, len);
    if (entry == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    int rc = 0;
    CURLU *h = NULL;
    for (const char *c = entry; *c != '\0'; c++) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
            rc = cache_err_set(err, -EINVAL,
                               "invalid GOPROXY entry \"%s\": contains a space or control character", entry);
            goto out;
        }
    }
    /* go: a single word is reserved for built-in behaviour; a host name ("proxy.example.com",
     * "127.0.0.1:8080") gets https://; a full URL or an absolute path is taken as it is. */
    bool implicit = strpbrk(entry, ".:") != NULL && strstr(entry, ":/") == NULL && entry[0] != '/';
    size_t slen = implicit ? 5 : url_scheme_len(entry);
    if (asprintf(&p->base, "%s%s", implicit ? "https://" : "", entry) < 0) {
        p->base = NULL;
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if (slen == 0) {
        rc = cache_err_set(err, -EINVAL, "invalid GOPROXY entry \"%s\": URL has no scheme", entry);
        goto out;
    }
    for (size_t i = 0; i < slen; i++)
        p->base[i] = (char)tolower((unsigned char)p->base[i]);
    if (slen == 5 && strncmp(p->base, "https", 5) == 0) {
        p->https = true;
    } else if (slen == 4 && strncmp(p->base, "file", 4) == 0) {
        p->file = true;
    } else if (!(slen == 4 && strncmp(p->base, "http", 4) == 0)) {
        rc = cache_err_set(
            err, -EINVAL,
            "invalid GOPROXY entry \"%s\": unsupported scheme \"%.*s\" (must be https, http or file)", entry,
            (int)slen, p->base);
        goto out;
    }
    h = curl_url();
    if (h == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    CURLUcode uc = curl_url_set(h, CURLUPART_URL, p->base, 0);
    if (uc != CURLUE_OK) {
        rc = cache_err_set(err, -EINVAL, "invalid GOPROXY entry \"%s\": %s", entry, curl_url_strerror(uc));
        goto out;
    }
    char *part = NULL;
    if (curl_url_get(h, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
        curl_url_get(h, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        curl_free(part);
        rc = cache_err_set(err, -EINVAL, "invalid GOPROXY entry \"%s\": a proxy URL has no query or fragment",
                           entry);
        goto out;
    }
    strip_trailing_slashes(p->base);
    if (p->file) {
        char *dir = NULL;
        if (curl_url_get(h, CURLUPART_PATH, &dir, CURLU_URLDECODE) != CURLUE_OK || dir == NULL) {
            rc = cache_err_set(err, -EINVAL, "invalid GOPROXY entry \"%s\": no path", entry);
            goto out;
        }
        p->file_dir = strdup(dir);
        curl_free(dir);
        if (p->file_dir == NULL) {
            rc = cache_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        strip_trailing_slashes(p->file_dir);
    }
    if (proxy_redact(p, h) != 0)
        rc = cache_err_set(err, -ENOMEM, "out of memory");
out:
    curl_url_cleanup(h);
    free(entry);
    return rc;
}

/* Splits the list on ',' and '|' as go's proxyList does; "off" and "direct" end it. */
int upstream_proxylist_parse(const char *list, upstream_proxy_t **out, size_t *nout, cache_err_t *err)
{
    *out = NULL;
    *nout = 0;
    if (list == NULL || list[0] == '\0')
        return cache_err_set(err, -EINVAL, "GOPROXY list is empty");
    size_t cap = 1;
    for (const char *c = list; *c != '\0'; c++)
        cap += *c == ',' || *c == '|';
    upstream_proxy_t *proxies = calloc(cap, sizeof *proxies);
    if (proxies == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    size_t n = 0;
    int rc = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t len = strcspn(p, ",|");
        char sep = p[len];
        const char *s = p, *e = p + len;
        p = sep == '\0' ? e : e + 1;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if (s == e)
            continue;
        upstream_proxy_t *entry = &proxies[n];
        entry->fall_back_on_error = sep == '|';
        if (e - s == 3 && memcmp(s, "off", 3) == 0) {
            entry->kind = PROXY_OFF;
            n++;
            break;
        }
        if (e - s == 6 && memcmp(s, "direct", 6) == 0) {
            entry->kind = PROXY_DIRECT;
            n++;
            break;
        }
        entry->kind = PROXY_URL;
        n++;
        rc = proxy_url_parse(s, (size_t)(e - s), entry, err);
        if (rc != 0)
            goto fail;
    }
    if (n == 0) {
        rc = cache_err_set(err, -EINVAL, "GOPROXY list \"%s\" contains no entries", list);
        goto fail;
    }
    *out = proxies;
    *nout = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        upstream_proxy_dispose(&proxies[i]);
    free(proxies);
    return rc;
}

int upstream_describe(const char *list, char **shown, cache_err_t *err)
{
    upstream_proxy_t *proxies = NULL;
    size_t n = 0;
    *shown = NULL;
    int rc = upstream_proxylist_parse(list, &proxies, &n, err);
    if (rc != 0)
        return rc;
    buf_t out = BUF_INIT;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const upstream_proxy_t *p = &proxies[i];
        const char *text = p->kind == PROXY_OFF ? "off" : p->kind == PROXY_DIRECT ? "direct" : p->shown;
        /* the separator after an entry is what decides when the next one is tried */
        rc = buf_appendf(&out, "%s%s", text, i + 1 == n ? "" : p->fall_back_on_error ? "|" : ",");
    }
    for (size_t i = 0; i < n; i++)
        upstream_proxy_dispose(&proxies[i]);
    free(proxies);
    if (rc != 0) {
        buf_dispose(&out);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    *shown = (char *)out.base; /* buf_t keeps a NUL after its last byte */
    return 0;
}
