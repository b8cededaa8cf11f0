/* SPDX-License-Identifier: MIT */
/*
 * modpath.h — Go's rules for module paths, versions and GOPROXY keys, in one place.
 *
 * Everything here mirrors golang.org/x/mod (module.CheckPath, CheckImportPath,
 * CheckFilePath, EscapePath/UnescapePath, EscapeVersion/UnescapeVersion; semver in semver.h,
 * included here) so that modfs accepts exactly what the go command accepts. A name that fails is
 * rejected with a reason and is never turned into a path on the local disk.
 * All functions are pure and thread-safe.
 */
#ifndef MODFS_MODPATH_H
#define MODFS_MODPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "semver.h"

/* Longest escaped key accepted (module path + "/@v/" + version + ".info"). Go sets no hard
 * limit; 1024 keeps every key a valid file-name chain on Linux and in FUSE. */
#define MODKEY_MAX 1024

typedef enum modkey_kind {
    MODKEY_LIST,   /* <module>/@v/list */
    MODKEY_LATEST, /* <module>/@latest */
    MODKEY_INFO,   /* <module>/@v/<version>.info */
    MODKEY_MOD,    /* <module>/@v/<version>.mod */
    MODKEY_ZIP,    /* <module>/@v/<version>.zip */
} modkey_kind_t;

/* A parsed, validated GOPROXY key. */
typedef struct modkey {
    modkey_kind_t kind;
    bool immutable;                /* .info/.mod/.zip of a canonical version: never changes */
    char module[MODKEY_MAX + 1];   /* unescaped module path, e.g. github.com/BurntSushi/toml */
    char version[MODKEY_MAX + 1];  /* unescaped version, "" for list and @latest */
    char escaped[MODKEY_MAX + 1];  /* the key in canonical escaped form, e.g. github.com/!burnt!sushi/toml/@v/v1.3.2.zip */
    char esc_module[MODKEY_MAX + 1]; /* escaped module path */
} modkey_t;

/*
 * Parses an escaped key (already percent-decoded, no leading '/').
 * .mod and .zip need a canonical version valid for the module (module.Check: major-version
 * suffix, +incompatible rules). .info accepts any version query go could send (a branch, a
 * commit, a non-canonical semver); then immutable is false. Returns 0, or -EINVAL with err
 * saying what is wrong.
 */
int modkey_parse(const char *key, size_t len, modkey_t *out, cache_err_t *err);

/* Builds the key of `kind` for module (unescaped) and version (unescaped, ignored for LIST/LATEST). */
int modkey_make(modkey_kind_t kind, const char *module, const char *version, modkey_t *out, cache_err_t *err);

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

#endif
