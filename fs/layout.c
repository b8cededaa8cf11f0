/* SPDX-License-Identifier: MIT */
/*
 * layout.c — what a name in the GOMODCACHE view is, made into a node.
 *
 * The names themselves are Go's business: modcache_lookup (gomod.h) says whether a name is a
 * module-path element, @v, a store object, a .ziphash, an extracted module root or the note of a
 * failed fetch, and gives the parsed key, in its one canonical spelling; this file only turns the
 * answer into a node of the asking user's view and asks the store for what the node needs. The go
 * command walks straight to cache/download/golang.org/x/text/@v/v0.7.0.info, so every directory
 * on the way answers without asking anyone; only the leaf asks the store, which fetches from
 * upstream on a miss (this thread blocks; the pool is sized for it). Misses the store reports are
 * remembered by the kernel for the not-found TTL; names that can never be valid for a day.
 *
 * A fetch that fails is said at the default log level, once per upstream attempt, with the key
 * and upstream's words, and the reason a user's lookup got is kept as a note that user can read
 * in the module's @v directory (<version>.error, list.error): with GOPROXY=off the go command
 * itself only says "module lookup disabled", and the kernel passes nothing but an errno.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static uint64_t fs_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The errno a lookup gives for an upstream failure: a few say more than EIO in the message the
 * go command prints for a failed stat or remove ("connection refused", "bad message"). */
static int fs_layout_errno(int rc)
{
    switch (rc) {
    case -ETIMEDOUT:
    case -ECONNREFUSED:
    case -EHOSTUNREACH:
    case -ENETUNREACH:
    case -EBADMSG:
    case -EFBIG:
    case -EPROTO:
    case -EREMOTEIO: /* the shared store is down and required: "remote I/O error" says so, EIO would not */
        return rc;
    default:
        return -EIO;
    }
}

int fs_layout_get(fs_mount_t *m, fs_view_t *v, const modkey_t *k, int flags, cache_object_t **o, double *neg_ttl)
{
    cache_err_t err = {0};
    /* The store alone first: only an answer that needs upstream is a lazy fetch, timed, logged
     * when it fails, and noted. */
    int rc = cache_get(m->cache, k, CACHE_GET_NOFETCH, o, &err);
    /* a refusal by the allow/deny rules, or a damaged store: said once, here */
    if (rc != 0 && rc != -EAGAIN && rc != -ENOENT && rc != -EINVAL && rc != -ENOMEM)
        LOG_W("fs: %s: %s", k->escaped, err.msg[0] ? err.msg : strerror(-rc));
    if (rc == -EAGAIN && !(flags & FS_RESOLVE_NOFETCH)) {
        uint64_t t0 = fs_now_us();
        err.msg[0] = '\0';
        rc = cache_get(m->cache, k, 0, o, &err);
        fs_metrics_fetch(m, rc, fs_now_us() - t0);
        if (rc != 0 && rc != -ENOMEM) {
            char note[MODKEY_MAX + 64];
            if (modcache_note_path(k, note, sizeof note) < 0)
                snprintf(note, sizeof note, "(none)");
            /* Not found (404/410) is an everyday answer: go probes every prefix of an import
             * path, and a version it asks for may simply not exist. It is said at info level;
             * a real failure (upstream down, a body that failed its checks) at warn. */
            if (rc == -ENOENT)
                LOG_I("fs: %s not found: %s (note: %s on the mount)", k->escaped,
                      err.msg[0] ? err.msg : strerror(-rc), note);
            else
                LOG_W("fs: fetching %s failed: %s (note: %s on the mount)", k->escaped,
                      err.msg[0] ? err.msg : strerror(-rc), note);
        }
    }
    /* The user's own note: what this lookup was told, freshly fetched or remembered. */
    if (v != NULL) {
        if (rc == 0)
            fs_note_drop(v, k);
        else if (rc != -EAGAIN && rc != -ENOMEM && rc != -EINVAL)
            fs_note_put(v, k, err.msg[0] ? err.msg : strerror(-rc));
    }
    if (rc == 0)
        return 0;
    if (rc == -ENOENT || rc == -EACCES) {
        /* refused by the allow/deny rules: absent for go, explained in the log and the note;
         * remembered by the kernel no longer than a miss, since a reload may change the rules */
        *neg_ttl = (double)atomic_load_explicit(&m->notfound_ttl_s, memory_order_relaxed);
        return -ENOENT;
    }
    if (rc == -EINVAL) {
        *neg_ttl = FS_TTL_IMMUTABLE;
        return -ENOENT;
    }
    if (rc == -EAGAIN || rc == -ENOMEM)
        return rc;
    return fs_layout_errno(rc);
}

/* A new node of kind holding a copy of k; NULL when out of memory. */
static fs_node_t *fs_layout_key_node(fs_mount_t *m, fs_view_t *v, fs_kind_t kind, mode_t type, const modkey_t *k)
{
    fs_node_t *n = fs_node_new(m, v, kind, type);
    if (!n || !(n->key = modkey_dup(k))) {
        fs_node_discard(n);
        return NULL;
    }
    return n;
}

/* A store object (list, @latest, .info, .mod, .zip) or a zip's .ziphash: fetched now. */
static int fs_layout_file(fs_mount_t *m, fs_view_t *v, fs_kind_t kind, const modkey_t *k, int flags,
                          fs_node_t **out, double *neg_ttl)
{
    cache_object_t *o;
    int rc = fs_layout_get(m, v, k, flags, &o, neg_ttl);
    if (rc < 0)
        return rc;
    cache_stat_t st;
    cache_object_stat(o, &st);
    cache_object_unref(o);
    if (kind == FS_KIND_ZIPHASH && (strlen(st.h1) != 47 || strncmp(st.h1, "h1:", 3) != 0)) {
        LOG_E("fs: %s: the store has no h1 for this zip", k->escaped);
        return -EIO;
    }
    fs_node_t *n = fs_layout_key_node(m, v, kind, S_IFREG, k);
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
static int fs_layout_modroot(fs_mount_t *m, fs_view_t *v, const modkey_t *k, int flags, fs_node_t **out,
                             double *neg_ttl)
{
    cache_object_t *zip;
    int rc = fs_layout_get(m, v, k, flags, &zip, neg_ttl);
    if (rc < 0)
        return rc;
    cache_stat_t st;
    cache_object_stat(zip, &st);
    fs_node_t *node = fs_layout_key_node(m, v, FS_KIND_MODROOT, S_IFDIR, k);
    if (!node) {
        cache_object_unref(zip);
        return -ENOMEM;
    }
    rc = fs_module_new(zip, k, st.mtime, &node->mod);
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
static int fs_layout_dir_node(fs_mount_t *m, fs_view_t *v, fs_kind_t kind, modcache_entry_t entry,
                              const char *prefix, size_t plen, const char *name, fs_node_t **out)
{
    fs_node_t *n = fs_node_new(m, v, kind, S_IFDIR);
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
static int fs_layout_member(fs_mount_t *m, fs_view_t *v, const fs_node_t *dir, const char *name, fs_node_t **out,
                            double *neg_ttl)
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
        node = fs_node_new(m, v, FS_KIND_MEMBER, S_IFREG);
        if (!node)
            return -ENOMEM;
        node->member = (size_t)idx;
        node->size = mod->members[idx].size;
    } else {
        size_t b, e;
        fs_module_dir_range(mod, path, (size_t)n, &b, &e);
        if (b == e)
            return -ENOENT;
        node = fs_node_new(m, v, FS_KIND_MEMBER_DIR, S_IFDIR);
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

/* The note of a failed lookup of this user: its text as it is now (none: ENOENT, briefly cached). */
static int fs_layout_note(fs_mount_t *m, fs_view_t *v, const modkey_t *k, fs_node_t **out, double *neg_ttl)
{
    /* A note appears when a lookup of another name fails: its absence is never cached. */
    *neg_ttl = 0;
    char *text = fs_note_get(v, k);
    if (text == NULL)
        return -ENOENT;
    fs_node_t *n = fs_layout_key_node(m, v, FS_KIND_NOTE, S_IFREG, k);
    if (n == NULL) {
        free(text);
        return -ENOMEM;
    }
    n->note = text;
    n->size = strlen(text);
    n->mtime = (int64_t)time(NULL);
    *out = n;
    return 0;
}

int fs_layout_resolve(fs_mount_t *m, fs_view_t *v, const fs_node_t *parent, const char *name, int flags,
                      fs_node_t **out, double *neg_ttl)
{
    *out = NULL;
    *neg_ttl = FS_TTL_IMMUTABLE;
    if (parent->kind == FS_KIND_MODROOT || parent->kind == FS_KIND_MEMBER_DIR)
        return fs_layout_member(m, v, parent, name, out, neg_ttl);
    if (parent->kind == FS_KIND_WRITE) {
        *neg_ttl = FS_TTL_WRITE;
        return -ENOENT;
    }
    if (parent->kind == FS_KIND_ROOT && parent->view == NULL && strcmp(name, FS_VIEW_ROOT_NAME) == 0)
        return fs_layout_dir_node(m, v, FS_KIND_ROOT, MODCACHE_NONE, "", 0, name, out);
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
        return fs_layout_dir_node(m, v, FS_KIND_CACHE, entry, prefix, plen, name, out);
    case MODCACHE_DOWNLOAD:
        return fs_layout_dir_node(m, v, FS_KIND_DOWNLOAD, entry, prefix, plen, name, out);
    case MODCACHE_PREFIX:
        return fs_layout_dir_node(m, v, dir == MODCACHE_DIR_DOWNLOAD ? FS_KIND_DL_PREFIX : FS_KIND_MOD_PREFIX, entry,
                                  prefix, plen, name, out);
    case MODCACHE_ATV:
        return fs_layout_dir_node(m, v, FS_KIND_ATV, entry, prefix, plen, name, out);
    case MODCACHE_OBJECT:
        return fs_layout_file(m, v, FS_KIND_OBJECT, &kb.key, flags, out, neg_ttl);
    case MODCACHE_ZIPHASH:
        return fs_layout_file(m, v, FS_KIND_ZIPHASH, &kb.key, flags, out, neg_ttl);
    case MODCACHE_MODROOT:
        return fs_layout_modroot(m, v, &kb.key, flags, out, neg_ttl);
    case MODCACHE_NOTE:
        return fs_layout_note(m, v, &kb.key, out, neg_ttl);
    }
    return -ENOENT;
}
