/* SPDX-License-Identifier: MIT */
/*
 * client.c — the checksum-database client (golang.org/x/mod/sumdb Client): lookups proven
 * against a signed tree head, and the one timeline of tree heads kept.
 *
 * Design: the client holds only the newest verified tree head (its size, hash and signed note)
 * under a mutex that is never held across a callback; everything else — tiles, lookups, the kept
 * head — is the caller's, through sumdb_ops_t. Moving the head forward follows Go's optimistic
 * loop: check the new head against a copy of the current one without the lock, then install it
 * only if the current one has not changed meanwhile, else check again against the newer one. So
 * concurrent lookups never wait on one another's network reads, and no head is ever installed
 * without having been proven an extension of the one it replaces.
 *
 * Tiles are read one after another (Go reads them in parallel): a lookup needs a handful, and the
 * caller's cache answers most of them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumdb_i.h"

struct sumdb_client {
    sumdb_ops_t ops;            /* fixed once made */
    sumdb_verifier_t verifier;  /* fixed once made */
    char name[SUMDB_NAME_MAX + 1];

    pthread_mutex_t mu;
    /* Protected by mu: the newest verified tree head and its signed note (latest_msg NULL with
     * latest.n 0 for "none yet"). Replaced whole, never edited in place. */
    sumdb_tree_t latest;
    uint8_t *latest_msg;
    size_t latest_len;
};

/* A copy of a tree head with its note, taken under the lock and used without it. */
typedef struct head {
    sumdb_tree_t tree;
    buf_t msg;
} head_t;

static int head_snapshot(sumdb_client_t *c, head_t *h)
{
    buf_reset(&h->msg);
    pthread_mutex_lock(&c->mu);
    h->tree = c->latest;
    int rc = c->latest_len ? buf_append(&h->msg, c->latest_msg, c->latest_len) : 0;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- reading tiles through the caller ---- */

typedef struct tile_ctx {
    sumdb_client_t *c;
} tile_ctx_t;

/* Go's readTile: the tile from the cache; else a cached full tile's prefix; else the tile from
 * the database; else (a partial tile the database no longer serves) the full tile's prefix. */
static int read_one_tile(sumdb_client_t *c, const sumdb_tile_t *t, buf_t *out, bool *cached, cache_err_t *err)
{
    char path[SUMDB_TILE_PATH_MAX + 1], full_path[SUMDB_TILE_PATH_MAX + 1];
    sumdb_tile_t full = *t;
    full.w = 1 << t->h;
    if (sumdb_tile_path(t, path, sizeof path) < 0 || sumdb_tile_path(&full, full_path, sizeof full_path) < 0)
        return cache_err_set(err, -EINVAL, "invalid tile");
    bool partial = t->w != full.w;
    *cached = false;
    size_t want = (size_t)t->w * SUMDB_HASH_SIZE;
    if (c->ops.read_cache) {
        /* A cached tile of the wrong size (a torn write, a damaged file) is as good as absent:
         * the database can still be asked. Wrong bytes of the right size fail the proof. */
        buf_reset(out);
        if (c->ops.read_cache(c->ops.ctx, path, out) == 0 && out->len == want) {
            *cached = true;
            return 0;
        }
        buf_reset(out);
        if (partial && c->ops.read_cache(c->ops.ctx, full_path, out) == 0 &&
            out->len == (size_t)full.w * SUMDB_HASH_SIZE) {
            /* A cached full tile was proven before; its prefix is the partial tile. */
            out->len = out->len / (size_t)full.w * (size_t)t->w;
            *cached = true;
            return 0;
        }
    }
    buf_reset(out);
    int rc = c->ops.read_remote(c->ops.ctx, path, out, err);
    if (rc == 0 && out->len > SUMDB_BODY_MAX)
        rc = cache_err_set(err, -EPROTO, "%s: answer of %zu bytes is too large", path, out->len);
    if (rc == 0 || !partial)
        return rc == 0 ? 0 : cache_err_prefix(err, rc, "reading %s", path);
    /* The partial tile may be gone because the tile has filled up: its prefix is the same. */
    buf_reset(out);
    cache_err_t err2 = {0};
    int rc2 = c->ops.read_remote(c->ops.ctx, full_path, out, &err2);
    if (rc2 == 0 && out->len <= SUMDB_BODY_MAX) {
        out->len = out->len / (size_t)full.w * (size_t)t->w;
        return 0;
    }
    buf_reset(out);
    return cache_err_prefix(err, rc, "reading %s", path);
}

static int tiles_read(void *ctx, const sumdb_tile_t *tiles, size_t n, buf_t *data, bool *cached, cache_err_t *err)
{
    tile_ctx_t *tc = ctx;
    for (size_t i = 0; i < n; i++) {
        int rc = read_one_tile(tc->c, &tiles[i], &data[i], &cached[i], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void tiles_save(void *ctx, const sumdb_tile_t *tiles, size_t n, const buf_t *data, const bool *cached)
{
    tile_ctx_t *tc = ctx;
    if (tc->c->ops.write_cache == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        char path[SUMDB_TILE_PATH_MAX + 1];
        if (cached[i] || sumdb_tile_path(&tiles[i], path, sizeof path) < 0)
            continue;
        tc->c->ops.write_cache(tc->c->ops.ctx, path, (slice_t){data[i].base, data[i].len});
    }
}

/* A HashReader over the tiles of one tree head. */
typedef struct tree_reader {
    sumdb_tree_t tree;
    sumdb_tile_source_t src;
    tile_ctx_t tc;
} tree_reader_t;

static int tree_reader_read(void *ctx, const int64_t *indexes, size_t n, sumdb_hash_t *out, cache_err_t *err)
{
    tree_reader_t *r = ctx;
    return sumdb_tile_read_hashes(&r->tree, &r->src, indexes, n, out, err);
}

static void tree_reader_init(tree_reader_t *r, sumdb_client_t *c, const sumdb_tree_t *tree,
                             sumdb_hash_reader_t *hr)
{
    r->tree = *tree;
    r->tc.c = c;
    r->src = (sumdb_tile_source_t){.height = SUMDB_TILE_HEIGHT, .read = tiles_read, .save = tiles_save, .ctx = &r->tc};
    hr->read = tree_reader_read;
    hr->ctx = r;
}

/* ---- the timeline of tree heads ---- */

static void b64_hash(const sumdb_hash_t *h, char out[SUMDB_B64_LEN(SUMDB_HASH_SIZE) + 1])
{
    sumdb_b64_encode(h->b, SUMDB_HASH_SIZE, out);
}

/* Appends msg with every line indented by a tab, as in Go's report. */
static int append_indented(buf_t *b, const uint8_t *msg, size_t len)
{
    int rc = buf_append(b, "\t", 1);
    for (size_t i = 0; rc == 0 && i < len; i++) {
        rc = buf_append(b, &msg[i], 1);
        if (rc == 0 && msg[i] == '\n' && i + 1 < len)
            rc = buf_append(b, "\t", 1);
    }
    return rc;
}

/*
 * checkTrees: older must be a prefix of newer, proven from newer's tiles. A failure to read or
 * prove the tiles is an ordinary error; tiles that prove a different hash for older's size are
 * the database contradicting itself: SECURITY ERROR, -ENOTRECOVERABLE.
 */
static int check_trees(sumdb_client_t *c, const sumdb_tree_t *older, slice_t older_msg, const sumdb_tree_t *newer,
                       slice_t newer_msg, cache_err_t *err)
{
    tree_reader_t tr;
    sumdb_hash_reader_t hr;
    tree_reader_init(&tr, c, newer, &hr);
    sumdb_hash_t h;
    int rc = sumdb_tree_hash(older->n, &hr, &h, err);
    if (rc != 0) {
        if (older->n == newer->n)
            return cache_err_prefix(err, rc, "checking tree #%lld", (long long)older->n);
        return cache_err_prefix(err, rc, "checking tree #%lld against tree #%lld", (long long)older->n,
                                (long long)newer->n);
    }
    if (memcmp(h.b, older->hash.b, SUMDB_HASH_SIZE) == 0)
        return 0;

    char hold[64], hnew[64], hgot[64];
    b64_hash(&older->hash, hold);
    b64_hash(&newer->hash, hnew);
    b64_hash(&h, hgot);
    /* The full report, with the evidence a third party needs to check the fork without asking
     * the database again: both signed heads, the hash its tiles give, and the proof. */
    buf_t rep = BUF_INIT;
    int brc = buf_appendf(&rep, "SECURITY ERROR\ngo.sum database server misbehavior detected!\n\nold database:\n");
    if (brc == 0)
        brc = append_indented(&rep, older_msg.base, older_msg.len);
    if (brc == 0)
        brc = buf_appendf(&rep, "new database:\n");
    if (brc == 0)
        brc = append_indented(&rep, newer_msg.base, newer_msg.len);
    if (brc == 0)
        brc = buf_appendf(&rep, "proof of misbehavior:\n\t%s", hgot);
    if (brc == 0 && older->n > 0) {
        sumdb_hash_t proof[SUMDB_PROOF_MAX];
        size_t plen = 0;
        cache_err_t perr = {0};
        if (sumdb_prove_tree(newer->n, older->n, &hr, proof, &plen, &perr) != 0)
            brc = buf_appendf(&rep, "\tinternal error: %s\n", perr.msg);
        else if (sumdb_check_tree(proof, plen, newer->n, &newer->hash, older->n, &h, NULL) != 0)
            brc = buf_appendf(&rep, "\tinternal error: generated inconsistent proof\n");
        else
            for (size_t i = 0; brc == 0 && i < plen; i++) {
                char hp[64];
                b64_hash(&proof[i], hp);
                brc = buf_appendf(&rep, "\n\t%s", hp);
            }
    }
    if (brc == 0 && rep.base) {
        LOG_E("sumdb %s: %s", c->name, (const char *)rep.base);
        if (c->ops.security_error)
            c->ops.security_error(c->ops.ctx, (const char *)rep.base);
    }
    buf_dispose(&rep);
    return cache_err_set(err, -ENOTRECOVERABLE,
                         "SECURITY ERROR: checksum database %s is inconsistent: the tree of size %lld (hash %s) "
                         "is not a prefix of the tree of size %lld (hash %s), whose tiles give %s",
                         c->name, (long long)older->n, hold, (long long)newer->n, hnew, hgot);
}

enum { MSG_PAST = 1, MSG_NOW, MSG_FUTURE };

/* mergeLatestMem: fits the signed head msg into the in-memory timeline. *when says whether msg was
 * older than, the same as, or newer than (and now installed as) the client's head. */
static int merge_latest_mem(sumdb_client_t *c, slice_t msg, int *when, cache_err_t *err)
{
    if (msg.len == 0) {
        /* An empty kept head is the empty timeline, a prefix of every other. */
        pthread_mutex_lock(&c->mu);
        int64_t n = c->latest.n;
        pthread_mutex_unlock(&c->mu);
        *when = n == 0 ? MSG_NOW : MSG_PAST;
        return 0;
    }
    if (msg.len > SUMDB_BODY_MAX)
        return cache_err_set(err, -EPROTO, "reading tree note: %zu bytes is too large", msg.len);
    slice_t text;
    int rc = sumdb_note_open(msg.base, msg.len, &c->verifier, &text, err);
    if (rc != 0)
        return cache_err_prefix(err, rc, "reading tree note");
    sumdb_tree_t tree;
    rc = sumdb_tree_parse(text.base, text.len, &tree, err);
    if (rc != 0)
        return cache_err_prefix(err, rc, "reading tree");

    head_t latest = {.msg = BUF_INIT};
    rc = head_snapshot(c, &latest);
    while (rc == 0) {
        slice_t lmsg = {latest.msg.base, latest.msg.len};
        if (tree.n <= latest.tree.n) {
            rc = check_trees(c, &tree, msg, &latest.tree, lmsg, err);
            if (rc == 0)
                *when = tree.n < latest.tree.n ? MSG_PAST : MSG_NOW;
            break;
        }
        rc = check_trees(c, &latest.tree, lmsg, &tree, msg, err);
        if (rc != 0)
            break;
        /* Install msg if nobody moved the head meanwhile; else check against the newer head. */
        uint8_t *copy = malloc(msg.len);
        if (copy == NULL) {
            rc = cache_err_set(err, -ENOMEM, "out of memory");
            break;
        }
        memcpy(copy, msg.base, msg.len);
        bool installed = false;
        pthread_mutex_lock(&c->mu);
        if (c->latest.n == latest.tree.n && memcmp(c->latest.hash.b, latest.tree.hash.b, SUMDB_HASH_SIZE) == 0) {
            free(c->latest_msg);
            c->latest = tree;
            c->latest_msg = copy;
            c->latest_len = msg.len;
            copy = NULL;
            installed = true;
        }
        pthread_mutex_unlock(&c->mu);
        free(copy);
        if (installed) {
            *when = MSG_FUTURE;
            break;
        }
        rc = head_snapshot(c, &latest);
    }
    buf_dispose(&latest.msg);
    return rc;
}

/* mergeLatest: merge msg, and when it moved the head forward, move the kept head too, merging in
 * whatever another process kept meanwhile (write_latest is a compare-and-swap). */
static int merge_latest(sumdb_client_t *c, slice_t msg, cache_err_t *err)
{
    int when = 0;
    int rc = merge_latest_mem(c, msg, &when, err);
    if (rc != 0 || when != MSG_FUTURE)
        return rc;
    buf_t kept = BUF_INIT;
    head_t latest = {.msg = BUF_INIT};
    for (int tries = 0;; tries++) {
        if (tries == 100) {
            rc = cache_err_set(err, -EAGAIN, "keeping the tree head: the kept head keeps changing");
            break;
        }
        buf_reset(&kept);
        rc = c->ops.read_latest(c->ops.ctx, &kept, err);
        if (rc != 0) {
            rc = cache_err_prefix(err, rc, "reading the kept tree head");
            break;
        }
        rc = merge_latest_mem(c, (slice_t){kept.base, kept.len}, &when, err);
        if (rc != 0) {
            rc = cache_err_prefix(err, rc, "merging the kept tree head");
            break;
        }
        if (when != MSG_PAST)
            break; /* what is kept is our head or newer; ours now matches it */
        rc = head_snapshot(c, &latest);
        if (rc != 0)
            break;
        rc = c->ops.write_latest(c->ops.ctx, (slice_t){kept.base, kept.len},
                                 (slice_t){latest.msg.base, latest.msg.len}, err);
        if (rc != -EAGAIN) {
            if (rc != 0)
                rc = cache_err_prefix(err, rc, "keeping the tree head");
            break;
        }
    }
    buf_dispose(&kept);
    buf_dispose(&latest.msg);
    return rc;
}

/* checkRecord: record id's hash in the newest tree must be the hash of text. */
static int check_record(sumdb_client_t *c, int64_t id, slice_t text, cache_err_t *err)
{
    sumdb_tree_t latest;
    pthread_mutex_lock(&c->mu);
    latest = c->latest;
    pthread_mutex_unlock(&c->mu);
    if (id >= latest.n)
        return cache_err_set(err, -EPROTO, "cannot validate record %lld in tree of size %lld", (long long)id,
                             (long long)latest.n);
    tree_reader_t tr;
    sumdb_hash_reader_t hr;
    tree_reader_init(&tr, c, &latest, &hr);
    int64_t index = sumdb_stored_index(0, id);
    sumdb_hash_t stored, want;
    int rc = hr.read(hr.ctx, &index, 1, &stored, err);
    if (rc != 0)
        return rc;
    sumdb_hash_record(text.base, text.len, &want);
    if (memcmp(stored.b, want.b, SUMDB_HASH_SIZE) != 0)
        return cache_err_set(err, -EPROTO, "cannot authenticate record data in server response "
                                           "(record %lld is not what the signed tree holds)", (long long)id);
    return 0;
}

/* ---- the API ---- */

int sumdb_client_new(const sumdb_spec_t *spec, const sumdb_ops_t *ops, sumdb_client_t **out, cache_err_t *err)
{
    *out = NULL;
    if (spec->off)
        return cache_err_set(err, -EINVAL, "GOSUMDB=off has no database to ask");
    if (ops->read_remote == NULL || ops->read_latest == NULL || ops->write_latest == NULL)
        return cache_err_set(err, -EINVAL, "sumdb client: read_remote, read_latest and write_latest are required");
    sumdb_client_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    c->ops = *ops;
    int rc = sumdb_verifier_parse(spec->vkey, strlen(spec->vkey), &c->verifier, err);
    if (rc != 0) {
        free(c);
        return rc;
    }
    snprintf(c->name, sizeof c->name, "%s", c->verifier.name);
    pthread_mutex_init(&c->mu, NULL);

    buf_t kept = BUF_INIT;
    rc = ops->read_latest(ops->ctx, &kept, err);
    if (rc != 0)
        cache_err_prefix(err, rc, "sumdb %s: reading the kept tree head", c->name);
    else if ((rc = merge_latest(c, (slice_t){kept.base, kept.len}, err)) != 0)
        cache_err_prefix(err, rc, "sumdb %s: the kept tree head", c->name);
    buf_dispose(&kept);
    if (rc != 0) {
        sumdb_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void sumdb_client_free(sumdb_client_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->latest_msg);
    free(c);
}

void sumdb_client_latest(sumdb_client_t *c, int64_t *size, sumdb_hash_t *hash)
{
    pthread_mutex_lock(&c->mu);
    if (size)
        *size = c->latest.n;
    if (hash)
        *hash = c->latest.hash;
    pthread_mutex_unlock(&c->mu);
}

int sumdb_client_refresh(sumdb_client_t *c, cache_err_t *err)
{
    buf_t msg = BUF_INIT;
    int rc = c->ops.read_remote(c->ops.ctx, "latest", &msg, err);
    if (rc == 0)
        rc = merge_latest(c, (slice_t){msg.base, msg.len}, err);
    buf_dispose(&msg);
    return rc == 0 ? 0 : cache_err_prefix(err, rc, "sumdb %s: latest", c->name);
}

int sumdb_client_lookup(sumdb_client_t *c, const char *module, const char *version, sumdb_lines_t *out,
                        cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    char emod[SUMDB_LINE_MAX / 2], evers[256];
    if (modpath_escape(module, emod, sizeof emod) < 0 || modversion_escape(version, evers, sizeof evers) < 0)
        return cache_err_set(err, -EINVAL, "%.200s@%.100s: not a module path and version", module, version);
    char path[SUMDB_LINE_MAX];
    if (snprintf(path, sizeof path, "lookup/%s@%s", emod, evers) >= (int)sizeof path)
        return cache_err_set(err, -EINVAL, "%.200s@%.100s: too long", module, version);

    buf_t data = BUF_INIT;
    bool from_cache = false;
    int rc = 0;
    if (c->ops.read_cache && c->ops.read_cache(c->ops.ctx, path, &data) == 0)
        from_cache = true;
    if (!from_cache) {
        buf_reset(&data);
        rc = c->ops.read_remote(c->ops.ctx, path, &data, err);
        if (rc == -ENOENT)
            cache_err_set(err, rc, "not found in checksum database %s", c->name);
    }
    if (rc == 0 && data.len > SUMDB_BODY_MAX)
        rc = cache_err_set(err, -EPROTO, "answer of %zu bytes is too large", data.len);

    int64_t id = 0;
    slice_t text = {0}, rest = {0};
    if (rc == 0)
        rc = sumdb_record_parse(data.base, data.len, &id, &text, &rest, err);
    if (rc == 0)
        rc = merge_latest(c, rest, err);
    if (rc == 0)
        rc = check_record(c, id, text, err);
    if (rc == 0 && !from_cache && c->ops.write_cache)
        c->ops.write_cache(c->ops.ctx, path, (slice_t){data.base, data.len});
    if (rc == 0) {
        out->record = id;
        if (sumdb_record_find_h1(text, module, version, "", out->zip_h1, sizeof out->zip_h1) != 0 ||
            sumdb_record_find_h1(text, module, version, "/go.mod", out->gomod_h1, sizeof out->gomod_h1) != 0)
            rc = cache_err_set(err, -EPROTO, "record %lld of checksum database %s has no h1 lines for this version",
                               (long long)id, c->name);
    }
    if (rc == 0) {
        snprintf(out->zip_line, sizeof out->zip_line, "%s %s %s", module, version, out->zip_h1);
        snprintf(out->gomod_line, sizeof out->gomod_line, "%s %s/go.mod %s", module, version, out->gomod_h1);
    }
    buf_dispose(&data);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return cache_err_prefix(err, rc, "%.200s@%.100s", module, version);
    }
    return 0;
}

int sumdb_check(sumdb_client_t *c, const char *module, const char *version, const char *zip_h1,
                const char *gomod_h1, cache_err_t *err)
{
    sumdb_lines_t lines;
    int rc = sumdb_client_lookup(c, module, version, &lines, err);
    if (rc != 0)
        return rc;
    if (zip_h1 && strcmp(zip_h1, lines.zip_h1) != 0)
        return cache_err_set(err, -EBADMSG, "%.200s@%.100s: checksum mismatch: zip has %.60s, checksum database %s "
                                            "says %s", module, version, zip_h1, c->name, lines.zip_h1);
    if (gomod_h1 && strcmp(gomod_h1, lines.gomod_h1) != 0)
        return cache_err_set(err, -EBADMSG, "%.200s@%.100s: checksum mismatch: go.mod has %.60s, checksum database "
                                            "%s says %s", module, version, gomod_h1, c->name, lines.gomod_h1);
    return 0;
}

int sumdb_answer_check(const sumdb_spec_t *spec, const char *path, const uint8_t *body, size_t len,
                       cache_err_t *err)
{
    bool lookup = strncmp(path, "lookup/", 7) == 0;
    if (!lookup && strcmp(path, "latest") != 0)
        return 0; /* tiles: only a tree head can vouch for them */
    if (spec->off)
        return cache_err_set(err, -EINVAL, "GOSUMDB=off has no key to check with");
    if (len > SUMDB_BODY_MAX)
        return cache_err_set(err, -EPROTO, "%s: answer of %zu bytes is too large", path, len);
    sumdb_verifier_t v;
    int rc = sumdb_verifier_parse(spec->vkey, strlen(spec->vkey), &v, err);
    if (rc != 0)
        return rc;
    slice_t note = {body, len}, text;
    if (lookup) {
        int64_t id;
        slice_t record;
        if ((rc = sumdb_record_parse(body, len, &id, &record, &note, err)) != 0)
            return cache_err_prefix(err, rc, "%s", path);
    }
    if ((rc = sumdb_note_open(note.base, note.len, &v, &text, err)) != 0)
        return cache_err_prefix(err, rc, "%s: tree note of checksum database %s", path, v.name);
    sumdb_tree_t tree;
    rc = sumdb_tree_parse(text.base, text.len, &tree, err);
    return rc == 0 ? 0 : cache_err_prefix(err, rc, "%s: tree of checksum database %s", path, v.name);
}
