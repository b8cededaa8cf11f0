/* SPDX-License-Identifier: MIT */
/*
 * spec.c — GOSUMDB values, read as the go command reads them (cmd/go/internal/modfetch/sumdb.go):
 * "off", a known name standing for its key, or "KEY [URL]". The key is checked in full here (hash,
 * algorithm, length) so that a typo in a configuration fails at start with a reason, not at the
 * first lookup.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sumdb_i.h"

static bool url_ok(const char *url)
{
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return false;
    const char *host = url + (url[4] == 's' ? 8 : 7);
    if (*host == '\0' || *host == '/')
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' || *p == '#')
            return false;
    return true;
}

int sumdb_spec_parse(const char *value, sumdb_spec_t *out, cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    /* Split into whitespace-separated fields, as strings.Fields does. */
    const char *f[3];
    size_t fl[3];
    size_t nf = 0;
    for (const char *p = value; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
            p++;
        if (*p == '\0')
            break;
        const char *s = p;
        while (*p && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f'))
            p++;
        if (nf == 3)
            break;
        f[nf] = s;
        fl[nf] = (size_t)(p - s);
        nf++;
    }
    if (nf == 0)
        return cache_err_set(err, -EINVAL, "invalid GOSUMDB: empty");
    if (nf > 2)
        return cache_err_set(err, -EINVAL, "invalid GOSUMDB: too many fields (want KEY [URL])");
    if (nf == 1 && fl[0] == 3 && memcmp(f[0], "off", 3) == 0) {
        out->off = true;
        return 0;
    }

    char key[SUMDB_VKEY_MAX + 1];
    const char *url = NULL;
    size_t urllen = 0;
    if (nf == 1 && fl[0] == strlen("sum.golang.google.cn") && memcmp(f[0], "sum.golang.google.cn", fl[0]) == 0) {
        /* The go command's one alias: sum.golang.org's key, reachable in mainland China. */
        url = "https://sum.golang.google.cn";
        urllen = strlen(url);
    } else if (nf == 2) {
        url = f[1];
        urllen = fl[1];
    }
    if (fl[0] == strlen("sum.golang.org") && memcmp(f[0], "sum.golang.org", fl[0]) == 0)
        snprintf(key, sizeof key, "%s", SUMDB_GOLANG_VKEY);
    else if (nf == 1 && url != NULL)
        snprintf(key, sizeof key, "%s", SUMDB_GOLANG_VKEY);
    else if (fl[0] > SUMDB_VKEY_MAX)
        return cache_err_set(err, -EINVAL, "invalid GOSUMDB: key too long");
    else
        memcpy(key, f[0], fl[0]), key[fl[0]] = '\0';

    if (strchr(key, '+') == NULL)
        return cache_err_set(err, -EINVAL, "invalid GOSUMDB: unknown database \"%.100s\" (want NAME+HASH+KEY, or "
                                           "sum.golang.org)", key);
    sumdb_verifier_t v;
    int rc = sumdb_verifier_parse(key, strlen(key), &v, err);
    if (rc != 0)
        return cache_err_prefix(err, rc, "invalid GOSUMDB");
    if (!sumdb_name_valid(v.name, strlen(v.name)))
        return cache_err_set(err, -EINVAL, "invalid GOSUMDB: invalid sumdb name (must be host[/path]): %s", v.name);
    snprintf(out->name, sizeof out->name, "%s", v.name);
    snprintf(out->vkey, sizeof out->vkey, "%s", key);
    if (url != NULL) {
        if (urllen > SUMDB_URL_MAX)
            return cache_err_set(err, -EINVAL, "invalid GOSUMDB URL: too long");
        memcpy(out->url, url, urllen);
        out->url[urllen] = '\0';
        while (urllen > 0 && out->url[urllen - 1] == '/')
            out->url[--urllen] = '\0';
        if (!url_ok(out->url))
            return cache_err_set(err, -EINVAL, "invalid GOSUMDB URL \"%.200s\": want http(s)://host[/path]", out->url);
        out->url_given = true;
    } else {
        snprintf(out->url, sizeof out->url, "https://%s", out->name);
    }
    return 0;
}
