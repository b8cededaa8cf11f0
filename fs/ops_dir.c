/* SPDX-License-Identifier: MIT */
/*
 * ops_dir.c — opendir, readdir, readdirplus, releasedir.
 *
 * On a mount without OPENDIR (dircache.c) the first opendir is answered ENOSYS and each READDIR
 * lists the directory itself: the kernel keeps the listings it reads. Otherwise an open
 * directory holds a snapshot (the view's entries plus the write area's, sorted, one per name),
 * taken at its first READDIR, so that readdir offsets are plain indexes and a listing is
 * consistent however many requests it takes, and an open the kernel answers from its cache
 * costs no listing. The kernel may keep the listing (cache_readdir); for a module's tree, which never
 * changes, across opens too (keep_cache), while directories whose content grows as modules are
 * fetched are listed afresh at each open, and so are module trees after the user's whiteouts
 * changed (a name removed, a name shown again). readdirplus looks every entry up without
 * fetching (a listing must not trigger downloads); an entry the store cannot answer alone goes
 * out without attributes.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fs_i.h"

void fs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *node = fs_node_get(m, ino);
    fs_view_t *v;
    int rc;

    atomic_fetch_add_explicit(&m->metrics.opendirs, 1, memory_order_relaxed);
    if (m->no_opendir) {
        /* From this answer on the kernel opens directories itself and keeps their listings
         * (dircache.c says what keeps them true). Not an error reply: not counted as one. */
        fuse_reply_err(req, ENOSYS);
        return;
    }
    if (node->type != S_IFDIR) {
        fs_reply_err(m, req, ENOTDIR);
        return;
    }
    if ((rc = fs_view_of(m, req, node, &v)) < 0) {
        fs_reply_err(m, req, -rc);
        return;
    }
    fs_handle_t *h = fs_handle_new(m, FS_HANDLE_DIR);
    if (!h) {
        fs_reply_err(m, req, ENOMEM);
        return;
    }
    uint64_t epoch = atomic_load(&v->epoch);
    fi->fh = (uintptr_t)h;
    fi->cache_readdir = 1;
    /* A module's tree never changes, unless the user's whiteouts did since it was last listed. */
    uint64_t listed = atomic_exchange(&node->listed_epoch, epoch + 1);
    fi->keep_cache = (node->kind == FS_KIND_MODROOT || node->kind == FS_KIND_MEMBER_DIR) && listed == epoch + 1;
    if (fuse_reply_open(req, fi) < 0)
        fs_handle_free(m, h);
}

/* A d_ino for an entry nobody has looked up yet: stable for the name, never a real one. */
static uint64_t fs_dir_fake_ino(const fs_node_t *dir, const char *name)
{
    uint64_t h = 1469598103934665603ULL ^ dir->st_ino;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h | (1ULL << 63);
}

static void fs_dir_fill(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi, bool plus)
{
    fs_mount_t *m = fs_req_mount(req);
    fs_node_t *dir = fs_node_get(m, ino);
    fs_handle_t *h = fs_handle_of(fi);
    fs_dirlist_t own = {0};
    fs_view_t *v;
    atomic_fetch_add_explicit(&m->metrics.readdirs, 1, memory_order_relaxed);
    int rc = fs_view_of(m, req, dir, &v);
    if (rc == 0 && dir->type != S_IFDIR)
        rc = -ENOTDIR;
    /* Without OPENDIR there is no snapshot: each READDIR lists anew (the kernel keeps what it
     * read, so a directory is listed about once). With it, the open's first READDIR takes the
     * snapshot: an open whose listing the kernel still has costs no listing at all. */
    if (rc == 0 && !h) {
        rc = fs_dir_list(m, v, dir, &own);
    } else if (rc == 0) {
        pthread_mutex_lock(&h->lock);
        if (!h->listed && (rc = fs_dir_list(m, v, dir, &h->dir)) == 0)
            h->listed = true;
        pthread_mutex_unlock(&h->lock);
    }
    if (rc < 0) {
        fs_reply_err(m, req, -rc);
        return;
    }
    const fs_dirlist_t *l = h ? &h->dir : &own;
    char *buf = malloc(size);
    size_t used = 0;

    if (!buf) {
        fs_dirlist_dispose(&own);
        fs_reply_err(m, req, ENOMEM);
        return;
    }
    /* Offsets 0 and 1 are "." and ".."; entry i of the listing is offset i + 2. */
    for (size_t i = off < 0 ? 0 : (size_t)off; i < l->n + 2; i++) {
        const char *name;
        mode_t type;
        if (i == 0 || i == 1) {
            name = i == 0 ? "." : "..";
            type = S_IFDIR;
        } else {
            name = l->v[i - 2].name;
            type = l->v[i - 2].type;
        }
        size_t rem = size - used;
        size_t ent;
        if (plus) {
            struct fuse_entry_param e;
            if (fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0) > rem)
                break;
            if (i < 2 || fs_lookup_entry(m, v, dir, name, FS_RESOLVE_NOFETCH, &e) < 0 || e.ino == 0) {
                memset(&e, 0, sizeof(e));
                e.attr.st_ino = i < 2 ? dir->st_ino : fs_dir_fake_ino(dir, name);
                e.attr.st_mode = type;
            }
            ent = fuse_add_direntry_plus(req, buf + used, rem, name, &e, (off_t)(i + 1));
        } else {
            struct stat st = {0};
            st.st_ino = i < 2 ? dir->st_ino : fs_table_peek_ino(m, dir, v, name);
            if (st.st_ino == 0)
                st.st_ino = fs_dir_fake_ino(dir, name);
            st.st_mode = type;
            ent = fuse_add_direntry(req, buf + used, rem, name, &st, (off_t)(i + 1));
            if (ent > rem)
                break;
        }
        used += ent;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
    fs_dirlist_dispose(&own);
}

void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    fs_dir_fill(req, ino, size, off, fi, false);
}

void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    fs_dir_fill(req, ino, size, off, fi, true);
}

void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    fs_handle_free(fs_req_mount(req), fs_handle_of(fi));
    fuse_reply_err(req, 0);
}
