/* SPDX-License-Identifier: MIT */
/*
 * errnote.c — why the last lazy fetch of a version (or of a module's list) failed, kept as a
 * read-only file in the module's @v directory: cache/download/<module>/@v/<version>.error and
 * list.error (names from modcache_note_path; no go command writes or reads them).
 *
 * The kernel carries only an errno from a failed lookup to the go command, and with GOPROXY=off
 * go does not even print that: it says "module lookup disabled". The upstream's own words
 * ("404 Not Found: unknown revision v1.2.3", "connection refused") would otherwise be in modfs's
 * log only, which a build user may not be able to read. Notes are shared by every user (they
 * hold what upstream said, nothing of a user's), kept in memory, bounded (the oldest go first),
 * and dropped when a later fetch of the key succeeds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_i.h"

#define FS_NOTE_SEED 0x6e6f /* "no" */

typedef struct fs_note {
    htab_link_t link;
    struct fs_note *newer, *older;
    char *text;
    char path[]; /* modcache_note_path of the key */
} fs_note_t;

static bool fs_note_eq(const htab_link_t *l, const void *key)
{
    return strcmp(((const fs_note_t *)l)->path, key) == 0;
}

static uint64_t fs_note_hash(const char *path)
{
    return hash_bytes(path, strlen(path), FS_NOTE_SEED);
}

void fs_notes_init(fs_mount_t *m)
{
    pthread_mutex_init(&m->notes_lock, NULL);
    if (htab_init(&m->notes, 64) != 0)
        m->notes.buckets = NULL; /* out of memory: no notes, everything else works */
    m->notes_oldest = m->notes_newest = NULL;
}

/* Called with notes_lock held. */
static void fs_note_remove_locked(fs_mount_t *m, fs_note_t *n)
{
    htab_remove(&m->notes, &n->link);
    if (n->newer)
        n->newer->older = n->older;
    else
        m->notes_newest = n->older;
    if (n->older)
        n->older->newer = n->newer;
    else
        m->notes_oldest = n->newer;
    free(n->text);
    free(n);
}

void fs_notes_dispose(fs_mount_t *m)
{
    if (m->notes.buckets) {
        while (m->notes_oldest)
            fs_note_remove_locked(m, m->notes_oldest);
        htab_dispose(&m->notes);
    }
    pthread_mutex_destroy(&m->notes_lock);
}

void fs_note_put(fs_mount_t *m, const modkey_t *key, const char *why)
{
    char path[MODKEY_MAX + 64];
    int plen = modcache_note_path(key, path, sizeof path);
    if (plen < 0 || !m->notes.buckets)
        return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *text = malloc(FS_NOTE_MAX);
    fs_note_t *n = malloc(sizeof *n + (size_t)plen + 1);
    if (text == NULL || n == NULL) {
        free(text);
        free(n);
        return;
    }
    int len = snprintf(text, FS_NOTE_MAX, "%s %s: %s\n", stamp, key->escaped, why);
    if (len < 0 || len >= FS_NOTE_MAX)
        memcpy(text + FS_NOTE_MAX - 5, "...\n", 5);
    memset(n, 0, sizeof *n);
    memcpy(n->path, path, (size_t)plen + 1);
    n->text = text;
    uint64_t h = fs_note_hash(path);
    pthread_mutex_lock(&m->notes_lock);
    fs_note_t *old = (fs_note_t *)htab_find(&m->notes, h, fs_note_eq, path);
    if (old)
        fs_note_remove_locked(m, old);
    while (m->notes_oldest && m->notes.count >= FS_NOTES_MAX)
        fs_note_remove_locked(m, m->notes_oldest);
    htab_insert(&m->notes, &n->link, h);
    n->older = m->notes_newest;
    if (m->notes_newest)
        ((fs_note_t *)m->notes_newest)->newer = n;
    m->notes_newest = n;
    if (!m->notes_oldest)
        m->notes_oldest = n;
    pthread_mutex_unlock(&m->notes_lock);
}

void fs_note_drop(fs_mount_t *m, const modkey_t *key)
{
    char path[MODKEY_MAX + 64];
    if (!m->notes.buckets || modcache_note_path(key, path, sizeof path) < 0)
        return;
    pthread_mutex_lock(&m->notes_lock);
    fs_note_t *n = (fs_note_t *)htab_find(&m->notes, fs_note_hash(path), fs_note_eq, path);
    if (n)
        fs_note_remove_locked(m, n);
    pthread_mutex_unlock(&m->notes_lock);
}

char *fs_note_get(fs_mount_t *m, const modkey_t *key)
{
    char path[MODKEY_MAX + 64];
    if (!m->notes.buckets || modcache_note_path(key, path, sizeof path) < 0)
        return NULL;
    char *text = NULL;
    pthread_mutex_lock(&m->notes_lock);
    fs_note_t *n = (fs_note_t *)htab_find(&m->notes, fs_note_hash(path), fs_note_eq, path);
    if (n)
        text = strdup(n->text);
    pthread_mutex_unlock(&m->notes_lock);
    return text;
}

int fs_note_list(fs_mount_t *m, const char *esc_module, size_t len, fs_dirlist_t *out)
{
    char dir[MODKEY_MAX + 64];
    int dlen = snprintf(dir, sizeof dir, "cache/download/%.*s/@v/", (int)len, esc_module);
    if (dlen < 0 || (size_t)dlen >= sizeof dir || !m->notes.buckets)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&m->notes_lock);
    /* At most FS_NOTES_MAX notes: a walk over all of them is cheap next to a readdir. */
    for (fs_note_t *n = m->notes_oldest; n && rc == 0; n = n->newer)
        if (strncmp(n->path, dir, (size_t)dlen) == 0)
            rc = fs_dirlist_add(out, n->path + dlen, strlen(n->path + dlen), S_IFREG, false);
    pthread_mutex_unlock(&m->notes_lock);
    return rc;
}
