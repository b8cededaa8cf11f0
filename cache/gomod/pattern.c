/* SPDX-License-Identifier: MIT */
/*
 * pattern.c — the glob lists of GOPRIVATE, GONOPROXY and GONOSUMDB: path.Match and
 * module.MatchPrefixPatterns.
 *
 * A list is comma-separated globs; a glob with N slashes matches a module path when it matches
 * the path's first N+1 elements, so "corp.example" covers every module below that host and
 * "*.corp.example/team" every team repository of any sub-domain. The glob syntax is Go's
 * path.Match (path/match.go, Go 1.19), followed rule by rule — including its quirk of checking
 * the rest of a pattern for syntax after a mismatch — because `--private` must mean exactly what
 * the same words mean in GOPRIVATE on the build hosts. modpath_patterns_check is stricter than
 * the go command, which ignores a malformed glob silently: a typo in a rule that keeps a
 * private module away from a public proxy must fail at start-up, not match nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gomod.h"

#define RUNE_ERROR 0xFFFDu

/* utf8.DecodeRuneInString on s[0..len) (len > 0): an invalid byte decodes as U+FFFD, length 1. */
static size_t decode_rune(const char *s, size_t len, uint32_t *r)
{
    size_t n = utf8_decode(s, len, r);
    if (n == 0) {
        *r = RUNE_ERROR;
        n = 1;
    }
    return n;
}

/* path.getEsc: one (possibly escaped) character of a class. -EINVAL when malformed. */
static int get_esc(const char **chunk, size_t *clen, uint32_t *r)
{
    const char *c = *chunk;
    size_t n = *clen;
    if (n == 0 || c[0] == '-' || c[0] == ']')
        return -EINVAL;
    if (c[0] == '\\') {
        c++, n--;
        if (n == 0)
            return -EINVAL;
    }
    size_t k = utf8_decode(c, n, r);
    bool bad = k == 0;
    if (k == 0)
        k = 1;
    *chunk = c + k;
    *clen = n - k;
    if (bad || *clen == 0)
        return -EINVAL;
    return 0;
}

/* path.scanChunk: leading stars, then up to the next star outside a class. */
static void scan_chunk(const char **pat, size_t *plen, bool *star, const char **chunk, size_t *clen)
{
    const char *p = *pat;
    size_t n = *plen;
    *star = false;
    while (n > 0 && p[0] == '*') {
        p++, n--;
        *star = true;
    }
    bool inrange = false;
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] == '\\') {
            if (i + 1 < n)
                i++;
        } else if (p[i] == '[') {
            inrange = true;
        } else if (p[i] == ']') {
            inrange = false;
        } else if (p[i] == '*' && !inrange) {
            break;
        }
    }
    *chunk = p;
    *clen = i;
    *pat = p + i;
    *plen = n - i;
}

/* path.matchChunk: 1 and *rest past the match, 0 for no match, -EINVAL for a malformed chunk.
 * After a mismatch the chunk is still read to its end, for its syntax only. */
static int match_chunk(const char *chunk, size_t clen, const char *s, size_t slen, size_t *rest)
{
    bool failed = false;
    while (clen > 0) {
        if (!failed && slen == 0)
            failed = true;
        switch (chunk[0]) {
        case '[': {
            uint32_t r = 0;
            if (!failed) {
                size_t k = decode_rune(s, slen, &r);
                s += k, slen -= k;
            }
            chunk++, clen--;
            bool negated = false;
            if (clen > 0 && chunk[0] == '^') {
                negated = true;
                chunk++, clen--;
            }
            bool match = false;
            int nrange = 0;
            for (;;) {
                if (clen > 0 && chunk[0] == ']' && nrange > 0) {
                    chunk++, clen--;
                    break;
                }
                uint32_t lo, hi;
                if (get_esc(&chunk, &clen, &lo) != 0)
                    return -EINVAL;
                hi = lo;
                if (chunk[0] == '-') {
                    chunk++, clen--;
                    if (get_esc(&chunk, &clen, &hi) != 0)
                        return -EINVAL;
                }
                if (lo <= r && r <= hi)
                    match = true;
                nrange++;
            }
            if (match == negated)
                failed = true;
            break;
        }
        case '?':
            if (!failed) {
                if (s[0] == '/')
                    failed = true;
                uint32_t r;
                size_t k = decode_rune(s, slen, &r);
                s += k, slen -= k;
            }
            chunk++, clen--;
            break;
        case '\\':
            chunk++, clen--;
            if (clen == 0)
                return -EINVAL;
            /* fall through */
        default:
            if (!failed) {
                if (chunk[0] != s[0])
                    failed = true;
                s++, slen--;
            }
            chunk++, clen--;
            break;
        }
    }
    if (failed)
        return 0;
    *rest = slen;
    return 1;
}

int modpath_glob_match(const char *pattern, size_t plen, const char *name, size_t nlen)
{
    const char *p = pattern;
    size_t pl = plen;
    const char *s = name;
    size_t sl = nlen;
    while (pl > 0) {
        bool star;
        const char *chunk;
        size_t clen;
        scan_chunk(&p, &pl, &star, &chunk, &clen);
        if (star && clen == 0)
            return memchr(s, '/', sl) == NULL; /* a trailing * matches the rest, short of a '/' */
        size_t rest = 0;
        int m = match_chunk(chunk, clen, s, sl, &rest);
        if (m == 1 && (rest == 0 || pl > 0)) {
            s += sl - rest, sl = rest;
            continue;
        }
        if (m < 0)
            return m;
        if (star) {
            bool advanced = false;
            for (size_t i = 0; i < sl && s[i] != '/'; i++) {
                m = match_chunk(chunk, clen, s + i + 1, sl - i - 1, &rest);
                if (m == 1) {
                    if (pl == 0 && rest > 0)
                        continue;
                    s += sl - rest, sl = rest;
                    advanced = true;
                    break;
                }
                if (m < 0)
                    return m;
            }
            if (advanced)
                continue;
        }
        /* No match: the rest of the pattern must still be well-formed. */
        while (pl > 0) {
            scan_chunk(&p, &pl, &star, &chunk, &clen);
            if (match_chunk(chunk, clen, "", 0, &rest) < 0)
                return -EINVAL;
        }
        return 0;
    }
    return sl == 0;
}

/* The next non-empty glob of the list at *list, without its trailing '/'; false at the end. */
static bool next_glob(const char **list, const char **glob, size_t *len)
{
    while (**list != '\0') {
        const char *g = *list;
        size_t n = strcspn(g, ",");
        *list = g[n] == ',' ? g + n + 1 : g + n;
        if (n > 0 && g[n - 1] == '/')
            n--;
        if (n > 0) {
            *glob = g;
            *len = n;
            return true;
        }
    }
    return false;
}

bool modpath_glob_match_prefix(const char *glob, size_t glen, const char *path)
{
    /* A glob of N+1 elements is matched against the first N+1 elements of path. */
    size_t n = 0;
    for (size_t i = 0; i < glen; i++)
        n += glob[i] == '/';
    size_t plen = strlen(path), prefix = plen;
    for (size_t i = 0; i < plen; i++) {
        if (path[i] == '/') {
            if (n == 0) {
                prefix = i;
                break;
            }
            n--;
        }
    }
    if (n > 0)
        return false; /* not enough elements */
    return modpath_glob_match(glob, glen, path, prefix) == 1;
}

bool modpath_match_prefix_patterns(const char *patterns, const char *path)
{
    if (patterns == NULL)
        return false;
    const char *glob;
    size_t len;
    while (next_glob(&patterns, &glob, &len))
        if (modpath_glob_match_prefix(glob, len, path))
            return true;
    return false;
}

int modpath_glob_check(const char *glob, size_t len, cache_err_t *err)
{
    char q[128];
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)glob[i] <= 0x20 || glob[i] == 0x7f)
            return cache_err_set(err, -EINVAL, "pattern %s: contains a space or control character",
                                 str_quote(q, sizeof q, glob, len));
    /* Matching against "" reads the whole pattern (path.Match checks the rest after a mismatch). */
    if (modpath_glob_match(glob, len, "", 0) < 0)
        return cache_err_set(err, -EINVAL, "pattern %s: syntax error in pattern",
                             str_quote(q, sizeof q, glob, len));
    return 0;
}

int modpath_patterns_check(const char *patterns, cache_err_t *err)
{
    if (patterns == NULL)
        return 0;
    const char *glob;
    size_t len;
    while (next_glob(&patterns, &glob, &len)) {
        int rc = modpath_glob_check(glob, len, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}
