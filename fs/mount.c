/* SPDX-License-Identifier: MIT */
/*
 * mount.c — the mount's life: checks, the FUSE session, the loop thread, start and stop.
 *
 * libfuse's multi-threaded loop runs on a thread of its own, so fs_mount_start returns and the
 * caller keeps its thread for signals. The pool is allowed many threads (64 by default)
 * because a lookup of a module the store lacks blocks its thread on upstream; cache hits must
 * not queue behind it. Stopping unmounts: the kernel then ends the connection, every worker's
 * read of /dev/fuse fails with ENODEV and the loop returns on its own. A mount still in use
 * is forced (MNT_FORCE aborts a FUSE connection) rather than left waiting, since the process
 * is going away. No signal handlers are installed: the caller blocks the signals and waits
 * for them itself, and the loop threads inherit that mask.
 *
 * A mountpoint left behind by a killed modfs answers stat with ENOTCONN; that is reported
 * with the command that clears it, before anything else is touched. A mountpoint that is itself
 * a live mount (another modfs, or anything else) is refused: a second mount would stack on it
 * and hide it from every build while both processes keep running.
 *
 * The mount runs without default_permissions: the store's names must be immutable for root as
 * well, and a user must be able to remove store names from their own view through the view's
 * 0555 directories (`go clean -modcache`), so modfs decides every write itself (policy.c), and
 * calls in a write area run as its user so that the area's real modes apply (view.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs_i.h"

extern char **environ;

/* While the session is created and mounted, libfuse's complaints are kept here instead of
 * logged, and become part of the one error fs_mount_start returns: a failed mount is then one
 * line, not libfuse's line followed by ours. */
static _Thread_local char *fs_capture;
static _Thread_local size_t fs_capture_cap;

static void fs_fuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
    if (fs_capture != NULL && level <= FUSE_LOG_WARNING) {
        if (fs_capture[0] == '\0') {
            vsnprintf(fs_capture, fs_capture_cap, fmt, ap);
            size_t n = strlen(fs_capture);
            while (n > 0 && fs_capture[n - 1] == '\n')
                fs_capture[--n] = '\0';
        }
        return;
    }
    modfs_log_level_t l = level <= FUSE_LOG_ERR ? LOG_LEVEL_ERROR
                    : level <= FUSE_LOG_WARNING ? LOG_LEVEL_WARN
                    : level <= FUSE_LOG_INFO ? LOG_LEVEL_INFO
                                             : LOG_LEVEL_DEBUG;
    if (!modfs_log_enabled(l))
        return;
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    modfs_log_write(l, "fuse: %s", line);
}

static void fs_op_init(void *userdata, struct fuse_conn_info *conn)
{
    fs_mount_t *m = userdata;
    /* One read at a time per open file, in increasing offset order: a member reader then
     * inflates each file once, front to back, instead of restarting when two readahead
     * requests of one file are served out of order by two threads. Different files are
     * still read in parallel. */
    conn->want &= ~FUSE_CAP_ASYNC_READ;
    /* Zero-message opens (ops_read.c): OPEN is answered ENOSYS and the kernel opens files on
     * its own from then on. An open with O_TRUNC must then still reach setattr, where the
     * store's files refuse it: with atomic O_TRUNC the kernel would leave it to the OPEN it
     * no longer sends, and believe a store file empty. */
    m->no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
    if (m->no_open)
        conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
    /* No OPENDIR either (dircache.c): the kernel then keeps every listing until the
     * directory's mtime moves, which it checks (auto_inval_data) before reusing one. Only for
     * one user: the mount's root would otherwise keep one user's listing for all. */
    m->no_opendir = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) && (conn->capable & FUSE_CAP_AUTO_INVAL_DATA) &&
                    !m->allow_other;
    if (m->no_opendir)
        conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
    /* PARALLEL_DIROPS is asked for in kernel_io.c: libfuse 3.14 drops it from the reply. */
}

static const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_op_init,
    .lookup = fs_op_lookup,
    .forget = fs_op_forget,
    .forget_multi = fs_op_forget_multi,
    .getattr = fs_op_getattr,
    .setattr = fs_op_setattr,
    .open = fs_op_open,
    .read = fs_op_read,
    .release = fs_op_release,
    .opendir = fs_op_opendir,
    .readdir = fs_op_readdir,
    .readdirplus = fs_op_readdirplus,
    .releasedir = fs_op_releasedir,
    .create = fs_op_create,
    .mknod = fs_op_mknod,
    .mkdir = fs_op_mkdir,
    .unlink = fs_op_unlink,
    .rmdir = fs_op_rmdir,
    .rename = fs_op_rename,
    .write = fs_op_write,
    .flush = fs_op_flush,
    .fsync = fs_op_fsync,
    .statfs = fs_op_statfs,
    .access = fs_op_access,
    .link = fs_op_link,
    .symlink = fs_op_symlink,
};

/* Larger readahead on the mount's bdi: best effort, root only. */
static void fs_tune_readahead(fs_mount_t *m)
{
    char path[128], val[16];
    snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(m->dev), minor(m->dev));
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        LOG_D("fs: %s: %s", path, strerror(errno));
        return;
    }
    int n = snprintf(val, sizeof(val), "%d", FS_READ_AHEAD_KB);
    if (write(fd, val, (size_t)n) != n)
        LOG_D("fs: %s: %s", path, strerror(errno));
    close(fd);
}

static void *fs_loop_main(void *arg)
{
    fs_mount_t *m = arg;
    m->loop_rc = fuse_session_loop_mt(m->se, m->loop_cfg);
    if (m->loop_rc != 0)
        LOG_D("fs: FUSE loop ended with %d", m->loop_rc);
    return NULL;
}

/* Runs `fusermount3 -u [-z] -q -- dir` (the way a non-root owner unmounts). */
static int fs_fusermount_unmount(const char *dir, bool lazy)
{
    char *argv[8];
    int n = 0;
    argv[n++] = "fusermount3";
    argv[n++] = "-u";
    argv[n++] = "-q";
    if (lazy)
        argv[n++] = "-z";
    argv[n++] = "--";
    argv[n++] = (char *)dir;
    argv[n] = NULL;
    pid_t pid;
    int status;
    if (posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ) != 0)
        return -ENOENT;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EBUSY;
}

static void fs_unmount(fs_mount_t *m)
{
    if (!m->mounted)
        return;
    m->mounted = false;
    if (geteuid() == 0) {
        if (umount2(m->mountpoint, UMOUNT_NOFOLLOW) == 0 || errno == EINVAL || errno == ENOENT)
            return;
        LOG_W("fs: %s is busy; aborting the FUSE connection", m->mountpoint);
        umount2(m->mountpoint, MNT_FORCE | UMOUNT_NOFOLLOW);
        umount2(m->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW);
        return;
    }
    if (fs_fusermount_unmount(m->mountpoint, false) == 0)
        return;
    LOG_W("fs: %s is busy; detaching it, the loop ends when its last user leaves", m->mountpoint);
    fs_fusermount_unmount(m->mountpoint, true);
}

static void fs_mount_free(fs_mount_t *m)
{
    if (m->se) {
        fs_unmount(m);
        if (m->loop_started) {
            /* The connection ends when the last mount of it goes. A process in another mount
             * namespace that copied ours (a service started with a private /tmp while we were
             * mounted) keeps one alive after our unmount, and the loop would read on for ever:
             * then the threads are left behind, and so is everything they use. */
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += FS_STOP_WAIT_S;
            if (pthread_timedjoin_np(m->loop_thread, NULL, &deadline) != 0) {
                LOG_W("fs: the FUSE connection of %s is still open %d s after unmounting (another mount "
                      "namespace holds a copy of the mount?): leaving its threads behind",
                      m->mountpoint, FS_STOP_WAIT_S);
                return;
            }
        }
        /* The connection is gone: this closes /dev/fuse and finds nothing left to unmount. */
        fuse_session_unmount(m->se);
        fuse_session_destroy(m->se);
    }
    if (m->loop_cfg)
        fuse_loop_cfg_destroy(m->loop_cfg);
    fs_handles_dispose(m);
    fs_readers_dispose(&m->readers);
    fs_table_dispose(m);
    fs_views_dispose(m);
    pthread_mutex_destroy(&m->handles_lock);
    pthread_mutex_destroy(&m->stamp_lock);
    if (m->write_fd >= 0)
        close(m->write_fd);
    free(m->mountpoint);
    free(m->write_dir);
    free(m);
}

/* realpath of an existing directory, for the nesting check. */
static int fs_same_or_below(const char *inner, const char *outer)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(inner, a) || !realpath(outer, b))
        return 0;
    size_t bl = strlen(b);
    return strncmp(a, b, bl) == 0 && (a[bl] == '\0' || a[bl] == '/' || bl == 1);
}

/* Whether the directory stx describes is the root of a mount. */
static bool fs_is_mount_root(const char *dir, const struct statx *stx)
{
    if (stx->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
        return (stx->stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    /* Kernels before 5.8: a mount's root is on another device than its parent, or is "/". */
    char parent[PATH_MAX];
    struct stat a, b;
    snprintf(parent, sizeof parent, "%s/..", dir);
    if (stat(dir, &a) < 0 || stat(parent, &b) < 0)
        return false;
    return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/* Entries of the write dir left by a modfs that kept one write area for everybody: ignored now
 * (each user has write_dir/<uid>), said once so that they can be removed. */
static void fs_warn_old_layout(fs_mount_t *m)
{
    int fd = dup(m->write_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strspn(de->d_name, "0123456789") == strlen(de->d_name))
            continue;
        LOG_W("fs: %s/%s is from an older modfs that kept one write area for every user; it is no longer "
              "shown (each user's writes are in %s/<uid>): remove it",
              m->write_dir, de->d_name, m->write_dir);
    }
    closedir(d);
}

int fs_mount_start(cache_t *cache, const fs_config_t *cfg, fs_mount_t **out, cache_err_t *err)
{
    struct stat st;
    struct statfs sfs;
    int rc;

    *out = NULL;
    if (!cache || !cfg || !cfg->mountpoint || !cfg->mountpoint[0] || !cfg->write_dir || !cfg->write_dir[0])
        return cache_err_set(err, -EINVAL, "fs: mountpoint and write_dir are required");

    /* Forced sync: the kernel may still hold the dead mount's root attributes and answer a
     * plain stat from them; only a request to the (gone) daemon shows ENOTCONN. */
    struct statx stx;
    if (statx(AT_FDCWD, cfg->mountpoint, AT_STATX_FORCE_SYNC, STATX_TYPE | STATX_MODE, &stx) < 0 ||
        statfs(cfg->mountpoint, &sfs) < 0) {
        rc = -errno;
        if (rc == -ENOTCONN)
            return cache_err_set(err, rc,
                                 "mountpoint %s is a dead FUSE mount (its modfs was killed); clear it with: "
                                 "fusermount3 -u %s",
                                 cfg->mountpoint, cfg->mountpoint);
        return cache_err_set(err, rc, "mountpoint %s: %s", cfg->mountpoint, strerror(-rc));
    }
    if (!S_ISDIR(stx.stx_mode))
        return cache_err_set(err, -ENOTDIR, "mountpoint %s is not a directory", cfg->mountpoint);
    if (fs_is_mount_root(cfg->mountpoint, &stx))
        return cache_err_set(err, -EBUSY,
                             "mountpoint %s is already a mount point (%s): a second mount would hide it; "
                             "unmount it first (fusermount3 -u %s) or choose another directory",
                             cfg->mountpoint,
                             sfs.f_type == 0x65735546 ? "a FUSE file system, another modfs?" : "another file system",
                             cfg->mountpoint);
    if ((rc = path_mkdirs_at(AT_FDCWD, cfg->write_dir, 0700)) < 0)
        return cache_err_set(err, rc, "write dir %s: %s", cfg->write_dir, strerror(-rc));
    if (fs_same_or_below(cfg->write_dir, cfg->mountpoint))
        return cache_err_set(err, -EINVAL, "write dir %s must not be inside the mountpoint %s", cfg->write_dir,
                             cfg->mountpoint);

    fs_mount_t *m = calloc(1, sizeof(*m));
    if (!m)
        return cache_err_set(err, -ENOMEM, "fs: out of memory");
    m->write_fd = -1;
    m->handles.next = m->handles.prev = &m->handles;
    pthread_mutex_init(&m->handles_lock, NULL);
    pthread_mutex_init(&m->stamp_lock, NULL);
    fs_readers_init(&m->readers);
    if (fs_views_init(m) < 0) {
        rc = cache_err_set(err, -ENOMEM, "fs: out of memory");
        goto fail;
    }
    m->cache = cache;
    m->uid = getuid();
    m->gid = getgid();
    m->as_root = geteuid() == 0;
    m->allow_other = cfg->allow_other;
    atomic_init(&m->list_ttl_s, cfg->list_ttl_s);
    atomic_init(&m->notfound_ttl_s, cfg->notfound_ttl_s);
    atomic_init(&m->next_ino, FUSE_ROOT_ID + 1);
    m->mountpoint = realpath(cfg->mountpoint, NULL);
    m->write_dir = strdup(cfg->write_dir);
    if (!m->mountpoint || !m->write_dir) {
        rc = cache_err_set(err, -ENOMEM, "fs: out of memory");
        goto fail;
    }
    m->write_fd = open(cfg->write_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->write_fd < 0) {
        rc = -errno;
        cache_err_set(err, rc, "write dir %s: %s", cfg->write_dir, strerror(-rc));
        goto fail;
    }
    /* Each user's area inside is the user's own (0700); the directory holding them is modfs's. */
    struct stat wst;
    if (fstat(m->write_fd, &wst) == 0 && (wst.st_mode & 077) && wst.st_uid == geteuid() && fchmod(m->write_fd, 0700) < 0)
        LOG_W("fs: write dir %s: chmod 0700: %s", cfg->write_dir, strerror(errno));
    if ((rc = fs_table_init(m)) < 0) {
        cache_err_set(err, rc, "fs: out of memory");
        goto fail;
    }
    fs_warn_old_layout(m);

    fuse_set_log_func(fs_fuse_log);
    char opts[128];
    snprintf(opts, sizeof(opts), "fsname=modfs,subtype=modfs%s", cfg->allow_other ? ",allow_other" : "");
    char *argv[] = {"modfs", "-o", opts, cfg->debug ? "-d" : NULL, NULL};
    struct fuse_args args = FUSE_ARGS_INIT(cfg->debug ? 4 : 3, argv);
    char said[256] = "";
    fs_capture = said;
    fs_capture_cap = sizeof said;
    m->se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), m);
    fuse_opt_free_args(&args);
    if (!m->se) {
        fs_capture = NULL;
        rc = cache_err_set(err, -EINVAL, "fs: cannot create the FUSE session (options: %s)%s%s", opts,
                           said[0] ? ": " : "", said);
        goto fail;
    }
    int mrc = fuse_session_mount(m->se, m->mountpoint);
    fs_capture = NULL;
    if (mrc != 0) {
        rc = cache_err_set(err, -EIO, "fs: cannot mount on %s: %s%s", m->mountpoint,
                           said[0] ? said : "is /dev/fuse there?",
                           cfg->allow_other ? " (allow_other as non-root needs user_allow_other in /etc/fuse.conf)" : "");
        goto fail;
    }
    m->mounted = true;
    if ((rc = fs_kernel_io_install(m)) < 0) {
        cache_err_set(err, rc, "fs: cannot hook the FUSE device I/O: %s", strerror(-rc));
        goto fail;
    }

    m->loop_cfg = fuse_loop_cfg_create();
    if (!m->loop_cfg) {
        rc = cache_err_set(err, -ENOMEM, "fs: out of memory");
        goto fail;
    }
    fuse_loop_cfg_set_max_threads(m->loop_cfg, cfg->max_threads > 0 ? (unsigned)cfg->max_threads
                                                                     : FS_DEFAULT_MAX_THREADS);
    fuse_loop_cfg_set_clone_fd(m->loop_cfg, 0);

    /* The loop's threads take this thread's mask: keep the stop signals off them. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = -pthread_create(&m->loop_thread, NULL, fs_loop_main, m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0) {
        cache_err_set(err, rc, "fs: cannot start the FUSE loop: %s", strerror(-rc));
        goto fail;
    }
    m->loop_started = true;
    /* Only now: a stat of the mount waits for the loop to answer INIT and GETATTR. */
    if (stat(m->mountpoint, &st) == 0)
        m->dev = st.st_dev;
    if (m->as_root)
        fs_tune_readahead(m);
    LOG_I("fs: mounted on %s (each user's writes kept in %s/<uid>)", m->mountpoint, m->write_dir);
    *out = m;
    return 0;

fail:
    fs_mount_free(m);
    return rc;
}

void fs_mount_reload(fs_mount_t *m, const fs_config_t *cfg)
{
    atomic_store(&m->list_ttl_s, cfg->list_ttl_s);
    atomic_store(&m->notfound_ttl_s, cfg->notfound_ttl_s);
}

void fs_mount_stop(fs_mount_t *m)
{
    if (!m)
        return;
    fs_mount_free(m);
}
