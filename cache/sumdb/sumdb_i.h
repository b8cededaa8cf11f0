/* SPDX-License-Identifier: MIT */
/*
 * sumdb_i.h — the pieces of the checksum-database client that only cache/sumdb/ uses: base64 and
 * UTF-8 as Go reads them, signed notes, the transparency log's hashing and proofs (tlog), and the
 * reader that proves hashes out of tiles. Each piece lives in its own file and is tested alone;
 * none of them does I/O: hashes and tiles arrive through the reader callbacks declared here.
 *
 * Every function is pure (or calls only the callbacks it is given) and safe to call from any
 * thread. Data from the database that does not parse or verify gives -EPROTO and words in err;
 * a size a caller got wrong gives -EINVAL.
 */
#ifndef MODFS_SUMDB_I_H
#define MODFS_SUMDB_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sumdb.h"

/* ---- encoding.c: base64 (Go's StdEncoding) ---- */

/* Length of the padded base64 text of n bytes. */
#define SUMDB_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Decodes padded standard base64 (Go's base64.StdEncoding: '=' padding required, no whitespace;
 * unused trailing bits are ignored, as Go does). Writes at most cap bytes; with out NULL only
 * checks and counts. Returns the number of bytes decoded, or -EPROTO for text that is not base64
 * or decodes to more than cap bytes. */
int sumdb_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap);
/* Encodes len bytes as padded base64 plus a NUL; out holds SUMDB_B64_LEN(len) + 1 bytes. */
void sumdb_b64_encode(const uint8_t *data, size_t len, char *out);

/* unicode.IsSpace. */
bool sumdb_rune_is_space(int32_t r);

/* ---- note.c: verifier keys and signed notes (golang.org/x/mod/sumdb/note) ---- */

#define SUMDB_ALG_ED25519 1

typedef struct sumdb_verifier {
    char name[SUMDB_NAME_MAX + 1];
    uint32_t hash;      /* first 4 bytes, big-endian, of SHA-256(name "\n" alg key) */
    uint8_t key[32];    /* Ed25519 public key */
} sumdb_verifier_t;

/* A key name as note accepts it: non-empty, valid UTF-8, no Unicode space, no '+'. */
bool sumdb_note_name_valid(const char *name, size_t len);

/* Parses a verifier key "NAME+HASH+BASE64(alg||key)" (note.NewVerifier): checks the hex hash
 * against the key, and the algorithm byte (1 = Ed25519, 32 key bytes). -EINVAL with err naming
 * what is wrong. */
int sumdb_verifier_parse(const char *vkey, size_t len, sumdb_verifier_t *out, cache_err_t *err);

/*
 * note.Open with one known verifier: msg must be valid UTF-8 without control characters other
 * than '\n', end with a signature block after a blank line, every signature line well formed
 * ("— NAME BASE64(hash4||sig)", at most 100), and carry a valid Ed25519 signature by v over the
 * text. Signatures by other keys are skipped; a signature naming v's name and hash that does not
 * verify fails the note. On success *text is msg's text (up to and including the newline before
 * the blank line). -EPROTO otherwise.
 */
int sumdb_note_open(const uint8_t *msg, size_t len, const sumdb_verifier_t *v, slice_t *text,
                    cache_err_t *err);

/* ---- tlog.c: hashing, stored-hash indexes, tree hashes and proofs (tlog/tlog.go) ---- */

/* Largest tree size accepted: keeps every stored-hash index inside int64_t. */
#define SUMDB_TREE_MAX ((int64_t)1 << 62)
/* A record or tree proof holds one hash per level of a tree at most SUMDB_TREE_MAX big. */
#define SUMDB_PROOF_MAX 128

typedef struct sumdb_tree {
    int64_t n;
    sumdb_hash_t hash;
} sumdb_tree_t;

/* A HashReader: fills out[i] with the stored hash at indexes[i], for i < n. 0 or -errno. */
typedef struct sumdb_hash_reader {
    int (*read)(void *ctx, const int64_t *indexes, size_t n, sumdb_hash_t *out, cache_err_t *err);
    void *ctx;
} sumdb_hash_reader_t;

void sumdb_hash_record(const uint8_t *data, size_t len, sumdb_hash_t *out); /* SHA-256(0x00 || data) */
void sumdb_hash_node(const sumdb_hash_t *l, const sumdb_hash_t *r, sumdb_hash_t *out); /* SHA-256(0x01||l||r) */

/* StoredHashIndex: where the level-`level` hash of the n-th subtree sits in the stored order. */
int64_t sumdb_stored_index(int level, int64_t n);
/* SplitStoredHashIndex, its inverse. index >= 0. */
void sumdb_stored_split(int64_t index, int *level, int64_t *n);
/* StoredHashCount: how many hashes a tree of n records stores. */
int64_t sumdb_stored_count(int64_t n);
/* StoredHashesForRecordHash: the hashes to append when record n (hash h) joins the tree: at most
 * 64; *count gets how many. Reads the earlier ones it needs through r. */
int sumdb_stored_hashes(int64_t n, const sumdb_hash_t *h, const sumdb_hash_reader_t *r, sumdb_hash_t *out,
                        size_t *count, cache_err_t *err);

/* TreeHash: the hash of the tree of the first n records. */
int sumdb_tree_hash(int64_t n, const sumdb_hash_reader_t *r, sumdb_hash_t *out, cache_err_t *err);
/* ProveRecord / CheckRecord: record n is in the tree of size t with hash th. A proof holds at
 * most SUMDB_PROOF_MAX hashes. Check returns 0 or -EPROTO ("invalid transparency proof"). */
int sumdb_prove_record(int64_t t, int64_t n, const sumdb_hash_reader_t *r, sumdb_hash_t *proof, size_t *len,
                       cache_err_t *err);
int sumdb_check_record(const sumdb_hash_t *proof, size_t len, int64_t t, const sumdb_hash_t *th, int64_t n,
                       const sumdb_hash_t *h, cache_err_t *err);
/* ProveTree / CheckTree: the tree of size n (hash h) is a prefix of the tree of size t (hash th). */
int sumdb_prove_tree(int64_t t, int64_t n, const sumdb_hash_reader_t *r, sumdb_hash_t *proof, size_t *len,
                     cache_err_t *err);
int sumdb_check_tree(const sumdb_hash_t *proof, size_t len, int64_t t, const sumdb_hash_t *th, int64_t n,
                     const sumdb_hash_t *h, cache_err_t *err);

/* ---- tile.c: tiles and the reader that proves hashes out of them (tlog/tile.go) ---- */

/* tileForIndex: the smallest tile holding stored hash index, and where in its data. */
sumdb_tile_t sumdb_tile_for_index(int h, int64_t index, size_t *start, size_t *end);
/* HashFromTile: the stored hash `index` from tile t's data. -EPROTO when data is short or index
 * is not in t. */
int sumdb_tile_hash_at(const sumdb_tile_t *t, const uint8_t *data, size_t len, int64_t index, sumdb_hash_t *out,
                       cache_err_t *err);

/* What the tile hash reader asks its owner for. read fills data[i] with tiles[i]'s bytes, for
 * i < n (each data[i] starts empty); save is told of the tiles once they are proven (optional). */
typedef struct sumdb_tile_source {
    int height;
    int (*read)(void *ctx, const sumdb_tile_t *tiles, size_t n, buf_t *data, bool *cached, cache_err_t *err);
    void (*save)(void *ctx, const sumdb_tile_t *tiles, size_t n, const buf_t *data, const bool *cached);
    void *ctx;
} sumdb_tile_source_t;

/*
 * TileHashReader(tree, src).ReadHashes: reads the tiles that hold the wanted hashes and the
 * tree's top-level subtree hashes, checks that those hash up to tree->hash and that each lower
 * tile hashes to the entry of its parent, and only then hands out hashes. Tiles that do not prove
 * give -EPROTO ("downloaded inconsistent tile"); an index outside the tree gives -EINVAL.
 */
int sumdb_tile_read_hashes(const sumdb_tree_t *tree, const sumdb_tile_source_t *src, const int64_t *indexes,
                           size_t n, sumdb_hash_t *out, cache_err_t *err);

/* ---- record.c: tree notes, records and lookup answers (tlog/note.go) ---- */

/* ParseTree: "go.sum database tree\n<N>\n<base64 hash>\n" (more lines allowed after). */
int sumdb_tree_parse(const uint8_t *text, size_t len, sumdb_tree_t *out, cache_err_t *err);
/* ParseRecord: "<id>\n<record text>\n" then the rest (a lookup answer's signed tree note).
 * The text must be valid record text: UTF-8, no control but '\n', no blank line, ends in '\n'. */
int sumdb_record_parse(const uint8_t *msg, size_t len, int64_t *id, slice_t *text, slice_t *rest,
                       cache_err_t *err);
/* Finds in record text the h1 line "<module> <version><suffix> h1:..." and copies its hash. */
int sumdb_record_find_h1(slice_t text, const char *module, const char *version, const char *suffix,
                         char *hash, size_t cap);

#endif
