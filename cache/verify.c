/* SPDX-License-Identifier: MIT */
/*
 * verify.c — the checksum databases of the cache (cache_i.h: cache_sumdb_*): which ones it serves
 * under /sumdb/<name>/, and the proof, at the one ingest boundary, that a .mod or .zip from
 * upstream is what the first of them says of that module version (cache.h).
 *
 * The proof is cache/sumdb's client, the go command's own algorithm; this file gives it storage
 * and transport through its callbacks: remote reads go to upstream as the go command would reach
 * the database (upstream_sumdb_fetch), through single-flight; the kept tree head is a state file
 * of the store ("sumdb/<name>/latest", compare-and-swap); the cache of tiles and lookups is the
 * store's MODKEY_SUMDB objects, the very ones the HTTP front serves.
 *
 * Design choice: nothing read for a proof is stored unless the whole proof holds. The client hands
 * verified tiles and lookups to write_cache as it goes; they are held in a transaction of the
 * calling thread (the client calls its callbacks on the thread that called it) and stored only
 * when the check succeeds, so a refused module leaves the store exactly as it was. Stored answers
 * may have come in unverified through the proxy side (a go client asked for them); when a proof
 * fails and it used any, it runs once more with remote reads only, and the fresh, proven answers
 * then replace the stored ones. A mismatch proven from a verified lookup is final at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_i.h"
#include "sumdb.h"

#define REMOTE_FLIGHT_PREFIX "sumdb remote:"

typedef struct cache_sumdb_db {
    cache_t *cache;
    sumdb_spec_t spec;
    char latest_name[SUMDB_NAME_MAX + 32]; /* "sumdb/<name>/latest", a state file of the store */
    pthread_mutex_t client_lock;           /* protects client while it is made */
    sumdb_client_t *client;                /* made at its first use (db_client), then fixed */
} cache_sumdb_db_t;

struct cache_sumdb {
    size_t ndbs;           /* 0: "off" */
    cache_sumdb_db_t *dbs; /* dbs[0] verifies modules; all are served */
    char *nosumdb;         /* GONOSUMDB globs, or NULL */
    /* proofs at ingest since the last counter flush (cache_sumdb_counters_take) */
    atomic_uint_fast64_t verified, skipped, failures[CACHE_SUMDB_REASONS];
};

/* A write_cache the client made during one check, stored only if the check succeeds. */
typedef struct pending {
    struct pending *next;
    size_t len;
    char *path;
    uint8_t data[];
} pending_t;

/* One check on one thread: what it read from the store, what it would store. */
typedef struct verify_txn {
    bool no_cache;  /* the second attempt: every read from the database itself */
    int cache_hits; /* answers read from the store */
    pending_t *writes;
} verify_txn_t;

static _Thread_local verify_txn_t *current_txn;

static const char *const reason_names[CACHE_SUMDB_REASONS] = {"mismatch", "security", "invalid", "missing",
                                                              "unavailable"};

const char *cache_sumdb_reason_name(int reason)
{
    return reason >= 0 && reason < CACHE_SUMDB_REASONS ? reason_names[reason] : NULL;
}

/* ---- bytes of answers ---- */

/* Reads the whole object into out. */
static int object_bytes(cache_object_t *o, buf_t *out)
{
    buf_reset(out);
    slice_t b = cache_object_bytes(o);
    if (b.base != NULL)
        return buf_append(out, b.base, b.len);
    cache_stat_t st;
    cache_object_stat(o, &st);
    if (st.size > SUMDB_BODY_MAX)
        return -EFBIG;
    int rc = buf_reserve(out, (size_t)st.size + 1);
    ssize_t n = rc == 0 ? cache_object_read(o, out->base, (size_t)st.size, 0) : rc;
    if (n < 0 || (uint64_t)n != st.size)
        return n < 0 ? (int)n : -EIO;
    out->len = (size_t)n;
    out->base[n] = 0; /* as buf_append leaves it */
    return 0;
}

int cache_sumdb_download(cache_t *c, const modkey_t *key, int fd, upstream_result_t *res, cache_err_t *err)
{
    const cache_sumdb_db_t *db = cache_sumdb_find(c, key->db_name);
    if (db == NULL)
        return cache_err_set(err, -ENOENT, "checksum database %s is not served here", key->db_name);
    return upstream_sumdb_fetch(c->upstream, db->spec.name, db->spec.url, db->spec.url_given, key->db_path,
                                fd, SUMDB_BODY_MAX, res, err);
}

/* Fetches an answer from the database into out, one fetch per key at a time in the process. */
static int remote_read(cache_sumdb_db_t *db, const modkey_t *key, buf_t *out, cache_err_t *err)
{
    cache_t *c = db->cache;
    char fkey[MODKEY_MAX + sizeof REMOTE_FLIGHT_PREFIX];
    snprintf(fkey, sizeof fkey, "%s%s", REMOTE_FLIGHT_PREFIX, key->escaped);
    cache_flight_entry_t *flight;
    int rc;
    if (!cache_flight_join_bytes(c->flight, fkey, &flight, &rc, out, err))
        return rc;
    buf_reset(out);
    upstream_result_t res;
    int fd = cache_tmp_take(c, err);
    if (fd < 0) {
        rc = fd;
    } else {
        rc = cache_sumdb_download(c, key, fd, &res, err);
        struct stat st;
        if (rc == 0 && fstat(fd, &st) != 0)
            rc = cache_err_set(err, -errno, "temp file: %s", strerror(errno));
        if (rc == 0 && (rc = buf_reserve(out, (size_t)st.st_size + 1)) != 0)
            cache_err_set(err, rc, "out of memory");
        if (rc == 0) {
            ssize_t n = pread(fd, out->base, (size_t)st.st_size, 0);
            if (n != st.st_size) {
                rc = cache_err_set(err, -EIO, "temp file: short read");
            } else {
                out->len = (size_t)n;
                out->base[n] = 0; /* as buf_append leaves it */
            }
        }
        cache_tmp_give(c, fd);
    }
    /* a TLS or protocol failure on the way is the database being unavailable, not its answer
     * failing to verify (the proof's own -EPROTO) */
    if (rc == -EPROTO)
        rc = -EIO;
    if (rc != 0)
        buf_reset(out);
    cache_flight_finish_bytes(c->flight, flight, rc, (slice_t){out->base, out->len}, err);
    return rc;
}

/* ---- the client's callbacks ---- */

static int cb_read_remote(void *ctx, const char *path, buf_t *out, cache_err_t *err)
{
    cache_sumdb_db_t *db = ctx;
    modkey_buf_t *kb = malloc(sizeof *kb);
    if (kb == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    int rc = modkey_make_sumdb(db->spec.name, path, &kb->key, err);
    if (rc == 0)
        rc = remote_read(db, &kb->key, out, err);
    free(kb);
    return rc;
}

static int cb_read_latest(void *ctx, buf_t *out, cache_err_t *err)
{
    cache_sumdb_db_t *db = ctx;
    return store_state_read(db->cache->store, db->latest_name, out, err);
}

static int cb_write_latest(void *ctx, slice_t old, slice_t new_head, cache_err_t *err)
{
    cache_sumdb_db_t *db = ctx;
    return store_state_swap(db->cache->store, db->latest_name, old, new_head, err);
}

/* Any stored copy will do, however old: the client proves it again before using it, and a tile's
 * or a record's contents never change (go keeps both for ever in its own cache). */
static int cb_read_cache(void *ctx, const char *path, buf_t *out)
{
    cache_sumdb_db_t *db = ctx;
    verify_txn_t *txn = current_txn;
    if (txn != NULL && txn->no_cache)
        return -ENOENT;
    modkey_buf_t *kb = malloc(sizeof *kb);
    if (kb == NULL)
        return -ENOMEM;
    cache_object_t *o = NULL;
    int rc = modkey_make_sumdb(db->spec.name, path, &kb->key, NULL);
    if (rc == 0)
        rc = cache_local_get(db->cache, &kb->key, &o);
    if (rc == 0)
        rc = object_bytes(o, out);
    cache_object_unref(o);
    free(kb);
    if (rc == 0 && txn != NULL)
        txn->cache_hits++;
    return rc;
}

static void store_answer(cache_sumdb_db_t *db, const char *path, const uint8_t *data, size_t len)
{
    modkey_buf_t *kb = malloc(sizeof *kb);
    cache_err_t err = {0};
    int rc = kb ? modkey_make_sumdb(db->spec.name, path, &kb->key, &err) : -ENOMEM;
    if (rc == 0)
        rc = cache_store_put(db->cache, &kb->key, data, len, (int64_t)time(NULL), &err);
    if (rc != 0)
        LOG_W("sumdb %s: keeping %s: %s", db->spec.name, path, err.msg[0] ? err.msg : strerror(-rc));
    free(kb);
}

static void cb_write_cache(void *ctx, const char *path, slice_t data)
{
    cache_sumdb_db_t *db = ctx;
    verify_txn_t *txn = current_txn;
    if (txn == NULL) {
        store_answer(db, path, data.base, data.len);
        return;
    }
    size_t plen = strlen(path);
    pending_t *p = malloc(sizeof *p + data.len);
    char *pathcopy = malloc(plen + 1);
    if (p == NULL || pathcopy == NULL) {
        free(p);
        free(pathcopy);
        return; /* not kept: asked again next time */
    }
    memcpy(pathcopy, path, plen + 1);
    p->path = pathcopy;
    p->len = data.len;
    memcpy(p->data, data.base, data.len);
    p->next = txn->writes;
    txn->writes = p;
}

static void txn_dispose(verify_txn_t *txn, cache_sumdb_db_t *commit_to)
{
    /* pending writes are newest first; store them oldest first, as the client made them */
    pending_t *rev = NULL;
    while (txn->writes != NULL) {
        pending_t *p = txn->writes;
        txn->writes = p->next;
        p->next = rev;
        rev = p;
    }
    while (rev != NULL) {
        pending_t *p = rev;
        rev = p->next;
        if (commit_to != NULL)
            store_answer(commit_to, p->path, p->data, p->len);
        free(p->path);
        free(p);
    }
}

/* The database's client, made now if it has not been yet (read_remote may then be asked for
 * tiles). NULL, with err, when it cannot be made now; the next call tries again. */
static sumdb_client_t *db_client(cache_sumdb_db_t *db, cache_err_t *err)
{
    pthread_mutex_lock(&db->client_lock);
    if (db->client == NULL) {
        sumdb_ops_t ops = {
            .ctx = db,
            .read_remote = cb_read_remote,
            .read_latest = cb_read_latest,
            .write_latest = cb_write_latest,
            .read_cache = cb_read_cache,
            .write_cache = cb_write_cache,
        };
        int rc = sumdb_client_new(&db->spec, &ops, &db->client, err);
        if (rc != 0)
            cache_err_prefix(err, rc, "starting from the kept tree head (%s/%s)", db->cache->dir,
                             db->latest_name);
    }
    sumdb_client_t *client = db->client;
    pthread_mutex_unlock(&db->client_lock);
    return client;
}

/* ---- opening ---- */

/* Parses the list of GOSUMDB values (cache.h: cache_config_t.sumdb) into *specs (malloc'd, *n of
 * them; "off" alone gives none). 0, or -EINVAL/-ENOMEM with err naming the bad value. */
static int specs_parse(const char *list, sumdb_spec_t **specs, size_t *n, cache_err_t *err)
{
    *specs = NULL;
    *n = 0;
    if (list == NULL || list[0] == '\0')
        list = CACHE_DEFAULT_SUMDB;
    sumdb_spec_t *out = calloc(CACHE_SUMDB_MAX, sizeof *out);
    modkey_buf_t *kb = malloc(sizeof *kb);
    char *copy = strdup(list);
    int rc = out && kb && copy ? 0 : cache_err_set(err, -ENOMEM, "out of memory");
    size_t count = 0;
    bool off = false;
    for (char *save = NULL, *v = copy ? strtok_r(copy, ",", &save) : NULL; rc == 0 && v != NULL;
         v = strtok_r(NULL, ",", &save)) {
        while (*v == ' ')
            v++;
        if (count == CACHE_SUMDB_MAX) {
            rc = cache_err_set(err, -EINVAL, "at most %d checksum databases", CACHE_SUMDB_MAX);
            break;
        }
        sumdb_spec_t *sp = &out[count];
        if ((rc = sumdb_spec_parse(v, sp, err)) != 0) {
            cache_err_prefix(err, rc, "'%.200s'", v);
            break;
        }
        if (sp->off) {
            off = true;
            continue;
        }
        /* the name must make keys that parse back (a name with an element "lookup" cannot) */
        if ((rc = modkey_make_sumdb(sp->name, "supported", &kb->key, err)) != 0) {
            cache_err_prefix(err, rc, "'%.200s'", v);
            break;
        }
        for (size_t j = 0; j < count; j++) {
            if (strcmp(out[j].name, sp->name) == 0) {
                rc = cache_err_set(err, -EINVAL, "checksum database %s is given twice", sp->name);
                break;
            }
        }
        count++;
    }
    if (rc == 0 && off && count > 0)
        rc = cache_err_set(err, -EINVAL, "off: no other checksum database can be given with it");
    if (rc == 0 && !off && count == 0)
        rc = cache_err_set(err, -EINVAL, "no checksum database in \"%.200s\" (off for none)", list);
    free(copy);
    free(kb);
    if (rc != 0) {
        free(out);
        return rc;
    }
    *specs = out;
    *n = count;
    return 0;
}

int cache_sumdb_list_check(const char *list, cache_err_t *err)
{
    sumdb_spec_t *specs = NULL;
    size_t n = 0;
    int rc = specs_parse(list, &specs, &n, err);
    free(specs);
    return rc;
}

int cache_sumdb_open(cache_t *c, const cache_config_t *cfg, cache_err_t *err)
{
    sumdb_spec_t *specs = NULL;
    size_t n = 0;
    int rc = specs_parse(cfg->sumdb, &specs, &n, err);
    if (rc != 0)
        return cache_err_prefix(err, rc, "sumdb");
    if (cfg->nosumdb != NULL && (rc = modpath_patterns_check(cfg->nosumdb, err)) != 0) {
        free(specs);
        return cache_err_prefix(err, rc, "nosumdb");
    }
    cache_sumdb_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        free(specs);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    c->sumdb = s;
    if (cfg->nosumdb != NULL && cfg->nosumdb[0] != '\0' && (s->nosumdb = strdup(cfg->nosumdb)) == NULL)
        rc = cache_err_set(err, -ENOMEM, "out of memory");
    if (rc == 0 && n > 0 && (s->dbs = calloc(n, sizeof *s->dbs)) == NULL)
        rc = cache_err_set(err, -ENOMEM, "out of memory");
    buf_t kept = BUF_INIT;
    for (size_t i = 0; i < n && rc == 0; i++) {
        cache_sumdb_db_t *db = &s->dbs[i];
        db->spec = specs[i];
        db->cache = c;
        pthread_mutex_init(&db->client_lock, NULL);
        s->ndbs++;
        snprintf(db->latest_name, sizeof db->latest_name, "sumdb/%s/latest", db->spec.name);
        if ((rc = store_state_read(c->store, db->latest_name, &kept, err)) != 0)
            break;
        if (kept.len > 0 && (rc = sumdb_answer_check(&db->spec, "latest", kept.base, kept.len, err)) != 0)
            cache_err_prefix(err, rc,
                             "checksum database %s: the tree head kept in %s/%s (if the database's key "
                             "really changed, remove that file to trust it anew)",
                             db->spec.name, c->dir, db->latest_name);
    }
    buf_dispose(&kept);
    free(specs);
    return rc;
}

void cache_sumdb_close(cache_t *c)
{
    cache_sumdb_t *s = c->sumdb;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->ndbs; i++) {
        sumdb_client_free(s->dbs[i].client);
        pthread_mutex_destroy(&s->dbs[i].client_lock);
    }
    free(s->dbs);
    free(s->nosumdb);
    free(s);
    c->sumdb = NULL;
}

const cache_sumdb_db_t *cache_sumdb_find(cache_t *c, const char *name)
{
    cache_sumdb_t *s = c->sumdb;
    for (size_t i = 0; s != NULL && i < s->ndbs; i++)
        if (strcmp(s->dbs[i].spec.name, name) == 0)
            return &s->dbs[i];
    return NULL;
}

int cache_sumdb_supported(cache_t *c, const modkey_t *key, cache_err_t *err)
{
    if (key->kind != MODKEY_SUMDB || cache_sumdb_find(c, key->db_name) == NULL)
        return cache_err_set(err, -ENOENT, "checksum database %s is not served here", key->db_name);
    return 0;
}

/* ---- the proxy side ---- */

int cache_sumdb_check_answer(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len,
                             cache_err_t *err)
{
    const cache_sumdb_db_t *db = cache_sumdb_find(c, key->db_name);
    if (db == NULL)
        return cache_err_set(err, -ENOENT, "checksum database %s is not served here", key->db_name);
    return sumdb_answer_check(&db->spec, key->db_path, body, len, err);
}

/* ---- proofs ---- */

static void count(atomic_uint_fast64_t *counter)
{
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

static int reason_of(int rc)
{
    switch (rc) {
    case -EBADMSG:
        return CACHE_SUMDB_MISMATCH;
    case -ENOTRECOVERABLE:
        return CACHE_SUMDB_SECURITY;
    case -EPROTO:
        return CACHE_SUMDB_INVALID;
    case -ENOENT:
        return CACHE_SUMDB_MISSING;
    default:
        return CACHE_SUMDB_UNAVAILABLE;
    }
}

/* sumdb_check in a transaction: proven answers are stored only when the check holds. */
static int check_once(cache_sumdb_db_t *db, const char *module, const char *version, const char *zip_h1,
                      const char *gomod_h1, bool no_cache, int *cache_hits, cache_err_t *err)
{
    *cache_hits = 0;
    sumdb_client_t *client = db_client(db, err);
    if (client == NULL)
        return -EIO;
    verify_txn_t txn = {.no_cache = no_cache};
    current_txn = &txn;
    int rc = sumdb_check(client, module, version, zip_h1, gomod_h1, err);
    current_txn = NULL;
    txn_dispose(&txn, rc == 0 ? db : NULL);
    *cache_hits = txn.cache_hits;
    return rc;
}

const char *cache_sumdb_prover(cache_t *c, const char *module, bool private_module)
{
    cache_sumdb_t *s = c->sumdb;
    if (s == NULL || s->ndbs == 0 || private_module ||
        (s->nosumdb != NULL && modpath_match_prefix_patterns(s->nosumdb, module)))
        return NULL;
    return s->dbs[0].spec.name;
}

/* Checks module@version's hashes against the first database, unless the module is exempt (*exempt
 * then, and 0): no database, --nosumdb, or private (as GOPRIVATE implies GONOSUMDB; its name is
 * never sent to a database). ingest: a proof at the ingest boundary, counted and logged; else a
 * check of a stored module again (cache_verify_stored), neither. */
static int sumdb_verify(cache_t *c, const char *module, const char *version, const char *zip_h1,
                        const char *gomod_h1, bool private_module, bool ingest, bool *exempt, int *reason,
                        cache_err_t *err)
{
    cache_sumdb_t *s = c->sumdb;
    *exempt = cache_sumdb_prover(c, module, private_module) == NULL;
    if (*exempt) {
        if (ingest && s != NULL)
            count(&s->skipped);
        return 0;
    }
    cache_sumdb_db_t *db = &s->dbs[0];
    int hits = 0;
    int rc = check_once(db, module, version, zip_h1, gomod_h1, false, &hits, err);
    /* A mismatch or "not found" rests on a proven lookup or on the database's own word; anything
     * else may be a stored answer gone bad (kept unverified by the proxy side): once more, fresh. */
    if (rc != 0 && rc != -EBADMSG && rc != -ENOENT && rc != -ENOMEM && hits > 0) {
        LOG_W("sumdb %s: %s; checking again without stored answers", db->spec.name, err->msg);
        rc = check_once(db, module, version, zip_h1, gomod_h1, true, &hits, err);
    }
    if (rc == 0) {
        if (ingest)
            count(&s->verified);
        return 0;
    }
    *reason = reason_of(rc);
    if (rc == -ENOENT) {
        cache_err_prefix(err, rc,
                         "cannot verify: the checksum database has no record (a private module? exempt it "
                         "with --private or --nosumdb)");
        rc = -EIO; /* not "not found": upstream has the module, the database does not vouch for it */
    }
    err->upstream_status = 0;
    if (ingest) {
        count(&s->failures[*reason]);
        LOG_E("sumdb %s: refused %s@%s (%s): %s", db->spec.name, module, version, reason_names[*reason], err->msg);
    }
    return rc;
}

int cache_sumdb_verify(cache_t *c, const modkey_t *key, bool private_module, const uint8_t *body, size_t len,
                       const zipfile_t *z, int *reason, cache_err_t *err)
{
    *reason = CACHE_SUMDB_UNAVAILABLE;
    if (key->kind != MODKEY_MOD && key->kind != MODKEY_ZIP)
        return 0;
    char h1[48];
    if (key->kind == MODKEY_MOD) {
        int rc = dirhash_gomod_h1(body, len, h1, err);
        if (rc != 0)
            return rc;
    }
    bool exempt;
    return sumdb_verify(c, key->module, key->version, key->kind == MODKEY_ZIP ? z->h1 : NULL,
                        key->kind == MODKEY_MOD ? h1 : NULL, private_module, true, &exempt, reason, err);
}

int cache_verify_stored(cache_t *c, const modkey_t *key, bool *exempt, int *reason, cache_err_t *err)
{
    *exempt = false;
    *reason = CACHE_SUMDB_UNAVAILABLE;
    if (key->kind != MODKEY_MOD && key->kind != MODKEY_ZIP)
        return cache_err_set(err, -EINVAL, "%s: only a .mod or a .zip is in the checksum database",
                             key->escaped);
    cache_access_t *access = cache_access_acquire(c);
    bool private_module = cache_access_is_private(access, key->module);
    cache_access_release(access);
    cache_object_t *o = NULL;
    int rc = cache_local_get(c, key, &o);
    if (rc != 0)
        return cache_err_set(err, -ENOENT, "%s: not stored", key->escaped);
    cache_stat_t st;
    cache_object_stat(o, &st);
    char h1[48];
    if (key->kind == MODKEY_ZIP) {
        snprintf(h1, sizeof h1, "%s", st.h1);
    } else {
        buf_t b = BUF_INIT;
        rc = object_bytes(o, &b);
        if (rc == 0)
            rc = dirhash_gomod_h1(b.base, b.len, h1, err);
        else
            cache_err_set(err, rc, "%s: reading it back: %s", key->escaped, strerror(-rc));
        buf_dispose(&b);
    }
    cache_object_unref(o);
    if (rc != 0)
        return rc;
    return sumdb_verify(c, key->module, key->version, key->kind == MODKEY_ZIP ? h1 : NULL,
                        key->kind == MODKEY_MOD ? h1 : NULL, private_module, false, exempt, reason, err);
}

void cache_sumdb_counters_take(cache_t *c, store_counters_t *d)
{
    cache_sumdb_t *s = c->sumdb;
    if (s == NULL)
        return;
    d->sumdb_verified = atomic_exchange(&s->verified, 0);
    d->sumdb_skipped = atomic_exchange(&s->skipped, 0);
    for (int i = 0; i < CACHE_SUMDB_REASONS; i++)
        d->sumdb_failures[i] = atomic_exchange(&s->failures[i], 0);
}

void cache_sumdb_counters_return(cache_t *c, const store_counters_t *d)
{
    cache_sumdb_t *s = c->sumdb;
    if (s == NULL)
        return;
    atomic_fetch_add(&s->verified, d->sumdb_verified);
    atomic_fetch_add(&s->skipped, d->sumdb_skipped);
    for (int i = 0; i < CACHE_SUMDB_REASONS; i++)
        atomic_fetch_add(&s->failures[i], d->sumdb_failures[i]);
}

void cache_sumdb_stats(cache_t *c, cache_stats_t *st)
{
    cache_sumdb_t *s = c->sumdb;
    if (s == NULL)
        return;
    st->sumdb_verified += atomic_load(&s->verified);
    st->sumdb_skipped += atomic_load(&s->skipped);
    for (int i = 0; i < CACHE_SUMDB_REASONS; i++)
        st->sumdb_failures[i] += atomic_load(&s->failures[i]);
}
