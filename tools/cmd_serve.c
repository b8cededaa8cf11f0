/* SPDX-License-Identifier: MIT */
/*
 * cmd_serve.c — `modfs serve`: the store behind an HTTP GOPROXY front, a FUSE GOMODCACHE front,
 * or both, in the foreground until SIGINT or SIGTERM.
 *
 * SIGINT/SIGTERM/SIGHUP are blocked before any thread starts, so every thread inherits the mask
 * and the main thread alone receives them, in sigwait. Shutdown then runs in order on a normal
 * stack: upstream transfers are cancelled first, so that no front waits on upstream (every miss
 * in progress is answered with an error at once), then the fronts stop (in-flight responses
 * finish, the mount goes away), the store last.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static int run_serve(options_t *o, int argc, char **argv)
{
    (void)argv;
    if (argc != o->first_arg) {
        die_msg("serve: takes no arguments (see modfs serve --help)");
        return 2;
    }
    if (!o->http.listen && !o->http.tls_listen && !o->fs.mountpoint) {
        die_msg("serve: nothing to serve: give --listen, --tls-listen or --mount (see modfs serve --help)");
        return 2;
    }
    if (o->http.tls_listen && (!o->http.tls_cert || !o->http.tls_key)) {
        die_msg("serve: --tls-listen needs --tls-cert and --tls-key");
        return 2;
    }
    if (!o->http.tls_listen && (o->http.tls_cert || o->http.tls_key)) {
        die_msg("serve: --tls-cert and --tls-key are used only with --tls-listen");
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-response is an error return, not a death */

    /* The fronts tell clients and the kernel how long answers stay valid: the store's TTLs. */
    o->http.list_ttl_s = o->cache.list_ttl_s;
    o->fs.list_ttl_s = o->cache.list_ttl_s;
    o->fs.notfound_ttl_s = o->cache.notfound_ttl_s;

    cache_err_t err = {0};
    cache_t *c = NULL;
    if (cache_open(&o->cache, &c, &err) != 0) {
        die_msg("cannot open store %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    int status = 0;
    http_server_t *http = NULL;
    fs_mount_t *fs = NULL;
    if ((o->http.listen || o->http.tls_listen) && http_server_start(c, &o->http, &http, &err) != 0) {
        die_msg("serve: %s", err.msg);
        status = 1;
        goto out;
    }
    if (o->fs.mountpoint) {
        size_t n = strlen(o->cache.dir) + sizeof "/gomodcache-rw";
        char *w = malloc(n);
        if (w == NULL) {
            status = 1;
            goto out;
        }
        snprintf(w, n, "%s/gomodcache-rw", o->cache.dir);
        o->write_dir_owned = w;
        o->fs.write_dir = w;
        if (fs_mount_start(c, &o->fs, &fs, &err) != 0) {
            die_msg("serve: %s", err.msg);
            status = 1;
            goto out;
        }
    }
    LOG_W("serving store %s%s%s%s%s%s%s (upstream %s)", o->cache.dir, o->http.listen ? " on http://" : "",
          o->http.listen ? o->http.listen : "", o->http.tls_listen ? " on https://" : "",
          o->http.tls_listen ? o->http.tls_listen : "", fs ? " at " : "", fs ? o->fs.mountpoint : "",
          o->cache.upstream);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    LOG_W("signal %d: shutting down", sig);
    cache_shutdown_begin(c);
out:
    if (fs)
        fs_mount_stop(fs);
    if (http)
        http_server_stop(http);
    cache_close(c);
    return status;
}

const command_t cmd_serve = {
    .name = "serve",
    .args = "",
    .summary = "serve the store as a GOPROXY (--listen, --tls-listen) and/or as a GOMODCACHE mount (--mount)",
    .details = "Runs in the foreground until SIGINT or SIGTERM. Misses are fetched from upstream once, whichever\n"
               "front asked. Examples:\n"
               "  modfs serve --listen 127.0.0.1:3000                 GOPROXY=http://127.0.0.1:3000\n"
               "  modfs serve --mount /mnt/gomodcache                 GOMODCACHE=/mnt/gomodcache\n"
               "  modfs serve --tls-listen :8443 --tls-cert c.pem --tls-key k.pem --upstream https://farm:8443",
    .opts = OPT_STORE | OPT_UPSTREAM | OPT_HTTP | OPT_FS,
    .run = run_serve,
};
