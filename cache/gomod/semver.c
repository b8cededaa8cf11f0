/* SPDX-License-Identifier: MIT */
/*
 * semver.c — golang.org/x/mod/semver and module.IsPseudoVersion.
 *
 * module.Check (modpath.c) stands on this grammar: a .mod or .zip key is only accepted with a
 * version the go command would call valid and canonical, so the parser follows golang.org/x/mod
 * v0.7.0 (semver/semver.go, module/pseudo.go) rule by rule. It is a grammar of its own, apart
 * from the path rules; modpath.c reads its parsed form through semver_i.h.
 *
 * As in modpath.c, every string inside is a (pointer, length) pair, and the public functions that
 * take C strings measure them once.
 */
#include "gomod_i.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>


/* A decimal without extra leading zeros. */
static bool parse_int(const char *v, size_t len, size_t *n)
{
    if (len == 0 || !ascii_is_digit(v[0]))
        return false;
    size_t i = 1;
    while (i < len && ascii_is_digit(v[i]))
        i++;
    if (v[0] == '0' && i != 1)
        return false;
    *n = i;
    return true;
}

static bool is_ident_char(char c)
{
    return ascii_is_alnum(c) || c == '-';
}

/* An all-digit identifier with a leading zero, which semver forbids in prereleases. */
static bool is_bad_num(const char *v, size_t len)
{
    size_t i = 0;
    while (i < len && ascii_is_digit(v[i]))
        i++;
    return i == len && i > 1 && v[0] == '0';
}

/* "-" then dot-separated, non-empty identifiers up to '+' or the end. */
static bool parse_prerelease(const char *v, size_t len, size_t *n)
{
    if (len == 0 || v[0] != '-')
        return false;
    size_t i = 1, start = 1;
    for (; i < len && v[i] != '+'; i++) {
        if (!is_ident_char(v[i]) && v[i] != '.')
            return false;
        if (v[i] == '.') {
            if (start == i || is_bad_num(v + start, i - start))
                return false;
            start = i + 1;
        }
    }
    if (start == i || is_bad_num(v + start, i - start))
        return false;
    *n = i;
    return true;
}

/* "+" then dot-separated, non-empty identifiers to the end. */
static bool parse_build(const char *v, size_t len)
{
    if (len == 0 || v[0] != '+')
        return false;
    size_t start = 1;
    for (size_t i = 1; i < len; i++) {
        if (!is_ident_char(v[i]) && v[i] != '.')
            return false;
        if (v[i] == '.') {
            if (start == i)
                return false;
            start = i + 1;
        }
    }
    return start != len;
}

/* semver.parse. */
bool semver_parse(const char *v, size_t len, semver_t *sv)
{
    static const char zero[] = "0";
    size_t n;
    /* Empty parts point at "" so that memcmp never sees a NULL pointer. */
    *sv = (semver_t){.shortfill = "", .prerelease = {"", 0}, .build = {"", 0}};
    if (len == 0 || v[0] != 'v')
        return false;
    size_t i = 1;
    if (!parse_int(v + i, len - i, &n))
        return false;
    sv->major = (str_t){v + i, n};
    i += n;
    if (i == len) {
        sv->minor = sv->patch = (str_t){zero, 1};
        sv->shortfill = ".0.0";
        return true;
    }
    if (v[i] != '.' || !parse_int(v + i + 1, len - i - 1, &n))
        return false;
    sv->minor = (str_t){v + i + 1, n};
    i += 1 + n;
    if (i == len) {
        sv->patch = (str_t){zero, 1};
        sv->shortfill = ".0";
        return true;
    }
    if (v[i] != '.' || !parse_int(v + i + 1, len - i - 1, &n))
        return false;
    sv->patch = (str_t){v + i + 1, n};
    i += 1 + n;
    if (i < len && v[i] == '-') {
        if (!parse_prerelease(v + i, len - i, &n))
            return false;
        sv->prerelease = (str_t){v + i, n};
        i += n;
    }
    if (i < len && v[i] == '+') {
        if (!parse_build(v + i, len - i))
            return false;
        sv->build = (str_t){v + i, len - i};
        i = len;
    }
    return i == len;
}

bool semver_is_valid(const char *v)
{
    assert(v != NULL);
    semver_t sv;
    return semver_parse(v, strlen(v), &sv);
}

bool semver_is_canonical(const char *v)
{
    assert(v != NULL);
    semver_t sv;
    return semver_parse(v, strlen(v), &sv) && sv.shortfill[0] == '\0' && sv.build.len == 0;
}

bool semver_is_prerelease(const char *v)
{
    assert(v != NULL);
    semver_t sv;
    return semver_parse(v, strlen(v), &sv) && sv.prerelease.len > 0;
}

/* Decimals without leading zeros: the longer is larger. */
static int compare_int(str_t x, str_t y)
{
    if (x.len != y.len)
        return x.len < y.len ? -1 : 1;
    int c = memcmp(x.p, y.p, x.len);
    return (c > 0) - (c < 0);
}

static bool is_num(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!ascii_is_digit(v[i]))
            return false;
    return true;
}

/* semver.comparePrerelease: no prerelease sorts last; identifiers compare numerically when
 * both are numbers, numbers before words, words in ASCII order; a longer list wins ties. */
static int compare_prerelease(str_t x, str_t y)
{
    if (x.len == y.len && memcmp(x.p, y.p, x.len) == 0)
        return 0;
    if (x.len == 0)
        return 1;
    if (y.len == 0)
        return -1;
    size_t i = 0, j = 0;
    while (i < x.len && j < y.len) {
        i++; /* skip '-' or '.' */
        j++;
        size_t ie = i, je = j;
        while (ie < x.len && x.p[ie] != '.')
            ie++;
        while (je < y.len && y.p[je] != '.')
            je++;
        str_t dx = {x.p + i, ie - i}, dy = {y.p + j, je - j};
        i = ie;
        j = je;
        if (dx.len == dy.len && memcmp(dx.p, dy.p, dx.len) == 0)
            continue;
        bool nx = is_num(dx.p, dx.len), ny = is_num(dy.p, dy.len);
        if (nx != ny)
            return nx ? -1 : 1;
        if (nx && dx.len != dy.len)
            return dx.len < dy.len ? -1 : 1;
        size_t m = dx.len < dy.len ? dx.len : dy.len;
        int c = memcmp(dx.p, dy.p, m);
        if (c != 0)
            return c < 0 ? -1 : 1;
        return dx.len < dy.len ? -1 : 1;
    }
    return i == x.len ? -1 : 1;
}

int semver_compare(const char *a, const char *b)
{
    assert(a != NULL && b != NULL);
    semver_t va, vb;
    bool oka = semver_parse(a, strlen(a), &va), okb = semver_parse(b, strlen(b), &vb);
    if (!oka || !okb)
        return oka == okb ? 0 : oka ? 1 : -1;
    int c = compare_int(va.major, vb.major);
    if (c == 0)
        c = compare_int(va.minor, vb.minor);
    if (c == 0)
        c = compare_int(va.patch, vb.patch);
    if (c == 0)
        c = compare_prerelease(va.prerelease, vb.prerelease);
    return c;
}

/* The tail of a pseudo-version: \d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$ */
static bool pseudo_tail(const char *v, size_t len)
{
    size_t i = 0;
    for (; i < 14; i++)
        if (i >= len || !ascii_is_digit(v[i]))
            return false;
    if (i >= len || v[i++] != '-')
        return false;
    size_t start = i;
    while (i < len && ascii_is_alnum(v[i]))
        i++;
    if (i == start)
        return false;
    if (i == len)
        return true;
    if (v[i] != '+')
        return false;
    return parse_build(v + i, len - i);
}

/* pseudoVersionRE: ^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+build)?$
 * The optional group is matched by trying each '.' it could end at before the first '+'. */
static bool pseudo_match(const char *v, size_t len)
{
    size_t i = 1;
    if (len == 0 || v[0] != 'v')
        return false;
    while (i < len && ascii_is_digit(v[i]))
        i++;
    if (i == 1 || i >= len || v[i] != '.')
        return false;
    i++;
    if (len - i >= 4 && memcmp(v + i, "0.0-", 4) == 0 && pseudo_tail(v + i + 4, len - i - 4))
        return true;
    for (int part = 0; part < 2; part++) { /* \d+\.\d+- */
        size_t start = i;
        while (i < len && ascii_is_digit(v[i]))
            i++;
        if (i == start || i >= len || v[i] != (part == 0 ? '.' : '-'))
            return false;
        i++;
    }
    for (size_t q = i; q + 2 <= len; q++) {
        if (q > i && v[q - 1] == '+')
            break;
        if (q > i && v[q - 1] != '.')
            continue;
        if (v[q] == '0' && v[q + 1] == '.' && pseudo_tail(v + q + 2, len - q - 2))
            return true;
    }
    return false;
}

bool semver_is_pseudo(const char *v)
{
    assert(v != NULL);
    size_t len = strlen(v), dashes = 0;
    for (size_t i = 0; i < len; i++)
        dashes += v[i] == '-';
    semver_t sv;
    return dashes >= 2 && semver_parse(v, len, &sv) && pseudo_match(v, len);
}
