/* SPDX-License-Identifier: MIT */
/*
 * cache_i.h — what the policy layer's files share (cache.c, access.c, fetch.c, bucket.c, tmpfiles.c,
 * hot.c, notfound.c, flight.c, fetchlog.c, housekeeper.c, maintainer.c) and nothing else may include:
 * the cache struct and the interfaces of its parts. The fronts include cache.h only; the
 * sub-libraries below (store/, upstream/, shared/, gomod/, common/) know nothing of this layer.
 */
#ifndef MODFS_CACHE_I_H
#define MODFS_CACHE_I_H

#include <pthread.h>
#include <stdatomic.h>

#include "cache.h"
#include "shared.h"
#include "store.h"
#include "upstream.h"

/* ---- hot.c: the in-memory map of recently used objects ------------------------------------
 * key → object reference, bounded by count and by the bytes of objects kept whole in memory,
 * least recently used out first. A hit is a hash, a short chain walk and a reference count bump
 * under one mutex; it takes no database lock and reads no disk. */
typedef struct cache_hot cache_hot_t;
cache_hot_t *cache_hot_new(size_t max_objects, uint64_t max_bytes);
void cache_hot_free(cache_hot_t *h);
/* A new reference to the object under key, or NULL. */
cache_object_t *cache_hot_get(cache_hot_t *h, const char *key, size_t len);
/* Puts (or replaces) key → o; the map takes its own reference. */
void cache_hot_put(cache_hot_t *h, const char *key, cache_object_t *o);
void cache_hot_remove(cache_hot_t *h, const char *key);
/* Lets go of every object (the store wants to compact packs they point into). */
void cache_hot_clear(cache_hot_t *h);

/* ---- notfound.c: keys upstream said are not there ------------------------------------------
 * Remembered for a TTL; the same table, with its own TTL, remembers keys whose refresh just
 * failed. The go command probes every prefix of an import path; without this each probe would be
 * an upstream round trip, on every build. Bounded: past its size the oldest entry goes. In memory
 * only: a restart forgets, which is harmless. */
typedef struct cache_notfound cache_notfound_t;
cache_notfound_t *cache_notfound_new(unsigned ttl_s, size_t max_entries);
void cache_notfound_free(cache_notfound_t *nf);
/* Entries put from now on are kept ttl_s (0: none are kept); those already in keep theirs. */
void cache_notfound_set_ttl(cache_notfound_t *nf, unsigned ttl_s);
/* Records that key was not found with HTTP status (404 or 410), and why. */
void cache_notfound_put(cache_notfound_t *nf, const char *key, int status, const char *why);
/* True if key is remembered; *status and why (cap bytes) say how. */
bool cache_notfound_get(cache_notfound_t *nf, const char *key, int *status, char *why, size_t cap);
void cache_notfound_forget(cache_notfound_t *nf, const char *key);

/* ---- flight.c: one upstream fetch per key at a time ----------------------------------------
 * Inside the process, the threads that miss the same key join one flight: the first leads the
 * fetch and the others wait for its result, which they get directly (no second look at the store).
 * Across processes sharing a store (a server and a `modfs get`), the leader also holds a flock
 * on a lock file chosen by the key's hash; a leader that had to wait for that lock looks at the
 * store once more before fetching. */
typedef struct cache_flight cache_flight_t;
typedef struct cache_sumdb cache_sumdb_t;
typedef struct cache_flight_entry cache_flight_entry_t;
int cache_flight_open(const char *locks_dir, cache_flight_t **out, cache_err_t *err);
void cache_flight_close(cache_flight_t *f);
/* Joins the flight of key. Returns true when the caller leads it (and must call
 * cache_flight_finish), false when another thread led it: then *rc, *out (a new reference or
 * NULL) and err hold that fetch's outcome. */
bool cache_flight_join(cache_flight_t *f, const char *key, cache_flight_entry_t **entry, int *rc,
                       cache_object_t **out, cache_err_t *err);
/* The leader's outcome, handed to every waiter (obj may be NULL; each waiter gets a reference). */
void cache_flight_finish(cache_flight_t *f, cache_flight_entry_t *entry, int rc, cache_object_t *obj,
                         const cache_err_t *err);
/* The same for flights whose outcome is bytes (out, reset first) rather than an object; their keys
 * must differ from every object flight's (verify.c prefixes them). */
bool cache_flight_join_bytes(cache_flight_t *f, const char *key, cache_flight_entry_t **entry, int *rc, buf_t *out,
                             cache_err_t *err);
void cache_flight_finish_bytes(cache_flight_t *f, cache_flight_entry_t *entry, int rc, slice_t bytes,
                               const cache_err_t *err);
/* The cross-process lock of key: an fd >= 0, or -errno; *waited tells whether another process
 * held it. While another process holds it, waits until it is released or *cancel becomes true
 * (then -ECANCELED). */
int cache_flight_lock(cache_flight_t *f, const char *key, const atomic_bool *cancel, bool *waited);
void cache_flight_unlock(int token);

/* ---- fetchlog.c: what upstream fetches did ------------------------------------------------
 * Fed by cache_fetch as each fetch ends (the miss path only), read by cache_fetch_figures_get
 * and cache_fetch_notes_get. One mutex, taken once per fetch and once per reading. */
typedef struct cache_fetchlog cache_fetchlog_t;
cache_fetchlog_t *cache_fetchlog_new(void);
void cache_fetchlog_free(cache_fetchlog_t *l);
/* Counts one fetch of key that took duration_us and ended with rc (err: its words); l may be NULL. */
void cache_fetchlog_note(cache_fetchlog_t *l, const modkey_t *key, bool private_module, uint64_t duration_us,
                         uint64_t bytes, int rc, const cache_err_t *err);
void cache_fetchlog_figures(cache_fetchlog_t *l, cache_fetch_figures_t *out);
void cache_fetchlog_notes(cache_fetchlog_t *l, cache_fetch_notes_t *out);

/* ---- the cache ------------------------------------------------------------------------------ */

/* Temporary files kept emptied for the next fetch (tmpfiles.c). */
#define CACHE_TMP_KEPT 32

struct cache {
    char *dir;
    char *tmp_dir;
    pthread_mutex_t tmp_lock;     /* protects tmp_fds and tmp_n */
    int tmp_fds[CACHE_TMP_KEPT];  /* empty O_TMPFILEs in tmp_dir, ready for a body */
    unsigned tmp_n;
    _Atomic unsigned list_ttl_s; /* a reload may change it (cache_ttls_set) */
    store_t *store;
    upstream_t *upstream;
    /* allow/deny and private patterns, never NULL once open; read in rcu sections (access.c) */
    cache_access_t *_Atomic access;
    cache_hot_t *hot;
    cache_notfound_t *notfound;
    cache_notfound_t *refresh_failed; /* stale objects whose refresh just failed: served as they are for a while */
    cache_flight_t *flight;
    cache_fetchlog_t *fetchlog;  /* what upstream fetches did (fetchlog.c) */
    atomic_bool shutting_down;   /* cache_shutdown_begin was called */
    cache_sumdb_t *sumdb;        /* verify.c: the checksum databases; fixed once open */
    shared_t *shared;            /* the shared tier, or NULL */
    bool s3_required;            /* a miss it cannot be asked about fails instead of going upstream */
    unsigned s3_gc_interval_s;   /* background bucket gc (0: never) */
    int64_t upstream_wait_ms;    /* the longest wait for another front's lease (then we fetch ourselves) */

    /* Counters since the last flush: incremented by any thread, taken by the flush. */
    atomic_uint_fast64_t hits, misses, upstream_errors;
    atomic_uint_fast64_t s3_hits; /* misses answered from the bucket (bucket.c): a copy read whole
                                     and then refused by our checks is no hit */

    pthread_mutex_t flush_lock;          /* one counter flush at a time */
    pthread_mutex_t figures_lock;        /* protects the fields below; never held across I/O */
    store_counters_t flushed;            /* what the store's counters hold (loaded at open, plus each flush) */
    store_counters_t pending;            /* taken from the atomics, being written by a flush */
    uint64_t upstream_requests_flushed;  /* part of upstream_request_count() already in flushed */
    uint64_t commits_flushed;            /* part of store_commit_figures() already in flushed ... */
    uint64_t committed_flushed;          /* ... (its commits, its objects) */
    shared_stats_t shared_flushed;       /* part of shared_stats_get() already in flushed */
    store_stats_t counts;                /* the last scan of the store */
    store_life_stats_t life;             /* the budget's figures, taken with counts */
    atomic_bool counts_stale;            /* the store changed since that scan (set by fetches) */

    pthread_mutex_t keeper_lock;         /* protects keeper_stop; keeper_cv signals it */
    pthread_cond_t keeper_cv;
    bool keeper_stop;
    bool keeper_started;
    bool counts_at_open;                 /* cfg->counts_at_open: the keeper's first scan at once */
    pthread_t keeper;

    pthread_mutex_t maint_lock;          /* protects maint_stop; maint_cv signals it */
    pthread_cond_t maint_cv;
    bool maint_stop;
    bool maint_started;
    pthread_t maintainer;
};

/* tmpfiles.c: an empty anonymous file in tmp_dir for an upstream body (a kept one, or a new
 * O_TMPFILE): the fd, or -errno with err. Any thread. */
int cache_tmp_take(cache_t *c, cache_err_t *err);
/* Gives back a file from cache_tmp_take (fd < 0 is ignored): emptied and kept, or closed. The
 * caller must not use fd afterwards, nor keep a mapping of it. */
void cache_tmp_give(cache_t *c, int fd);
/* Closes the kept files (cache_close). */
void cache_tmp_close_all(cache_t *c);

/* access.c: the rules in force for a check: valid until cache_access_leave, which must follow
 * soon and on the same thread (an rcu read-side section: no blocking, no nesting). */
const cache_access_t *cache_access_enter(cache_t *c, modfs_rcu_slot_t **slot);
void cache_access_leave(modfs_rcu_slot_t *slot);
/* access.c: a reference to the rules in force, for longer uses (released with
 * cache_access_release), and the pure checks made with it. */
cache_access_t *cache_access_acquire(cache_t *c);
void cache_access_release(cache_access_t *a);
/* 0, or -EACCES with err naming the rule that refuses key. */
int cache_access_check(const cache_access_t *a, const modkey_t *key, cache_err_t *err);
bool cache_access_is_private(const cache_access_t *a, const char *module);
/* The same with the rules in force now: whether key's module is private (fetched by the go
 * command alone, and never read from or written to the shared bucket). */
bool cache_is_private(cache_t *c, const modkey_t *key);

/* cache.c: the object under key from memory or the store, however old (no upstream, no counting):
 * 0 and a new reference, or -ENOENT. */
int cache_local_get(cache_t *c, const modkey_t *key, cache_object_t **out);
/* cache.c: stores body (already checked) under key and puts it in the hot map. 0 or -errno. */
int cache_store_put(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len, int64_t now, cache_err_t *err);

/* ---- verify.c: the checksum databases ------------------------------------------------------
 * Which databases are served, and the proof of every .mod and .zip at ingest (see verify.c). */
typedef struct cache_sumdb_db cache_sumdb_db_t;
/* Sets c->sumdb up from cfg (c->store, c->upstream and c->flight open): a client per database,
 * each starting from the tree head kept in the store. 0 or -errno with err; cache_sumdb_close
 * undoes even a failed open. */
int cache_sumdb_open(cache_t *c, const cache_config_t *cfg, cache_err_t *err);
void cache_sumdb_close(cache_t *c);
/* The database of that name if this cache serves it, else NULL. */
const cache_sumdb_db_t *cache_sumdb_find(cache_t *c, const char *name);
/* Downloads the answer key (MODKEY_SUMDB) from upstream into fd, as go would reach the database. */
int cache_sumdb_download(cache_t *c, const modkey_t *key, int fd, upstream_result_t *res, cache_err_t *err);
/* What can be checked of an answer alone before it is stored: the signature of its tree head. */
int cache_sumdb_check_answer(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len, cache_err_t *err);
/* The name of the database that proves module at ingest (the first one), or NULL when module is
 * exempt: no database, --nosumdb, or private. Any thread. */
const char *cache_sumdb_prover(cache_t *c, const char *module, bool private_module);
/* The ingest proof: body (a .mod, or a .zip parsed into z) must hash to what the first database
 * says of key's module version, unless the module is exempt (nosumdb, private: private_module
 * says whether the access rules in force made key private). Other kinds pass. 0, or -EBADMSG
 * (checksum mismatch), -ENOTRECOVERABLE, -EPROTO, -EIO (no record), a transport error, with
 * err and *reason (CACHE_SUMDB_*: all but CACHE_SUMDB_UNAVAILABLE are the database's verdict,
 * whose words name no host); each failure is logged and counted. Any thread. */
int cache_sumdb_verify(cache_t *c, const modkey_t *key, bool private_module, const uint8_t *body, size_t len,
                       const zipfile_t *z, int *reason, cache_err_t *err);
/* The proofs counted since the last flush: taken into d (and zeroed) by the counter flush, given
 * back when it fails, and added into st by cache_stats_get. Any thread. */
void cache_sumdb_counters_take(cache_t *c, store_counters_t *d);
void cache_sumdb_counters_return(cache_t *c, const store_counters_t *d);
void cache_sumdb_stats(cache_t *c, cache_stats_t *st);

/* fetch.c: downloads key from upstream, checks it by Go's rules, stores it; *out the stored
 * object. With share (the caller holds the key's lease), the stored bytes are then written to the
 * bucket too (a failure there is logged, not returned: the object is stored and served). */
int cache_fetch(cache_t *c, const modkey_t *key, int64_t now, bool share, cache_object_t **out, cache_err_t *err);
/* cache_fetch with an early answer (cache.h: cache_get_early; early NULL: none). */
int cache_fetch_early(cache_t *c, const modkey_t *key, int64_t now, bool share, cache_early_fn early, void *arg,
                      cache_object_t **out, cache_err_t *err);
/* Where a body handed to cache_ingest comes from, and what to do with it once stored. */
typedef struct cache_ingest {
    const char *origin;                 /* for messages: "upstream URL", "the bucket" */
    const shared_object_info_t *bucket; /* the manifest of a copy from the bucket; NULL: from upstream */
    bool private_module;                /* the access rules in force make key's module private */
    bool share;                         /* then write it to the bucket (the caller holds the lease) */
    cache_early_fn early;               /* NULL, or the early answer (cache.h: cache_get_early) */
    void *early_arg;
} cache_ingest_t;
/* fetch.c: the ingest boundary every body crosses, whatever its source: the body in fd is checked
 * by Go's rules, a .mod or .zip proven against the checksum database (a copy from the bucket: its
 * h1 against its manifest's, and the database's proof unless the manifest names this front's
 * database; see fetch.c), then stored; with share, then written to the bucket. -EBADMSG when the
 * body fails a check (nothing stored; from the bucket: damaged there, a refusal by the database
 * included); -EIO worded CACHE_SUMDB_REFUSED_WORDS when the database refuses upstream's body. */
int cache_ingest(cache_t *c, const modkey_t *key, int fd, const cache_ingest_t *in, int64_t now,
                 cache_object_t **out, cache_err_t *err);
/* fetch.c: cache_ingest of a body already in memory, body[0..len), with what was computed of it
 * while it arrived (arrival.c): its SHA-256 (NULL: none) and a walk of its zip members (NULL:
 * none). The same checks, in full. */
int cache_ingest_body(cache_t *c, const modkey_t *key, const uint8_t *body, size_t len, const uint8_t *sha256,
                      const zipstream_t *walk, const cache_ingest_t *in, int64_t now, cache_object_t **out,
                      cache_err_t *err);

/* arrival.c: a zip body worked on while it arrives. cache_arrival_start reserves a buffer of limit
 * bytes and starts the worker (0, or -ENOMEM with err: then fetch without it); the sink goes to
 * upstream_fetch_sink. After the fetch returned, cache_arrival_finish stops the worker and says
 * whether the body of res is the buffer (then cache_arrival_body gives it, its SHA-256 and the
 * walk, valid until cache_arrival_free) or is in the file as without this. One fetch's; the
 * sink runs on the fetch's transfer thread (one of upstream's pool), the rest on the fetching
 * thread. */
typedef struct cache_arrival cache_arrival_t;
int cache_arrival_start(uint64_t limit, cache_arrival_t **out, cache_err_t *err);
const upstream_sink_t *cache_arrival_sink(cache_arrival_t *a);
bool cache_arrival_finish(cache_arrival_t *a, const upstream_result_t *res);
const uint8_t *cache_arrival_body(const cache_arrival_t *a, size_t *len, const uint8_t **sha256,
                                  const zipstream_t **walk);
void cache_arrival_free(cache_arrival_t *a);

/* bucket.c: the walk below the local store when the shared tier is configured, for an immutable
 * key (the caller, a miss's leader, holds the key's cross-process lock): the bucket, then
 * upstream under the key's lease, written back to the bucket. Falls back to upstream alone (or
 * fails with -EREMOTEIO, s3_required) when the tier is down. */
int cache_fetch_tiered(cache_t *c, const modkey_t *key, int64_t now, cache_object_t **out, cache_err_t *err);
/* bucket.c: the bucket's part of a gc pass (cache_gc), and the background pass the maintenance
 * thread runs once per s3_gc_interval_s across the fronts of a bucket. */
int cache_bucket_gc(cache_t *c, bool dry_run, cache_gc_report_t *r, cache_err_t *err);
void cache_bucket_gc_background(cache_t *c);

/* housekeeper.c: the background thread (started by cache_open, stopped by cache_close) and the
 * counter flush it runs, also called once more at close. */
int cache_housekeeper_start(cache_t *c);
void cache_housekeeper_stop(cache_t *c);
void cache_counters_flush(cache_t *c);
void cache_counts_refresh(cache_t *c);

/* maintainer.c: the maintenance thread (eviction, gc, compaction), started by cache_open for a
 * store it may change and stopped by cache_close. */
int cache_maintainer_start(cache_t *c);
void cache_maintainer_stop(cache_t *c);

#endif
