/* SPDX-License-Identifier: MIT */
/*
 * modkey.c — GOPROXY keys: <module>/@v/list, <module>/@latest, <module>/@v/<version>.info|.mod|.zip,
 * parsed from their escaped form or built from names, always checked by module.Check's rules.
 *
 * A key is parsed on every HTTP request and held by every FUSE node that stands for a store
 * object, so it is built once with all its forms (escaped and not, whole and in parts) and its
 * size follows its names: modkey_t ends in a flexible array, a modkey_buf_t has room for the
 * longest key, and modkey_dup keeps only what a key uses. Parsing insists on the canonical
 * spelling, so one object has exactly one key.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod_i.h"

/* Quoted names in messages are cut to this many bytes, so two of them fit in cache_err_t. */
#define QUOTE_MAX 120

/* The ending of each kind's key (a checksum database's keys have none: they start "sumdb/"). */
static const char *const kind_suffix[MODKEY_KINDS] = {
    [MODKEY_LIST] = "/@v/list", [MODKEY_LATEST] = "/@latest", [MODKEY_INFO] = ".info",
    [MODKEY_MOD] = ".mod",      [MODKEY_ZIP] = ".zip",        [MODKEY_SUMDB] = "",
};

const char *modkey_kind_name(modkey_kind_t kind)
{
    static const char *const names[MODKEY_KINDS] = {"list", "@latest", ".info", ".mod", ".zip", "sumdb"};
    return (unsigned)kind < MODKEY_KINDS ? names[kind] : "?";
}

/* Appends s[0..len) and a NUL to k's text; returns where it went. The caller has checked that
 * everything fits in MODKEY_TEXT_MAX. */
static const char *text_add(modkey_t *k, const char *s, size_t len)
{
    char *at = k->text + k->text_len;
    memcpy(at, s, len);
    at[len] = '\0';
    k->text_len = (uint16_t)(k->text_len + len + 1);
    return at;
}

/* Fills out from checked parts. All lengths are at most MODKEY_MAX. */
static void key_fill(modkey_t *out, modkey_kind_t kind, bool immutable, const char *esc_module, size_t emlen,
                     const char *esc_version, size_t evlen, const char *module, size_t mlen, const char *version,
                     size_t vlen)
{
    const char *suffix = kind_suffix[kind];
    size_t slen = strlen(suffix);
    out->kind = kind;
    out->immutable = immutable;
    out->text_len = 0;
    /* escaped = esc_module + ("/@v/" + esc_version | "") + suffix, built in place */
    char *e = out->text;
    size_t n = 0;
    memcpy(e, esc_module, emlen), n += emlen;
    if (evlen > 0)
        memcpy(e + n, "/@v/", 4), n += 4, memcpy(e + n, esc_version, evlen), n += evlen;
    memcpy(e + n, suffix, slen), n += slen;
    e[n] = '\0';
    out->escaped = e;
    out->escaped_len = (uint16_t)n;
    out->text_len = (uint16_t)(n + 1);
    out->esc_module = text_add(out, esc_module, emlen);
    out->esc_module_len = (uint16_t)emlen;
    out->esc_version = text_add(out, esc_version, evlen);
    out->module = text_add(out, module, mlen);
    out->version = text_add(out, version, vlen);
    out->db_kind = 0;
    out->db_name = text_add(out, "", 0);
    out->db_path = text_add(out, "", 0);
}

static void key_clear(modkey_t *out)
{
    out->escaped = out->esc_module = out->esc_version = out->module = out->version = "";
    out->db_name = out->db_path = "";
    out->db_kind = 0;
}

/* modkey_make; path_checked when the caller has just checked module (modpath_unescape does). */
static int modkey_build(modkey_kind_t kind, const char *module, bool path_checked, const char *version,
                        modkey_t *out, cache_err_t *err)
{
    assert(module != NULL && out != NULL);
    char q[QUOTE_MAX];
    key_clear(out);
    if ((unsigned)kind >= MODKEY_KINDS || kind == MODKEY_SUMDB)
        return cache_err_set(err, -EINVAL, "not a module key kind: %d", (int)kind);
    int rc = path_checked ? 0 : modpath_check(module, err);
    if (rc < 0)
        return rc;
    size_t mlen = strlen(module);
    char esc_module[MODKEY_MAX + 1];
    int emlen = mlen > MODKEY_MAX ? -ENAMETOOLONG : gomod_escape_string(module, mlen, esc_module, sizeof esc_module);
    if (emlen < 0)
        return cache_err_set(err, -EINVAL, "module path %s is longer than %d bytes",
                             str_quote(q, sizeof q, module, mlen), MODKEY_MAX);

    bool immutable = false;
    size_t vlen = 0;
    char esc_version[MODKEY_MAX + 1] = "";
    int evlen = 0;
    if (kind == MODKEY_LIST || kind == MODKEY_LATEST) {
        version = "";
    } else {
        if (version == NULL || version[0] == '\0')
            return cache_err_set(err, -EINVAL, "empty version");
        vlen = strlen(version);
        if (!gomod_version_name_ok(version, vlen))
            return cache_err_set(err, -EINVAL, "disallowed version string %s",
                                 str_quote(q, sizeof q, version, vlen));
        if (kind == MODKEY_INFO) {
            /* A query (branch, commit, short semver) is fine for .info; only an exact,
             * valid version names something that can never change. */
            immutable = gomod_check_module_version(module, mlen, true, version, vlen, NULL) == 0;
        } else {
            rc = gomod_check_module_version(module, mlen, true, version, vlen, err);
            if (rc < 0)
                return rc;
            immutable = true;
        }
        evlen = vlen > MODKEY_MAX ? -ENAMETOOLONG : gomod_escape_string(version, vlen, esc_version, sizeof esc_version);
        if (evlen < 0)
            return cache_err_set(err, -EINVAL, "version %s is too long", str_quote(q, sizeof q, version, vlen));
    }
    size_t total = (size_t)emlen + (evlen > 0 ? 4 + (size_t)evlen : 0) + strlen(kind_suffix[kind]);
    if (total > MODKEY_MAX)
        return cache_err_set(err, -EINVAL, "key for module %s is longer than %d bytes",
                             str_quote(q, sizeof q, module, mlen), MODKEY_MAX);
    key_fill(out, kind, immutable, esc_module, (size_t)emlen, esc_version, (size_t)evlen, module, mlen, version,
             vlen);
    return 0;
}

int modkey_make(modkey_kind_t kind, const char *module, const char *version, modkey_t *out, cache_err_t *err)
{
    return modkey_build(kind, module, false, version, out, err);
}

int modkey_sibling(const modkey_t *k, modkey_kind_t kind, modkey_t *out, cache_err_t *err)
{
    if (k->kind == MODKEY_SUMDB)
        return cache_err_set(err, -EINVAL, "%s names no module version", k->escaped);
    return modkey_build(kind, k->module, true, k->version, out, err);
}

int modkey_parse(const char *key, size_t len, modkey_t *out, cache_err_t *err)
{
    assert(out != NULL && (key != NULL || len == 0));
    char q[QUOTE_MAX];
    key_clear(out);
    if (len == 0)
        return cache_err_set(err, -EINVAL, "empty key");
    if (len > MODKEY_MAX)
        return cache_err_set(err, -EINVAL, "key is %zu bytes, longer than %d", len, MODKEY_MAX);
    /* Escaped keys are plain ASCII; a NUL, a control byte or UTF-8 is never part of one. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c >= 0x7f)
            return cache_err_set(err, -EINVAL, "key %s: byte 0x%02x at offset %zu is not allowed",
                                 str_quote(q, sizeof q, key, len), c, i);
    }
    if (key[0] == '/')
        return cache_err_set(err, -EINVAL, "key %s: leading slash", str_quote(q, sizeof q, key, len));

    /* '@' never appears in a module path, so the first "/@" ends the module. */
    const char *at = memmem(key, len, "/@", 2);
    if (at == NULL)
        return cache_err_set(err, -EINVAL, "key %s: no /@v/ or /@latest after the module path",
                             str_quote(q, sizeof q, key, len));
    size_t mod_len = (size_t)(at - key);
    const char *tail = at;
    size_t tail_len = len - mod_len;
    modkey_kind_t kind;
    const char *ver = NULL;
    size_t ver_len = 0;
    if (tail_len == 8 && memcmp(tail, "/@v/list", 8) == 0) {
        kind = MODKEY_LIST;
    } else if (tail_len == 8 && memcmp(tail, "/@latest", 8) == 0) {
        kind = MODKEY_LATEST;
    } else if (tail_len > 4 && memcmp(tail, "/@v/", 4) == 0) {
        ver = tail + 4;
        size_t rest = tail_len - 4;
        if (memchr(ver, '/', rest) != NULL)
            return cache_err_set(err, -EINVAL, "key %s: '/' after @v/", str_quote(q, sizeof q, key, len));
        if (mem_has_suffix(ver, rest, ".info", 5))
            kind = MODKEY_INFO, ver_len = rest - 5;
        else if (mem_has_suffix(ver, rest, ".mod", 4))
            kind = MODKEY_MOD, ver_len = rest - 4;
        else if (mem_has_suffix(ver, rest, ".zip", 4))
            kind = MODKEY_ZIP, ver_len = rest - 4;
        else
            return cache_err_set(err, -EINVAL, "key %s: not list, .info, .mod or .zip",
                                 str_quote(q, sizeof q, key, len));
        if (ver_len == 0)
            return cache_err_set(err, -EINVAL, "key %s: empty version", str_quote(q, sizeof q, key, len));
    } else {
        return cache_err_set(err, -EINVAL, "key %s: expected @v/list, @latest or @v/<version>.info|.mod|.zip",
                             str_quote(q, sizeof q, key, len));
    }

    char module[MODKEY_MAX + 1], version[MODKEY_MAX + 1] = "";
    int rc = modpath_unescape(key, mod_len, module, sizeof module, err);
    if (rc < 0)
        return rc;
    if (ver != NULL) {
        rc = modversion_unescape(ver, ver_len, version, sizeof version, err);
        if (rc < 0)
            return rc;
    }
    rc = modkey_build(kind, module, true, version, out, err); /* modpath_unescape checked the path */
    if (rc < 0)
        return rc;
    /* Escaping is one-to-one on valid names, so rebuilding gives the key back; anything else
     * would be a bug here, and two spellings of one object must never both reach the store. */
    if (out->escaped_len != len || memcmp(out->escaped, key, len) != 0) {
        key_clear(out);
        return cache_err_set(err, -EINVAL, "key %s is not in canonical escaped form",
                             str_quote(q, sizeof q, key, len));
    }
    return 0;
}

/* Points dst's strings at dst's own text, at the offsets src's have in src's. */
static void key_rebase(modkey_t *dst, const modkey_t *src)
{
    dst->escaped = dst->text + (src->escaped - src->text);
    dst->esc_module = dst->text + (src->esc_module - src->text);
    dst->esc_version = dst->text + (src->esc_version - src->text);
    dst->module = dst->text + (src->module - src->text);
    dst->version = dst->text + (src->version - src->text);
    dst->db_name = dst->text + (src->db_name - src->text);
    dst->db_path = dst->text + (src->db_path - src->text);
}

modkey_t *modkey_dup(const modkey_t *k)
{
    modkey_t *d = malloc(sizeof *d + k->text_len);
    if (d == NULL)
        return NULL;
    memcpy(d, k, sizeof *d + k->text_len);
    key_rebase(d, k);
    return d;
}

void modkey_copy(modkey_t *dst, const modkey_t *src)
{
    if (dst == src)
        return;
    memcpy(dst, src, sizeof *dst + src->text_len);
    key_rebase(dst, src);
}

bool modkey_equal(const modkey_t *a, const modkey_t *b)
{
    return a->kind == b->kind && a->escaped_len == b->escaped_len && memcmp(a->escaped, b->escaped, a->escaped_len) == 0;
}

bool modkey_kind_of_path(const char *path, size_t len, modkey_kind_t *kind)
{
    for (int k = 0; k < MODKEY_KINDS; k++) {
        const char *s = kind_suffix[k];
        if (s[0] == '\0')
            continue;
        if (mem_has_suffix(path, len, s, strlen(s))) {
            *kind = (modkey_kind_t)k;
            return true;
        }
    }
    return false;
}

int modkey_parse_sumdb(const char *key, size_t len, modkey_t *out, cache_err_t *err)
{
    assert(out != NULL && (key != NULL || len == 0));
    char q[QUOTE_MAX];
    key_clear(out);
    if (len > MODKEY_MAX)
        return cache_err_set(err, -EINVAL, "key is %zu bytes, longer than %d", len, MODKEY_MAX);
    /* Printable ASCII without spaces, as every name of a database and every escaped module is. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c <= 0x20 || c >= 0x7f)
            return cache_err_set(err, -EINVAL, "key %s: byte 0x%02x at offset %zu is not allowed",
                                 str_quote(q, sizeof q, key, len), c, i);
    }
    if (len < 6 || memcmp(key, "sumdb/", 6) != 0)
        return cache_err_set(err, -EINVAL, "key %s: not under sumdb/", str_quote(q, sizeof q, key, len));
    const char *body = key + 6;
    size_t blen = len - 6, nlen;
    sumdb_path_kind_t kind;
    int rc = gomod_sumdb_split(body, blen, &nlen, &kind, err);
    if (rc != 0)
        return rc;
    const char *path = body + nlen + 1;
    size_t plen = blen - nlen - 1;

    bool immutable = false;
    const char *esc_module = "", *esc_version = "";
    size_t emlen = 0, evlen = 0;
    char module[MODKEY_MAX + 1] = "", version[MODKEY_MAX + 1] = "";
    if (kind == SUMDB_PATH_LOOKUP) {
        /* lookup/<escaped module>@<escaped version>: '@' is in neither, so the first one splits */
        esc_module = path + 7;
        const char *at = memchr(esc_module, '@', plen - 7);
        if (at == NULL)
            return cache_err_set(err, -EINVAL, "key %s: lookup/ needs <module>@<version>",
                                 str_quote(q, sizeof q, key, len));
        emlen = (size_t)(at - esc_module);
        esc_version = at + 1;
        evlen = plen - 7 - emlen - 1;
        if ((rc = modpath_unescape(esc_module, emlen, module, sizeof module, err)) < 0 ||
            (rc = modversion_unescape(esc_version, evlen, version, sizeof version, err)) < 0 ||
            (rc = gomod_check_module_version(module, strlen(module), true, version, strlen(version), err)) < 0)
            return rc;
        /* one spelling per answer: the escaping must be the canonical one */
        char again[MODKEY_MAX + 1];
        int n = gomod_escape_string(module, strlen(module), again, sizeof again);
        int m = n < 0 ? -1 : gomod_escape_string(version, strlen(version), again + n, sizeof again - (size_t)n);
        if (n < 0 || m < 0 || (size_t)n != emlen || (size_t)m != evlen || memcmp(again, esc_module, emlen) != 0 ||
            memcmp(again + n, esc_version, evlen) != 0)
            return cache_err_set(err, -EINVAL, "key %s is not in canonical escaped form",
                                 str_quote(q, sizeof q, key, len));
    } else if (kind == SUMDB_PATH_TILE) {
        sumdb_tile_t t;
        if ((rc = sumdb_tile_parse(path, plen, &t, err)) != 0)
            return rc;
        if (t.h != SUMDB_TILE_HEIGHT)
            return cache_err_set(err, -EINVAL, "key %s: tiles of height %d only",
                                 str_quote(q, sizeof q, key, len), SUMDB_TILE_HEIGHT);
        immutable = t.w == 1 << t.h;
    }
    out->kind = MODKEY_SUMDB;
    out->immutable = immutable;
    out->db_kind = (uint8_t)kind;
    out->text_len = 0;
    out->escaped = text_add(out, key, len);
    out->escaped_len = (uint16_t)len;
    out->esc_module = text_add(out, esc_module, emlen);
    out->esc_module_len = (uint16_t)emlen;
    out->esc_version = text_add(out, esc_version, evlen);
    out->module = text_add(out, module, strlen(module));
    out->version = text_add(out, version, strlen(version));
    out->db_name = text_add(out, body, nlen);
    out->db_path = text_add(out, path, plen);
    return 0;
}

int modkey_make_sumdb(const char *name, const char *path, modkey_t *out, cache_err_t *err)
{
    char key[MODKEY_MAX + 1];
    size_t nlen = strlen(name), plen = strlen(path);
    key_clear(out);
    if (6 + nlen + 1 + plen > MODKEY_MAX)
        return cache_err_set(err, -EINVAL, "key of %.100s/%.100s is longer than %d bytes", name, path, MODKEY_MAX);
    /* The name ends before the first element that starts an answer's path: a name holding one
     * would be split elsewhere, and its answers named as another database's. */
    size_t name_part;
    sumdb_path_kind_t kind;
    char probe[SUMDB_NAME_MAX + 16];
    int n = snprintf(probe, sizeof probe, "%s/latest", name);
    if (n > 0 && (size_t)n < sizeof probe &&
        (gomod_sumdb_split(probe, (size_t)n, &name_part, &kind, NULL) != 0 || name_part != nlen)) {
        char q[QUOTE_MAX];
        return cache_err_set(err, -EINVAL, "checksum database name %s cannot be served under /sumdb/: it is not "
                                           "host[/path], or an element of it starts an answer's path",
                             str_quote(q, sizeof q, name, nlen));
    }
    memcpy(key, "sumdb/", 6);
    memcpy(key + 6, name, nlen);
    key[6 + nlen] = '/';
    memcpy(key + 6 + nlen + 1, path, plen);
    return modkey_parse_sumdb(key, 6 + nlen + 1 + plen, out, err);
}
