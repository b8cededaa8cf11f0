/* SPDX-License-Identifier: MIT */
/*
 * lookup.c — one name in one directory of one user's view, as the kernel's LOOKUP asks for it.
 *
 * Order: a name the user removed from the store's part and now asks for again is shown again
 * (its whiteout ends); a node the table already has for a view name that never changes answers
 * at once (the kernel asks again only after its entry timeout or when it evicted the dentry);
 * then the user's write area, because a directory there may be go's own download; then the view,
 * which may ask the store and so upstream. A directory in the write area that is also a view
 * directory is the view's directory (the two are merged at readdir); only then is the store
 * asked without fetching, so a module the go command downloaded itself is not looked for
 * upstream on every lookup.
 *
 * Kernel cache times: with several users (allow_other) the kernel's dentry of a name in the
 * mount's root is shared by all of them while each has a node of their own there, so those
 * entries carry no entry time and every path walk through the root asks which user's node it is
 * (one LOOKUP per walk; everything below is per user and cached as usual). A miss the user could
 * create (a name go writes) is cached briefly; a name nobody can ever create, for a day.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fs_i.h"

int fs_entry_path(fs_mount_t *m, const fs_node_t *parent, const char *name, char *rel, size_t cap)
{
    if (parent == m->root && strcmp(name, FS_VIEW_ROOT_NAME) == 0) {
        rel[0] = '.';
        rel[1] = '\0';
        return 1;
    }
    return fs_node_path(m, parent, name, rel, cap);
}

static double fs_lookup_neg_ttl(fs_mount_t *m, const fs_node_t *parent, const char *rel, double ttl)
{
    if (parent == m->root && m->allow_other)
        return 0;
    modkey_buf_t kb;
    if (ttl > FS_TTL_WRITE && modcache_write_rule(rel, strlen(rel), &kb.key) != MODCACHE_WRITE_NEVER)
        return FS_TTL_WRITE;
    return ttl;
}

int fs_lookup_entry(fs_mount_t *m, fs_view_t *v, fs_node_t *parent, const char *name, int flags,
                    struct fuse_entry_param *e)
{
    char rel[PATH_MAX];
    fs_node_t *node, *cand = NULL;
    struct stat st;
    int rc;

    memset(e, 0, sizeof(*e));
    if (parent->type != S_IFDIR)
        return -ENOTDIR;
    if (strlen(name) > NAME_MAX)
        return -ENAMETOOLONG;
    bool alias = parent == m->root && strcmp(name, FS_VIEW_ROOT_NAME) == 0;
    bool have_rel = false;

    /* Paths are built under the table lock: only when a whiteout may end, or the table misses. */
    if ((flags & FS_LOOKUP_KERNEL) && atomic_load_explicit(&v->nwhiteouts, memory_order_relaxed) > 0) {
        if ((rc = fs_entry_path(m, parent, name, rel, sizeof(rel))) < 0)
            return rc;
        have_rel = true;
        /* Shown again: the kernel's listings of the directory holding it, and of everything
         * below it, are stale (it saw no change). Dropped before the reply: this request
         * holds no page of any listing. */
        if (fs_whiteout_clear(v, rel)) {
            fs_dir_parent_changed(m, v, rel, NULL);
            fs_dir_changed(m, v, rel, true, NULL);
        }
    }

    node = fs_table_reuse(m, parent, v, name);
    if (node)
        goto reply;

    if (!have_rel && (rc = fs_entry_path(m, parent, name, rel, sizeof(rel))) < 0)
        return rc;
    rc = alias ? -ENOENT : fs_write_stat(m, v, rel, &st);
    if (rc == 0) {
        if (S_ISDIR(st.st_mode) && parent->kind != FS_KIND_WRITE) {
            double ignored;
            if (fs_layout_resolve(m, v, parent, name, flags | FS_RESOLVE_NOFETCH, &cand, &ignored) == 0 &&
                cand->type != S_IFDIR) {
                fs_node_discard(cand);
                cand = NULL;
            }
        }
        if (!cand && !(cand = fs_node_new(m, v, FS_KIND_WRITE, st.st_mode & S_IFMT)))
            return -ENOMEM;
    } else if (rc == -ENOENT) {
        double neg_ttl;
        rc = fs_layout_resolve(m, v, parent, name, flags, &cand, &neg_ttl);
        if (rc == -ENOENT) {
            e->ino = 0;
            e->entry_timeout = fs_lookup_neg_ttl(m, parent, rel, neg_ttl);
            return 0;
        }
        if (rc < 0)
            return rc;
    } else {
        return rc;
    }

    node = fs_table_publish(m, parent, name, cand);
    if (!node)
        return -ENOMEM;
reply:
    rc = fs_attr_entry(m, node, flags, e);
    if (rc < 0) {
        fs_node_forget(m, node, 1);
        return rc;
    }
    if (parent == m->root && m->allow_other)
        e->entry_timeout = 0;
    return 0;
}
