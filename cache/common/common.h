/* SPDX-License-Identifier: MIT */
/*
 * common.h — the few things every part of modfs needs and none of them owns: byte slices and
 * the growable buffer, error words, logging, one hash table, UTF-8, paths on the local disk,
 * little-endian records, the chunk checksum. Depends on libc and libxxhash only; nothing here
 * knows about Go, the store or a front.
 *
 * Everything is thread-safe in the sense of having no shared state, except the log threshold and
 * sink (set at start-up and on reload, read everywhere) and a hash table, which its owner locks.
 */
#ifndef MODFS_COMMON_H
#define MODFS_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <xxhash.h>
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>
#endif

/* ---- bytes (buf.c) ------------------------------------------------------------------------
 * The one non-owning slice and the one growable byte buffer of modfs. Binary data never travels
 * as a NUL-terminated string. buf_t keeps a NUL after its last byte anyway, so a buffer holding
 * text can be handed to libc. */

/* A view of bytes someone else owns. */
typedef struct slice {
    const uint8_t *base;
    size_t len;
} slice_t;

/* A heap buffer; base is NULL until the first append. */
typedef struct buf {
    uint8_t *base;
    size_t len;
    size_t cap;
} buf_t;

#define BUF_INIT {NULL, 0, 0}

/* Appends len bytes. Returns 0 or -ENOMEM (sizes here come from outside, so growth is checked). */
__attribute__((warn_unused_result)) int buf_append(buf_t *b, const void *data, size_t len);
/* Appends printf-formatted text. Returns 0 or -ENOMEM. */
__attribute__((warn_unused_result, format(printf, 2, 3))) int buf_appendf(buf_t *b, const char *fmt, ...);
/* Makes room for at least extra more bytes. Returns 0 or -ENOMEM. */
__attribute__((warn_unused_result)) int buf_reserve(buf_t *b, size_t extra);
void buf_reset(buf_t *b);   /* len = 0, memory kept */
void buf_dispose(buf_t *b); /* frees, back to BUF_INIT */

/* ---- errors (err.c) -----------------------------------------------------------------------
 * Functions return 0 or a negative errno; where a caller needs words (a CLI line, an HTTP reason,
 * a log entry) they also fill a cache_err_t, which says what failed and where
 * ("zip entry \"x@v1/../a\": path contains \"..\""). A NULL cache_err_t* is always allowed. */

typedef struct cache_err {
    int upstream_status; /* HTTP status upstream answered with, when the failure came from there (404, 410, 502...) */
    char msg[512];
} cache_err_t;

/* Formats into err (if not NULL) and returns rc unchanged, so `return cache_err_set(err, -EINVAL, ...)`. */
__attribute__((format(printf, 3, 4))) int cache_err_set(cache_err_t *err, int rc, const char *fmt, ...);
/* Prefixes an existing message: "ctx: old message". Returns rc. */
__attribute__((format(printf, 3, 4))) int cache_err_prefix(cache_err_t *err, int rc, const char *fmt, ...);

/* ---- names in messages (quote.c) ---------------------------------------------------------- */

/* Writes s[0..len) into dst (cap bytes, at least 16) as a double-quoted string safe to print:
 * printable ASCII as it is, '"' and '\' escaped, every other byte as \xNN, UTF-8 included
 * (names come from the network and must not reach a log, a terminal or an HTTP body raw); cut
 * with "..." when it does not fit. The result is printable ASCII. Returns dst. */
const char *str_quote(char *dst, size_t cap, const void *s, size_t len);

/* ---- logging (log.c) ----------------------------------------------------------------------
 * One logging function with syslog-style levels and a replaceable sink. The macros check the
 * level before evaluating their arguments, so a disabled debug line costs one load on a hot
 * path. */

/* The values are syslog's priorities, which the journal format writes as they are. */
typedef enum modfs_log_level {
    LOG_LEVEL_ERROR = 3,
    LOG_LEVEL_WARN = 4,
    LOG_LEVEL_NOTICE = 5, /* rare events an operator wants by default: start, reload, stop */
    LOG_LEVEL_INFO = 6,   /* one line per request or fetch */
    LOG_LEVEL_DEBUG = 7,
} modfs_log_level_t;

#define LOG_LEVEL_DEFAULT LOG_LEVEL_NOTICE

/* Current threshold; messages above it are dropped. Default LOG_LEVEL_DEFAULT. Atomic: a reload
 * may change it while every thread reads it. */
extern _Atomic int modfs_log_threshold;

/* Sink: receives one formatted line without trailing newline. Default writes to stderr. Set
 * before threads start. */
typedef void (*modfs_log_sink_fn)(modfs_log_level_t level, const char *line);
void modfs_log_set_sink(modfs_log_sink_fn sink);
void modfs_log_set_level(modfs_log_level_t level);
/* Parses "error|warn|notice|info|debug". Returns 0 or -EINVAL. */
int modfs_log_level_parse(const char *name, modfs_log_level_t *out);
/* "error", "warn", "notice", "info" or "debug". */
const char *modfs_log_level_name(modfs_log_level_t level);
/*
 * Switches the default sink to the journal format ("<priority>message", no time or name: the
 * journal stores those itself) when stderr is the journal: systemd sets JOURNAL_STREAM to
 * "<device>:<inode>" of the stream it connected, and stderr still being that stream (not
 * redirected by a wrapper) is the test. Returns whether it switched. Once, before threads.
 */
bool modfs_log_detect_journal(void);
/* Whether a message at level would be written. */
static inline bool modfs_log_enabled(modfs_log_level_t level)
{
    return (int)level <= atomic_load_explicit(&modfs_log_threshold, memory_order_relaxed);
}

__attribute__((format(printf, 2, 3))) void modfs_log_write(modfs_log_level_t level, const char *fmt, ...);

#define LOG_AT(level, ...)                                                                                   \
    do {                                                                                                     \
        if (modfs_log_enabled(level))                                                                        \
            modfs_log_write((level), __VA_ARGS__);                                                           \
    } while (0)
#define LOG_E(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_W(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_N(...) LOG_AT(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define LOG_I(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_D(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* ---- the hash table (htab.c) --------------------------------------------------------------
 * Intrusive and chained: an entry embeds an htab_link_t, the caller computes the hash
 * (hash_bytes) and says what "equal" means. No allocation per entry and no locking (the owner
 * holds its own lock). The bucket array doubles when entries outnumber buckets; if that
 * allocation fails the table keeps working with longer chains. */

typedef struct htab_link {
    struct htab_link *next;
    uint64_t hash;
} htab_link_t;

typedef struct htab {
    htab_link_t **buckets;
    size_t mask;  /* buckets - 1; a power of two minus one */
    size_t count;
} htab_t;

/* Equality of an entry with a lookup key, both as the caller defines them. */
typedef bool (*htab_eq_fn)(const htab_link_t *entry, const void *key);

/* Prepares an empty table of at least min_buckets buckets. 0 or -ENOMEM. */
int htab_init(htab_t *t, size_t min_buckets);
/* Frees the bucket array (not the entries, which the caller owns). */
void htab_dispose(htab_t *t);
/* The entry with this hash that eq says equals key, or NULL. */
htab_link_t *htab_find(const htab_t *t, uint64_t hash, htab_eq_fn eq, const void *key);
/* Adds an entry (not already in the table) under hash. */
void htab_insert(htab_t *t, htab_link_t *link, uint64_t hash);
/* Removes an entry that is in the table. */
void htab_remove(htab_t *t, htab_link_t *link);
/* Calls fn on every entry; stops at the first non-zero return. fn may free the entry it is given
 * (a final sweep), but not change the table otherwise. */
int htab_each(const htab_t *t, int (*fn)(htab_link_t *entry, void *arg), void *arg);

/* ---- the age list (agelist.c) ---------------------------------------------------------------
 * Intrusive and doubly linked, newest to oldest: the order of a bounded table's entries beside
 * its htab (an LRU when used entries are touched, insertion order when not), so that the oldest
 * can go when the table is full. No allocation and no locking (the owner holds its own lock).
 * AGELIST_ENTRY turns a link back into its entry. */

typedef struct agelist_link {
    struct agelist_link *newer, *older;
} agelist_link_t;

typedef struct agelist {
    agelist_link_t *newest, *oldest; /* NULL when empty; zero-initialised is an empty list */
} agelist_t;

#define AGELIST_ENTRY(link, type, member) ((type *)(void *)((char *)(link) - offsetof(type, member)))

/* Adds e (not in the list) as the newest. */
void agelist_push(agelist_t *l, agelist_link_t *e);
/* Removes e, which is in the list. */
void agelist_unlink(agelist_t *l, agelist_link_t *e);
/* Makes e, which is in the list, the newest. */
void agelist_touch(agelist_t *l, agelist_link_t *e);

/* The hash of bytes for tables (XXH3, seeded per purpose where two kinds of key share one). */
static inline uint64_t hash_bytes(const void *p, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, len, seed);
}

/* ---- UTF-8 (utf8.c) ----------------------------------------------------------------------- */

/* Decodes one rune at s[0..len) as Go's utf8.DecodeRune does for valid input; returns its length
 * (1-4), or 0 when the bytes are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF, cut short,
 * or len == 0). */
size_t utf8_decode(const void *s, size_t len, uint32_t *rune);
/* Writes rune (at most U+10FFFF, not a surrogate) as UTF-8; returns its length. */
size_t utf8_encode(uint32_t rune, uint8_t out[4]);
/* Whether s[0..len) is entirely valid UTF-8. */
bool utf8_valid(const void *s, size_t len);

/* ---- ASCII classes ------------------------------------------------------------------------
 * Go's rules are plain byte ranges; the <ctype.h> classes depend on the locale, so these are
 * written out and mean the same everywhere. */

static inline bool ascii_is_digit(char c)
{
    return c >= '0' && c <= '9';
}
static inline bool ascii_is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}
static inline bool ascii_is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}
static inline bool ascii_is_alnum(char c)
{
    return ascii_is_digit(c) || ascii_is_lower(c) || ascii_is_upper(c);
}
static inline char ascii_lower(char c)
{
    return ascii_is_upper(c) ? (char)(c - 'A' + 'a') : c;
}
/* The value of a hex digit of either case, or -1. */
static inline int ascii_hex_value(char c)
{
    if (ascii_is_digit(c))
        return c - '0';
    c = ascii_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}
/* strings.EqualFold restricted to ASCII: s[0..len) against the NUL-terminated lit. */
bool ascii_equal_fold(const void *s, size_t len, const char *lit);
/* Whether s[0..len) ends with the NUL-terminated suffix. */
static inline bool mem_has_suffix(const char *s, size_t len, const char *suffix, size_t suffix_len)
{
    return len >= suffix_len && memcmp(s + len - suffix_len, suffix, suffix_len) == 0;
}

/* ---- little-endian records ----------------------------------------------------------------
 * Integers in stored records and archive headers, written byte by byte so the format is the same
 * on every host and no read is ever unaligned. */

static inline void le_put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t le_get(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- the chunk checksum -------------------------------------------------------------------
 * XXH3-64, kept beside every chunk's address and checked on every read. On x86-64, Debian's
 * libxxhash picks the widest vector unit the CPU has at run time (the _dispatch entry points);
 * the plain entry point is its SSE2 build, which took 16% of the CPU of zip streaming. Both
 * compute the same value, so stores move freely between machines. */

static inline uint64_t chunk_checksum(const void *p, size_t len)
{
#if defined(__x86_64__)
    return XXH3_64bits_dispatch(p, len);
#else
    return XXH3_64bits(p, len);
#endif
}

/* ---- paths on the local disk (path.c) ----------------------------------------------------- */

/* mkdir -p of path relative to dirfd (AT_FDCWD for the working directory; an absolute path
 * ignores dirfd): every missing directory is made with mode. 0 or -errno. */
int path_mkdirs_at(int dirfd, const char *path, mode_t mode);
/* a + "/" + b, malloc'd; NULL when out of memory. */
char *path_join(const char *a, const char *b);

/* ---- read-mostly pointers (rcu.c) ------------------------------------------------------------
 * A pointer read on every request and replaced rarely (the access rules) is read without a lock:
 *
 *     modfs_rcu_slot_t *s = modfs_rcu_read_enter();
 *     const rules_t *r = atomic_load(&shared);  ... use r ...
 *     modfs_rcu_read_leave(s);
 *
 * and replaced with `old = atomic_exchange(&shared, new); modfs_rcu_synchronize(); free(old)`:
 * synchronize returns once every read-side section that began before it has ended, so none can
 * still use old. Sections do not nest and must not block (synchronize waits for them). Any
 * thread; enter/leave touch only the calling thread's own slot. synchronize may sleep: never call
 * it inside a section. */
typedef struct modfs_rcu_slot modfs_rcu_slot_t;
modfs_rcu_slot_t *modfs_rcu_read_enter(void);
void modfs_rcu_read_leave(modfs_rcu_slot_t *s);
void modfs_rcu_synchronize(void);

#endif
