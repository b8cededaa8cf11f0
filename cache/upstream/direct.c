/* SPDX-License-Identifier: MIT */
/*
 * direct.c — the "direct" entry of the proxy list: fetching a key by running the go command
 * against the module's version control system, as go itself does with GOPROXY=direct.
 *
 * Cloning, the go-get meta protocol, VCS credentials, pseudo-version synthesis and the zip's
 * layout are the go command's business, and it does them exactly as the build hosts expect;
 * modfs runs it and takes the files it produces (Athens and goproxy do the same). Each fetch gets
 * a throwaway GOPATH/GOMODCACHE/GOCACHE under the store's tmp directory, removed afterwards, so
 * nothing of one fetch leaks into another; a crash mid-fetch leaves a tmp/direct-* directory,
 * which is never read again and may be removed while no modfs uses the store. The answer then crosses the same ingest gate (gomod_validate_body, store_put) as a body
 * from an HTTP proxy: the caller sees one more entry of the list.
 *
 *   .info    go list -m -json M@V          (resolves queries: a branch or commit gives the
 *                                           canonical pseudo-version)
 *   @latest  go list -m -json M@latest
 *   list     go list -m -versions -json M  (the tagged versions)
 *   .mod     go mod download -json M@V     (the file it names in "GoMod")
 *   .zip     go mod download -json M@V     (the file it names in "Zip")
 *
 * The environment is the service's own (HOME with .netrc and git config, SSH_AUTH_SOCK,
 * SSL_CERT_FILE, GOINSECURE, proxies ...), taken once at start, with the settings that make the
 * run hermetic forced on top: GOPROXY=direct, GOFLAGS=-mod=mod -modcacherw (so the throwaway cache
 * can be removed), GOTOOLCHAIN=local, GOWORK=off, GO111MODULE=on, no GOPRIVATE/GONOPROXY; for a
 * private module also GOSUMDB=off, GONOSUMDB=<module>, GONOSUMCHECK=1: it must not be looked up
 * in a public checksum database, as GONOSUMDB would make go skip it.
 *
 * Processes are spawned with posix_spawn in a process group of their own, with no inherited
 * descriptors (closefrom) and a clean signal mask (the server's threads block the stop signals).
 * At most `jobs` run at once; each has a deadline, after which the whole group (go and the git
 * processes under it) is killed, and so is every run at shutdown (upstream_direct_cancel: a run
 * notices within its poll interval, a waiter for a slot at once). When go fails, its own words —
 * the JSON "Error" field, else the last lines of stderr, cleaned of control characters and of the
 * throwaway paths — are the reason given to the client and the log. Unknown revisions and
 * unresolvable paths are "not found" (404: go's client moves on); everything else (credentials,
 * network, timeouts) is a failure (502), and a run cut short at shutdown is -ECANCELED.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gomod.h"
#include "upstream_i.h"

extern char **environ;

#define DIRECT_STDOUT_MAX (16u << 20) /* a version list of a busy module stays far below */
#define DIRECT_STDERR_MAX 8192u       /* go's message is at the start; git's detail shortly after */
#define DIRECT_REASON_MAX 400

struct upstream_direct {
    char *go_command;
    char *work_dir;
    long timeout_ms;
    unsigned max_jobs;
    char **base_env; /* the service's environment less what every run sets itself; owned */
    size_t nbase;

    pthread_mutex_t mu; /* protects running */
    pthread_cond_t cv;
    unsigned running;
    atomic_bool cancelled; /* upstream_direct_cancel was called: no run starts, running ones are killed */
};

/* Variables every run sets, or must not inherit. */
static const char *const overridden[] = {
    "GOPROXY", "GONOPROXY", "GOPRIVATE", "GOFLAGS", "GOPATH", "GOMODCACHE", "GOCACHE", "GOTOOLCHAIN",
    "GOWORK", "GO111MODULE", "GIT_TERMINAL_PROMPT",
};
/* Variables a private module's run sets itself. */
static const char *const sumdb_vars[] = {"GOSUMDB", "GONOSUMDB", "GONOSUMCHECK"};

static bool env_named(const char *entry, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (strncmp(entry, names[i], len) == 0 && entry[len] == '=')
            return true;
    }
    return false;
}

static bool env_overridden(const char *entry)
{
    return env_named(entry, overridden, sizeof overridden / sizeof overridden[0]);
}

static bool env_is_sumdb(const char *entry)
{
    return env_named(entry, sumdb_vars, sizeof sumdb_vars / sizeof sumdb_vars[0]);
}

int upstream_direct_new(const upstream_direct_config_t *cfg, upstream_direct_t **out, cache_err_t *err)
{
    *out = NULL;
    if (cfg->work_dir == NULL || cfg->work_dir[0] != '/')
        return cache_err_set(err, -EINVAL, "direct: needs an absolute work directory");
    upstream_direct_t *d = calloc(1, sizeof *d);
    if (d == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->go_command = strdup(cfg->go_command && cfg->go_command[0] ? cfg->go_command : "go");
    d->work_dir = strdup(cfg->work_dir);
    d->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : UPSTREAM_DIRECT_TIMEOUT_MS;
    d->max_jobs = cfg->max_jobs > 0 ? (unsigned)cfg->max_jobs : UPSTREAM_DIRECT_JOBS;
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    d->base_env = calloc(n + 1, sizeof *d->base_env);
    if (d->go_command == NULL || d->work_dir == NULL || d->base_env == NULL) {
        upstream_direct_free(d);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    for (char **e = environ; e && *e; e++) {
        if (env_overridden(*e))
            continue;
        if ((d->base_env[d->nbase] = strdup(*e)) == NULL) {
            upstream_direct_free(d);
            return cache_err_set(err, -ENOMEM, "out of memory");
        }
        d->nbase++;
    }
    *out = d;
    return 0;
}

void upstream_direct_cancel(upstream_direct_t *d)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    atomic_store(&d->cancelled, true);
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

void upstream_direct_free(upstream_direct_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nbase; i++)
        free(d->base_env[i]);
    free(d->base_env);
    free(d->go_command);
    free(d->work_dir);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

/* ---- one run of the go command ---- */

typedef struct run {
    buf_t out;          /* stdout, at most DIRECT_STDOUT_MAX */
    char err[DIRECT_STDERR_MAX + 1];
    size_t err_len;
    bool out_too_big;
    bool timed_out;
    bool cancelled;
    int status; /* as waitpid gives it */
} run_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for a free slot; false (no slot taken) once cancelled. */
static bool jobs_enter(upstream_direct_t *d)
{
    pthread_mutex_lock(&d->mu);
    while (d->running >= d->max_jobs && !atomic_load(&d->cancelled))
        pthread_cond_wait(&d->cv, &d->mu);
    bool ok = !atomic_load(&d->cancelled);
    if (ok)
        d->running++;
    pthread_mutex_unlock(&d->mu);
    return ok;
}

static void jobs_leave(upstream_direct_t *d)
{
    pthread_mutex_lock(&d->mu);
    d->running--;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Reads what fd has; false at EOF or error. */
static bool drain(int fd, run_t *r, bool is_out)
{
    char chunk[16384];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    if (is_out) {
        if (r->out.len + (size_t)n > DIRECT_STDOUT_MAX)
            r->out_too_big = true;
        else if (buf_append(&r->out, chunk, (size_t)n) != 0)
            r->out_too_big = true;
    } else {
        size_t room = DIRECT_STDERR_MAX - r->err_len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(r->err + r->err_len, chunk, take);
        r->err_len += take;
    }
    return true;
}

/* Spawns argv in dir with env, collects its output until it exits or the deadline passes.
 * 0 when it ran (r->status says how it ended), or -errno when it could not be started. */
static int run_go(upstream_direct_t *d, char *const argv[], char *const env[], const char *dir, run_t *r,
                  cache_err_t *err)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        int e = errno;
        if (outp[0] >= 0) {
            close(outp[0]);
            close(outp[1]);
        }
        return cache_err_set(err, -e, "direct: pipe: %s", strerror(e));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    /* the server's sockets, database and packs are none of go's business */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    pid_t pid;
    int rc = posix_spawnp(&pid, d->go_command, &fa, &attr, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(outp[1]);
    close(errp[1]);
    if (rc != 0) {
        close(outp[0]);
        close(errp[0]);
        return cache_err_set(err, -rc, "direct: cannot run %s: %s", d->go_command, strerror(rc));
    }
    struct pollfd pfd[2] = {{.fd = outp[0], .events = POLLIN}, {.fd = errp[0], .events = POLLIN}};
    int64_t deadline = now_ms() + d->timeout_ms;
    while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0 || atomic_load(&d->cancelled)) {
            r->timed_out = left <= 0;
            r->cancelled = !r->timed_out;
            kill(-pid, SIGKILL);
            break;
        }
        int n = poll(pfd, 2, left > 1000 ? 1000 : (int)left);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (pfd[i].fd < 0 || pfd[i].revents == 0)
                continue;
            if (!drain(pfd[i].fd, r, i == 0)) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
            }
        }
        if (r->out_too_big) {
            kill(-pid, SIGKILL);
            break;
        }
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
        ;
    /* git processes go left behind (it was killed, or it leaked one) go with their group */
    kill(-pid, SIGKILL);
    r->err[r->err_len] = '\0';
    return 0;
}

/* ---- words ---- */

/* go's message made fit for one line of a log and an HTTP body: control characters and runs of
 * blanks become one space, the throwaway directory's path becomes "$TMP", a leading "go: " goes. */
static void reason_clean(const char *text, const char *tmp, char *out, size_t cap)
{
    size_t tlen = strlen(tmp), o = 0;
    const char *p = text;
    if (strncmp(p, "go: ", 4) == 0)
        p += 4;
    bool blank = false;
    while (*p != '\0' && o + 5 < cap) {
        if (tlen > 0 && strncmp(p, tmp, tlen) == 0) {
            memcpy(out + o, "$TMP", 4);
            o += 4;
            p += tlen;
            blank = false;
            continue;
        }
        unsigned char c = (unsigned char)*p++;
        if (c <= 0x20 || c == 0x7f) {
            if (!blank && o > 0)
                out[o++] = ' ';
            blank = true;
            continue;
        }
        blank = false;
        out[o++] = c < 0x7f ? (char)c : '?';
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (*p != '\0' && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Not found, as go's client should read it (and move on): the version or the module is not
 * there. Credentials, network or tool failures are not: they must not look like an absence. */
static bool reason_is_not_found(const char *why)
{
    static const char *const words[] = {
        "unknown revision", "no matching versions", "invalid version: unknown", "404 Not Found",
        "410 Gone", "does not contain package", "disabled by GOPROXY",
    };
    if (strstr(why, "terminal prompts disabled") || strstr(why, "Authentication failed"))
        return false;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(why, words[i]) != NULL)
            return true;
    return false;
}

/* The "Error" of go's JSON (a string for go mod download, {"Err": ...} for go list -m), or NULL. */
static const char *json_error(json_t *root)
{
    json_t *e = json_object_get(root, "Error");
    if (json_is_string(e))
        return json_string_value(e);
    if (json_is_object(e) && json_is_string(json_object_get(e, "Err")))
        return json_string_value(json_object_get(e, "Err"));
    return NULL;
}

/* ---- fetching a key ---- */

static int write_all(int fd, const void *p, size_t len, uint64_t max_bytes, cache_err_t *err)
{
    if (len > max_bytes)
        return cache_err_set(err, -EFBIG, "direct: body larger than %llu bytes", (unsigned long long)max_bytes);
    const char *c = p;
    size_t off = 0;
    while (off < len) {
        ssize_t w = pwrite(fd, c + off, len - off, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return cache_err_set(err, w < 0 ? -errno : -EIO, "direct: writing the body: %s",
                                 strerror(w < 0 ? errno : EIO));
        off += (size_t)w;
    }
    return 0;
}

/* Copies the file go produced (which must be inside the throwaway directory) to fd. */
static int copy_file(const char *path, const char *tmp, int fd, uint64_t max_bytes, uint64_t *bytes,
                     cache_err_t *err)
{
    size_t tlen = strlen(tmp);
    if (strncmp(path, tmp, tlen) != 0 || path[tlen] != '/' || strstr(path, "/../") != NULL)
        return cache_err_set(err, -EIO, "direct: go named a file outside its module cache");
    int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return cache_err_set(err, -errno, "direct: open %s: %s", path + tlen, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = cache_err_set(err, -EIO, "direct: %s is not a regular file", path + tlen);
    } else if ((uint64_t)st.st_size > max_bytes) {
        rc = cache_err_set(err, -EFBIG, "direct: body larger than %llu bytes", (unsigned long long)max_bytes);
    } else {
        off_t off = 0;
        while (rc == 0 && off < st.st_size) {
            char chunk[65536];
            ssize_t n = pread(in, chunk, sizeof chunk, off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                rc = cache_err_set(err, -EIO, "direct: reading %s: %s", path + tlen, n < 0 ? strerror(errno) : "short");
                break;
            }
            for (ssize_t w = 0; w < n;) {
                ssize_t k = pwrite(fd, chunk + w, (size_t)(n - w), off + w);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0) {
                    rc = cache_err_set(err, -EIO, "direct: writing the body: %s", strerror(errno));
                    break;
                }
                w += k;
            }
            off += n;
        }
        *bytes = (uint64_t)off;
    }
    close(in);
    return rc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Builds the body of key from go's JSON answer. */
static int body_from_json(const modkey_t *key, json_t *root, const char *tmp, int fd, uint64_t max_bytes,
                          uint64_t *bytes, cache_err_t *err)
{
    switch (key->kind) {
    case MODKEY_LIST: {
        buf_t b = BUF_INIT;
        json_t *vs = json_object_get(root, "Versions");
        size_t i;
        json_t *v;
        int rc = 0;
        json_array_foreach(vs, i, v)
        {
            if (json_is_string(v) && (rc = buf_appendf(&b, "%s\n", json_string_value(v))) != 0)
                break;
        }
        if (rc == 0)
            rc = write_all(fd, b.base ? (const void *)b.base : "", b.len, max_bytes, err);
        else
            cache_err_set(err, rc, "out of memory");
        *bytes = b.len;
        buf_dispose(&b);
        return rc;
    }
    case MODKEY_LATEST:
    case MODKEY_INFO: {
        /* .info as a proxy serves it; gomod_validate_info checks and canonicalises it. */
        json_t *info = json_object();
        json_t *ver = json_object_get(root, "Version");
        json_t *time = json_object_get(root, "Time");
        if (info == NULL)
            return cache_err_set(err, -ENOMEM, "out of memory");
        if (json_is_string(ver))
            json_object_set(info, "Version", ver);
        if (json_is_string(time))
            json_object_set(info, "Time", time);
        char *text = json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(info);
        if (text == NULL)
            return cache_err_set(err, -ENOMEM, "out of memory");
        *bytes = strlen(text);
        int rc = write_all(fd, text, *bytes, max_bytes, err);
        free(text);
        return rc;
    }
    case MODKEY_MOD:
    case MODKEY_ZIP: {
        json_t *f = json_object_get(root, key->kind == MODKEY_MOD ? "GoMod" : "Zip");
        if (!json_is_string(f))
            return cache_err_set(err, -EIO, "direct: go mod download named no %s file",
                                 key->kind == MODKEY_MOD ? "go.mod" : "zip");
        return copy_file(json_string_value(f), tmp, fd, max_bytes, bytes, err);
    }
    case MODKEY_SUMDB: /* a checksum database's answer: never asked of the go command */
        break;
    }
    return cache_err_set(err, -EINVAL, "direct: not a module key");
}

int upstream_direct_fetch(upstream_direct_t *d, const modkey_t *key, bool private_module, int fd, uint64_t max_bytes,
                          upstream_result_t *res, cache_err_t *err)
{
    snprintf(res->url, sizeof res->url, "direct");
    res->status = 0;
    res->bytes = 0;
    if (key->kind == MODKEY_SUMDB)
        return cache_err_set(err, -EINVAL, "direct: %s is a checksum database's answer", key->escaped);
    char arg[MODKEY_MAX * 2];
    const char *argv[8];
    size_t argc = 0;
    argv[argc++] = d->go_command;
    if (key->kind == MODKEY_MOD || key->kind == MODKEY_ZIP) {
        argv[argc++] = "mod";
        argv[argc++] = "download";
        argv[argc++] = "-json";
        snprintf(arg, sizeof arg, "%s@%s", key->module, key->version);
    } else {
        argv[argc++] = "list";
        argv[argc++] = "-m";
        argv[argc++] = "-json";
        if (key->kind == MODKEY_LIST) {
            argv[argc++] = "-versions";
            snprintf(arg, sizeof arg, "%s", key->module);
        } else {
            snprintf(arg, sizeof arg, "%s@%s", key->module, key->kind == MODKEY_LATEST ? "latest" : key->version);
        }
    }
    argv[argc++] = arg;
    argv[argc] = NULL;
    const char *what = argv[1][0] == 'm' ? "go mod download" : "go list -m";

    char *tmp = NULL;
    if (asprintf(&tmp, "%s/direct-XXXXXX", d->work_dir) < 0)
        return cache_err_set(err, -ENOMEM, "out of memory");
    if (mkdtemp(tmp) == NULL) {
        int e = errno;
        free(tmp);
        return cache_err_set(err, -e, "direct: temporary directory in %s: %s", d->work_dir, strerror(e));
    }
    /* the environment: the service's own, then what makes the run hermetic */
    char *own[16];
    size_t nown = 0;
    int rc = 0;
#define OWN(...)                                                                                             \
    do {                                                                                                     \
        if (rc == 0 && asprintf(&own[nown], __VA_ARGS__) < 0)                                                \
            rc = -ENOMEM;                                                                                    \
        else if (rc == 0)                                                                                    \
            nown++;                                                                                          \
    } while (0)
    OWN("GOPATH=%s/gopath", tmp);
    OWN("GOMODCACHE=%s/gopath/pkg/mod", tmp);
    OWN("GOCACHE=%s/gocache", tmp);
    OWN("GOPROXY=direct");
    OWN("GOFLAGS=-mod=mod -modcacherw");
    OWN("GOTOOLCHAIN=local");
    OWN("GOWORK=off");
    OWN("GO111MODULE=on");
    OWN("GIT_TERMINAL_PROMPT=0");
    if (private_module) {
        OWN("GOSUMDB=off");
        OWN("GONOSUMDB=%s", key->module);
        OWN("GONOSUMCHECK=1");
    }
#undef OWN
    char **env = NULL;
    run_t r;
    memset(&r, 0, sizeof r);
    if (rc == 0 && (env = calloc(d->nbase + nown + 1, sizeof *env)) == NULL)
        rc = -ENOMEM;
    if (rc != 0) {
        cache_err_set(err, rc, "out of memory");
        goto out;
    }
    /* go takes the first of two equal names: a public module keeps the service's checksum
     * database settings, a private one gets ours alone */
    size_t nenv = 0;
    for (size_t i = 0; i < d->nbase; i++)
        if (!private_module || !env_is_sumdb(d->base_env[i]))
            env[nenv++] = d->base_env[i];
    memcpy(env + nenv, own, nown * sizeof *env);

    LOG_I("direct: %s %s", what, arg);
    if (!jobs_enter(d)) {
        rc = cache_err_set(err, -ECANCELED, "direct %s %s: cancelled (shutting down)", what, arg);
        goto out;
    }
    int64_t started = now_ms();
    rc = run_go(d, (char *const *)argv, env, tmp, &r, err);
    jobs_leave(d);
    if (rc == 0 && r.cancelled)
        rc = cache_err_set(err, -ECANCELED, "direct %s %s: cancelled (shutting down)", what, arg);
    if (rc != 0)
        goto out;

    json_error_t jerr;
    json_t *root = r.out.len > 0 ? json_loadb((const char *)r.out.base, r.out.len, 0, &jerr) : NULL;
    const char *go_err = root ? json_error(root) : NULL;
    bool ok = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0 && go_err == NULL && root != NULL;
    if (ok) {
        rc = body_from_json(key, root, tmp, fd, max_bytes, &res->bytes, err);
        if (rc == 0) {
            res->status = 200;
            LOG_D("direct: %s %s: %llu bytes in %lld ms", what, arg, (unsigned long long)res->bytes,
                  (long long)(now_ms() - started));
        }
    } else {
        char why[DIRECT_REASON_MAX];
        if (r.timed_out)
            snprintf(why, sizeof why, "timed out after %ld s", d->timeout_ms / 1000);
        else if (r.out_too_big)
            snprintf(why, sizeof why, "output larger than %u bytes", DIRECT_STDOUT_MAX);
        else if (go_err != NULL)
            reason_clean(go_err, tmp, why, sizeof why);
        else if (r.err_len > 0)
            reason_clean(r.err, tmp, why, sizeof why);
        else if (WIFSIGNALED(r.status))
            snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(r.status));
        else
            snprintf(why, sizeof why, "exit status %d and no message", WEXITSTATUS(r.status));
        bool not_found = !r.timed_out && reason_is_not_found(why);
        res->status = not_found ? 404 : 502;
        rc = r.timed_out ? -ETIMEDOUT : not_found ? -ENOENT : -EIO;
        cache_err_set(err, rc, "direct %s %s: %s", what, arg, why);
        if (not_found) /* an everyday answer (go probes path prefixes): not a warning */
            LOG_I("%s", err->msg);
        else
            LOG_W("%s", err->msg);
    }
    json_decref(root);
out:
    buf_dispose(&r.out);
    free(env);
    for (size_t i = 0; i < nown; i++)
        free(own[i]);
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(tmp);
    return rc;
}
