/* SPDX-License-Identifier: MIT */
/*
 * handle.c — open files and directories (fi->fh).
 *
 * A handle holds what its reads need for as long as the file is open: a reference to the
 * store object, or the module and a member reader (one per handle, so a large file read in
 * many FUSE requests is inflated once, front to back), or a real descriptor in the write
 * area. Handles are kept on a list because a connection that is aborted at shutdown sends no
 * RELEASE: stop frees what is left, and every store reference is returned before the store
 * closes.
 */
#include <stdlib.h>
#include <unistd.h>

#include "fs_i.h"

fs_handle_t *fs_handle_new(fs_mount_t *m, fs_handle_kind_t kind)
{
    fs_handle_t *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->kind = kind;
    h->fd = -1;
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_lock(&m->handles_lock);
    h->next = m->handles.next;
    h->prev = &m->handles;
    m->handles.next->prev = h;
    m->handles.next = h;
    pthread_mutex_unlock(&m->handles_lock);
    return h;
}

static void fs_handle_destroy(fs_handle_t *h)
{
    if (h->reader)
        cache_member_reader_free(h->reader);
    if (h->mod)
        fs_module_unref(h->mod);
    if (h->obj)
        cache_object_unref(h->obj);
    if (h->fd >= 0)
        close(h->fd);
    fs_dirlist_dispose(&h->dir);
    free(h->bytes);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

void fs_handle_free(fs_mount_t *m, fs_handle_t *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&m->handles_lock);
    h->prev->next = h->next;
    h->next->prev = h->prev;
    pthread_mutex_unlock(&m->handles_lock);
    fs_handle_destroy(h);
}

void fs_handles_dispose(fs_mount_t *m)
{
    fs_handle_t *h = m->handles.next;
    while (h && h != &m->handles) {
        fs_handle_t *next = h->next;
        fs_handle_destroy(h);
        h = next;
    }
    m->handles.next = m->handles.prev = &m->handles;
}
