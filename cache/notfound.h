/* SPDX-License-Identifier: MIT */
/*
 * notfound.h — remembers, for a short TTL, keys upstream said are not there (404/410); the same
 * table, with its own TTL, remembers keys whose refresh just failed.
 * The go command probes every prefix of an import path; without this each probe would be an
 * upstream round trip, on every build. In memory only: a restart forgets, which is harmless.
 */
#ifndef MODFS_NOTFOUND_H
#define MODFS_NOTFOUND_H

#include <stdbool.h>

typedef struct notfound notfound_t;

notfound_t *notfound_new(unsigned ttl_s);
void notfound_free(notfound_t *nf);
/* Entries put from now on are kept ttl_s (0: none are kept); those already in keep theirs. Any thread. */
void notfound_set_ttl(notfound_t *nf, unsigned ttl_s);
/* Records that key was not found with HTTP status (404 or 410) now. */
void notfound_put(notfound_t *nf, const char *key, int status, const char *why);
/* True if key is remembered as not found; *status and why (cap bytes) say how. */
bool notfound_get(notfound_t *nf, const char *key, int *status, char *why, unsigned cap);
/* Forgets key (it was just found). */
void notfound_forget(notfound_t *nf, const char *key);

#endif
