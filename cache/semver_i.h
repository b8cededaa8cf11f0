/* SPDX-License-Identifier: MIT */
/*
 * semver_i.h — a semantic version taken apart, for the module rules in modpath.c.
 *
 * Internal to cache/. module.Check needs the pieces that semver.parse finds (the major number,
 * the +build suffix, whether MINOR or PATCH was left out), not just a yes or no, so the parser
 * of semver.c is shared here instead of being written twice.
 */
#ifndef MODFS_SEMVER_I_H
#define MODFS_SEMVER_I_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
