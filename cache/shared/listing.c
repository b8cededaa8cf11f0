/* SPDX-License-Identifier: MIT */
/*
 * listing.c — a ListObjectsV2 answer read into names, times and sizes (shared_i.h), for bucket gc
 * and lease waits.
 *
 * A small XML reader of our own rather than libxml2: the answer is one flat, documented shape
 * (ListBucketResult with Contents of Key, LastModified, Size, and the paging fields), and what we
 * need of XML is tags, text and the five entities plus character references. Everything else
 * (CDATA, a DOCTYPE, an unclosed or mismatched tag, nesting deeper than the shape has, a field too
 * long) is refused as -EBADMSG: a listing decides what gc deletes, so a malformed one is never
 * half-used. The parser is fuzzed (tests/fuzz/shared_fuzz.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared_i.h"

#define XML_DEPTH_MAX 8
#define XML_NAME_MAX 64
#define FIELD_MAX 4096
#define LIST_ENTRIES_MAX 10000000u /* far past any bucket we page through; bounds memory */

typedef enum { TOK_EOF, TOK_START, TOK_END, TOK_EMPTY, TOK_TEXT } tok_kind_t;

typedef struct tok {
    tok_kind_t kind;
    const char *s; /* name (start/end/empty) or raw text */
    size_t n;
} tok_t;

typedef struct xml {
    const char *p, *end;
} xml_t;

static bool name_char(char c)
{
    return ascii_is_alnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
}

/* The next token; -EBADMSG for what this reader does not accept. */
static int next(xml_t *x, tok_t *t)
{
    for (;;) {
        if (x->p >= x->end) {
            t->kind = TOK_EOF;
            return 0;
        }
        if (*x->p != '<') {
            const char *lt = memchr(x->p, '<', (size_t)(x->end - x->p));
            t->kind = TOK_TEXT;
            t->s = x->p;
            t->n = (size_t)((lt ? lt : x->end) - x->p);
            x->p += t->n;
            return 0;
        }
        size_t left = (size_t)(x->end - x->p);
        if (left >= 2 && x->p[1] == '?') { /* <?xml ...?> */
            const char *q = memmem(x->p, left, "?>", 2);
            if (q == NULL)
                return -EBADMSG;
            x->p = q + 2;
            continue;
        }
        if (left >= 4 && memcmp(x->p, "<!--", 4) == 0) {
            const char *q = memmem(x->p + 4, left - 4, "-->", 3);
            if (q == NULL)
                return -EBADMSG;
            x->p = q + 3;
            continue;
        }
        if (left >= 2 && x->p[1] == '!')
            return -EBADMSG; /* CDATA, DOCTYPE: not in a listing */
        const char *s = x->p + 1;
        t->kind = TOK_START;
        if (s < x->end && *s == '/') {
            t->kind = TOK_END;
            s++;
        }
        const char *e = s;
        while (e < x->end && name_char(*e))
            e++;
        if (e == s || (size_t)(e - s) > XML_NAME_MAX)
            return -EBADMSG;
        t->s = s;
        t->n = (size_t)(e - s);
        /* then space, attributes (name="value" or name='value', only in start tags), and > or /> */
        const char *q = e;
        for (;;) {
            while (q < x->end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
                q++;
            if (q >= x->end)
                return -EBADMSG;
            if (*q == '>')
                break;
            if (*q == '/' && t->kind == TOK_START && q + 1 < x->end && q[1] == '>') {
                t->kind = TOK_EMPTY;
                q++;
                break;
            }
            if (t->kind == TOK_END || q == e ||
                !(q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r' || q[-1] == '\n'))
                return -EBADMSG;
            const char *a = q;
            while (q < x->end && name_char(*q))
                q++;
            if (q == a || q + 1 >= x->end || *q != '=' || (q[1] != '"' && q[1] != '\''))
                return -EBADMSG;
            char quote = q[1];
            const char *v = q + 2;
            const char *close = memchr(v, quote, (size_t)(x->end - v));
            if (close == NULL || memchr(v, '<', (size_t)(close - v)) != NULL)
                return -EBADMSG;
            q = close + 1;
        }
        const char *gt = q;
        x->p = gt + 1;
        return 0;
    }
}

/* Decodes raw XML text (entities, character references) into out (cap bytes with the NUL).
 * -EBADMSG for a bad or unknown entity, a control byte, or text longer than cap - 1. */
static int text_decode(const char *s, size_t n, char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        if (s[i] == '&') {
            const char *semi = memchr(s + i, ';', n - i);
            if (semi == NULL || semi - (s + i) > 12)
                return -EBADMSG;
            size_t en = (size_t)(semi - (s + i)) - 1;
            const char *e = s + i + 1;
            if (en == 3 && !memcmp(e, "amp", 3))
                c = '&';
            else if (en == 2 && !memcmp(e, "lt", 2))
                c = '<';
            else if (en == 2 && !memcmp(e, "gt", 2))
                c = '>';
            else if (en == 4 && !memcmp(e, "quot", 4))
                c = '"';
            else if (en == 4 && !memcmp(e, "apos", 4))
                c = '\'';
            else if (en >= 2 && e[0] == '#') {
                bool hex = e[1] == 'x';
                size_t k = hex ? 2 : 1;
                if (k >= en)
                    return -EBADMSG;
                c = 0;
                for (; k < en; k++) {
                    int d = ascii_is_digit(e[k])                ? e[k] - '0'
                            : hex && e[k] >= 'a' && e[k] <= 'f' ? e[k] - 'a' + 10
                            : hex && e[k] >= 'A' && e[k] <= 'F' ? e[k] - 'A' + 10
                                                                : -1;
                    if (d < 0 || c > 0x10FFFF)
                        return -EBADMSG;
                    c = c * (hex ? 16 : 10) + (uint32_t)d;
                }
                if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
                    return -EBADMSG;
            } else {
                return -EBADMSG;
            }
            i = (size_t)(semi - s) + 1;
            uint8_t u[4];
            size_t un = utf8_encode(c, u);
            if (o + un >= cap)
                return -EBADMSG;
            memcpy(out + o, u, un);
            o += un;
            continue;
        }
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return -EBADMSG;
        if (o + 1 >= cap)
            return -EBADMSG;
        out[o++] = s[i++];
    }
    out[o] = '\0';
    *len = o;
    return 0;
}

static bool is(const tok_t *t, const char *name)
{
    return t->n == strlen(name) && memcmp(t->s, name, t->n) == 0;
}

static bool only_space(const tok_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (!(t->s[i] == ' ' || t->s[i] == '\t' || t->s[i] == '\r' || t->s[i] == '\n'))
            return false;
    return true;
}

int shared_time_parse_iso(const char *s, size_t len, int64_t *ms)
{
    /* YYYY-MM-DDTHH:MM:SS[.fff...]Z */
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[len - 1] != 'Z')
        return -EINVAL;
    static const size_t digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    for (size_t i = 0; i < sizeof digits / sizeof digits[0]; i++)
        if (!ascii_is_digit(s[digits[i]]))
            return -EINVAL;
#define NUM2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    int year = NUM2(0) * 100 + NUM2(2), mon = NUM2(5), day = NUM2(8), hh = NUM2(11), mm = NUM2(14),
        ss = NUM2(17);
#undef NUM2
    int frac_ms = 0;
    if (len > 20) {
        if (s[19] != '.' || len == 21)
            return -EINVAL;
        int scale = 100;
        for (size_t i = 20; i < len - 1; i++) {
            if (!ascii_is_digit(s[i]) || i > 40)
                return -EINVAL;
            frac_ms += (s[i] - '0') * scale;
            scale /= 10;
        }
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hh > 23 || mm > 59 ||
        ss > 60)
        return -EINVAL;
    /* days from the civil date (Howard Hinnant's algorithm) */
    int y = year - (mon <= 2);
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *ms = ((days * 86400) + hh * 3600 + mm * 60 + ss) * 1000 + frac_ms;
    return 0;
}

void shared_list_dispose(shared_list_t *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->v[i].name);
    free(list->v);
    free(list->next_token);
    memset(list, 0, sizeof *list);
}

/* The text of a leaf element whose start tag was just read, decoded into out; its end tag is
 * consumed. */
static int leaf(xml_t *x, const tok_t *start, char *out, size_t cap, size_t *len)
{
    tok_t t;
    if (next(x, &t) != 0)
        return -EBADMSG;
    *len = 0;
    out[0] = '\0';
    if (t.kind == TOK_TEXT) {
        if (text_decode(t.s, t.n, out, cap, len) != 0 || next(x, &t) != 0)
            return -EBADMSG;
    }
    return t.kind == TOK_END && t.n == start->n && memcmp(t.s, start->s, t.n) == 0 ? 0 : -EBADMSG;
}

/* Skips the element whose start tag was just read, whatever it holds (to XML_DEPTH_MAX). */
static int skip(xml_t *x, int depth)
{
    tok_t t;
    for (;;) {
        if (next(x, &t) != 0 || t.kind == TOK_EOF)
            return -EBADMSG;
        if (t.kind == TOK_END)
            return 0; /* names were matched by whoever opened it: good enough for what we skip */
        if (t.kind == TOK_START && (depth + 1 >= XML_DEPTH_MAX || skip(x, depth + 1) != 0))
            return -EBADMSG;
    }
}

static int contents(xml_t *x, shared_list_t *list, char *field)
{
    tok_t t;
    size_t n;
    bool have_key = false, have_time = false, have_size = false;
    shared_list_entry_t e = {0};
    int rc = 0;
    while (rc == 0) {
        if (next(x, &t) != 0) {
            rc = -EBADMSG;
            break;
        }
        if (t.kind == TOK_END) {
            if (!is(&t, "Contents"))
                rc = -EBADMSG;
            break;
        }
        if (t.kind == TOK_TEXT && only_space(&t))
            continue;
        if (t.kind == TOK_EMPTY)
            continue;
        if (t.kind != TOK_START) {
            rc = -EBADMSG;
            break;
        }
        if (is(&t, "Key")) {
            if (have_key || leaf(x, &t, field, FIELD_MAX, &n) != 0 || n == 0 || strlen(field) != n)
                rc = -EBADMSG;
            else if ((e.name = strdup(field)) == NULL)
                rc = -ENOMEM;
            have_key = true;
        } else if (is(&t, "LastModified")) {
            if (have_time || leaf(x, &t, field, 64, &n) != 0 ||
                shared_time_parse_iso(field, n, &e.mtime_ms) != 0)
                rc = -EBADMSG;
            have_time = true;
        } else if (is(&t, "Size")) {
            rc = have_size || leaf(x, &t, field, 32, &n) != 0 || n == 0 || n > 19 ? -EBADMSG : 0;
            for (size_t i = 0; rc == 0 && i < n; i++) {
                if (!ascii_is_digit(field[i]))
                    rc = -EBADMSG;
                e.size = e.size * 10 + (uint64_t)(field[i] - '0');
            }
            have_size = true;
        } else if (skip(x, 3) != 0) {
            rc = -EBADMSG;
        }
    }
    if (rc == 0 && !(have_key && have_time && have_size))
        rc = -EBADMSG;
    if (rc == 0 && list->n >= LIST_ENTRIES_MAX)
        rc = -EBADMSG;
    if (rc == 0 && list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        shared_list_entry_t *v = realloc(list->v, cap * sizeof *v);
        if (v == NULL)
            rc = -ENOMEM;
        else {
            list->v = v;
            list->cap = cap;
        }
    }
    if (rc != 0) {
        free(e.name);
        return rc;
    }
    list->v[list->n++] = e;
    return 0;
}

int shared_list_parse(const uint8_t *p, size_t len, shared_list_t *list, cache_err_t *err)
{
    xml_t x = {(const char *)p, (const char *)p + len};
    tok_t t;
    char *field = malloc(FIELD_MAX);
    if (field == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    size_t first = list->n;
    int rc = 0;
    bool truncated = false, have_truncated = false;
    char *token = NULL;
    /* the root */
    do {
        rc = next(&x, &t);
    } while (rc == 0 && t.kind == TOK_TEXT && only_space(&t));
    if (rc != 0 || t.kind != TOK_START || !is(&t, "ListBucketResult"))
        rc = -EBADMSG;
    while (rc == 0) {
        if ((rc = next(&x, &t)) != 0)
            break;
        if (t.kind == TOK_END) {
            rc = is(&t, "ListBucketResult") ? 0 : -EBADMSG;
            break;
        }
        if ((t.kind == TOK_TEXT && only_space(&t)) || t.kind == TOK_EMPTY)
            continue;
        if (t.kind != TOK_START) {
            rc = -EBADMSG;
            break;
        }
        size_t n;
        if (is(&t, "Contents")) {
            rc = contents(&x, list, field);
        } else if (is(&t, "IsTruncated")) {
            rc = have_truncated || leaf(&x, &t, field, 16, &n) != 0 ? -EBADMSG : 0;
            if (rc == 0 && strcmp(field, "true") == 0)
                truncated = true;
            else if (rc == 0 && strcmp(field, "false") != 0)
                rc = -EBADMSG;
            have_truncated = true;
        } else if (is(&t, "NextContinuationToken")) {
            rc = token != NULL || leaf(&x, &t, field, 1024, &n) != 0 || n == 0 || strlen(field) != n
                     ? -EBADMSG
                     : 0;
            if (rc == 0 && (token = strdup(field)) == NULL)
                rc = -ENOMEM;
        } else {
            rc = skip(&x, 2);
        }
    }
    if (rc == 0) { /* nothing but space after the root */
        while ((rc = next(&x, &t)) == 0 && t.kind == TOK_TEXT && only_space(&t))
            ;
        if (rc == 0 && t.kind != TOK_EOF)
            rc = -EBADMSG;
    }
    if (rc == 0 && !have_truncated)
        rc = -EBADMSG;
    free(field);
    if (rc != 0) {
        for (size_t i = first; i < list->n; i++)
            free(list->v[i].name);
        list->n = first;
        free(token);
        return rc == -ENOMEM
                   ? cache_err_set(err, rc, "out of memory")
                   : cache_err_set(err, -EBADMSG, "the object store's listing is not a ListBucketResult");
    }
    list->truncated = truncated;
    free(list->next_token);
    list->next_token = token;
    return 0;
}
