/* SPDX-License-Identifier: MIT */
/*
 * lookup.c — one name in one directory, as the kernel's LOOKUP asks for it.
 *
 * Order: a node the table already has for a view name that never changes answers at once
 * (the kernel asks again only after its entry timeout or when it evicted the dentry); then
 * the write area, because a real file there hides the store's file of the same name (the go
 * command may rewrite a file of its cache); then the view, which may ask the store and so
 * upstream. A directory in the write area that is also a view directory is the view's
 * directory (the two are merged at readdir); only then is the store asked without fetching,
 * so a module the go command downloaded itself is not looked for upstream on every lookup.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "fs_i.h"

int fs_lookup_entry(fs_mount_t *m, fs_node_t *parent, const char *name, int flags, struct fuse_entry_param *e)
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

    node = fs_table_reuse(m, parent, name);
    if (node)
        goto reply;

    if ((rc = fs_node_path(m, parent, name, rel, sizeof(rel))) < 0)
        return rc;

    rc = fs_write_stat(m, rel, &st);
    if (rc == 0) {
        if (S_ISDIR(st.st_mode) && parent->kind != FS_KIND_WRITE) {
            double ignored;
            if (fs_layout_resolve(m, parent, name, flags | FS_RESOLVE_NOFETCH, &cand, &ignored) == 0 &&
                cand->type != S_IFDIR) {
                fs_node_discard(cand);
                cand = NULL;
            }
        }
        if (!cand && !(cand = fs_node_new(m, FS_KIND_WRITE, st.st_mode & S_IFMT)))
            return -ENOMEM;
    } else if (rc == -ENOENT) {
        double neg_ttl;
        rc = fs_layout_resolve(m, parent, name, flags, &cand, &neg_ttl);
        if (rc == -ENOENT) {
            e->ino = 0;
            e->entry_timeout = neg_ttl;
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
    return 0;
}
