/* SPDX-License-Identifier: MIT */
/*
 * heal.c — a store that can say whether it is sound, and heals whole (store_i.h).
 *
 * At open: SQLite's quick_check over the index (a damaged index is refused with the command that
 * rebuilds it from the pack logs, instead of failing key by key forever), an index that is gone
 * while packs remain is refused the same way, and every pack the index refers to must be there
 * and long enough. At a read: a pack found gone or short is a lost pack, not a bad chunk. Either
 * way every chunk of the lost bytes and every object using one of them is dropped in one
 * transaction, so the next request of each of those objects fetches it again. Before this, a
 * deleted pack healed one chunk per failed request.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_i.h"

int store_heal_pack(store_t *s, uint32_t pack)
{
    uint64_t end = 0;
    if (store_index_pack_end(s->index, pack, &end) == 0 && end == 0) {
        /* The index refers to nothing in that pack: it was compacted away (by this process or
         * another) after the object was opened. Nothing is lost; the object is stale. */
        store_pack_forget(s->packs, pack);
        return -ESTALE;
    }
    atomic_store(&s->garbage, true);
    uint64_t size = 0;
    int rc = store_pack_size(s->packs, pack, &size);
    if (rc != 0 && rc != -ENOENT)
        return rc;
    store_pack_forget(s->packs, pack);
    return store_index_pack_drop(s->index, pack, rc == -ENOENT ? 0 : size, s->drop_hook, s->drop_arg);
}

typedef struct pack_check {
    store_t *store;
    bool heal;
    unsigned lost;
} pack_check_t;

static int check_pack(void *arg, uint32_t pack, uint64_t end)
{
    pack_check_t *c = arg;
    uint64_t size = 0;
    int rc = store_pack_size(c->store->packs, pack, &size);
    if (rc == 0 && size >= end)
        return 0;
    if (rc != 0 && rc != -ENOENT)
        return rc;
    c->lost++;
    if (rc == -ENOENT)
        LOG_W("pack %08u is gone (the index refers to %llu bytes of it)", pack, (unsigned long long)end);
    else
        LOG_W("pack %08u holds %llu bytes, the index refers to %llu", pack, (unsigned long long)size,
              (unsigned long long)end);
    return c->heal ? store_index_pack_drop(c->store->index, pack, rc == -ENOENT ? 0 : size, NULL, NULL) : 0;
}

/* Whether dir/packs holds a pack file with bytes in it. */
static bool packs_present(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/packs", dir);
    DIR *d = opendir(path);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        struct stat st;
        found = n > 5 && strcmp(e->d_name + n - 5, ".pack") == 0 && fstatat(dirfd(d), e->d_name, &st, 0) == 0 &&
                st.st_size > 0;
    }
    closedir(d);
    return found;
}

int store_check_index_file(const char *dir, const char *index_path, cache_err_t *err)
{
    struct stat st;
    bool missing = stat(index_path, &st) != 0 || st.st_size == 0;
    if (missing && packs_present(dir))
        return cache_err_set(err, -EUCLEAN,
                             "%s: index.db is %s but packs/ holds data; run `modfs repair --cache-dir %s` to "
                             "rebuild the index from the packs",
                             dir, stat(index_path, &st) != 0 ? "missing" : "empty", dir);
    return 0;
}

int store_check(store_t *s, bool heal, cache_err_t *err)
{
    cache_err_t why = {0};
    int rc = store_index_check(s->index, &why);
    if (rc != 0)
        return cache_err_set(err, rc, "%s: index.db is damaged (%s); run `modfs repair --cache-dir %s` to rebuild "
                                      "it from the packs",
                             s->dir, why.msg, s->dir);
    pack_check_t c = {.store = s, .heal = heal};
    rc = store_index_packs_visit(s->index, check_pack, &c);
    if (rc != 0)
        return cache_err_set(err, rc, "%s: checking the packs: %s", s->dir, strerror(-rc));
    return 0;
}
