/* SPDX-License-Identifier: MIT */
/*
 * zipfile.h — reading and checking module zips (golang.org/x/mod/zip rules) and their h1 hash.
 *
 * A zip from upstream is parsed from memory (the ingest maps the downloaded file), checked
 * against every rule the go command applies before it would extract it, and hashed exactly as
 * go writes `.ziphash` (dirhash.Hash1 over the entries). Nothing is extracted to disk.
 */
#ifndef MODFS_ZIPFILE_H
#define MODFS_ZIPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

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

#endif
