/* SPDX-License-Identifier: MIT */
/*
 * cmd_serve.c — `modfs serve`: the store behind an HTTP GOPROXY front, a FUSE GOMODCACHE front,
 * or both, in the foreground until SIGINT or SIGTERM; SIGHUP reloads.
 *
 * SIGINT/SIGTERM/SIGHUP are blocked before any thread starts, so every thread inherits the mask
 * and the main thread alone receives them, in sigwait. Shutdown then runs in order on a normal
 * stack: upstream transfers (and go commands fetching direct) are cancelled first, so that no
 * front waits on upstream (every miss in progress is answered with an error at once), then the
 * fronts stop (in-flight responses finish, the mount goes away), the store last.
 *
 * A reload reads the configuration again (the same flags, the environment, the config file) and
 * applies what can change under running requests: the options marked OPTF_RELOAD in optable.c.
 * It is all or nothing: the new configuration is read and every fallible part (the allow/deny
 * rules and private patterns, a TLS certificate, the auth file) is built before anything is
 * applied, so a typo in the file leaves the server as it was, with one error in the log. The
 * access rules are swapped whole under running requests: the store's (cache_access_set) for
 * every cache_get of both fronts, the HTTP front's (users, tokens, verdicts) on each loop.
 * Options that cannot change without a restart (addresses, the store, the mount) are reported as
 * such when they differ.
 *
 * The mount starts before the HTTP server and stops after it: /metrics renders the mount's
 * figures (fs_metrics_render, wired here so that fs/ and http/ never include each other), and
 * the mount must outlive every request that may do so.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "service.h"

/* /metrics gets the mount's figures after its own. */
static int serve_fs_metrics(void *arg, buf_t *out)
{
    return fs_metrics_render(arg, out);
}

typedef struct serve_state {
    int argc;
    char **argv;
    const options_t *o; /* as started */
    cache_t *cache;
    http_server_t *http;
    fs_mount_t *fs;
    char status[4096]; /* what systemctl status shows */
} serve_state_t;

/* Warns about options that changed but apply only at the next start. */
static void reload_report_fixed(const serve_state_t *st, const options_t *next)
{
    for (size_t i = 0; i < option_count; i++) {
        const option_spec_t *spec = &option_table[i];
        if ((spec->flags & OPTF_RELOAD) || !(spec->cmds & CMD_SERVE) || (spec->flags & OPTF_NOFILE))
            continue;
        char was[4096], now[4096];
        option_value_format(st->o, i, was, sizeof was);
        option_value_format(next, i, now, sizeof now);
        if (strcmp(was, now) != 0)
            LOG_W("reload: %s changed to \"%s\"; it takes effect when modfs serve restarts", spec->name, now);
    }
}

/* Private modules with an HTTP front and nobody to authenticate: said at start and after a
 * reload, since every such request will be refused. */
static void warn_private_unserved(const options_t *o)
{
    if (o->cache.private_patterns && (o->http.listen || o->http.tls_listen) && !o->http.auth_file)
        LOG_N("private modules (%s) are served only to authenticated clients, and there is no --auth-file: "
              "the HTTP front refuses them (403); configure --auth-file to serve them",
              o->cache.private_patterns);
}

/* What the HTTP front takes from the options beyond its own rows: the store's list TTL (the
 * max-age of list and @latest), and --miss-rate 0, "no limit", which http_config_t spells as a
 * negative rate (its 0 is "the default"). */
static void http_config_fill(options_t *o)
{
    o->http.list_ttl_s = o->cache.list_ttl_s;
    if (o->http.miss_rate == 0)
        o->http.miss_rate = -1;
}

static void reload(serve_state_t *st)
{
    service_reloading();
    LOG_N("SIGHUP: reading the configuration again");
    options_t next;
    cache_err_t err = {0};
    if (options_load(&cmd_serve, st->argc, st->argv, &next, &err) != 0) {
        LOG_E("reload: %s; keeping the running configuration", err.msg);
        goto out;
    }
    reload_report_fixed(st, &next);
    if ((next.http.auth_required || next.http.metrics_auth) && !next.http.auth_file) {
        LOG_E("reload: auth-required and metrics-auth need an auth-file; keeping the running configuration");
        goto out;
    }
    /* 1. what can fail, before anything changes: the store's access rules are built and checked
     * (not yet in force), then the HTTP front reads its certificate and auth file and, only when
     * all of that loaded, puts them in force; it is the last step that may fail */
    cache_access_t *access = NULL;
    if (cache_access_new(next.cache.allow, next.cache.deny, next.cache.private_patterns, &access, &err) != 0) {
        LOG_E("reload: %s; keeping the running configuration", err.msg);
        goto out;
    }
    http_config_fill(&next);
    if (st->http != NULL && http_server_reload(st->http, &next.http, &err) != 0) {
        LOG_E("reload: %s; keeping the running configuration", err.msg);
        cache_access_free(access);
        goto out;
    }
    /* 2. what cannot */
    cache_access_set(st->cache, access);
    cache_ttls_set(st->cache, next.cache.list_ttl_s, next.cache.notfound_ttl_s);
    if (st->fs != NULL) {
        next.fs.list_ttl_s = next.cache.list_ttl_s;
        next.fs.notfound_ttl_s = next.cache.notfound_ttl_s;
        fs_mount_reload(st->fs, &next.fs);
    }
    modfs_log_set_level((modfs_log_level_t)next.log_level);
    char budget[64] = "";
    if (st->http != NULL)
        snprintf(budget, sizeof budget, ", miss-rate %d, miss-burst %d",
                 next.http.miss_rate < 0 ? 0 : next.http.miss_rate, next.http.miss_burst);
    LOG_N("reloaded: list-ttl %u s, notfound-ttl %u s, log-level %s%s%s%s, access rules (allow: %s; deny: %s; "
          "private: %s)",
          next.cache.list_ttl_s, next.cache.notfound_ttl_s, modfs_log_level_name((modfs_log_level_t)next.log_level),
          st->o->http.tls_listen ? ", TLS certificate and key" : "",
          st->http && next.http.auth_file ? ", auth file" : "", budget, next.cache.allow ? next.cache.allow : "none",
          next.cache.deny ? next.cache.deny : "none", next.cache.private_patterns ? next.cache.private_patterns : "none");
    warn_private_unserved(&next);
out:
    options_dispose(&next);
    service_ready(st->status);
}

static int check(const options_t *o, int argc)
{
    if (argc != o->first_arg) {
        print_error("serve: takes no arguments (see modfs serve --help)");
        return 2;
    }
    if (!o->http.listen && !o->http.tls_listen && !o->fs.mountpoint) {
        print_error("serve: nothing to serve: give --listen, --tls-listen or --mount (see modfs serve --help)");
        return 2;
    }
    if (o->http.tls_listen && (!o->http.tls_cert || !o->http.tls_key)) {
        print_error("serve: --tls-listen needs --tls-cert and --tls-key");
        return 2;
    }
    if (!o->http.tls_listen && (o->http.tls_cert || o->http.tls_key)) {
        print_error("serve: --tls-cert and --tls-key are used only with --tls-listen");
        return 2;
    }
    if ((o->http.auth_required || o->http.metrics_auth) && !o->http.auth_file) {
        print_error("serve: --auth-required and --metrics-auth need --auth-file");
        return 2;
    }
    return 0;
}

static int run_serve(options_t *o, int argc, char **argv)
{
    int status = check(o, argc);
    if (status != 0)
        return status;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-response is an error return, not a death */

    /* The fronts tell clients and the kernel how long answers stay valid: the store's TTLs. */
    http_config_fill(o);
    o->fs.list_ttl_s = o->cache.list_ttl_s;
    o->fs.notfound_ttl_s = o->cache.notfound_ttl_s;

    serve_state_t st = {.argc = argc, .argv = argv, .o = o};
    cache_err_t err = {0};
    o->cache.counts_at_open = true; /* /metrics and the status page show them from the first request */
    if (cache_open(&o->cache, &st.cache, &err) != 0) {
        print_error("cannot open store %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    if (o->fs.mountpoint) {
        if (asprintf(&o->write_dir_owned, "%s/gomodcache-rw", o->cache.dir) < 0) {
            o->write_dir_owned = NULL;
            status = 1;
            goto out;
        }
        o->fs.write_dir = o->write_dir_owned;
        if (fs_mount_start(st.cache, &o->fs, &st.fs, &err) != 0) {
            print_error("serve: %s", err.msg);
            status = 1;
            goto out;
        }
        o->http.metrics_extra = serve_fs_metrics;
        o->http.metrics_extra_arg = st.fs;
    }
    if ((o->http.listen || o->http.tls_listen || o->http.metrics_listen) &&
        http_server_start(st.cache, &o->http, &st.http, &err) != 0) {
        print_error("serve: %s", err.msg);
        status = 1;
        goto out;
    }
    char upstream[1024];
    option_value_format(o, (size_t)(option_find("upstream") - option_table), upstream, sizeof upstream);
    snprintf(st.status, sizeof st.status, "serving store %s%s%s%s%s%s%s%s%s (upstream %s)", o->cache.dir,
             o->http.listen ? " on http://" : "", o->http.listen ? o->http.listen : "",
             o->http.tls_listen ? " on https://" : "", o->http.tls_listen ? o->http.tls_listen : "",
             st.fs ? " at " : "", st.fs ? o->fs.mountpoint : "",
             o->http.metrics_listen ? ", metrics on http://" : "", o->http.metrics_listen ? o->http.metrics_listen : "",
             upstream);
    LOG_N("modfs %s %s", MODFS_VERSION, st.status);
    warn_private_unserved(o);
    service_ready(st.status);
    for (;;) {
        int sig = 0;
        while (sigwait(&sigs, &sig) != 0)
            ;
        if (sig == SIGHUP) {
            reload(&st);
            continue;
        }
        LOG_N("signal %d (%s): shutting down", sig, strsignal(sig));
        service_stopping();
        cache_shutdown_begin(st.cache);
        break;
    }
out:
    /* HTTP first: a /metrics request in progress renders the mount's figures */
    if (st.http)
        http_server_stop(st.http);
    if (st.fs)
        fs_mount_stop(st.fs);
    cache_close(st.cache);
    return status;
}

const command_t cmd_serve = {
    .name = "serve",
    .args = "",
    .summary = "serve the store as a GOPROXY (--listen, --tls-listen) and/or as a GOMODCACHE mount (--mount)",
    .details = "Runs in the foreground until SIGINT or SIGTERM, which finish requests in progress first.\n"
               "SIGHUP reads the configuration again and applies the TTLs, the log level, the TLS\n"
               "certificate, the auth file, the miss budget and the access rules (allow, deny,\n"
               "private) without dropping a connection. Misses are fetched from upstream once, whichever front asked.\n"
               "Examples:\n"
               "  modfs serve --listen 127.0.0.1:3000                 GOPROXY=http://127.0.0.1:3000\n"
               "  modfs serve --mount /mnt/modfs --allow-other        GOMODCACHE=/mnt/modfs/gomodcache\n"
               "  modfs serve --mount /mnt/modfs --metrics-listen 127.0.0.1:9100   figures without GOPROXY\n"
               "  modfs serve --tls-listen :8443 --tls-cert c.pem --tls-key k.pem --upstream https://farm:8443",
    .bit = CMD_SERVE,
    .accepts = CMD_SERVE,
    .run = run_serve,
};
