/* SPDX-License-Identifier: MIT */
/*
 * log.h — one logging function with syslog-style levels and a replaceable sink.
 * The macros check the level before evaluating their arguments, so a disabled
 * debug line costs one load on a hot path.
 *
 * Two line formats on stderr: "modfs: level: message" for a terminal or a file, and
 * "<priority>message" when stderr is the systemd journal, which reads the priority prefix, stores
 * time and sender itself, and would otherwise show every line as "info" with the words repeated.
 */
#ifndef MODFS_LOG_H
#define MODFS_LOG_H

#include <stdatomic.h>
#include <stdbool.h>

/* The values are syslog's priorities, which the journal format writes as they are. */
typedef enum log_level {
    LOG_LEVEL_ERROR = 3,
    LOG_LEVEL_WARN = 4,
    LOG_LEVEL_NOTICE = 5, /* rare events an operator wants by default: start, reload, stop */
    LOG_LEVEL_INFO = 6,   /* one line per request or fetch */
    LOG_LEVEL_DEBUG = 7,
} log_level_t;

#define LOG_LEVEL_DEFAULT LOG_LEVEL_NOTICE

/* Current threshold; messages above it are dropped. Default LOG_LEVEL_DEFAULT. Atomic: a reload
 * changes it while every thread reads it. */
extern _Atomic int log_threshold;

static inline bool log_enabled(log_level_t level)
{
    return (int)level <= atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

/* Sink: receives one formatted line without trailing newline. Default writes to stderr. Set
 * before threads start. */
typedef void (*log_sink_fn)(log_level_t level, const char *line);
void log_set_sink(log_sink_fn sink);
/* Any thread, any time (a reload). */
void log_set_level(log_level_t level);
/* Parses "error|warn|notice|info|debug". Returns 0 or -EINVAL. */
int log_level_parse(const char *name, log_level_t *out);
/* "error", "warn", "notice", "info" or "debug". */
const char *log_level_name(log_level_t level);

/*
 * Switches the default sink to the journal format when stderr is the journal: systemd sets
 * JOURNAL_STREAM to "<device>:<inode>" of the stream it connected, and stderr still being that
 * stream (not redirected by a wrapper) is the test. Returns whether it switched. Call once at
 * start, before threads.
 */
bool log_detect_journal(void);

__attribute__((format(printf, 2, 3))) void log_write(log_level_t level, const char *fmt, ...);

#define LOG_AT(level, ...)                                                                                   \
    do {                                                                                                     \
        if (log_enabled(level))                                                                              \
            log_write((level), __VA_ARGS__);                                                                 \
    } while (0)
#define LOG_E(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_W(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_N(...) LOG_AT(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define LOG_I(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_D(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
