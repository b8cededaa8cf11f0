/* SPDX-License-Identifier: MIT */
/*
 * precond.c — validators, conditional requests and byte ranges (RFC 9110 sections 8.8, 13, 14).
 *
 * Pure functions over header values, kept apart from the response code so that each rule reads
 * as the RFC states it. Objects in the store are immutable snapshots, so a strong ETag from the
 * SHA-256 already computed at ingest is exact and costs nothing per request.
 * Entity-tag lists are parsed strictly (RFC 9110 5.6.1, 8.8.3): a value that is not "*" or a
 * comma-separated list of quoted tags is malformed as a whole, and then fails If-Match (412)
 * and is ignored as If-None-Match (the whole object is sent): in both cases the safe side.
 * Deliberate limits: only one byte range is honoured (a list of ranges gets the whole object with
 * 200, which RFC 9110 allows: a server may ignore Range), and only the IMF-fixdate form of
 * HTTP-date is parsed (what every current client sends; other forms make the condition ignored).
 */
#include "http_i.h"

#include <string.h>
#include <time.h>

void http_etag_format(const uint8_t sha256[32], char out[HTTP_ETAG_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '"';
    for (size_t i = 0; i < 16; i++) {
        out[1 + 2 * i] = hex[sha256[i] >> 4];
        out[2 + 2 * i] = hex[sha256[i] & 15];
    }
    out[HTTP_ETAG_LEN - 1] = '"';
    out[HTTP_ETAG_LEN] = '\0';
}

/*
 * IMF-fixdate of unix time t, by arithmetic: gmtime_r takes glibc's timezone lock on every call,
 * which the loop threads would contend on for each response. Civil-from-days after H. Hinnant's
 * public-domain algorithm.
 */
void http_date_format(int64_t t, char out[HTTP_DATE_LEN + 1])
{
    static const char days[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (t < 0)
        t = 0;
    int64_t z = t / 86400, secs = t % 86400;
    int wday = (int)(z % 7); /* 1970-01-01 was a Thursday */
    z += 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int day = (int)(doy - (153 * mp + 2) / 5 + 1);
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t year = yoe + era * 400 + (month <= 2);
    if (year > 9999)
        year = 9999;
    int y = (int)year, h = (int)(secs / 3600), mi = (int)(secs / 60 % 60), se = (int)(secs % 60);
    char *o = out;
    memcpy(o, days[wday], 3);
    o += 3;
    *o++ = ',';
    *o++ = ' ';
    *o++ = (char)('0' + day / 10);
    *o++ = (char)('0' + day % 10);
    *o++ = ' ';
    memcpy(o, months[month - 1], 3);
    o += 3;
    *o++ = ' ';
    *o++ = (char)('0' + y / 1000);
    *o++ = (char)('0' + y / 100 % 10);
    *o++ = (char)('0' + y / 10 % 10);
    *o++ = (char)('0' + y % 10);
    *o++ = ' ';
    *o++ = (char)('0' + h / 10);
    *o++ = (char)('0' + h % 10);
    *o++ = ':';
    *o++ = (char)('0' + mi / 10);
    *o++ = (char)('0' + mi % 10);
    *o++ = ':';
    *o++ = (char)('0' + se / 10);
    *o++ = (char)('0' + se % 10);
    memcpy(o, " GMT", 5);
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses an IMF-fixdate into unix seconds. */
static bool parse_http_date(const char *v, size_t len, int64_t *out)
{
    while (len > 0 && is_ows(v[0])) {
        v++;
        len--;
    }
    while (len > 0 && is_ows(v[len - 1]))
        len--;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (len != H2O_TIMESTR_RFC1123_LEN || h2o_time_parse_rfc1123(v, len, &tm) != 0)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

/* etagc (RFC 9110 8.8.3): %x21 / %x23-7E / obs-text. */
static bool is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

enum { LIST_MALFORMED = -1, LIST_NO_MATCH = 0, LIST_MATCH = 1 };

/*
 * Matches one field value of If-Match or If-None-Match against our (strong) etag: "*" alone, or
 * a comma-separated list of entity-tags (#entity-tag, RFC 9110 5.6.1: empty elements and OWS
 * around commas allowed). Anything else is malformed, even when a tag in it would match:
 * `"x""<etag>"` is not a list of two tags. weak: the weak comparison (If-None-Match), where
 * W/"t" matches "t"; else the strong one (If-Match), where a weak tag never matches.
 */
static int etag_list_match(const char *v, size_t len, const char *etag, bool weak)
{
    size_t i = 0;
    while (i < len && is_ows(v[i]))
        i++;
    while (len > i && is_ows(v[len - 1]))
        len--;
    if (len - i == 1 && v[i] == '*')
        return LIST_MATCH;
    int result = LIST_NO_MATCH;
    bool any = false;
    while (i < len) {
        if (v[i] == ',' || is_ows(v[i])) {
            i++;
            continue;
        }
        bool is_weak = false;
        if (v[i] == 'W' && i + 1 < len && v[i + 1] == '/') {
            is_weak = true;
            i += 2;
        }
        if (i >= len || v[i] != '"')
            return LIST_MALFORMED;
        size_t start = i++;
        while (i < len && is_etagc((unsigned char)v[i]))
            i++;
        if (i >= len || v[i] != '"')
            return LIST_MALFORMED;
        i++;
        size_t tlen = i - start;
        if ((weak || !is_weak) && tlen == HTTP_ETAG_LEN && memcmp(v + start, etag, tlen) == 0)
            result = LIST_MATCH;
        any = true;
        /* after a tag: OWS, then a comma or the end */
        while (i < len && is_ows(v[i]))
            i++;
        if (i < len && v[i] != ',')
            return LIST_MALFORMED;
    }
    return any ? result : LIST_MALFORMED;
}

/* Every field of the header token as one list: LIST_MATCH if any tag matches, LIST_MALFORMED if
 * any field is malformed, -2 when the header is absent. */
static int header_list_match(const h2o_headers_t *headers, const h2o_token_t *token, const char *etag, bool weak)
{
    ssize_t at = h2o_find_header(headers, token, -1);
    if (at < 0)
        return -2;
    int result = LIST_NO_MATCH;
    for (; at >= 0; at = h2o_find_header(headers, token, at)) {
        const h2o_iovec_t *v = &headers->entries[at].value;
        int r = etag_list_match(v->base, v->len, etag, weak);
        if (r == LIST_MALFORMED)
            return LIST_MALFORMED;
        if (r == LIST_MATCH)
            result = LIST_MATCH;
    }
    return result;
}

http_precond_t http_precond_eval(const h2o_headers_t *headers, const char *etag, int64_t mtime, const char **why)
{
    /* RFC 9110 13.2.2, steps 1 to 4 (step 5, If-Range, belongs to Range: respond.c). */
    int m = header_list_match(headers, H2O_TOKEN_IF_MATCH, etag, false);
    if (m != -2) {
        if (m != LIST_MATCH) {
            /* a list we cannot read promises nothing: refuse rather than guess */
            *why = m == LIST_MALFORMED ? "malformed If-Match" : "If-Match: no tag matches";
            return HTTP_PRECOND_FAILED;
        }
    } else {
        ssize_t at = h2o_find_header(headers, H2O_TOKEN_IF_UNMODIFIED_SINCE, -1);
        int64_t since;
        /* an invalid date is ignored (13.1.4) */
        if (at >= 0 && parse_http_date(headers->entries[at].value.base, headers->entries[at].value.len, &since) &&
            mtime > since) {
            *why = "modified since the If-Unmodified-Since date";
            return HTTP_PRECOND_FAILED;
        }
    }
    int n = header_list_match(headers, H2O_TOKEN_IF_NONE_MATCH, etag, true);
    if (n != -2) {
        /* If-None-Match decides alone when present (If-Modified-Since is ignored, 13.1.3); one we
         * cannot read cannot say the client's copy is current: the whole object is sent. */
        return n == LIST_MATCH ? HTTP_PRECOND_NOT_MODIFIED : HTTP_PRECOND_OK;
    }
    ssize_t at = h2o_find_header(headers, H2O_TOKEN_IF_MODIFIED_SINCE, -1);
    if (at >= 0) {
        int64_t since;
        const h2o_iovec_t *v = &headers->entries[at].value;
        if (parse_http_date(v->base, v->len, &since) && mtime <= since)
            return HTTP_PRECOND_NOT_MODIFIED;
    }
    return HTTP_PRECOND_OK;
}

/* Parses decimal digits at v[*i..len) with saturation; false when there are none. */
static bool parse_u64(const char *v, size_t len, size_t *i, uint64_t *out)
{
    size_t start = *i;
    uint64_t n = 0;
    while (*i < len && v[*i] >= '0' && v[*i] <= '9') {
        unsigned d = (unsigned)(v[*i] - '0');
        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
        (*i)++;
    }
    *out = n;
    return *i > start;
}

http_range_result_t http_range_parse(const char *v, size_t len, uint64_t size, uint64_t *first, uint64_t *last)
{
    size_t i = 0;
    while (i < len && is_ows(v[i]))
        i++;
    if (len - i < 6 || !h2o_lcstris(v + i, 6, "bytes=", 6))
        return HTTP_RANGE_NONE;
    i += 6;
    if (memchr(v + i, ',', len - i) != NULL)
        return HTTP_RANGE_NONE; /* several ranges: the whole object, see the file comment */
    while (i < len && is_ows(v[i]))
        i++;

    uint64_t a = 0, b = 0;
    bool have_a = parse_u64(v, len, &i, &a);
    if (i >= len || v[i] != '-')
        return HTTP_RANGE_NONE;
    i++;
    bool have_b = parse_u64(v, len, &i, &b);
    while (i < len && is_ows(v[i]))
        i++;
    if (i != len || (!have_a && !have_b))
        return HTTP_RANGE_NONE;

    if (!have_a) {
        /* suffix range: the last b bytes */
        if (b == 0 || size == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        *first = size - (b < size ? b : size);
        *last = size - 1;
        return HTTP_RANGE_PARTIAL;
    }
    if (have_b && b < a)
        return HTTP_RANGE_NONE; /* invalid: ignored, as RFC 9110 14.2 says */
    if (a >= size)
        return HTTP_RANGE_UNSATISFIABLE;
    *first = a;
    *last = (!have_b || b >= size) ? size - 1 : b;
    return HTTP_RANGE_PARTIAL;
}

bool http_if_range_matches(const char *v, size_t len, const char *etag, int64_t mtime)
{
    while (len > 0 && is_ows(v[0])) {
        v++;
        len--;
    }
    while (len > 0 && is_ows(v[len - 1]))
        len--;
    if (len > 0 && v[0] == '"')
        return len == HTTP_ETAG_LEN && memcmp(v, etag, len) == 0; /* strong comparison */
    if (len >= 2 && v[0] == 'W' && v[1] == '/')
        return false; /* a weak tag never validates a range */
    int64_t t;
    return parse_http_date(v, len, &t) && t == mtime;
}
