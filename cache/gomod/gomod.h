/* SPDX-License-Identifier: MIT */
/*
 * gomod.h — Go's rules, in one place: module paths and versions, GOPROXY keys, the GOMODCACHE
 * layout, module zips and their h1 hash, and the small GOPROXY bodies.
 *
 * Everything here mirrors golang.org/x/mod (module, semver, zip, sumdb/dirhash) and the go
 * command's modfetch so that modfs accepts exactly what the go command accepts; a name that fails
 * is rejected with go's reason and never becomes a path on the local disk. Neither front
 * re-implements any of it: fs/ asks modcache_lookup what a name is, http/ asks modkey_parse.
 * All functions are pure (no I/O, no shared state) and thread-safe.
 */
#ifndef MODFS_GOMOD_H
#define MODFS_GOMOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* ---- semantic versions (semver.c): golang.org/x/mod/semver and module.IsPseudoVersion ----- */

bool semver_is_valid(const char *v);
/* valid and semver.Canonical(v) == v (no "+meta" except +incompatible handled by module.Check) */
bool semver_is_canonical(const char *v);
/* <0, 0, >0; invalid sorts before valid, as semver.Compare */
int semver_compare(const char *a, const char *b);
bool semver_is_prerelease(const char *v);
bool semver_is_pseudo(const char *v); /* module.IsPseudoVersion */

/* ---- module paths and versions (modpath.c): golang.org/x/mod/module ---------------------- */

/* module.EscapePath / UnescapePath. Return the length written (NUL-terminated) or -EINVAL / -ENAMETOOLONG. */
int modpath_escape(const char *path, char *out, size_t cap);
int modpath_unescape(const char *escaped, size_t len, char *out, size_t cap, cache_err_t *err);
/* module.EscapeVersion / UnescapeVersion. */
int modversion_escape(const char *version, char *out, size_t cap);
int modversion_unescape(const char *escaped, size_t len, char *out, size_t cap, cache_err_t *err);

/* module.CheckPath: a module path. 0 or -EINVAL. */
int modpath_check(const char *path, cache_err_t *err);
/* module.CheckImportPath. */
int modpath_check_import(const char *path, cache_err_t *err);
/* module.CheckFilePath: a file path inside a module zip (after the "<module>@<version>/" prefix). */
int modpath_check_file(const char *path, cache_err_t *err);
/* module.Check: path valid, version canonical and compatible with the path's major suffix. */
int modversion_check(const char *path, const char *version, cache_err_t *err);
/* Whether name[0..len) can be one element of an escaped module path (module.CheckPath's element
 * rules on the unescaped form); first: the leading element, a lower-case domain with a dot. */
bool modpath_escaped_elem_ok(const char *name, size_t len, bool first);

/* ---- glob lists (pattern.c): path.Match and module.MatchPrefixPatterns --------------------- */

/* path.Match: 1 when name[0..nlen) matches the glob pattern[0..plen) ('*' and '?' never match
 * '/', [classes], '\' escapes), 0 when not, -EINVAL for a malformed pattern. */
int modpath_glob_match(const char *pattern, size_t plen, const char *name, size_t nlen);
/* Whether the glob (trailing '/' already dropped) matches path's first elements: as many as the
 * glob has. */
bool modpath_glob_match_prefix(const char *glob, size_t glen, const char *path);
/* module.MatchPrefixPatterns: whether any glob of the comma-separated list (GOPRIVATE syntax;
 * empty entries skipped, a trailing '/' ignored) matches a prefix of path. NULL matches nothing. */
bool modpath_match_prefix_patterns(const char *patterns, const char *path);
/* Checks one glob / every glob of a list: 0, or -EINVAL with err for a malformed one or one with
 * a space or control character (the go command would silently match nothing with it). */
int modpath_glob_check(const char *glob, size_t len, cache_err_t *err);
int modpath_patterns_check(const char *patterns, cache_err_t *err);

/* ---- allow and deny rules (policy.c) -------------------------------------------------------
 * A rule is GLOB or GLOB@OPVERSION, OP one of < <= > >= =, e.g. "github.com/x/y@<v1.4.2"; a list
 * is comma-separated. Deny wins; with any allow rule, what no allow rule covers is refused. */
typedef struct modpolicy modpolicy_t;
/* Parses both lists (each may be NULL or ""). 0, or -EINVAL/-ENOMEM with err naming the rule. */
int modpolicy_new(const char *allow, const char *deny, modpolicy_t **out, cache_err_t *err);
void modpolicy_free(modpolicy_t *p);
/* True when p is NULL or has no rule. */
bool modpolicy_empty(const modpolicy_t *p);
/* 0 when module@version (version "" for list and @latest) may be served; -EACCES with err
 * naming the matching deny rule, or saying no allow rule covers it. */
int modpolicy_check(const modpolicy_t *p, const char *module, const char *version, cache_err_t *err);

/* ---- GOPROXY keys (modkey.c) --------------------------------------------------------------- */

/* Longest escaped key accepted (module path + "/@v/" + version + ".info"). Go sets no hard
 * limit; 1024 keeps every key a valid file-name chain on Linux and in FUSE. */
#define MODKEY_MAX 1024

typedef enum modkey_kind {
    MODKEY_LIST,   /* <module>/@v/list */
    MODKEY_LATEST, /* <module>/@latest */
    MODKEY_INFO,   /* <module>/@v/<version>.info */
    MODKEY_MOD,    /* <module>/@v/<version>.mod */
    MODKEY_ZIP,    /* <module>/@v/<version>.zip */
    MODKEY_SUMDB,  /* sumdb/<name>/<path>: an answer of a checksum database (modkey_parse_sumdb only) */
} modkey_kind_t;
#define MODKEY_KINDS 6

/* What the path of a MODKEY_SUMDB key names (sumdbpath.c). */
typedef enum sumdb_path_kind {
    SUMDB_PATH_SUPPORTED, /* "supported": a proxy's own answer that it serves the database; never stored */
    SUMDB_PATH_LATEST,    /* "latest": the signed tree head */
    SUMDB_PATH_LOOKUP,    /* "lookup/<module>@<version>": a record and the tree head it is proven in */
    SUMDB_PATH_TILE,      /* "tile/8/L/NNN[.p/W]": hashes of the log (L "data": its records) */
} sumdb_path_kind_t;

/*
 * A parsed, validated GOPROXY key: the one key type of modfs, used by the store, the upstream
 * client and both fronts. Its strings live in text[] after the struct, so a key is as long as its
 * names: declare one with room for any key as a modkey_buf_t (stack, or inside a struct as its
 * last member), or keep a right-sized heap copy from modkey_dup. The pointers point into the
 * key's own text: never copy a key by assignment or memcpy, use modkey_copy or modkey_dup.
 */
typedef struct modkey {
    modkey_kind_t kind;
    bool immutable;           /* .info/.mod/.zip of a canonical version, a full tile: never changes */
    uint8_t db_kind;          /* MODKEY_SUMDB: what db_path names (sumdb_path_kind_t); 0 otherwise */
    uint16_t escaped_len;     /* strlen(escaped) */
    uint16_t esc_module_len;  /* strlen(esc_module) */
    uint16_t text_len;        /* bytes of text[] in use */
    const char *escaped;      /* the key in canonical escaped form: github.com/!burnt!sushi/toml/@v/v1.3.2.zip */
    const char *esc_module;   /* escaped module path: github.com/!burnt!sushi/toml */
    const char *esc_version;  /* escaped version, "" for list and @latest */
    const char *module;       /* unescaped module path: github.com/BurntSushi/toml */
    const char *version;      /* unescaped version, "" for list and @latest */
    /* MODKEY_SUMDB keys name no module unless they are a lookup, whose module and version the
     * four fields above then hold (else ""); these two are "" for every other kind. */
    const char *db_name;      /* the database: sum.golang.org */
    const char *db_path;      /* the answer, below the database's URL: lookup/golang.org/x/text@v0.7.0 */
    char text[];
} modkey_t;

/* The seven strings of the longest key, NULs included. */
#define MODKEY_TEXT_MAX (7 * (MODKEY_MAX + 1))

/* A key with room for any key. Use .key. */
typedef union modkey_buf {
    modkey_t key;
    char space[sizeof(modkey_t) + MODKEY_TEXT_MAX];
} modkey_buf_t;

/*
 * Parses an escaped key (already percent-decoded, no leading '/') into out (room for any key:
 * a modkey_buf_t's .key). .mod and .zip need a canonical version valid for the module
 * (module.Check: major-version suffix, +incompatible rules). .info accepts any version query go
 * could send (a branch, a commit, a non-canonical semver); then immutable is false. Only the
 * canonical spelling of a key is accepted, so one object has one name. Returns 0, or -EINVAL with
 * err saying what is wrong.
 */
int modkey_parse(const char *key, size_t len, modkey_t *out, cache_err_t *err);

/* Builds the key of `kind` for module and version (unescaped; version ignored for LIST/LATEST)
 * into out (room for any key). 0 or -EINVAL with err. */
int modkey_make(modkey_kind_t kind, const char *module, const char *version, modkey_t *out, cache_err_t *err);

/* The same module and version as k, another kind (e.g. the .zip of an .info key). Not for
 * MODKEY_SUMDB keys (-EINVAL). */
int modkey_sibling(const modkey_t *k, modkey_kind_t kind, modkey_t *out, cache_err_t *err);

/*
 * Parses the key of a checksum database's answer, "sumdb/<name>/<path>" (percent-decoded, no
 * leading '/'; what follows $GOPROXY/ in a go client's request), into out (room for any key).
 * The name is host[/path] (sumdb_name_valid) and ends before the first element that starts a
 * path: "supported" or "latest" (the last element), "lookup/<escaped module>@<escaped version>"
 * (a valid module version, module.Check, escaped canonically: '!' before a lower-case letter)
 * or a canonical tile path of height 8 (sumdb_tile_parse). A full tile is immutable; nothing else
 * is. modkey_parse never accepts these keys (no module path starts with "sumdb/": its first
 * element needs a dot), so they cannot collide with a module's. 0 or -EINVAL with err.
 */
int modkey_parse_sumdb(const char *key, size_t len, modkey_t *out, cache_err_t *err);
/* Builds the key of answer path (as above: "lookup/...", "tile/...", "latest", "supported") of
 * database name. -EINVAL when the two do not make a key that parses back to this same name and
 * path (a name holding an element "lookup", "tile", "latest" or "supported" cannot be served). */
int modkey_make_sumdb(const char *name, const char *path, modkey_t *out, cache_err_t *err);

/* A right-sized heap copy of k (free with free()); NULL when out of memory. */
modkey_t *modkey_dup(const modkey_t *k);
/* Copies src into dst (room for any key). */
void modkey_copy(modkey_t *dst, const modkey_t *src);
/* Whether two keys name the same object. */
bool modkey_equal(const modkey_t *a, const modkey_t *b);

/* The kind of a GOPROXY request path from its ending alone (no validation: a cheap label for
 * metrics and logs); false when the path does not end like a key. */
bool modkey_kind_of_path(const char *path, size_t len, modkey_kind_t *kind);
/* "list", "@latest", ".info", ".mod", ".zip", "sumdb". */
const char *modkey_kind_name(modkey_kind_t kind);

/* ---- checksum-database answers (sumdbpath.c): golang.org/x/mod/sumdb and sumdb/tlog -------- */

#define SUMDB_NAME_MAX 255          /* a database name: host[/path] */
#define SUMDB_TILE_HEIGHT 8         /* the tile height sum.golang.org serves and the go command asks for */
#define SUMDB_HASH_SIZE 32          /* a tile holds SHA-256 hashes */
#define SUMDB_TILE_PATH_MAX 160
#define SUMDB_BODY_MAX (1 << 20)    /* larger answers from a database are refused as malformed */

/* A tile of the log (tlog.Tile): height h (1..30), level l (-1 = data tile, else 0..63), number n
 * within the level, width w (1..2^h; 2^h is a full tile, which never changes). */
typedef struct sumdb_tile {
    int h;
    int l;
    int64_t n;
    int w;
} sumdb_tile_t;

/* Whether t's fields are in those ranges. */
bool sumdb_tile_valid(const sumdb_tile_t *t);
/* tlog.Tile.Path: "tile/H/L/x001/x234/067[.p/W]", L "data" for data tiles. Writes a NUL-terminated
 * path and returns its length, or -EINVAL for a tile out of range, -ENAMETOOLONG past cap. */
int sumdb_tile_path(const sumdb_tile_t *t, char *out, size_t cap);
/* tlog.ParseTilePath: the inverse, accepting only the canonical form (what sumdb_tile_path gives
 * back byte for byte). No leading '/'. Returns 0 or -EINVAL. */
int sumdb_tile_parse(const char *path, size_t len, sumdb_tile_t *out, cache_err_t *err);
/* A database name as the go command accepts it: host[/path] ("https://" + name parses back as
 * exactly that), at most SUMDB_NAME_MAX bytes. Stricter than go in one point: no empty, "." or ".."
 * element, since a name is also a directory of the store. */
bool sumdb_name_valid(const char *name, size_t len);

/* ---- the GOMODCACHE layout (modcache.c): cmd/go/internal/modfetch's cache directory -------- */

/* The directories of a GOMODCACHE, each with the escaped module-path prefix it stands for. */
typedef enum modcache_dir {
    MODCACHE_DIR_ROOT,      /* GOMODCACHE itself: cache/ and the extracted trees (prefix "") */
    MODCACHE_DIR_CACHE,     /* cache/ */
    MODCACHE_DIR_DOWNLOAD,  /* cache/download/<prefix> (prefix "" for cache/download itself) */
    MODCACHE_DIR_ATV,       /* cache/download/<module>/@v (prefix = the module) */
    MODCACHE_DIR_EXTRACTED, /* <prefix> below the root, on the way to <module>@<version> */
} modcache_dir_t;

/* What a name in one of those directories is. */
typedef enum modcache_entry {
    MODCACHE_NONE,          /* nothing of the store's: the name can only be something go wrote */
    MODCACHE_CACHE,         /* cache/ in the root */
    MODCACHE_DOWNLOAD,      /* download/ in cache/ */
    MODCACHE_PREFIX,        /* a directory one module-path element deeper (DOWNLOAD or EXTRACTED) */
    MODCACHE_ATV,           /* the @v directory of the module named by the prefix */
    MODCACHE_OBJECT,        /* a store object (list, @latest, .info, .mod, .zip): key filled */
    MODCACHE_ZIPHASH,       /* <version>.ziphash: the h1 of the zip key filled */
    MODCACHE_MODROOT,       /* <elem>@<version>: a module's extracted tree; key is its zip */
    MODCACHE_NOTE,          /* <version>.error or list.error in @v: why the last fetch of key failed
                               (key: the version's .info, or the module's list); see modcache_note_path */
} modcache_entry_t;

/*
 * What name is in directory dir whose escaped module-path prefix is prefix[0..plen). For OBJECT,
 * ZIPHASH and MODROOT, key (room for any key) is filled with the key go would fetch, in its
 * canonical spelling only: every store object has exactly one path. Never fails: a name that
 * cannot be valid is MODCACHE_NONE.
 */
modcache_entry_t modcache_lookup(modcache_dir_t dir, const char *prefix, size_t plen, const char *name,
                                 modkey_t *key);

/* What cache/download/<path> is, for path[0..len) (no leading '/'): MODCACHE_OBJECT (a store key:
 * list, @latest, .info, .mod, .zip) or MODCACHE_ZIPHASH (key: the zip), else MODCACHE_NONE. */
modcache_entry_t modcache_download_path(const char *path, size_t len, modkey_t *key);

/* The prefix a PREFIX, ATV or MODROOT entry stands for: prefix + "/" + name, or name at the top.
 * For MODROOT, only the module part. Returns the length written, or -ENAMETOOLONG. */
int modcache_child_prefix(modcache_entry_t entry, const char *prefix, size_t plen, const char *name, char *out,
                          size_t cap);

/* Which stored keys can show up in dir: a key prefix to visit the store with (may be ""). */
int modcache_visit_prefix(modcache_dir_t dir, const char *prefix, size_t plen, char *out, size_t cap);

typedef int (*modcache_emit_fn)(void *arg, const char *name, size_t len, bool is_dir);

/* Calls emit for the names dir has whatever is stored (cache/ in the root, download/ in cache/). */
int modcache_fixed_names(modcache_dir_t dir, modcache_emit_fn emit, void *arg);

/* Calls emit for each name a stored key adds to the listing of dir (prefix[0..plen)): a module
 * path element (a directory), @v, @latest, an object's file and its .ziphash, or
 * <elem>@<version>. Returns emit's first non-zero value, else 0. */
int modcache_names_of_key(modcache_dir_t dir, const char *prefix, size_t plen, const modkey_t *key,
                          modcache_emit_fn emit, void *arg);

/*
 * The path (from the GOMODCACHE root) of the note that tells why a fetch of key failed:
 * cache/download/<module>/@v/<version>.error for a version's .info, .mod and .zip (one note per
 * version), cache/download/<module>/@v/list.error for list and @latest. No go command writes or
 * reads such a name. Returns the length or -ENAMETOOLONG.
 */
int modcache_note_path(const modkey_t *key, char *out, size_t cap);

/* What the go command itself may create at a path of its GOMODCACHE (cmd/go 1.19 modfetch and
 * codehost, checked with strace against a plain directory). */
typedef enum modcache_write {
    MODCACHE_WRITE_NEVER,    /* go never creates this name: the store's directories, anything else */
    MODCACHE_WRITE_GO,       /* go's bookkeeping, whatever the store holds: cache/lock, <V>.lock,
                                <V>.partial, <V>.info|.mod|.zip<digits>.tmp, cache/vcs/<sha256 hex>
                                with .lock and .info and anything inside it (git), and
                                cache/download/sumdb/... */
    MODCACHE_WRITE_DOWNLOAD, /* a file of a module go downloads itself: <V>.info, <V>.mod, <V>.zip,
                                <V>.ziphash, list; go writes it only when the store does not serve key
                                (the object itself; the zip for .ziphash) */
    MODCACHE_WRITE_EXTRACT,  /* <module>@<V> or a path inside it: go writes it only while it extracts
                                the zip itself (<V>.partial present, see modcache_partial_path) and
                                only when the store does not serve key (the zip) */
} modcache_write_t;

/*
 * Which rule covers path[0..len) (from the GOMODCACHE root, no leading or trailing '/', elements
 * as the kernel gives them). For DOWNLOAD and EXTRACT, key (room for any key) is filled. Never
 * fails: a path that is not one of go's is MODCACHE_WRITE_NEVER.
 */
modcache_write_t modcache_write_rule(const char *path, size_t len, modkey_t *key);

/* The path (from the GOMODCACHE root) of the .partial file go keeps while it extracts the zip
 * key: cache/download/<module>/@v/<version>.partial. Returns the length or -ENAMETOOLONG/-EINVAL. */
int modcache_partial_path(const modkey_t *zip, char *out, size_t cap);

/* ---- module zips (zipfile.c and zip_*.c): golang.org/x/mod/zip ----------------------------- */

/* Go's limits (codehost.MaxZipFile, modzip.MaxGoMod, MaxLICENSE). */
#define ZIPFILE_MAX_SIZE (500ull << 20)
#define ZIPFILE_MAX_GOMOD (16ull << 20)
#define ZIPFILE_MAX_LICENSE (16ull << 20)

#define ZIP_METHOD_STORE 0
#define ZIP_METHOD_DEFLATE 8

typedef struct zipfile_member {
    char *name;               /* full entry name "<module>@<version>/<path>", owned */
    uint64_t header_offset;   /* offset of the local file header */
    uint64_t data_offset;     /* offset of the first byte of (compressed) data */
    uint64_t compressed_size;
    uint64_t uncompressed_size;
    uint32_t crc32;
    uint16_t method;          /* ZIP_METHOD_STORE or ZIP_METHOD_DEFLATE */
} zipfile_member_t;

typedef struct zipfile {
    zipfile_member_t *members; /* file entries only (directory entries dropped), ascending header_offset */
    size_t count;
    uint64_t central_dir_offset; /* where the central directory starts; everything after it is metadata */
    uint64_t total_uncompressed;
    char h1[48];               /* "h1:" + 44 base64 chars + NUL, as go writes into .ziphash */
} zipfile_t;

/* One file of a module zip as its extracted tree shows it. */
typedef struct zipfile_entry {
    const char *path;       /* path inside the module root (after "<module>@<version>/") */
    uint64_t size;          /* uncompressed size */
    uint32_t crc32;
} zipfile_entry_t;

/*
 * Parses and fully checks the zip in buf[0..len) as the zip of module@version (both unescaped):
 * size ≤ 500 MiB; every entry starts with "<module>@<version>/"; each path passes
 * module.CheckFilePath; no duplicates, no case-fold collisions, no name both file and directory;
 * go.mod only at the root; total uncompressed ≤ 500 MiB, go.mod and LICENSE ≤ 16 MiB; methods
 * store/deflate only; every member inflated and checked against its declared size and CRC-32;
 * local headers consistent with the central directory. Computes h1 over the inflated entries:
 * like dirhash.HashZip, directory entries (which are not in members[]) count as empty files.
 * On success fills *out (caller disposes). On failure returns -EINVAL (or -ENOMEM) with err naming
 * the entry and the rule, and *out is left empty.
 */
int zipfile_parse(const uint8_t *buf, size_t len, const char *module, const char *version, zipfile_t *out,
                  cache_err_t *err);
void zipfile_dispose(zipfile_t *z);

/*
 * A module zip read while it arrives (zip_stream.c). The caller keeps the body in one buffer
 * that only grows (bytes once given never change or move) and calls zipstream_step with the
 * bytes in so far, from one thread at a time; each call does at most one member's work (inflate,
 * CRC-32 and SHA-256 of one member) and returns 1 when it made a step, 0 when it needs more bytes
 * and -1 when the walk is over (the central directory reached, or a layout it does not follow:
 * never an error, the rest is read at the end). zipstream_end stops the walk. Nothing is judged
 * here: zipfile_parse_streamed(..., s, ...) on the whole body applies every rule of zipfile_parse
 * and uses what the walk computed only for the members it matches exactly, so its verdict,
 * message and h1 are zipfile_parse's. zipstream_new returns 0 or -ENOMEM.
 */
typedef struct zipstream zipstream_t;
int zipstream_new(zipstream_t **out);
int zipstream_step(zipstream_t *s, const uint8_t *buf, size_t len);
void zipstream_end(zipstream_t *s);
/* How many members the walk has read (for logs and tests). */
size_t zipstream_walked(const zipstream_t *s);
void zipstream_free(zipstream_t *s);
/* zipfile_parse with what the walk s (NULL: none) computed. */
int zipfile_parse_streamed(const uint8_t *buf, size_t len, const char *module, const char *version,
                           const zipstream_t *s, zipfile_t *out, cache_err_t *err);

/* ---- h1 (dirhash.c): golang.org/x/mod/sumdb/dirhash.Hash1 -------------------------------- */

/* One file of a hashed tree: its name and the SHA-256 of its content. */
typedef struct dirhash_file {
    const uint8_t *name;
    size_t name_len;
    uint8_t sha256[32];
} dirhash_file_t;

/* dirhash.Hash1 over files (sorted here, in place, bytewise by name): "h1:" + base64 of the
 * SHA-256 of "hex(sha256)  name\n" lines. -EINVAL for a name holding a newline (go refuses
 * those), -ENOMEM, -EIO. out gets 47 characters and a NUL. */
int dirhash_h1(dirhash_file_t *files, size_t count, char out[48], cache_err_t *err);
/* The go.sum hash of a go.mod: Hash1 over one file named "go.mod" (go's goModSum). */
int dirhash_gomod_h1(const uint8_t *gomod, size_t len, char out[48], cache_err_t *err);

/* ---- go.mod, go.work and go.sum (gomodfile.c, gosum.c) -----------------------------------
 * The module versions such a file names, by the go command's syntax (golang.org/x/mod/modfile
 * and cmd/go's go.sum reader): "//" comments (so "// indirect" is only a comment), directives
 * alone or in blocks ("require ( ... )"), quoted paths ("..." with Go escapes, or `...`), "=>" in
 * replace. Every path and version is checked by Go's rules (module.Check) before it is returned.
 * Errors are -EINVAL with err as "NAME:LINE: what" (NAME as the caller names the file), -EFBIG
 * for a file larger than go would read, -ENOMEM. */

/* The largest go.mod, go.work or go.sum read (go's own limit for a go.mod is 16 MiB). */
#define GOMODFILE_MAX_SIZE (16u << 20)

typedef struct gomod_ref {
    char *path;      /* module path (module.CheckPath) */
    char *version;   /* canonical version, valid for path (module.Check) */
    bool gomod_only; /* only its go.mod is needed (a go.sum "/go.mod" line) */
    int line;        /* where the file names it */
} gomod_ref_t;

typedef struct gomod_use {
    char *dir;       /* a go.work "use" directory, as written (relative to the go.work's directory) */
    int line;
} gomod_use_t;

typedef struct gomod_file {
    gomod_ref_t *refs; /* what the file needs fetched, in file order, duplicates kept */
    size_t nrefs;
    gomod_use_t *uses; /* go.work only */
    size_t nuses;
} gomod_file_t;

/*
 * go.mod: every "require" (skipping one that a "replace" points at a local directory, or at
 * another module, whose version is then needed instead) and every replacement module version.
 * go.work: its "use" directories and replacement module versions.
 * go.sum: one ref per line; "v1.2.3/go.mod" lines are gomod_only.
 * On success out is filled (gomod_file_dispose frees it); on failure it is left empty.
 */
int gomod_parse_mod(const char *text, size_t len, const char *name, gomod_file_t *out, cache_err_t *err);
int gomod_parse_work(const char *text, size_t len, const char *name, gomod_file_t *out, cache_err_t *err);
int gomod_parse_sum(const char *text, size_t len, const char *name, gomod_file_t *out, cache_err_t *err);

void gomod_file_dispose(gomod_file_t *f);

/* Appends a ref (copies path and version; no checks). 0 or -ENOMEM. */
int gomod_file_add(gomod_file_t *f, const char *path, const char *version, bool gomod_only, int line);

/* ---- the small GOPROXY bodies (validate.c) ----------------------------------------------- */

#define GOMOD_MAX_INFO (1u << 20)     /* .info / @latest: go reads them whole; 1 MiB is generous */
#define GOMOD_MAX_MOD (16u << 20)     /* modzip.MaxGoMod */
#define GOMOD_MAX_LIST (16u << 20)    /* a list of every version of a busy module stays far below */

/*
 * Checks an .info or @latest body: a JSON object with a string "Version" that is canonical
 * semver valid for module (module.Check), and, if present, a "Time" in RFC 3339. When
 * want_version is not NULL the Version must equal it (go rejects "proxy returned info for version X
 * instead of requested version"). Writes to out the form go's json.Marshal gives
 * ({"Version":"v1.2.3","Time":"2019-01-01T00:00:00Z"}, no newline, Origin dropped), so the go
 * command never rewrites it in GOMODCACHE. out is reset first; on failure it is left empty.
 * Returns 0, -EINVAL with err, or -ENOMEM.
 */
int gomod_validate_info(const uint8_t *body, size_t len, const char *module, const char *want_version, buf_t *out,
                        cache_err_t *err);

/* The Version of an .info or @latest body (as stored: already checked) into out. 0 or -EINVAL. */
int gomod_info_version(const uint8_t *body, size_t len, char *out, size_t cap);

/* A .mod body: at most 16 MiB, no NUL bytes. (Its contents are go's to parse; a proxy serves them as hashed.) */
int gomod_validate_mod(const uint8_t *body, size_t len, cache_err_t *err);

/* A list body: at most 16 MiB, text without NUL bytes. Lines that are not semver are allowed (go ignores them). */
int gomod_validate_list(const uint8_t *body, size_t len, cache_err_t *err);

/* The most bytes an upstream body of this kind may have (SUMDB_BODY_MAX for a database's answer). */
uint64_t gomod_body_limit(modkey_kind_t kind);

/*
 * Checks body as the object key names, the one gate every upstream body passes: .zip by
 * zipfile_parse (z filled, caller disposes), .mod and list as above, .info and @latest checked and
 * put in canonical form in canon (canon.base NULL for the other kinds). A checksum database's
 * answer is checked for its form alone: a hash tile holds exactly its width of hashes, a data
 * tile, a lookup and "latest" are non-empty text of at most SUMDB_BODY_MAX bytes (their
 * signatures are the sumdb client's to check). 0 or -EINVAL with err, whose words start
 * "invalid <kind>: ".
 */
int gomod_validate_body(const modkey_t *key, const uint8_t *body, size_t len, buf_t *canon, zipfile_t *z,
                        cache_err_t *err);
/* gomod_validate_body with what a zipstream_t walk of a .zip body computed while it arrived (zs NULL:
 * none; only .zip keys use it). */
int gomod_validate_body_streamed(const modkey_t *key, const uint8_t *body, size_t len, const zipstream_t *zs,
                                 buf_t *canon, zipfile_t *z, cache_err_t *err);

#endif
