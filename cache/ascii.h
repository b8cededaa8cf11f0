/* SPDX-License-Identifier: MIT */
/*
 * ascii.h — the ASCII character classes that Go's module and semver rules are written in.
 *
 * Internal to cache/, shared by modpath.c and semver.c. Go's rules are plain byte ranges; the
 * <ctype.h> classes depend on the locale, so these are written out and mean the same everywhere.
 */
#ifndef MODFS_ASCII_H
#define MODFS_ASCII_H

#include <stdbool.h>

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static inline bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}
static inline bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static inline bool is_alnum(char c)
{
    return is_digit(c) || is_lower(c) || is_upper(c);
}
static inline char ascii_lower(char c)
{
    return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

#endif
