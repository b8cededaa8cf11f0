/* SPDX-License-Identifier: MIT */
/*
 * fs_i.h — what the files of fs/ share and nothing outside fs/ may touch: the mount, the
 * users' views, the inode table, the view's node kinds, module trees, the write areas, the
 * write rules and the FUSE handlers.
 *
 * Every node is one name in one user's GOMODCACHE view (fs.h says why views are per user). Its
 * kind says where its bytes come from: the store (objects, a zip's hash, zip members), nowhere
 * (directories that exist because some module path could pass through them), modfs itself (the
 * note of a failed fetch), or the user's write area (a real file or directory under
 * write_dir/<uid> at the same relative path). Nodes form a tree through parent pointers so that a
 * path is always rebuilt from current names, also after a rename in the write area. Only the
 * mount's root is shared by every user; each of its children belongs to the view of the user
 * who looked it up, and so does everything below.
 */
#ifndef MODFS_FS_I_H
#define MODFS_FS_I_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 14)
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "cache.h"
#include "fs.h"

/* Kernel cache time of what never changes: module trees, .mod/.zip/.info of a canonical
 * version, directories of the view, names that can never be valid. */
#define FS_TTL_IMMUTABLE 86400.0
/* Kernel cache time of write-area entries, and of misses the user could create: they change
 * only through this mount, so a short time costs little and bounds the staleness of changes
 * made through the other entry point (<mount> and <mount>/gomodcache show one view). */
#define FS_TTL_WRITE 1.0
/* The directory in the mount's root that is the caller's view as a removable GOMODCACHE: the
 * last step of `go clean -modcache` (rmdir of GOMODCACHE) then succeeds, and the directory is
 * back at the next lookup. Not a module path: its first element has no dot. */
#define FS_VIEW_ROOT_NAME "gomodcache"
/* Longest note of a failed fetch shown in <version>.error. */
#define FS_NOTE_MAX 1024
/* Notes kept (the oldest go first). */
#define FS_NOTES_MAX 1024
/* Worker threads when the config says 0: enough that lookups blocked on upstream leave
 * threads for cache hits. */
#define FS_DEFAULT_MAX_THREADS 64
/* Readahead set on the mount's bdi (root only): 128 KiB default requests cap reads near
 * 2.2 GB/s, 1 MiB gave ~3.7 GB/s here. */
#define FS_READ_AHEAD_KB 1024
/* Member readers parked between reads of files read without an open handle (readers.c), and
 * how long one may sit unused before it goes (it holds its zip open). */
#define FS_READERS_MAX 32
#define FS_READER_IDLE_S 5
/* How long stop waits for the FUSE loop to end after unmounting. */
#define FS_STOP_WAIT_S 10

typedef enum fs_kind {
    FS_KIND_ROOT,       /* a view's root: the mount's root (shared, view NULL) or gomodcache/ in it */
    FS_KIND_CACHE,      /* cache/ */
    FS_KIND_DOWNLOAD,   /* cache/download/ */
    FS_KIND_DL_PREFIX,  /* cache/download/<prefix of a module path>/ */
    FS_KIND_ATV,        /* cache/download/<module>/@v/ */
    FS_KIND_OBJECT,     /* a store object: list, @latest, <v>.info, <v>.mod, <v>.zip */
    FS_KIND_ZIPHASH,    /* <v>.ziphash: the zip's h1 */
    FS_KIND_MOD_PREFIX, /* <prefix of a module path>/ in the extracted area */
    FS_KIND_MODROOT,    /* <module>@<version>/ */
    FS_KIND_MEMBER_DIR, /* a directory inside an extracted module */
    FS_KIND_MEMBER,     /* a file inside an extracted module */
    FS_KIND_WRITE,      /* exists only in the user's write area (file or directory) */
    FS_KIND_NOTE,       /* <version>.error or list.error: why the last fetch failed */
} fs_kind_t;

/*
 * One user's view: the store plus what that user's go commands wrote, minus the store's names
 * the user removed (whiteouts, until the user next looks them up). Made at the first request
 * of a uid and kept until the mount stops.
 */
typedef struct fs_view {
    htab_link_t link;           /* in the mount's table of views; protected by views_lock */
    uid_t uid;                  /* every write-area call is made as this user (modfs as root) */
    gid_t gid;                  /* primary group of the first request: the write area's group */
    pthread_mutex_t lock;       /* protects wfd's creation and everything below */
    _Atomic int wfd;            /* write_dir/<uid>, opened once; -1 until it exists */
    htab_t whiteouts;           /* fs_whiteout_t by path: store names the user removed */
    atomic_size_t nwhiteouts;   /* how many: read without the lock to skip the common case */
    atomic_uint_fast64_t epoch; /* bumped at every whiteout change: listings cached before are stale */
    htab_t notes;               /* errnote.c: why the user's last lookups of some keys failed */
    agelist_t notes_age;        /* the same notes, newest first: the oldest goes when full */
    atomic_size_t nnotes;       /* how many: read without the lock */
    /* bumped at every change of the view's own part of a listing that the store's generation
     * does not see (notes, the write area; whiteouts move epoch): dircache.c */
    atomic_uint_fast64_t listing_gen;
} fs_view_t;

/* The files of one module zip, shared by the nodes of its extracted tree: a copy of the zip's
 * member list, not a handle on the zip. The kernel keeps a tree's nodes for as long as it
 * likes; a handle would keep the zip open that long, and an open object is never evicted. An
 * open file takes the zip (cache_get by zip_key: fetched again if it was evicted meanwhile). */
typedef struct fs_module {
    atomic_uint refs;
    modkey_t *zip_key;
    cache_member_t *members;        /* sorted bytewise by path; paths point into the same block */
    size_t count;
    int64_t mtime;                  /* the zip's store time: every file and directory of the tree */
} fs_module_t;

typedef struct fs_node fs_node_t;
struct fs_node {
    /* Protected by the table lock. */
    htab_link_t link;      /* in the (parent, view, name) hash while hashed */
    fs_node_t *parent;     /* reference held; NULL for the root */
    char *name;            /* NULL for the root */
    fs_node_t *grave_next; /* on a list of nodes to free after the lock */
    fs_node_t *all_prev, *all_next; /* every live node, for the final sweep */
    bool hashed;           /* findable by (parent, view, name); false once replaced or removed */
    uint64_t nlookup;      /* the kernel's lookup count */
    uint64_t refs;         /* 1 while nlookup > 0, 1 per child node, 1 per temporary holder */

    /* Fixed once the node is published. */
    uint64_t st_ino;
    fs_view_t *view;       /* whose view the node is part of; NULL for the mount's root only */
    fs_kind_t kind;
    mode_t type;           /* S_IFDIR or S_IFREG for the view; the type found for write nodes */
    modkey_t *key;         /* OBJECT: its store key; ZIPHASH and MODROOT: the zip's key (owned) */
    char *dir_prefix;      /* DL_PREFIX, ATV, MOD_PREFIX: the escaped module-path prefix it stands for */
    bool ttl;              /* OBJECT that changes upstream: list, @latest, a version query's .info */
    uint64_t size;         /* OBJECT (when !ttl), ZIPHASH, MEMBER */
    int64_t mtime;         /* view nodes */
    char h1[48];           /* ZIPHASH */
    fs_module_t *mod;      /* MODROOT, MEMBER_DIR, MEMBER: reference held */
    size_t member;         /* MEMBER: index into mod->members */
    char *prefix;          /* MEMBER_DIR: directory path inside the module */
    char *note;            /* NOTE: the text, as it was at lookup */

    atomic_uint_fast64_t listed_epoch; /* the view's epoch at the last opendir (keep_cache only if unchanged) */

    /* dircache.c, directories whose listing the store changes; protected by the mount's stamp_lock. */
    bool stamp_hashed;     /* stamp_hash holds the hash of the listing last made */
    uint64_t stamp_hash;
    /* what that listing was made from: while all four are the same, so is the listing */
    bool stamp_current;            /* the generations below were read before that listing */
    const fs_view_t *stamp_view;
    uint64_t stamp_keys;           /* cache_keys_generation */
    uint64_t stamp_epoch, stamp_gen; /* the view's epoch and listing_gen */
};

typedef struct fs_table {
    pthread_mutex_t lock;
    htab_t hash;           /* (parent, view, name) -> node, hashed nodes only */
    fs_node_t all;         /* sentinel of the list of every live node */
} fs_table_t;

/* An open file; fi->fh points at it. Every open handle is on the mount's list, so that
 * stop can free what the kernel never released (an aborted connection sends no RELEASE). */
typedef enum fs_handle_kind {
    FS_HANDLE_OBJECT,  /* a store object */
    FS_HANDLE_BYTES,   /* a few bytes made here (.ziphash, a note) */
    FS_HANDLE_MEMBER,  /* a zip member, inflated on read */
    FS_HANDLE_WRITE,   /* a real file in the write area */
    FS_HANDLE_DIR,     /* an open directory: a snapshot of its entries */
} fs_handle_kind_t;

typedef struct fs_dirent {
    char *name;
    mode_t type;     /* S_IFDIR, S_IFREG, ... */
    bool written;    /* from the write area: wins over a view entry of the same name */
} fs_dirent_t;

typedef struct fs_dirlist {
    fs_dirent_t *v;
    size_t n, cap;
} fs_dirlist_t;

typedef struct fs_handle fs_handle_t;
struct fs_handle {
    fs_handle_kind_t kind;
    fs_handle_t *prev, *next;       /* on the mount's list; protected by handles_lock */
    cache_object_t *obj;            /* OBJECT, and the zip of a MEMBER */
    fs_module_t *mod;               /* MEMBER */
    size_t member;                  /* MEMBER */
    pthread_mutex_t lock;           /* MEMBER: a member reader belongs to one thread at a time */
    cache_member_reader_t *reader;  /* MEMBER: made on first read, so sequential reads continue */
    char *bytes;                    /* BYTES: a copy, at most FS_NOTE_MAX bytes */
    size_t nbytes;
    int fd;                         /* WRITE */
    fs_dirlist_t dir;               /* DIR: made at the first READDIR (under lock) */
    bool listed;                    /* DIR: dir is made */
};

/* The FUSE figures of /metrics (metrics.c): relaxed atomics, written by any worker thread. */
#define FS_FETCH_BUCKETS 14
#define FS_ERRNO_SLOTS 134 /* errno values below this have their own series; the rest go to the last */
typedef struct fs_metrics {
    atomic_uint_fast64_t lookups;          /* LOOKUP requests */
    atomic_uint_fast64_t lookups_negative; /* answered "no such name" */
    atomic_uint_fast64_t fetches[3];       /* lazy fetches: ok, not found, failed */
    atomic_uint_fast64_t fetch_bucket[FS_FETCH_BUCKETS + 1]; /* not cumulative; last is > largest bound */
    atomic_uint_fast64_t fetch_sum_us;
    atomic_uint_fast64_t opens;            /* OPEN requests */
    atomic_uint_fast64_t opendirs;         /* OPENDIR requests */
    atomic_uint_fast64_t readdirs;         /* READDIR and READDIRPLUS requests */
    atomic_uint_fast64_t getattrs;         /* GETATTR requests */
    atomic_uint_fast64_t reads;            /* READ requests answered */
    atomic_uint_fast64_t read_bytes;
    atomic_uint_fast64_t writes;           /* WRITE requests into write areas */
    atomic_uint_fast64_t write_bytes;
    atomic_uint_fast64_t whiteouts;        /* store names removed from a view */
    atomic_uint_fast64_t errors[FS_ERRNO_SLOTS + 1]; /* error replies by errno */
} fs_metrics_t;

/* A reader parked by readers.c: the file's inode number (0: the slot is free), its zip and the
 * inflate state to continue from. */
typedef struct fs_reader_slot {
    uint64_t ino;
    uint64_t used_s;               /* monotonic seconds of its last read */
    cache_object_t *zip;           /* reference held */
    cache_member_reader_t *reader;
} fs_reader_slot_t;

typedef struct fs_readers {
    pthread_mutex_t lock; /* protects slots */
    fs_reader_slot_t slots[FS_READERS_MAX];
} fs_readers_t;

struct fs_mount {
    cache_t *cache;
    struct fuse_session *se;
    struct fuse_loop_config *loop_cfg;
    pthread_t loop_thread;
    bool loop_started;
    int loop_rc;
    char *mountpoint;
    char *write_dir;
    int write_fd;           /* write_dir, opened once: holds one write area per user, <uid>/ */
    dev_t dev;              /* st_dev of the mount: names its bdi and fusectl entry */
    bool mounted;
    _Atomic unsigned list_ttl_s;     /* a reload may change both while lookups read them */
    _Atomic unsigned notfound_ttl_s;
    uid_t uid;              /* owner shown for the mount's root: whoever mounted */
    gid_t gid;
    bool as_root;           /* write areas get their user's owner; calls in them run as that user */
    bool allow_other;       /* several users: the root's children carry no kernel entry time */
    pthread_mutex_t views_lock;
    htab_t views;           /* uid -> fs_view_t */
    fs_metrics_t metrics;
    uint64_t init_unique;   /* kernel_io.c: the INIT request, whose reply gets PARALLEL_DIROPS */
    uint32_t kernel_flags;  /* kernel_io.c: what the kernel offered in INIT */
    bool no_open;           /* set in init, before any open: OPEN is answered ENOSYS (ops_read.c) */
    bool no_opendir;        /* set in init, before any opendir: OPENDIR is answered ENOSYS (dircache.c) */
    pthread_mutex_t stamp_lock; /* dircache.c: the listing stamps of the nodes */
    bool init_seen, init_replied;
    atomic_uint_fast64_t next_ino;
    fs_table_t table;
    fs_node_t *root;
    pthread_mutex_t handles_lock;
    fs_handle_t handles;    /* sentinel */
    fs_readers_t readers;   /* readers.c */
};

static inline fs_mount_t *fs_req_mount(fuse_req_t req)
{
    return (fs_mount_t *)fuse_req_userdata(req);
}

/* Replies an error and counts it (every handler replies errors through this). */
void fs_reply_err(fs_mount_t *m, fuse_req_t req, int err);

/* ---- view.c: users' views, their write areas and whiteouts ---- */
int fs_views_init(fs_mount_t *m);
void fs_views_dispose(fs_mount_t *m);
/*
 * The view a request on node works in: node's own view, or for the mount's root the caller's
 * (made on first use). A caller other than the view's user (or root) gets -EACCES: a view and
 * its write area are private. Returns 0 with *out, -EACCES or -ENOMEM.
 */
int fs_view_of(fs_mount_t *m, fuse_req_t req, const fs_node_t *node, fs_view_t **out);
/* The user's write area: an fd (owned by the view), or -ENOENT when it does not exist and create
 * is false; created (0700, the user's) when create is true. */
int fs_view_wfd(fs_mount_t *m, fs_view_t *v, bool create);
/* Whether path is whited out in v. */
bool fs_whiteout_has(fs_view_t *v, const char *path);
/* Hides the store's name path from v's listings; first drops the whiteouts of path's children
 * (names: those the directory listed), which path now stands for. 0 or -ENOMEM. */
int fs_whiteout_add(fs_view_t *v, const char *path, const fs_dirlist_t *children);
/* When path itself is whited out: shows it again, and everything below it (the user asked for
 * it: a kernel LOOKUP), and returns true. A name that is there keeps the whiteouts below it. */
bool fs_whiteout_clear(fs_view_t *v, const char *path);

/* Acting as the view's user in its write area (modfs as root): the write area's own modes then
 * apply as they would on a plain directory, root's included. Per thread; always leave. */
typedef struct fs_cred {
    bool on;
    int fsuid, fsgid;
} fs_cred_t;
void fs_cred_enter(fs_mount_t *m, const fs_view_t *v, fs_cred_t *c);
void fs_cred_leave(fs_cred_t *c);

/* ---- policy.c: what may be written where (modcache_write_rule plus the store and .partial) ---- */
/*
 * Whether the view's user may create path (a new name: file, directory, link target, rename
 * target). 0 when the go command writes such a name there and the store does not serve it (for a
 * module's files) and, inside <module>@<version>/, while <version>.partial exists in the write
 * area; otherwise -EROFS, or the store's error when it cannot tell.
 */
int fs_policy_may_create(fs_mount_t *m, fs_view_t *v, const char *path);
/* Whether the user may change the content of the write-area file path (open for writing,
 * truncate): -EROFS inside a module tree go has finished extracting (no .partial). */
int fs_policy_may_modify(fs_mount_t *m, fs_view_t *v, const char *path);

/* ---- errnote.c: why a user's last lookup of a key failed (<version>.error, list.error) ---- */
/* Prepares and frees v's notes (called by view.c). fs_notes_init: 0 or -ENOMEM. */
int fs_notes_init(fs_view_t *v);
void fs_notes_dispose(fs_view_t *v);
/* Records in v why a lookup of key failed (replacing the note of its version or list). */
void fs_note_put(fs_view_t *v, const modkey_t *key, const char *why);
/* Forgets v's note of key's version or list (a lookup succeeded, or the user removed it). */
void fs_note_drop(fs_view_t *v, const modkey_t *key);
/* A malloc'd copy of v's note of key's version or list, or NULL. */
char *fs_note_get(fs_view_t *v, const modkey_t *key);
/* Adds the names of v's notes in the @v directory of module esc_module to out. */
int fs_note_list(fs_view_t *v, const char *esc_module, size_t len, fs_dirlist_t *out);

/* ---- metrics.c ---- */
void fs_metrics_fetch(fs_mount_t *m, int rc, uint64_t duration_us);

/* ---- inode.c: the node table ---- */
int fs_table_init(fs_mount_t *m);
/* Frees every node still alive (after the loop has ended). */
void fs_table_dispose(fs_mount_t *m);
/* A fresh, unpublished node of kind in view (refs 0, no parent). */
fs_node_t *fs_node_new(fs_mount_t *m, fs_view_t *view, fs_kind_t kind, mode_t type);
/* Frees a node that was never published. */
void fs_node_discard(fs_node_t *n);
/* The node of a FUSE inode number; the kernel keeps it alive while it names it. */
fs_node_t *fs_node_get(fs_mount_t *m, fuse_ino_t ino);
fuse_ino_t fs_node_ino(fs_mount_t *m, const fs_node_t *n);
/*
 * Publishes cand (its view set) as (parent, cand->view, name) and counts one kernel lookup. If
 * an equivalent node is already there (same kind, type and payload), that one is counted and
 * cand is discarded; a different one is unhashed (it lives on until the kernel forgets it).
 * Returns the node.
 */
fs_node_t *fs_table_publish(fs_mount_t *m, fs_node_t *parent, const char *name, fs_node_t *cand);
/* The hashed node (parent, view, name) when it is a view node that never changes (so lookup may
 * answer without resolving again); counts one kernel lookup. NULL otherwise. */
fs_node_t *fs_table_reuse(fs_mount_t *m, fs_node_t *parent, fs_view_t *view, const char *name);
/* st_ino of the hashed node (parent, view, name), or 0. */
uint64_t fs_table_peek_ino(fs_mount_t *m, fs_node_t *parent, fs_view_t *view, const char *name);
/* Makes (parent, view, name) unfindable (after unlink or rmdir). */
void fs_table_unhash(fs_mount_t *m, fs_node_t *parent, fs_view_t *view, const char *name);
/* Follows a rename done in view's write area. flags as renameat2 (RENAME_EXCHANGE swaps). */
int fs_table_move(fs_mount_t *m, fs_view_t *view, fs_node_t *parent, const char *name, fs_node_t *newparent,
                  const char *newname, unsigned flags);
/*
 * The FUSE inode numbers of the directory nodes that show rel ("." = a view's root) in view v:
 * the one under the mount's root and the one under gomodcache/, each when the table has it,
 * and with below every directory node of v beneath them too. A malloc'd array (*count
 * entries; NULL when out of memory). The numbers are only for notifications to the kernel: a
 * node may be gone by the time one is sent.
 */
fuse_ino_t *fs_table_dirs_of(fs_mount_t *m, fs_view_t *v, const char *rel, bool below, size_t *count);
/* Drops n kernel lookups. */
void fs_node_forget(fs_mount_t *m, fs_node_t *node, uint64_t n);
/* A temporary reference, for a node used after the request that named it. */
void fs_node_ref(fs_mount_t *m, fs_node_t *node);
void fs_node_unref(fs_mount_t *m, fs_node_t *node);
/*
 * The path of node (plus "/name" when name is not NULL) relative to its view's root (the
 * mount's root or gomodcache/ in it), "." for a root itself. Returns the length or
 * -ENAMETOOLONG.
 */
int fs_node_path(fs_mount_t *m, const fs_node_t *node, const char *name, char *buf, size_t cap);

/* ---- module.c: a module's tree from its zip members ---- */
/* Takes over the reference to zip. Returns 0, -EINVAL (not a zip), -ENOMEM. */
/* The tree of zip (named key), whose handle is given up to it (unref'd, even on failure). */
int fs_module_new(cache_object_t *zip, const modkey_t *key, int64_t mtime, fs_module_t **out);
/* For an open member file: the zip, from the store (or upstream if it was evicted), checked to
 * hold member i where the tree says. 0 and *zip (a handle to unref), or -errno. */
int fs_module_zip_get(fs_mount_t *m, const fs_module_t *mod, size_t i, cache_object_t **zip);
fs_module_t *fs_module_ref(fs_module_t *mod);
void fs_module_unref(fs_module_t *mod);
/* The index of the member whose path is exactly path[0..len), or -1. */
ssize_t fs_module_find(const fs_module_t *mod, const char *path, size_t len);
/* The members under directory dir[0..len) ("" = the module root): indexes [*begin, *end). */
void fs_module_dir_range(const fs_module_t *mod, const char *dir, size_t len, size_t *begin, size_t *end);

/* ---- layout.c: what a name in a view directory is ---- */
#define FS_RESOLVE_NOFETCH 0x1 /* answer from the store alone: -EAGAIN when upstream would be needed */
#define FS_LOOKUP_KERNEL 0x2   /* a LOOKUP the kernel sent (the user asked): shows whited-out names again */
/*
 * Resolves name in the view directory parent, for view v. Returns 0 with a fresh unpublished
 * node (its view set) in *out, -ENOENT with *neg_ttl (how long the kernel may remember the
 * miss), -EAGAIN under FS_RESOLVE_NOFETCH, or another -errno (upstream failure: logged, and its
 * reason kept as the version's note).
 */
int fs_layout_resolve(fs_mount_t *m, fs_view_t *v, const fs_node_t *parent, const char *name, int flags,
                      fs_node_t **out, double *neg_ttl);
/* The store's answer for key, as lookups of view v take it (fetching unless FS_RESOLVE_NOFETCH;
 * a failed fetch logged, every failure noted in v). 0 with a reference in *o, -ENOENT, -EAGAIN,
 * or another -errno. */
int fs_layout_get(fs_mount_t *m, fs_view_t *v, const modkey_t *k, int flags, cache_object_t **o, double *neg_ttl);
/* Whether n is one of the GOMODCACHE directories of gomod.h: which, and the escaped module-path
 * prefix it stands for. */
bool fs_layout_view_dir(const fs_node_t *n, modcache_dir_t *dir, const char **prefix, size_t *plen);

/* ---- listing.c: the entries of a view directory ---- */
/* The store's entries of dir (and notes, and gomodcache/ in the mount's root), without whiteouts. */
int fs_listing_view(fs_mount_t *m, const fs_node_t *dir, fs_dirlist_t *out);
/* Drops from l the entries of the store's part that v has whited out in directory path. */
void fs_listing_hide(fs_view_t *v, const char *path, fs_dirlist_t *l);
int fs_dirlist_add(fs_dirlist_t *l, const char *name, size_t len, mode_t type, bool written);
/* Sorts by name and keeps one entry per name, the write area's when both have it. */
void fs_dirlist_finish(fs_dirlist_t *l);
void fs_dirlist_dispose(fs_dirlist_t *l);

/* ---- dircache.c: directory listings and the kernel's copies of them ---- */
/* The entries of directory node in view v: the store's (minus v's whiteouts) and the write
 * area's, sorted, one per name. 0 or -errno (out is then empty). */
int fs_dir_list(fs_mount_t *m, fs_view_t *v, const fs_node_t *node, fs_dirlist_t *out);
/* Whether the kernel keeps n's listing across opens only until n's mtime moves: a directory
 * the store changes, on a mount without OPENDIR. Such a directory's attributes carry no time. */
bool fs_dir_stamped(const fs_mount_t *m, const fs_node_t *n);
/* The mtime of a stamped directory as last told (for entry replies): *mtime is left as it is
 * (the fixed time) until the directory was first listed by fs_dir_stamp. */
void fs_dir_stamp_known(fs_mount_t *m, const fs_node_t *n, struct timespec *mtime);
/* Lists the stamped directory n for v now: its mtime, a fingerprint of the listing (for
 * GETATTR, which the kernel sends before it reuses a listing). */
void fs_dir_stamp(fs_mount_t *m, fs_view_t *v, fs_node_t *n, struct timespec *mtime);
/* Directory rel of view v changed in a way the kernel did not see (through the other entry
 * point's node of it, or at all; with below, every directory under it changed too): drops the
 * kernel's copies, except that of seen, the node the request named when the kernel saw the
 * change itself (or NULL). No-op when the mount has OPENDIR. Safe in a handler before its
 * reply too: the kernel takes no lock a request holds to drop them. */
void fs_dir_changed(fs_mount_t *m, fs_view_t *v, const char *rel, bool below, const fs_node_t *seen);
/* fs_dir_changed of the directory holding rel. */
void fs_dir_parent_changed(fs_mount_t *m, fs_view_t *v, const char *rel, const fs_node_t *seen);

/* ---- attr.c: attributes and entry replies ---- */
/*
 * The attributes of node; fd >= 0 is an open write-area file to fstat. Objects that change
 * upstream (list, @latest) are asked of the store each time, with flags as fs_layout_resolve.
 * Returns 0 or -errno.
 */
int fs_attr_get(fs_mount_t *m, fs_node_t *node, int fd, int flags, struct stat *st, double *timeout);
/* Fills e for a published node (ino, attributes, timeouts). */
int fs_attr_entry(fs_mount_t *m, fs_node_t *node, int flags, struct fuse_entry_param *e);

/* ---- lookup.c ---- */
/*
 * Looks name up in parent for view v as the kernel's LOOKUP does: the write area first, then the
 * view. Returns 0 with e filled (e->ino == 0: a negative entry, cacheable for e->entry_timeout),
 * or -errno. A positive answer counts one kernel lookup on the node.
 */
int fs_lookup_entry(fs_mount_t *m, fs_view_t *v, fs_node_t *parent, const char *name, int flags,
                    struct fuse_entry_param *e);
/* The view path of name in parent, as fs_node_path, except that gomodcache/ in the mount's root
 * is "." (the view's root itself). */
int fs_entry_path(fs_mount_t *m, const fs_node_t *parent, const char *name, char *rel, size_t cap);

/* ---- writearea.c: the real directory behind what a user's go commands write ---- */
/* fstatat in v's write area without following links; -ENOENT when absent (also when a parent is
 * a file, or the user has no write area yet). */
int fs_write_stat(fs_mount_t *m, fs_view_t *v, const char *rel, struct stat *st);
/* Creates the missing directories above rel (like mkdir -p of its dirname); call as the user. */
int fs_write_mkparents(fs_mount_t *m, fs_view_t *v, const char *rel);
/* Adds the entries of v's write-area directory rel (none if it does not exist). */
int fs_write_list(fs_mount_t *m, fs_view_t *v, const char *rel, fs_dirlist_t *out);
/* Gives a new write-area entry the exact mode asked (the kernel applied the caller's umask). */
void fs_write_mode(fs_mount_t *m, fs_view_t *v, int fd, const char *rel, mode_t mode);

/* ---- readers.c: member reads without an open handle ---- */
void fs_readers_init(fs_readers_t *r);
/* Frees every parked reader (after the loop has ended, before the cache closes). */
void fs_readers_dispose(fs_readers_t *r);
/* Reads size bytes at off of the member file node, continuing a parked reader of the same file
 * when there is one. Returns the bytes read (0 at the end) or -errno (logged). Any thread. */
ssize_t fs_readers_read(fs_mount_t *m, const fs_node_t *node, void *buf, size_t size, uint64_t off);

/* ---- kernel_io.c ---- */
/* Routes /dev/fuse I/O through hooks that add FUSE_PARALLEL_DIROPS to the INIT reply. */
int fs_kernel_io_install(fs_mount_t *m);

/* ---- handle.c: open files ---- */
fs_handle_t *fs_handle_new(fs_mount_t *m, fs_handle_kind_t kind);
void fs_handle_free(fs_mount_t *m, fs_handle_t *h);
/* Frees every handle still open (after the loop has ended). */
void fs_handles_dispose(fs_mount_t *m);
static inline fs_handle_t *fs_handle_of(const struct fuse_file_info *fi)
{
    return (fs_handle_t *)(uintptr_t)fi->fh;
}

/* ---- ops_read.c ---- */
/* The write-area file node, opened as its user with flags after the checks of an open (the
 * caller's view; the write rules when flags write or truncate). Returns an fd or -errno. */
int fs_write_open(fs_mount_t *m, fuse_req_t req, fs_node_t *node, int flags);

/* ---- FUSE handlers ---- */
void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void fs_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void fs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi);
void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi);
void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                  unsigned int flags);
void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi);
void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void fs_op_statfs(fuse_req_t req, fuse_ino_t ino);
void fs_op_access(fuse_req_t req, fuse_ino_t ino, int mask);
void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);

#endif
