/* SPDX-License-Identifier: MIT */
/*
 * readers.c — member readers for reads that come without an open handle.
 *
 * The mount answers OPEN with ENOSYS (ops_read.c), so the kernel opens files on its own, keeps
 * their pages across opens and sends no RELEASE: an open of a warm file costs no round trip.
 * A READ then names only the inode. Inflating a member from its start at every 128 KiB request
 * would make a large file quadratic, so the reader a read leaves behind (its inflate state and
 * the zip it reads) is parked here under the inode number, and the next read of that file
 * continues from it. A reader is dropped as soon as its file has been read to the end, which is
 * what nearly every read does (the kernel reads a small file whole in one request); what is left
 * is a few readers of files read in part, at most FS_READERS_MAX, each dropped after
 * FS_READER_IDLE_S without use. Every parked reader holds its zip open, and an open object is
 * not evicted: the bounds keep that to a handful of zips, for seconds.
 *
 * Inode numbers are never reused (fs_node_new counts them up), so a parked reader can never be
 * taken by another file. A reader is used by one read at a time: a read takes it out of its
 * slot and puts it back after, and two reads of one file at once (two processes) each get one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_i.h"

static uint64_t fs_readers_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

static void fs_reader_slot_release(fs_reader_slot_t *s)
{
    if (s->reader)
        cache_member_reader_free(s->reader);
    if (s->zip)
        cache_object_unref(s->zip);
    memset(s, 0, sizeof *s);
}

void fs_readers_init(fs_readers_t *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
}

void fs_readers_dispose(fs_readers_t *r)
{
    for (size_t i = 0; i < FS_READERS_MAX; i++)
        fs_reader_slot_release(&r->slots[i]);
    pthread_mutex_destroy(&r->lock);
}

/* Takes the parked reader of ino into *out (and frees idle ones into drop). Under r->lock. */
static bool fs_readers_take_locked(fs_readers_t *r, uint64_t ino, uint64_t now, fs_reader_slot_t *out,
                                   fs_reader_slot_t *drop, size_t *ndrop)
{
    bool found = false;
    for (size_t i = 0; i < FS_READERS_MAX; i++) {
        fs_reader_slot_t *s = &r->slots[i];
        if (s->ino == 0)
            continue;
        if (!found && s->ino == ino) {
            *out = *s;
            memset(s, 0, sizeof *s);
            found = true;
        } else if (now - s->used_s > FS_READER_IDLE_S) {
            drop[(*ndrop)++] = *s;
            memset(s, 0, sizeof *s);
        }
    }
    return found;
}

ssize_t fs_readers_read(fs_mount_t *m, const fs_node_t *node, void *buf, size_t size, uint64_t off)
{
    fs_readers_t *r = &m->readers;
    fs_reader_slot_t cur = {0}, drop[FS_READERS_MAX + 1];
    size_t ndrop = 0;
    uint64_t now = fs_readers_now_s();
    const cache_member_t *mem = &node->mod->members[node->member];

    pthread_mutex_lock(&r->lock);
    bool found = fs_readers_take_locked(r, node->st_ino, now, &cur, drop, &ndrop);
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < ndrop; i++)
        fs_reader_slot_release(&drop[i]);
    ndrop = 0;

    if (!found) {
        int rc = fs_module_zip_get(m, node->mod, node->member, &cur.zip);
        if (rc < 0)
            return rc;
        if ((rc = cache_member_reader_new(cur.zip, node->member, &cur.reader)) < 0) {
            cur.reader = NULL;
            fs_reader_slot_release(&cur);
            return rc;
        }
        cur.ino = node->st_ino;
    }
    ssize_t n = cache_member_reader_read(cur.reader, buf, size, off);
    if (n < 0)
        LOG_W("fs: read of %s: %s", mem->path, strerror((int)-n));
    /* Read to the end (or failed): nothing more to continue. */
    if (n < 0 || off + (uint64_t)n >= mem->size) {
        fs_reader_slot_release(&cur);
        return n;
    }
    cur.used_s = now;
    pthread_mutex_lock(&r->lock);
    fs_reader_slot_t *slot = NULL;
    for (size_t i = 0; i < FS_READERS_MAX && !slot; i++)
        if (r->slots[i].ino == 0)
            slot = &r->slots[i];
    if (!slot) {
        /* Full: the least recently used goes. */
        slot = &r->slots[0];
        for (size_t i = 1; i < FS_READERS_MAX; i++)
            if (r->slots[i].used_s < slot->used_s)
                slot = &r->slots[i];
        drop[ndrop++] = *slot;
    }
    *slot = cur;
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < ndrop; i++)
        fs_reader_slot_release(&drop[i]);
    return n;
}
