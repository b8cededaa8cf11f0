/* SPDX-License-Identifier: MIT */
/*
 * opttypes.c — the value types of options: how text from a flag, the environment or the config
 * file becomes a field, and how a field is shown again.
 *
 * Each parser checks its input whole (no trailing garbage, bounds from the row) and says what it
 * expected in words; the caller adds where the text came from. Numbers are decimal, without sign
 * or spaces, so "1m" or "-1" is refused rather than read as 1 or a huge unsigned value.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"

/* Copies text into *owned (freeing what was there) and returns it; NULL on allocation failure. */
static const char *own(char **owned, const char *text)
{
    char *copy = strdup(text);
    if (copy == NULL)
        return NULL;
    free(*owned);
    *owned = copy;
    return copy;
}

static int why_set(char *why, size_t cap, const char *fmt, const char *text)
{
    /* the value is quoted and cut: it may be long or hold a secret's neighbourhood */
    snprintf(why, cap, fmt, text);
    return -EINVAL;
}

/* ---- strings ---- */

static int parse_string(const option_spec_t *spec, const char *text, void *field, char **owned, char *why,
                        size_t cap)
{
    (void)spec;
    const char **f = field;
    if (text[0] == '\0') { /* unset */
        free(*owned);
        *owned = NULL;
        *f = NULL;
        return 0;
    }
    if (strchr(text, '\n') != NULL)
        return why_set(why, cap, "%s", "contains a newline");
    const char *copy = own(owned, text);
    if (copy == NULL)
        return why_set(why, cap, "%s", "out of memory");
    *f = copy;
    return 0;
}

static void format_string(const option_spec_t *spec, const void *field, char *out, size_t cap)
{
    (void)spec;
    const char *const *f = field;
    snprintf(out, cap, "%s", *f != NULL ? *f : "");
}

const option_type_t opt_string = {"string", parse_string, format_string};
const option_type_t opt_path = {"path", parse_string, format_string};

/* host:port, [v6]:port or :port; the host itself is resolved when the server binds. */
static int parse_address(const option_spec_t *spec, const char *text, void *field, char **owned, char *why,
                         size_t cap)
{
    const char *colon = text[0] == '[' ? strstr(text, "]:") : strrchr(text, ':');
    if (text[0] != '\0') {
        const char *port = colon != NULL ? colon + (text[0] == '[' ? 2 : 1) : NULL;
        char *end = NULL;
        long p = port != NULL && *port != '\0' ? strtol(port, &end, 10) : -1;
        if (port == NULL || end == NULL || *end != '\0' || p < 1 || p > 65535 || port[0] == '+' ||
            (text[0] != '[' && memchr(text, ':', (size_t)(colon - text)) != NULL))
            return why_set(why, cap, "expected host:port, [v6]:port or :port with a port from 1 to 65535, not \"%.80s\"",
                           text);
    }
    return parse_string(spec, text, field, owned, why, cap);
}

const option_type_t opt_address = {"address", parse_address, format_string};

/* A GOPROXY list: checked now (so a typo is a file:line error, not a failure at the first miss),
 * shown with passwords masked. */
static int parse_upstream(const option_spec_t *spec, const char *text, void *field, char **owned, char *why,
                          size_t cap)
{
    char *shown = NULL;
    cache_err_t err = {0};
    if (text[0] == '\0')
        return why_set(why, cap, "%s", "empty (off disables upstream)");
    if (cache_upstream_describe(text, &shown, &err) != 0)
        return why_set(why, cap, "%s", err.msg);
    free(shown);
    return parse_string(spec, text, field, owned, why, cap);
}

static void format_upstream(const option_spec_t *spec, const void *field, char *out, size_t cap)
{
    (void)spec;
    const char *const *f = field;
    char *shown = NULL;
    if (*f != NULL && cache_upstream_describe(*f, &shown, NULL) == 0)
        snprintf(out, cap, "%s", shown);
    else
        snprintf(out, cap, "%s", *f != NULL ? "(invalid)" : "");
    free(shown);
}

const option_type_t opt_upstream = {"list", parse_upstream, format_upstream};

/* Module path globs (GOPRIVATE syntax, comma-separated): checked now, as for the list above. */
static int parse_globs(const option_spec_t *spec, const char *text, void *field, char **owned, char *why, size_t cap)
{
    cache_err_t err = {0};
    if (modpath_patterns_check(text, &err) != 0)
        return why_set(why, cap, "%s", err.msg);
    return parse_string(spec, text, field, owned, why, cap);
}

const option_type_t opt_globs = {"globs", parse_globs, format_string};

/* Checksum databases: GOSUMDB values, comma-separated (a repeated flag adds one), checked now as
 * for the list above: a bad key or name is a file:line error, not a failure at the first miss. */
static int parse_sumdbs(const option_spec_t *spec, const char *text, void *field, char **owned, char *why,
                        size_t cap)
{
    cache_err_t err = {0};
    if (text[0] == '\0')
        return why_set(why, cap, "%s", "empty (off disables the checks)");
    if (cache_sumdb_list_check(text, &err) != 0)
        return why_set(why, cap, "%s", err.msg);
    return parse_string(spec, text, field, owned, why, cap);
}

const option_type_t opt_sumdbs = {"databases", parse_sumdbs, format_string};

/* Allow or deny rules (GLOB or GLOB@OPVERSION, comma-separated); the row's name says which kind,
 * so that a message names it as the running server would. */
static int parse_rules(const option_spec_t *spec, const char *text, void *field, char **owned, char *why, size_t cap)
{
    cache_err_t err = {0};
    modpolicy_t *p = NULL;
    bool deny = strcmp(spec->name, "deny") == 0;
    int rc = modpolicy_new(deny ? NULL : text, deny ? text : NULL, &p, &err);
    modpolicy_free(p);
    if (rc != 0)
        return why_set(why, cap, "%s", err.msg);
    return parse_string(spec, text, field, owned, why, cap);
}

const option_type_t opt_rules = {"rules", parse_rules, format_string};

/* The object store's URL: checked whole (it holds no secret: credentials in it are refused). */
static int parse_s3url(const option_spec_t *spec, const char *text, void *field, char **owned, char *why,
                       size_t cap)
{
    cache_err_t err = {0};
    if (text[0] != '\0' && cache_s3_describe(text, NULL, &err) != 0)
        return why_set(why, cap, "%s", err.msg);
    return parse_string(spec, text, field, owned, why, cap);
}

const option_type_t opt_s3url = {"url", parse_s3url, format_string};

/* ---- numbers ---- */

static int parse_number(const option_spec_t *spec, const char *text, long long *out, char *why, size_t cap)
{
    char *end;
    errno = 0;
    long long v = text[0] >= '0' && text[0] <= '9' ? strtoll(text, &end, 10) : -1;
    if (v < 0 || errno != 0 || *end != '\0' || v < spec->min || v > spec->max) {
        snprintf(why, cap, "not a number from %lld to %lld: \"%.40s\"", spec->min, spec->max, text);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int parse_uint(const option_spec_t *spec, const char *text, void *field, char **owned, char *why, size_t cap)
{
    (void)owned;
    long long v;
    int rc = parse_number(spec, text, &v, why, cap);
    if (rc == 0)
        *(unsigned *)field = (unsigned)v;
    return rc;
}

static void format_uint(const option_spec_t *spec, const void *field, char *out, size_t cap)
{
    (void)spec;
    snprintf(out, cap, "%u", *(const unsigned *)field);
}

const option_type_t opt_uint = {"number", parse_uint, format_uint};

static int parse_int(const option_spec_t *spec, const char *text, void *field, char **owned, char *why, size_t cap)
{
    (void)owned;
    long long v;
    int rc = parse_number(spec, text, &v, why, cap);
    if (rc == 0)
        *(int *)field = (int)v;
    return rc;
}

static void format_int(const option_spec_t *spec, const void *field, char *out, size_t cap)
{
    (void)spec;
    snprintf(out, cap, "%d", *(const int *)field);
}

const option_type_t opt_int = {"number", parse_int, format_int};

/* Seconds in the text, milliseconds in the field (a long, as curl takes timeouts). */
static int parse_seconds_ms(const option_spec_t *spec, const char *text, void *field, char **owned, char *why,
                            size_t cap)
{
    (void)owned;
    long long v;
    int rc = parse_number(spec, text, &v, why, cap);
    if (rc == 0)
        *(long *)field = (long)v * 1000;
    return rc;
}

static void format_seconds_ms(const option_spec_t *spec, const void *field, char *out, size_t cap)
{
    (void)spec;
    snprintf(out, cap, "%ld", *(const long *)field / 1000);
}

const option_type_t opt_seconds_ms = {"seconds", parse_seconds_ms, format_seconds_ms};

/* A size in bytes: a whole number with an optional unit K, M, G or T (powers of 1024, as df -h
 * and du -h count; "B" or "iB" may follow), e.g. 20G, 512MiB, 1048576. In a uint64_t field. */
static int parse_size(const option_spec_t *spec, const char *text, void *field, char **owned, char *why, size_t cap)
{
    (void)owned;
    static const char units[] = "KMGT";
    char *end;
    errno = 0;
    unsigned long long v = text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
    bool ok = text[0] >= '0' && text[0] <= '9' && errno == 0;
    unsigned shift = 0;
    if (ok && *end != '\0') {
        const char *u = strchr(units, end[0] & ~0x20); /* upper case */
        ok = end[0] != '\0' && u != NULL;
        if (ok) {
            shift = 10 * (unsigned)(u - units + 1);
            end++;
            if (strcasecmp(end, "iB") == 0)
                end += 2;
            else if (strcasecmp(end, "B") == 0)
                end++;
            ok = *end == '\0' && v <= (~0ull >> shift);
        }
    }
    if (ok)
        v <<= shift;
    if (!ok || (long long)v < spec->min || (spec->max > 0 && v > (unsigned long long)spec->max)) {
        snprintf(why, cap, "not a size (a number of bytes, or with K, M, G or T: 20G): \"%.40s\"", text);
        return -EINVAL;
    }
    *(uint64_t *)field = v;
    return 0;
}

static void format_size(const option_spec_t *spec, const void *field, char *out, size_t cap)
{
    (void)spec;
    uint64_t v = *(const uint64_t *)field;
    static const char units[] = "TGMK";
    for (int i = 0; i < 4 && v > 0; i++) {
        unsigned shift = 10 * (unsigned)(4 - i);
        if ((v & ((1ull << shift) - 1)) == 0) {
            snprintf(out, cap, "%llu%c", (unsigned long long)(v >> shift), units[i]);
            return;
        }
    }
    snprintf(out, cap, "%llu", (unsigned long long)v);
}

const option_type_t opt_size = {"size", parse_size, format_size};

/* ---- switches and words ---- */

static int parse_bool(const option_spec_t *spec, const char *text, void *field, char **owned, char *why, size_t cap)
{
    (void)spec, (void)owned;
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
            *(bool *)field = strcasecmp(text, yes[i]) == 0;
            return 0;
        }
    }
    return why_set(why, cap, "expected true or false (yes/no, on/off, 1/0), not \"%.40s\"", text);
}

static void format_bool(const option_spec_t *spec, const void *field, char *out, size_t cap)
{
    (void)spec;
    snprintf(out, cap, "%s", *(const bool *)field ? "true" : "false");
}

const option_type_t opt_bool = {"boolean", parse_bool, format_bool};

static int parse_level(const option_spec_t *spec, const char *text, void *field, char **owned, char *why,
                       size_t cap)
{
    (void)spec, (void)owned;
    modfs_log_level_t level;
    if (modfs_log_level_parse(text, &level) != 0)
        return why_set(why, cap, "expected error, warn, notice, info or debug, not \"%.40s\"", text);
    *(int *)field = (int)level;
    return 0;
}

static void format_level(const option_spec_t *spec, const void *field, char *out, size_t cap)
{
    (void)spec;
    snprintf(out, cap, "%s", modfs_log_level_name((modfs_log_level_t) * (const int *)field));
}

const option_type_t opt_level = {"level", parse_level, format_level};
