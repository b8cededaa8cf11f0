/* SPDX-License-Identifier: MIT */
/*
 * cache.h — the store of Go modules, as the fronts (fs/, http/, tools/) see it: the one API they
 * use. Go's rules (keys, the GOMODCACHE layout) come with it from gomod.h, so a front holds a
 * parsed modkey_t and never parses or builds a key string itself.
 *
 * An object is named by its GOPROXY key (modkey_t: list, @latest, .info, .mod, .zip). cache_get
 * returns a reference-counted handle to an immutable snapshot of the object's bytes; a miss is
 * fetched from upstream (once, however many threads and processes ask: single-flight), checked
 * by Go's rules, stored durably, and only then returned. list and @latest are refreshed after a
 * TTL, and the stale copy is served when upstream fails. Where an answer comes from, in order:
 * the in-memory map of recent objects, the local store, the shared tier (an S3 bucket shared by
 * many fronts, when cache_config_t.s3_url is set: a miss of an immutable object looks there
 * before upstream, and what comes from upstream is written there), upstream. How bytes are stored
 * (chunks, packs, SQLite, the bucket) is invisible from here.
 *
 * Checksum databases: every .mod and .zip from upstream is proven to be what the checksum database
 * (cache_config_t.sumdb, the first one) says of that module version, as the go command proves it,
 * before it is stored; modules matching cache_config_t.nosumdb or the private patterns are not
 * checked, as go does not check them (GONOSUMDB, GOPRIVATE), and no lookup of a private module is
 * ever sent to a database. The databases' own answers are objects too (MODKEY_SUMDB keys, "sumdb/<name>/..."),
 * fetched through the same single-flight and kept in the same store, so that a proxy can serve
 * them: full tiles forever, lookups and partial tiles for the list TTL, "latest" for at most ten
 * seconds, and a stale copy when upstream fails.
 *
 * Threads: every function is safe to call from any thread, and a handle may be read from several
 * threads at once. cache_get may block on upstream unless CACHE_GET_NOFETCH is given; callers on
 * an event loop pass it and hand -EAGAIN off to a thread that may block.
 *
 * The read path never waits on a write: a cache_get that the store can answer, cache_object_read,
 * the member readers, cache_keys_visit and cache_stats_get take no lock that an ingest, a commit,
 * an fsync or a counter flush holds. Each store read runs on a database connection of its own
 * (SQLite WAL: readers beside the one writer), the object bytes are read with no lock at all,
 * counters are kept in memory and written to the store by a background thread every few seconds
 * in one transaction, and the figures of cache_stats_get come from memory.
 *
 * Errors: 0 or a negative errno, and a cache_err_t with words:
 *   -ENOENT   not found (upstream said 404/410, err->upstream_status tells which; or the
 *             negative cache remembers it)
 *   -EINVAL   the key is not a valid Go module key (modkey_parse does this check)
 *   -EBADMSG  upstream answered 200 with a body that failed validation (nothing stored)
 *   -EIO      with a message starting CACHE_SUMDB_REFUSED_WORDS: the checksum database refused
 *             the module (a .mod or .zip whose hash is not the database's, "checksum mismatch"
 *             with both hashes named; a tree head inconsistent with the one kept, SECURITY
 *             ERROR; an answer that does not verify; no record of it) or one of its own answers
 *             whose signature does not verify. Nothing stored.
 *   -EIO, -ETIMEDOUT, -ECONNREFUSED, ...  upstream failure, or a corrupt chunk on disk
 *   -EAGAIN   CACHE_GET_NOFETCH and the answer needs upstream
 *   -EREMOTEIO the answer needs the shared tier, which cannot be reached, and s3_required says
 *             not to go upstream without it
 *   -EACCES   the allow/deny rules refuse the key (err names the rule); nothing below the rules
 *             (memory, store, upstream) was touched
 *   -ECANCELED  the answer needs upstream (or the shared tier) and cache_shutdown_begin was called
 */
#ifndef MODFS_CACHE_H
#define MODFS_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "gomod.h"

typedef struct cache cache_t;
typedef struct store_object cache_object_t;
typedef struct store_member_reader cache_member_reader_t;
/* One file of a module zip: path (inside the module root), size, crc32. */
typedef zipfile_entry_t cache_member_t;

typedef struct cache_config {
    const char *dir;             /* the store's directory */
    bool must_exist;             /* reading commands: refuse (-ENOENT) a missing store, change nothing on open */
    bool counts_at_open;         /* cache_stats_get is read from the start (serve): the counts are taken
                                    as the cache opens; otherwise first a second later, so a short
                                    command (get) never pays for a scan of the index nobody reads */
    const char *upstream;        /* GOPROXY-style list, see upstream.h */
    const char *ca_file;         /* optional CA bundle for the upstream */
    unsigned list_ttl_s;         /* freshness of list and @latest */
    unsigned notfound_ttl_s;     /* how long a 404/410 is remembered */
    long connect_timeout_ms;     /* upstream handshake; 0: 5 s */
    long stall_timeout_ms;       /* an upstream silent (or under 1 KiB/s) this long fails the attempt; 0: 15 s */
    long total_timeout_ms;       /* one upstream attempt, even while its body moves; 0: 300 s */
    int retries;                 /* extra attempts on transient upstream errors (within 8 s of the first) */
    uint64_t max_size;           /* budget of the store's bytes on disk (0: none), see cache_gc */
    const char *private_patterns; /* GOPRIVATE-style globs: fetched only by the go command, never
                                     from a proxy; served over HTTP to authenticated clients only */
    const char *allow;           /* allow rules (gomod.h modpolicy), NULL for none */
    const char *deny;            /* deny rules, NULL for none */
    const char *go_command;      /* for direct fetches; "go" from PATH when NULL */
    long direct_timeout_ms;      /* one go command run (0: 300 s) */
    int direct_jobs;             /* go commands at once (0: 4) */
    /* Checksum databases: a comma-separated list of GOSUMDB values ("NAME+KEY [URL]", a known
     * name such as sum.golang.org, or "off" alone; a URL holds no comma), at most
     * CACHE_SUMDB_MAX: each is served under /sumdb/<name>/, and the first one is the one modules
     * are checked against. NULL or "": CACHE_DEFAULT_SUMDB. */
    const char *sumdb;
    const char *nosumdb;         /* GONOSUMDB globs (module.MatchPrefixPatterns): modules never checked;
                                    private_patterns are never checked either, as GOPRIVATE implies */

    /* The shared tier (NULL s3_url: none). */
    const char *s3_url;          /* http(s)://HOST[:PORT]/BUCKET[/PREFIX] */
    const char *s3_region;       /* SigV4 region; NULL: us-east-1 */
    const char *s3_credentials;  /* AWS credentials file; NULL: $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY */
    long s3_timeout_ms;          /* connecting, and the longest stall of a transfer; 0: 10 s */
    bool s3_required;            /* a miss the bucket cannot be asked about fails (-EREMOTEIO) rather
                                    than going upstream unshared */
    unsigned s3_lease_s;         /* lifetime of a fetch lease; 0: 30 s */
    unsigned s3_gc_grace_s;      /* unreferenced bytes younger than this stay in the bucket; 0: 1 h */
    unsigned s3_gc_interval_s;   /* background bucket gc, once per interval across the fronts; 0: never */
} cache_config_t;

#define CACHE_DEFAULT_UPSTREAM "https://proxy.golang.org"
#define CACHE_DEFAULT_LIST_TTL_S 60
#define CACHE_DEFAULT_NOTFOUND_TTL_S 60
#define CACHE_DEFAULT_SUMDB "sum.golang.org"

/* Fills cfg with the defaults above (dir and ca_file NULL). */
void cache_config_init(cache_config_t *cfg);

/* Checks a list of checksum databases (the syntax of cache_config_t.sumdb) without opening
 * anything, so that a configuration can refuse it at once: 0, or -EINVAL with a one-line err
 * naming the bad value. cache_open checks the same. */
#define CACHE_SUMDB_MAX 16
int cache_sumdb_list_check(const char *list, cache_err_t *err);

/* Opens (creating if needed and allowed) the store in cfg->dir and reclaims what a crash left.
 * Starts the background thread that flushes counters and refreshes the figures. Returns 0 or
 * -errno with err. */
int cache_open(const cache_config_t *cfg, cache_t **out, cache_err_t *err);
/* Waits for in-flight fetches, flushes counters, closes. Every handle must be unref'd first. */
void cache_close(cache_t *c);

/* Changes the list/@latest freshness and the not-found TTL of an open store (a reload). Any
 * thread; requests already past their freshness check keep the old value. */
void cache_ttls_set(cache_t *c, unsigned list_ttl_s, unsigned notfound_ttl_s);

/*
 * Checks an upstream list (the syntax of cache_config_t.upstream) without opening anything and
 * returns in *shown a malloc'd copy fit for messages and logs: every password replaced by
 * "xxxxx", as go's url.Redacted does. Returns 0, -EINVAL with err saying which entry is wrong,
 * or -ENOMEM.
 */
int cache_upstream_describe(const char *list, char **shown, cache_err_t *err);

/*
 * Checks an object store URL (the syntax of cache_config_t.s3_url) without contacting it; *shown
 * (may be NULL) gets a malloc'd copy for messages. 0, or -EINVAL with err saying what is wrong
 * (credentials in the URL are refused: they belong in a file or the environment).
 */
int cache_s3_describe(const char *url, char **shown, cache_err_t *err);

/* What the store last heard from upstream, for a readiness check. */
typedef struct cache_upstream_health {
    bool off;                  /* the list is "off": the store answers alone, upstream never matters */
    int64_t answer_age_ms;     /* since upstream last answered with any HTTP status; -1: never */
    int64_t failure_age_ms;    /* since a request last got no answer at all (refused, timed out,
                                  TLS failure...); -1: never */
    char failure[300];         /* what that failure was (passwords masked); "" when none */
} cache_upstream_health_t;

void cache_upstream_health(cache_t *c, cache_upstream_health_t *h);

/*
 * The start of shutdown, called before the fronts are stopped: upstream transfers in flight are
 * aborted, and from now on every cache_get that would need upstream fails at once with
 * -ECANCELED ("shutting down"), the fetches in progress included, so that every waiter (HTTP
 * fetch workers, FUSE lookups, single-flight waiters, a leader waiting for another process's
 * fetch lock) is answered within milliseconds whatever upstream does. The shared tier's part
 * stops the same way: requests to the object store in flight are aborted and waits for another
 * front's lease end (the leases this front holds are still released by cache_close). Answers
 * from the local store are still served while the fronts drain. Any thread; cannot be undone.
 */
void cache_shutdown_begin(cache_t *c);

/* Fetch policy for cache_get. */
#define CACHE_GET_NOFETCH 0x1 /* never contact upstream: -EAGAIN when the store cannot answer alone */

/*
 * Returns in *out a new reference to the object named by key, fetching it when the store lacks it
 * (or, for list/@latest, when the stored copy is older than the TTL). A MODKEY_SUMDB key of a
 * database this cache does not serve is -ENOENT, and so is a lookup of a private module (its name
 * is never sent to a database); its "supported" is no object (-EINVAL: see
 * cache_sumdb_supported). The allow/deny rules do not apply to MODKEY_SUMDB keys.
 */
int cache_get(cache_t *c, const modkey_t *key, int flags, cache_object_t **out, cache_err_t *err);

/*
 * cache_get for a caller that answers one client and may answer it before the object is
 * durable. When this call leads the fetch of key from upstream and the object is at most 32 MiB
 * (every .info and .mod, nearly every zip), early(arg, obj) is called once, on this thread, with a
 * new reference (the callee's) to an object made of the body's bytes as soon as they passed every
 * check, before the store has cut, written, made durable and committed them. The object holds its
 * bytes in memory (every read and cache_object_load of it is answered from there, never from the
 * disk); above 64 KiB that copy counts against the memory budget of loaded objects, and when the
 * budget is taken early is not called (the answer waits for the commit). Only the caller's client may
 * be answered from it: other lookups (the hot map, waiters on the same key) see the object only
 * once it is committed, and the return value and *out are still the commit's (a failed commit
 * after an early answer is logged and returned; the bytes answered were verified all the same).
 * early is never called on a hit, a waiter's miss or a fetch through the shared bucket.
 */
typedef void (*cache_early_fn)(void *arg, cache_object_t *obj);
int cache_get_early(cache_t *c, const modkey_t *key, int flags, cache_early_fn early, void *arg,
                    cache_object_t **out, cache_err_t *err);

/* Whether the module of key is private (matched by the private patterns in force); false for a
 * MODKEY_SUMDB key, which is no module's. Any thread. */
bool cache_key_is_private(cache_t *c, const modkey_t *key);

/*
 * The access rules: the allow/deny rules (gomod.h modpolicy) and the private patterns
 * (GOPRIVATE syntax), built and checked as one set that cache_access_set puts in force whole.
 * cache_open builds the first set from its config; a reload builds the next one with
 * cache_access_new (which may fail: nothing changes then) and installs it with cache_access_set
 * (which cannot). A cache_get that began before the swap finishes under the old rules; every
 * cache_get that begins after it sees the new ones. Any thread.
 */
typedef struct cache_access cache_access_t;
/* Each argument may be NULL or "" for none. 0, or -EINVAL/-ENOMEM with err naming the bad rule. */
int cache_access_new(const char *allow, const char *deny, const char *private_patterns, cache_access_t **out,
                     cache_err_t *err);
/* Frees a set that was never installed. */
void cache_access_free(cache_access_t *a);
/* Installs a (taking it over) in place of the rules in force, which are freed once no
 * cache_get uses them any more. */
void cache_access_set(cache_t *c, cache_access_t *a);

/* What $GOPROXY/sumdb/<name>/supported answers: 0 (200) when key (any MODKEY_SUMDB key) names a
 * database this cache serves, else -ENOENT (404) with err. Memory only. */
int cache_sumdb_supported(cache_t *c, const modkey_t *key, cache_err_t *err);

/*
 * Checks a stored .mod or .zip (key) against the checksum database again, as at its ingest (for
 * `modfs verify --sumdb-check`): 0 when the database agrees, or when the module is exempt (no
 * database, nosumdb, private: *exempt says so); -ENOENT when it is not stored; else the
 * verification's error (-EBADMSG for a checksum mismatch, both hashes in err) and in *reason why
 * (an index of cache_sumdb_reason_name). Never fetches the object; may ask the database. Not
 * counted in cache_stats_t (those count proofs at ingest).
 */
int cache_verify_stored(cache_t *c, const modkey_t *key, bool *exempt, int *reason, cache_err_t *err);

typedef struct cache_stat {
    uint64_t size;          /* bytes of the object as upstream served it */
    int64_t mtime;          /* when the object was stored (unix seconds); stable for immutable objects */
    uint8_t sha256[32];     /* SHA-256 of the object's bytes: ETags */
    bool immutable;         /* .info/.mod/.zip of a canonical version */
    char h1[48];            /* for a .zip: "h1:..." as go writes into .ziphash; "" otherwise */
} cache_stat_t;

void cache_object_stat(const cache_object_t *o, cache_stat_t *st);

/*
 * Reads up to len bytes at off. Returns the number of bytes read (short only at the end of the
 * object) or -EIO when a chunk on disk fails its checksum: the chunk and every object using it
 * are dropped from the store, so the next cache_get fetches them again.
 */
ssize_t cache_object_read(cache_object_t *o, void *buf, size_t len, uint64_t off);

/*
 * How many bytes from off a streaming reader should ask for next, at most max: the longest span
 * that ends on a chunk boundary (or the object's end), so that every chunk is read from disk and
 * checked once; max itself when the chunk at off alone is longer. A reader that always asks for
 * this many bytes never reads a chunk twice.
 */
size_t cache_object_span(const cache_object_t *o, uint64_t off, size_t max);

/* The whole object in memory, when it is small enough to be kept there (.info, .mod, list...);
 * base NULL otherwise. Valid while the reference is held. The fast path of cache hits. */
slice_t cache_object_bytes(const cache_object_t *o);

/*
 * The whole object in memory, for a front about to send all of it (a zip hit): 0 and *out valid
 * while the reference is held. The first call on a handle is -EAGAIN (stream it with
 * cache_object_read); a later one reads and checks every chunk once and keeps the bytes with the
 * handle, so that repeated hits of a popular zip cost neither a disk read nor a checksum.
 * -EFBIG, -ENOSPC (the memory kept for this is bounded), -ENOMEM: stream it. -EIO as
 * cache_object_read (the object was dropped: fetch it again).
 */
int cache_object_load(cache_object_t *o, slice_t *out);

/*
 * cache_object_load in two steps, for a front that must not block (an event loop): begin never
 * reads the disk. 0 and *out: the bytes are in memory already. -EAGAIN, -EFBIG, -ENOSPC, or
 * -EBUSY (another load of this handle is under way): stream it. -EINPROGRESS: a load is worth
 * doing and the caller holds the handle's one load claim; it then calls exactly once, with its
 * reference held, cache_object_load_run on a thread that may block (0 and *out, -ENOMEM, or
 * -EIO as cache_object_load), or cache_object_load_cancel.
 */
int cache_object_load_begin(cache_object_t *o, slice_t *out);
int cache_object_load_run(cache_object_t *o, slice_t *out);
void cache_object_load_cancel(cache_object_t *o);

cache_object_t *cache_object_ref(cache_object_t *o);
void cache_object_unref(cache_object_t *o);

/*
 * The files of a .zip object, sorted bytewise by path. The array stays valid while the reference
 * to zip is held. Returns 0, -EINVAL if o is not a zip, -ENOMEM, -EIO.
 */
int cache_zip_members(cache_object_t *zip, const cache_member_t **members, size_t *count);

/*
 * A reader of one member's inflated bytes. Sequential reads continue one inflate stream, so a
 * large file read in many small pieces is inflated once; a read behind the current position
 * resumes from the nearest saved inflate state (about every 1 MiB of output). A reader
 * belongs to one thread at a time; open one per FUSE file handle or per HTTP response.
 * Reads return the bytes read (short only at the end), or -EIO when the member's data does not
 * inflate to its declared size and CRC.
 */
int cache_member_reader_new(cache_object_t *zip, size_t index, cache_member_reader_t **out);
ssize_t cache_member_reader_read(cache_member_reader_t *r, void *buf, size_t len, uint64_t off);
void cache_member_reader_free(cache_member_reader_t *r);

/*
 * Calls visit with the parsed key of every stored object whose escaped key starts with prefix
 * (may be ""; modcache_visit_prefix gives the prefix of a GOMODCACHE directory), in ascending
 * order of escaped keys; stops early and returns visit's value when it returns non-zero. What is
 * cached, not what upstream has. The key is valid during the call only.
 */
typedef int (*cache_key_visit_fn)(void *arg, const modkey_t *key);
int cache_keys_visit(cache_t *c, const char *prefix, cache_key_visit_fn visit, void *arg);
/* A number that moves whenever what cache_keys_visit visits may have changed (store_keys_generation:
 * exact, never the same number for two different sets of keys; it may move with none changed).
 * No scan: for a front that keeps a listing and asks whether it may still show it. 0 or -errno. */
int cache_keys_generation(cache_t *c, uint64_t *gen);

/* The reasons a module is refused, indexes of cache_stats_t.sumdb_failures: "mismatch" (its hash
 * is not the database's), "security" (the database contradicts its kept tree head), "invalid"
 * (the database's answer does not verify), "missing" (the database has no record of it),
 * "unavailable" (the database could not be asked). cache_sumdb_reason_name: NULL past the last. */
enum {
    CACHE_SUMDB_MISMATCH,
    CACHE_SUMDB_SECURITY,
    CACHE_SUMDB_INVALID,
    CACHE_SUMDB_MISSING,
    CACHE_SUMDB_UNAVAILABLE,
    CACHE_SUMDB_REASONS
};
const char *cache_sumdb_reason_name(int reason);
/* How the message of a module or answer refused by the checksum database's verdict starts (then
 * ": " and the verdict: the module, both hashes, the database's name; never a host). */
#define CACHE_SUMDB_REFUSED_WORDS "refused by the checksum database"
/* Whether msg (a cache_err_t's) is such a refusal. */
static inline bool cache_sumdb_is_refusal(const char *msg)
{
    return strncmp(msg, CACHE_SUMDB_REFUSED_WORDS ": ", sizeof CACHE_SUMDB_REFUSED_WORDS + 1) == 0;
}

typedef struct cache_stats {
    uint64_t objects;         /* stored objects */
    uint64_t logical_bytes;   /* sum of object sizes */
    uint64_t unique_bytes;    /* raw bytes of distinct chunks (after dedup, before compression) */
    uint64_t stored_bytes;    /* bytes of those chunks as kept in the packs (after compression) */
    uint64_t disk_bytes;      /* pack files plus index on disk */
    uint64_t chunks;
    uint64_t hits;            /* cache_get answered from the store (all time) */
    uint64_t misses;          /* cache_get that went upstream (all time) */
    uint64_t upstream_requests;
    uint64_t upstream_errors;
    /* Group commit of the index (all time): COMMITs that made ingested objects visible, and how
     * many objects they made visible; concurrent ingests share a commit, so commits <= objects. */
    uint64_t store_commits;
    uint64_t committed_objects;
    /* the budget (cache_config_t.max_size) and what keeps the store within it */
    uint64_t max_bytes;       /* 0: no budget */
    uint64_t usage_bytes;     /* what the budget counts: packs, their logs and the index on disk */
    uint64_t live_bytes;      /* bytes of the packs that objects still use ... */
    uint64_t pack_bytes;      /* ... of the packs' bytes: the live share */
    uint64_t evictions;       /* objects evicted to stay within the budget (since start) */
    uint64_t evicted_bytes;
    uint64_t reclaimed_bytes; /* disk given back by garbage collection and compaction (since start) */
    uint64_t compactions;     /* packs compacted (since start) */
    /* the shared tier (all time; zero without one) */
    bool s3;                  /* configured */
    bool s3_down;             /* unreachable just now (in its back-off) */
    uint64_t s3_requests, s3_errors; /* requests to the object store, and those that got no usable answer */
    uint64_t s3_bytes_read, s3_bytes_written;
    uint64_t s3_hits;         /* misses of the local store answered from the bucket */
    uint64_t s3_writes;       /* objects written to the bucket */
    uint64_t s3_damaged;      /* objects found damaged in the bucket (fetched again) */
    uint64_t s3_lease_waits, s3_lease_takeovers; /* misses that waited for another front; dead leases taken over */
    uint64_t s3_gc_runs, s3_gc_deleted, s3_gc_deleted_bytes; /* bucket gc passes of this store's fronts, packs deleted */
    /* Checksum-database proofs of .mod and .zip at ingest (all time, as hits and misses). */
    uint64_t sumdb_verified;  /* proven to be the database's */
    uint64_t sumdb_skipped;   /* exempt: nosumdb, or no database */
    uint64_t sumdb_failures[CACHE_SUMDB_REASONS]; /* refused, by reason (cache_sumdb_reason_name) */
} cache_stats_t;

/*
 * The upstream fetches of this process (fetchlog.c), for the status page and /metrics: counts and
 * histograms since the process started, the slowest fetches of the last hour, the latest
 * failures. Each fetch of a flight is counted once, when it ends (waiters of the same flight
 * share it); a hit never touches these. Any thread; a short mutex, never held across I/O.
 */
typedef enum cache_fetch_result {
    CACHE_FETCH_OK,        /* stored (or already stored by another process) */
    CACHE_FETCH_NOT_FOUND, /* upstream said 404/410, or the list ended in off */
    CACHE_FETCH_FAILED,    /* anything else: no answer, an error status, a body that failed a check */
    CACHE_FETCH_RESULTS
} cache_fetch_result_t;
cache_fetch_result_t cache_fetch_result_of(int rc);

#define CACHE_FETCH_DURATION_BUCKETS 14
#define CACHE_FETCH_SIZE_BUCKETS 12
/* Upper bounds of the histogram buckets: microseconds, and bytes of upstream's body. */
extern const uint64_t cache_fetch_duration_bounds_us[CACHE_FETCH_DURATION_BUCKETS];
extern const uint64_t cache_fetch_size_bounds[CACHE_FETCH_SIZE_BUCKETS];

typedef struct cache_fetch_figures {
    uint64_t count[CACHE_FETCH_RESULTS];
    /* not cumulative; the last bucket is over the largest bound */
    uint64_t duration_bucket[CACHE_FETCH_RESULTS][CACHE_FETCH_DURATION_BUCKETS + 1];
    uint64_t duration_sum_us[CACHE_FETCH_RESULTS];
    uint64_t size_bucket[CACHE_FETCH_SIZE_BUCKETS + 1]; /* bodies of the fetches that were stored */
    uint64_t size_sum;
} cache_fetch_figures_t;

#define CACHE_FETCH_NOTED 10
typedef struct cache_fetch_note {
    int64_t ended_at;        /* unix seconds */
    uint64_t duration_us;    /* upstream, checks and storing */
    uint64_t bytes;          /* body bytes upstream sent */
    int rc;                  /* 0 or the -errno of the fetch */
    bool private_module;     /* matched --private: its name is not for everyone's eyes */
    cache_err_t err;         /* a failure's words; they name upstream URLs: for the operator */
    char key[MODKEY_MAX + 1]; /* escaped GOPROXY key */
} cache_fetch_note_t;

typedef struct cache_fetch_notes {
    size_t nslowest;
    cache_fetch_note_t slowest[CACHE_FETCH_NOTED]; /* of the last hour, slowest first */
    size_t nfailed;
    cache_fetch_note_t failed[CACHE_FETCH_NOTED];  /* newest first */
} cache_fetch_notes_t;

void cache_fetch_figures_get(cache_t *c, cache_fetch_figures_t *out);
/* out is large (about 30 KiB): keep it off small stacks. */
void cache_fetch_notes_get(cache_t *c, cache_fetch_notes_t *out);

/* The store's figures from memory: the counts as the background thread last took them (every
 * few seconds, and after the open when cfg->counts_at_open, else a second after it), the counters
 * as they are now. Never touches the disk. */
void cache_stats_get(cache_t *c, cache_stats_t *st);
/* The same, counted from the store now (a scan; for `modfs stat`). 0 or -errno. */
int cache_stats_scan(cache_t *c, cache_stats_t *st);

/*
 * Keeping the store within its budget happens in the background: hits are counted in memory and
 * written in batches, and a pass every second evicts what is least worth keeping (S3-FIFO: what
 * builds keep reading stays, a one-off scan goes first) down to 90% of the budget, collects the
 * chunks no object uses, and compacts the packs whose live share fell low, at a bounded rate. An
 * object with a handle open (a FUSE file, an HTTP response, a member reader) is never evicted
 * under its reader; an evicted object is fetched again on its next use. cache_gc runs a pass now.
 */
typedef struct cache_gc_report {
    uint64_t usage_before, usage_after; /* bytes on disk */
    uint64_t evicted, evicted_bytes;    /* objects evicted (over the budget) */
    uint64_t gc_chunks, gc_bytes;       /* chunks no object uses, and their bytes in the packs */
    uint64_t compacted_packs, copied_bytes, reclaimed_bytes;
    /* the bucket, when the shared tier is configured */
    bool bucket;
    uint64_t bucket_objects;            /* objects the bucket holds */
    uint64_t bucket_packs, bucket_bytes;/* packs in it, and their bytes */
    uint64_t bucket_deleted, bucket_deleted_bytes; /* packs no object names, past the grace period */
    uint64_t bucket_young, bucket_young_bytes;     /* packs no object names yet, within the grace period */
    uint64_t bucket_leases;             /* abandoned leases deleted */
} cache_gc_report_t;

/* A pass now, waiting for one another process may be running: evict down to the budget, collect,
 * compact; with the shared tier, collect the bucket too (see shared.h: what no manifest names,
 * older than the grace period; safe beside other fronts writing). With dry_run nothing changes and
 * the report says what collection would free. progress (may be NULL) is called with the report as
 * it grows. */
typedef void (*cache_gc_progress_fn)(void *arg, const cache_gc_report_t *so_far);
int cache_gc(cache_t *c, bool dry_run, cache_gc_progress_fn progress, void *arg, cache_gc_report_t *r,
             cache_err_t *err);

/* Reads every chunk of the store and checks every hash (the checksum of the stored bytes, the
 * SHA-256 address of the raw bytes). With heal, a damaged chunk is dropped with the objects using
 * it, to be fetched again on their next use. progress(arg, done, total) is called now and then.
 * 0 with *checked and *damaged, or -errno with err. */
typedef void (*cache_progress_fn)(void *arg, uint64_t done, uint64_t total);
int cache_verify(cache_t *c, bool heal, uint64_t *checked, uint64_t *damaged, cache_progress_fn progress,
                 void *arg, cache_err_t *err);

/* What cache_sumdb_recheck found. */
typedef struct cache_sumdb_recheck {
    uint64_t verified;   /* .mod and .zip the database still vouches for */
    uint64_t exempt;     /* not checked: no database, --nosumdb, private */
    uint64_t refused[CACHE_SUMDB_REASONS]; /* the database does not vouch for them, by reason
                                              (never "unavailable": those are unchecked) */
    uint64_t unchecked;  /* the database could not be asked about them */
} cache_sumdb_recheck_t;
/* Called for each module refused, with the reason (an index of cache_sumdb_reason_name) and the
 * proof's words (both hashes for a mismatch). */
typedef void (*cache_sumdb_refused_fn)(void *arg, const modkey_t *key, int reason, const char *why);
/*
 * Checks every stored .mod and .zip against the first checksum database again (cache_verify_stored
 * for each; for `modfs verify --sumdb-check`); changes nothing of the modules. progress(parg, done,
 * total) now and then. 0 with *r (err then holds the first "unchecked" reason, if any), or -errno
 * with err when the store could not be listed. May run beside a modfs serve on the same store.
 */
int cache_sumdb_recheck(cache_t *c, cache_sumdb_refused_fn refused, void *arg, cache_progress_fn progress,
                        void *parg, cache_sumdb_recheck_t *r, cache_err_t *err);

/* What `modfs repair` did (see cache_repair). */
typedef struct cache_repair_report {
    unsigned packs;             /* packs read */
    unsigned packs_without_log; /* packs from before pack logs existed: their objects cannot be restored */
    uint64_t objects;           /* objects restored */
    uint64_t objects_skipped;   /* objects with a chunk gone or damaged: fetched again when asked for */
    uint64_t chunks_bad;        /* recorded chunks whose bytes are gone or fail their checksum */
    char moved_aside[4096];     /* where the old index.db went ("" when there was none) */
} cache_repair_report_t;

/*
 * Rebuilds the index of the store in dir from the logs beside its packs, checking every chunk it
 * restores; the old index.db is moved aside, never deleted. Run it when cache_open refuses a
 * store whose index is damaged or missing. No modfs process may be using the store (-EBUSY).
 * 0 or -errno with err.
 */
int cache_repair(const char *dir, cache_repair_report_t *report, cache_err_t *err);

#endif
