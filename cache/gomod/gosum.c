/* SPDX-License-Identifier: MIT */
/*
 * gosum.c — go.sum (and go.work.sum): "module version hash" per line, as cmd/go reads it.
 *
 * cmd/go splits each line into fields and wants exactly three; an empty line is allowed, anything
 * else is a "malformed go.sum" error, and so it is here. A version ending in "/go.mod" sums only
 * the module's go.mod (go needed its requirements, not its code): such a line asks for the .mod
 * alone. The hash is not checked against anything (the store checks zips with Go's own rules;
 * checksum verification is the go command's and the checksum database's business), only that
 * it has the "algorithm:value" form go writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod_i.h"

#define GOSUM_MAX_FIELD 2048

int gomod_parse_sum(const char *text, size_t len, const char *name, gomod_file_t *out, cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (len > GOMODFILE_MAX_SIZE)
        return cache_err_set(err, -EFBIG, "%s: larger than %u bytes", name, GOMODFILE_MAX_SIZE);
    if (memchr(text, '\0', len) != NULL)
        return cache_err_set(err, -EINVAL, "%s: contains a NUL byte: not a text file", name);
    const char *p = text, *end = text + len;
    int line = 0, rc = 0;
    while (p < end) {
        line++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        char field[3][GOSUM_MAX_FIELD];
        int nf = 0;
        for (const char *q = p; q < eol;) {
            while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
                q++;
            if (q == eol)
                break;
            const char *s = q;
            while (q < eol && *q != ' ' && *q != '\t' && *q != '\r')
                q++;
            if (nf == 3 || (size_t)(q - s) >= GOSUM_MAX_FIELD) {
                nf = 4;
                break;
            }
            memcpy(field[nf], s, (size_t)(q - s));
            field[nf++][q - s] = '\0';
        }
        p = eol < end ? eol + 1 : end;
        if (nf == 0)
            continue;
        if (nf != 3) {
            rc = cache_err_set(err, -EINVAL, "%s:%d: malformed line: want \"module version hash\"", name, line);
            break;
        }
        char *version = field[1];
        size_t vlen = strlen(version);
        bool gomod_only = vlen > 7 && strcmp(version + vlen - 7, "/go.mod") == 0;
        if (gomod_only)
            version[vlen - 7] = '\0';
        cache_err_t why = {0};
        if (modversion_check(field[0], version, &why) != 0) {
            rc = cache_err_set(err, -EINVAL, "%s:%d: %s", name, line, why.msg);
            break;
        }
        const char *colon = strchr(field[2], ':');
        if (colon == NULL || colon == field[2] || colon[1] == '\0') {
            rc = cache_err_set(err, -EINVAL, "%s:%d: malformed hash %.60s: want h1:...", name, line, field[2]);
            break;
        }
        if (gomod_file_add(out, field[0], version, gomod_only, line) != 0) {
            rc = cache_err_set(err, -ENOMEM, "out of memory");
            break;
        }
    }
    if (rc != 0)
        gomod_file_dispose(out);
    return rc;
}
