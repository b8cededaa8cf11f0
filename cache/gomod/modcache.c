/* SPDX-License-Identifier: MIT */
/*
 * modcache.c — the GOMODCACHE layout of cmd/go/internal/modfetch, as names:
 *
 *   cache/download/<M>/@v/list|<V>.info|<V>.mod|<V>.zip   the GOPROXY key <M>/@v/<name>
 *   cache/download/<M>/@v/<V>.ziphash                      the h1 of <M>/@v/<V>.zip
 *   cache/download/<M>/@latest                             <M>/@latest
 *   <M>@<V>/...                                            the files of <M>/@v/<V>.zip
 *   any prefix of an escaped module path, in either area   a directory on the way
 *
 * The FUSE front asks here what a name is and which names a stored key adds to a directory, so
 * that no suffix, no '@' split and no path-element rule is written twice. Every answer goes
 * through modkey_parse-equivalent checks (modkey_make and the canonical-spelling test), so a
 * store object has exactly one path and nothing invalid becomes a key.
 *
 * It also says what the go command itself writes and where (modcache_write_rule), so that the
 * mount can refuse everything else: lock files, .partial and temp files beside a module's
 * objects, cache/lock, cache/vcs and the sumdb cache always; the objects and the extracted tree
 * of a module only when go downloads that module itself. The list was taken from cmd/go 1.19's
 * modfetch and codehost and checked with strace on a plain directory GOMODCACHE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gomod_i.h"

/* The key whose escaped form is esc[0..len), only in its canonical spelling. */
static bool key_exact(const char *esc, size_t len, modkey_t *key)
{
    return len <= MODKEY_MAX && modkey_parse(esc, len, key, NULL) == 0;
}

/* prefix + "/" + a + b into out: the escaped form of a key or deeper prefix. */
static int join(char *out, size_t cap, const char *prefix, size_t plen, const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b), n = plen + (plen ? 1 : 0) + alen + blen;
    if (n + 1 > cap)
        return -ENAMETOOLONG;
    char *o = out;
    memcpy(o, prefix, plen), o += plen;
    if (plen)
        *o++ = '/';
    memcpy(o, a, alen), o += alen;
    memcpy(o, b, blen), o += blen;
    *o = '\0';
    return (int)n;
}

/* A name in cache/download below prefix: @v, @latest or one more module-path element. */
static modcache_entry_t lookup_download(const char *prefix, size_t plen, const char *name, modkey_t *key)
{
    char esc[MODKEY_MAX + 16];
    bool atv = strcmp(name, "@v") == 0;
    if (atv || strcmp(name, "@latest") == 0) {
        /* only below a whole, valid module path: its list or @latest key must parse */
        int n = plen > 0 ? join(esc, sizeof esc, prefix, plen, "", 0, atv ? "@v/list" : "@latest") : -1;
        if (n <= 0 || !key_exact(esc, (size_t)n, key))
            return MODCACHE_NONE;
        return atv ? MODCACHE_ATV : MODCACHE_OBJECT;
    }
    return modpath_escaped_elem_ok(name, strlen(name), plen == 0) ? MODCACHE_PREFIX : MODCACHE_NONE;
}

/* A name in cache/download/<module>/@v. */
static modcache_entry_t lookup_atv(const char *module, size_t mlen, const char *name, modkey_t *key)
{
    char esc[MODKEY_MAX + 16];
    size_t len = strlen(name);
    if (mem_has_suffix(name, len, ".ziphash", 8)) {
        int n = join(esc, sizeof esc, module, mlen, "@v/", 3, "");
        if (n < 0 || (size_t)n + len - 8 + 4 + 1 > sizeof esc)
            return MODCACHE_NONE;
        memcpy(esc + n, name, len - 8);
        memcpy(esc + n + len - 8, ".zip", 5);
        return key_exact(esc, (size_t)n + len - 4, key) && key->kind == MODKEY_ZIP ? MODCACHE_ZIPHASH
                                                                                    : MODCACHE_NONE;
    }
    /* Only what the store holds: list, .info, .mod, .zip. Everything else (.lock, .partial,
     * temp files) exists only when the go command writes it. */
    if (mem_has_suffix(name, len, ".error", 6)) {
        /* the note of a version (its .info key) or of the module's list */
        size_t blen = len - 6;
        bool list = blen == 4 && memcmp(name, "list", 4) == 0;
        int n = join(esc, sizeof esc, module, mlen, "@v/", 3, "");
        if (n < 0 || blen == 0 || (size_t)n + blen + 6 > sizeof esc)
            return MODCACHE_NONE;
        memcpy(esc + n, name, blen);
        memcpy(esc + n + blen, list ? "" : ".info", list ? 1 : 6);
        size_t klen = (size_t)n + blen + (list ? 0 : 5);
        return key_exact(esc, klen, key) && (key->kind == MODKEY_INFO || key->kind == MODKEY_LIST) ? MODCACHE_NOTE
                                                                                                : MODCACHE_NONE;
    }
    int n = join(esc, sizeof esc, module, mlen, "@v/", 3, name);
    if (n < 0 || !key_exact(esc, (size_t)n, key) || key->kind == MODKEY_LATEST)
        return MODCACHE_NONE;
    return MODCACHE_OBJECT;
}

/* A name in the extracted area below prefix: <elem>@<version> or one more element. */
static modcache_entry_t lookup_extracted(const char *prefix, size_t plen, const char *name, modkey_t *key)
{
    size_t len = strlen(name);
    const char *at = memchr(name, '@', len);
    if (at == NULL)
        return modpath_escaped_elem_ok(name, len, plen == 0) ? MODCACHE_PREFIX : MODCACHE_NONE;
    char esc[MODKEY_MAX + 16];
    int n = join(esc, sizeof esc, prefix, plen, name, (size_t)(at - name), "/@v/");
    size_t vlen = len - (size_t)(at - name) - 1;
    if (n < 0 || (size_t)n + vlen + 5 > sizeof esc)
        return MODCACHE_NONE;
    memcpy(esc + n, at + 1, vlen);
    memcpy(esc + n + vlen, ".zip", 5);
    return key_exact(esc, (size_t)n + vlen + 4, key) && key->kind == MODKEY_ZIP ? MODCACHE_MODROOT : MODCACHE_NONE;
}

modcache_entry_t modcache_lookup(modcache_dir_t dir, const char *prefix, size_t plen, const char *name,
                                 modkey_t *key)
{
    switch (dir) {
    case MODCACHE_DIR_ROOT:
        if (strcmp(name, "cache") == 0)
            return MODCACHE_CACHE;
        return lookup_extracted("", 0, name, key);
    case MODCACHE_DIR_CACHE:
        return strcmp(name, "download") == 0 ? MODCACHE_DOWNLOAD : MODCACHE_NONE;
    case MODCACHE_DIR_DOWNLOAD:
        return lookup_download(prefix, plen, name, key);
    case MODCACHE_DIR_ATV:
        return lookup_atv(prefix, plen, name, key);
    case MODCACHE_DIR_EXTRACTED:
        return lookup_extracted(prefix, plen, name, key);
    }
    return MODCACHE_NONE;
}

modcache_entry_t modcache_download_path(const char *path, size_t len, modkey_t *key)
{
    /* '@' never appears in a module path: the first "/@" ends it */
    const char *at = memmem(path, len, "/@", 2);
    if (at == NULL || memchr(path, '\0', len) != NULL)
        return MODCACHE_NONE;
    size_t mlen = (size_t)(at - path);
    const char *rest = at + 1;
    size_t rlen = len - mlen - 1;
    char name[MODKEY_MAX + 16];
    if (rlen == 7 && memcmp(rest, "@latest", 7) == 0)
        return lookup_download(path, mlen, "@latest", key);
    if (rlen < 4 || memcmp(rest, "@v/", 3) != 0 || rlen - 3 >= sizeof name || memchr(rest + 3, '/', rlen - 3))
        return MODCACHE_NONE;
    memcpy(name, rest + 3, rlen - 3);
    name[rlen - 3] = '\0';
    return lookup_atv(path, mlen, name, key);
}

int modcache_child_prefix(modcache_entry_t entry, const char *prefix, size_t plen, const char *name, char *out,
                          size_t cap)
{
    size_t len = strlen(name);
    switch (entry) {
    case MODCACHE_ATV:
        /* @v stands for the module its parent names */
        if (plen + 1 > cap)
            return -ENAMETOOLONG;
        memcpy(out, prefix, plen);
        out[plen] = '\0';
        return (int)plen;
    case MODCACHE_MODROOT: {
        const char *at = memchr(name, '@', len);
        return join(out, cap, prefix, plen, name, at ? (size_t)(at - name) : len, "");
    }
    default:
        return join(out, cap, prefix, plen, name, len, "");
    }
}

int modcache_visit_prefix(modcache_dir_t dir, const char *prefix, size_t plen, char *out, size_t cap)
{
    switch (dir) {
    case MODCACHE_DIR_ATV:
        return join(out, cap, prefix, plen, "", 0, "@v/");
    case MODCACHE_DIR_DOWNLOAD:
    case MODCACHE_DIR_EXTRACTED:
    case MODCACHE_DIR_ROOT:
        if (plen == 0) {
            if (cap < 1)
                return -ENAMETOOLONG;
            out[0] = '\0';
            return 0;
        }
        return join(out, cap, "", 0, prefix, plen, "/");
    default:
        if (cap < 1)
            return -ENAMETOOLONG;
        out[0] = '\0';
        return 0;
    }
}

int modcache_fixed_names(modcache_dir_t dir, modcache_emit_fn emit, void *arg)
{
    if (dir == MODCACHE_DIR_ROOT)
        return emit(arg, "cache", 5, true);
    if (dir == MODCACHE_DIR_CACHE)
        return emit(arg, "download", 8, true);
    return 0;
}

int modcache_names_of_key(modcache_dir_t dir, const char *prefix, size_t plen, const modkey_t *key,
                          modcache_emit_fn emit, void *arg)
{
    const char *em = key->esc_module;
    size_t emlen = key->esc_module_len;
    if (dir == MODCACHE_DIR_ATV) {
        if (emlen != plen || memcmp(em, prefix, plen) != 0 || key->kind == MODKEY_LATEST)
            return 0;
        /* the object's own name: what follows "<module>/@v/" in its key */
        const char *name = key->escaped + emlen + 4;
        size_t nlen = key->escaped_len - emlen - 4;
        int rc = emit(arg, name, nlen, false);
        if (rc != 0 || key->kind != MODKEY_ZIP)
            return rc;
        char hash[MODKEY_MAX + 16];
        size_t vlen = nlen - 4; /* without ".zip" */
        memcpy(hash, name, vlen);
        memcpy(hash + vlen, ".ziphash", 8);
        return emit(arg, hash, vlen + 8, false);
    }
    if (dir != MODCACHE_DIR_DOWNLOAD && dir != MODCACHE_DIR_EXTRACTED && dir != MODCACHE_DIR_ROOT)
        return 0;
    /* Only a zip makes a tree in the extracted area. */
    if (dir != MODCACHE_DIR_DOWNLOAD && key->kind != MODKEY_ZIP)
        return 0;
    /* key's module must lie strictly below the prefix (or be exactly it, in cache/download) */
    const char *rest;
    size_t rlen;
    if (plen == 0) {
        rest = em, rlen = emlen;
    } else {
        if (emlen < plen || memcmp(em, prefix, plen) != 0)
            return 0;
        if (emlen == plen) {
            if (dir != MODCACHE_DIR_DOWNLOAD)
                return 0;
            return key->kind == MODKEY_LATEST ? emit(arg, "@latest", 7, false) : emit(arg, "@v", 2, true);
        }
        if (em[plen] != '/')
            return 0;
        rest = em + plen + 1, rlen = emlen - plen - 1;
    }
    const char *slash = memchr(rest, '/', rlen);
    if (slash != NULL)
        return emit(arg, rest, (size_t)(slash - rest), true);
    if (dir == MODCACHE_DIR_DOWNLOAD)
        return emit(arg, rest, rlen, true);
    char name[MODKEY_MAX + 16];
    size_t vlen = strlen(key->esc_version);
    if (rlen + 1 + vlen + 1 > sizeof name)
        return 0;
    memcpy(name, rest, rlen);
    name[rlen] = '@';
    memcpy(name + rlen + 1, key->esc_version, vlen);
    return emit(arg, name, rlen + 1 + vlen, true);
}

int modcache_note_path(const modkey_t *key, char *out, size_t cap)
{
    bool list = key->kind == MODKEY_LIST || key->kind == MODKEY_LATEST;
    int n = snprintf(out, cap, "cache/download/%s/@v/%s.error", key->esc_module, list ? "list" : key->esc_version);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

int modcache_partial_path(const modkey_t *zip, char *out, size_t cap)
{
    if (zip->kind != MODKEY_ZIP)
        return -EINVAL;
    int n = snprintf(out, cap, "cache/download/%s/@v/%s.partial", zip->esc_module, zip->esc_version);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

/* s[0..len) starts with word and then ends or goes on with '/'. */
static bool path_is_or_under(const char *s, size_t len, const char *word)
{
    size_t wl = strlen(word);
    return len >= wl && memcmp(s, word, wl) == 0 && (len == wl || s[wl] == '/');
}

/* The name codehost.WorkDir gives a repository: hex of a SHA-256. */
static bool is_hex64(const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* A name in cache/vcs: <hex>, <hex>.lock, <hex>.info, or anything inside <hex>/ (git's files). */
static modcache_write_t write_vcs(const char *rest, size_t len)
{
    const char *slash = memchr(rest, '/', len);
    size_t first = slash ? (size_t)(slash - rest) : len;
    if (is_hex64(rest, first))
        return MODCACHE_WRITE_GO;
    if (!slash && first == 69 && is_hex64(rest, 64) &&
        (memcmp(rest + 64, ".lock", 5) == 0 || memcmp(rest + 64, ".info", 5) == 0))
        return MODCACHE_WRITE_GO;
    return MODCACHE_WRITE_NEVER;
}

/* The key <module>/@v/<v[0..vlen)><suffix> in its canonical spelling, into key. */
static bool atv_key(const char *module, size_t mlen, const char *v, size_t vlen, const char *suffix, modkey_t *key)
{
    char esc[MODKEY_MAX + 16];
    int n = join(esc, sizeof esc, module, mlen, "@v/", 3, "");
    size_t slen = strlen(suffix);
    if (n < 0 || vlen == 0 || (size_t)n + vlen + slen + 1 > sizeof esc)
        return false;
    memcpy(esc + n, v, vlen);
    memcpy(esc + n + vlen, suffix, slen + 1);
    return key_exact(esc, (size_t)n + vlen + slen, key);
}

/* A name in cache/download/<module>/@v: what modfetch's CachePath, tempFile and rewriteVersionList
 * make there. */
static modcache_write_t write_atv(const char *module, size_t mlen, const char *name, size_t len, modkey_t *key)
{
    if (len == 4 && memcmp(name, "list", 4) == 0)
        return atv_key(module, mlen, "list", 4, "", key) ? MODCACHE_WRITE_DOWNLOAD : MODCACHE_WRITE_NEVER;
    /* tempFile: "<V>.<ext>" + rand.Intn(1e9) + ".tmp"; the prefix never ends in a digit */
    if (mem_has_suffix(name, len, ".tmp", 4)) {
        size_t end = len - 4, d = end;
        while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
            d--;
        if (d == end || end - d > 10)
            return MODCACHE_WRITE_NEVER;
        static const char *const exts[] = {".info", ".mod", ".zip"};
        for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
            size_t el = strlen(exts[i]);
            if (mem_has_suffix(name, d, exts[i], el))
                return atv_key(module, mlen, name, d - el, ".zip", key) && key->kind == MODKEY_ZIP ? MODCACHE_WRITE_GO
                                                                                                   : MODCACHE_WRITE_NEVER;
        }
        return MODCACHE_WRITE_NEVER;
    }
    static const struct {
        const char *suffix;
        const char *key_suffix; /* the key the rule is about */
        modcache_write_t rule;
    } names[] = {
        {".lock", ".zip", MODCACHE_WRITE_GO},
        {".partial", ".zip", MODCACHE_WRITE_DOWNLOAD},
        {".ziphash", ".zip", MODCACHE_WRITE_DOWNLOAD},
        {".info", ".info", MODCACHE_WRITE_DOWNLOAD},
        {".mod", ".mod", MODCACHE_WRITE_DOWNLOAD},
        {".zip", ".zip", MODCACHE_WRITE_DOWNLOAD},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t sl = strlen(names[i].suffix);
        if (!mem_has_suffix(name, len, names[i].suffix, sl))
            continue;
        /* CachePath takes canonical versions only: a query's .info is never written */
        if (!atv_key(module, mlen, name, len - sl, names[i].key_suffix, key) || !key->immutable)
            return MODCACHE_WRITE_NEVER;
        return names[i].rule;
    }
    return MODCACHE_WRITE_NEVER;
}

modcache_write_t modcache_write_rule(const char *path, size_t len, modkey_t *key)
{
    if (len == 0 || memchr(path, '\0', len) != NULL)
        return MODCACHE_WRITE_NEVER;
    if (path_is_or_under(path, len, "cache")) {
        if (len == 10 && memcmp(path, "cache/lock", 10) == 0)
            return MODCACHE_WRITE_GO;
        if (path_is_or_under(path, len, "cache/vcs"))
            return len == 9 ? MODCACHE_WRITE_GO : write_vcs(path + 10, len - 10);
        if (path_is_or_under(path, len, "cache/download/sumdb"))
            return MODCACHE_WRITE_GO;
        if (len <= 15 || memcmp(path, "cache/download/", 15) != 0)
            return MODCACHE_WRITE_NEVER;
        /* cache/download/<module>/@v/<name>: '@' never appears in a module path */
        const char *p = path + 15;
        size_t plen = len - 15;
        const char *at = memmem(p, plen, "/@v/", 4);
        if (at == NULL)
            return MODCACHE_WRITE_NEVER;
        const char *name = at + 4;
        size_t nlen = plen - (size_t)(name - p);
        if (nlen == 0 || memchr(name, '/', nlen) != NULL)
            return MODCACHE_WRITE_NEVER;
        return write_atv(p, (size_t)(at - p), name, nlen, key);
    }
    /* the extracted area: <module>@<version>[/...], the first element with an '@' ending the path */
    const char *at = memchr(path, '@', len);
    if (at == NULL)
        return MODCACHE_WRITE_NEVER;
    const char *end = memchr(at, '/', len - (size_t)(at - path));
    size_t vlen = (size_t)((end ? end : path + len) - at) - 1;
    if (memchr(at + 1, '@', vlen) != NULL)
        return MODCACHE_WRITE_NEVER;
    return atv_key(path, (size_t)(at - path), at + 1, vlen, ".zip", key) && key->kind == MODKEY_ZIP
               ? MODCACHE_WRITE_EXTRACT
               : MODCACHE_WRITE_NEVER;
}
