/* SPDX-License-Identifier: MIT */
/*
 * sumdbpath.c — the names of a checksum database's answers, as a go client asks for them
 * (golang.org/x/mod/sumdb's server paths, tlog.Tile.Path) and as a proxy serves them under
 * $GOPROXY/sumdb/<name>/: "supported", "latest", "lookup/<module>@<version>",
 * "tile/H/L/x001/x234/067[.p/W]" (L "data" for a data tile), and the database names themselves.
 *
 * They are outside input like module keys, so they live here with Go's other rules: the key
 * parser (modkey.c) splits a proxy path with them, and the checksum-database client
 * (cache/sumdb/) names the tiles it reads with them. Only canonical spellings are accepted (a
 * tile path must print back to the same bytes), so one answer has one name in the store.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gomod_i.h"

#define PATH_BASE 1000

bool sumdb_tile_valid(const sumdb_tile_t *t)
{
    return t->h >= 1 && t->h <= 30 && t->l >= -1 && t->l <= 63 && t->n >= 0 && t->w >= 1 &&
           t->w <= (1 << t->h);
}

int sumdb_tile_path(const sumdb_tile_t *t, char *out, size_t cap)
{
    if (!sumdb_tile_valid(t))
        return -EINVAL;
    /* N in base 1000, most significant group first, all but the last prefixed with 'x'. */
    int groups[8];
    int ng = 0;
    int64_t n = t->n;
    do {
        groups[ng++] = (int)(n % PATH_BASE);
        n /= PATH_BASE;
    } while (n > 0);
    char level[8];
    if (t->l == -1)
        snprintf(level, sizeof level, "data");
    else
        snprintf(level, sizeof level, "%d", t->l);
    size_t len = 0;
    int w = snprintf(out, cap, "tile/%d/%s/", t->h, level);
    if (w < 0 || (size_t)w >= cap)
        return -ENAMETOOLONG;
    len = (size_t)w;
    for (int i = ng - 1; i >= 0; i--) {
        w = snprintf(out + len, cap - len, i > 0 ? "x%03d/" : "%03d", groups[i]);
        if (w < 0 || (size_t)w >= cap - len)
            return -ENAMETOOLONG;
        len += (size_t)w;
    }
    if (t->w != (1 << t->h)) {
        w = snprintf(out + len, cap - len, ".p/%d", t->w);
        if (w < 0 || (size_t)w >= cap - len)
            return -ENAMETOOLONG;
        len += (size_t)w;
    }
    return (int)len;
}

/* A decimal number of at most maxdigits digits, no sign, as strconv.Atoi takes it in the canonical
 * form (the round trip through sumdb_tile_path rejects leading zeros where they do not belong). */
static bool parse_num(const char *s, size_t len, int maxdigits, int64_t *out)
{
    if (len == 0 || len > (size_t)maxdigits)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int sumdb_tile_parse(const char *path, size_t len, sumdb_tile_t *out, cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (len > SUMDB_TILE_PATH_MAX || len < 5 || memcmp(path, "tile/", 5) != 0 || memchr(path, '\0', len))
        goto bad;
    /* Split on '/': tile, H, L, the groups of N (the last may end in ".p"), then W. */
    const char *f[16];
    size_t fl[16];
    size_t nf = 0;
    for (size_t i = 0, start = 0; i <= len; i++) {
        if (i == len || path[i] == '/') {
            if (nf == 16)
                goto bad;
            f[nf] = path + start;
            fl[nf] = i - start;
            nf++;
            start = i + 1;
        }
    }
    if (nf < 4)
        goto bad;
    int64_t h, l, w;
    bool data = fl[2] == 4 && memcmp(f[2], "data", 4) == 0;
    if (!parse_num(f[1], fl[1], 2, &h) || h < 1 || h > 30)
        goto bad;
    if (data)
        l = -1;
    else if (!parse_num(f[2], fl[2], 2, &l) || l > 63)
        goto bad;
    w = (int64_t)1 << h;
    size_t last = nf; /* fields [3, last) hold N */
    if (fl[nf - 2] >= 2 && memcmp(f[nf - 2] + fl[nf - 2] - 2, ".p", 2) == 0) {
        int64_t ww;
        if (!parse_num(f[nf - 1], fl[nf - 1], 10, &ww) || ww <= 0 || ww >= w)
            goto bad;
        w = ww;
        fl[nf - 2] -= 2;
        last = nf - 1;
    }
    if (last <= 3 || last - 3 > 6) /* 18 digits: past any tree of SUMDB_TREE_MAX */
        goto bad;
    int64_t n = 0;
    for (size_t i = 3; i < last; i++) {
        const char *s = f[i];
        size_t sl = fl[i];
        if (sl > 0 && s[0] == 'x')
            s++, sl--;
        int64_t g;
        if (!parse_num(s, sl, 3, &g))
            goto bad;
        n = n * PATH_BASE + g;
    }
    out->h = (int)h;
    out->l = (int)l;
    out->n = n;
    out->w = (int)w;
    /* Only the canonical spelling is a tile path: it must print back to the same bytes. */
    char again[SUMDB_TILE_PATH_MAX + 1];
    int alen = sumdb_tile_path(out, again, sizeof again);
    if (alen < 0 || (size_t)alen != len || memcmp(again, path, len) != 0)
        goto bad;
    return 0;
bad:
    memset(out, 0, sizeof *out);
    return cache_err_set(err, -EINVAL, "malformed tile path \"%.*s\"", (int)(len > 100 ? 100 : len), path);
}

bool sumdb_name_valid(const char *name, size_t len)
{
    /* go: "https://" + name must parse back as exactly a host and a path; these characters are
     * the conservative set that does. modfs adds: no empty, "." or ".." element (a name also
     * names a directory of the store, and a URL path that a server might clean). */
    if (len == 0 || len > SUMDB_NAME_MAX || memchr(name, '\0', len) != NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!(ascii_is_alnum(c) || strchr("-._~/:", c)))
            return false;
    }
    for (size_t start = 0; start <= len;) {
        const char *slash = memchr(name + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - name) : len;
        size_t n = end - start;
        if (n == 0 || (n == 1 && name[start] == '.') ||
            (n == 2 && name[start] == '.' && name[start + 1] == '.'))
            return false;
        start = end + 1;
    }
    return true;
}

/* The words that start the part of a proxy path below the database's name. */
static sumdb_path_kind_t path_kind_of(const char *elem, size_t len, bool last, bool *found)
{
    *found = true;
    if (last && len == 9 && memcmp(elem, "supported", 9) == 0)
        return SUMDB_PATH_SUPPORTED;
    if (last && len == 6 && memcmp(elem, "latest", 6) == 0)
        return SUMDB_PATH_LATEST;
    if (!last && len == 6 && memcmp(elem, "lookup", 6) == 0)
        return SUMDB_PATH_LOOKUP;
    if (!last && len == 4 && memcmp(elem, "tile", 4) == 0)
        return SUMDB_PATH_TILE;
    *found = false;
    return SUMDB_PATH_SUPPORTED;
}

int gomod_sumdb_split(const char *p, size_t len, size_t *name_len, sumdb_path_kind_t *kind, cache_err_t *err)
{
    /* The name is every element before the first one that starts an answer's path. */
    for (size_t start = 0; start < len;) {
        const char *slash = memchr(p + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - p) : len;
        bool found;
        sumdb_path_kind_t k = path_kind_of(p + start, end - start, slash == NULL, &found);
        if (found && start > 0) {
            *name_len = start - 1;
            *kind = k;
            if (!sumdb_name_valid(p, start - 1))
                break;
            return 0;
        }
        start = end + 1;
    }
    char q[160];
    return cache_err_set(err, -EINVAL,
                         "%s is not <database>/supported, latest, lookup/<module>@<version> or "
                         "tile/...",
                         str_quote(q, sizeof q, p, len));
}
