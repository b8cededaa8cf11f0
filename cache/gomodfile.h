/* SPDX-License-Identifier: MIT */
/*
 * gomodfile.h — the module versions that a go.mod, go.work or go.sum file names.
 *
 * The syntax is the go command's (golang.org/x/mod/modfile and cmd/go's go.sum reader): "//"
 * comments (so "// indirect" is only a comment), directives alone or in blocks ("require ( ... )"),
 * quoted paths ("..." with Go escapes, or `...`), "=>" in replace. Every path and version is
 * checked by Go's rules (module.Check) before it is returned, so a caller can turn each into
 * store keys without further checks. Pure functions on a buffer: no files, no threads.
 *
 * Errors are -EINVAL with err as "NAME:LINE: what" (NAME as the caller names the file), -EFBIG
 * for a file larger than go would read, -ENOMEM.
 */
#ifndef MODFS_GOMODFILE_H
#define MODFS_GOMODFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

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

#endif
