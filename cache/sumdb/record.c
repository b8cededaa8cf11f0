/* SPDX-License-Identifier: MIT */
/*
 * record.c — the database's text formats (golang.org/x/mod/sumdb/tlog/note.go): the tree head
 * ("go.sum database tree\n<N>\n<hash>\n"), a record ("<id>\n<go.sum lines>\n") and a lookup
 * answer (a record, a blank line, the signed tree head). Parsing is strict because every byte of
 * a record is hashed into the log: text that parses two ways could prove two things.
 */
#include <errno.h>
#include <string.h>

#include "sumdb_i.h"

static const char tree_prefix[] = "go.sum database tree\n";

/* A canonical non-negative decimal below SUMDB_TREE_MAX: no sign, no leading zero. */
static bool parse_size(const uint8_t *s, size_t len, int64_t *out, bool allow_leading_zero)
{
    if (len == 0 || len > 19 || (!allow_leading_zero && len > 1 && s[0] == '0'))
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (SUMDB_TREE_MAX - (s[i] - '0')) / 10)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int sumdb_tree_parse(const uint8_t *text, size_t len, sumdb_tree_t *out, cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    size_t plen = sizeof tree_prefix - 1;
    if (len > 1000000 || len < plen || memcmp(text, tree_prefix, plen) != 0)
        return cache_err_set(err, -EPROTO, "malformed tree note: not a go.sum database tree");
    const uint8_t *p = text + plen, *end = text + len;
    const uint8_t *nl1 = memchr(p, '\n', (size_t)(end - p));
    const uint8_t *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
    if (nl2 == NULL)
        return cache_err_set(err, -EPROTO, "malformed tree note: want size and hash lines");
    if (!parse_size(p, (size_t)(nl1 - p), &out->n, false))
        return cache_err_set(err, -EPROTO, "malformed tree note: bad tree size \"%.*s\"",
                             (int)((nl1 - p) > 40 ? 40 : (nl1 - p)), (const char *)p);
    const char *h64 = (const char *)nl1 + 1;
    if (sumdb_b64_decode(h64, (size_t)(nl2 - nl1 - 1), out->hash.b, SUMDB_HASH_SIZE) != SUMDB_HASH_SIZE)
        return cache_err_set(err, -EPROTO, "malformed tree note: the tree hash is not base64 of 32 bytes");
    return 0;
}

/* isValidRecordText: UTF-8, no control character but '\n', no empty line, ends in '\n'. */
static bool record_text_valid(const uint8_t *s, size_t len)
{
    uint32_t last = 0;
    for (size_t i = 0; i < len;) {
        uint32_t r = 0;
        size_t size = utf8_decode(s + i, len - i, &r);
        if (size == 0 || (r < 0x20 && r != '\n') || (last == '\n' && r == '\n'))
            return false;
        i += size;
        last = r;
    }
    return last == '\n';
}

int sumdb_record_parse(const uint8_t *msg, size_t len, int64_t *id, slice_t *text, slice_t *rest, cache_err_t *err)
{
    const uint8_t *nl = memchr(msg, '\n', len);
    /* Go's ParseInt takes leading zeros, so they are taken here too; a sign is refused. */
    if (nl == NULL || !parse_size(msg, (size_t)(nl - msg), id, true))
        return cache_err_set(err, -EPROTO, "malformed record data: bad record number");
    const uint8_t *t = nl + 1, *end = msg + len;
    const uint8_t *split = NULL;
    for (const uint8_t *q = t; q + 1 < end; q++) {
        if (q[0] == '\n' && q[1] == '\n') {
            split = q;
            break;
        }
    }
    if (split == NULL)
        return cache_err_set(err, -EPROTO, "malformed record data: no blank line after the record");
    text->base = t;
    text->len = (size_t)(split - t) + 1;
    rest->base = split + 2;
    rest->len = (size_t)(end - split - 2);
    if (!record_text_valid(text->base, text->len))
        return cache_err_set(err, -EPROTO, "malformed record data: invalid record text");
    return 0;
}

int sumdb_record_find_h1(slice_t text, const char *module, const char *version, const char *suffix, char *hash,
                         size_t cap)
{
    size_t ml = strlen(module), vl = strlen(version), sl = strlen(suffix);
    const uint8_t *p = text.base, *end = text.base + text.len;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t pre = ml + 1 + vl + sl + 1;
        if (ll > pre + 3 && memcmp(p, module, ml) == 0 && p[ml] == ' ' && memcmp(p + ml + 1, version, vl) == 0 &&
            memcmp(p + ml + 1 + vl, suffix, sl) == 0 && p[pre - 1] == ' ' && memcmp(p + pre, "h1:", 3) == 0 &&
            memchr(p + pre, ' ', ll - pre) == NULL) {
            if (ll - pre >= cap)
                return -EPROTO;
            memcpy(hash, p + pre, ll - pre);
            hash[ll - pre] = '\0';
            return 0;
        }
        p += ll + 1;
    }
    return -ENOENT;
}
