/* SPDX-License-Identifier: MIT */
/*
 * tlog.c — the transparency log's arithmetic (golang.org/x/mod/sumdb/tlog/tlog.go): record and
 * node hashes, where each stored hash sits, the hash of a tree, and proofs that a record is in a
 * tree or that one tree is a prefix of another.
 *
 * The log is a Merkle tree over records kept as a flat list of "stored hashes" (each record's
 * hash followed by the hashes of the complete subtrees it closes). Proofs name the stored hashes
 * they need; the hashes come from a reader — in the client, the tile reader, which proves every
 * hash it hands out against a signed tree head. Sizes are limited to SUMDB_TREE_MAX so that no
 * index arithmetic can overflow; Go's "bad math" panics are errors here, as a fuzzer must never
 * be able to crash the process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sumdb_i.h"

static void sha256_two(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, sumdb_hash_t *out)
{
    /* EVP_Digest-style one-shot over two pieces; SHA-256 with EVP cannot fail short of memory,
     * and then the zero hash that results matches nothing signed. */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, a, alen) != 1 ||
        (blen && EVP_DigestUpdate(md, b, blen) != 1) || EVP_DigestFinal_ex(md, out->b, &n) != 1)
        memset(out->b, 0, sizeof out->b);
    EVP_MD_CTX_free(md);
}

void sumdb_hash_record(const uint8_t *data, size_t len, sumdb_hash_t *out)
{
    static const uint8_t zero = 0x00;
    sha256_two(&zero, 1, data, len, out);
}

void sumdb_hash_node(const sumdb_hash_t *l, const sumdb_hash_t *r, sumdb_hash_t *out)
{
    uint8_t buf[1 + 2 * SUMDB_HASH_SIZE];
    buf[0] = 0x01;
    memcpy(buf + 1, l->b, SUMDB_HASH_SIZE);
    memcpy(buf + 1 + SUMDB_HASH_SIZE, r->b, SUMDB_HASH_SIZE);
    sha256_two(buf, sizeof buf, NULL, 0, out);
}

/* maxpow2: the largest power of two k < n (k = 1 when n <= 2), and its log2. */
static int64_t maxpow2(int64_t n, int *level)
{
    int l = 0;
    while (l < 62 && ((int64_t)1 << (l + 1)) < n)
        l++;
    if (level)
        *level = l;
    return (int64_t)1 << l;
}

int64_t sumdb_stored_index(int level, int64_t n)
{
    /* Unsigned arithmetic: callers keep n within the tree, but a wrapped value must not be UB. */
    uint64_t u = (uint64_t)n;
    for (int l = level; l > 0; l--)
        u = 2 * u + 1;
    uint64_t i = 0;
    for (; u > 0; u >>= 1)
        i += u;
    return (int64_t)(i + (uint64_t)level);
}

void sumdb_stored_split(int64_t index, int *level, int64_t *n)
{
    int64_t m = index / 2;
    int64_t index_n = sumdb_stored_index(0, m);
    for (;;) {
        int64_t x = index_n + 1 + __builtin_ctzll((unsigned long long)(m + 1));
        if (x > index)
            break;
        m++;
        index_n = x;
    }
    *level = (int)(index - index_n);
    *n = m >> *level;
}

int64_t sumdb_stored_count(int64_t n)
{
    if (n == 0)
        return 0;
    int64_t count = sumdb_stored_index(0, n - 1) + 1;
    for (uint64_t i = (uint64_t)(n - 1); i & 1; i >>= 1)
        count++;
    return count;
}

int sumdb_stored_hashes(int64_t n, const sumdb_hash_t *h, const sumdb_hash_reader_t *r, sumdb_hash_t *out,
                        size_t *count, cache_err_t *err)
{
    if (n < 0 || n >= SUMDB_TREE_MAX)
        return cache_err_set(err, -EINVAL, "record number %lld out of range", (long long)n);
    int m = __builtin_ctzll((unsigned long long)(n + 1));
    int64_t indexes[64];
    sumdb_hash_t old[64];
    for (int i = 0; i < m; i++)
        indexes[m - 1 - i] = sumdb_stored_index(i, (n >> i) - 1);
    if (m > 0) {
        int rc = r->read(r->ctx, indexes, (size_t)m, old, err);
        if (rc != 0)
            return rc;
    }
    out[0] = *h;
    for (int i = 0; i < m; i++)
        sumdb_hash_node(&old[m - 1 - i], &out[i], &out[i + 1]);
    *count = (size_t)m + 1;
    return 0;
}

/* ---- index lists: which stored hashes a computation needs ---- */

typedef struct idx_list {
    int64_t *v;
    size_t len, cap;
    bool failed; /* out of memory or bad math: the computation gives up */
} idx_list_t;

static void idx_push(idx_list_t *l, int64_t x)
{
    if (l->failed)
        return;
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL) {
            l->failed = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->len++] = x;
}

/* subTreeIndex: the stored hashes of the complete subtrees covering [lo, hi). */
static void subtree_index(int64_t lo, int64_t hi, idx_list_t *need)
{
    while (lo < hi && !need->failed) {
        int level;
        int64_t k = maxpow2(hi - lo + 1, &level);
        if ((lo & (k - 1)) != 0) {
            need->failed = true;
            return;
        }
        idx_push(need, sumdb_stored_index(level, lo >> level));
        lo += k;
    }
}

/* A cursor over the hashes read for an index list, consumed in the same order. */
typedef struct hash_cursor {
    const sumdb_hash_t *h;
    size_t len;
    bool failed;
} hash_cursor_t;

/* subTreeHash: the hash of [lo, hi) from the next hashes of the cursor. */
static void subtree_hash(int64_t lo, int64_t hi, hash_cursor_t *c, sumdb_hash_t *out)
{
    size_t ntree = 0;
    while (lo < hi) {
        int64_t k = maxpow2(hi - lo + 1, NULL);
        if ((lo & (k - 1)) != 0) {
            c->failed = true;
            break;
        }
        ntree++;
        lo += k;
    }
    if (c->failed || ntree == 0 || c->len < ntree) {
        c->failed = true;
        memset(out, 0, sizeof *out);
        return;
    }
    sumdb_hash_t h = c->h[ntree - 1];
    for (size_t i = ntree - 1; i-- > 0;)
        sumdb_hash_node(&c->h[i], &h, &h);
    *out = h;
    c->h += ntree;
    c->len -= ntree;
}

static int read_all(const sumdb_hash_reader_t *r, const idx_list_t *need, sumdb_hash_t **hashes, cache_err_t *err)
{
    *hashes = NULL;
    if (need->failed)
        return cache_err_set(err, -ENOMEM, "tlog: cannot list the hashes needed");
    if (need->len == 0)
        return 0;
    *hashes = calloc(need->len, sizeof **hashes);
    if (*hashes == NULL)
        return cache_err_set(err, -ENOMEM, "tlog: out of memory");
    int rc = r->read(r->ctx, need->v, need->len, *hashes, err);
    if (rc != 0) {
        free(*hashes);
        *hashes = NULL;
    }
    return rc;
}

int sumdb_tree_hash(int64_t n, const sumdb_hash_reader_t *r, sumdb_hash_t *out, cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (n < 0 || n > SUMDB_TREE_MAX)
        return cache_err_set(err, -EINVAL, "tlog: tree size %lld out of range", (long long)n);
    if (n == 0)
        return 0;
    idx_list_t need = {0};
    subtree_index(0, n, &need);
    sumdb_hash_t *hashes;
    int rc = read_all(r, &need, &hashes, err);
    if (rc == 0) {
        hash_cursor_t c = {hashes, need.len, false};
        subtree_hash(0, n, &c, out);
        if (c.failed || c.len != 0)
            rc = cache_err_set(err, -EPROTO, "tlog: bad index math in tree hash");
    }
    free(hashes);
    free(need.v);
    return rc;
}

/* ---- record proofs ---- */

static void leaf_proof_index(int64_t lo, int64_t hi, int64_t n, idx_list_t *need)
{
    if (!(lo <= n && n < hi)) {
        need->failed = true;
        return;
    }
    if (lo + 1 == hi)
        return;
    int64_t k = maxpow2(hi - lo, NULL);
    if (n < lo + k) {
        leaf_proof_index(lo, lo + k, n, need);
        subtree_index(lo + k, hi, need);
    } else {
        subtree_index(lo, lo + k, need);
        leaf_proof_index(lo + k, hi, n, need);
    }
}

typedef struct proof {
    sumdb_hash_t *h;
    size_t len;
    bool failed;
} proof_t;

static void proof_push(proof_t *p, const sumdb_hash_t *h)
{
    if (p->len >= SUMDB_PROOF_MAX) {
        p->failed = true;
        return;
    }
    p->h[p->len++] = *h;
}

static void leaf_proof(int64_t lo, int64_t hi, int64_t n, hash_cursor_t *c, proof_t *p)
{
    if (!(lo <= n && n < hi)) {
        c->failed = true;
        return;
    }
    if (lo + 1 == hi)
        return;
    sumdb_hash_t th;
    int64_t k = maxpow2(hi - lo, NULL);
    if (n < lo + k) {
        leaf_proof(lo, lo + k, n, c, p);
        subtree_hash(lo + k, hi, c, &th);
    } else {
        subtree_hash(lo, lo + k, c, &th);
        leaf_proof(lo + k, hi, n, c, p);
    }
    proof_push(p, &th);
}

int sumdb_prove_record(int64_t t, int64_t n, const sumdb_hash_reader_t *r, sumdb_hash_t *proof, size_t *len,
                       cache_err_t *err)
{
    *len = 0;
    if (t < 0 || n < 0 || n >= t || t > SUMDB_TREE_MAX)
        return cache_err_set(err, -EINVAL, "tlog: invalid inputs in record proof");
    idx_list_t need = {0};
    leaf_proof_index(0, t, n, &need);
    sumdb_hash_t *hashes;
    int rc = read_all(r, &need, &hashes, err);
    if (rc == 0 && need.len > 0) {
        hash_cursor_t c = {hashes, need.len, false};
        proof_t p = {proof, 0, false};
        leaf_proof(0, t, n, &c, &p);
        if (c.failed || p.failed || c.len != 0)
            rc = cache_err_set(err, -EPROTO, "tlog: bad index math in record proof");
        else
            *len = p.len;
    }
    free(hashes);
    free(need.v);
    return rc;
}

/* runRecordProof: the hash of [lo, hi) from a proof (its last entry is used first). */
static int run_record_proof(const sumdb_hash_t *p, size_t len, int64_t lo, int64_t hi, int64_t n,
                            const sumdb_hash_t *leaf, sumdb_hash_t *out)
{
    if (!(lo <= n && n < hi))
        return -EPROTO;
    if (lo + 1 == hi) {
        if (len != 0)
            return -EPROTO;
        *out = *leaf;
        return 0;
    }
    if (len == 0)
        return -EPROTO;
    int64_t k = maxpow2(hi - lo, NULL);
    sumdb_hash_t th;
    if (n < lo + k) {
        int rc = run_record_proof(p, len - 1, lo, lo + k, n, leaf, &th);
        if (rc != 0)
            return rc;
        sumdb_hash_node(&th, &p[len - 1], out);
    } else {
        int rc = run_record_proof(p, len - 1, lo + k, hi, n, leaf, &th);
        if (rc != 0)
            return rc;
        sumdb_hash_node(&p[len - 1], &th, out);
    }
    return 0;
}

int sumdb_check_record(const sumdb_hash_t *proof, size_t len, int64_t t, const sumdb_hash_t *th, int64_t n,
                       const sumdb_hash_t *h, cache_err_t *err)
{
    if (t < 0 || n < 0 || n >= t || t > SUMDB_TREE_MAX)
        return cache_err_set(err, -EINVAL, "tlog: invalid inputs in record check");
    sumdb_hash_t th2;
    if (run_record_proof(proof, len, 0, t, n, h, &th2) != 0 || memcmp(th2.b, th->b, SUMDB_HASH_SIZE) != 0)
        return cache_err_set(err, -EPROTO, "invalid transparency proof");
    return 0;
}

/* ---- tree proofs ---- */

static void tree_proof_index(int64_t lo, int64_t hi, int64_t n, idx_list_t *need)
{
    if (!(lo < n && n <= hi)) {
        need->failed = true;
        return;
    }
    if (n == hi) {
        if (lo != 0)
            subtree_index(lo, hi, need);
        return;
    }
    int64_t k = maxpow2(hi - lo, NULL);
    if (n <= lo + k) {
        tree_proof_index(lo, lo + k, n, need);
        subtree_index(lo + k, hi, need);
    } else {
        subtree_index(lo, lo + k, need);
        tree_proof_index(lo + k, hi, n, need);
    }
}

static void tree_proof(int64_t lo, int64_t hi, int64_t n, hash_cursor_t *c, proof_t *p)
{
    if (!(lo < n && n <= hi)) {
        c->failed = true;
        return;
    }
    sumdb_hash_t th;
    if (n == hi) {
        if (lo != 0) {
            subtree_hash(lo, hi, c, &th);
            proof_push(p, &th);
        }
        return;
    }
    int64_t k = maxpow2(hi - lo, NULL);
    if (n <= lo + k) {
        tree_proof(lo, lo + k, n, c, p);
        subtree_hash(lo + k, hi, c, &th);
    } else {
        subtree_hash(lo, lo + k, c, &th);
        tree_proof(lo + k, hi, n, c, p);
    }
    proof_push(p, &th);
}

int sumdb_prove_tree(int64_t t, int64_t n, const sumdb_hash_reader_t *r, sumdb_hash_t *proof, size_t *len,
                     cache_err_t *err)
{
    *len = 0;
    if (t < 1 || n < 1 || n > t || t > SUMDB_TREE_MAX)
        return cache_err_set(err, -EINVAL, "tlog: invalid inputs in tree proof");
    idx_list_t need = {0};
    tree_proof_index(0, t, n, &need);
    sumdb_hash_t *hashes;
    int rc = read_all(r, &need, &hashes, err);
    if (rc == 0 && need.len > 0) {
        hash_cursor_t c = {hashes, need.len, false};
        proof_t p = {proof, 0, false};
        tree_proof(0, t, n, &c, &p);
        if (c.failed || p.failed || c.len != 0)
            rc = cache_err_set(err, -EPROTO, "tlog: bad index math in tree proof");
        else
            *len = p.len;
    }
    free(hashes);
    free(need.v);
    return rc;
}

/* runTreeProof: the hashes of the old tree [0, n) and of [lo, hi) from a proof. */
static int run_tree_proof(const sumdb_hash_t *p, size_t len, int64_t lo, int64_t hi, int64_t n,
                          const sumdb_hash_t *old, sumdb_hash_t *oh, sumdb_hash_t *th)
{
    if (!(lo < n && n <= hi))
        return -EPROTO;
    if (n == hi) {
        if (lo == 0) {
            if (len != 0)
                return -EPROTO;
            *oh = *old;
            *th = *old;
            return 0;
        }
        if (len != 1)
            return -EPROTO;
        *oh = p[0];
        *th = p[0];
        return 0;
    }
    if (len == 0)
        return -EPROTO;
    int64_t k = maxpow2(hi - lo, NULL);
    sumdb_hash_t o, t;
    if (n <= lo + k) {
        int rc = run_tree_proof(p, len - 1, lo, lo + k, n, old, &o, &t);
        if (rc != 0)
            return rc;
        *oh = o;
        sumdb_hash_node(&t, &p[len - 1], th);
    } else {
        int rc = run_tree_proof(p, len - 1, lo + k, hi, n, old, &o, &t);
        if (rc != 0)
            return rc;
        sumdb_hash_node(&p[len - 1], &o, oh);
        sumdb_hash_node(&p[len - 1], &t, th);
    }
    return 0;
}

int sumdb_check_tree(const sumdb_hash_t *proof, size_t len, int64_t t, const sumdb_hash_t *th, int64_t n,
                     const sumdb_hash_t *h, cache_err_t *err)
{
    if (t < 1 || n < 1 || n > t || t > SUMDB_TREE_MAX)
        return cache_err_set(err, -EINVAL, "tlog: invalid inputs in tree check");
    sumdb_hash_t h2, th2;
    if (run_tree_proof(proof, len, 0, t, n, h, &h2, &th2) != 0 || memcmp(th2.b, th->b, SUMDB_HASH_SIZE) != 0 ||
        memcmp(h2.b, h->b, SUMDB_HASH_SIZE) != 0)
        return cache_err_set(err, -EPROTO, "invalid transparency proof");
    return 0;
}
