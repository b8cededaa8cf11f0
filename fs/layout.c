/* SPDX-License-Identifier: MIT */
/*
 * layout.c — how a name in the GOMODCACHE view maps to the store.
 *
 *   cache/download/<M>/@v/list|<V>.info|<V>.mod|<V>.zip   → the store key <M>/@v/<name>
 *   cache/download/<M>/@v/<V>.ziphash                      → the h1 of <M>/@v/<V>.zip
 *   cache/download/<M>/@latest                             → <M>/@latest
 *   <M>@<V>/<file>                                         → a member of <M>/@v/<V>.zip
 *   any prefix of a module path, in either area            → a directory that exists "virtually"
 *
 * The go command walks straight to cache/download/golang.org/x/text/@v/v0.7.0.info, so every
 * directory on the way must answer a lookup without asking anyone: a name that may be an
 * element of an escaped module path is a directory. Only the leaf asks the store, which
 * fetches from upstream on a miss (this thread blocks; the pool is sized for it). Keys are
 * checked by modkey_parse (Go's own rules) and must come back spelled exactly as asked, so
 * each object has one path and nothing invalid ever reaches the store. Misses the store
 * reports are remembered by the kernel for the not-found TTL; names that can never be valid,
 * such as <V>.partial, for a day (the go command creates .partial through this mount, and the
 * kernel then forgets the negative entry itself).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"
#include "log.h"

#define FS_DOWNLOAD_DIR "cache/download"
#define FS_DOWNLOAD_LEN (sizeof(FS_DOWNLOAD_DIR) - 1)

static bool fs_ends_with(const char *s, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix);
    return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

bool fs_layout_elem_ok(const char *name, size_t len, bool first)
{
    /* module.CheckPath: elements of [A-Za-z0-9-._~] (escaped here: lower case and "!x"),
     * no leading or trailing dot; the first is a domain: [a-z0-9-.], a dot, no leading dash. */
    if (len == 0 || len > 255 || name[0] == '.' || name[len - 1] == '.')
        return false;
    if (first) {
        bool dot = false;
        if (name[0] == '-')
            return false;
        for (size_t i = 0; i < len; i++) {
            char c = name[i];
            if (c == '.')
                dot = true;
            else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                return false;
        }
        return dot;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '!') {
            if (i + 1 >= len || name[i + 1] < 'a' || name[i + 1] > 'z')
                return false;
            i++;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~'))
            return false;
    }
    return true;
}

const char *fs_layout_prefix(const fs_node_t *dir, const char *path, size_t *len)
{
    switch (dir->kind) {
    case FS_KIND_DL_PREFIX:
        *len = strlen(path) - FS_DOWNLOAD_LEN - 1;
        return path + FS_DOWNLOAD_LEN + 1;
    case FS_KIND_ATV:
        *len = strlen(path) - FS_DOWNLOAD_LEN - 1 - 3; /* without "/@v" */
        return path + FS_DOWNLOAD_LEN + 1;
    case FS_KIND_MOD_PREFIX:
        *len = strlen(path);
        return path;
    default:
        *len = 0;
        return "";
    }
}

/* Parses key[0..len) and insists on its canonical spelling. */
static int fs_layout_key(const char *key, size_t len, modkey_t *k)
{
    if (len > MODKEY_MAX || modkey_parse(key, len, k, NULL) < 0)
        return -ENOENT;
    if (strlen(k->escaped) != len || memcmp(k->escaped, key, len) != 0)
        return -ENOENT;
    return 0;
}

/* Joins prefix "/" a b c into buf (prefix may be empty). */
static int fs_layout_join(char *buf, size_t cap, const char *prefix, size_t plen, const char *a, size_t alen,
                          const char *b, const char *c)
{
    int n = snprintf(buf, cap, "%.*s%s%.*s%s%s", (int)plen, prefix, plen ? "/" : "", (int)alen, a, b, c);
    if (n < 0 || (size_t)n >= cap)
        return -ENOENT;
    return n;
}

/* cache_get with the errors a lookup can give: not found, "needs upstream", or EIO. */
static int fs_layout_get(fs_mount_t *m, const modkey_t *k, int flags, cache_object_t **o, double *neg_ttl)
{
    cache_err_t err = {0};
    int rc = cache_get(m->cache, k, (flags & FS_RESOLVE_NOFETCH) ? CACHE_GET_NOFETCH : 0, o, &err);
    if (rc == 0)
        return 0;
    if (rc == -ENOENT) {
        *neg_ttl = (double)atomic_load_explicit(&m->notfound_ttl_s, memory_order_relaxed);
        return -ENOENT;
    }
    if (rc == -EINVAL) {
        *neg_ttl = FS_TTL_IMMUTABLE;
        return -ENOENT;
    }
    if (rc == -EAGAIN || rc == -ENOMEM)
        return rc;
    LOG_W("fs: %s: %s", k->escaped, err.msg[0] ? err.msg : strerror(-rc));
    return -EIO;
}

/* The stat of the object k names, fetched if needed (errors as fs_layout_get). */
static int fs_layout_stat(fs_mount_t *m, const modkey_t *k, int flags, cache_stat_t *st, double *neg_ttl)
{
    cache_object_t *o;
    int rc = fs_layout_get(m, k, flags, &o, neg_ttl);
    if (rc < 0)
        return rc;
    cache_object_stat(o, st);
    cache_object_unref(o);
    return 0;
}

/* A new regular-file node of kind backed by the store key k; NULL when out of memory. */
static fs_node_t *fs_layout_file_node(fs_mount_t *m, fs_kind_t kind, const modkey_t *k)
{
    fs_node_t *n = fs_node_new(m, kind, S_IFREG);
    if (!n || !(n->key = strdup(k->escaped))) {
        fs_node_discard(n);
        return NULL;
    }
    return n;
}

/* A store object: list, @latest, .info, .mod or .zip. */
static int fs_layout_object(fs_mount_t *m, const modkey_t *k, int flags, fs_node_t **out, double *neg_ttl)
{
    cache_stat_t st;
    int rc = fs_layout_stat(m, k, flags, &st, neg_ttl);
    if (rc < 0)
        return rc;
    fs_node_t *n = fs_layout_file_node(m, FS_KIND_OBJECT, k);
    if (n == NULL)
        return -ENOMEM;
    n->ttl = !k->immutable;
    n->size = st.size;
    n->mtime = st.mtime;
    *out = n;
    return 0;
}

/* <V>.ziphash: the zip is fetched, for its h1. */
static int fs_layout_ziphash(fs_mount_t *m, const modkey_t *k, int flags, fs_node_t **out, double *neg_ttl)
{
    cache_stat_t st;
    int rc = fs_layout_stat(m, k, flags, &st, neg_ttl);
    if (rc < 0)
        return rc;
    if (strlen(st.h1) != 47 || strncmp(st.h1, "h1:", 3) != 0) {
        LOG_E("fs: %s: the store has no h1 for this zip", k->escaped);
        return -EIO;
    }
    fs_node_t *n = fs_layout_file_node(m, FS_KIND_ZIPHASH, k);
    if (n == NULL)
        return -ENOMEM;
    memcpy(n->h1, st.h1, sizeof(n->h1));
    n->size = 47;
    n->mtime = st.mtime;
    *out = n;
    return 0;
}

/* A name in the extracted area below prefix P: <elem>@<version> or a deeper prefix. */
static int fs_layout_extracted(fs_mount_t *m, const char *P, size_t plen, const char *name, int flags,
                               fs_node_t **out, double *neg_ttl)
{
    size_t len = strlen(name);
    const char *at = memchr(name, '@', len);
    *neg_ttl = FS_TTL_IMMUTABLE;
    if (!at) {
        if (!fs_layout_elem_ok(name, len, plen == 0))
            return -ENOENT;
        *out = fs_node_new(m, FS_KIND_MOD_PREFIX, S_IFDIR);
        return *out ? 0 : -ENOMEM;
    }
    char key[MODKEY_MAX + 64];
    int kl = fs_layout_join(key, sizeof(key), P, plen, name, (size_t)(at - name), "/@v/", "");
    if (kl < 0)
        return -ENOENT;
    int n = snprintf(key + kl, sizeof(key) - (size_t)kl, "%s.zip", at + 1);
    if (n < 0 || (size_t)(kl + n) >= sizeof(key))
        return -ENOENT;
    modkey_t k;
    if (fs_layout_key(key, (size_t)(kl + n), &k) < 0)
        return -ENOENT;
    cache_object_t *zip;
    int rc = fs_layout_get(m, &k, flags, &zip, neg_ttl);
    if (rc < 0)
        return rc;
    cache_stat_t st;
    cache_object_stat(zip, &st);
    fs_node_t *node = fs_node_new(m, FS_KIND_MODROOT, S_IFDIR);
    if (!node) {
        cache_object_unref(zip);
        return -ENOMEM;
    }
    rc = fs_module_new(zip, st.mtime, &node->mod);
    if (rc < 0) {
        LOG_E("fs: %s: cannot list the zip's files: %s", k.escaped, strerror(-rc));
        fs_node_discard(node);
        return rc == -ENOMEM ? rc : -EIO;
    }
    if (!(node->key = strdup(k.escaped)) || !(node->prefix = strdup(""))) {
        fs_node_discard(node);
        return -ENOMEM;
    }
    node->mtime = st.mtime;
    *out = node;
    return 0;
}

/* A name in cache/download below prefix P: @v, @latest or a deeper prefix. */
static int fs_layout_download(fs_mount_t *m, const char *P, size_t plen, const char *name, int flags,
                              fs_node_t **out, double *neg_ttl)
{
    char key[MODKEY_MAX + 64];
    modkey_t k;
    *neg_ttl = FS_TTL_IMMUTABLE;
    if (strcmp(name, "@v") == 0 || strcmp(name, "@latest") == 0) {
        bool atv = name[1] == 'v';
        if (plen == 0)
            return -ENOENT;
        int kl = fs_layout_join(key, sizeof(key), P, plen, "", 0, atv ? "@v/list" : "@latest", "");
        if (kl < 0 || fs_layout_key(key, (size_t)kl, &k) < 0)
            return -ENOENT;
        if (!atv)
            return fs_layout_object(m, &k, flags, out, neg_ttl);
        *out = fs_node_new(m, FS_KIND_ATV, S_IFDIR);
        return *out ? 0 : -ENOMEM;
    }
    if (!fs_layout_elem_ok(name, strlen(name), plen == 0))
        return -ENOENT;
    *out = fs_node_new(m, FS_KIND_DL_PREFIX, S_IFDIR);
    return *out ? 0 : -ENOMEM;
}

/* A name in cache/download/<M>/@v. */
static int fs_layout_atv(fs_mount_t *m, const char *M, size_t mlen, const char *name, int flags, fs_node_t **out,
                         double *neg_ttl)
{
    char key[MODKEY_MAX + 64];
    modkey_t k;
    size_t len = strlen(name);
    *neg_ttl = FS_TTL_IMMUTABLE;
    if (fs_ends_with(name, len, ".ziphash")) {
        int kl = fs_layout_join(key, sizeof(key), M, mlen, "@v/", 3, "", "");
        if (kl < 0 || (size_t)kl + len + 1 > sizeof(key))
            return -ENOENT;
        memcpy(key + kl, name, len - 8);
        memcpy(key + kl + len - 8, ".zip", 5);
        if (fs_layout_key(key, (size_t)kl + len - 4, &k) < 0)
            return -ENOENT;
        return fs_layout_ziphash(m, &k, flags, out, neg_ttl);
    }
    /* Only what the store holds: list, .info, .mod, .zip. Everything else (.lock, .partial,
     * temp files) exists only when written, in the write area. */
    if (!(strcmp(name, "list") == 0 || fs_ends_with(name, len, ".info") || fs_ends_with(name, len, ".mod") ||
          fs_ends_with(name, len, ".zip")))
        return -ENOENT;
    int kl = fs_layout_join(key, sizeof(key), M, mlen, "@v/", 3, name, "");
    if (kl < 0 || fs_layout_key(key, (size_t)kl, &k) < 0)
        return -ENOENT;
    return fs_layout_object(m, &k, flags, out, neg_ttl);
}

/* A name inside an extracted module: a file of the zip or a directory above some. */
static int fs_layout_member(fs_mount_t *m, const fs_node_t *dir, const char *name, fs_node_t **out, double *neg_ttl)
{
    char path[4096];
    size_t plen = strlen(dir->prefix);
    int n = snprintf(path, sizeof(path), "%s%s%s", dir->prefix, plen ? "/" : "", name);
    *neg_ttl = FS_TTL_IMMUTABLE;
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENOENT;
    const fs_module_t *mod = dir->mod;
    ssize_t idx = fs_module_find(mod, path, (size_t)n);
    fs_node_t *node;
    if (idx >= 0) {
        node = fs_node_new(m, FS_KIND_MEMBER, S_IFREG);
        if (!node)
            return -ENOMEM;
        node->member = (size_t)idx;
        node->size = mod->members[idx].size;
    } else {
        size_t b, e;
        fs_module_dir_range(mod, path, (size_t)n, &b, &e);
        if (b == e)
            return -ENOENT;
        node = fs_node_new(m, FS_KIND_MEMBER_DIR, S_IFDIR);
        if (!node || !(node->prefix = strdup(path))) {
            fs_node_discard(node);
            return -ENOMEM;
        }
    }
    node->mod = fs_module_ref(dir->mod);
    node->mtime = mod->mtime;
    *out = node;
    return 0;
}

int fs_layout_resolve(fs_mount_t *m, const fs_node_t *parent, const char *parent_path, const char *name, int flags,
                      fs_node_t **out, double *neg_ttl)
{
    size_t plen;
    const char *P = fs_layout_prefix(parent, parent_path, &plen);
    *out = NULL;
    *neg_ttl = FS_TTL_IMMUTABLE;
    switch (parent->kind) {
    case FS_KIND_ROOT:
        if (strcmp(name, "cache") == 0) {
            *out = fs_node_new(m, FS_KIND_CACHE, S_IFDIR);
            return *out ? 0 : -ENOMEM;
        }
        return fs_layout_extracted(m, "", 0, name, flags, out, neg_ttl);
    case FS_KIND_CACHE:
        if (strcmp(name, "download") == 0) {
            *out = fs_node_new(m, FS_KIND_DOWNLOAD, S_IFDIR);
            return *out ? 0 : -ENOMEM;
        }
        return -ENOENT;
    case FS_KIND_DOWNLOAD:
    case FS_KIND_DL_PREFIX:
        return fs_layout_download(m, P, plen, name, flags, out, neg_ttl);
    case FS_KIND_ATV:
        return fs_layout_atv(m, P, plen, name, flags, out, neg_ttl);
    case FS_KIND_MOD_PREFIX:
        return fs_layout_extracted(m, P, plen, name, flags, out, neg_ttl);
    case FS_KIND_MODROOT:
    case FS_KIND_MEMBER_DIR:
        return fs_layout_member(m, parent, name, out, neg_ttl);
    case FS_KIND_WRITE:
        *neg_ttl = FS_TTL_WRITE;
        return -ENOENT;
    default:
        return -ENOTDIR;
    }
}
