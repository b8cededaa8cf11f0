/* SPDX-License-Identifier: MIT */
/*
 * escape.c — module.EscapePath and EscapeVersion, as much of them as a lookup path needs: each
 * upper-case letter becomes '!' and its lower case, so that paths differing only in case stay
 * distinct on case-insensitive servers. The characters allowed are those Go allows in module paths
 * and versions; anything else (including '!', '@', '%', '?', spaces) is refused, so no caller
 * input can change the shape of the path sent to the database. The store has the full rules
 * (cache/modpath.c); this copy keeps the library free of it.
 */
#include <errno.h>
#include <string.h>

#include "sumdb_i.h"

static int escape(const char *s, const char *extra, char *out, size_t cap)
{
    size_t o = 0;
    if (s[0] == '\0')
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool upper = c >= 'A' && c <= 'Z';
        bool ok = upper || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(extra, c) != NULL;
        if (!ok)
            return -EINVAL;
        if (o + (upper ? 2 : 1) >= cap)
            return -ENAMETOOLONG;
        if (upper) {
            out[o++] = '!';
            out[o++] = (char)(c - 'A' + 'a');
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return (int)o;
}

int sumdb_escape_path(const char *path, char *out, size_t cap)
{
    /* No leading, trailing or doubled slash, no "." or ".." element: module.CheckPath's shape. */
    if (path[0] == '/' || path[0] == '\0' || path[strlen(path) - 1] == '/' || strstr(path, "//") ||
        strstr(path, "/./") || strstr(path, "/../") || strncmp(path, "./", 2) == 0 || strncmp(path, "../", 3) == 0)
        return -EINVAL;
    return escape(path, "-._~/", out, cap);
}

int sumdb_escape_version(const char *version, char *out, size_t cap)
{
    if (version[0] != 'v')
        return -EINVAL;
    return escape(version, "-.+", out, cap);
}
