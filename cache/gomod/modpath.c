/* SPDX-License-Identifier: MIT */
/*
 * modpath.c — Go's naming rules for modules: paths, versions and escaping.
 *
 * These rules decide which names modfs will ever turn into a store key, a FUSE name or an
 * upstream URL, so they follow golang.org/x/mod v0.7.0 (module/module.go) rule by rule and keep
 * go's wording in the messages: what the go command accepts is accepted, the rest is rejected
 * with a reason. The version grammar itself (semver/semver.go, module/pseudo.go) is in semver.c,
 * the Unicode letter table that file names need in unicode_letter.c, GOPROXY keys built from
 * these rules in modkey.c.
 *
 * Inside, every string is a (pointer, length) pair, so a NUL or a stray byte in a request can
 * never shorten a name silently; the public functions that take C strings measure them once.
 */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gomod_i.h"

/* Room for one reason; go's longest ("..." disallowed as path element component on Windows) fits. */
#define WHY_MAX 200
/* Quoted names in messages are cut to this many bytes, so two of them fit in cache_err_t. */
#define QUOTE_MAX 120

typedef enum path_kind { KIND_MODULE, KIND_IMPORT, KIND_FILE } path_kind_t;

/* ---- messages ----------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static bool why_set(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, WHY_MAX, fmt, ap);
    va_end(ap);
    return false;
}

/* A name for a message: as is when it is plain printable ASCII (the usual case), else quoted. */
static const char *printable(char *dst, size_t cap, const char *s, size_t len)
{
    bool plain = len > 0 && len + 1 <= cap;
    for (size_t i = 0; plain && i < len; i++)
        plain = s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\';
    if (!plain)
        return str_quote(dst, cap, s, len);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return dst;
}

/* Go prints a rejected rune with %q: 'x' for printable ASCII, else its code point. */
static const char *quote_rune(char *dst, size_t cap, uint32_t r)
{
    if (r >= 0x20 && r < 0x7f && r != '\'' && r != '\\')
        snprintf(dst, cap, "'%c'", (char)r);
    else if (r == '\'' || r == '\\')
        snprintf(dst, cap, "'\\%c'", (char)r);
    else
        snprintf(dst, cap, "U+%04X", (unsigned)r);
    return dst;
}

/* ---- characters --------------------------------------------------------------------------- */

/* module.firstPathOK: the first element is a lower-case LDH domain name. */
static bool first_path_ok(char c)
{
    return c == '-' || c == '.' || ascii_is_digit(c) || ascii_is_lower(c);
}

/* module.modPathOK: ASCII letters, digits and - . _ ~ (nothing that changes meaning in a URL). */
static bool mod_path_ok(uint32_t r)
{
    return r < 0x80 && (ascii_is_alnum((char)r) || r == '-' || r == '.' || r == '_' || r == '~');
}

/* module.fileNameOK: letters (any script), digits, space and a few shell-safe punctuation marks. */
static bool file_name_ok(uint32_t r)
{
    if (r < 0x80)
        return ascii_is_alnum((char)r) || (r != 0 && strchr("!#$%&()+,-.=@[]^_{}~ ", (int)r) != NULL);
    return unicode_is_letter_nonascii(r);
}

static bool rune_ok(uint32_t r, path_kind_t kind)
{
    switch (kind) {
    case KIND_MODULE:
        return mod_path_ok(r);
    case KIND_IMPORT:
        return mod_path_ok(r) || r == '+';
    case KIND_FILE:
        return file_name_ok(r);
    }
    return false;
}

/* ---- paths -------------------------------------------------------------------------------- */

static const char *const bad_windows_names[] = {
    "CON",  "PRN",  "AUX",  "NUL",  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
};

/* module.checkElem: one path element (the input is valid UTF-8 without '/'). */
static bool check_elem(const char *e, size_t len, path_kind_t kind, char *why)
{
    char q[QUOTE_MAX];
    if (len == 0)
        return why_set(why, "empty path element");
    size_t dots = 0;
    for (size_t i = 0; i < len; i++)
        dots += e[i] == '.';
    if (dots == len)
        return why_set(why, "invalid path element %s", str_quote(q, sizeof q, e, len));
    if (e[0] == '.' && kind == KIND_MODULE)
        return why_set(why, "leading dot in path element");
    if (e[len - 1] == '.')
        return why_set(why, "trailing dot in path element");
    for (size_t i = 0; i < len;) {
        uint32_t r;
        size_t n = utf8_decode(e + i, len - i, &r);
        if (n == 0)
            return why_set(why, "invalid UTF-8");
        if (!rune_ok(r, kind))
            return why_set(why, "invalid char %s", quote_rune(q, sizeof q, r));
        i += n;
    }

    /* Windows reserves some names, with any extension: "aux.go" cannot be created there. */
    const char *dot = memchr(e, '.', len);
    size_t short_len = dot ? (size_t)(dot - e) : len;
    /* Every reserved name is 3 or 4 bytes long: most elements skip the table entirely. */
    for (size_t i = 0; (short_len == 3 || short_len == 4) && i < sizeof bad_windows_names / sizeof bad_windows_names[0];
         i++)
        if (ascii_equal_fold(e, short_len, bad_windows_names[i]))
            return why_set(why, "%s disallowed as path element component on Windows",
                           str_quote(q, sizeof q, e, short_len));
    if (kind == KIND_FILE)
        return true;

    /* Import paths must not look like Windows short names ("PROGRA~1"). */
    const char *tilde = NULL;
    for (size_t i = 0; i < short_len; i++)
        if (e[i] == '~')
            tilde = e + i;
    if (tilde != NULL && (size_t)(tilde - e) < short_len - 1) {
        bool digits = true;
        for (const char *p = tilde + 1; p < e + short_len; p++)
            digits = digits && ascii_is_digit(*p);
        if (digits)
            return why_set(why, "trailing tilde and digits in path element");
    }
    return true;
}

/* module.checkPath: slash-separated elements, each checked by check_elem. */
static bool check_path(const char *p, size_t len, path_kind_t kind, char *why)
{
    if (!utf8_valid(p, len))
        return why_set(why, "invalid UTF-8");
    if (len == 0)
        return why_set(why, "empty string");
    if (p[0] == '-' && kind != KIND_FILE)
        return why_set(why, "leading dash");
    for (size_t i = 0; i + 1 < len; i++)
        if (p[i] == '/' && p[i + 1] == '/')
            return why_set(why, "double slash");
    if (p[len - 1] == '/')
        return why_set(why, "trailing slash");
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || p[i] == '/') {
            if (!check_elem(p + start, i - start, kind, why))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* A path's major-version suffix: "/v2", ".v1", ".v3-unstable" or empty. */
typedef struct path_major {
    const char *p;
    size_t len;
} path_major_t;

/* module.splitGopkgIn: gopkg.in paths always end in .vN (N may be 0 or 1), maybe -unstable. */
static bool split_gopkg_in(const char *p, size_t len, size_t *prefix_len, path_major_t *major)
{
    static const char unstable[] = "-unstable";
    size_t i = len;
    if (len >= sizeof unstable - 1 &&
        memcmp(p + len - (sizeof unstable - 1), unstable, sizeof unstable - 1) == 0)
        i -= sizeof unstable - 1;
    while (i > 0 && ascii_is_digit(p[i - 1]))
        i--;
    if (i <= 1 || p[i - 1] != 'v' || p[i - 2] != '.')
        return false;
    const char *m = p + i - 2;
    size_t mlen = len - (i - 2);
    if (mlen <= 2 || (m[2] == '0' && !(mlen == 3 && memcmp(m, ".v0", 3) == 0)))
        return false;
    *prefix_len = i - 2;
    *major = (path_major_t){m, mlen};
    return true;
}

/* module.SplitPathVersion: the /vN suffix (N >= 2, no leading zero, no dots) of a module path.
 * Returns false for a last element that looks like a version but is not allowed (/v1, /v0, /v2.0). */
static bool split_path_version(const char *p, size_t len, size_t *prefix_len, path_major_t *major)
{
    *prefix_len = len;
    *major = (path_major_t){p + len, 0};
    if (len >= 9 && memcmp(p, "gopkg.in/", 9) == 0)
        return split_gopkg_in(p, len, prefix_len, major);
    size_t i = len;
    bool dot = false;
    while (i > 0 && (ascii_is_digit(p[i - 1]) || p[i - 1] == '.')) {
        dot = dot || p[i - 1] == '.';
        i--;
    }
    if (i <= 1 || i == len || p[i - 1] != 'v' || p[i - 2] != '/')
        return true;
    const char *m = p + i - 2;
    size_t mlen = len - (i - 2);
    if (dot || mlen <= 2 || m[2] == '0' || (mlen == 3 && memcmp(m, "/v1", 3) == 0))
        return false;
    *prefix_len = i - 2;
    *major = (path_major_t){m, mlen};
    return true;
}

/* module.CheckPath without the wrapping message. */
static bool check_module_path(const char *p, size_t len, char *why)
{
    char q[QUOTE_MAX];
    if (!check_path(p, len, KIND_MODULE, why))
        return false;
    const char *slash = memchr(p, '/', len);
    size_t first = slash ? (size_t)(slash - p) : len;
    if (first == 0)
        return why_set(why, "leading slash");
    if (memchr(p, '.', first) == NULL)
        return why_set(why, "missing dot in first path element");
    if (p[0] == '-')
        return why_set(why, "leading dash in first path element");
    for (size_t i = 0; i < first; i++)
        if (!first_path_ok(p[i]))
            return why_set(why, "invalid char %s in first path element",
                           quote_rune(q, sizeof q, (unsigned char)p[i]));
    size_t prefix_len;
    path_major_t major;
    if (!split_path_version(p, len, &prefix_len, &major))
        return why_set(why, "invalid version");
    return true;
}

static int path_error(cache_err_t *err, const char *kind, const char *p, size_t len, const char *why)
{
    char q[QUOTE_MAX];
    return cache_err_set(err, -EINVAL, "malformed %s path %s: %s", kind, str_quote(q, sizeof q, p, len), why);
}

int modpath_check(const char *path, cache_err_t *err)
{
    assert(path != NULL);
    char why[WHY_MAX];
    size_t len = strlen(path);
    if (!check_module_path(path, len, why))
        return path_error(err, "module", path, len, why);
    return 0;
}

int modpath_check_import(const char *path, cache_err_t *err)
{
    assert(path != NULL);
    char why[WHY_MAX];
    size_t len = strlen(path);
    if (!check_path(path, len, KIND_IMPORT, why))
        return path_error(err, "import", path, len, why);
    return 0;
}

int modpath_check_file(const char *path, cache_err_t *err)
{
    assert(path != NULL);
    char why[WHY_MAX];
    size_t len = strlen(path);
    if (!check_path(path, len, KIND_FILE, why))
        return path_error(err, "file", path, len, why);
    return 0;
}

/* ---- module versions ---------------------------------------------------------------------- */

static bool str_eq(str_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* module.CheckPathMajor: does version v (valid semver) belong under the path suffix `major`? */
static bool check_path_major(const char *v, size_t vlen, const semver_t *sv, path_major_t major, char *why)
{
    static const char unstable[] = "-unstable";
    const size_t ul = sizeof unstable - 1;
    if (major.len >= 2 && memcmp(major.p, ".v", 2) == 0 && major.len >= ul &&
        memcmp(major.p + major.len - ul, unstable, ul) == 0)
        major.len -= ul;
    /* Early vgo wrote v0.0.0- pseudo-versions for gopkg.in .v1 paths; go still accepts them. */
    if (vlen >= 7 && memcmp(v, "v0.0.0-", 7) == 0 && major.len == 3 && memcmp(major.p, ".v1", 3) == 0)
        return true;
    const char *want;
    int want_len;
    if (major.len == 0) {
        if (str_eq(sv->major, "0") || str_eq(sv->major, "1") || str_eq(sv->build, "+incompatible"))
            return true;
        want = "v0 or v1";
        want_len = (int)strlen(want);
    } else {
        /* major is "/vN" or ".vN" (split_path_version never returns anything else) */
        if (major.len - 2 == sv->major.len && memcmp(major.p + 2, sv->major.p, sv->major.len) == 0)
            return true;
        want = major.p + 1;
        want_len = (int)(major.len - 1);
    }
    return why_set(why, "should be %.*s, not v%.*s", want_len, want, (int)sv->major.len, sv->major.p);
}

/* The version half of check_module_version: why says what is wrong (false) or nothing (true). */
static bool version_fits_path(const char *path, size_t plen, const char *v, size_t vlen, char *why)
{
    semver_t sv;
    if (!semver_parse(v, vlen, &sv))
        return why_set(why, "not a semantic version");
    bool incompatible = str_eq(sv.build, "+incompatible");
    if (sv.shortfill[0] != '\0' || (sv.build.len > 0 && !incompatible)) {
        size_t keep = vlen - sv.build.len;
        return why_set(why, "not canonical (should be %.*s%s%s)", (int)keep, v, sv.shortfill,
                       incompatible ? "+incompatible" : "");
    }
    size_t prefix_len;
    path_major_t major;
    split_path_version(path, plen, &prefix_len, &major); /* cannot fail: the path was checked */
    if (!check_path_major(v, vlen, &sv, major, why))
        return false;
    if (incompatible) {
        if (major.len > 0)
            return why_set(why, "+incompatible suffix not allowed: module path includes a major version suffix, "
                                "so major version must match");
        if (str_eq(sv.major, "0") || str_eq(sv.major, "1"))
            return why_set(why, "+incompatible suffix not allowed: major version v%.*s is compatible",
                           (int)sv.major.len, sv.major.p);
    }
    return true;
}

/* module.Check, plus the two rules of the go command's code repo on top of it: the version is
 * in canonical form (module.CanonicalVersion(v) == v), and +incompatible is only for v2 and
 * above on a path without a major-version suffix. path_checked skips the path check a caller
 * has just done (keys are parsed on every request: checking once keeps that cheap). */
int gomod_check_module_version(const char *path, size_t plen, bool path_checked, const char *v, size_t vlen,
                                cache_err_t *err)
{
    char why[WHY_MAX];
    if (!path_checked && !check_module_path(path, plen, why))
        return path_error(err, "module", path, plen, why);
    if (version_fits_path(path, plen, v, vlen, why))
        return 0;
    char qp[QUOTE_MAX], qv[QUOTE_MAX];
    printable(qv, sizeof qv, v, vlen);
    printable(qp, sizeof qp, path, plen);
    return cache_err_set(err, -EINVAL, "%s@%s: invalid version: %s", qp, qv, why);
}

int modversion_check(const char *path, const char *version, cache_err_t *err)
{
    assert(path != NULL && version != NULL);
    return gomod_check_module_version(path, strlen(path), false, version, strlen(version), err);
}

/* ---- escaping ----------------------------------------------------------------------------- */

/* module.escapeString: each upper-case letter becomes '!' and the lower-case letter. Paths and
 * versions never hold '!' or non-ASCII bytes, which keeps the mapping one-to-one. */
int gomod_escape_string(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '!' || (unsigned char)c >= 0x80)
            return -EINVAL;
        size_t need = ascii_is_upper(c) ? 2 : 1;
        if (o + need >= cap || o + need > INT_MAX)
            return -ENAMETOOLONG;
        if (ascii_is_upper(c)) {
            out[o++] = '!';
            out[o++] = ascii_lower(c);
        } else {
            out[o++] = c;
        }
    }
    if (cap == 0)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return (int)o;
}

/* module.unescapeString: the inverse; an upper-case letter, a '!' not followed by a-z, or a
 * non-ASCII byte means the text was not produced by escape_string. */
static int unescape_string(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((unsigned char)c >= 0x80 || ascii_is_upper(c))
            return -EINVAL;
        if (c == '!') {
            if (i + 1 == len || !ascii_is_lower(s[i + 1]))
                return -EINVAL;
            c = (char)(s[++i] - 'a' + 'A');
        }
        if (o + 1 >= cap || o + 1 > INT_MAX)
            return -ENAMETOOLONG;
        out[o++] = c;
    }
    if (cap == 0)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return (int)o;
}

int modpath_escape(const char *path, char *out, size_t cap)
{
    assert(path != NULL && (out != NULL || cap == 0));
    char why[WHY_MAX];
    size_t len = strlen(path);
    if (!check_module_path(path, len, why))
        return -EINVAL;
    return gomod_escape_string(path, len, out, cap);
}

int modpath_unescape(const char *escaped, size_t len, char *out, size_t cap, cache_err_t *err)
{
    assert(escaped != NULL && (out != NULL || cap == 0));
    char q[QUOTE_MAX], why[WHY_MAX];
    int n = unescape_string(escaped, len, out, cap);
    if (n == -ENAMETOOLONG)
        return cache_err_set(err, n, "escaped module path %s is too long", str_quote(q, sizeof q, escaped, len));
    if (n < 0)
        return cache_err_set(err, n, "invalid escaped module path %s", str_quote(q, sizeof q, escaped, len));
    if (!check_module_path(out, (size_t)n, why)) {
        char qo[QUOTE_MAX];
        cache_err_set(err, -EINVAL, "invalid escaped module path %s: malformed module path %s: %s",
                      str_quote(q, sizeof q, escaped, len), str_quote(qo, sizeof qo, out, (size_t)n), why);
        out[0] = '\0';
        return -EINVAL;
    }
    return n;
}

/* module.EscapeVersion's check: a version is any valid file name without '!'. */
static bool check_version_name(const char *v, size_t len, char *why)
{
    if (memchr(v, '!', len) != NULL)
        return why_set(why, "invalid char '!'");
    return check_elem(v, len, KIND_FILE, why);
}

bool gomod_version_name_ok(const char *v, size_t len)
{
    char why[WHY_MAX];
    return utf8_valid(v, len) && check_version_name(v, len, why);
}

int modversion_escape(const char *version, char *out, size_t cap)
{
    assert(version != NULL && (out != NULL || cap == 0));
    char why[WHY_MAX];
    size_t len = strlen(version);
    if (!utf8_valid(version, len) || !check_version_name(version, len, why))
        return -EINVAL;
    return gomod_escape_string(version, len, out, cap);
}

int modversion_unescape(const char *escaped, size_t len, char *out, size_t cap, cache_err_t *err)
{
    assert(escaped != NULL && (out != NULL || cap == 0));
    char q[QUOTE_MAX], why[WHY_MAX];
    int n = unescape_string(escaped, len, out, cap);
    if (n == -ENAMETOOLONG)
        return cache_err_set(err, n, "escaped version %s is too long", str_quote(q, sizeof q, escaped, len));
    if (n < 0)
        return cache_err_set(err, n, "invalid escaped version %s", str_quote(q, sizeof q, escaped, len));
    if (!check_elem(out, (size_t)n, KIND_FILE, why)) {
        cache_err_set(err, -EINVAL, "invalid escaped version %s: %s", str_quote(q, sizeof q, out, (size_t)n),
                      why);
        out[0] = '\0';
        return -EINVAL;
    }
    return n;
}

bool modpath_escaped_elem_ok(const char *name, size_t len, bool first)
{
    /* An element longer than a file name cannot be looked up anyway (NAME_MAX). */
    char elem[256], why[WHY_MAX];
    if (len == 0 || len >= sizeof elem)
        return false;
    int n = unescape_string(name, len, elem, sizeof elem);
    if (n < 0 || memchr(elem, '/', (size_t)n) != NULL || !check_elem(elem, (size_t)n, KIND_MODULE, why))
        return false;
    if (!first)
        return true;
    /* module.CheckPath's rules on the first element: a lower-case domain name with a dot */
    if (elem[0] == '-' || memchr(elem, '.', (size_t)n) == NULL)
        return false;
    for (int i = 0; i < n; i++)
        if (!first_path_ok(elem[i]))
            return false;
    return true;
}
