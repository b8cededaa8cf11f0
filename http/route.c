/* SPDX-License-Identifier: MIT */
/*
 * route.c — from a request path to what it names.
 *
 * The go command escapes proxy paths with url.PathEscape (so '!' arrives as %21) while keeping
 * '+' and '@' literal, so the path is percent-decoded first — '+' is never a space here — and
 * then handed to modkey_parse, which applies Go's own rules. An encoded '/' (%2F) is refused with
 * a 404: go never sends one (its proxy client puts '/' back), and decoding it would give one
 * object a second URL. Only a path that is not even
 * well-formed (a broken %-escape, a NUL) is a 400; a well-formed name that cannot be a module is
 * a 404 with the reason, as proxy.golang.org answers, because go reads 404 as "not found" and
 * moves on while it treats 400 as a hard failure. /sumdb/<name>/... names an answer of a checksum
 * database (modkey_parse_sumdb: go sends those with '!' as it is, and percent-decoding leaves them
 * alone); whether this server serves that database is the cache's to say, and 404 then lets go
 * fall back to the next GOPROXY entry or to the database directly, as it does for any proxy.
 */
#include "http_i.h"

#include <errno.h>
#include <string.h>

int http_path_decode(const char *path, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = path[i];
        if (c == '%') {
            if (len - i < 3) /* fewer than two characters follow */
                return -EINVAL;
            int hi = ascii_hex_value(path[i + 1]), lo = ascii_hex_value(path[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (char)(hi << 4 | lo);
            i += 2;
            /* A '/' inside an element is no key's: decoded, it would make a second URL of an
             * object (and split an element where the client did not). */
            if (c == '/')
                return -ENOENT;
        }
        if (c == '\0')
            return -EINVAL;
        if (o + 1 >= cap)
            return -ENAMETOOLONG;
        out[o++] = c;
    }
    if (cap == 0)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return (int)o;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

static bool is_exactly(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(s, word, len) == 0;
}

http_target_t http_route_resolve(const char *path, size_t len, modkey_t *key, cache_err_t *err)
{
    /* Room for the longest key plus the leading '/'; a longer path cannot be a key. */
    char decoded[MODKEY_MAX + 2];

    int n = http_path_decode(path, len, decoded, sizeof decoded);
    if (n == -EINVAL) {
        cache_err_set(err, -EINVAL, "malformed percent-encoding in path");
        return HTTP_TARGET_BAD_REQUEST;
    }
    if (n == -ENAMETOOLONG) {
        cache_err_set(err, -ENAMETOOLONG, "path too long");
        return HTTP_TARGET_NOT_FOUND;
    }
    if (n == -ENOENT) {
        cache_err_set(err, -EINVAL, "an encoded \"/\" (%%2F) in the path: not a module key");
        return HTTP_TARGET_NOT_FOUND;
    }
    size_t dlen = (size_t)n;
    if (dlen == 0 || decoded[0] != '/') {
        cache_err_set(err, -EINVAL, "path must start with /");
        return HTTP_TARGET_BAD_REQUEST;
    }
    if (is_exactly(decoded, dlen, "/healthz"))
        return HTTP_TARGET_HEALTHZ;
    if (is_exactly(decoded, dlen, "/readyz"))
        return HTTP_TARGET_READYZ;
    if (is_exactly(decoded, dlen, "/metrics"))
        return HTTP_TARGET_METRICS;
    if (is_exactly(decoded, dlen, "/sumdb") || has_prefix(decoded, dlen, "/sumdb/")) {
        if (modkey_parse_sumdb(decoded + 1, dlen - 1, key, err) != 0)
            return HTTP_TARGET_NOT_FOUND;
        return HTTP_TARGET_KEY;
    }
    if (dlen == 1)
        return HTTP_TARGET_STATUS; /* the handler answers 404 when the page is off */
    int rc = modkey_parse(decoded + 1, dlen - 1, key, err);
    if (rc != 0) {
        if (err != NULL && err->msg[0] == '\0')
            cache_err_set(err, rc, "invalid module key");
        return HTTP_TARGET_NOT_FOUND;
    }
    return HTTP_TARGET_KEY;
}

http_route_t http_route_of_path(const char *path, size_t len)
{
    modkey_kind_t kind;
    if (has_prefix(path, len, "/sumdb/"))
        return HTTP_ROUTE_SUMDB;
    if (!modkey_kind_of_path(path, len, &kind))
        return HTTP_ROUTE_OTHER;
    return http_route_of_kind(kind);
}

http_route_t http_route_of_kind(modkey_kind_t kind)
{
    switch (kind) {
    case MODKEY_LIST:
        return HTTP_ROUTE_LIST;
    case MODKEY_LATEST:
        return HTTP_ROUTE_LATEST;
    case MODKEY_INFO:
        return HTTP_ROUTE_INFO;
    case MODKEY_MOD:
        return HTTP_ROUTE_MOD;
    case MODKEY_ZIP:
        return HTTP_ROUTE_ZIP;
    case MODKEY_SUMDB:
        return HTTP_ROUTE_SUMDB;
    }
    return HTTP_ROUTE_OTHER;
}

const char *http_route_name(http_route_t r)
{
    static const char *const names[HTTP_ROUTE_COUNT] = {"list", "latest", "info", "mod", "zip", "sumdb", "other"};
    return (unsigned)r < HTTP_ROUTE_COUNT ? names[r] : "other";
}
