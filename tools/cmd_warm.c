/* SPDX-License-Identifier: MIT */
/*
 * cmd_warm.c — `modfs warm [PATH...]`: fill the store with every module version that go.mod,
 * go.sum and go.work files name, so that `modfs serve --upstream off` can serve the builds that
 * use them with no network.
 *
 * Each module version becomes the objects the go command asks a proxy for: .info, .mod and .zip
 * for a module whose code is built (a go.mod require, a go.sum "h1:" line of the zip), the .mod
 * alone for a go.sum "/go.mod" line (go read only its requirements). The list is deduplicated
 * and fetched by --jobs threads through cache_get, which already makes concurrent fetches of one
 * key a single upstream request. Progress goes to stderr: a redrawn bar on a terminal, one line
 * per module version otherwise (a CI log). A summary goes to stdout, and every failure is
 * listed on stderr with a non-zero exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "report.h"
#include "gomod.h"

typedef struct warm_job {
    char *path;
    char *version;
    bool gomod_only;
    bool failed;
    char why[600];
} warm_job_t;

typedef struct warm {
    cache_t *cache;
    gomod_file_t refs; /* everything the files name, then sorted and merged into jobs */
    warm_job_t *jobs;
    size_t njobs;
    uint64_t total_objects;
    pthread_mutex_t mu; /* protects next, the plain progress lines and done_cv */
    pthread_cond_t done_cv;
    size_t next;
    bool tty;
    _Atomic size_t jobs_done, failed;
    _Atomic uint64_t objects_done, fetched, stored, bytes;
    struct timespec start;
} warm_t;

/* ---- reading the files ---- */

static int read_whole(const char *path, char **text, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EISDIR;
    else if ((uint64_t)st.st_size > GOMODFILE_MAX_SIZE)
        rc = -EFBIG;
    char *buf = rc == 0 ? malloc((size_t)st.st_size + 1) : NULL;
    if (rc == 0 && buf == NULL)
        rc = -ENOMEM;
    size_t got = 0;
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *text = buf;
    *len = got;
    return 0;
}

typedef enum file_kind { FILE_MOD, FILE_SUM, FILE_WORK } file_kind_t;

static int read_dir(warm_t *w, const char *dir, bool from_work);

/* Reads one file of kind into w->refs; a go.work's use directories are read in turn. */
static int read_file(warm_t *w, const char *path, file_kind_t kind)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_whole(path, &text, &len);
    if (rc != 0) {
        print_error("warm: %s: %s", path, rc == -EFBIG ? "larger than go reads" : strerror(-rc));
        return rc;
    }
    gomod_file_t f;
    cache_err_t err = {0};
    rc = kind == FILE_MOD ? gomod_parse_mod(text, len, path, &f, &err)
         : kind == FILE_SUM ? gomod_parse_sum(text, len, path, &f, &err)
                            : gomod_parse_work(text, len, path, &f, &err);
    free(text);
    if (rc != 0) {
        print_error("warm: %s", err.msg);
        return rc;
    }
    for (size_t i = 0; i < f.nrefs && rc == 0; i++)
        rc = gomod_file_add(&w->refs, f.refs[i].path, f.refs[i].version, f.refs[i].gomod_only, f.refs[i].line);
    /* go.work: "use" directories are relative to the go.work's own directory */
    char *copy = strdup(path);
    const char *base = copy != NULL ? dirname(copy) : ".";
    for (size_t i = 0; i < f.nuses && rc == 0; i++) {
        char sub[PATH_MAX];
        if (f.uses[i].dir[0] == '/')
            snprintf(sub, sizeof sub, "%s", f.uses[i].dir);
        else
            snprintf(sub, sizeof sub, "%s/%s", base, f.uses[i].dir);
        rc = read_dir(w, sub, true);
    }
    free(copy);
    gomod_file_dispose(&f);
    return rc;
}

static bool exists(const char *dir, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, name);
    struct stat st;
    return stat(out, &st) == 0 && S_ISREG(st.st_mode);
}

/* A directory: its go.work (and go.work.sum), go.mod and go.sum, whichever are there. A module
 * named by a go.work's use must have a go.mod. */
static int read_dir(warm_t *w, const char *dir, bool from_work)
{
    static const struct {
        const char *name;
        file_kind_t kind;
    } names[] = {{"go.work", FILE_WORK}, {"go.work.sum", FILE_SUM}, {"go.mod", FILE_MOD}, {"go.sum", FILE_SUM}};
    bool any = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[PATH_MAX];
        if (from_work && names[i].kind == FILE_WORK)
            continue;
        if (!exists(dir, names[i].name, path, sizeof path)) {
            if (from_work && names[i].kind == FILE_MOD) {
                print_error("warm: %s: the go.work uses it, but it has no go.mod", dir);
                return -ENOENT;
            }
            continue;
        }
        any = true;
        int rc = read_file(w, path, names[i].kind);
        if (rc != 0)
            return rc;
    }
    if (!any) {
        print_error("warm: %s: no go.mod, go.sum or go.work there", dir);
        return -ENOENT;
    }
    return 0;
}

static int read_arg(warm_t *w, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) {
        print_error("warm: %s: %s", arg, strerror(errno));
        return -errno;
    }
    if (S_ISDIR(st.st_mode))
        return read_dir(w, arg, false);
    char *copy = strdup(arg);
    if (copy == NULL)
        return -ENOMEM;
    const char *name = basename(copy);
    size_t n = strlen(name);
    file_kind_t kind = strcmp(name, "go.work") == 0                      ? FILE_WORK
                       : n >= 4 && strcmp(name + n - 4, ".sum") == 0     ? FILE_SUM
                       : n >= 4 && strcmp(name + n - 4, ".mod") == 0     ? FILE_MOD
                                                                          : (file_kind_t)-1;
    free(copy);
    if ((int)kind == -1) {
        print_error("warm: %s: not a go.mod, go.sum or go.work file", arg);
        return -EINVAL;
    }
    return read_file(w, arg, kind);
}

static int ref_cmp(const void *a, const void *b)
{
    const gomod_ref_t *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c != 0 ? c : strcmp(x->version, y->version);
}

/* Sorts the refs and merges each module version into one job (its zip wanted if any ref wants it). */
static int make_jobs(warm_t *w)
{
    gomod_ref_t *r = w->refs.refs;
    size_t n = w->refs.nrefs;
    if (n > 0)
        qsort(r, n, sizeof *r, ref_cmp);
    w->jobs = calloc(n > 0 ? n : 1, sizeof *w->jobs);
    if (w->jobs == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        warm_job_t *last = w->njobs > 0 ? &w->jobs[w->njobs - 1] : NULL;
        if (last != NULL && strcmp(last->path, r[i].path) == 0 && strcmp(last->version, r[i].version) == 0) {
            last->gomod_only = last->gomod_only && r[i].gomod_only;
            continue;
        }
        w->jobs[w->njobs++] = (warm_job_t){.path = r[i].path, .version = r[i].version, .gomod_only = r[i].gomod_only};
    }
    for (size_t i = 0; i < w->njobs; i++)
        w->total_objects += w->jobs[i].gomod_only ? 1 : 3;
    return 0;
}

/* ---- fetching ---- */

static double elapsed_s(const warm_t *w)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - w->start.tv_sec) + (double)(now.tv_nsec - w->start.tv_nsec) / 1e9;
}

static void fetch_job(warm_t *w, warm_job_t *job)
{
    static const modkey_kind_t all[] = {MODKEY_INFO, MODKEY_MOD, MODKEY_ZIP}, mod_only[] = {MODKEY_MOD};
    static const char *const names[] = {[MODKEY_INFO] = ".info", [MODKEY_MOD] = ".mod", [MODKEY_ZIP] = ".zip"};
    const modkey_kind_t *kinds = job->gomod_only ? mod_only : all;
    size_t nkinds = job->gomod_only ? 1 : 3;
    modkey_buf_t *kb = malloc(sizeof *kb); /* room for any key; too big for a worker's stack frame */
    modkey_t *key = kb == NULL ? NULL : &kb->key;
    if (key == NULL) {
        snprintf(job->why, sizeof job->why, "out of memory");
        job->failed = true;
        return;
    }
    for (size_t k = 0; k < nkinds; k++) {
        cache_err_t err = {0};
        cache_object_t *obj = NULL;
        int rc = modkey_make(kinds[k], job->path, job->version, key, &err);
        bool fetched = false;
        if (rc == 0) {
            rc = cache_get(w->cache, key, CACHE_GET_NOFETCH, &obj, &err);
            if (rc == -EAGAIN) {
                fetched = true;
                rc = cache_get(w->cache, key, 0, &obj, &err);
            }
        }
        atomic_fetch_add(&w->objects_done, 1);
        if (rc != 0) {
            snprintf(job->why, sizeof job->why, "%s: %s", names[kinds[k]], err.msg[0] ? err.msg : strerror(-rc));
            job->failed = true;
            atomic_fetch_add(&w->objects_done, nkinds - k - 1); /* the rest are not tried */
            break;
        }
        cache_stat_t st;
        cache_object_stat(obj, &st);
        cache_object_unref(obj);
        if (fetched) {
            atomic_fetch_add(&w->fetched, 1);
            atomic_fetch_add(&w->bytes, st.size);
        } else {
            atomic_fetch_add(&w->stored, 1);
        }
    }
    free(kb);
}

static void *worker(void *arg)
{
    warm_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        warm_job_t *job = w->next < w->njobs ? &w->jobs[w->next++] : NULL;
        pthread_mutex_unlock(&w->mu);
        if (job == NULL)
            return NULL;
        fetch_job(w, job);
        if (job->failed)
            atomic_fetch_add(&w->failed, 1);
        pthread_mutex_lock(&w->mu);
        size_t done = atomic_fetch_add(&w->jobs_done, 1) + 1;
        if (!w->tty) {
            char b[32];
            human_bytes((double)atomic_load(&w->bytes), b, sizeof b);
            fprintf(stderr, "warm: [%zu/%zu] %s@%s%s %s (%s fetched so far)\n", done, w->njobs, job->path,
                    job->version, job->gomod_only ? " (go.mod)" : "", job->failed ? "FAILED" : "ok", b);
        }
        pthread_cond_signal(&w->done_cv);
        pthread_mutex_unlock(&w->mu);
    }
}

/* One redraw of the terminal progress bar: objects, bytes, rate, ETA. */
static void draw_bar(warm_t *w, bool last)
{
    enum { WIDTH = 24 };
    uint64_t done = atomic_load(&w->objects_done), total = w->total_objects ? w->total_objects : 1;
    double t = elapsed_s(w), bytes = (double)atomic_load(&w->bytes);
    char bar[WIDTH + 1], b[32], rate[32], eta[32] = "--:--";
    size_t fill = (size_t)((double)WIDTH * (double)done / (double)total);
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    human_bytes(bytes, b, sizeof b);
    human_bytes(t > 0 ? bytes / t : 0, rate, sizeof rate);
    if (done > 0 && done < total) {
        double left = t / (double)done * (double)(total - done);
        snprintf(eta, sizeof eta, "%d:%02d", (int)left / 60, (int)left % 60);
    } else if (done >= total) {
        snprintf(eta, sizeof eta, "0:00");
    }
    fprintf(stderr, "\r\033[K[%s] %llu/%llu objects  %s  %s/s  ETA %s%s", bar, (unsigned long long)done,
            (unsigned long long)w->total_objects, b, rate, eta, last ? "\n" : "");
    fflush(stderr);
}

static int run_warm(options_t *o, int argc, char **argv)
{
    warm_t w = {.tty = isatty(STDERR_FILENO) == 1};
    int status = 0;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.done_cv, NULL);
    if (argc == o->first_arg) {
        if (read_arg(&w, ".") != 0)
            status = 2;
    }
    for (int i = o->first_arg; i < argc && status == 0; i++)
        if (read_arg(&w, argv[i]) != 0)
            status = 2;
    if (status == 0 && make_jobs(&w) != 0)
        status = 1;
    if (status != 0)
        goto out;

    cache_err_t err = {0};
    if (cache_open(&o->cache, &w.cache, &err) != 0) {
        print_error("cannot open store %s: %s", o->cache.dir, err.msg);
        status = 1;
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &w.start);
    size_t nthreads = o->jobs < w.njobs ? o->jobs : w.njobs;
    pthread_t *tids = calloc(nthreads > 0 ? nthreads : 1, sizeof *tids);
    size_t started = 0;
    for (; tids != NULL && started < nthreads; started++)
        if (pthread_create(&tids[started], NULL, worker, &w) != 0)
            break;
    if (started == 0 && w.njobs > 0)
        worker(&w); /* no thread could start: do the work here */
    pthread_mutex_lock(&w.mu);
    while (atomic_load(&w.jobs_done) < w.njobs) {
        if (w.tty) {
            pthread_mutex_unlock(&w.mu);
            draw_bar(&w, false);
            pthread_mutex_lock(&w.mu);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&w.done_cv, &w.mu, &until);
    }
    pthread_mutex_unlock(&w.mu);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    if (w.tty)
        draw_bar(&w, true);

    char b[32];
    human_bytes((double)atomic_load(&w.bytes), b, sizeof b);
    printf("warm: %zu module versions: %llu objects fetched (%s), %llu already in the store, %zu failed, in %.1f s\n",
           w.njobs, (unsigned long long)atomic_load(&w.fetched), b, (unsigned long long)atomic_load(&w.stored),
           atomic_load(&w.failed), elapsed_s(&w));
    fflush(stdout);
    if (atomic_load(&w.failed) > 0) {
        print_error("warm: %zu module versions could not be fetched:", atomic_load(&w.failed));
        for (size_t i = 0; i < w.njobs; i++)
            if (w.jobs[i].failed)
                fprintf(stderr, "  %s@%s %s\n", w.jobs[i].path, w.jobs[i].version, w.jobs[i].why);
        status = 1;
    }
    cache_close(w.cache);
out:
    free(w.jobs); /* its strings belong to w.refs */
    gomod_file_dispose(&w.refs);
    pthread_cond_destroy(&w.done_cv);
    pthread_mutex_destroy(&w.mu);
    return status;
}

const command_t cmd_warm = {
    .name = "warm",
    .args = "[PATH...]",
    .summary = "fetch every module version that go.mod, go.sum and go.work files name into the store",
    .details = "PATH is a go.mod, go.sum or go.work file, or a directory holding them (default: the current\n"
               "directory); a go.work brings in the modules it uses. Then `modfs serve --upstream off` serves\n"
               "builds of those modules with no network. Exit status 1 lists what could not be fetched.\n"
               "Example: modfs warm --upstream https://proxy.golang.org ~/src/app",
    .bit = CMD_WARM,
    .accepts = CMD_WARM,
    .run = run_warm,
};
