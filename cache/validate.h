/* SPDX-License-Identifier: MIT */
/*
 * validate.h — checks of the small GOPROXY bodies (.info, @latest, .mod, list) before they are stored.
 */
#ifndef MODFS_VALIDATE_H
#define MODFS_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define VALIDATE_MAX_INFO (1u << 20)     /* .info / @latest: go reads them whole; 1 MiB is generous */
#define VALIDATE_MAX_MOD (16u << 20)     /* modzip.MaxGoMod */
#define VALIDATE_MAX_LIST (16u << 20)    /* a list of every version of a busy module stays far below */

/*
 * Checks an .info or @latest body: a JSON object with a string "Version" that is canonical
 * semver valid for module (module.Check), and, if present, a "Time" in RFC 3339. When
 * want_version is not NULL the Version must equal it (go rejects "proxy returned info for version X
 * instead of requested version"). Writes to out the form go's json.Marshal gives
 * ({"Version":"v1.2.3","Time":"2019-01-01T00:00:00Z"}, no newline, Origin dropped), so the go
 * command never rewrites it in GOMODCACHE. out is reset first; on failure it is left empty.
 * Returns 0, -EINVAL with err, or -ENOMEM.
 */
int validate_info(const uint8_t *body, size_t len, const char *module, const char *want_version, buf_t *out,
                  cache_err_t *err);

/* A .mod body: at most 16 MiB, no NUL bytes. (Its contents are go's to parse; a proxy serves them as hashed.) */
int validate_mod(const uint8_t *body, size_t len, cache_err_t *err);

/* A list body: at most 16 MiB, text without NUL bytes. Lines that are not semver are allowed (go ignores them). */
int validate_list(const uint8_t *body, size_t len, cache_err_t *err);

#endif
