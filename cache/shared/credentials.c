/* SPDX-License-Identifier: MIT */
/*
 * credentials.c — the object store's access key and secret (shared_i.h): from a file in the AWS
 * credentials format (what `aws configure` writes, and what Ceph and MinIO documentation hand
 * out), or from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Never from the command line, where
 * every user of the machine can read them in /proc.
 *
 * A secret never reaches a message: errors say which line or variable is wrong, not what it held,
 * and the memory of a secret is wiped before it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared_i.h"

#define CREDENTIALS_FILE_MAX (64u << 10)
#define CREDENTIAL_MAX 256

void shared_secret_free(char *secret)
{
    if (secret == NULL)
        return;
    explicit_bzero(secret, strlen(secret));
    free(secret);
}

/* A value fit for a header: 1 to CREDENTIAL_MAX printable ASCII bytes, no space or ':'. */
static bool value_ok(const char *v, size_t n)
{
    if (n == 0 || n > CREDENTIAL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] <= ' ' || v[i] > '~' || v[i] == ':')
            return false;
    return true;
}

static const char *trim(const char *s, size_t *n)
{
    while (*n > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        (*n)--;
    }
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
        (*n)--;
    return s;
}

int shared_credentials_parse(const char *text, size_t len, const char *where, char **access, char **secret,
                             cache_err_t *err)
{
    *access = *secret = NULL;
    bool in_default = true; /* before any section, or in [default] */
    int lineno = 0;
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *line = text + pos;
        pos += n + (nl != NULL);
        lineno++;
        if (memchr(line, '\0', n) != NULL) {
            rc = cache_err_set(err, -EINVAL, "%s:%d: a NUL byte", where, lineno);
            break;
        }
        line = trim(line, &n);
        if (n == 0 || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            if (line[n - 1] != ']') {
                rc = cache_err_set(err, -EINVAL, "%s:%d: a section header without ]", where, lineno);
                break;
            }
            size_t sn = n - 2;
            const char *sec = trim(line + 1, &sn);
            in_default = sn == 7 && strncmp(sec, "default", 7) == 0;
            continue;
        }
        const char *eq = memchr(line, '=', n);
        if (eq == NULL) {
            rc = cache_err_set(err, -EINVAL, "%s:%d: not a key = value line", where, lineno);
            break;
        }
        size_t kn = (size_t)(eq - line), vn = n - kn - 1;
        const char *k = trim(line, &kn), *v = trim(eq + 1, &vn);
        if (!in_default)
            continue;
        char **slot = NULL;
        if (kn == 17 && strncasecmp(k, "aws_access_key_id", 17) == 0)
            slot = access;
        else if (kn == 21 && strncasecmp(k, "aws_secret_access_key", 21) == 0)
            slot = secret;
        if (slot == NULL)
            continue; /* region, session tokens, ...: not ours */
        if (!value_ok(v, vn)) {
            rc = cache_err_set(err, -EINVAL,
                               "%s:%d: the value is empty, too long or has a space, ':' or a control byte",
                               where, lineno);
            break;
        }
        if (*slot != NULL) {
            rc = cache_err_set(err, -EINVAL, "%s:%d: %.*s given twice", where, lineno, (int)kn, k);
            break;
        }
        if ((*slot = strndup(v, vn)) == NULL)
            rc = cache_err_set(err, -ENOMEM, "out of memory");
    }
    if (rc == 0 && *access == NULL)
        rc = cache_err_set(err, -EINVAL, "%s: no aws_access_key_id (before any section or in [default])",
                           where);
    if (rc == 0 && *secret == NULL)
        rc = cache_err_set(err, -EINVAL, "%s: no aws_secret_access_key (before any section or in [default])",
                           where);
    if (rc != 0) {
        free(*access);
        shared_secret_free(*secret);
        *access = *secret = NULL;
    }
    return rc;
}

static int from_env(char **access, char **secret, cache_err_t *err)
{
    const char *a = getenv("AWS_ACCESS_KEY_ID"), *s = getenv("AWS_SECRET_ACCESS_KEY");
    if (a == NULL || s == NULL)
        return cache_err_set(err, -EINVAL,
                             "no credentials for the object store: give --s3-credentials FILE, or set "
                             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    if (!value_ok(a, strlen(a)))
        return cache_err_set(err, -EINVAL,
                             "AWS_ACCESS_KEY_ID is empty, too long or has a space, ':' or a control byte");
    if (!value_ok(s, strlen(s)))
        return cache_err_set(
            err, -EINVAL, "AWS_SECRET_ACCESS_KEY is empty, too long or has a space, ':' or a control byte");
    *access = strdup(a);
    *secret = strdup(s);
    if (*access == NULL || *secret == NULL) {
        free(*access);
        shared_secret_free(*secret);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    return 0;
}

int shared_credentials_load(const char *path, char **access, char **secret, cache_err_t *err)
{
    *access = *secret = NULL;
    if (path == NULL)
        return from_env(access, secret, err);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cache_err_set(err, -errno, "credentials file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CREDENTIALS_FILE_MAX) {
        close(fd);
        return cache_err_set(err, -EINVAL, "credentials file %s: not a regular file of at most %u bytes",
                             path, CREDENTIALS_FILE_MAX);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        LOG_W("credentials file %s can be read by other users (chmod 600 it)", path);
    char *text = malloc((size_t)st.st_size + 1);
    if (text == NULL) {
        close(fd);
        return cache_err_set(err, -ENOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    int rc = shared_credentials_parse(text, got, path, access, secret, err);
    explicit_bzero(text, got);
    free(text);
    return rc;
}
