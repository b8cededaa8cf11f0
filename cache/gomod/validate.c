/* SPDX-License-Identifier: MIT */
/*
 * validate.c — checks of the small GOPROXY bodies (.info, @latest, .mod, list) before they are stored.
 *
 * An .info body is stored in exactly the bytes go's json.Marshal(RevInfo) gives, because the go
 * command compares the .info file in GOMODCACHE with that form and rewrites it on every run when
 * they differ. So validate_info parses the body as go's json.Unmarshal would, keeps only Version
 * and Time, and prints them again the way time.Time.MarshalJSON does (RFC 3339, fraction without
 * trailing zeros, "Z" for a zero offset). Where go's reading of a body is ambiguous (two keys that
 * fold to "Version") the body is rejected rather than guessed at.
 */
#include "gomod_i.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>


/* time.Time{} marshalled: what go writes for a RevInfo without a Time. */
#define ZERO_TIME "0001-01-01T00:00:00Z"
/* Longest normalized time: 2006-01-02T15:04:05.999999999+07:00 */
#define TIME_MAX 36

static bool digits(const char *s, size_t n, int *value)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return true;
}

static int days_in_month(int month, int year)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        return 29;
    return days[month - 1];
}

/*
 * Parses an RFC 3339 time as go's time.Time.UnmarshalJSON does and writes the text
 * time.Time.MarshalJSON would give for it. Accepted: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM),
 * fields in range (day valid for the month, no leap second), the fraction with '.', the zone
 * hour below 24 — the rules of Go 1.20's strict parser, which also satisfy Go 1.19's.
 * The fraction is cut to nanoseconds and loses trailing zeros; a zero offset prints as "Z".
 */
static bool time_normalize(const char *s, size_t len, char out[TIME_MAX + 1], const char **why)
{
    int year, month, day, hour, min, sec;
    *why = "not an RFC 3339 time (want 2006-01-02T15:04:05Z07:00)";
    if (len < 20 || !digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &month) || s[7] != '-' ||
        !digits(s + 8, 2, &day) || s[10] != 'T' || !digits(s + 11, 2, &hour) || s[13] != ':' ||
        !digits(s + 14, 2, &min) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    if (month < 1 || month > 12)
        return *why = "month out of range", false;
    if (day < 1 || day > days_in_month(month, year))
        return *why = "day out of range", false;
    if (hour > 23 || min > 59 || sec > 59)
        return *why = "time of day out of range", false;

    size_t i = 19;
    size_t frac_start = 0, frac_len = 0;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        frac_len = i - frac_start;
        if (frac_len == 0)
            return false;
    }
    bool utc;
    if (i + 1 == len && s[i] == 'Z') {
        utc = true;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int zh, zm;
        if (!digits(s + i + 1, 2, &zh) || !digits(s + i + 4, 2, &zm))
            return false;
        if (zh > 23 || zm > 59)
            return *why = "time zone offset out of range", false;
        utc = zh == 0 && zm == 0;
    } else {
        return false;
    }

    if (frac_len > 9)
        frac_len = 9;
    while (frac_len > 0 && s[frac_start + frac_len - 1] == '0')
        frac_len--;
    int n = snprintf(out, TIME_MAX + 1, "%.19s%s%.*s%s", s, frac_len ? "." : "", (int)frac_len,
                     s + frac_start, utc ? "Z" : s + i);
    assert(n > 0 && n <= TIME_MAX);
    (void)n;
    return true;
}

/* encoding/json matches a key to a field name case-insensitively when no key matches exactly,
 * folding as bytes.EqualFold does: U+017F (long s) is 's' and U+212A (Kelvin sign) is 'k'. */
static bool json_key_folds_to(const char *key, size_t len, const char *field)
{
    size_t i = 0;
    for (const char *f = field; *f; f++) {
        uint32_t r;
        size_t n = utf8_decode(key + i, len - i, &r);
        if (n == 0 || unicode_fold_rune(r) != unicode_fold_rune((unsigned char)*f))
            return false;
        i += n;
    }
    return i == len;
}

/* Finds the one member that go would decode into `field`; NULL if none. Two candidates
 * (go would take the last one) make the body ambiguous, and it is rejected. */
static int json_field(json_t *obj, const char *field, json_t **value, cache_err_t *err)
{
    const char *key;
    json_t *v;
    *value = NULL;
    json_object_foreach(obj, key, v)
    {
        if (!json_key_folds_to(key, strlen(key), field))
            continue;
        if (*value != NULL)
            return cache_err_set(err, -EINVAL, "invalid .info: more than one %s field", field);
        *value = v;
    }
    return 0;
}

int gomod_validate_info(const uint8_t *body, size_t len, const char *module, const char *want_version, buf_t *out,
                  cache_err_t *err)
{
    assert((body != NULL || len == 0) && module != NULL && out != NULL);
    buf_reset(out);
    if (len > GOMOD_MAX_INFO)
        return cache_err_set(err, -EINVAL, "invalid .info: %zu bytes, more than %u", len, GOMOD_MAX_INFO);
    if (len == 0)
        return cache_err_set(err, -EINVAL, "invalid .info: empty body");

    json_error_t jerr;
    /* Duplicate keys are rejected: go would take the last, and the store must not differ. */
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        char text[sizeof jerr.text * 4];
        return cache_err_set(err, -EINVAL, "invalid .info: JSON error at line %d column %d: %s", jerr.line,
                             jerr.column, str_quote(text, sizeof text, jerr.text, strlen(jerr.text)));
    }
    int rc = -EINVAL;
    json_t *jversion, *jtime;
    if (!json_is_object(root)) {
        cache_err_set(err, rc, "invalid .info: not a JSON object");
        goto out;
    }
    if ((rc = json_field(root, "Version", &jversion, err)) < 0 ||
        (rc = json_field(root, "Time", &jtime, err)) < 0)
        goto out;
    rc = -EINVAL;

    /* json null leaves a Go string empty and a time.Time zero. */
    const char *version = "";
    if (jversion != NULL && !json_is_null(jversion)) {
        if (!json_is_string(jversion)) {
            cache_err_set(err, rc, "invalid .info: Version is not a string");
            goto out;
        }
        version = json_string_value(jversion);
        if (strlen(version) != json_string_length(jversion)) {
            cache_err_set(err, rc, "invalid .info: Version contains a NUL");
            goto out;
        }
    }
    if (version[0] == '\0') {
        cache_err_set(err, rc, "invalid .info: no Version");
        goto out;
    }
    if ((rc = modversion_check(module, version, err)) < 0) {
        cache_err_prefix(err, rc, "invalid .info");
        goto out;
    }
    rc = -EINVAL;
    if (want_version != NULL && strcmp(version, want_version) != 0) {
        cache_err_set(err, rc,
                      "invalid .info: proxy returned info for version %.*s instead of requested version %.*s",
                      100, version, 100, want_version);
        goto out;
    }

    char when[TIME_MAX + 1] = ZERO_TIME;
    if (jtime != NULL && !json_is_null(jtime)) {
        const char *why;
        if (!json_is_string(jtime)) {
            cache_err_set(err, rc, "invalid .info: Time is not a string");
            goto out;
        }
        if (!time_normalize(json_string_value(jtime), json_string_length(jtime), when, &why)) {
            cache_err_set(err, rc, "invalid .info: Time: %s", why);
            goto out;
        }
    }

    /* A canonical version holds only [0-9A-Za-z.+-] and the time only digits and "-:.TZ+",
     * so neither needs JSON escaping. */
    if ((rc = buf_appendf(out, "{\"Version\":\"%s\",\"Time\":\"%s\"}", version, when)) < 0) {
        buf_reset(out);
        cache_err_set(err, rc, "out of memory");
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* The bytes a list or go.mod may hold are go's to judge; a NUL is never part of either. */
static int validate_text(const char *what, const uint8_t *body, size_t len, size_t max, cache_err_t *err)
{
    assert(body != NULL || len == 0);
    if (len > max)
        return cache_err_set(err, -EINVAL, "invalid %s: %zu bytes, more than %zu", what, len, max);
    const uint8_t *nul = len ? memchr(body, 0, len) : NULL;
    if (nul != NULL)
        return cache_err_set(err, -EINVAL, "invalid %s: NUL byte at offset %zu", what, (size_t)(nul - body));
    return 0;
}

int gomod_validate_mod(const uint8_t *body, size_t len, cache_err_t *err)
{
    return validate_text("go.mod", body, len, GOMOD_MAX_MOD, err);
}

int gomod_validate_list(const uint8_t *body, size_t len, cache_err_t *err)
{
    return validate_text("list", body, len, GOMOD_MAX_LIST, err);
}

uint64_t gomod_body_limit(modkey_kind_t kind)
{
    switch (kind) {
    case MODKEY_ZIP:
        return ZIPFILE_MAX_SIZE;
    case MODKEY_MOD:
        return GOMOD_MAX_MOD;
    case MODKEY_LIST:
        return GOMOD_MAX_LIST;
    case MODKEY_SUMDB:
        return SUMDB_BODY_MAX;
    case MODKEY_INFO:
    case MODKEY_LATEST:
        break;
    }
    return GOMOD_MAX_INFO;
}

/* A checksum database's answer, by its form: a hash tile holds exactly its width of hashes (what
 * the tlog reader insists on), the rest is text no longer than SUMDB_BODY_MAX. */
static int validate_sumdb(const modkey_t *key, const uint8_t *body, size_t len, cache_err_t *err)
{
    if (key->db_kind == SUMDB_PATH_TILE) {
        sumdb_tile_t t;
        if (sumdb_tile_parse(key->db_path, strlen(key->db_path), &t, err) != 0)
            return cache_err_prefix(err, -EINVAL, "invalid tile");
        if (t.l >= 0 && len != (size_t)t.w * SUMDB_HASH_SIZE)
            return cache_err_set(err, -EINVAL, "invalid tile: %zu bytes, want %d hashes of %d bytes", len, t.w,
                                 SUMDB_HASH_SIZE);
        if (t.l < 0 && (len == 0 || len > SUMDB_BODY_MAX))
            return cache_err_set(err, -EINVAL, "invalid data tile: %zu bytes", len);
        return 0;
    }
    if (key->db_kind == SUMDB_PATH_SUPPORTED)
        return cache_err_set(err, -EINVAL, "invalid sumdb answer: \"supported\" is a proxy's own answer");
    const char *what = key->db_kind == SUMDB_PATH_LOOKUP ? "sumdb lookup" : "sumdb latest";
    if (len == 0)
        return cache_err_set(err, -EINVAL, "invalid %s: empty", what);
    return validate_text(what, body, len, SUMDB_BODY_MAX, err);
}

int gomod_validate_body(const modkey_t *key, const uint8_t *body, size_t len, buf_t *canon, zipfile_t *z,
                        cache_err_t *err)
{
    return gomod_validate_body_streamed(key, body, len, NULL, canon, z, err);
}

int gomod_validate_body_streamed(const modkey_t *key, const uint8_t *body, size_t len, const zipstream_t *zs,
                                 buf_t *canon, zipfile_t *z, cache_err_t *err)
{
    switch (key->kind) {
    case MODKEY_ZIP: {
        int rc = zipfile_parse_streamed(body, len, key->module, key->version, zs, z, err);
        return rc == 0 ? 0 : cache_err_prefix(err, rc, "invalid .zip");
    }
    case MODKEY_MOD:
        return gomod_validate_mod(body, len, err);
    case MODKEY_LIST:
        return gomod_validate_list(body, len, err);
    case MODKEY_INFO:
        return gomod_validate_info(body, len, key->module, key->immutable ? key->version : NULL, canon, err);
    case MODKEY_LATEST:
        return gomod_validate_info(body, len, key->module, NULL, canon, err);
    case MODKEY_SUMDB:
        return validate_sumdb(key, body, len, err);
    }
    return cache_err_set(err, -EINVAL, "unknown key kind");
}

int gomod_info_version(const uint8_t *body, size_t len, char *out, size_t cap)
{
    json_t *j = json_loadb((const char *)body, len, 0, NULL);
    const char *v = json_string_value(json_object_get(j, "Version"));
    int rc = v != NULL && strlen(v) < cap ? 0 : -EINVAL;
    if (rc == 0)
        memcpy(out, v, strlen(v) + 1);
    json_decref(j);
    return rc;
}
