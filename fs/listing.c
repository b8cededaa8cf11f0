/* SPDX-License-Identifier: MIT */
/*
 * listing.c — the entries of a view directory: what the store has cached under its prefix
 * (cache_keys_visit), or the files of a module zip, turned into names as the go command lays
 * them out. Upstream is never asked here: readdir shows what is cached, lookup is what
 * fetches. The write area's entries are added by the caller and win over a view entry of the
 * same name, as they do at lookup.
 *
 * Keys arrive in ascending order, so most repeats of a name (every key of a module repeats
 * its first path element) are next to each other and dropped at once; the rest go at the
 * final sort.
 */
#include <errno.h>
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

typedef enum fs_listing_mode {
    FS_LISTING_EXTRACTED, /* <elem>@<version> and deeper prefixes */
    FS_LISTING_DOWNLOAD,  /* @v, @latest and deeper prefixes */
    FS_LISTING_ATV,       /* list, <v>.info|.mod|.zip|.ziphash */
} fs_listing_mode_t;

typedef struct fs_listing_ctx {
    fs_dirlist_t *out;
    size_t plen;   /* length of the visited prefix, slash included */
    fs_listing_mode_t mode;
} fs_listing_ctx_t;

static int fs_listing_visit(void *arg, const char *key)
{
    fs_listing_ctx_t *c = arg;
    const char *rest = key + c->plen;
    size_t len = strlen(rest);
    char name[512];

    if (c->mode == FS_LISTING_ATV) {
        if (memchr(rest, '/', len))
            return 0;
        int rc = fs_dirlist_add(c->out, rest, len, S_IFREG, false);
        if (rc == 0 && len > 4 && len + 4 < sizeof(name) && strcmp(rest + len - 4, ".zip") == 0) {
            memcpy(name, rest, len - 4);
            memcpy(name + len - 4, ".ziphash", 8);
            rc = fs_dirlist_add(c->out, name, len + 4, S_IFREG, false);
        }
        return rc;
    }

    /* Only a cached zip makes a directory in the extracted area. */
    if (c->mode == FS_LISTING_EXTRACTED && (len < 4 || strcmp(rest + len - 4, ".zip") != 0))
        return 0;
    /* Elements of a module path never hold '@': the first '@' starts "@v/" or "@latest". */
    const char *at = strchr(rest, '@');
    if (!at)
        return 0;
    if (at == rest) {
        if (c->mode != FS_LISTING_DOWNLOAD)
            return 0;
        if (strncmp(at, "@v/", 3) == 0)
            return fs_dirlist_add(c->out, "@v", 2, S_IFDIR, false);
        if (strcmp(at, "@latest") == 0)
            return fs_dirlist_add(c->out, "@latest", 7, S_IFREG, false);
        return 0;
    }
    if (at[-1] != '/')
        return 0;
    size_t modlen = (size_t)(at - 1 - rest);
    const char *slash = memchr(rest, '/', modlen);
    if (slash)
        return fs_dirlist_add(c->out, rest, (size_t)(slash - rest), S_IFDIR, false);
    if (c->mode == FS_LISTING_DOWNLOAD)
        return fs_dirlist_add(c->out, rest, modlen, S_IFDIR, false);

    size_t alen = strlen(at);
    if (strncmp(at, "@v/", 3) != 0 || alen < 3 + 5 || strcmp(at + alen - 4, ".zip") != 0)
        return 0;
    size_t vlen = alen - 3 - 4;
    if (modlen + 1 + vlen >= sizeof(name))
        return 0;
    memcpy(name, rest, modlen);
    name[modlen] = '@';
    memcpy(name + modlen + 1, at + 3, vlen);
    return fs_dirlist_add(c->out, name, modlen + 1 + vlen, S_IFDIR, false);
}

static int fs_listing_keys(fs_mount_t *m, const char *P, size_t plen, const char *suffix, fs_listing_mode_t mode,
                           fs_dirlist_t *out)
{
    char prefix[MODKEY_MAX + 16];
    size_t sl = strlen(suffix);
    if (plen + sl + 2 > sizeof(prefix))
        return 0;
    memcpy(prefix, P, plen);
    size_t n = plen;
    if (plen) {
        memcpy(prefix + n, suffix, sl);
        n += sl;
    }
    prefix[n] = '\0';
    fs_listing_ctx_t c = {.out = out, .plen = n, .mode = mode};
    int rc = cache_keys_visit(m->cache, prefix, fs_listing_visit, &c);
    return rc > 0 ? 0 : rc;
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

int fs_listing_view(fs_mount_t *m, const fs_node_t *dir, const char *path, fs_dirlist_t *out)
{
    size_t plen;
    const char *P = fs_layout_prefix(dir, path, &plen);
    int rc;
    switch (dir->kind) {
    case FS_KIND_ROOT:
        rc = fs_dirlist_add(out, "cache", 5, S_IFDIR, false);
        return rc < 0 ? rc : fs_listing_keys(m, "", 0, "/", FS_LISTING_EXTRACTED, out);
    case FS_KIND_CACHE:
        return fs_dirlist_add(out, "download", 8, S_IFDIR, false);
    case FS_KIND_DOWNLOAD:
    case FS_KIND_DL_PREFIX:
        return fs_listing_keys(m, P, plen, "/", FS_LISTING_DOWNLOAD, out);
    case FS_KIND_ATV:
        return fs_listing_keys(m, P, plen, "/@v/", FS_LISTING_ATV, out);
    case FS_KIND_MOD_PREFIX:
        return fs_listing_keys(m, P, plen, "/", FS_LISTING_EXTRACTED, out);
    case FS_KIND_MODROOT:
    case FS_KIND_MEMBER_DIR:
        return fs_listing_members(dir, out);
    default:
        return 0;
    }
}
