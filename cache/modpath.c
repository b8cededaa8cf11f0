/* SPDX-License-Identifier: MIT */
/*
 * modpath.c — Go's naming rules for modules: paths, versions, escaping and GOPROXY keys.
 *
 * These rules decide which names modfs will ever turn into a store key, a FUSE name or an
 * upstream URL, so they follow golang.org/x/mod v0.7.0 (module/module.go, module/pseudo.go,
 * semver/semver.go) rule by rule and keep go's wording in the messages: what the go command
 * accepts is accepted, the rest is rejected with a reason.
 *
 * Inside, every string is a (pointer, length) pair, so a NUL or a stray byte in a request can
 * never shorten a name silently; the public functions that take C strings measure them once.
 * Zip file names may hold any Unicode letter (unicode.IsLetter), so the file carries the letter
 * ranges of Unicode 13.0.0 — the tables of Go 1.19, the go command this project is tested with —
 * generated from Go's unicode package and searched by bisection.
 */
#include "modpath.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* Writes s as a double-quoted string safe to print: printable ASCII as is, everything else
 * as \xNN (names come from the network and must not reach a log or terminal raw). */
static const char *quote(char *dst, size_t cap, const char *s, size_t len)
{
    assert(cap >= 16);
    size_t o = 0;
    dst[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 9 >= cap) { /* room for \xNN, the "..." mark, the quote and the NUL */
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            dst[o++] = (char)c;
        } else {
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
        }
    }
    dst[o++] = '"';
    dst[o] = '\0';
    return dst;
}

/* A name for a message: as is when it is plain printable ASCII (the usual case), else quoted. */
static const char *printable(char *dst, size_t cap, const char *s, size_t len)
{
    bool plain = len > 0 && len + 1 <= cap;
    for (size_t i = 0; plain && i < len; i++)
        plain = s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\';
    if (!plain)
        return quote(dst, cap, s, len);
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

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_alnum(char c) { return is_digit(c) || is_lower(c) || is_upper(c); }
static char ascii_lower(char c) { return is_upper(c) ? (char)(c - 'A' + 'a') : c; }

/* Decodes one rune as Go's utf8.DecodeRuneInString does; returns its length, 0 if the bytes are
 * not valid UTF-8 (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_decode(const char *str, size_t len, uint32_t *r)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    if (c < 0x80) {
        *r = c;
        return 1;
    }
    if (c < 0xc2 || c > 0xf4)
        return 0;
    size_t n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (len < n)
        return 0;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    uint32_t v = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < n; i++)
        v = v << 6 | (s[i] & 0x3f);
    *r = v;
    return n;
}

static bool utf8_valid(const char *s, size_t len)
{
    uint32_t r;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_decode(s + i, len - i, &r);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* unicode.IsLetter above ASCII, Unicode 13.0.0 (Go 1.19), as closed ranges. */
static const uint32_t letter_ranges[][2] = {
    {0x000aa, 0x000aa}, {0x000b5, 0x000b5}, {0x000ba, 0x000ba}, {0x000c0, 0x000d6}, {0x000d8, 0x000f6},
    {0x000f8, 0x002c1}, {0x002c6, 0x002d1}, {0x002e0, 0x002e4}, {0x002ec, 0x002ec}, {0x002ee, 0x002ee},
    {0x00370, 0x00374}, {0x00376, 0x00377}, {0x0037a, 0x0037d}, {0x0037f, 0x0037f}, {0x00386, 0x00386},
    {0x00388, 0x0038a}, {0x0038c, 0x0038c}, {0x0038e, 0x003a1}, {0x003a3, 0x003f5}, {0x003f7, 0x00481},
    {0x0048a, 0x0052f}, {0x00531, 0x00556}, {0x00559, 0x00559}, {0x00560, 0x00588}, {0x005d0, 0x005ea},
    {0x005ef, 0x005f2}, {0x00620, 0x0064a}, {0x0066e, 0x0066f}, {0x00671, 0x006d3}, {0x006d5, 0x006d5},
    {0x006e5, 0x006e6}, {0x006ee, 0x006ef}, {0x006fa, 0x006fc}, {0x006ff, 0x006ff}, {0x00710, 0x00710},
    {0x00712, 0x0072f}, {0x0074d, 0x007a5}, {0x007b1, 0x007b1}, {0x007ca, 0x007ea}, {0x007f4, 0x007f5},
    {0x007fa, 0x007fa}, {0x00800, 0x00815}, {0x0081a, 0x0081a}, {0x00824, 0x00824}, {0x00828, 0x00828},
    {0x00840, 0x00858}, {0x00860, 0x0086a}, {0x008a0, 0x008b4}, {0x008b6, 0x008c7}, {0x00904, 0x00939},
    {0x0093d, 0x0093d}, {0x00950, 0x00950}, {0x00958, 0x00961}, {0x00971, 0x00980}, {0x00985, 0x0098c},
    {0x0098f, 0x00990}, {0x00993, 0x009a8}, {0x009aa, 0x009b0}, {0x009b2, 0x009b2}, {0x009b6, 0x009b9},
    {0x009bd, 0x009bd}, {0x009ce, 0x009ce}, {0x009dc, 0x009dd}, {0x009df, 0x009e1}, {0x009f0, 0x009f1},
    {0x009fc, 0x009fc}, {0x00a05, 0x00a0a}, {0x00a0f, 0x00a10}, {0x00a13, 0x00a28}, {0x00a2a, 0x00a30},
    {0x00a32, 0x00a33}, {0x00a35, 0x00a36}, {0x00a38, 0x00a39}, {0x00a59, 0x00a5c}, {0x00a5e, 0x00a5e},
    {0x00a72, 0x00a74}, {0x00a85, 0x00a8d}, {0x00a8f, 0x00a91}, {0x00a93, 0x00aa8}, {0x00aaa, 0x00ab0},
    {0x00ab2, 0x00ab3}, {0x00ab5, 0x00ab9}, {0x00abd, 0x00abd}, {0x00ad0, 0x00ad0}, {0x00ae0, 0x00ae1},
    {0x00af9, 0x00af9}, {0x00b05, 0x00b0c}, {0x00b0f, 0x00b10}, {0x00b13, 0x00b28}, {0x00b2a, 0x00b30},
    {0x00b32, 0x00b33}, {0x00b35, 0x00b39}, {0x00b3d, 0x00b3d}, {0x00b5c, 0x00b5d}, {0x00b5f, 0x00b61},
    {0x00b71, 0x00b71}, {0x00b83, 0x00b83}, {0x00b85, 0x00b8a}, {0x00b8e, 0x00b90}, {0x00b92, 0x00b95},
    {0x00b99, 0x00b9a}, {0x00b9c, 0x00b9c}, {0x00b9e, 0x00b9f}, {0x00ba3, 0x00ba4}, {0x00ba8, 0x00baa},
    {0x00bae, 0x00bb9}, {0x00bd0, 0x00bd0}, {0x00c05, 0x00c0c}, {0x00c0e, 0x00c10}, {0x00c12, 0x00c28},
    {0x00c2a, 0x00c39}, {0x00c3d, 0x00c3d}, {0x00c58, 0x00c5a}, {0x00c60, 0x00c61}, {0x00c80, 0x00c80},
    {0x00c85, 0x00c8c}, {0x00c8e, 0x00c90}, {0x00c92, 0x00ca8}, {0x00caa, 0x00cb3}, {0x00cb5, 0x00cb9},
    {0x00cbd, 0x00cbd}, {0x00cde, 0x00cde}, {0x00ce0, 0x00ce1}, {0x00cf1, 0x00cf2}, {0x00d04, 0x00d0c},
    {0x00d0e, 0x00d10}, {0x00d12, 0x00d3a}, {0x00d3d, 0x00d3d}, {0x00d4e, 0x00d4e}, {0x00d54, 0x00d56},
    {0x00d5f, 0x00d61}, {0x00d7a, 0x00d7f}, {0x00d85, 0x00d96}, {0x00d9a, 0x00db1}, {0x00db3, 0x00dbb},
    {0x00dbd, 0x00dbd}, {0x00dc0, 0x00dc6}, {0x00e01, 0x00e30}, {0x00e32, 0x00e33}, {0x00e40, 0x00e46},
    {0x00e81, 0x00e82}, {0x00e84, 0x00e84}, {0x00e86, 0x00e8a}, {0x00e8c, 0x00ea3}, {0x00ea5, 0x00ea5},
    {0x00ea7, 0x00eb0}, {0x00eb2, 0x00eb3}, {0x00ebd, 0x00ebd}, {0x00ec0, 0x00ec4}, {0x00ec6, 0x00ec6},
    {0x00edc, 0x00edf}, {0x00f00, 0x00f00}, {0x00f40, 0x00f47}, {0x00f49, 0x00f6c}, {0x00f88, 0x00f8c},
    {0x01000, 0x0102a}, {0x0103f, 0x0103f}, {0x01050, 0x01055}, {0x0105a, 0x0105d}, {0x01061, 0x01061},
    {0x01065, 0x01066}, {0x0106e, 0x01070}, {0x01075, 0x01081}, {0x0108e, 0x0108e}, {0x010a0, 0x010c5},
    {0x010c7, 0x010c7}, {0x010cd, 0x010cd}, {0x010d0, 0x010fa}, {0x010fc, 0x01248}, {0x0124a, 0x0124d},
    {0x01250, 0x01256}, {0x01258, 0x01258}, {0x0125a, 0x0125d}, {0x01260, 0x01288}, {0x0128a, 0x0128d},
    {0x01290, 0x012b0}, {0x012b2, 0x012b5}, {0x012b8, 0x012be}, {0x012c0, 0x012c0}, {0x012c2, 0x012c5},
    {0x012c8, 0x012d6}, {0x012d8, 0x01310}, {0x01312, 0x01315}, {0x01318, 0x0135a}, {0x01380, 0x0138f},
    {0x013a0, 0x013f5}, {0x013f8, 0x013fd}, {0x01401, 0x0166c}, {0x0166f, 0x0167f}, {0x01681, 0x0169a},
    {0x016a0, 0x016ea}, {0x016f1, 0x016f8}, {0x01700, 0x0170c}, {0x0170e, 0x01711}, {0x01720, 0x01731},
    {0x01740, 0x01751}, {0x01760, 0x0176c}, {0x0176e, 0x01770}, {0x01780, 0x017b3}, {0x017d7, 0x017d7},
    {0x017dc, 0x017dc}, {0x01820, 0x01878}, {0x01880, 0x01884}, {0x01887, 0x018a8}, {0x018aa, 0x018aa},
    {0x018b0, 0x018f5}, {0x01900, 0x0191e}, {0x01950, 0x0196d}, {0x01970, 0x01974}, {0x01980, 0x019ab},
    {0x019b0, 0x019c9}, {0x01a00, 0x01a16}, {0x01a20, 0x01a54}, {0x01aa7, 0x01aa7}, {0x01b05, 0x01b33},
    {0x01b45, 0x01b4b}, {0x01b83, 0x01ba0}, {0x01bae, 0x01baf}, {0x01bba, 0x01be5}, {0x01c00, 0x01c23},
    {0x01c4d, 0x01c4f}, {0x01c5a, 0x01c7d}, {0x01c80, 0x01c88}, {0x01c90, 0x01cba}, {0x01cbd, 0x01cbf},
    {0x01ce9, 0x01cec}, {0x01cee, 0x01cf3}, {0x01cf5, 0x01cf6}, {0x01cfa, 0x01cfa}, {0x01d00, 0x01dbf},
    {0x01e00, 0x01f15}, {0x01f18, 0x01f1d}, {0x01f20, 0x01f45}, {0x01f48, 0x01f4d}, {0x01f50, 0x01f57},
    {0x01f59, 0x01f59}, {0x01f5b, 0x01f5b}, {0x01f5d, 0x01f5d}, {0x01f5f, 0x01f7d}, {0x01f80, 0x01fb4},
    {0x01fb6, 0x01fbc}, {0x01fbe, 0x01fbe}, {0x01fc2, 0x01fc4}, {0x01fc6, 0x01fcc}, {0x01fd0, 0x01fd3},
    {0x01fd6, 0x01fdb}, {0x01fe0, 0x01fec}, {0x01ff2, 0x01ff4}, {0x01ff6, 0x01ffc}, {0x02071, 0x02071},
    {0x0207f, 0x0207f}, {0x02090, 0x0209c}, {0x02102, 0x02102}, {0x02107, 0x02107}, {0x0210a, 0x02113},
    {0x02115, 0x02115}, {0x02119, 0x0211d}, {0x02124, 0x02124}, {0x02126, 0x02126}, {0x02128, 0x02128},
    {0x0212a, 0x0212d}, {0x0212f, 0x02139}, {0x0213c, 0x0213f}, {0x02145, 0x02149}, {0x0214e, 0x0214e},
    {0x02183, 0x02184}, {0x02c00, 0x02c2e}, {0x02c30, 0x02c5e}, {0x02c60, 0x02ce4}, {0x02ceb, 0x02cee},
    {0x02cf2, 0x02cf3}, {0x02d00, 0x02d25}, {0x02d27, 0x02d27}, {0x02d2d, 0x02d2d}, {0x02d30, 0x02d67},
    {0x02d6f, 0x02d6f}, {0x02d80, 0x02d96}, {0x02da0, 0x02da6}, {0x02da8, 0x02dae}, {0x02db0, 0x02db6},
    {0x02db8, 0x02dbe}, {0x02dc0, 0x02dc6}, {0x02dc8, 0x02dce}, {0x02dd0, 0x02dd6}, {0x02dd8, 0x02dde},
    {0x02e2f, 0x02e2f}, {0x03005, 0x03006}, {0x03031, 0x03035}, {0x0303b, 0x0303c}, {0x03041, 0x03096},
    {0x0309d, 0x0309f}, {0x030a1, 0x030fa}, {0x030fc, 0x030ff}, {0x03105, 0x0312f}, {0x03131, 0x0318e},
    {0x031a0, 0x031bf}, {0x031f0, 0x031ff}, {0x03400, 0x04dbf}, {0x04e00, 0x09ffc}, {0x0a000, 0x0a48c},
    {0x0a4d0, 0x0a4fd}, {0x0a500, 0x0a60c}, {0x0a610, 0x0a61f}, {0x0a62a, 0x0a62b}, {0x0a640, 0x0a66e},
    {0x0a67f, 0x0a69d}, {0x0a6a0, 0x0a6e5}, {0x0a717, 0x0a71f}, {0x0a722, 0x0a788}, {0x0a78b, 0x0a7bf},
    {0x0a7c2, 0x0a7ca}, {0x0a7f5, 0x0a801}, {0x0a803, 0x0a805}, {0x0a807, 0x0a80a}, {0x0a80c, 0x0a822},
    {0x0a840, 0x0a873}, {0x0a882, 0x0a8b3}, {0x0a8f2, 0x0a8f7}, {0x0a8fb, 0x0a8fb}, {0x0a8fd, 0x0a8fe},
    {0x0a90a, 0x0a925}, {0x0a930, 0x0a946}, {0x0a960, 0x0a97c}, {0x0a984, 0x0a9b2}, {0x0a9cf, 0x0a9cf},
    {0x0a9e0, 0x0a9e4}, {0x0a9e6, 0x0a9ef}, {0x0a9fa, 0x0a9fe}, {0x0aa00, 0x0aa28}, {0x0aa40, 0x0aa42},
    {0x0aa44, 0x0aa4b}, {0x0aa60, 0x0aa76}, {0x0aa7a, 0x0aa7a}, {0x0aa7e, 0x0aaaf}, {0x0aab1, 0x0aab1},
    {0x0aab5, 0x0aab6}, {0x0aab9, 0x0aabd}, {0x0aac0, 0x0aac0}, {0x0aac2, 0x0aac2}, {0x0aadb, 0x0aadd},
    {0x0aae0, 0x0aaea}, {0x0aaf2, 0x0aaf4}, {0x0ab01, 0x0ab06}, {0x0ab09, 0x0ab0e}, {0x0ab11, 0x0ab16},
    {0x0ab20, 0x0ab26}, {0x0ab28, 0x0ab2e}, {0x0ab30, 0x0ab5a}, {0x0ab5c, 0x0ab69}, {0x0ab70, 0x0abe2},
    {0x0ac00, 0x0d7a3}, {0x0d7b0, 0x0d7c6}, {0x0d7cb, 0x0d7fb}, {0x0f900, 0x0fa6d}, {0x0fa70, 0x0fad9},
    {0x0fb00, 0x0fb06}, {0x0fb13, 0x0fb17}, {0x0fb1d, 0x0fb1d}, {0x0fb1f, 0x0fb28}, {0x0fb2a, 0x0fb36},
    {0x0fb38, 0x0fb3c}, {0x0fb3e, 0x0fb3e}, {0x0fb40, 0x0fb41}, {0x0fb43, 0x0fb44}, {0x0fb46, 0x0fbb1},
    {0x0fbd3, 0x0fd3d}, {0x0fd50, 0x0fd8f}, {0x0fd92, 0x0fdc7}, {0x0fdf0, 0x0fdfb}, {0x0fe70, 0x0fe74},
    {0x0fe76, 0x0fefc}, {0x0ff21, 0x0ff3a}, {0x0ff41, 0x0ff5a}, {0x0ff66, 0x0ffbe}, {0x0ffc2, 0x0ffc7},
    {0x0ffca, 0x0ffcf}, {0x0ffd2, 0x0ffd7}, {0x0ffda, 0x0ffdc}, {0x10000, 0x1000b}, {0x1000d, 0x10026},
    {0x10028, 0x1003a}, {0x1003c, 0x1003d}, {0x1003f, 0x1004d}, {0x10050, 0x1005d}, {0x10080, 0x100fa},
    {0x10280, 0x1029c}, {0x102a0, 0x102d0}, {0x10300, 0x1031f}, {0x1032d, 0x10340}, {0x10342, 0x10349},
    {0x10350, 0x10375}, {0x10380, 0x1039d}, {0x103a0, 0x103c3}, {0x103c8, 0x103cf}, {0x10400, 0x1049d},
    {0x104b0, 0x104d3}, {0x104d8, 0x104fb}, {0x10500, 0x10527}, {0x10530, 0x10563}, {0x10600, 0x10736},
    {0x10740, 0x10755}, {0x10760, 0x10767}, {0x10800, 0x10805}, {0x10808, 0x10808}, {0x1080a, 0x10835},
    {0x10837, 0x10838}, {0x1083c, 0x1083c}, {0x1083f, 0x10855}, {0x10860, 0x10876}, {0x10880, 0x1089e},
    {0x108e0, 0x108f2}, {0x108f4, 0x108f5}, {0x10900, 0x10915}, {0x10920, 0x10939}, {0x10980, 0x109b7},
    {0x109be, 0x109bf}, {0x10a00, 0x10a00}, {0x10a10, 0x10a13}, {0x10a15, 0x10a17}, {0x10a19, 0x10a35},
    {0x10a60, 0x10a7c}, {0x10a80, 0x10a9c}, {0x10ac0, 0x10ac7}, {0x10ac9, 0x10ae4}, {0x10b00, 0x10b35},
    {0x10b40, 0x10b55}, {0x10b60, 0x10b72}, {0x10b80, 0x10b91}, {0x10c00, 0x10c48}, {0x10c80, 0x10cb2},
    {0x10cc0, 0x10cf2}, {0x10d00, 0x10d23}, {0x10e80, 0x10ea9}, {0x10eb0, 0x10eb1}, {0x10f00, 0x10f1c},
    {0x10f27, 0x10f27}, {0x10f30, 0x10f45}, {0x10fb0, 0x10fc4}, {0x10fe0, 0x10ff6}, {0x11003, 0x11037},
    {0x11083, 0x110af}, {0x110d0, 0x110e8}, {0x11103, 0x11126}, {0x11144, 0x11144}, {0x11147, 0x11147},
    {0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111b2}, {0x111c1, 0x111c4}, {0x111da, 0x111da},
    {0x111dc, 0x111dc}, {0x11200, 0x11211}, {0x11213, 0x1122b}, {0x11280, 0x11286}, {0x11288, 0x11288},
    {0x1128a, 0x1128d}, {0x1128f, 0x1129d}, {0x1129f, 0x112a8}, {0x112b0, 0x112de}, {0x11305, 0x1130c},
    {0x1130f, 0x11310}, {0x11313, 0x11328}, {0x1132a, 0x11330}, {0x11332, 0x11333}, {0x11335, 0x11339},
    {0x1133d, 0x1133d}, {0x11350, 0x11350}, {0x1135d, 0x11361}, {0x11400, 0x11434}, {0x11447, 0x1144a},
    {0x1145f, 0x11461}, {0x11480, 0x114af}, {0x114c4, 0x114c5}, {0x114c7, 0x114c7}, {0x11580, 0x115ae},
    {0x115d8, 0x115db}, {0x11600, 0x1162f}, {0x11644, 0x11644}, {0x11680, 0x116aa}, {0x116b8, 0x116b8},
    {0x11700, 0x1171a}, {0x11800, 0x1182b}, {0x118a0, 0x118df}, {0x118ff, 0x11906}, {0x11909, 0x11909},
    {0x1190c, 0x11913}, {0x11915, 0x11916}, {0x11918, 0x1192f}, {0x1193f, 0x1193f}, {0x11941, 0x11941},
    {0x119a0, 0x119a7}, {0x119aa, 0x119d0}, {0x119e1, 0x119e1}, {0x119e3, 0x119e3}, {0x11a00, 0x11a00},
    {0x11a0b, 0x11a32}, {0x11a3a, 0x11a3a}, {0x11a50, 0x11a50}, {0x11a5c, 0x11a89}, {0x11a9d, 0x11a9d},
    {0x11ac0, 0x11af8}, {0x11c00, 0x11c08}, {0x11c0a, 0x11c2e}, {0x11c40, 0x11c40}, {0x11c72, 0x11c8f},
    {0x11d00, 0x11d06}, {0x11d08, 0x11d09}, {0x11d0b, 0x11d30}, {0x11d46, 0x11d46}, {0x11d60, 0x11d65},
    {0x11d67, 0x11d68}, {0x11d6a, 0x11d89}, {0x11d98, 0x11d98}, {0x11ee0, 0x11ef2}, {0x11fb0, 0x11fb0},
    {0x12000, 0x12399}, {0x12480, 0x12543}, {0x13000, 0x1342e}, {0x14400, 0x14646}, {0x16800, 0x16a38},
    {0x16a40, 0x16a5e}, {0x16ad0, 0x16aed}, {0x16b00, 0x16b2f}, {0x16b40, 0x16b43}, {0x16b63, 0x16b77},
    {0x16b7d, 0x16b8f}, {0x16e40, 0x16e7f}, {0x16f00, 0x16f4a}, {0x16f50, 0x16f50}, {0x16f93, 0x16f9f},
    {0x16fe0, 0x16fe1}, {0x16fe3, 0x16fe3}, {0x17000, 0x187f7}, {0x18800, 0x18cd5}, {0x18d00, 0x18d08},
    {0x1b000, 0x1b11e}, {0x1b150, 0x1b152}, {0x1b164, 0x1b167}, {0x1b170, 0x1b2fb}, {0x1bc00, 0x1bc6a},
    {0x1bc70, 0x1bc7c}, {0x1bc80, 0x1bc88}, {0x1bc90, 0x1bc99}, {0x1d400, 0x1d454}, {0x1d456, 0x1d49c},
    {0x1d49e, 0x1d49f}, {0x1d4a2, 0x1d4a2}, {0x1d4a5, 0x1d4a6}, {0x1d4a9, 0x1d4ac}, {0x1d4ae, 0x1d4b9},
    {0x1d4bb, 0x1d4bb}, {0x1d4bd, 0x1d4c3}, {0x1d4c5, 0x1d505}, {0x1d507, 0x1d50a}, {0x1d50d, 0x1d514},
    {0x1d516, 0x1d51c}, {0x1d51e, 0x1d539}, {0x1d53b, 0x1d53e}, {0x1d540, 0x1d544}, {0x1d546, 0x1d546},
    {0x1d54a, 0x1d550}, {0x1d552, 0x1d6a5}, {0x1d6a8, 0x1d6c0}, {0x1d6c2, 0x1d6da}, {0x1d6dc, 0x1d6fa},
    {0x1d6fc, 0x1d714}, {0x1d716, 0x1d734}, {0x1d736, 0x1d74e}, {0x1d750, 0x1d76e}, {0x1d770, 0x1d788},
    {0x1d78a, 0x1d7a8}, {0x1d7aa, 0x1d7c2}, {0x1d7c4, 0x1d7cb}, {0x1e100, 0x1e12c}, {0x1e137, 0x1e13d},
    {0x1e14e, 0x1e14e}, {0x1e2c0, 0x1e2eb}, {0x1e800, 0x1e8c4}, {0x1e900, 0x1e943}, {0x1e94b, 0x1e94b},
    {0x1ee00, 0x1ee03}, {0x1ee05, 0x1ee1f}, {0x1ee21, 0x1ee22}, {0x1ee24, 0x1ee24}, {0x1ee27, 0x1ee27},
    {0x1ee29, 0x1ee32}, {0x1ee34, 0x1ee37}, {0x1ee39, 0x1ee39}, {0x1ee3b, 0x1ee3b}, {0x1ee42, 0x1ee42},
    {0x1ee47, 0x1ee47}, {0x1ee49, 0x1ee49}, {0x1ee4b, 0x1ee4b}, {0x1ee4d, 0x1ee4f}, {0x1ee51, 0x1ee52},
    {0x1ee54, 0x1ee54}, {0x1ee57, 0x1ee57}, {0x1ee59, 0x1ee59}, {0x1ee5b, 0x1ee5b}, {0x1ee5d, 0x1ee5d},
    {0x1ee5f, 0x1ee5f}, {0x1ee61, 0x1ee62}, {0x1ee64, 0x1ee64}, {0x1ee67, 0x1ee6a}, {0x1ee6c, 0x1ee72},
    {0x1ee74, 0x1ee77}, {0x1ee79, 0x1ee7c}, {0x1ee7e, 0x1ee7e}, {0x1ee80, 0x1ee89}, {0x1ee8b, 0x1ee9b},
    {0x1eea1, 0x1eea3}, {0x1eea5, 0x1eea9}, {0x1eeab, 0x1eebb}, {0x20000, 0x2a6dd}, {0x2a700, 0x2b734},
    {0x2b740, 0x2b81d}, {0x2b820, 0x2cea1}, {0x2ceb0, 0x2ebe0}, {0x2f800, 0x2fa1d}, {0x30000, 0x3134a},
};

static bool is_letter_nonascii(uint32_t r)
{
    size_t lo = 0, hi = sizeof letter_ranges / sizeof letter_ranges[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r < letter_ranges[mid][0])
            hi = mid;
        else if (r > letter_ranges[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

/* module.firstPathOK: the first element is a lower-case LDH domain name. */
static bool first_path_ok(char c) { return c == '-' || c == '.' || is_digit(c) || is_lower(c); }

/* module.modPathOK: ASCII letters, digits and - . _ ~ (nothing that changes meaning in a URL). */
static bool mod_path_ok(uint32_t r)
{
    return r < 0x80 && (is_alnum((char)r) || r == '-' || r == '.' || r == '_' || r == '~');
}

/* module.fileNameOK: letters (any script), digits, space and a few shell-safe punctuation marks. */
static bool file_name_ok(uint32_t r)
{
    if (r < 0x80)
        return is_alnum((char)r) || (r != 0 && strchr("!#$%&()+,-.=@[]^_{}~ ", (int)r) != NULL);
    return is_letter_nonascii(r);
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

/* strings.EqualFold against an ASCII name. Go folds Unicode too, but no letter of these names
 * has a non-ASCII fold partner (only K and S do, as U+212A and U+017F), so bytes suffice. */
static bool ascii_equal_fold(const char *s, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(s[i]) != ascii_lower(name[i]))
            return false;
    return true;
}

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
        return why_set(why, "invalid path element %s", quote(q, sizeof q, e, len));
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
    for (size_t i = 0; i < sizeof bad_windows_names / sizeof bad_windows_names[0]; i++)
        if (ascii_equal_fold(e, short_len, bad_windows_names[i]))
            return why_set(why, "%s disallowed as path element component on Windows",
                           quote(q, sizeof q, e, short_len));
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
            digits = digits && is_digit(*p);
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
    if (len >= sizeof unstable - 1 && memcmp(p + len - (sizeof unstable - 1), unstable, sizeof unstable - 1) == 0)
        i -= sizeof unstable - 1;
    while (i > 0 && is_digit(p[i - 1]))
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
    while (i > 0 && (is_digit(p[i - 1]) || p[i - 1] == '.')) {
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
            return why_set(why, "invalid char %s in first path element", quote_rune(q, sizeof q, (unsigned char)p[i]));
    size_t prefix_len;
    path_major_t major;
    if (!split_path_version(p, len, &prefix_len, &major))
        return why_set(why, "invalid version");
    return true;
}

static int path_error(cache_err_t *err, const char *kind, const char *p, size_t len, const char *why)
{
    char q[QUOTE_MAX];
    return cache_err_set(err, -EINVAL, "malformed %s path %s: %s", kind, quote(q, sizeof q, p, len), why);
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

/* ---- semantic versions -------------------------------------------------------------------- */

typedef struct str {
    const char *p;
    size_t len;
} str_t;

/* The parts of vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]; missing MINOR/PATCH read as "0". */
typedef struct semver {
    str_t major, minor, patch;
    const char *shortfill; /* "", ".0" or ".0.0": what Canonical appends to a short form */
    str_t prerelease;      /* with its '-', or empty */
    str_t build;           /* with its '+', or empty */
} semver_t;

static bool str_eq(str_t s, const char *lit) { return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0; }

/* A decimal without extra leading zeros. */
static bool parse_int(const char *v, size_t len, size_t *n)
{
    if (len == 0 || !is_digit(v[0]))
        return false;
    size_t i = 1;
    while (i < len && is_digit(v[i]))
        i++;
    if (v[0] == '0' && i != 1)
        return false;
    *n = i;
    return true;
}

static bool is_ident_char(char c) { return is_alnum(c) || c == '-'; }

/* An all-digit identifier with a leading zero, which semver forbids in prereleases. */
static bool is_bad_num(const char *v, size_t len)
{
    size_t i = 0;
    while (i < len && is_digit(v[i]))
        i++;
    return i == len && i > 1 && v[0] == '0';
}

/* "-" then dot-separated, non-empty identifiers up to '+' or the end. */
static bool parse_prerelease(const char *v, size_t len, size_t *n)
{
    if (len == 0 || v[0] != '-')
        return false;
    size_t i = 1, start = 1;
    for (; i < len && v[i] != '+'; i++) {
        if (!is_ident_char(v[i]) && v[i] != '.')
            return false;
        if (v[i] == '.') {
            if (start == i || is_bad_num(v + start, i - start))
                return false;
            start = i + 1;
        }
    }
    if (start == i || is_bad_num(v + start, i - start))
        return false;
    *n = i;
    return true;
}

/* "+" then dot-separated, non-empty identifiers to the end. */
static bool parse_build(const char *v, size_t len)
{
    if (len == 0 || v[0] != '+')
        return false;
    size_t start = 1;
    for (size_t i = 1; i < len; i++) {
        if (!is_ident_char(v[i]) && v[i] != '.')
            return false;
        if (v[i] == '.') {
            if (start == i)
                return false;
            start = i + 1;
        }
    }
    return start != len;
}

/* semver.parse. */
static bool semver_parse(const char *v, size_t len, semver_t *sv)
{
    static const char zero[] = "0";
    size_t n;
    *sv = (semver_t){.shortfill = ""};
    if (len == 0 || v[0] != 'v')
        return false;
    size_t i = 1;
    if (!parse_int(v + i, len - i, &n))
        return false;
    sv->major = (str_t){v + i, n};
    i += n;
    if (i == len) {
        sv->minor = sv->patch = (str_t){zero, 1};
        sv->shortfill = ".0.0";
        return true;
    }
    if (v[i] != '.' || !parse_int(v + i + 1, len - i - 1, &n))
        return false;
    sv->minor = (str_t){v + i + 1, n};
    i += 1 + n;
    if (i == len) {
        sv->patch = (str_t){zero, 1};
        sv->shortfill = ".0";
        return true;
    }
    if (v[i] != '.' || !parse_int(v + i + 1, len - i - 1, &n))
        return false;
    sv->patch = (str_t){v + i + 1, n};
    i += 1 + n;
    if (i < len && v[i] == '-') {
        if (!parse_prerelease(v + i, len - i, &n))
            return false;
        sv->prerelease = (str_t){v + i, n};
        i += n;
    }
    if (i < len && v[i] == '+') {
        if (!parse_build(v + i, len - i))
            return false;
        sv->build = (str_t){v + i, len - i};
        i = len;
    }
    return i == len;
}

bool semver_is_valid(const char *v)
{
    assert(v != NULL);
    semver_t sv;
    return semver_parse(v, strlen(v), &sv);
}

bool semver_is_canonical(const char *v)
{
    assert(v != NULL);
    semver_t sv;
    return semver_parse(v, strlen(v), &sv) && sv.shortfill[0] == '\0' && sv.build.len == 0;
}

bool semver_is_prerelease(const char *v)
{
    assert(v != NULL);
    semver_t sv;
    return semver_parse(v, strlen(v), &sv) && sv.prerelease.len > 0;
}

/* Decimals without leading zeros: the longer is larger. */
static int compare_int(str_t x, str_t y)
{
    if (x.len != y.len)
        return x.len < y.len ? -1 : 1;
    int c = memcmp(x.p, y.p, x.len);
    return (c > 0) - (c < 0);
}

static bool is_num(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit(v[i]))
            return false;
    return true;
}

/* semver.comparePrerelease: no prerelease sorts last; identifiers compare numerically when
 * both are numbers, numbers before words, words in ASCII order; a longer list wins ties. */
static int compare_prerelease(str_t x, str_t y)
{
    if (x.len == y.len && memcmp(x.p, y.p, x.len) == 0)
        return 0;
    if (x.len == 0)
        return 1;
    if (y.len == 0)
        return -1;
    size_t i = 0, j = 0;
    while (i < x.len && j < y.len) {
        i++; /* skip '-' or '.' */
        j++;
        size_t ie = i, je = j;
        while (ie < x.len && x.p[ie] != '.')
            ie++;
        while (je < y.len && y.p[je] != '.')
            je++;
        str_t dx = {x.p + i, ie - i}, dy = {y.p + j, je - j};
        i = ie;
        j = je;
        if (dx.len == dy.len && memcmp(dx.p, dy.p, dx.len) == 0)
            continue;
        bool nx = is_num(dx.p, dx.len), ny = is_num(dy.p, dy.len);
        if (nx != ny)
            return nx ? -1 : 1;
        if (nx && dx.len != dy.len)
            return dx.len < dy.len ? -1 : 1;
        size_t m = dx.len < dy.len ? dx.len : dy.len;
        int c = memcmp(dx.p, dy.p, m);
        if (c != 0)
            return c < 0 ? -1 : 1;
        return dx.len < dy.len ? -1 : 1;
    }
    return i == x.len ? -1 : 1;
}

int semver_compare(const char *a, const char *b)
{
    assert(a != NULL && b != NULL);
    semver_t va, vb;
    bool oka = semver_parse(a, strlen(a), &va), okb = semver_parse(b, strlen(b), &vb);
    if (!oka || !okb)
        return oka == okb ? 0 : oka ? 1 : -1;
    int c = compare_int(va.major, vb.major);
    if (c == 0)
        c = compare_int(va.minor, vb.minor);
    if (c == 0)
        c = compare_int(va.patch, vb.patch);
    if (c == 0)
        c = compare_prerelease(va.prerelease, vb.prerelease);
    return c;
}

/* The tail of a pseudo-version: \d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$ */
static bool pseudo_tail(const char *v, size_t len)
{
    size_t i = 0;
    for (; i < 14; i++)
        if (i >= len || !is_digit(v[i]))
            return false;
    if (i >= len || v[i++] != '-')
        return false;
    size_t start = i;
    while (i < len && is_alnum(v[i]))
        i++;
    if (i == start)
        return false;
    if (i == len)
        return true;
    if (v[i] != '+')
        return false;
    return parse_build(v + i, len - i);
}

/* pseudoVersionRE: ^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+build)?$
 * The optional group is matched by trying each '.' it could end at before the first '+'. */
static bool pseudo_match(const char *v, size_t len)
{
    size_t i = 1;
    if (len == 0 || v[0] != 'v')
        return false;
    while (i < len && is_digit(v[i]))
        i++;
    if (i == 1 || i >= len || v[i] != '.')
        return false;
    i++;
    if (len - i >= 4 && memcmp(v + i, "0.0-", 4) == 0 && pseudo_tail(v + i + 4, len - i - 4))
        return true;
    for (int part = 0; part < 2; part++) { /* \d+\.\d+- */
        size_t start = i;
        while (i < len && is_digit(v[i]))
            i++;
        if (i == start || i >= len || v[i] != (part == 0 ? '.' : '-'))
            return false;
        i++;
    }
    for (size_t q = i; q + 2 <= len; q++) {
        if (q > i && v[q - 1] == '+')
            break;
        if (q > i && v[q - 1] != '.')
            continue;
        if (v[q] == '0' && v[q + 1] == '.' && pseudo_tail(v + q + 2, len - q - 2))
            return true;
    }
    return false;
}

bool semver_is_pseudo(const char *v)
{
    assert(v != NULL);
    size_t len = strlen(v), dashes = 0;
    for (size_t i = 0; i < len; i++)
        dashes += v[i] == '-';
    semver_t sv;
    return dashes >= 2 && semver_parse(v, len, &sv) && pseudo_match(v, len);
}

/* ---- module versions ---------------------------------------------------------------------- */

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

/* module.Check, plus the two rules of the go command's code repo on top of it: the version is
 * in canonical form (module.CanonicalVersion(v) == v), and +incompatible is only for v2 and
 * above on a path without a major-version suffix. */
static int check_module_version(const char *path, size_t plen, const char *v, size_t vlen, cache_err_t *err)
{
    char why[WHY_MAX], qp[QUOTE_MAX], qv[QUOTE_MAX];
    if (!check_module_path(path, plen, why))
        return path_error(err, "module", path, plen, why);
    printable(qv, sizeof qv, v, vlen);
    printable(qp, sizeof qp, path, plen);
    semver_t sv;
    if (!semver_parse(v, vlen, &sv))
        return cache_err_set(err, -EINVAL, "%s@%s: invalid version: not a semantic version", qp, qv);
    bool incompatible = str_eq(sv.build, "+incompatible");
    if (sv.shortfill[0] != '\0' || (sv.build.len > 0 && !incompatible)) {
        size_t keep = vlen - sv.build.len;
        return cache_err_set(err, -EINVAL, "%s@%s: invalid version: not canonical (should be %.*s%s%s)", qp, qv,
                             (int)keep, v, sv.shortfill, incompatible ? "+incompatible" : "");
    }
    size_t prefix_len;
    path_major_t major;
    split_path_version(path, plen, &prefix_len, &major); /* cannot fail: the path was checked */
    if (!check_path_major(v, vlen, &sv, major, why))
        return cache_err_set(err, -EINVAL, "%s@%s: invalid version: %s", qp, qv, why);
    if (incompatible) {
        if (major.len > 0)
            return cache_err_set(err, -EINVAL,
                                 "%s@%s: invalid version: +incompatible suffix not allowed: module path includes a "
                                 "major version suffix, so major version must match",
                                 qp, qv);
        if (str_eq(sv.major, "0") || str_eq(sv.major, "1"))
            return cache_err_set(err, -EINVAL,
                                 "%s@%s: invalid version: +incompatible suffix not allowed: major version v%.*s is "
                                 "compatible",
                                 qp, qv, (int)sv.major.len, sv.major.p);
    }
    return 0;
}

int modversion_check(const char *path, const char *version, cache_err_t *err)
{
    assert(path != NULL && version != NULL);
    return check_module_version(path, strlen(path), version, strlen(version), err);
}

/* ---- escaping ----------------------------------------------------------------------------- */

/* module.escapeString: each upper-case letter becomes '!' and the lower-case letter. Paths and
 * versions never hold '!' or non-ASCII bytes, which keeps the mapping one-to-one. */
static int escape_string(const char *s, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '!' || (unsigned char)c >= 0x80)
            return -EINVAL;
        size_t need = is_upper(c) ? 2 : 1;
        if (o + need >= cap || o + need > INT_MAX)
            return -ENAMETOOLONG;
        if (is_upper(c)) {
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
        if ((unsigned char)c >= 0x80 || is_upper(c))
            return -EINVAL;
        if (c == '!') {
            if (i + 1 == len || !is_lower(s[i + 1]))
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
    return escape_string(path, len, out, cap);
}

int modpath_unescape(const char *escaped, size_t len, char *out, size_t cap, cache_err_t *err)
{
    assert(escaped != NULL && (out != NULL || cap == 0));
    char q[QUOTE_MAX], why[WHY_MAX];
    int n = unescape_string(escaped, len, out, cap);
    if (n == -ENAMETOOLONG)
        return cache_err_set(err, n, "escaped module path %s is too long", quote(q, sizeof q, escaped, len));
    if (n < 0)
        return cache_err_set(err, n, "invalid escaped module path %s", quote(q, sizeof q, escaped, len));
    if (!check_module_path(out, (size_t)n, why)) {
        char qo[QUOTE_MAX];
        cache_err_set(err, -EINVAL, "invalid escaped module path %s: malformed module path %s: %s",
                      quote(q, sizeof q, escaped, len), quote(qo, sizeof qo, out, (size_t)n), why);
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

int modversion_escape(const char *version, char *out, size_t cap)
{
    assert(version != NULL && (out != NULL || cap == 0));
    char why[WHY_MAX];
    size_t len = strlen(version);
    if (!utf8_valid(version, len) || !check_version_name(version, len, why))
        return -EINVAL;
    return escape_string(version, len, out, cap);
}

int modversion_unescape(const char *escaped, size_t len, char *out, size_t cap, cache_err_t *err)
{
    assert(escaped != NULL && (out != NULL || cap == 0));
    char q[QUOTE_MAX], why[WHY_MAX];
    int n = unescape_string(escaped, len, out, cap);
    if (n == -ENAMETOOLONG)
        return cache_err_set(err, n, "escaped version %s is too long", quote(q, sizeof q, escaped, len));
    if (n < 0)
        return cache_err_set(err, n, "invalid escaped version %s", quote(q, sizeof q, escaped, len));
    if (!check_elem(out, (size_t)n, KIND_FILE, why)) {
        cache_err_set(err, -EINVAL, "invalid escaped version %s: %s", quote(q, sizeof q, out, (size_t)n), why);
        out[0] = '\0';
        return -EINVAL;
    }
    return n;
}

/* ---- GOPROXY keys ------------------------------------------------------------------------- */

static const char *const kind_suffix[] = {
    [MODKEY_LIST] = "/@v/list", [MODKEY_LATEST] = "/@latest", [MODKEY_INFO] = ".info",
    [MODKEY_MOD] = ".mod",      [MODKEY_ZIP] = ".zip",
};

int modkey_make(modkey_kind_t kind, const char *module, const char *version, modkey_t *out, cache_err_t *err)
{
    assert(module != NULL && out != NULL);
    char q[QUOTE_MAX];
    memset(out, 0, sizeof *out);
    if (kind != MODKEY_LIST && kind != MODKEY_LATEST && kind != MODKEY_INFO && kind != MODKEY_MOD &&
        kind != MODKEY_ZIP)
        return cache_err_set(err, -EINVAL, "unknown key kind %d", (int)kind);
    int rc = modpath_check(module, err);
    if (rc < 0)
        return rc;
    size_t mlen = strlen(module);
    if (mlen > MODKEY_MAX)
        return cache_err_set(err, -EINVAL, "module path %s is longer than %d bytes", quote(q, sizeof q, module, mlen),
                             MODKEY_MAX);
    int emlen = modpath_escape(module, out->esc_module, sizeof out->esc_module);
    if (emlen < 0) {
        memset(out, 0, sizeof *out);
        return cache_err_set(err, -EINVAL, "module path %s is too long to escape", quote(q, sizeof q, module, mlen));
    }
    memcpy(out->module, module, mlen + 1);
    out->kind = kind;

    int n;
    if (kind == MODKEY_LIST || kind == MODKEY_LATEST) {
        n = snprintf(out->escaped, sizeof out->escaped, "%s%s", out->esc_module, kind_suffix[kind]);
    } else {
        if (version == NULL || version[0] == '\0') {
            memset(out, 0, sizeof *out);
            return cache_err_set(err, -EINVAL, "empty version");
        }
        size_t vlen = strlen(version);
        char why[WHY_MAX];
        if (!utf8_valid(version, vlen) || !check_version_name(version, vlen, why)) {
            memset(out, 0, sizeof *out);
            return cache_err_set(err, -EINVAL, "disallowed version string %s", quote(q, sizeof q, version, vlen));
        }
        if (kind == MODKEY_INFO) {
            /* A query (branch, commit, short semver) is fine for .info; only an exact,
             * valid version names something that can never change. */
            out->immutable = check_module_version(module, mlen, version, vlen, NULL) == 0;
        } else {
            rc = check_module_version(module, mlen, version, vlen, err);
            if (rc < 0) {
                memset(out, 0, sizeof *out);
                return rc;
            }
            out->immutable = true;
        }
        char escv[MODKEY_MAX + 1];
        if (vlen > MODKEY_MAX || modversion_escape(version, escv, sizeof escv) < 0) {
            memset(out, 0, sizeof *out);
            return cache_err_set(err, -EINVAL, "version %s is too long", quote(q, sizeof q, version, vlen));
        }
        memcpy(out->version, version, vlen + 1);
        n = snprintf(out->escaped, sizeof out->escaped, "%s/@v/%s%s", out->esc_module, escv, kind_suffix[kind]);
    }
    if (n < 0 || (size_t)n > MODKEY_MAX) {
        memset(out, 0, sizeof *out);
        return cache_err_set(err, -EINVAL, "key for module %s is longer than %d bytes",
                             quote(q, sizeof q, module, mlen), MODKEY_MAX);
    }
    return 0;
}

static bool has_suffix(const char *s, size_t len, const char *suffix, size_t *stem)
{
    size_t n = strlen(suffix);
    if (len < n || memcmp(s + len - n, suffix, n) != 0)
        return false;
    *stem = len - n;
    return true;
}

int modkey_parse(const char *key, size_t len, modkey_t *out, cache_err_t *err)
{
    assert(out != NULL && (key != NULL || len == 0));
    char q[QUOTE_MAX];
    memset(out, 0, sizeof *out);
    if (len == 0)
        return cache_err_set(err, -EINVAL, "empty key");
    if (len > MODKEY_MAX)
        return cache_err_set(err, -EINVAL, "key is %zu bytes, longer than %d", len, MODKEY_MAX);
    /* Escaped keys are plain ASCII; a NUL, a control byte or UTF-8 is never part of one. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c >= 0x7f)
            return cache_err_set(err, -EINVAL, "key %s: byte 0x%02x at offset %zu is not allowed",
                                 quote(q, sizeof q, key, len), c, i);
    }
    if (key[0] == '/')
        return cache_err_set(err, -EINVAL, "key %s: leading slash", quote(q, sizeof q, key, len));

    /* '@' never appears in a module path, so the first "/@" ends the module. */
    const char *at = memmem(key, len, "/@", 2);
    if (at == NULL)
        return cache_err_set(err, -EINVAL, "key %s: no /@v/ or /@latest after the module path",
                             quote(q, sizeof q, key, len));
    size_t mod_len = (size_t)(at - key);
    const char *tail = at;
    size_t tail_len = len - mod_len;
    modkey_kind_t kind;
    const char *ver = NULL;
    size_t ver_len = 0;
    if (tail_len == 8 && memcmp(tail, "/@v/list", 8) == 0) {
        kind = MODKEY_LIST;
    } else if (tail_len == 8 && memcmp(tail, "/@latest", 8) == 0) {
        kind = MODKEY_LATEST;
    } else if (tail_len > 4 && memcmp(tail, "/@v/", 4) == 0) {
        ver = tail + 4;
        size_t rest = tail_len - 4;
        if (memchr(ver, '/', rest) != NULL)
            return cache_err_set(err, -EINVAL, "key %s: '/' after @v/", quote(q, sizeof q, key, len));
        if (has_suffix(ver, rest, ".info", &ver_len))
            kind = MODKEY_INFO;
        else if (has_suffix(ver, rest, ".mod", &ver_len))
            kind = MODKEY_MOD;
        else if (has_suffix(ver, rest, ".zip", &ver_len))
            kind = MODKEY_ZIP;
        else
            return cache_err_set(err, -EINVAL, "key %s: not list, .info, .mod or .zip", quote(q, sizeof q, key, len));
        if (ver_len == 0)
            return cache_err_set(err, -EINVAL, "key %s: empty version", quote(q, sizeof q, key, len));
    } else {
        return cache_err_set(err, -EINVAL, "key %s: expected @v/list, @latest or @v/<version>.info|.mod|.zip",
                             quote(q, sizeof q, key, len));
    }

    char module[MODKEY_MAX + 1], version[MODKEY_MAX + 1] = "";
    int rc = modpath_unescape(key, mod_len, module, sizeof module, err);
    if (rc < 0)
        return rc;
    if (ver != NULL) {
        rc = modversion_unescape(ver, ver_len, version, sizeof version, err);
        if (rc < 0)
            return rc;
    }
    rc = modkey_make(kind, module, version, out, err);
    if (rc < 0)
        return rc;
    /* Escaping is one-to-one on valid names, so rebuilding gives the key back; anything else
     * would be a bug here, and two spellings of one object must never both reach the store. */
    if (strlen(out->escaped) != len || memcmp(out->escaped, key, len) != 0) {
        memset(out, 0, sizeof *out);
        return cache_err_set(err, -EINVAL, "key %s is not in canonical escaped form", quote(q, sizeof q, key, len));
    }
    return 0;
}
