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
 */
#include <errno.h>
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
