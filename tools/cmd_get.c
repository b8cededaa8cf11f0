/* SPDX-License-Identifier: MIT */
/*
 * cmd_get.c — `modfs get KEY`: one object to stdout, fetched when the store lacks it.
 *
 * A chunk found corrupt mid-stream is dropped by the store; get then fetches the object again
 * and, its SHA-256 being the same, carries on from the same offset: what was written so far was
 * verified, so the output is never wrong even when the store heals underneath.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#define GET_PIECE (1u << 20)
#define GET_HEAL_ATTEMPTS 2

static int write_all(const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(STDOUT_FILENO, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int report(const char *key, int rc, const cache_err_t *err)
{
    if (rc == -ENOENT)
        print_error("%s: not found: %s", key, err->msg);
    else
        print_error("%s: %s", key, err->msg[0] ? err->msg : strerror(-rc));
    return 1;
}

static int stream(cache_t *c, const modkey_t *k, cache_object_t *o, cache_err_t *err)
{
    cache_stat_t want;
    cache_object_stat(o, &want);
    uint8_t *piece = malloc(GET_PIECE);
    if (piece == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    int rc = 0, heals = 0;
    uint64_t off = 0;
    while (off < want.size) {
        ssize_t n = cache_object_read(o, piece, GET_PIECE, off);
        if (n == -EIO && heals++ < GET_HEAL_ATTEMPTS) {
            cache_object_t *fresh = NULL;
            rc = cache_get(c, k, 0, &fresh, err);
            if (rc != 0)
                break;
            cache_stat_t now;
            cache_object_stat(fresh, &now);
            cache_object_unref(o);
            o = fresh;
            if (now.size != want.size || memcmp(now.sha256, want.sha256, 32) != 0) {
                rc = cache_err_set(err, -EIO, "object changed while it was being repaired; run again");
                break;
            }
            continue;
        }
        if (n <= 0) {
            rc = cache_err_set(err, n < 0 ? (int)n : -EIO, "read failed at byte %llu: %s", (unsigned long long)off,
                               strerror(n < 0 ? (int)-n : EIO));
            break;
        }
        if ((rc = write_all(piece, (size_t)n)) != 0) {
            cache_err_set(err, rc, "write to stdout: %s", strerror(-rc));
            break;
        }
        off += (uint64_t)n;
    }
    cache_object_unref(o);
    free(piece);
    return rc;
}

static int run_get(options_t *opt, int argc, char **argv)
{
    if (argc - opt->first_arg != 1) {
        print_error("get: expected one KEY, e.g. golang.org/x/text/@v/v0.7.0.zip (see modfs get --help)");
        return 2;
    }
    const char *arg = argv[opt->first_arg];
    while (*arg == '/')
        arg++;
    /* KEY.ziphash is the h1 hash of KEY.zip, as in GOMODCACHE. */
    static const char ziphash[] = ".ziphash";
    size_t len = strlen(arg);
    bool want_hash = len > sizeof ziphash - 1 && strcmp(arg + len - (sizeof ziphash - 1), ziphash) == 0;
    char keybuf[MODKEY_MAX + 8];
    if (want_hash) {
        snprintf(keybuf, sizeof keybuf, "%.*s.zip", (int)(len - (sizeof ziphash - 1)), arg);
        arg = keybuf;
        len = strlen(arg);
    }
    cache_err_t err = {0};
    modkey_t *k = malloc(sizeof *k);
    if (k == NULL)
        return 1;
    if (modkey_parse(arg, len, k, &err) != 0) {
        print_error("%s: invalid key: %s", argv[opt->first_arg], err.msg);
        free(k);
        return 1;
    }
    cache_t *c = NULL;
    int rc = cache_open(&opt->cache, &c, &err);
    if (rc != 0) {
        print_error("cannot open store %s: %s", opt->cache.dir, err.msg);
        free(k);
        return 1;
    }
    cache_object_t *o = NULL;
    int status = 0;
    rc = cache_get(c, k, 0, &o, &err);
    if (rc != 0) {
        status = report(k->escaped, rc, &err);
    } else if (want_hash) {
        cache_stat_t st;
        cache_object_stat(o, &st);
        cache_object_unref(o);
        if (write_all((const uint8_t *)st.h1, strlen(st.h1)) != 0)
            status = 1;
    } else if ((rc = stream(c, k, o, &err)) != 0) {
        status = report(k->escaped, rc, &err);
    }
    cache_close(c);
    free(k);
    return status;
}

const command_t cmd_get = {
    .name = "get",
    .args = "KEY",
    .summary = "write one object of the store to stdout, fetching it from upstream when missing",
    .details = "KEY is a GOPROXY path: MODULE/@v/list, MODULE/@latest, MODULE/@v/VERSION.info|.mod|.zip,\n"
               "with capitals escaped as go does (github.com/!burnt!sushi/toml). MODULE/@v/VERSION.ziphash\n"
               "prints the zip's h1: hash as go writes it into GOMODCACHE.\n"
               "Example: modfs get --upstream http://127.0.0.1:8080 golang.org/x/text/@v/v0.7.0.zip > x.zip",
    .bit = CMD_GET,
    .accepts = CMD_GET,
    .run = run_get,
};
