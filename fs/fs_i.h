/* SPDX-License-Identifier: MIT */
/*
 * fs_i.h — what the files of fs/ share and nothing outside fs/ may touch: the mount, the
 * inode table, the view's node kinds, module trees, the write area and the FUSE handlers.
 *
 * Every node is one name in the GOMODCACHE view. Its kind says where its bytes come from:
 * the store (objects, a zip's hash, zip members), nowhere (directories that exist because
 * some module path could pass through them), or the write area (a real file or directory
 * under write_dir at the same relative path). Nodes form a tree through parent pointers so
 * that a path is always rebuilt from current names, also after a rename in the write area.
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

#include "cache.h"
#include "fs.h"

/* Kernel cache time of what never changes: module trees, .mod/.zip/.info of a canonical
 * version, directories of the view, names that can never be valid. */
#define FS_TTL_IMMUTABLE 86400.0
/* Kernel cache time of write-area entries: they change only through this mount, so a
 * short time costs little and bounds the damage of edits made beside the mount. */
#define FS_TTL_WRITE 1.0
/* Worker threads when the config says 0: enough that lookups blocked on upstream leave
 * threads for cache hits. */
#define FS_DEFAULT_MAX_THREADS 64
/* Readahead set on the mount's bdi (root only): 128 KiB default requests cap reads near
 * 2.2 GB/s, 1 MiB gave ~3.7 GB/s here. */
#define FS_READ_AHEAD_KB 1024

typedef enum fs_kind {
    FS_KIND_ROOT,       /* the mount's root: cache/ plus the extracted trees */
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
    FS_KIND_WRITE,      /* exists only in the write area (file or directory) */
} fs_kind_t;

/* The files of one module zip, shared by the nodes of its extracted tree. */
typedef struct fs_module {
    atomic_uint refs;
    cache_object_t *zip;            /* reference held; keeps members valid */
    const cache_member_t *members;  /* sorted bytewise by path */
    size_t count;
    int64_t mtime;                  /* the zip's store time: every file and directory of the tree */
} fs_module_t;

typedef struct fs_node fs_node_t;
struct fs_node {
    /* Protected by the table lock. */
    htab_link_t link;      /* in the (parent, name) hash while hashed */
    fs_node_t *parent;     /* reference held; NULL for the root */
    char *name;            /* NULL for the root */
    fs_node_t *grave_next; /* on a list of nodes to free after the lock */
    fs_node_t *all_prev, *all_next; /* every live node, for the final sweep */
    bool hashed;           /* findable by (parent, name); false once replaced or removed */
    uint64_t nlookup;      /* the kernel's lookup count */
    uint64_t refs;         /* 1 while nlookup > 0, 1 per child node, 1 per temporary holder */

    /* Fixed once the node is published. */
    uint64_t st_ino;
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
};

typedef struct fs_table {
    pthread_mutex_t lock;
    htab_t hash;           /* (parent, name) -> node, hashed nodes only */
    fs_node_t all;         /* sentinel of the list of every live node */
} fs_table_t;

/* An open file; fi->fh points at it. Every open handle is on the mount's list, so that
 * stop can free what the kernel never released (an aborted connection sends no RELEASE). */
typedef enum fs_handle_kind {
    FS_HANDLE_OBJECT,  /* a store object */
    FS_HANDLE_BYTES,   /* a few bytes made here (.ziphash) */
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
    cache_object_t *obj;            /* OBJECT */
    fs_module_t *mod;               /* MEMBER */
    size_t member;                  /* MEMBER */
    pthread_mutex_t lock;           /* MEMBER: a member reader belongs to one thread at a time */
    cache_member_reader_t *reader;  /* MEMBER: made on first read, so sequential reads continue */
    char bytes[48];                 /* BYTES */
    size_t nbytes;
    int fd;                         /* WRITE */
    fs_dirlist_t dir;               /* DIR */
};

struct fs_mount {
    cache_t *cache;
    struct fuse_session *se;
    struct fuse_loop_config *loop_cfg;
    pthread_t loop_thread;
    bool loop_started;
    int loop_rc;
    char *mountpoint;
    char *write_dir;
    int write_fd;           /* write_dir, opened once; every write-area call is relative to it */
    dev_t dev;              /* st_dev of the mount: names its bdi and fusectl entry */
    bool mounted;
    _Atomic unsigned list_ttl_s;     /* a reload may change both while lookups read them */
    _Atomic unsigned notfound_ttl_s;
    uid_t uid;              /* owner shown for view nodes: whoever mounted */
    gid_t gid;
    bool as_root;           /* new write-area files get the caller's owner */
    uint64_t init_unique;   /* kernel_io.c: the INIT request, whose reply gets PARALLEL_DIROPS */
    uint32_t kernel_flags;  /* kernel_io.c: what the kernel offered in INIT */
    bool init_seen, init_replied;
    atomic_uint_fast64_t next_ino;
    fs_table_t table;
    fs_node_t *root;
    pthread_mutex_t handles_lock;
    fs_handle_t handles;    /* sentinel */
};

static inline fs_mount_t *fs_req_mount(fuse_req_t req)
{
    return (fs_mount_t *)fuse_req_userdata(req);
}

/* ---- inode.c: the node table ---- */
int fs_table_init(fs_mount_t *m);
/* Frees every node still alive (after the loop has ended). */
void fs_table_dispose(fs_mount_t *m);
/* A fresh, unpublished node of kind (refs 0, no parent). */
fs_node_t *fs_node_new(fs_mount_t *m, fs_kind_t kind, mode_t type);
/* Frees a node that was never published. */
void fs_node_discard(fs_node_t *n);
/* The node of a FUSE inode number; the kernel keeps it alive while it names it. */
fs_node_t *fs_node_get(fs_mount_t *m, fuse_ino_t ino);
fuse_ino_t fs_node_ino(fs_mount_t *m, const fs_node_t *n);
/*
 * Publishes cand as (parent, name) and counts one kernel lookup. If an equivalent node is
 * already there (same kind, type and payload), that one is counted and cand is discarded;
 * a different one is unhashed (it lives on until the kernel forgets it). Returns the node.
 */
fs_node_t *fs_table_publish(fs_mount_t *m, fs_node_t *parent, const char *name, fs_node_t *cand);
/* The hashed node (parent, name) when it is a view node that never changes (so lookup may
 * answer without resolving again); counts one kernel lookup. NULL otherwise. */
fs_node_t *fs_table_reuse(fs_mount_t *m, fs_node_t *parent, const char *name);
/* st_ino of the hashed node (parent, name), or 0. */
uint64_t fs_table_peek_ino(fs_mount_t *m, fs_node_t *parent, const char *name);
/* Makes (parent, name) unfindable (after unlink or rmdir). */
void fs_table_unhash(fs_mount_t *m, fs_node_t *parent, const char *name);
/* Follows a rename done in the write area. flags as renameat2 (RENAME_EXCHANGE swaps). */
int fs_table_move(fs_mount_t *m, fs_node_t *parent, const char *name, fs_node_t *newparent, const char *newname,
                  unsigned flags);
/* Drops n kernel lookups. */
void fs_node_forget(fs_mount_t *m, fs_node_t *node, uint64_t n);
/* A temporary reference, for a node used after the request that named it. */
void fs_node_ref(fs_mount_t *m, fs_node_t *node);
void fs_node_unref(fs_mount_t *m, fs_node_t *node);
/*
 * The path of node (plus "/name" when name is not NULL) relative to the mount's root,
 * "." for the root itself. Returns the length or -ENAMETOOLONG.
 */
int fs_node_path(fs_mount_t *m, const fs_node_t *node, const char *name, char *buf, size_t cap);

/* ---- module.c: a module's tree from its zip members ---- */
/* Takes over the reference to zip. Returns 0, -EINVAL (not a zip), -ENOMEM. */
int fs_module_new(cache_object_t *zip, int64_t mtime, fs_module_t **out);
fs_module_t *fs_module_ref(fs_module_t *mod);
void fs_module_unref(fs_module_t *mod);
/* The index of the member whose path is exactly path[0..len), or -1. */
ssize_t fs_module_find(const fs_module_t *mod, const char *path, size_t len);
/* The members under directory dir[0..len) ("" = the module root): indexes [*begin, *end). */
void fs_module_dir_range(const fs_module_t *mod, const char *dir, size_t len, size_t *begin, size_t *end);

/* ---- layout.c: what a name in a view directory is ---- */
#define FS_RESOLVE_NOFETCH 0x1 /* answer from the store alone: -EAGAIN when upstream would be needed */
/*
 * Resolves name in the view directory parent. Returns 0 with a fresh unpublished node in *out,
 * -ENOENT with *neg_ttl (how long the kernel may remember the miss), -EAGAIN under
 * FS_RESOLVE_NOFETCH, or another -errno (upstream failure).
 */
int fs_layout_resolve(fs_mount_t *m, const fs_node_t *parent, const char *name, int flags, fs_node_t **out,
                      double *neg_ttl);
/* Whether n is one of the GOMODCACHE directories of gomod.h: which, and the escaped module-path
 * prefix it stands for. */
bool fs_layout_view_dir(const fs_node_t *n, modcache_dir_t *dir, const char **prefix, size_t *plen);

/* ---- listing.c: the entries of a view directory ---- */
int fs_listing_view(fs_mount_t *m, const fs_node_t *dir, fs_dirlist_t *out);
int fs_dirlist_add(fs_dirlist_t *l, const char *name, size_t len, mode_t type, bool written);
/* Sorts by name and keeps one entry per name, the write area's when both have it. */
void fs_dirlist_finish(fs_dirlist_t *l);
void fs_dirlist_dispose(fs_dirlist_t *l);

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
 * Looks name up in parent as the kernel's LOOKUP does: the write area first, then the view.
 * Returns 0 with e filled (e->ino == 0: a negative entry, cacheable for e->entry_timeout), or
 * -errno. A positive answer counts one kernel lookup on the node.
 */
int fs_lookup_entry(fs_mount_t *m, fs_node_t *parent, const char *name, int flags, struct fuse_entry_param *e);

/* ---- writearea.c: the real directory behind what the go command writes ---- */
/* fstatat without following links; -ENOENT when absent (also when a parent is a file). */
int fs_write_stat(fs_mount_t *m, const char *rel, struct stat *st);
/* Creates the missing directories above rel (like mkdir -p of its dirname). */
int fs_write_mkparents(fs_mount_t *m, const char *rel);
/* Adds the entries of the write-area directory rel (none if it does not exist). */
int fs_write_list(fs_mount_t *m, const char *rel, fs_dirlist_t *out);
/* Gives a new write-area entry the caller's owner and the exact mode asked (umask applied by the kernel). */
void fs_write_own(fs_mount_t *m, fuse_req_t req, int fd, const char *rel, mode_t mode);

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

#endif
