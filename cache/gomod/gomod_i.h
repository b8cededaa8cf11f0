/* SPDX-License-Identifier: MIT */
/*
 * gomod_i.h — what the files of gomod/ share and nothing outside it may include: a semantic
 * version taken apart, the Unicode tables Go's name rules need, and the state of one zip check
 * as it passes from the archive reader to the name rules and the content hasher.
 */
#ifndef MODFS_GOMOD_I_H
#define MODFS_GOMOD_I_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gomod.h"

/* ---- semver.c ----------------------------------------------------------------------------
 * module.Check needs the pieces that semver.parse finds (the major number, the +build suffix,
 * whether MINOR or PATCH was left out), not just a yes or no, so the parser of semver.c is
 * shared here instead of being written twice. */

typedef struct str {
    const char *p;
    size_t len;
} str_t;

/* The parts of vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]; missing MINOR/PATCH read as "0". */
typedef struct semver {
    str_t major, minor, patch;
    const char *shortfill; /* "", ".0" or ".0.0": what Canonical appends to a short form */
    str_t prerelease;      /* with its '-', or empty */
    str_t build;           /* with its '+', or empty */
} semver_t;

/* semver.parse on v[0..len): true when v is a valid semantic version, with its parts in *sv
 * (pointing into v, or at static "" and "0"). On false, *sv holds no meaning. */
bool semver_parse(const char *v, size_t len, semver_t *sv);

/* ---- modpath.c: the checks modkey.c builds keys with --------------------------------------- */

/* module.Check on (pointer, length) strings; path_checked skips the path check a caller has just
 * done. 0 or -EINVAL with go's words. */
int gomod_check_module_version(const char *path, size_t plen, bool path_checked, const char *v, size_t vlen,
                               cache_err_t *err);
/* module.escapeString into out (cap bytes, NUL added): the length, -EINVAL or -ENAMETOOLONG. */
int gomod_escape_string(const char *s, size_t len, char *out, size_t cap);
/* module.EscapeVersion's check: valid UTF-8, a valid file name, no '!'. */
bool gomod_version_name_ok(const char *v, size_t len);

/* ---- sumdbpath.c ------------------------------------------------------------------------- */

/* Splits p[0..len), what follows "sumdb/" in a key, into the database name (the first *name_len
 * bytes, a valid name) and the answer's path (after the '/' that follows), whose first element
 * gives *kind. The path itself is the caller's to check. 0 or -EINVAL with err. */
int gomod_sumdb_split(const char *p, size_t len, size_t *name_len, sumdb_path_kind_t *kind, cache_err_t *err);

/* ---- unicode_letter.c and casefold.c (Unicode 13.0.0, as in Go 1.19) ------------------------ */

/* unicode.IsLetter for r >= 0x80 (callers test ASCII letters themselves). */
bool unicode_is_letter_nonascii(uint32_t r);
/* x/mod/zip's strToFold for one rune: the smallest rune of its unicode.SimpleFold orbit, then
 * A-Z to a-z. Two names collide exactly when strings.EqualFold says they are equal. */
uint32_t unicode_fold_rune(uint32_t r);

/* ---- one zip check (zipfile.c drives zip_archive.c, zip_names.c, zip_content.c) ------------ */

typedef struct zip_entry {
    const uint8_t *name; /* into the zip buffer */
    size_t name_len;
    uint64_t header_offset;
    uint64_t data_offset;
    uint64_t end; /* first byte after the data and its descriptor */
    uint64_t compressed_size;
    uint64_t uncompressed_size;
    uint32_t crc32;
    uint16_t method;
    uint16_t flags;
    bool is_dir; /* name ends with '/': no member, but part of h1 and of the collision checks */
    uint8_t sha256[32];
} zip_entry_t;

typedef struct zip_parse {
    const uint8_t *buf;
    size_t len;
    char *prefix; /* "<module>@<version>/" */
    size_t prefix_len;
    cache_err_t *err;

    zip_entry_t *entries; /* central directory order until zip_check_layout sorts by offset */
    size_t count;
    size_t cap;
    uint64_t records; /* entry count the end record declares */
    uint64_t cd_start;
    uint64_t cd_limit; /* where the (zip64) end record starts */
    uint64_t base;     /* archive/zip's baseOffset: bytes in front of the zip proper */
    uint64_t total;    /* declared uncompressed bytes of the files */

    buf_t fold; /* folded paths, one after the other (zip_names.c) */
    buf_t keys; /* the name keys of every entry below the root (zip_names.c) */
    buf_t scratch; /* one path as a C string (zip_names.c) */

    const zipstream_t *pre; /* members read while the zip arrived (zip_stream.c), or NULL */
} zip_parse_t;

#define ZIP_FLAG_ENCRYPTED 0x0001
#define ZIP_FLAG_DESCRIPTOR 0x0008

/* Fails the check on entry e: "zip entry \"<name>\": <why>". Returns -EINVAL. */
__attribute__((format(printf, 3, 4))) int zip_entry_fail(zip_parse_t *p, const zip_entry_t *e, const char *fmt,
                                                         ...);

/* zip_archive.c: archive/zip's reading of the end record and the central directory, then the
 * local headers and the layout of the members (no overlaps, nothing past the directory). */
int zip_read_end(zip_parse_t *p);
int zip_read_central(zip_parse_t *p);
int zip_check_layout(zip_parse_t *p);

/* zip_names.c: x/mod/zip.CheckZip's rules on names and sizes, then its collision checker. */
int zip_check_name(zip_parse_t *p, const zip_entry_t *e);
int zip_check_collisions(zip_parse_t *p);

/* zip_stream.c: what the walker computed of one member, found by its local header. */
typedef struct zipstream_member {
    uint64_t header_offset;
    uint64_t data_offset;
    uint64_t compressed_size; /* the bytes its deflate stream took (stored: the local header's size) */
    uint64_t produced;        /* the bytes it inflated to */
    uint32_t crc32;           /* of those bytes */
    uint16_t method;
    uint8_t sha256[32];
} zipstream_member_t;

/* The members walked so far, in ascending header_offset; *count 0 for a NULL s. */
const zipstream_member_t *zipstream_members(const zipstream_t *s, size_t *count);

/* zip_content.c: every entry read through archive/zip's size and CRC checks, its SHA-256 kept. */
int zip_hash_entries(zip_parse_t *p);

#endif
