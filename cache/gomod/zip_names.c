/* SPDX-License-Identifier: MIT */
/*
 * zip_names.c — x/mod/zip.CheckZip's rules on a module zip's entry names: the
 * "<module>@<version>/" prefix, clean paths that pass module.CheckFilePath, go.mod only at the
 * root and in lower case, the size limits, and no two names that collide when case is folded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gomod_i.h"

/* An entry's path (after the prefix, without a directory's '/') and its folded form. */
typedef struct zip_name_key {
    size_t fold_off; /* into zip_parse_t.fold */
    size_t fold_len;
    const uint8_t *path; /* into the zip buffer */
    size_t path_len;
    size_t index; /* of the entry, in central directory order */
    bool is_dir;
} zip_name_key_t;

/* ---- names ------------------------------------------------------------------------------- */

/* path.Clean(s) == s, so that entries get Go's message. Clean keeps a root and leading ".."
 * elements of a relative path; it drops empty and "." elements and any other "..". Whatever
 * passes is still held to CheckFilePath, which refuses all of those. */
static bool zip_path_is_clean(const uint8_t *s, size_t n)
{
    if (n == 1 && (s[0] == '.' || s[0] == '/'))
        return true;
    bool rooted = n > 0 && s[0] == '/';
    bool only_dotdot = true; /* every element so far is ".." */
    for (size_t start = rooted, i = start; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        size_t l = i - start;
        bool dot = l == 1 && s[start] == '.';
        bool dotdot = l == 2 && s[start] == '.' && s[start + 1] == '.';
        if (l == 0 || dot || (dotdot && (rooted || !only_dotdot)))
            return false;
        only_dotdot = only_dotdot && dotdot;
        start = i + 1;
    }
    return true;
}

/*
 * Collisions (x/mod/zip's collisionChecker) by sorting instead of by a map of every directory:
 * a map needs a slot per path component, which a zip of deep, distinct paths makes as large as
 * its names times the slot size; sorting needs one key per entry. Folded paths store '/' as
 * 0x01 (below every byte a valid path holds), so memcmp order puts a path right before its
 * contents, and it is enough to compare neighbours:
 *   - equal folded paths must be the same directory, named the same way;
 *   - a path followed by its own contents must be a directory named as they name it;
 *   - otherwise the directories two neighbours share must be named the same way by both.
 * Paths sharing a folded directory form one run of neighbours, so naming agrees along it.
 */
#define FOLD_SLASH 0x01

static int zip_name_key_append(zip_parse_t *p, const zip_entry_t *e, const uint8_t *path, size_t n)
{
    zip_name_key_t k = {.fold_off = p->fold.len,
                        .path = path,
                        .path_len = n,
                        .index = (size_t)(e - p->entries),
                        .is_dir = e->is_dir};
    /* a fold representative is the smallest rune of its orbit, so it never takes more bytes */
    if (buf_reserve(&p->fold, n) < 0)
        return cache_err_set(p->err, -ENOMEM, "zip: out of memory checking names");
    uint8_t *out = p->fold.base + p->fold.len;
    for (size_t i = 0; i < n;) {
        uint32_t r;
        size_t l = utf8_decode(path + i, n - i, &r);
        if (l == 0) /* not reached: CheckFilePath wants valid UTF-8 */
            return zip_entry_fail(p, e, "invalid UTF-8 in name");
        if (r == '/')
            *out++ = FOLD_SLASH;
        else
            out += utf8_encode(unicode_fold_rune(r), out);
        i += l;
    }
    k.fold_len = (size_t)(out - (p->fold.base + p->fold.len));
    p->fold.len += k.fold_len;
    p->fold.base[p->fold.len] = '\0'; /* buf_t's promise; buf_reserve left room for it */
    if (buf_append(&p->keys, &k, sizeof k) < 0)
        return cache_err_set(p->err, -ENOMEM, "zip: out of memory checking names");
    return 0;
}

static int zip_by_fold(const void *a, const void *b, void *fold)
{
    const zip_name_key_t *x = a, *y = b;
    const uint8_t *base = fold;
    size_t n = x->fold_len < y->fold_len ? x->fold_len : y->fold_len;
    int c = memcmp(base + x->fold_off, base + y->fold_off, n);
    if (c != 0)
        return c;
    if (x->fold_len != y->fold_len)
        return x->fold_len < y->fold_len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Length of the first `slashes` elements of path, with the '/' after them. */
static size_t zip_prefix_len(const uint8_t *path, size_t n, size_t slashes)
{
    size_t i = 0;
    while (slashes > 0 && i < n)
        slashes -= path[i++] == '/';
    return i;
}

static int zip_collision(zip_parse_t *p, const zip_name_key_t *a, const zip_name_key_t *b, size_t alen,
                         size_t blen)
{
    char q1[200], q2[200];
    const zip_name_key_t *later = a->index > b->index ? a : b;
    return zip_entry_fail(p, &p->entries[later->index], "case-insensitive file name collision: %s and %s",
                          str_quote(q1, sizeof q1, a->path, alen), str_quote(q2, sizeof q2, b->path, blen));
}

static int zip_check_pair(zip_parse_t *p, const zip_name_key_t *a, const zip_name_key_t *b)
{
    const uint8_t *fa = p->fold.base + a->fold_off, *fb = p->fold.base + b->fold_off;
    size_t common = 0, shared = 0; /* shared: folded '/' in the common part */
    size_t last = 0;               /* bytes up to and with the last common '/' */
    while (common < a->fold_len && common < b->fold_len && fa[common] == fb[common]) {
        if (fa[common++] == FOLD_SLASH)
            shared++, last = common;
    }
    char q[200];
    const zip_name_key_t *later = a->index > b->index ? a : b;
    if (common == a->fold_len && common == b->fold_len) {
        if (a->path_len != b->path_len || memcmp(a->path, b->path, a->path_len) != 0)
            return zip_collision(p, a, b, a->path_len, b->path_len);
        if (a->is_dir != b->is_dir)
            return zip_entry_fail(p, &p->entries[later->index], "entry %s is both a file and a directory",
                                  str_quote(q, sizeof q, a->path, a->path_len));
        if (!a->is_dir)
            return zip_entry_fail(p, &p->entries[later->index], "multiple entries for file %s",
                                  str_quote(q, sizeof q, a->path, a->path_len));
        return 0;
    }
    if (common == a->fold_len && fb[common] == FOLD_SLASH) {
        /* b lies inside a */
        size_t bl = zip_prefix_len(b->path, b->path_len, shared + 1) - 1;
        if (bl != a->path_len || memcmp(a->path, b->path, bl) != 0)
            return zip_collision(p, a, b, a->path_len, bl);
        if (!a->is_dir)
            return zip_entry_fail(p, &p->entries[later->index], "entry %s is both a file and a directory",
                                  str_quote(q, sizeof q, a->path, a->path_len));
        return 0;
    }
    if (last == 0)
        return 0;
    size_t al = zip_prefix_len(a->path, a->path_len, shared) - 1;
    size_t bl = zip_prefix_len(b->path, b->path_len, shared) - 1;
    if (al != bl || memcmp(a->path, b->path, al) != 0)
        return zip_collision(p, a, b, al, bl);
    return 0;
}

int zip_check_collisions(zip_parse_t *p)
{
    zip_name_key_t *keys = (zip_name_key_t *)p->keys.base;
    size_t n = p->keys.len / sizeof *keys;
    if (n < 2)
        return 0;
    qsort_r(keys, n, sizeof *keys, zip_by_fold, p->fold.base);
    for (size_t i = 0; i + 1 < n; i++) {
        int rc = zip_check_pair(p, &keys[i], &keys[i + 1]);
        if (rc < 0)
            return rc;
    }
    return 0;
}


/* x/mod/zip.checkZip on one entry: prefix, clean path, CheckFilePath, collisions, go.mod, sizes. */
int zip_check_name(zip_parse_t *p, const zip_entry_t *e)
{
    char q[200];
    if (e->name_len < p->prefix_len || memcmp(e->name, p->prefix, p->prefix_len) != 0)
        return zip_entry_fail(p, e, "path does not have prefix %s",
                              str_quote(q, sizeof q, (const uint8_t *)p->prefix, p->prefix_len));
    const uint8_t *path = e->name + p->prefix_len;
    size_t n = e->name_len - p->prefix_len;
    if (n == 0) /* the module root itself; Go skips it here but hashes it */
        return 0;
    if (e->is_dir)
        n--;
    if (!zip_path_is_clean(path, n))
        return zip_entry_fail(p, e, "file path is not clean");
    if (memchr(path, '\0', n) != NULL)
        return zip_entry_fail(p, e, "malformed file path: invalid char '\\x00'");
    buf_reset(&p->scratch);
    if (buf_append(&p->scratch, path, n) < 0 || buf_append(&p->scratch, "", 1) < 0)
        return cache_err_set(p->err, -ENOMEM, "zip: out of memory checking names");
    cache_err_t sub = {0};
    if (modpath_check_file((const char *)p->scratch.base, &sub) < 0)
        return zip_entry_fail(p, e, "%s", sub.msg);
    int rc = zip_name_key_append(p, e, path, n);
    if (rc < 0 || e->is_dir)
        return rc;

    const uint8_t *slash = memrchr(path, '/', n);
    const uint8_t *base = slash ? slash + 1 : path;
    size_t base_len = n - (size_t)(base - path);
    /* strings.EqualFold: no rune outside ASCII folds to a letter of "go.mod" */
    if (ascii_equal_fold(base, base_len, "go.mod")) {
        if (base != path)
            return zip_entry_fail(p, e, "go.mod file not in module root directory");
        if (memcmp(path, "go.mod", 6) != 0)
            return zip_entry_fail(p, e, "go.mod files must have lowercase names");
    }
    uint64_t size = e->uncompressed_size;
    if (size > ZIPFILE_MAX_SIZE - p->total)
        return cache_err_set(
            p->err, -EINVAL,
            "zip: total uncompressed size of module contents too large (max size is %llu bytes)",
            ZIPFILE_MAX_SIZE);
    p->total += size;
    if (n == 6 && memcmp(path, "go.mod", 6) == 0 && size > ZIPFILE_MAX_GOMOD)
        return zip_entry_fail(p, e, "go.mod file too large (max size is %llu bytes)", ZIPFILE_MAX_GOMOD);
    if (n == 7 && memcmp(path, "LICENSE", 7) == 0 && size > ZIPFILE_MAX_LICENSE)
        return zip_entry_fail(p, e, "LICENSE file too large (max size is %llu bytes)", ZIPFILE_MAX_LICENSE);
    return 0;
}

