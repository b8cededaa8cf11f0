/* SPDX-License-Identifier: MIT */
/*
 * gomodfile.c — go.mod and go.work: a lexer and parser following golang.org/x/mod/modfile.
 *
 * modfile's grammar is line-based: a line is a verb and its arguments; "verb (" opens a block
 * whose lines each take that verb, until a line holding only ")". Tokens are identifiers (any
 * printable characters but space and ()[]{},), quoted strings ("..." with Go escapes, `raw`),
 * and the punctuation ( ) [ ] { } ,. "//" starts a comment to the end of the line; a C-style
 * comment is an error, as in go. Only the directives that name module versions are interpreted (require,
 * replace, use); the others (module, go, toolchain, exclude, retract, godebug, ...) are checked
 * for syntax only, so a file go accepts is accepted here whatever new directive it holds.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod_i.h"

#define GOMOD_MAX_TOKENS 16 /* the longest directive (replace a v => b v) has 5 */
#define GOMOD_MAX_TOKEN 4096

typedef struct token {
    char text[GOMOD_MAX_TOKEN];
    bool quoted; /* a string: never punctuation */
} token_t;

typedef struct lexer {
    const char *p, *end;
    const char *name;
    int line;
    cache_err_t *err;
} lexer_t;

__attribute__((format(printf, 2, 3))) static int lex_error(lexer_t *lx, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return cache_err_set(lx->err, -EINVAL, "%s:%d: %s", lx->name, lx->line, what);
}

static bool is_ident(unsigned char c)
{
    switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case ',':
    case '"':
    case '`':
        return false;
    default:
        return c >= 0x21 && c != 0x7f; /* bytes >= 0x80: UTF-8, checked by the path rules later */
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Appends c to t (n bytes so far) as UTF-8. */
static int put_rune(lexer_t *lx, token_t *t, size_t *n, uint32_t c)
{
    uint8_t b[4];
    size_t k;
    if (c < 0x80)
        b[0] = (uint8_t)c, k = 1;
    else if (c < 0x800)
        b[0] = (uint8_t)(0xc0 | c >> 6), b[1] = (uint8_t)(0x80 | (c & 0x3f)), k = 2;
    else if (c < 0x10000 && (c < 0xd800 || c > 0xdfff))
        b[0] = (uint8_t)(0xe0 | c >> 12), b[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f)), b[2] = (uint8_t)(0x80 | (c & 0x3f)),
        k = 3;
    else if (c >= 0x10000 && c <= 0x10ffff)
        b[0] = (uint8_t)(0xf0 | c >> 18), b[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f)),
        b[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f)), b[3] = (uint8_t)(0x80 | (c & 0x3f)), k = 4;
    else
        return lex_error(lx, "invalid Unicode code point in a quoted string");
    if (*n + k >= sizeof t->text)
        return lex_error(lx, "token longer than %d bytes", GOMOD_MAX_TOKEN - 1);
    memcpy(t->text + *n, b, k);
    *n += k;
    return 0;
}

/* A "..." string with Go's escapes (strconv.Unquote), lx->p on the opening quote. */
static int lex_interpreted(lexer_t *lx, token_t *t)
{
    size_t n = 0;
    lx->p++;
    for (;;) {
        if (lx->p >= lx->end || *lx->p == '\n')
            return lex_error(lx, "unterminated quoted string");
        char c = *lx->p++;
        if (c == '"')
            break;
        uint32_t r = (unsigned char)c;
        if (c == '\\') {
            if (lx->p >= lx->end)
                return lex_error(lx, "unterminated quoted string");
            char e = *lx->p++;
            int digits = 0;
            switch (e) {
            case 'a': r = '\a'; break;
            case 'b': r = '\b'; break;
            case 'f': r = '\f'; break;
            case 'n': r = '\n'; break;
            case 'r': r = '\r'; break;
            case 't': r = '\t'; break;
            case 'v': r = '\v'; break;
            case '\\': r = '\\'; break;
            case '"': r = '"'; break;
            case 'x': digits = 2; break;
            case 'u': digits = 4; break;
            case 'U': digits = 8; break;
            default:
                if (e >= '0' && e <= '7' && lx->end - lx->p >= 2 && lx->p[0] >= '0' && lx->p[0] <= '7' &&
                    lx->p[1] >= '0' && lx->p[1] <= '7') {
                    r = (uint32_t)((e - '0') << 6 | (lx->p[0] - '0') << 3 | (lx->p[1] - '0'));
                    lx->p += 2;
                    if (r > 0xff)
                        return lex_error(lx, "octal escape above \\377");
                    break;
                }
                return lex_error(lx, "unknown escape \\%c in a quoted string", e);
            }
            if (digits > 0) {
                r = 0;
                for (int i = 0; i < digits; i++) {
                    int h = lx->p < lx->end ? hexval(*lx->p) : -1;
                    if (h < 0)
                        return lex_error(lx, "\\%c needs %d hex digits", e, digits);
                    r = r << 4 | (uint32_t)h;
                    lx->p++;
                }
            }
            if (e == 'x' || (e >= '0' && e <= '7')) { /* a byte, not a code point */
                if (n + 1 >= sizeof t->text)
                    return lex_error(lx, "token longer than %d bytes", GOMOD_MAX_TOKEN - 1);
                t->text[n++] = (char)r;
                continue;
            }
        }
        int rc;
        if (c == '\\' || r < 0x80) {
            rc = put_rune(lx, t, &n, r);
        } else {
            if (n + 1 >= sizeof t->text)
                return lex_error(lx, "token longer than %d bytes", GOMOD_MAX_TOKEN - 1);
            t->text[n++] = c; /* a raw UTF-8 byte */
        }
        if (rc != 0)
            return rc;
    }
    t->text[n] = '\0';
    if (memchr(t->text, '\0', n) != NULL)
        return lex_error(lx, "NUL in a quoted string");
    t->quoted = true;
    return 0;
}

/* Reads the tokens of one line into toks (comments dropped). *ntok 0 at the end of input. */
static int lex_line(lexer_t *lx, token_t *toks, size_t *ntok, bool *eof)
{
    *ntok = 0;
    *eof = lx->p >= lx->end;
    if (*eof)
        return 0;
    lx->line++;
    for (;;) {
        while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
            lx->p++;
        if (lx->p >= lx->end)
            return 0;
        char c = *lx->p;
        if (c == '\n') {
            lx->p++;
            return 0;
        }
        if (c == '/' && lx->end - lx->p >= 2 && lx->p[1] == '/') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
            continue;
        }
        if (*ntok == GOMOD_MAX_TOKENS)
            return lex_error(lx, "too many words on one line");
        token_t *t = &toks[(*ntok)++];
        t->quoted = false;
        if (c == '"') {
            int rc = lex_interpreted(lx, t);
            if (rc != 0)
                return rc;
            continue;
        }
        if (c == '`') {
            const char *close = memchr(lx->p + 1, '`', (size_t)(lx->end - lx->p - 1));
            if (close == NULL || memchr(lx->p + 1, '\n', (size_t)(close - lx->p - 1)) != NULL)
                return lex_error(lx, "unterminated raw string");
            size_t n = (size_t)(close - lx->p - 1);
            if (n >= sizeof t->text || memchr(lx->p + 1, '\0', n) != NULL)
                return lex_error(lx, "bad raw string");
            memcpy(t->text, lx->p + 1, n);
            t->text[n] = '\0';
            t->quoted = true;
            lx->p = close + 1;
            continue;
        }
        if (strchr("()[]{},", c) != NULL) {
            t->text[0] = c;
            t->text[1] = '\0';
            lx->p++;
            continue;
        }
        if (!is_ident((unsigned char)c))
            return lex_error(lx, "unexpected character 0x%02x", (unsigned char)c);
        size_t n = 0;
        while (lx->p < lx->end && is_ident((unsigned char)*lx->p)) {
            if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '/')
                break;
            if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '*')
                return lex_error(lx, "go.mod files use // comments, not /* */");
            if (n + 1 >= sizeof t->text)
                return lex_error(lx, "word longer than %d bytes", GOMOD_MAX_TOKEN - 1);
            t->text[n++] = *lx->p++;
        }
        t->text[n] = '\0';
    }
}

static bool is_punct(const token_t *t, char c)
{
    return !t->quoted && t->text[0] == c && t->text[1] == '\0';
}

/* ---- directives ---- */

typedef struct replace {
    char *old_path;
    char *old_version; /* NULL: every version */
    bool local;        /* replaced by a directory: nothing to fetch */
    char *new_path;
    char *new_version;
} replace_t;

typedef struct parse_state {
    lexer_t lx;
    bool work;         /* go.work */
    gomod_file_t *out;
    gomod_file_t requires; /* go.mod requires, filtered by replaces at the end */
    replace_t *replaces;
    size_t nreplaces;
} parse_state_t;

void gomod_file_dispose(gomod_file_t *f)
{
    for (size_t i = 0; i < f->nrefs; i++) {
        free(f->refs[i].path);
        free(f->refs[i].version);
    }
    for (size_t i = 0; i < f->nuses; i++)
        free(f->uses[i].dir);
    free(f->refs);
    free(f->uses);
    memset(f, 0, sizeof *f);
}

int gomod_file_add(gomod_file_t *f, const char *path, const char *version, bool gomod_only, int line)
{
    gomod_ref_t *refs = realloc(f->refs, (f->nrefs + 1) * sizeof *refs);
    if (refs == NULL)
        return -ENOMEM;
    f->refs = refs;
    gomod_ref_t *r = &refs[f->nrefs];
    r->path = strdup(path);
    r->version = strdup(version);
    r->gomod_only = gomod_only;
    r->line = line;
    if (r->path == NULL || r->version == NULL) {
        free(r->path);
        free(r->version);
        return -ENOMEM;
    }
    f->nrefs++;
    return 0;
}

static int check_version(parse_state_t *st, const char *verb, const char *path, const char *version)
{
    cache_err_t why = {0};
    if (modversion_check(path, version, &why) != 0)
        return lex_error(&st->lx, "%s: %s", verb, why.msg);
    return 0;
}

/* A local replacement, as modfile.IsDirectoryPath says. */
static bool is_directory_path(const char *s)
{
    return strncmp(s, "./", 2) == 0 || strncmp(s, "../", 3) == 0 || s[0] == '/' || strcmp(s, ".") == 0 ||
           strcmp(s, "..") == 0 || strncmp(s, ".\\", 2) == 0 || strncmp(s, "..\\", 3) == 0;
}

static int directive_require(parse_state_t *st, token_t *a, size_t n)
{
    if (n != 2 || is_punct(&a[0], a[0].text[0]) || is_punct(&a[1], a[1].text[0]))
        return lex_error(&st->lx, "usage: require module/path v1.2.3");
    int rc = check_version(st, "require", a[0].text, a[1].text);
    if (rc == 0 && gomod_file_add(&st->requires, a[0].text, a[1].text, false, st->lx.line) != 0)
        rc = cache_err_set(st->lx.err, -ENOMEM, "out of memory");
    return rc;
}

static int directive_replace(parse_state_t *st, token_t *a, size_t n)
{
    /* old [v] => new [v] */
    size_t arrow = n;
    for (size_t i = 0; i < n; i++)
        if (!a[i].quoted && strcmp(a[i].text, "=>") == 0)
            arrow = i;
    if (arrow == n || (arrow != 1 && arrow != 2) || (n - arrow - 1 != 1 && n - arrow - 1 != 2))
        return lex_error(&st->lx, "usage: replace module/path [v1.2.3] => other/module v1.4.5 | ./dir");
    cache_err_t why = {0};
    if (modpath_check(a[0].text, &why) != 0)
        return lex_error(&st->lx, "replace %s: %s", a[0].text, why.msg);
    if (arrow == 2 && check_version(st, "replace", a[0].text, a[1].text) != 0)
        return -EINVAL;
    replace_t r = {0};
    const char *target = a[arrow + 1].text;
    if (n - arrow - 1 == 1) {
        if (!is_directory_path(target))
            return lex_error(&st->lx, "replace %s: a replacement module needs a version (or a ./directory)", a[0].text);
        r.local = true;
    } else {
        if (check_version(st, "replace", target, a[arrow + 2].text) != 0)
            return -EINVAL;
        r.new_path = strdup(target);
        r.new_version = strdup(a[arrow + 2].text);
        if (r.new_path == NULL || r.new_version == NULL)
            goto oom;
        if (gomod_file_add(st->out, target, a[arrow + 2].text, false, st->lx.line) != 0)
            goto oom;
    }
    r.old_path = strdup(a[0].text);
    r.old_version = arrow == 2 ? strdup(a[1].text) : NULL;
    if (r.old_path == NULL || (arrow == 2 && r.old_version == NULL))
        goto oom;
    replace_t *rs = realloc(st->replaces, (st->nreplaces + 1) * sizeof *rs);
    if (rs == NULL)
        goto oom;
    st->replaces = rs;
    rs[st->nreplaces++] = r;
    return 0;
oom:
    free(r.old_path);
    free(r.old_version);
    free(r.new_path);
    free(r.new_version);
    return cache_err_set(st->lx.err, -ENOMEM, "out of memory");
}

static int directive_use(parse_state_t *st, token_t *a, size_t n)
{
    if (n != 1 || (!a[0].quoted && strchr("()[]{},", a[0].text[0]) != NULL && a[0].text[1] == '\0'))
        return lex_error(&st->lx, "usage: use ./dir");
    gomod_file_t *f = st->out;
    gomod_use_t *u = realloc(f->uses, (f->nuses + 1) * sizeof *u);
    if (u == NULL)
        return cache_err_set(st->lx.err, -ENOMEM, "out of memory");
    f->uses = u;
    u[f->nuses].dir = strdup(a[0].text);
    u[f->nuses].line = st->lx.line;
    if (u[f->nuses].dir == NULL)
        return cache_err_set(st->lx.err, -ENOMEM, "out of memory");
    f->nuses++;
    return 0;
}

static int directive(parse_state_t *st, const char *verb, token_t *args, size_t n)
{
    if (strcmp(verb, "replace") == 0)
        return directive_replace(st, args, n);
    if (!st->work && strcmp(verb, "require") == 0)
        return directive_require(st, args, n);
    if (st->work && strcmp(verb, "use") == 0)
        return directive_use(st, args, n);
    return 0; /* module, go, toolchain, exclude, retract, godebug, tool, ignore, ...: nothing to fetch */
}

static const replace_t *replaced(const parse_state_t *st, const gomod_ref_t *r)
{
    const replace_t *any = NULL;
    for (size_t i = 0; i < st->nreplaces; i++) {
        const replace_t *rp = &st->replaces[i];
        if (strcmp(rp->old_path, r->path) != 0)
            continue;
        if (rp->old_version != NULL && strcmp(rp->old_version, r->version) == 0)
            return rp; /* a version-specific replace wins over one for every version */
        if (rp->old_version == NULL)
            any = rp;
    }
    return any;
}

static int parse(const char *text, size_t len, const char *name, bool work, gomod_file_t *out, cache_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (len > GOMODFILE_MAX_SIZE)
        return cache_err_set(err, -EFBIG, "%s: larger than %u bytes", name, GOMODFILE_MAX_SIZE);
    parse_state_t st = {.lx = {.p = text, .end = text + len, .name = name, .err = err}, .work = work, .out = out};
    token_t *toks = malloc(GOMOD_MAX_TOKENS * sizeof *toks);
    if (toks == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    char block[GOMOD_MAX_TOKEN] = ""; /* the verb of the open block, "" outside one */
    int block_line = 0, rc = 0;
    if (memchr(text, '\0', len) != NULL) {
        rc = cache_err_set(err, -EINVAL, "%s: contains a NUL byte: not a text file", name);
        goto out;
    }
    for (;;) {
        size_t n;
        bool eof;
        if ((rc = lex_line(&st.lx, toks, &n, &eof)) != 0)
            goto out;
        if (eof)
            break;
        if (n == 0)
            continue;
        if (block[0] != '\0') {
            if (n == 1 && is_punct(&toks[0], ')')) {
                block[0] = '\0';
                continue;
            }
            for (size_t i = 0; i < n; i++)
                if (is_punct(&toks[i], '(') || is_punct(&toks[i], ')')) {
                    rc = lex_error(&st.lx, "unexpected %s inside a %s block", toks[i].text, block);
                    goto out;
                }
            if ((rc = directive(&st, block, toks, n)) != 0)
                goto out;
            continue;
        }
        if (toks[0].quoted || strchr("()[]{},", toks[0].text[0]) != NULL) {
            rc = lex_error(&st.lx, "expected a directive (require, replace, ...), not %s", toks[0].text);
            goto out;
        }
        if (n == 2 && is_punct(&toks[1], '(')) {
            snprintf(block, sizeof block, "%s", toks[0].text);
            block_line = st.lx.line;
            continue;
        }
        if ((rc = directive(&st, toks[0].text, toks + 1, n - 1)) != 0)
            goto out;
    }
    if (block[0] != '\0') {
        rc = cache_err_set(err, -EINVAL, "%s:%d: %s block is never closed with )", name, block_line, block);
        goto out;
    }
    for (size_t i = 0; i < st.requires.nrefs; i++) {
        const gomod_ref_t *r = &st.requires.refs[i];
        if (replaced(&st, r) != NULL)
            continue; /* the replacement (already in out) or a directory is used instead */
        if (gomod_file_add(out, r->path, r->version, false, r->line) != 0) {
            rc = cache_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
    }
out:
    free(toks);
    gomod_file_dispose(&st.requires);
    for (size_t i = 0; i < st.nreplaces; i++) {
        free(st.replaces[i].old_path);
        free(st.replaces[i].old_version);
        free(st.replaces[i].new_path);
        free(st.replaces[i].new_version);
    }
    free(st.replaces);
    if (rc != 0)
        gomod_file_dispose(out);
    return rc;
}

int gomod_parse_mod(const char *text, size_t len, const char *name, gomod_file_t *out, cache_err_t *err)
{
    return parse(text, len, name, false, out, err);
}

int gomod_parse_work(const char *text, size_t len, const char *name, gomod_file_t *out, cache_err_t *err)
{
    return parse(text, len, name, true, out, err);
}
