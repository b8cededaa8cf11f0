/* SPDX-License-Identifier: MIT */
/*
 * view.c — one view of the mount per user: the user's write area, the store names the user
 * removed (whiteouts), and running write-area calls as that user.
 *
 * Write areas are private because what a user's go command writes there (a module it fetched
 * itself with the user's credentials, a git repository in cache/vcs, the sumdb cache) is read
 * by that user's later builds: another user able to write there could plant code in them, and
 * one able to read there could see private sources. So each uid gets write_dir/<uid>, 0700 and
 * owned by the user, made at the user's first write; modfs (as root) then makes every call in it
 * with the user's fsuid and fsgid, so the kernel applies the area's own modes to the user as on
 * a plain directory, and nothing the user makes there can be owned by anyone else.
 *
 * A whiteout hides a store name from the user's listings after the user removed it (`go clean
 * -modcache` removes every name, then each directory, then GOMODCACHE itself; each rmdir must
 * find its directory empty). The store is never touched: the next LOOKUP of the name by the user
 * (the go command asking for it again) clears the whiteout and the name is back, from the store,
 * without a fetch. Whiteouts are few at any time: removing a directory replaces the whiteouts of
 * its children with its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_i.h"

#define FS_VIEW_SEED 0x7669 /* "vi" */
#define FS_WHITEOUT_SEED 0x776f /* "wo" */

typedef struct fs_whiteout {
    htab_link_t link;
    char path[];
} fs_whiteout_t;

static bool fs_view_eq(const htab_link_t *l, const void *key)
{
    return ((const fs_view_t *)l)->uid == *(const uid_t *)key;
}

static uint64_t fs_view_hash(uid_t uid)
{
    return hash_bytes(&uid, sizeof uid, FS_VIEW_SEED);
}

int fs_views_init(fs_mount_t *m)
{
    pthread_mutex_init(&m->views_lock, NULL);
    return htab_init(&m->views, 16) == 0 ? 0 : -ENOMEM;
}

static int fs_first(htab_link_t *l, void *arg)
{
    *(htab_link_t **)arg = l;
    return 1;
}

/* Removes and frees every entry of t (entries are plain malloc'd blocks). htab_each must not see
 * its entries freed under it, so they go one at a time; only at unmount, when few are left. */
static void fs_htab_drain(htab_t *t, void (*free_entry)(htab_link_t *))
{
    htab_link_t *l;
    while ((l = NULL, htab_each(t, fs_first, &l), l != NULL)) {
        htab_remove(t, l);
        free_entry(l);
    }
}

static void fs_whiteout_free(htab_link_t *l)
{
    free(l);
}

static void fs_view_free(htab_link_t *l)
{
    fs_view_t *v = (fs_view_t *)l;
    fs_htab_drain(&v->whiteouts, fs_whiteout_free);
    htab_dispose(&v->whiteouts);
    fs_notes_dispose(v);
    int fd = atomic_load(&v->wfd);
    if (fd >= 0)
        close(fd);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

void fs_views_dispose(fs_mount_t *m)
{
    if (m->views.buckets) {
        fs_htab_drain(&m->views, fs_view_free);
        htab_dispose(&m->views);
    }
    pthread_mutex_destroy(&m->views_lock);
}

int fs_view_of(fs_mount_t *m, fuse_req_t req, const fs_node_t *node, fs_view_t **out)
{
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    if (node && node->view) {
        /* The kernel only walks into a user's nodes on that user's behalf; a process that kept
         * a descriptor or a working directory across a change of user does not get in. */
        if (ctx->uid != node->view->uid && ctx->uid != 0)
            return -EACCES;
        *out = node->view;
        return 0;
    }
    uid_t uid = ctx->uid;
    uint64_t h = fs_view_hash(uid);
    pthread_mutex_lock(&m->views_lock);
    fs_view_t *v = (fs_view_t *)htab_find(&m->views, h, fs_view_eq, &uid);
    if (v == NULL) {
        v = calloc(1, sizeof *v);
        if (v == NULL || htab_init(&v->whiteouts, 16) != 0 || fs_notes_init(v) != 0) {
            if (v)
                htab_dispose(&v->whiteouts);
            free(v);
            pthread_mutex_unlock(&m->views_lock);
            return -ENOMEM;
        }
        v->uid = uid;
        v->gid = ctx->gid;
        atomic_init(&v->wfd, -1);
        pthread_mutex_init(&v->lock, NULL);
        htab_insert(&m->views, &v->link, h);
    }
    pthread_mutex_unlock(&m->views_lock);
    *out = v;
    return 0;
}

int fs_view_wfd(fs_mount_t *m, fs_view_t *v, bool create)
{
    int fd = atomic_load_explicit(&v->wfd, memory_order_acquire);
    if (fd >= 0)
        return fd;
    char name[24];
    snprintf(name, sizeof name, "%u", (unsigned)v->uid);
    /* A user who never wrote has no area: every lookup of theirs asks, so without the lock. */
    fd = openat(m->write_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (fd < 0 && (e != ENOENT || !create))
        return -e;
    pthread_mutex_lock(&v->lock);
    int have = atomic_load(&v->wfd);
    if (have >= 0) {
        if (fd >= 0)
            close(fd);
        pthread_mutex_unlock(&v->lock);
        return have;
    }
    if (fd < 0) {
        /* Made by modfs, then given away: the user owns the area and can remove what is in
         * it, but not the area itself (its parent is modfs's). */
        if (mkdirat(m->write_fd, name, 0700) < 0 && errno != EEXIST) {
            e = errno;
        } else {
            if (m->as_root && fchownat(m->write_fd, name, v->uid, v->gid, AT_SYMLINK_NOFOLLOW) < 0)
                LOG_W("fs: write area %s/%s: chown to %u: %s", m->write_dir, name, (unsigned)v->uid,
                      strerror(errno));
            fd = openat(m->write_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            e = fd < 0 ? errno : 0;
            if (fd >= 0)
                LOG_I("fs: write area of uid %u made in %s/%s", (unsigned)v->uid, m->write_dir, name);
        }
    }
    struct stat st;
    /* Only a directory that belongs to the user is the user's area (modfs as root); one of
     * anyone else under that name is refused rather than written into. */
    if (fd >= 0 && (fstat(fd, &st) < 0 || (m->as_root && st.st_uid != v->uid))) {
        LOG_E("fs: write area %s/%s is not owned by uid %u: refusing to use it", m->write_dir, name,
              (unsigned)v->uid);
        close(fd);
        fd = -1;
        e = EACCES;
    }
    if (fd >= 0)
        atomic_store_explicit(&v->wfd, fd, memory_order_release);
    else
        fd = -e;
    pthread_mutex_unlock(&v->lock);
    return fd;
}

static bool fs_whiteout_eq(const htab_link_t *l, const void *key)
{
    return strcmp(((const fs_whiteout_t *)l)->path, key) == 0;
}

static uint64_t fs_whiteout_hash(const char *path)
{
    return hash_bytes(path, strlen(path), FS_WHITEOUT_SEED);
}

bool fs_whiteout_has(fs_view_t *v, const char *path)
{
    if (atomic_load_explicit(&v->nwhiteouts, memory_order_relaxed) == 0)
        return false;
    pthread_mutex_lock(&v->lock);
    bool has = htab_find(&v->whiteouts, fs_whiteout_hash(path), fs_whiteout_eq, path) != NULL;
    pthread_mutex_unlock(&v->lock);
    return has;
}

/* Removes the whiteout of path, if any. Called with v->lock held. */
static void fs_whiteout_remove_locked(fs_view_t *v, const char *path)
{
    htab_link_t *l = htab_find(&v->whiteouts, fs_whiteout_hash(path), fs_whiteout_eq, path);
    if (l) {
        htab_remove(&v->whiteouts, l);
        free(l);
        atomic_fetch_sub(&v->nwhiteouts, 1);
    }
}

/* "." is a root's path: its children are bare names. */
static int fs_child_path(const char *dir, const char *name, char *out, size_t cap)
{
    int n = strcmp(dir, ".") == 0 ? snprintf(out, cap, "%s", name) : snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

int fs_whiteout_add(fs_view_t *v, const char *path, const fs_dirlist_t *children)
{
    size_t len = strlen(path);
    fs_whiteout_t *w = malloc(sizeof *w + len + 1);
    if (w == NULL)
        return -ENOMEM;
    memcpy(w->path, path, len + 1);
    char child[PATH_MAX];
    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; children && i < children->n; i++)
        if (fs_child_path(path, children->v[i].name, child, sizeof child) >= 0)
            fs_whiteout_remove_locked(v, child);
    uint64_t h = fs_whiteout_hash(path);
    if (htab_find(&v->whiteouts, h, fs_whiteout_eq, path) == NULL) {
        htab_insert(&v->whiteouts, &w->link, h);
        atomic_fetch_add(&v->nwhiteouts, 1);
        w = NULL;
    }
    atomic_fetch_add(&v->epoch, 1);
    pthread_mutex_unlock(&v->lock);
    free(w);
    return 0;
}

typedef struct fs_under {
    const char *prefix; /* "dir/" or "" for a root */
    size_t len;
    fs_whiteout_t *found[64];
    size_t n;
} fs_under_t;

static int fs_whiteout_collect(htab_link_t *l, void *arg)
{
    fs_under_t *u = arg;
    fs_whiteout_t *w = (fs_whiteout_t *)l;
    if (strncmp(w->path, u->prefix, u->len) != 0)
        return 0;
    u->found[u->n++] = w;
    return u->n == sizeof u->found / sizeof u->found[0];
}

bool fs_whiteout_clear(fs_view_t *v, const char *path)
{
    bool cleared = false;
    if (atomic_load_explicit(&v->nwhiteouts, memory_order_relaxed) == 0)
        return false;
    bool root = strcmp(path, ".") == 0;
    char prefix[PATH_MAX];
    int n = root ? snprintf(prefix, sizeof prefix, "%s", "") : snprintf(prefix, sizeof prefix, "%s/", path);
    if (n < 0 || (size_t)n >= sizeof prefix)
        return false;
    pthread_mutex_lock(&v->lock);
    /* Only a lookup of the removed name itself brings it back, with everything below it. The
     * kernel also looks up names that are there (revalidating a dentry, and with several users
     * the root's children at every path walk): that must not bring back what the user removed
     * inside them, or `go clean -modcache` would never find a directory empty. */
    htab_link_t *l = htab_find(&v->whiteouts, fs_whiteout_hash(path), fs_whiteout_eq, path);
    if (l != NULL) {
        htab_remove(&v->whiteouts, l);
        free(l);
        atomic_fetch_sub(&v->nwhiteouts, 1);
        /* Everything below path: the whole set is scanned, it is small (see the file's header). */
        fs_under_t u = {.prefix = prefix, .len = (size_t)n};
        do {
            u.n = 0;
            htab_each(&v->whiteouts, fs_whiteout_collect, &u);
            for (size_t i = 0; i < u.n; i++) {
                htab_remove(&v->whiteouts, &u.found[i]->link);
                free(u.found[i]);
                atomic_fetch_sub(&v->nwhiteouts, 1);
            }
        } while (u.n == sizeof u.found / sizeof u.found[0]);
        atomic_fetch_add(&v->epoch, 1);
        cleared = true;
    }
    pthread_mutex_unlock(&v->lock);
    return cleared;
}

void fs_cred_enter(fs_mount_t *m, const fs_view_t *v, fs_cred_t *c)
{
    c->on = false;
    if (!m->as_root || v->uid == 0)
        return;
    /* setfsuid/setfsgid act on the calling thread only (glibc does not broadcast them), and a
     * non-zero fsuid drops the file-system capabilities of this thread until it is restored. */
    c->fsgid = setfsgid(v->gid);
    c->fsuid = setfsuid(v->uid);
    c->on = true;
}

void fs_cred_leave(fs_cred_t *c)
{
    if (!c->on)
        return;
    setfsuid((uid_t)c->fsuid);
    setfsgid((gid_t)c->fsgid);
    c->on = false;
}
