/* SPDX-License-Identifier: MIT */
/*
 * semver.h — golang.org/x/mod/semver and module.IsPseudoVersion: which version strings are
 * semantic versions and how they sort, exactly as the go command decides.
 *
 * modpath.h includes this header, so users of modpath.h and cache.h see these functions too.
 * All functions are pure and thread-safe.
 */
#ifndef MODFS_SEMVER_H
#define MODFS_SEMVER_H

#include <stdbool.h>

/* golang.org/x/mod/semver. */
bool semver_is_valid(const char *v);
/* valid and semver.Canonical(v) == v (no "+meta" except +incompatible handled by module.Check) */
bool semver_is_canonical(const char *v);
/* <0, 0, >0; invalid sorts before valid, as semver.Compare */
int semver_compare(const char *a, const char *b);
bool semver_is_prerelease(const char *v);
bool semver_is_pseudo(const char *v); /* module.IsPseudoVersion */

#endif
