/* SPDX-License-Identifier: MIT */
/*
 * auth_file.c — the file of users and tokens that may use the HTTP front (--auth-file).
 *
 * One entry per line; blank lines and lines starting with '#' are ignored:
 *
 *   user:NAME:HASH        HASH is a crypt(3) hash: yescrypt ("$y$...", `mkpasswd -m yescrypt`)
 *                         or bcrypt ("$2b$...", "$2y$...", "$2a$..."); clients send NAME and the
 *                         password as HTTP Basic auth (go sends .netrc credentials so)
 *   token:NAME:SHA256HEX  the SHA-256 of a bearer token, 64 hex digits (`printf %s "$TOKEN" |
 *                         sha256sum`); clients send "Authorization: Bearer TOKEN"
 *
 * NAME is 1-64 characters of [A-Za-z0-9._@-], unique within its kind. Only hashes are stored, so
 * a leaked file gives no password or token away; the slow, salted password hashes are what make
 * guessing expensive, and they are why verification runs off the event loops (auth.c). Each hash
 * is tried once here with crypt_r, so a hash that libcrypt cannot use (an unknown method, a cut
 * line) fails start-up with the line number instead of refusing that user forever.
 */
#include "http_i.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AUTH_FILE_MAX (1u << 20)
#define AUTH_NAME_MAX 64

void http_auth_db_free(http_auth_db_t *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->nusers; i++) {
        free(db->users[i].name);
        free(db->users[i].hash);
    }
    for (size_t i = 0; i < db->ntokens; i++)
        free(db->tokens[i].name);
    free(db->users);
    free(db->tokens);
    free(db);
}

static bool name_ok(const char *s, size_t len)
{
    if (len == 0 || len > AUTH_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!ascii_is_alnum(s[i]) && !strchr("._@-", s[i]))
            return false;
    return true;
}

static int hex_nibble(char c)
{
    if (ascii_is_digit(c))
        return c - '0';
    c = ascii_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool hash_method_ok(const char *h)
{
    return strncmp(h, "$y$", 3) == 0 || strncmp(h, "$2b$", 4) == 0 || strncmp(h, "$2y$", 4) == 0 ||
           strncmp(h, "$2a$", 4) == 0;
}

/* Whether libcrypt can verify against hash: it knows the method and its parameters
 * (crypt_checksalt), and crypt_r of anything gives a string of the same shape, not "*0"/"*1".
 * crypt_checksalt also keeps libcrypt linked under AddressSanitizer, whose crypt_r interceptor
 * would otherwise satisfy the linker alone (--as-needed drops libcrypt) and call a NULL "real"
 * crypt_r. */
static bool hash_usable(const char *hash)
{
    if (crypt_checksalt(hash) != CRYPT_SALT_OK)
        return false;
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (cd == NULL)
        return false;
    const char *out = crypt_r("probe", hash, cd);
    bool ok = out != NULL && out[0] == '$' && strlen(out) == strlen(hash);
    free(cd);
    return ok;
}

static int db_add_line(http_auth_db_t *db, char *line, size_t lineno, const char *path, cache_err_t *err)
{
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
        return cache_err_set(err, -EINVAL, "%s:%zu: expected user:NAME:HASH or token:NAME:SHA256HEX", path, lineno);
    *c1 = *c2 = '\0';
    const char *kind = line, *name = c1 + 1, *secret = c2 + 1;
    if (!name_ok(name, strlen(name)))
        return cache_err_set(err, -EINVAL, "%s:%zu: the name must be 1-%d characters of A-Z a-z 0-9 . _ @ -", path,
                             lineno, AUTH_NAME_MAX);
    if (strcmp(kind, "user") == 0) {
        for (size_t i = 0; i < db->nusers; i++)
            if (strcmp(db->users[i].name, name) == 0)
                return cache_err_set(err, -EINVAL, "%s:%zu: user %s is already defined", path, lineno, name);
        if (!hash_method_ok(secret))
            return cache_err_set(err, -EINVAL, "%s:%zu: user %s: the hash must be yescrypt ($y$) or bcrypt ($2b$)",
                                 path, lineno, name);
        if (!hash_usable(secret))
            return cache_err_set(err, -EINVAL, "%s:%zu: user %s: crypt(3) cannot use this hash", path, lineno, name);
        http_auth_user_t *u = &db->users[db->nusers];
        u->name = strdup(name);
        u->hash = strdup(secret);
        if (u->name == NULL || u->hash == NULL) {
            free(u->name);
            free(u->hash);
            return cache_err_set(err, -ENOMEM, "out of memory");
        }
        db->nusers++;
        return 0;
    }
    if (strcmp(kind, "token") == 0) {
        for (size_t i = 0; i < db->ntokens; i++)
            if (strcmp(db->tokens[i].name, name) == 0)
                return cache_err_set(err, -EINVAL, "%s:%zu: token %s is already defined", path, lineno, name);
        http_auth_token_t *t = &db->tokens[db->ntokens];
        if (strlen(secret) != 64)
            return cache_err_set(err, -EINVAL, "%s:%zu: token %s: expected 64 hex digits of SHA-256", path, lineno,
                                 name);
        for (size_t i = 0; i < 32; i++) {
            int hi = hex_nibble(secret[2 * i]), lo = hex_nibble(secret[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return cache_err_set(err, -EINVAL, "%s:%zu: token %s: expected 64 hex digits of SHA-256", path,
                                     lineno, name);
            t->sha256[i] = (uint8_t)(hi << 4 | lo);
        }
        if ((t->name = strdup(name)) == NULL)
            return cache_err_set(err, -ENOMEM, "out of memory");
        db->ntokens++;
        return 0;
    }
    return cache_err_set(err, -EINVAL, "%s:%zu: unknown entry kind \"%.16s\" (user or token)", path, lineno, kind);
}

int http_auth_db_load(const char *path, http_auth_db_t **out, cache_err_t *err)
{
    *out = NULL;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return cache_err_set(err, -errno, "auth file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > AUTH_FILE_MAX) {
        fclose(f);
        return cache_err_set(err, -EINVAL, "auth file %s: not a regular file of at most %u bytes", path, AUTH_FILE_MAX);
    }
    if (st.st_mode & S_IROTH)
        LOG_W("auth file %s is readable by every user; 0600 or 0640 is enough", path);
    /* lines are at most as many as bytes: size the arrays once */
    size_t cap = (size_t)st.st_size / 8 + 1;
    http_auth_db_t *db = calloc(1, sizeof *db);
    int rc = 0;
    if (db == NULL || (db->users = calloc(cap, sizeof *db->users)) == NULL ||
        (db->tokens = calloc(cap, sizeof *db->tokens)) == NULL) {
        rc = cache_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    char *line = NULL;
    size_t lcap = 0, lineno = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if (strlen(p) != (size_t)(n - (p - line))) {
            rc = cache_err_set(err, -EINVAL, "%s:%zu: contains a NUL byte", path, lineno);
            break;
        }
        if (db->nusers + db->ntokens >= cap) {
            rc = cache_err_set(err, -EINVAL, "%s:%zu: too many entries", path, lineno);
            break;
        }
        if ((rc = db_add_line(db, p, lineno, path, err)) != 0)
            break;
    }
    free(line);
out:
    fclose(f);
    if (rc == 0 && db->nusers + db->ntokens == 0)
        rc = cache_err_set(err, -EINVAL, "auth file %s: no user and no token", path);
    if (rc != 0) {
        http_auth_db_free(db);
        return rc;
    }
    *out = db;
    return 0;
}
