/* SPDX-License-Identifier: MIT */
/*
 * store_i.h — what the files of store/ share and nothing outside it may include: the store and
 * object structs, and the internal interfaces of the index (index.c), the pack files (pack.c),
 * the chunker (chunker.c), the member table (members.c) and the fault points of test builds.
 */
#ifndef MODFS_STORE_I_H
#define MODFS_STORE_I_H

#include <pthread.h>
#include <stdatomic.h>

#include "store.h"

/* Objects up to this size are kept whole in memory once opened (every .info, nearly every .mod
 * and list): a cache hit is then a hash lookup and one send, no disk read. */
#define STORE_INLINE_MAX (64u << 10)
/* Larger objects asked for whole again and again are loaded into memory once (store_object_load):
 * at most this many bytes each, and this many in all per store. A load runs in one go on the
 * thread that calls store_object_load_run (for HTTP a loader thread, never an event loop). */
#define STORE_LOAD_OBJECT_MAX (32ull << 20)
#define STORE_LOAD_BUDGET (256ull << 20)

/* ---- the index (index.c) -----------------------------------------------------------------
 * Tables: chunks (content address → where the bytes are, how they are coded, their checksum),
 * objects (key → size, hashes, times, and the object's layout: the list of its chunks with their
 * locations, one BLOB so that opening an object is one row read), zip_members (key → the sorted
 * member table of a zip, one BLOB), counters. */

typedef struct store_index store_index_t;

#define CHUNK_CODEC_RAW 0
#define CHUNK_CODEC_ZSTD 1

typedef struct store_chunk {
    int64_t id;
    uint64_t offset;       /* in the pack */
    uint64_t xxh3;         /* of the stored bytes: checked on every read */
    uint32_t pack;
    uint32_t stored_size;
    uint32_t raw_size;
    uint8_t codec;
    uint8_t hash[32];      /* SHA-256 of the raw bytes: the address (only filled where needed) */
} store_chunk_t;

/* An object's row: its facts and its layout. */
typedef struct store_row {
    store_object_info_t info;
    int queue;             /* the eviction queue a new object enters (evict.c) */
    store_chunk_t *chunks; /* in object order; malloc'd */
    size_t nchunks;
} store_row_t;

int store_index_open(const char *path, store_index_t **out, cache_err_t *err);
void store_index_close(store_index_t *ix);
/* Loads an object's row (a reader connection). 0, -ENOENT, -EIO, -ENOMEM. */
int store_index_object_get(store_index_t *ix, const char *key, store_row_t *out);
void store_row_dispose(store_row_t *r);
/* Finds a stored chunk by address (a reader connection). 0 (out filled), -ENOENT. */
int store_index_chunk_find(store_index_t *ix, const uint8_t hash[32], store_chunk_t *out);
/*
 * Commits an object in one transaction (the writer): every chunk of row->chunks (hash filled;
 * location filled for chunks this ingest wrote) is inserted unless its address is already known,
 * in which case the known location is used and written back into row->chunks; then the object
 * row and, for zips, the member table (members may be NULL) replace any previous ones.
 * Grouped: concurrent callers' objects go into one transaction and one COMMIT (one fsync), each
 * in a savepoint of its own, so one caller's failure (-EAGAIN, a constraint) leaves the others'
 * rows in; each caller returns once the COMMIT holding its rows is done, with its own result.
 * Call it only for pack bytes already durable: they become visible to everyone at that COMMIT.
 */
int store_index_object_put(store_index_t *ix, const char *key, store_row_t *row, const buf_t *members,
                           cache_err_t *err);
/* How many object commits (COMMITs of the group commit) made how many objects visible since the
 * index was opened: fewer commits than objects when concurrent ingests shared one. */
void store_index_group_figures(store_index_t *ix, uint64_t *commits, uint64_t *objects);
/* A number that moves whenever a commit of any connection, in this process or another, may have
 * changed the index (PRAGMA data_version of a connection kept for it): equal numbers mean the
 * same keys. 0 or -errno. */
int store_index_generation(store_index_t *ix, uint64_t *gen);
/* Loads the member table BLOB of a zip object (a reader connection). 0, -ENOENT. */
int store_index_members_get(store_index_t *ix, const char *key, buf_t *out);
/* Forgets a chunk whose bytes failed their check and every object that uses it (the writer),
 * if it is still where it was read from (a chunk compaction has since moved elsewhere is not the
 * damaged copy); calls dropped(arg, key) for each object removed, after the commit. */
int store_index_chunk_drop(store_index_t *ix, const store_chunk_t *chunk, store_drop_fn dropped, void *arg);
/* Forgets every chunk of pack whose bytes reach past from (0: the whole pack) and every object
 * using one of them, in one transaction (the writer): the pack is gone or shorter than the index
 * says. Calls dropped(arg, key) for each object removed, after the commit. */
int store_index_pack_drop(store_index_t *ix, uint32_t pack, uint64_t from, store_drop_fn dropped, void *arg);
/* Calls visit with every pack the index refers to and where its referenced bytes end. */
int store_index_packs_visit(store_index_t *ix, int (*visit)(void *arg, uint32_t pack, uint64_t end), void *arg);
/* PRAGMA quick_check: 0, or -EUCLEAN with what SQLite found. */
/* Commits without waiting for the disk (durable = false, for a rebuild that is redone if it
 * crashes) or with (true, the default; also checkpoints the write-ahead log into index.db). */
int store_index_set_durable(store_index_t *ix, bool durable);
int store_index_check(store_index_t *ix, cache_err_t *err);
/* Where the indexed bytes of a pack end. */
int store_index_pack_end(store_index_t *ix, uint32_t pack, uint64_t *end);
int store_index_keys_visit(store_index_t *ix, const char *prefix, store_key_visit_fn visit, void *arg);
int store_index_stats(store_index_t *ix, store_stats_t *st);
int store_index_counters_add(store_index_t *ix, const store_counters_t *delta);
int store_index_counters_get(store_index_t *ix, store_counters_t *out);

/* ---- the lifecycle in the index (index_life.c) --------------------------------------------- */

/* One object as the eviction policy sees it. */
typedef struct store_candidate {
    char *key;        /* owned */
    int queue;        /* STORE_QUEUE_SMALL or STORE_QUEUE_MAIN */
    int freq;         /* uses since it entered its queue, 0 to 3 */
    int64_t seq;      /* order of entry */
    uint64_t charge;  /* stored bytes of its chunks (shared ones counted in full) */
    bool evict;       /* the pass removes it */
    bool changed;     /* the pass moved it (queue, freq, seq) */
} store_candidate_t;

#define STORE_QUEUE_SMALL 0
#define STORE_QUEUE_MAIN 1

/* Every object, oldest entry first. */
int store_index_candidates(store_index_t *ix, store_candidate_t **out, size_t *count);
void store_candidates_free(store_candidate_t *v, size_t n);
/* A policy pass in one transaction: evicted objects removed (references released), moved ones
 * updated; then dropped(arg, key) for each evicted one. */
int store_index_policy_apply(store_index_t *ix, const store_candidate_t *v, size_t n, store_drop_fn dropped,
                             void *arg);
/* Adds uses (capped at 3 in all) to objects, in one transaction. */
int store_index_uses_add(store_index_t *ix, const char *const *keys, const unsigned *uses, size_t n);
/* Removes chunks no layout names; *chunks and *bytes say how many and their stored bytes (with
 * dry_run, only counted). */
int store_index_gc(store_index_t *ix, bool dry_run, uint64_t *chunks, uint64_t *bytes);
/* Calls visit with every pack the index refers to: its live stored bytes, where they end. */
int store_index_packs_live(store_index_t *ix, int (*visit)(void *arg, uint32_t pack, uint64_t live, uint64_t end),
                           void *arg);
/* The chunks of a pack, by offset (hash filled). */
int store_index_pack_chunks(store_index_t *ix, uint32_t pack, store_chunk_t **out, size_t *count);
/* Switches every chunk of old_pack to its new location (moved: id and new pack/offset) and
 * rewrites every layout naming one, in one transaction; then rewritten(arg, key) for each object
 * whose layout changed. -ESTALE (nothing changed) when a chunk of old_pack is not among moved. */
int store_index_move_chunks(store_index_t *ix, uint32_t old_pack, const store_chunk_t *moved, size_t n,
                            store_drop_fn rewritten, void *arg);
/* Calls visit with every chunk of the index, by pack and offset; *total gets their number first. */
int store_index_chunks_visit(store_index_t *ix, int (*visit)(void *arg, const store_chunk_t *c), void *arg,
                             uint64_t *total);
/* 1 when an object is stored under key, 0 when not, or -errno. */
int store_index_key_exists(store_index_t *ix, const char *key);

/* ---- pack files (pack.c) -----------------------------------------------------------------
 * Each process writes to one pack at a time, which it holds with an exclusive flock, so several
 * modfs processes sharing a cache dir never append to the same file. Packs are only appended to;
 * a crash leaves at most bytes past the last indexed chunk, which the next writer to adopt that
 * pack cuts off (the index says where the referenced bytes end). */

#define PACK_MAX_BYTES (256ull << 20) /* a pack is closed for writing past this size */
#define PACK_MAX_COUNT 65536

typedef struct store_packs store_packs_t;

/* Tells the pack set where the indexed bytes of pack_id end (0 if none), to cut a crashed tail. */
typedef int (*store_pack_end_fn)(void *arg, uint32_t pack_id, uint64_t *end);

int store_packs_open(const char *dir, store_pack_end_fn referenced_end, void *arg, store_packs_t **out,
                     cache_err_t *err);
void store_packs_close(store_packs_t *ps);
/* Cuts every pack no other process is writing back to its indexed end: what a crash between a
 * pack write and its index commit left. Called at open by a store that may write. */
int store_packs_reclaim(store_packs_t *ps, cache_err_t *err);
/* The packs one write has put uncommitted bytes in. From the append until store_pack_unhold
 * (after the commit, or the failure), such a pack is not deleted or cut by this process (it
 * counts as writing) nor by another (this process keeps its flock'd fd): before the commit the
 * index names nothing there, and the pack would look empty, or its tail crashed. */
#define STORE_PACK_HOLDS_MAX 1024 /* a zip of go's 500 MB limit in packs of the least segment, 1 MiB */
typedef struct store_pack_holds {
    uint32_t ids[STORE_PACK_HOLDS_MAX];
    size_t n;
} store_pack_holds_t;

/* Appends the stored bytes of chunk c (stored_size of them at data; hash, raw_size, codec and
 * xxh3 filled) to this process's writable pack and its record to the pack's log; sets c->pack
 * and c->offset. With holds, the pack is held for the caller (see above). */
int store_pack_append(store_packs_t *ps, const void *data, store_chunk_t *c, store_pack_holds_t *holds,
                      cache_err_t *err);
void store_pack_unhold(store_packs_t *ps, store_pack_holds_t *holds);
/* Appends records (made by store_packlog_object) to the log of this process's writable pack. */
int store_pack_log(store_packs_t *ps, const buf_t *records, cache_err_t *err);
/* Makes every append so far durable (fdatasync of the packs and their logs). */
int store_pack_sync(store_packs_t *ps, cache_err_t *err);
/* Reads exactly len bytes at off of pack_id. 0, -EIO (short or failed read). No lock. */
int store_pack_read(store_packs_t *ps, uint32_t pack_id, uint64_t off, void *buf, size_t len);
/* Bytes of all pack files and their logs on disk. */
uint64_t store_packs_disk_bytes(store_packs_t *ps);
/* The size past which a pack is closed for writing (PACK_MAX_BYTES unless a budget asks less). */
void store_packs_set_segment(store_packs_t *ps, uint64_t bytes);
/* Whether this process appends to pack id right now, or holds uncommitted bytes there. */
bool store_pack_is_writing(store_packs_t *ps, uint32_t id);
/* Unlinks pack id and its log. */
int store_pack_remove(store_packs_t *ps, uint32_t id);
/* Calls fn with the id of every pack file (ids can have gaps once packs are compacted away). */
int store_packs_each(store_packs_t *ps, int (*fn)(store_packs_t *ps, uint32_t id, void *arg), void *arg);
/* Whether pack id has a log (packs written before logs existed have none). */
bool store_pack_has_log(store_packs_t *ps, uint32_t id);
/* The writer's lock of pack id, if no process holds it: an fd to close, or -EBUSY / -errno. */
int store_pack_trylock(store_packs_t *ps, uint32_t id);
/* The size of pack id's file: 0 and *size set, -ENOENT when it is gone. */
int store_pack_size(store_packs_t *ps, uint32_t id, uint64_t *size);
/* Reads pack id's whole log into out (-ENOENT when there is none). */
int store_pack_log_read(store_packs_t *ps, uint32_t id, buf_t *out);
/* Forgets the open read fd of a pack (it was found gone or damaged). */
void store_pack_forget(store_packs_t *ps, uint32_t id);
/* Whether the read fd kept for pack id is of another file than the one now named so (another
 * process deleted the pack and a new one took its number): then the fd is replaced and true is
 * returned, and a failed read is worth one more try before anything is called damaged. */
bool store_pack_reopened(store_packs_t *ps, uint32_t id);

/* ---- pack logs (packlog.c) ----------------------------------------------------------------
 * Beside each pack, a log of what it holds: a record per chunk appended and per object committed,
 * so that the index can be rebuilt from the packs (rebuild.c). */

#define PACKLOG_CHUNK 1
#define PACKLOG_OBJECT 2
#define PACKLOG_RECORD_OVERHEAD 16 /* bytes of a record besides its payload */

/* Append a chunk's or an object's record to out. seq orders the records of one key (later
 * wins): a wall-clock time in nanoseconds. */
int store_packlog_chunk(buf_t *out, const store_chunk_t *c);
int store_packlog_object(buf_t *out, const char *key, const store_row_t *row, const buf_t *members, int64_t seq);

/* An object record, decoded: pointers into the log bytes. */
typedef struct store_packlog_object {
    int64_t seq;
    char key[MODKEY_MAX + 1];
    store_row_t row;        /* info only; chunks not filled */
    size_t nchunks;
    const uint8_t *hashes;  /* nchunks addresses of 32 bytes, in object order */
    const uint8_t *members; /* the member table blob of a zip, or members_len 0 */
    size_t members_len;
} store_packlog_object_t;

int store_packlog_decode_chunk(const uint8_t *p, size_t len, store_chunk_t *c);
int store_packlog_decode_object(const uint8_t *p, size_t len, store_packlog_object_t *o);
/* Calls fn for each whole, well-formed record of log bytes p[0..len) in order, until one is not
 * (a torn tail) or fn returns non-zero; returns the offset where the good records end. */
typedef int (*store_packlog_fn)(void *arg, int type, const uint8_t *payload, size_t len, uint64_t offset);
uint64_t store_packlog_scan(const uint8_t *p, size_t len, store_packlog_fn fn, void *arg);

/* ---- chunk boundaries (chunker.c) ---------------------------------------------------------
 * Boundaries follow content (FastCDC with a gear hash and normalised chunking), so an insertion
 * moves only the boundaries near it; for zips they also follow member boundaries, so that each
 * member's compressed data starts a chunk and two versions of a module share the chunks of every
 * unchanged file. Local headers (which name "<module>@<version>/...", so differ per version)
 * become chunks of their own. */

#define CHUNKER_MIN (16u << 10)
#define CHUNKER_AVG (64u << 10)
#define CHUNKER_MAX (256u << 10)

/* Length of the first chunk of p[0..len): a content-defined cut, never more than CHUNKER_MAX,
 * len itself when len ≤ CHUNKER_MIN. */
size_t store_chunker_cut(const uint8_t *p, size_t len);

/* A run of the object that chunking treats as one unit before content-defined cuts. */
typedef struct store_segment {
    uint64_t offset;
    uint64_t len;
    bool compressed; /* already deflated data: storing it raw saves a futile zstd pass */
} store_segment_t;

/* Splits an object of size bytes into segments: for a zip (z not NULL) the glue before each
 * member's data (previous data descriptor, local header), each member's data, and the tail
 * (central directory); otherwise the whole object. Empty segments are omitted. Returns the number
 * of segments written to *out (malloc'd, caller frees) or -ENOMEM. */
long store_chunker_segments(uint64_t size, const zipfile_t *z, store_segment_t **out);

/* ---- the store and its objects ------------------------------------------------------------ */

#define STORE_DEAD_MAX 256

struct store {
    char *dir;
    store_index_t *index;
    store_packs_t *packs;
    store_drop_fn drop_hook;
    void *drop_arg;

    /* The lifecycle (evict.c, compact.c). */
    bool life_ready;
    uint64_t max_bytes;           /* the budget (0: none); set before other threads use the store */
    uint64_t low_bytes;           /* what a pass evicts down to */
    uint64_t segment_bytes;       /* packs are closed for writing past this size */
    uint64_t ceiling_bytes;       /* what compaction's copies may take the disk to (0: no bound); maint_lock */
    pthread_mutex_t uses_lock;    /* used: objects with uses since the last flush (each holds a reference) */
    struct store_object *used;
    pthread_mutex_t ghost_lock;   /* ghost and its FIFO: keys recently evicted from the small queue */
    htab_t ghost;
    struct ghost_entry *ghost_oldest, *ghost_newest;
    pthread_mutex_t open_lock;    /* open_keys: key -> handles open on the object */
    htab_t open_keys;
    _Atomic uint32_t *pins;       /* per pack id: open objects pointing into it (a pack with pins stays) */
    pthread_mutex_t maint_lock;   /* one maintenance pass at a time in this process; maint_fd */
    int maint_fd;                 /* maintain.lock, flock'd by a pass: one at a time across processes */
    pthread_mutex_t maint_dead_lock; /* dead, ndead: compacted packs waiting for their readers */
    uint32_t dead[STORE_DEAD_MAX];
    size_t ndead;
    atomic_bool garbage;          /* objects were replaced or dropped since the last gc */
    _Atomic uint64_t deleted_pack_bytes; /* sizes of the packs this process deleted */
    /* What maintenance did over the store's life, in the counters table too: loaded at open,
     * added to by each pass of this process. */
    _Atomic uint64_t evictions, evicted_bytes, reclaimed_bytes, compactions;
    _Atomic uint64_t loaded_bytes; /* held by objects loaded whole (store_object_load) */
};

/* Where a member's bytes are inside its zip, beside the public zipfile_entry_t. */
typedef struct store_member_loc {
    uint64_t data_offset;
    uint64_t compressed_size;
    uint16_t method;
} store_member_loc_t;

struct store_object {
    atomic_uint refs;
    store_t *store;
    char *key;                /* escaped key */
    store_object_info_t info;
    store_chunk_t *chunks;    /* layout, object order */
    uint64_t *chunk_start;    /* chunk_start[i] = offset of chunks[i] in the object; [nchunks] = size */
    size_t nchunks;
    uint8_t *bytes;           /* whole object when size <= STORE_INLINE_MAX, else NULL */
    _Atomic(uint8_t *) loaded; /* a larger object loaded whole and checked (store_object_load), or
                                  an early object's copy (store_object_build_early): set once,
                                  freed with the object; charged to store.loaded_bytes */
    atomic_uint load_asks;    /* store_object_load calls while not loaded */
    atomic_bool loading;      /* a load is claimed (store_object_load_begin) and not yet over */
    bool noted;               /* counted in the store's open objects and pack pins */
    atomic_uint uses;         /* hits since the last flush of uses */
    atomic_bool use_queued;   /* on the store's used list */
    struct store_object *used_next; /* the used list: set under store.uses_lock, read by the flush
                                       that took the list until it clears use_queued */

    pthread_mutex_t members_lock; /* protects the member fields while they load */
    bool members_loaded;
    zipfile_entry_t *members;      /* sorted by path */
    store_member_loc_t *member_locs;
    char *member_names;           /* storage of every path */
    size_t nmembers;
};

/* object.c: builds an object from a row (takes over row->chunks). bytes, when not NULL, is the
 * whole object already in memory (a fresh ingest); otherwise small objects are read and checked
 * now. 0, -EIO (a corrupt chunk, already dropped), -ENOMEM. */
int store_object_build(store_t *s, const char *key, store_row_t *row, const uint8_t *bytes, store_object_t **out);
/* object.c: the early object of an ingest (store.h: store_put_with), before a chunk is cut: info's
 * facts, a copy of body's info->size bytes in memory (a larger object's copy charged to
 * store.loaded_bytes until its last unref), no layout (nothing reads the packs for it), and a
 * zip's member table decoded from members (NULL: none). 0, -EFBIG past STORE_EARLY_MAX, -ENOSPC
 * when the copy would take the loaded bytes past STORE_LOAD_BUDGET, -ENOMEM, -EINVAL (members). */
int store_object_build_early(store_t *s, const char *key, const store_object_info_t *info, const uint8_t *body,
                             const uint8_t *members, size_t members_len, store_object_t **out);

/* members.c: the member table of a zip, as stored in the index and as held by an object. */
int store_members_encode(const zipfile_t *z, size_t prefix_len, buf_t *out);
int store_members_decode(store_object_t *o, const uint8_t *p, size_t len);

/* ---- the lifecycle (evict.c, compact.c) ----------------------------------------------------- */

int store_life_init(store_t *s);
void store_life_dispose(store_t *s);
/* Writes the uses noted since the last flush, in one transaction. */
int store_flush_uses(store_t *s);
/* The queue a new object enters: main when its key was evicted from the small queue lately. */
int store_admit_queue(store_t *s, const char *key);
/* A handle on key was opened (+1) or closed (-1). */
void store_open_note(store_t *s, const char *key, int delta);
/* One eviction pass freeing (by charge) at least need bytes, if that many can go. */
int store_evict(store_t *s, uint64_t need, store_life_report_t *r);
/* gc, deletion of the packs with nothing live, then compaction of sparse packs (and, with a
 * target, of any pack with dead bytes while the store's disk is over target bytes), then
 * deletion again. dry_run only counts. */
int store_collect(store_t *s, bool dry_run, uint64_t target, store_life_report_t *r);
/* store_maintain for an ingest about to add room bytes: when they would take the store over its
 * budget, eviction first makes room for them (down to the low mark less room). */
int store_maintain_for(store_t *s, uint64_t room);
/* Compacted packs an open object still points into: deleted once it closes. */
void store_dead_pack_add(store_t *s, uint32_t id);
void store_release_dead_packs(store_t *s);

/* ---- soundness and healing (heal.c) ------------------------------------------------------- */

/* Before the index is opened: refuses (-EUCLEAN, with the repair command) an index.db that is
 * missing or empty while packs/ holds data. */
int store_check_index_file(const char *dir, const char *index_path, cache_err_t *err);
/* After: quick_check (a damaged index is -EUCLEAN with the repair command), then every pack the
 * index refers to must be there and long enough; with heal, the objects using lost bytes are
 * dropped (else only reported). */
int store_check(store_t *s, bool heal, cache_err_t *err);
/* A read found pack gone or shorter than the index says: drops every chunk of the lost bytes and
 * every object using one, at once. */
int store_heal_pack(store_t *s, uint32_t pack);

/* ---- fault points (fault.c) ---------------------------------------------------------------
 * In builds with tests (-Dtests=true), MODFS_FAULT=<name> makes the process kill itself with
 * SIGKILL when it reaches the named step, so crash tests land exactly where they claim. In other
 * builds the macro is empty. Names: see fault.c. */
#ifdef MODFS_FAULT_POINTS
void store_fault_point(const char *name);
#define STORE_FAULT(name) store_fault_point(name)
#else
#define STORE_FAULT(name) ((void)0)
#endif

#endif
