/* SPDX-License-Identifier: MIT */
/*
 * listing.c — the entries of a view directory: what the store has cached under its prefix
 * (cache_keys_visit), turned into names by Go's layout (modcache_names_of_key), or the files of a
 * module zip. Upstream is never asked here: readdir shows what is cached, lookup is what
 * fetches. The write area's entries are added by the caller and win over a view entry of the
 * same name, as they do at lookup. The user's notes of failed lookups show in their module's @v, and
 * the mount's root shows gomodcache/, the caller's view as a directory of its own. Store names
 * the user removed (whiteouts) are left out by fs_listing_hide.
 *
 * Keys arrive in ascending order, so most repeats of a name (every key of a module repeats
 * its first path element) are next to each other and dropped at once; the rest go at the
 * final sort.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"

int fs_dirlist_add(fs_dirlist_t *l, const char *name, size_t len, mode_t type, bool written)
{
    if (len == 0)
        return 0;
    if (l->n > 0 && !written) {
        const fs_dirent_t *last = &l->v[l->n - 1];
        if (strlen(last->name) == len && memcmp(last->name, name, len) == 0)
            return 0;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        fs_dirent_t *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    char *dup = strndup(name, len);
    if (!dup)
        return -ENOMEM;
    l->v[l->n++] = (fs_dirent_t){.name = dup, .type = type, .written = written};
    return 0;
}

static int fs_dirent_cmp(const void *a, const void *b)
{
    const fs_dirent_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return (int)y->written - (int)x->written; /* the write area's first */
}

void fs_dirlist_finish(fs_dirlist_t *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof(*l->v), fs_dirent_cmp);
    size_t out = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (strcmp(l->v[i].name, l->v[out - 1].name) == 0) {
            free(l->v[i].name);
            continue;
        }
        l->v[out++] = l->v[i];
    }
    l->n = out;
}

void fs_dirlist_dispose(fs_dirlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    *l = (fs_dirlist_t){0};
}

/* What each stored key adds to one directory's listing: the names modcache_names_of_key gives. */
typedef struct fs_listing_ctx {
    fs_dirlist_t *out;
    modcache_dir_t dir;
    const char *prefix;
    size_t plen;
} fs_listing_ctx_t;

static int fs_listing_emit(void *arg, const char *name, size_t len, bool is_dir)
{
    return fs_dirlist_add(arg, name, len, is_dir ? S_IFDIR : S_IFREG, false);
}

static int fs_listing_visit(void *arg, const modkey_t *key)
{
    fs_listing_ctx_t *c = arg;
    return modcache_names_of_key(c->dir, c->prefix, c->plen, key, fs_listing_emit, c->out);
}

static int fs_listing_members(const fs_node_t *dir, fs_dirlist_t *out)
{
    const fs_module_t *mod = dir->mod;
    size_t plen = strlen(dir->prefix);
    size_t b, e;
    fs_module_dir_range(mod, dir->prefix, plen, &b, &e);
    for (size_t i = b; i < e; i++) {
        const char *rest = mod->members[i].path + (plen ? plen + 1 : 0);
        const char *slash = strchr(rest, '/');
        int rc = slash ? fs_dirlist_add(out, rest, (size_t)(slash - rest), S_IFDIR, false)
                       : fs_dirlist_add(out, rest, strlen(rest), S_IFREG, false);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int fs_listing_view(fs_mount_t *m, const fs_node_t *dir, fs_dirlist_t *out)
{
    if (dir->kind == FS_KIND_MODROOT || dir->kind == FS_KIND_MEMBER_DIR)
        return fs_listing_members(dir, out);
    fs_listing_ctx_t c = {.out = out};
    if (!fs_layout_view_dir(dir, &c.dir, &c.prefix, &c.plen))
        return 0;
    int rc = modcache_fixed_names(c.dir, fs_listing_emit, out);
    if (rc == 0 && dir == m->root)
        rc = fs_dirlist_add(out, FS_VIEW_ROOT_NAME, strlen(FS_VIEW_ROOT_NAME), S_IFDIR, false);
    if (rc == 0 && c.dir == MODCACHE_DIR_ATV && dir->view)
        rc = fs_note_list(dir->view, c.prefix, c.plen, out);
    char visit[MODKEY_MAX + 16];
    if (rc != 0 || c.dir == MODCACHE_DIR_CACHE || modcache_visit_prefix(c.dir, c.prefix, c.plen, visit, sizeof visit) < 0)
        return rc;
    rc = cache_keys_visit(m->cache, visit, fs_listing_visit, &c);
    return rc > 0 ? 0 : rc;
}

void fs_listing_hide(fs_view_t *v, const char *path, fs_dirlist_t *l)
{
    if (atomic_load_explicit(&v->nwhiteouts, memory_order_relaxed) == 0)
        return;
    bool root = strcmp(path, ".") == 0;
    char child[PATH_MAX];
    size_t out = 0;
    for (size_t i = 0; i < l->n; i++) {
        fs_dirent_t *d = &l->v[i];
        bool hide = false;
        if (!d->written) {
            /* gomodcache/ in the mount's root is the view's root itself: "." */
            if (root && strcmp(d->name, FS_VIEW_ROOT_NAME) == 0)
                hide = fs_whiteout_has(v, ".");
            else {
                int n = root ? snprintf(child, sizeof child, "%s", d->name)
                             : snprintf(child, sizeof child, "%s/%s", path, d->name);
                hide = n > 0 && (size_t)n < sizeof child && fs_whiteout_has(v, child);
            }
        }
        if (hide)
            free(d->name);
        else
            l->v[out++] = *d;
    }
    l->n = out;
}
