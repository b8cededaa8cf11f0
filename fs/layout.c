/* SPDX-License-Identifier: MIT */
/*
 * layout.c — what a name in the GOMODCACHE view is, made into a node.
 *
 * The names themselves are Go's business: modcache_lookup (gomod.h) says whether a name is a
 * module-path element, @v, a store object, a .ziphash or an extracted module root, and gives the
 * parsed key, in its one canonical spelling; this file only turns the answer into a node and asks
 * the store for what the node needs. The go command walks straight to
 * cache/download/golang.org/x/text/@v/v0.7.0.info, so every directory on the way answers without
 * asking anyone; only the leaf asks the store, which fetches from upstream on a miss (this thread
 * blocks; the pool is sized for it). Misses the store reports are remembered by the kernel for the
 * not-found TTL; names that can never be valid, such as <V>.partial, for a day (the go command
 * creates .partial through this mount, and the kernel then forgets the negative entry itself).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"

/* The GOMODCACHE directory a view node is, or -1 for a node that is no such directory. */
static int fs_layout_dir(const fs_node_t *n, modcache_dir_t *dir)
{
    switch (n->kind) {
    case FS_KIND_ROOT:
        *dir = MODCACHE_DIR_ROOT;
        return 0;
    case FS_KIND_CACHE:
        *dir = MODCACHE_DIR_CACHE;
        return 0;
    case FS_KIND_DOWNLOAD:
    case FS_KIND_DL_PREFIX:
        *dir = MODCACHE_DIR_DOWNLOAD;
        return 0;
    case FS_KIND_ATV:
        *dir = MODCACHE_DIR_ATV;
        return 0;
    case FS_KIND_MOD_PREFIX:
        *dir = MODCACHE_DIR_EXTRACTED;
        return 0;
    default:
        return -1;
    }
}

bool fs_layout_view_dir(const fs_node_t *n, modcache_dir_t *dir, const char **prefix, size_t *plen)
{
    if (fs_layout_dir(n, dir) < 0)
        return false;
    *prefix = n->dir_prefix ? n->dir_prefix : "";
    *plen = strlen(*prefix);
    return true;
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
    /* "remote I/O error" tells the go user that the shared store is down, which EIO would hide */
    return rc == -EREMOTEIO ? -EREMOTEIO : -EIO;
}

/* A new node of kind holding a copy of k; NULL when out of memory. */
static fs_node_t *fs_layout_key_node(fs_mount_t *m, fs_kind_t kind, mode_t type, const modkey_t *k)
{
    fs_node_t *n = fs_node_new(m, kind, type);
    if (!n || !(n->key = modkey_dup(k))) {
        fs_node_discard(n);
        return NULL;
    }
    return n;
}

/* A store object (list, @latest, .info, .mod, .zip) or a zip's .ziphash: fetched now. */
static int fs_layout_file(fs_mount_t *m, fs_kind_t kind, const modkey_t *k, int flags, fs_node_t **out,
                          double *neg_ttl)
{
    cache_object_t *o;
    int rc = fs_layout_get(m, k, flags, &o, neg_ttl);
    if (rc < 0)
        return rc;
    cache_stat_t st;
    cache_object_stat(o, &st);
    cache_object_unref(o);
    if (kind == FS_KIND_ZIPHASH && (strlen(st.h1) != 47 || strncmp(st.h1, "h1:", 3) != 0)) {
        LOG_E("fs: %s: the store has no h1 for this zip", k->escaped);
        return -EIO;
    }
    fs_node_t *n = fs_layout_key_node(m, kind, S_IFREG, k);
    if (n == NULL)
        return -ENOMEM;
    n->mtime = st.mtime;
    if (kind == FS_KIND_ZIPHASH) {
        memcpy(n->h1, st.h1, sizeof(n->h1));
        n->size = 47;
    } else {
        n->ttl = !k->immutable;
        n->size = st.size;
    }
    *out = n;
    return 0;
}

/* <module>@<version>/: the zip is fetched, for its member list. */
static int fs_layout_modroot(fs_mount_t *m, const modkey_t *k, int flags, fs_node_t **out, double *neg_ttl)
{
    cache_object_t *zip;
    int rc = fs_layout_get(m, k, flags, &zip, neg_ttl);
    if (rc < 0)
        return rc;
    cache_stat_t st;
    cache_object_stat(zip, &st);
    fs_node_t *node = fs_layout_key_node(m, FS_KIND_MODROOT, S_IFDIR, k);
    if (!node) {
        cache_object_unref(zip);
        return -ENOMEM;
    }
    rc = fs_module_new(zip, st.mtime, &node->mod);
    if (rc < 0) {
        LOG_E("fs: %s: cannot list the zip's files: %s", k->escaped, strerror(-rc));
        fs_node_discard(node);
        return rc == -ENOMEM ? rc : -EIO;
    }
    if (!(node->prefix = strdup(""))) {
        fs_node_discard(node);
        return -ENOMEM;
    }
    node->mtime = st.mtime;
    *out = node;
    return 0;
}

/* A directory of the view standing for prefix + name (or another fixed directory). */
static int fs_layout_dir_node(fs_mount_t *m, fs_kind_t kind, modcache_entry_t entry, const char *prefix,
                              size_t plen, const char *name, fs_node_t **out)
{
    fs_node_t *n = fs_node_new(m, kind, S_IFDIR);
    if (n == NULL)
        return -ENOMEM;
    if (kind == FS_KIND_DL_PREFIX || kind == FS_KIND_ATV || kind == FS_KIND_MOD_PREFIX) {
        char p[MODKEY_MAX + 1];
        int len = modcache_child_prefix(entry, prefix, plen, name, p, sizeof p);
        if (len < 0 || !(n->dir_prefix = strdup(p))) {
            fs_node_discard(n);
            return len < 0 ? -ENOENT : -ENOMEM;
        }
    }
    *out = n;
    return 0;
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

int fs_layout_resolve(fs_mount_t *m, const fs_node_t *parent, const char *name, int flags, fs_node_t **out,
                      double *neg_ttl)
{
    *out = NULL;
    *neg_ttl = FS_TTL_IMMUTABLE;
    if (parent->kind == FS_KIND_MODROOT || parent->kind == FS_KIND_MEMBER_DIR)
        return fs_layout_member(m, parent, name, out, neg_ttl);
    if (parent->kind == FS_KIND_WRITE) {
        *neg_ttl = FS_TTL_WRITE;
        return -ENOENT;
    }
    modcache_dir_t dir;
    const char *prefix;
    size_t plen;
    if (!fs_layout_view_dir(parent, &dir, &prefix, &plen))
        return -ENOTDIR;
    modkey_buf_t kb;
    modcache_entry_t entry = modcache_lookup(dir, prefix, plen, name, &kb.key);
    switch (entry) {
    case MODCACHE_NONE:
        return -ENOENT;
    case MODCACHE_CACHE:
        return fs_layout_dir_node(m, FS_KIND_CACHE, entry, prefix, plen, name, out);
    case MODCACHE_DOWNLOAD:
        return fs_layout_dir_node(m, FS_KIND_DOWNLOAD, entry, prefix, plen, name, out);
    case MODCACHE_PREFIX:
        return fs_layout_dir_node(m, dir == MODCACHE_DIR_DOWNLOAD ? FS_KIND_DL_PREFIX : FS_KIND_MOD_PREFIX, entry,
                                  prefix, plen, name, out);
    case MODCACHE_ATV:
        return fs_layout_dir_node(m, FS_KIND_ATV, entry, prefix, plen, name, out);
    case MODCACHE_OBJECT:
        return fs_layout_file(m, FS_KIND_OBJECT, &kb.key, flags, out, neg_ttl);
    case MODCACHE_ZIPHASH:
        return fs_layout_file(m, FS_KIND_ZIPHASH, &kb.key, flags, out, neg_ttl);
    case MODCACHE_MODROOT:
        return fs_layout_modroot(m, &kb.key, flags, out, neg_ttl);
    }
    return -ENOENT;
}
