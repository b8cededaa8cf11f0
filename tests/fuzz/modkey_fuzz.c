/* SPDX-License-Identifier: MIT */
/*
 * modkey_fuzz.c — libFuzzer target for the names a client can send: GOPROXY keys, module
 * paths and versions (cache/gomod/modkey.c, modpath.c, semver.c), and the GOMODCACHE paths
 * the kernel hands the mount for writing (modcache.c, modcache_write_rule).
 *
 * Keys of a checksum database's answers (sumdb/<name>/...) go through their own parser too.
 * Beyond "does not crash", it checks the promises the fronts build on: an accepted key is
 * its own canonical escaped form, holds no "..", "//", control byte or leading '/', and
 * modkey_make rebuilds it bit for bit; escaping and unescaping are inverse; the path checks
 * nest (module path => import path => file path); a path the write rules tie to a module names
 * that module's key in its canonical spelling, at the place go writes it. A broken promise
 * aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod.h"
#include "check.h"


/* Two parses name the same object: the fields, as C strings (bytes past each NUL are unspecified). */
static bool same_key(const modkey_t *a, const modkey_t *b)
{
    return a->kind == b->kind && a->immutable == b->immutable && strcmp(a->module, b->module) == 0 &&
           strcmp(a->version, b->version) == 0 && strcmp(a->escaped, b->escaped) == 0 &&
           strcmp(a->esc_module, b->esc_module) == 0;
}

static void fuzz_key(const char *data, size_t size)
{
    static modkey_buf_t kb, againb;
    modkey_t *k = &kb.key, *again = &againb.key;
    cache_err_t err = {0};
    int rc = modkey_parse(data, size, k, &err);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc != 0) {
        CHECK(err.msg[0] != '\0');
        for (const char *p = err.msg; *p; p++) /* messages are safe to log as they are */
            CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
        return;
    }
    size_t len = strlen(k->escaped);
    CHECK(len == size && memcmp(k->escaped, data, size) == 0);
    CHECK(len <= MODKEY_MAX && k->escaped[0] != '/');
    CHECK(strstr(k->escaped, "//") == NULL && strstr(k->escaped, "/../") == NULL);
    CHECK(strncmp(k->escaped, "../", 3) != 0);
    for (size_t i = 0; i < len; i++)
        CHECK((unsigned char)k->escaped[i] > 0x20 || k->escaped[i] == ' ');
    for (size_t i = 0; i < len; i++)
        CHECK((unsigned char)k->escaped[i] < 0x7f);
    CHECK(len == k->escaped_len);
    size_t mlen = strlen(k->esc_module);
    CHECK(mlen == k->esc_module_len);
    modkey_t *d = modkey_dup(k);
    CHECK(d != NULL && same_key(d, k));
    free(d);
    CHECK(strncmp(k->escaped, k->esc_module, mlen) == 0 && strncmp(k->escaped + mlen, "/@", 2) == 0);
    CHECK(modpath_check(k->module, NULL) == 0);
    CHECK(modpath_check_import(k->module, NULL) == 0);
    if (k->kind == MODKEY_MOD || k->kind == MODKEY_ZIP)
        CHECK(k->immutable);
    if (k->immutable)
        CHECK(modversion_check(k->module, k->version, NULL) == 0 && semver_is_valid(k->version));
    if (k->kind == MODKEY_LIST || k->kind == MODKEY_LATEST)
        CHECK(k->version[0] == '\0' && !k->immutable);
    else
        CHECK(k->version[0] != '\0' && strchr(k->version, '/') == NULL && strcmp(k->version, "..") != 0 &&
              strcmp(k->version, ".") != 0);
    CHECK(modkey_make(k->kind, k->module, k->version, again, NULL) == 0);
    CHECK(same_key(again, k));
    CHECK(modkey_parse(k->escaped, len, again, NULL) == 0 && same_key(again, k));
}

/* Keys of a checksum database's answers: canonical, never a module key, rebuilt by
 * modkey_make_sumdb from their name and path, immutable only as full tiles. */
static void fuzz_sumdb_key(const char *data, size_t size)
{
    static modkey_buf_t kb, againb;
    modkey_t *k = &kb.key, *again = &againb.key;
    cache_err_t err = {0};
    int rc = modkey_parse_sumdb(data, size, k, &err);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc != 0) {
        CHECK(err.msg[0] != '\0');
        return;
    }
    CHECK(k->kind == MODKEY_SUMDB && k->escaped_len == size && memcmp(k->escaped, data, size) == 0);
    CHECK(modkey_parse(data, size, again, NULL) != 0);
    CHECK(strncmp(k->escaped, "sumdb/", 6) == 0 && sumdb_name_valid(k->db_name, strlen(k->db_name)));
    CHECK(strstr(k->escaped, "//") == NULL && strstr(k->escaped, "/../") == NULL &&
          strstr(k->escaped, "/./") == NULL);
    CHECK(modkey_make_sumdb(k->db_name, k->db_path, again, NULL) == 0);
    CHECK(modkey_equal(again, k) && strcmp(again->db_path, k->db_path) == 0);
    if (k->db_kind == SUMDB_PATH_LOOKUP)
        CHECK(modversion_check(k->module, k->version, NULL) == 0);
    else
        CHECK(k->module[0] == '\0' && k->version[0] == '\0');
    if (k->immutable) {
        sumdb_tile_t t;
        CHECK(k->db_kind == SUMDB_PATH_TILE);
        CHECK(sumdb_tile_parse(k->db_path, strlen(k->db_path), &t, NULL) == 0 && t.w == 1 << t.h);
    }
}

static void fuzz_names(const char *s, size_t len)
{
    static char out[4 * MODKEY_MAX], back[4 * MODKEY_MAX];
    bool module_ok = modpath_check(s, NULL) == 0;
    bool import_ok = modpath_check_import(s, NULL) == 0;
    bool file_ok = modpath_check_file(s, NULL) == 0;
    CHECK(!module_ok || import_ok);
    CHECK(!import_ok || file_ok);

    int n = modpath_escape(s, out, sizeof out);
    CHECK((n >= 0) == module_ok || n == -ENAMETOOLONG);
    if (n >= 0) {
        CHECK(modpath_unescape(out, (size_t)n, back, sizeof back, NULL) == (int)len && strcmp(back, s) == 0);
    }
    n = modpath_unescape(s, len, out, sizeof out, NULL);
    if (n >= 0) {
        CHECK(modpath_check(out, NULL) == 0);
        CHECK(modpath_escape(out, back, sizeof back) == (int)len && strcmp(back, s) == 0);
    }
    n = modversion_escape(s, out, sizeof out);
    if (n >= 0)
        CHECK(modversion_unescape(out, (size_t)n, back, sizeof back, NULL) == (int)len &&
              strcmp(back, s) == 0);
    n = modversion_unescape(s, len, out, sizeof out, NULL);
    if (n >= 0)
        CHECK(modversion_escape(out, back, sizeof back) == (int)len && strcmp(back, s) == 0);

    bool valid = semver_is_valid(s);
    CHECK(!semver_is_canonical(s) || valid);
    CHECK(!semver_is_prerelease(s) || valid);
    CHECK(!semver_is_pseudo(s) || valid);
    CHECK(semver_compare(s, s) == 0);
    CHECK(semver_compare(s, "v1.0.0") == -semver_compare("v1.0.0", s));

    /* "path@version": module.Check must not crash and must imply its parts. */
    const char *at = strrchr(s, '@');
    if (at != NULL && (size_t)(at - s) < sizeof out) {
        memcpy(out, s, (size_t)(at - s));
        out[at - s] = '\0';
        if (modversion_check(out, at + 1, NULL) == 0)
            CHECK(modpath_check(out, NULL) == 0 && semver_is_valid(at + 1));
    }
}

static void fuzz_write_rule(const char *path, size_t len)
{
    static modkey_buf_t kb, againb, partb;
    static char buf[2 * MODKEY_MAX];
    modkey_t *k = &kb.key;
    modcache_write_t w = modcache_write_rule(path, len, k);
    CHECK(w == MODCACHE_WRITE_NEVER || w == MODCACHE_WRITE_GO || w == MODCACHE_WRITE_DOWNLOAD ||
          w == MODCACHE_WRITE_EXTRACT);
    if (w == MODCACHE_WRITE_NEVER)
        return;
    CHECK(len > 0 && memchr(path, '\0', len) == NULL);
    if (w == MODCACHE_WRITE_GO) {
        CHECK(len >= 6 && memcmp(path, "cache/", 6) == 0);
        return;
    }
    /* a module's file: its key is valid, canonical, and where go keeps that key's files */
    CHECK(modkey_parse(k->escaped, k->escaped_len, &againb.key, NULL) == 0 && same_key(&againb.key, k));
    CHECK(k->kind == MODKEY_LIST || k->immutable);
    int n;
    if (w == MODCACHE_WRITE_EXTRACT) {
        CHECK(k->kind == MODKEY_ZIP);
        n = snprintf(buf, sizeof buf, "%s@%s", k->esc_module, k->esc_version);
        CHECK(n > 0 && (size_t)n <= len && memcmp(path, buf, (size_t)n) == 0 && (len == (size_t)n || path[n] == '/'));
        /* its .partial is a name go may write, for the same zip */
        n = modcache_partial_path(k, buf, sizeof buf);
        CHECK(n > 0 && modcache_write_rule(buf, (size_t)n, &partb.key) == MODCACHE_WRITE_DOWNLOAD);
        CHECK(same_key(&partb.key, k));
    } else {
        n = snprintf(buf, sizeof buf, "cache/download/%s/@v/", k->esc_module);
        CHECK(n > 0 && (size_t)n < len && memcmp(path, buf, (size_t)n) == 0 && memchr(path + n, '/', len - (size_t)n) == NULL);
    }
    /* the note of a key is never a name go writes */
    n = modcache_note_path(k, buf, sizeof buf);
    CHECK(n > 0 && modcache_write_rule(buf, (size_t)n, &partb.key) == MODCACHE_WRITE_NEVER);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4 * MODKEY_MAX)
        return 0;
    fuzz_key((const char *)data, size);
    fuzz_write_rule((const char *)data, size);
    fuzz_sumdb_key((const char *)data, size);
    /* The string APIs see the input up to its first NUL, as C callers would pass it. */
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    fuzz_names(s, strlen(s));
    free(s);
    return 0;
}
