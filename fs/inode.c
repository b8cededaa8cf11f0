/* SPDX-License-Identifier: MIT */
/*
 * inode.c — the node table: FUSE inode numbers, the (parent, view, name) → node hash, the
 * kernel's lookup counts and the tree of parent references.
 *
 * The inode number handed to the kernel is the node's address (FUSE_ROOT_ID for the root),
 * so turning a request's ino back into a node costs nothing; the kernel never names a node
 * after it has forgotten it. st_ino is a separate counter so that a freed and reused address
 * never shows two files with one inode number. Nodes keep their parent alive and store only
 * their own name: a path is rebuilt from the current names under the lock, so a rename in the
 * write area moves a whole subtree by changing one node; a path ends at the node's view root
 * (the mount's root, or gomodcache/ in it). The view is part of the key because every user has
 * a node of their own for each name of the mount's root (below it, nodes follow their parent's
 * view). One mutex guards the table; it is held for hash work and path building only, never
 * while the store or the disk is asked.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"

#define FS_TABLE_MIN_BUCKETS 1024
#define FS_PATH_MAX_DEPTH 512

/* A (parent, view, name) triple, as looked up. Below the mount's root the view is the parent's;
 * in the root itself each user has a node of its own for every name. */
typedef struct fs_name_key {
    const fs_node_t *parent;
    const fs_view_t *view;
    const char *name;
} fs_name_key_t;

static uint64_t fs_hash(const fs_node_t *parent, const fs_view_t *view, const char *name)
{
    /* the name's hash, seeded by the parent's and the view's addresses */
    return hash_bytes(name, strlen(name), (uint64_t)(uintptr_t)parent * 31 + (uint64_t)(uintptr_t)view);
}

static bool fs_name_eq(const htab_link_t *l, const void *arg)
{
    const fs_node_t *n = (const fs_node_t *)l;
    const fs_name_key_t *k = arg;
    return n->parent == k->parent && n->view == k->view && strcmp(n->name, k->name) == 0;
}

static void fs_payload_free(fs_node_t *n)
{
    if (n->mod)
        fs_module_unref(n->mod);
    free(n->key);
    free(n->dir_prefix);
    free(n->prefix);
    free(n->note);
    free(n->name);
    free(n);
}

int fs_table_init(fs_mount_t *m)
{
    fs_table_t *t = &m->table;
    memset(t, 0, sizeof(*t));
    if (htab_init(&t->hash, FS_TABLE_MIN_BUCKETS) != 0)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    t->all.all_next = t->all.all_prev = &t->all;

    fs_node_t *root = fs_node_new(m, NULL, FS_KIND_ROOT, S_IFDIR);
    if (!root) {
        htab_dispose(&t->hash);
        pthread_mutex_destroy(&t->lock);
        return -ENOMEM;
    }
    root->st_ino = FUSE_ROOT_ID;
    root->refs = 1; /* the mount's own: the root lives until fs_table_dispose */
    root->nlookup = 1;
    root->all_next = &t->all;
    root->all_prev = t->all.all_prev;
    t->all.all_prev->all_next = root;
    t->all.all_prev = root;
    m->root = root;
    return 0;
}

void fs_table_dispose(fs_mount_t *m)
{
    fs_table_t *t = &m->table;
    if (!t->hash.buckets)
        return;
    fs_node_t *n = t->all.all_next;
    while (n != &t->all) {
        fs_node_t *next = n->all_next;
        fs_payload_free(n);
        n = next;
    }
    htab_dispose(&t->hash);
    pthread_mutex_destroy(&t->lock);
    m->root = NULL;
}

fs_node_t *fs_node_new(fs_mount_t *m, fs_view_t *view, fs_kind_t kind, mode_t type)
{
    fs_node_t *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->view = view;
    n->kind = kind;
    n->type = type;
    n->st_ino = atomic_fetch_add(&m->next_ino, 1);
    return n;
}

void fs_node_discard(fs_node_t *n)
{
    if (n)
        fs_payload_free(n);
}

fs_node_t *fs_node_get(fs_mount_t *m, fuse_ino_t ino)
{
    if (ino == FUSE_ROOT_ID)
        return m->root;
    return (fs_node_t *)(uintptr_t)ino;
}

fuse_ino_t fs_node_ino(fs_mount_t *m, const fs_node_t *n)
{
    if (n == m->root)
        return FUSE_ROOT_ID;
    return (fuse_ino_t)(uintptr_t)n;
}

/* Caller holds the lock. */
static fs_node_t *fs_table_find_locked(fs_table_t *t, const fs_node_t *parent, const fs_view_t *view,
                                       const char *name)
{
    fs_name_key_t k = {parent, view, name};
    return (fs_node_t *)htab_find(&t->hash, fs_hash(parent, view, name), fs_name_eq, &k);
}

static void fs_table_unhash_locked(fs_table_t *t, fs_node_t *n)
{
    if (!n->hashed)
        return;
    htab_remove(&t->hash, &n->link);
    n->hashed = false;
}

static void fs_table_hash_locked(fs_table_t *t, fs_node_t *n)
{
    assert(!n->hashed && n->parent && n->name);
    htab_insert(&t->hash, &n->link, fs_hash(n->parent, n->view, n->name));
    n->hashed = true;
}

/*
 * Drops one reference; a node that reaches zero leaves the table and drops its parent's
 * reference in turn. Freed nodes are chained on *grave (through grave_next) and freed by the
 * caller after unlocking, so the store is never called under the table lock.
 */
static void fs_node_unref_locked(fs_table_t *t, fs_node_t *n, fs_node_t **grave)
{
    while (n) {
        assert(n->refs > 0);
        if (--n->refs > 0)
            return;
        fs_table_unhash_locked(t, n);
        n->all_prev->all_next = n->all_next;
        n->all_next->all_prev = n->all_prev;
        fs_node_t *parent = n->parent;
        n->parent = NULL;
        n->grave_next = *grave;
        *grave = n;
        n = parent;
    }
}

static void fs_grave_free(fs_node_t *grave)
{
    while (grave) {
        fs_node_t *next = grave->grave_next;
        fs_payload_free(grave);
        grave = next;
    }
}

static bool fs_str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Whether two nodes stand for the same thing, so the kernel's inode can be kept. */
static bool fs_node_same(const fs_node_t *a, const fs_node_t *b)
{
    if (a->kind != b->kind || a->type != b->type || a->view != b->view)
        return false;
    if (a->kind == FS_KIND_NOTE && strcmp(a->note, b->note) != 0)
        return false;
    if ((a->key == NULL) != (b->key == NULL) || (a->key && !modkey_equal(a->key, b->key)))
        return false;
    if (!fs_str_eq(a->prefix, b->prefix) || !fs_str_eq(a->dir_prefix, b->dir_prefix))
        return false;
    if (a->kind == FS_KIND_MEMBER && strcmp(a->mod->members[a->member].path, b->mod->members[b->member].path) != 0)
        return false;
    return true;
}

fs_node_t *fs_table_publish(fs_mount_t *m, fs_node_t *parent, const char *name, fs_node_t *cand)
{
    fs_table_t *t = &m->table;
    char *dup = strdup(name);
    if (!dup) {
        fs_node_discard(cand);
        return NULL;
    }
    pthread_mutex_lock(&t->lock);
    fs_node_t *old = fs_table_find_locked(t, parent, cand->view, name);
    if (old && fs_node_same(old, cand)) {
        if (old->nlookup++ == 0)
            old->refs++;
        pthread_mutex_unlock(&t->lock);
        free(dup);
        fs_node_discard(cand);
        return old;
    }
    if (old)
        fs_table_unhash_locked(t, old);
    cand->parent = parent;
    parent->refs++;
    cand->name = dup;
    cand->nlookup = 1;
    cand->refs = 1;
    cand->all_next = &t->all;
    cand->all_prev = t->all.all_prev;
    t->all.all_prev->all_next = cand;
    t->all.all_prev = cand;
    fs_table_hash_locked(t, cand);
    pthread_mutex_unlock(&t->lock);
    return cand;
}

fs_node_t *fs_table_reuse(fs_mount_t *m, fs_node_t *parent, fs_view_t *view, const char *name)
{
    fs_table_t *t = &m->table;
    pthread_mutex_lock(&t->lock);
    fs_node_t *n = fs_table_find_locked(t, parent, view, name);
    if (n && (n->kind == FS_KIND_WRITE || n->kind == FS_KIND_NOTE || (n->kind == FS_KIND_OBJECT && n->ttl)))
        n = NULL;
    if (n && n->nlookup++ == 0)
        n->refs++;
    pthread_mutex_unlock(&t->lock);
    return n;
}

uint64_t fs_table_peek_ino(fs_mount_t *m, fs_node_t *parent, fs_view_t *view, const char *name)
{
    fs_table_t *t = &m->table;
    pthread_mutex_lock(&t->lock);
    fs_node_t *n = fs_table_find_locked(t, parent, view, name);
    uint64_t ino = n ? n->st_ino : 0;
    pthread_mutex_unlock(&t->lock);
    return ino;
}

void fs_table_unhash(fs_mount_t *m, fs_node_t *parent, fs_view_t *view, const char *name)
{
    fs_table_t *t = &m->table;
    pthread_mutex_lock(&t->lock);
    fs_node_t *n = fs_table_find_locked(t, parent, view, name);
    if (n)
        fs_table_unhash_locked(t, n);
    pthread_mutex_unlock(&t->lock);
}

/* Re-parents and renames a node; newname is consumed. Caller holds the lock. */
static void fs_node_rename_locked(fs_table_t *t, fs_node_t *n, fs_node_t *newparent, char *newname, fs_node_t **grave)
{
    bool was_hashed = n->hashed;
    fs_table_unhash_locked(t, n);
    fs_node_t *oldparent = n->parent;
    newparent->refs++;
    n->parent = newparent;
    free(n->name);
    n->name = newname;
    if (was_hashed)
        fs_table_hash_locked(t, n);
    fs_node_unref_locked(t, oldparent, grave);
}

int fs_table_move(fs_mount_t *m, fs_view_t *view, fs_node_t *parent, const char *name, fs_node_t *newparent,
                  const char *newname, unsigned flags)
{
    fs_table_t *t = &m->table;
    char *to_new = strdup(newname);
    char *to_old = strdup(name);
    if (!to_new || !to_old) {
        free(to_new);
        free(to_old);
        return -ENOMEM;
    }
    fs_node_t *grave = NULL;
    pthread_mutex_lock(&t->lock);
    fs_node_t *src = fs_table_find_locked(t, parent, view, name);
    fs_node_t *dst = fs_table_find_locked(t, newparent, view, newname);
    if (flags & RENAME_EXCHANGE) {
        /* Unhash both first: hashing one under the other's key must not find the other. */
        if (src)
            fs_table_unhash_locked(t, src);
        if (dst)
            fs_table_unhash_locked(t, dst);
        if (src) {
            fs_node_rename_locked(t, src, newparent, to_new, &grave);
            fs_table_hash_locked(t, src);
            to_new = NULL;
        }
        if (dst) {
            fs_node_rename_locked(t, dst, parent, to_old, &grave);
            fs_table_hash_locked(t, dst);
            to_old = NULL;
        }
    } else {
        if (dst && dst != src)
            fs_table_unhash_locked(t, dst);
        if (src) {
            fs_node_rename_locked(t, src, newparent, to_new, &grave);
            to_new = NULL;
        }
    }
    pthread_mutex_unlock(&t->lock);
    fs_grave_free(grave);
    free(to_new);
    free(to_old);
    return 0;
}

void fs_node_forget(fs_mount_t *m, fs_node_t *node, uint64_t n)
{
    fs_table_t *t = &m->table;
    fs_node_t *grave = NULL;
    if (node == m->root)
        return;
    pthread_mutex_lock(&t->lock);
    assert(node->nlookup >= n);
    node->nlookup = node->nlookup >= n ? node->nlookup - n : 0;
    if (node->nlookup == 0)
        fs_node_unref_locked(t, node, &grave);
    pthread_mutex_unlock(&t->lock);
    fs_grave_free(grave);
}

void fs_node_ref(fs_mount_t *m, fs_node_t *node)
{
    pthread_mutex_lock(&m->table.lock);
    node->refs++;
    pthread_mutex_unlock(&m->table.lock);
}

void fs_node_unref(fs_mount_t *m, fs_node_t *node)
{
    fs_node_t *grave = NULL;
    pthread_mutex_lock(&m->table.lock);
    fs_node_unref_locked(&m->table, node, &grave);
    pthread_mutex_unlock(&m->table.lock);
    fs_grave_free(grave);
}

int fs_node_path(fs_mount_t *m, const fs_node_t *node, const char *name, char *buf, size_t cap)
{
    const char *parts[FS_PATH_MAX_DEPTH];
    size_t depth = 0;
    int rc = 0;

    assert(cap > 1);
    pthread_mutex_lock(&m->table.lock);
    if (name)
        parts[depth++] = name;
    /* up to the view's root: the mount's root, or gomodcache/ in it (the same view) */
    for (const fs_node_t *n = node; n && n->kind != FS_KIND_ROOT; n = n->parent) {
        if (depth == FS_PATH_MAX_DEPTH) {
            rc = -ENAMETOOLONG;
            goto out;
        }
        parts[depth++] = n->name;
    }
    if (depth == 0) {
        buf[0] = '.';
        buf[1] = '\0';
        rc = 1;
        goto out;
    }
    size_t len = 0;
    while (depth > 0) {
        const char *p = parts[--depth];
        size_t pl = strlen(p);
        if (len + pl + 2 > cap) {
            rc = -ENAMETOOLONG;
            goto out;
        }
        memcpy(buf + len, p, pl);
        len += pl;
        if (depth > 0)
            buf[len++] = '/';
    }
    buf[len] = '\0';
    rc = (int)len;
out:
    pthread_mutex_unlock(&m->table.lock);
    return rc;
}

/* Whether a is n or one of n's ancestors. Caller holds the lock. */
static bool fs_node_within(const fs_node_t *n, const fs_node_t *a)
{
    for (; n; n = n->parent)
        if (n == a)
            return true;
    return false;
}

fuse_ino_t *fs_table_dirs_of(fs_mount_t *m, fs_view_t *v, const char *rel, bool below, size_t *count)
{
    fs_table_t *t = &m->table;
    fs_node_t *found[2];
    size_t nfound = 0, n = 0, cap = 8;
    fuse_ino_t *out = malloc(cap * sizeof(*out));

    *count = 0;
    if (!out)
        return NULL;
    pthread_mutex_lock(&t->lock);
    fs_node_t *starts[2] = {m->root, fs_table_find_locked(t, m->root, v, FS_VIEW_ROOT_NAME)};
    for (size_t s = 0; s < 2; s++) {
        fs_node_t *d = starts[s];
        const char *p = strcmp(rel, ".") == 0 ? "" : rel;
        char part[NAME_MAX + 1];
        while (d && *p) {
            size_t len = strcspn(p, "/");
            if (len > NAME_MAX) {
                d = NULL;
                break;
            }
            memcpy(part, p, len);
            part[len] = '\0';
            d = fs_table_find_locked(t, d, v, part);
            p += len + (p[len] == '/');
        }
        if (d && d->type == S_IFDIR)
            found[nfound++] = d;
    }
    for (size_t i = 0; i < nfound; i++)
        out[n++] = fs_node_ino(m, found[i]);
    /* Beneath them: every live directory node of the view, hashed or not (the kernel may still
     * hold one that a lookup replaced). */
    for (fs_node_t *x = below && nfound ? t->all.all_next : &t->all; x != &t->all; x = x->all_next) {
        if (x->type != S_IFDIR || x->view != v || x == found[0] || (nfound > 1 && x == found[1]))
            continue;
        if (!fs_node_within(x, found[0]) && !(nfound > 1 && fs_node_within(x, found[1])))
            continue;
        if (n == cap) {
            fuse_ino_t *grown = realloc(out, 2 * cap * sizeof(*out));
            if (!grown)
                break; /* what is listed so far still goes */
            out = grown;
            cap *= 2;
        }
        out[n++] = fs_node_ino(m, x);
    }
    pthread_mutex_unlock(&t->lock);
    *count = n;
    return out;
}
