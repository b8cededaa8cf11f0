/* SPDX-License-Identifier: MIT */
/*
 * errnote.c — why a user's last lookup of a version (or of a module's list) failed, kept as a
 * read-only file in the module's @v directory of that user's view:
 * cache/download/<module>/@v/<version>.error and list.error (names from modcache_note_path; no
 * go command writes or reads them).
 *
 * The kernel carries only an errno from a failed lookup to the go command, and with GOPROXY=off
 * go does not even print that: it says "module lookup disabled". The upstream's own words
 * ("404 Not Found: unknown revision v1.2.3", "connection refused") would otherwise be in modfs's
 * log only, which a build user may not be able to read. Notes belong to the view whose lookup
 * failed: the module paths a user asked for (a private module's, say) are nobody else's
 * business. They are kept in memory, bounded per user (the oldest go first), replaced by the
 * next failure of the same version, and dropped when a lookup of the key succeeds or the user
 * removes the note. They share the view's lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_i.h"

#define FS_NOTE_SEED 0x6e6f /* "no" */

typedef struct fs_note {
    htab_link_t link; /* first: the table hands back this pointer */
    agelist_link_t age;
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

static fs_note_t *fs_note_oldest(fs_view_t *v)
{
    return AGELIST_ENTRY(v->notes_age.oldest, fs_note_t, age);
}

int fs_notes_init(fs_view_t *v)
{
    v->notes_age = (agelist_t){0};
    atomic_init(&v->nnotes, 0);
    return htab_init(&v->notes, 16) == 0 ? 0 : -ENOMEM;
}

/* Called with v->lock held (or alone, at dispose). */
static void fs_note_remove_locked(fs_view_t *v, fs_note_t *n)
{
    htab_remove(&v->notes, &n->link);
    agelist_unlink(&v->notes_age, &n->age);
    free(n->text);
    free(n);
    atomic_fetch_sub(&v->nnotes, 1);
    atomic_fetch_add(&v->listing_gen, 1); /* a note is a file of its @v directory */
}

void fs_notes_dispose(fs_view_t *v)
{
    while (v->notes_age.oldest)
        fs_note_remove_locked(v, fs_note_oldest(v));
    htab_dispose(&v->notes);
}

void fs_note_put(fs_view_t *v, const modkey_t *key, const char *why)
{
    char path[MODKEY_MAX + 64];
    int plen = modcache_note_path(key, path, sizeof path);
    if (plen < 0)
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
        return; /* out of memory: no note, everything else works */
    }
    int len = snprintf(text, FS_NOTE_MAX, "%s %s: %s\n", stamp, key->escaped, why);
    if (len < 0 || len >= FS_NOTE_MAX)
        memcpy(text + FS_NOTE_MAX - 5, "...\n", 5);
    memset(n, 0, sizeof *n);
    memcpy(n->path, path, (size_t)plen + 1);
    n->text = text;
    uint64_t h = fs_note_hash(path);
    pthread_mutex_lock(&v->lock);
    fs_note_t *old = (fs_note_t *)htab_find(&v->notes, h, fs_note_eq, path);
    if (old && strcmp(old->text + strlen(stamp), text + strlen(stamp)) == 0) {
        /* the same news again (a lookup answered from the negative cache): keep its time */
        pthread_mutex_unlock(&v->lock);
        free(text);
        free(n);
        return;
    }
    if (old)
        fs_note_remove_locked(v, old);
    while (v->notes_age.oldest && v->notes.count >= FS_NOTES_MAX)
        fs_note_remove_locked(v, fs_note_oldest(v));
    htab_insert(&v->notes, &n->link, h);
    agelist_push(&v->notes_age, &n->age);
    atomic_fetch_add(&v->nnotes, 1);
    atomic_fetch_add(&v->listing_gen, 1);
    pthread_mutex_unlock(&v->lock);
}

void fs_note_drop(fs_view_t *v, const modkey_t *key)
{
    char path[MODKEY_MAX + 64];
    /* every successful lookup passes here: most views have no note at all */
    if (atomic_load_explicit(&v->nnotes, memory_order_relaxed) == 0 || modcache_note_path(key, path, sizeof path) < 0)
        return;
    pthread_mutex_lock(&v->lock);
    fs_note_t *n = (fs_note_t *)htab_find(&v->notes, fs_note_hash(path), fs_note_eq, path);
    if (n)
        fs_note_remove_locked(v, n);
    pthread_mutex_unlock(&v->lock);
}

char *fs_note_get(fs_view_t *v, const modkey_t *key)
{
    char path[MODKEY_MAX + 64];
    if (atomic_load_explicit(&v->nnotes, memory_order_relaxed) == 0 || modcache_note_path(key, path, sizeof path) < 0)
        return NULL;
    char *text = NULL;
    pthread_mutex_lock(&v->lock);
    fs_note_t *n = (fs_note_t *)htab_find(&v->notes, fs_note_hash(path), fs_note_eq, path);
    if (n)
        text = strdup(n->text);
    pthread_mutex_unlock(&v->lock);
    return text;
}

int fs_note_list(fs_view_t *v, const char *esc_module, size_t len, fs_dirlist_t *out)
{
    char dir[MODKEY_MAX + 64];
    int dlen = snprintf(dir, sizeof dir, "cache/download/%.*s/@v/", (int)len, esc_module);
    if (dlen < 0 || (size_t)dlen >= sizeof dir || atomic_load_explicit(&v->nnotes, memory_order_relaxed) == 0)
        return 0;
    int rc = 0;
    pthread_mutex_lock(&v->lock);
    /* At most FS_NOTES_MAX notes: a walk over all of them is cheap next to a readdir. */
    for (agelist_link_t *a = v->notes_age.oldest; a && rc == 0; a = a->newer) {
        const fs_note_t *n = AGELIST_ENTRY(a, fs_note_t, age);
        if (strncmp(n->path, dir, (size_t)dlen) == 0)
            rc = fs_dirlist_add(out, n->path + dlen, strlen(n->path + dlen), S_IFREG, false);
    }
    pthread_mutex_unlock(&v->lock);
    return rc;
}
