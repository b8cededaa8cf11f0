/* SPDX-License-Identifier: MIT */
/*
 * modpattern.c — the glob lists of GOPRIVATE, GONOPROXY, GONOSUMDB and GOINSECURE:
 * golang.org/x/mod/module.MatchPrefixPatterns, with path.Match (Go 1.19) under it.
 *
 * A list is comma-separated globs; a glob of N+1 path elements matches a module path whose first
 * N+1 elements match it, so "example.com/private" also covers example.com/private/sub. Each glob
 * is matched with path.Match's shell syntax ('*' and '?' never cross a '/', [classes], '\\'
 * escapes), ported line for line because the corner cases (a class that is never closed, a
 * trailing backslash, a '*' before a '/') decide whether a module is checked at all. Go ignores a
 * malformed glob (it matches nothing); modpath_prefix_patterns_check lets a configuration refuse
 * one instead of silently checking modules its author meant to exempt.
 */
#include <errno.h>
#include <string.h>

#include "gomod_i.h"

#define RUNE_ERROR 0xFFFDu

/* utf8.DecodeRuneInString: an invalid byte is RuneError of length 1; len > 0. */
static size_t decode_rune(const char *s, size_t len, uint32_t *r)
{
    size_t n = utf8_decode(s, len, r);
    if (n == 0) {
        *r = RUNE_ERROR;
        n = 1;
    }
    return n;
}

/* A string being consumed from the front. */
typedef struct span {
    const char *p;
    size_t len;
} span_t;

static void span_skip(span_t *s, size_t n)
{
    s->p += n;
    s->len -= n;
}

/* scanChunk: an optional run of '*' (*star), then the chunk up to the next '*' outside a class. */
static void scan_chunk(span_t *pattern, bool *star, span_t *chunk)
{
    *star = false;
    while (pattern->len > 0 && pattern->p[0] == '*') {
        span_skip(pattern, 1);
        *star = true;
    }
    bool inrange = false;
    size_t i;
    for (i = 0; i < pattern->len; i++) {
        char c = pattern->p[i];
        if (c == '\\') {
            if (i + 1 < pattern->len)
                i++;
        } else if (c == '[') {
            inrange = true;
        } else if (c == ']') {
            inrange = false;
        } else if (c == '*' && !inrange) {
            break;
        }
    }
    *chunk = (span_t){pattern->p, i};
    span_skip(pattern, i);
}

/* getEsc: a possibly escaped rune of a class; false for ErrBadPattern. */
static bool get_esc(span_t *chunk, uint32_t *r)
{
    if (chunk->len == 0 || chunk->p[0] == '-' || chunk->p[0] == ']')
        return false;
    if (chunk->p[0] == '\\') {
        span_skip(chunk, 1);
        if (chunk->len == 0)
            return false;
    }
    size_t n = decode_rune(chunk->p, chunk->len, r);
    bool bad = *r == RUNE_ERROR && n == 1;
    span_skip(chunk, n);
    return !bad && chunk->len > 0;
}

/* matchChunk: whether chunk matches the start of s (the rest in *rest). Returns 1 match, 0 no
 * match, -EINVAL for a malformed chunk (checked to its end even after a mismatch). */
static int match_chunk(span_t chunk, span_t s, span_t *rest)
{
    bool failed = false;
    while (chunk.len > 0) {
        if (!failed && s.len == 0)
            failed = true;
        char c = chunk.p[0];
        if (c == '[') {
            uint32_t r = 0;
            if (!failed)
                span_skip(&s, decode_rune(s.p, s.len, &r));
            span_skip(&chunk, 1);
            bool negated = false;
            if (chunk.len > 0 && chunk.p[0] == '^') {
                negated = true;
                span_skip(&chunk, 1);
            }
            bool match = false;
            int nrange = 0;
            for (;;) {
                if (chunk.len > 0 && chunk.p[0] == ']' && nrange > 0) {
                    span_skip(&chunk, 1);
                    break;
                }
                uint32_t lo, hi;
                if (!get_esc(&chunk, &lo))
                    return -EINVAL;
                hi = lo;
                if (chunk.p[0] == '-') { /* get_esc left at least one byte */
                    span_skip(&chunk, 1);
                    if (!get_esc(&chunk, &hi))
                        return -EINVAL;
                }
                if (lo <= r && r <= hi)
                    match = true;
                nrange++;
            }
            if (match == negated)
                failed = true;
        } else if (c == '?') {
            if (!failed) {
                if (s.p[0] == '/')
                    failed = true;
                uint32_t r;
                span_skip(&s, decode_rune(s.p, s.len, &r));
            }
            span_skip(&chunk, 1);
        } else {
            if (c == '\\') {
                span_skip(&chunk, 1);
                if (chunk.len == 0)
                    return -EINVAL;
            }
            if (!failed) {
                if (chunk.p[0] != s.p[0])
                    failed = true;
                span_skip(&s, 1);
            }
            span_skip(&chunk, 1);
        }
    }
    if (failed)
        return 0;
    *rest = s;
    return 1;
}

/* path.Match: 1 match, 0 no match, -EINVAL for a malformed pattern. */
static int path_match(span_t pattern, span_t name)
{
    while (pattern.len > 0) {
        bool star;
        span_t chunk, t;
        scan_chunk(&pattern, &star, &chunk);
        if (star && chunk.len == 0)
            return memchr(name.p, '/', name.len) == NULL; /* a trailing '*' takes the rest but a '/' */
        int ok = match_chunk(chunk, name, &t);
        /* the last chunk must use up the name; an earlier one may leave some for the next */
        if (ok == 1 && (t.len == 0 || pattern.len > 0)) {
            name = t;
            continue;
        }
        if (ok < 0)
            return ok;
        if (star) {
            bool matched = false;
            for (size_t i = 0; i < name.len && name.p[i] != '/'; i++) {
                span_t after = {name.p + i + 1, name.len - i - 1};
                ok = match_chunk(chunk, after, &t);
                if (ok == 1) {
                    if (pattern.len == 0 && t.len > 0)
                        continue;
                    name = t;
                    matched = true;
                    break;
                }
                if (ok < 0)
                    return ok;
            }
            if (matched)
                continue;
        }
        /* No match: the rest of the pattern must still be well formed. */
        while (pattern.len > 0) {
            scan_chunk(&pattern, &star, &chunk);
            if (match_chunk(chunk, (span_t){"", 0}, &t) < 0)
                return -EINVAL;
        }
        return 0;
    }
    return name.len == 0;
}

/* Calls fn on each non-empty glob of the list (trailing '/' removed); stops at a non-zero return. */
static int globs_each(const char *globs, int (*fn)(void *arg, span_t glob), void *arg)
{
    const char *p = globs;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        span_t glob = {p, len};
        if (glob.len > 0 && glob.p[glob.len - 1] == '/')
            glob.len--;
        p = comma ? comma + 1 : p + len;
        if (glob.len == 0)
            continue;
        int rc = fn(arg, glob);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct match_arg {
    const char *target;
    size_t len;
} match_arg_t;

static int match_one(void *arg, span_t glob)
{
    const match_arg_t *m = arg;
    /* A glob of N+1 elements is matched against the first N+1 elements of the target. */
    size_t n = 0;
    for (size_t i = 0; i < glob.len; i++)
        n += glob.p[i] == '/';
    span_t prefix = {m->target, m->len};
    for (size_t i = 0; i < m->len; i++) {
        if (m->target[i] == '/') {
            if (n == 0) {
                prefix.len = i;
                break;
            }
            n--;
        }
    }
    if (n > 0)
        return 0; /* fewer elements than the glob */
    return path_match(glob, prefix) == 1;
}

int gomod_path_match(const char *pattern, size_t plen, const char *name, size_t nlen)
{
    return path_match((span_t){pattern, plen}, (span_t){name, nlen});
}

bool modpath_match_prefix_patterns(const char *globs, const char *target)
{
    match_arg_t m = {target, strlen(target)};
    return globs_each(globs, match_one, &m) == 1;
}

typedef struct check_arg {
    cache_err_t *err;
} check_arg_t;

static int check_one(void *arg, span_t glob)
{
    check_arg_t *c = arg;
    /* Matching against "" reads the whole pattern (every chunk is checked even after a miss). */
    if (path_match(glob, (span_t){"", 0}) >= 0)
        return 0;
    char q[160];
    return cache_err_set(c->err, -EINVAL, "bad pattern %s: syntax error in pattern",
                         str_quote(q, sizeof q, glob.p, glob.len));
}

int modpath_prefix_patterns_check(const char *globs, cache_err_t *err)
{
    check_arg_t c = {err};
    return globs_each(globs, check_one, &c);
}
