/* SPDX-License-Identifier: MIT */
/*
 * flight.h — single-flight: one upstream fetch per key at a time, across threads and processes.
 *
 * A fetch holds an exclusive flock on a lock file chosen by the key's hash. flock conflicts
 * between separate open file descriptions even inside one process, so the same lock serves the
 * FUSE threads, the HTTP workers and a `modfs get` run beside a server on the same cache dir.
 * Waiters block in flock; when they get the lock they look in the index again and normally
 * find the object the first fetch stored. Keys share FLIGHT_BUCKETS lock files: two unrelated
 * keys in one bucket only wait for each other, which is rare and harmless.
 */
#ifndef MODFS_FLIGHT_H
#define MODFS_FLIGHT_H

#include "err.h"

#define FLIGHT_BUCKETS 4096

typedef struct flight flight_t;

int flight_open(const char *dir, flight_t **out, cache_err_t *err);
void flight_close(flight_t *f);

/* Blocks until this caller is the only fetcher of key. Returns a token (an fd) ≥ 0 or -errno. */
int flight_acquire(flight_t *f, const char *key);
void flight_release(flight_t *f, int token);

#endif
