/* SPDX-License-Identifier: MIT */
/*
 * sumdb.h — a client of a Go checksum database (sum.golang.org and its kind), verifying what it
 * says exactly as golang.org/x/mod/sumdb's Client does: the tree head's note signature against the
 * database's Ed25519 key, each record's inclusion in that tree through the tiles' hashes, and
 * every newer tree head's consistency with the last one kept.
 *
 * The library does no I/O of its own: bytes come from the caller's callbacks (sumdb_ops_t), so
 * it knows nothing of HTTP, files or the store.
 *
 * Errors: every function returns 0 or a negative errno, and fills a cache_err_t (may be NULL)
 * with one line saying what failed. The errnos mean:
 *   -EINVAL           bad argument: a GOSUMDB value, key, module path or version, tile path.
 *   -ENOENT           the database has no such record (read_remote said -ENOENT).
 *   -EPROTO           the database's answer does not parse or does not verify: a bad or missing
 *                     signature, a malformed note, record or tile, a record not in the tree.
 *   -ENOTRECOVERABLE  SECURITY ERROR: the database served a tree head inconsistent with the one
 *                     kept (a forked log). Nothing it says is trusted until an operator looks.
 *   -EBADMSG          sumdb_check only: the hashes given differ from the database's ("checksum
 *                     mismatch", both hashes named).
 *   -ENOMEM, and whatever a callback returns (e.g. -EIO, -ETIMEDOUT from read_remote).
 *
 * Threads: sumdb_spec_parse and the tile path functions are pure. A sumdb_client_t may be used by
 * any number of threads at once (lookups run in parallel; the latest tree head is guarded by a
 * mutex held only to read or swap it, never across a callback). The callbacks may therefore be
 * called from several threads at once and must be safe for that.
 */
#ifndef MODFS_SUMDB_H
#define MODFS_SUMDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "gomod.h"

#define SUMDB_VKEY_MAX 400   /* NAME+HASH+BASE64 */
#define SUMDB_URL_MAX 1024
#define SUMDB_HASH_B64_MAX 64 /* "h1:" + base64 of a SHA-256, with room to spare */
#define SUMDB_LINE_MAX 2400  /* "<module> <version>/go.mod h1:..." for the longest module path */

/* The verifier key of sum.golang.org, as the go command knows it (cmd/go/internal/modfetch). */
#define SUMDB_GOLANG_VKEY "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

/* ---- GOSUMDB values ---- */

typedef struct sumdb_spec {
    bool off;                            /* GOSUMDB=off: no checks; the fields below are empty */
    char name[SUMDB_NAME_MAX + 1];       /* the database name, e.g. "sum.golang.org" */
    char vkey[SUMDB_VKEY_MAX + 1];       /* the full verifier key NAME+HASH+KEY */
    char url[SUMDB_URL_MAX + 1];         /* base URL without trailing '/': the one given, else https://NAME */
    bool url_given;                      /* the value named a URL (go then bypasses GOPROXY) */
} sumdb_spec_t;

/*
 * Parses a GOSUMDB value as the go command does: "off"; a known name alone ("sum.golang.org",
 * or "sum.golang.google.cn" meaning sum.golang.org's key at https://sum.golang.google.cn);
 * "NAME+HASH+KEY" or "NAME+HASH+KEY URL". The key's hash (first 4 bytes of SHA-256 over name,
 * "\n", key bytes) and algorithm (1 = Ed25519) are checked, and the name must be host[/path].
 * Returns 0 or -EINVAL, with err saying what is wrong ("invalid GOSUMDB: ...").
 */
int sumdb_spec_parse(const char *value, sumdb_spec_t *out, cache_err_t *err);

/* ---- tiles ---- */

typedef struct sumdb_hash {
    uint8_t b[SUMDB_HASH_SIZE];
} sumdb_hash_t;

/* Tiles (sumdb_tile_t), their paths, the database names and the size limits of answers are
 * names a client sends, so they are Go rules of gomod.h (sumdbpath.c). */

/* ---- the client ---- */

/*
 * What the client asks of its owner. Every callback gets ctx first and may be called from
 * several threads at once. Paths are relative to the database's base URL, without a leading
 * '/': "lookup/<escaped module>@<escaped version>", "tile/8/0/x001/234[.p/W]", "latest".
 */
typedef struct sumdb_ops {
    void *ctx;
    /* Required. Fetches path from the database into out (empty on entry). Returns 0, -ENOENT for
     * an answer of "not found" (HTTP 404 or 410), or another -errno (with words in err) for any
     * other failure. Bodies over SUMDB_BODY_MAX are refused by the client anyway. */
    int (*read_remote)(void *ctx, const char *path, buf_t *out, cache_err_t *err);
    /* Required. Reads the latest signed tree head kept for this database into out (empty on
     * entry); empty means none kept yet. Must survive restarts: it is what a newer head is checked
     * against. 0 or -errno. */
    int (*read_latest)(void *ctx, buf_t *out, cache_err_t *err);
    /* Required. Replaces the kept head old (empty: none) with new, atomically, and only if what is
     * kept is still old; otherwise returns -EAGAIN and the client reads, merges and tries again. */
    int (*write_latest)(void *ctx, slice_t old, slice_t new_head, cache_err_t *err);
    /* Optional (NULL: no cache). Reads a cached tile or lookup written before by write_cache;
     * -ENOENT (or any error) means not cached. What comes back is verified again before use. */
    int (*read_cache)(void *ctx, const char *path, buf_t *out);
    /* Optional. Called only with data that has just been verified: a tile proven against a signed
     * tree head, or a lookup answer whose record was proven in its tree. Full tiles never change;
     * partial tiles and lookups are superseded as the log grows (a partial tile stays a valid
     * prefix forever, a lookup answer's tree head ages). */
    void (*write_cache)(void *ctx, const char *path, slice_t data);
    /* Optional. Gets the full multi-line report of a SECURITY ERROR (both tree heads and the proof
     * of the inconsistency) to log or keep; the lookup then fails with -ENOTRECOVERABLE. */
    void (*security_error)(void *ctx, const char *report);
} sumdb_ops_t;

typedef struct sumdb_client sumdb_client_t;

/*
 * Makes a client for the database spec names (spec->off is -EINVAL) with ops (copied; ops->ctx
 * must outlive the client). Reads the kept tree head through read_latest and checks its
 * signature: a kept head that does not verify (another key, a damaged file) fails with -EPROTO.
 * No remote reads. Returns 0 and *out, to be freed with sumdb_client_free.
 */
int sumdb_client_new(const sumdb_spec_t *spec, const sumdb_ops_t *ops, sumdb_client_t **out, cache_err_t *err);
/* Frees the client; no call on it may be running. NULL is fine. */
void sumdb_client_free(sumdb_client_t *c);

/* What the database says for one module version: its two go.sum lines and their h1 hashes. */
typedef struct sumdb_lines {
    char zip_line[SUMDB_LINE_MAX];            /* "<module> <version> h1:..." */
    char gomod_line[SUMDB_LINE_MAX];          /* "<module> <version>/go.mod h1:..." */
    char zip_h1[SUMDB_HASH_B64_MAX + 1];      /* "h1:..." of the module zip */
    char gomod_h1[SUMDB_HASH_B64_MAX + 1];    /* "h1:..." of the go.mod */
    int64_t record;                           /* the record's number in the log */
} sumdb_lines_t;

/*
 * Client.Lookup: fetches "lookup/<module>@<version>" (read_cache first when set), then checks
 * the signature of the tree head it carries, that head's consistency with the kept one (moving the
 * kept head forward through write_latest when it is newer), and the record's inclusion in the
 * newest head through its tiles; only then fills *out. module and version are unescaped
 * ("github.com/BurntSushi/toml", "v1.2.3"). A record without both h1 lines for this version is
 * -EPROTO. Other errors as in the header's opening comment.
 */
int sumdb_client_lookup(sumdb_client_t *c, const char *module, const char *version, sumdb_lines_t *out,
                        cache_err_t *err);

/*
 * Looks module@version up (as sumdb_client_lookup) and compares: zip_h1 and gomod_h1 ("h1:...",
 * either may be NULL to skip it) must equal the database's. Returns 0; -EBADMSG with
 * "checksum mismatch" and both hashes in err when one differs; or the lookup's error.
 */
int sumdb_check(sumdb_client_t *c, const char *module, const char *version, const char *zip_h1,
                const char *gomod_h1, cache_err_t *err);

/*
 * Fetches "latest" and merges it as a lookup's tree head is merged (signature, consistency, kept
 * head moved forward). Not needed for lookups (the go command never asks for it); useful to move
 * the kept head on or to check a database is well. 0 or -errno as above.
 */
int sumdb_client_refresh(sumdb_client_t *c, cache_err_t *err);

/*
 * What can be checked of an answer of the database of spec alone, with no tile and no kept head:
 * for "latest" and for a lookup (path as in sumdb_ops_t), that it is well formed and its tree
 * head is signed with the database's key. For a proxy before it keeps or passes an answer on, and
 * for a kept head before a client is made from it (sumdb_client_new checks this first, then reads
 * tiles). Whether a head is consistent with the kept one, and a record in the tree, need tiles:
 * sumdb_client_lookup proves those. Tiles pass (0): only a tree head vouches for them. 0, or
 * -EPROTO (-EINVAL for spec "off") with err. Pure, any thread.
 */
int sumdb_answer_check(const sumdb_spec_t *spec, const char *path, const uint8_t *body, size_t len,
                       cache_err_t *err);

/* The size and hash of the newest tree head the client has verified (0 for none yet). */
void sumdb_client_latest(sumdb_client_t *c, int64_t *size, sumdb_hash_t *hash);

#endif
