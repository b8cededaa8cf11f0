/* SPDX-License-Identifier: MIT */
/*
 * cmd_get.c — `modfs get KEY`: one object to stdout, fetched when the store lacks it.
 *
 * A chunk found corrupt mid-stream is dropped by the store; get then fetches the object again
 * and, its SHA-256 being the same, carries on from the same offset: what was written so far was
 * verified, so the output is never wrong even when the store heals underneath.
 */
#include <errno.h>
#include <stdio.h>
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

/* MODULE@VERSION (or @latest): the three objects go mod download fetches, then the two go.sum
 * lines of the version on stdout. */
static int get_module(options_t *opt, const char *arg)
{
    const char *at = strrchr(arg, '@');
    char module[MODKEY_MAX + 1], version[MODKEY_MAX + 1];
    if (at == NULL || at == arg || (size_t)(at - arg) > MODKEY_MAX || strlen(at + 1) > MODKEY_MAX) {
        print_error("get: %s: expected MODULE@VERSION", arg);
        return 2;
    }
    snprintf(module, sizeof module, "%.*s", (int)(at - arg), arg);
    snprintf(version, sizeof version, "%s", at + 1);
    cache_err_t err = {0};
    modkey_buf_t *kb = malloc(sizeof *kb);
    cache_t *c = NULL;
    int status = 1;
    if (kb == NULL)
        return 1;
    modkey_t *k = &kb->key;
    if (cache_open(&opt->cache, &c, &err) != 0) {
        print_error("cannot open store %s: %s", opt->cache.dir, err.msg);
        goto out;
    }
    if (strcmp(version, "latest") == 0) {
        cache_object_t *o = NULL;
        if (modkey_make(MODKEY_LATEST, module, "", k, &err) != 0 || cache_get(c, k, 0, &o, &err) != 0) {
            print_error("%s: %s", arg, err.msg);
            goto out;
        }
        slice_t b = cache_object_bytes(o);
        int vrc = b.base != NULL ? gomod_info_version(b.base, b.len, version, sizeof version) : -EINVAL;
        cache_object_unref(o);
        if (vrc != 0) {
            print_error("%s: upstream's @latest names no version", arg);
            goto out;
        }
    }
    static const modkey_kind_t kinds[] = {MODKEY_INFO, MODKEY_MOD, MODKEY_ZIP};
    cache_stat_t st[3];
    char modh1[48] = "";
    for (size_t i = 0; i < 3; i++) {
        cache_object_t *o = NULL;
        if (modkey_make(kinds[i], module, version, k, &err) != 0) {
            print_error("%s@%s: %s", module, version, err.msg);
            status = 2;
            goto out;
        }
        int rc = cache_get(c, k, 0, &o, &err);
        if (rc != 0) {
            report(k->escaped, rc, &err);
            goto out;
        }
        cache_object_stat(o, &st[i]);
        slice_t b = cache_object_bytes(o);
        if (kinds[i] == MODKEY_MOD && (b.base == NULL || dirhash_gomod_h1(b.base, b.len, modh1, &err) != 0)) {
            print_error("%s: cannot hash the go.mod", k->escaped);
            cache_object_unref(o);
            goto out;
        }
        cache_object_unref(o);
    }
    printf("%s %s %s\n%s %s/go.mod %s\n", module, version, st[2].h1, module, version, modh1);
    status = fflush(stdout) == 0 ? 0 : 1;
out:
    cache_close(c);
    free(kb);
    return status;
}

static int run_get(options_t *opt, int argc, char **argv)
{
    if (argc - opt->first_arg != 1) {
        print_error("get: expected one KEY or MODULE@VERSION, e.g. golang.org/x/text/@v/v0.7.0.zip (see modfs get --help)");
        return 2;
    }
    const char *arg = argv[opt->first_arg];
    /* a key always has "/@v/" or ends in "/@latest"; MODULE@VERSION has neither */
    if (strstr(arg, "/@") == NULL && strchr(arg, '@') != NULL)
        return get_module(opt, arg);
    while (*arg == '/')
        arg++;
    cache_err_t err = {0};
    modkey_buf_t *kb = malloc(sizeof *kb);
    if (kb == NULL)
        return 1;
    modkey_t *k = &kb->key;
    /* KEY.ziphash is the h1 hash of KEY.zip, as in GOMODCACHE's cache/download. */
    modcache_entry_t entry = modcache_download_path(arg, strlen(arg), k);
    bool want_hash = entry == MODCACHE_ZIPHASH;
    if (entry == MODCACHE_NONE && modkey_parse(arg, strlen(arg), k, &err) != 0) {
        print_error("%s: invalid key: %s", argv[opt->first_arg], err.msg);
        free(kb);
        return 1;
    }
    cache_t *c = NULL;
    int rc = cache_open(&opt->cache, &c, &err);
    if (rc != 0) {
        print_error("cannot open store %s: %s", opt->cache.dir, err.msg);
        free(kb);
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
    free(kb);
    return status;
}

const command_t cmd_get = {
    .name = "get",
    .args = "KEY|MODULE@VERSION",
    .summary = "write one object of the store to stdout, or fetch a module version; from upstream when missing",
    .details = "KEY is a GOPROXY path: MODULE/@v/list, MODULE/@latest, MODULE/@v/VERSION.info|.mod|.zip,\n"
               "with capitals escaped as go does (github.com/!burnt!sushi/toml). MODULE/@v/VERSION.ziphash\n"
               "prints the zip's h1: hash as go writes it into GOMODCACHE.\n"
               "MODULE@VERSION (VERSION canonical, or latest) fetches its .info, .mod and .zip, as go mod\n"
               "download does, and prints the version's two go.sum lines.\n"
               "Example: modfs get --upstream http://127.0.0.1:8080 golang.org/x/text/@v/v0.7.0.zip > x.zip\n"
               "         modfs get golang.org/x/text@v0.7.0",
    .bit = CMD_GET,
    .accepts = CMD_GET,
    .run = run_get,
};
