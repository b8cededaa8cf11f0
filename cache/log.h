/* SPDX-License-Identifier: MIT */
/*
 * log.h — one logging function with syslog-style levels and a replaceable sink.
 * The macros check the level before evaluating their arguments, so a disabled
 * debug line costs one comparison on a hot path.
 */
#ifndef MODFS_LOG_H
#define MODFS_LOG_H

typedef enum log_level {
    LOG_LEVEL_ERROR = 3,
    LOG_LEVEL_WARN = 4,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7,
} log_level_t;

/* Current threshold; messages above it are dropped. Default LOG_LEVEL_WARN. */
extern log_level_t log_threshold;

/* Sink: receives one formatted line without trailing newline. Default writes to stderr. */
typedef void (*log_sink_fn)(log_level_t level, const char *line);
void log_set_sink(log_sink_fn sink);
void log_set_level(log_level_t level);
/* Parses "error|warn|info|debug". Returns 0 or -EINVAL. */
int log_level_parse(const char *name, log_level_t *out);

__attribute__((format(printf, 2, 3))) void log_write(log_level_t level, const char *fmt, ...);

#define LOG_AT(level, ...)                                                                                   \
    do {                                                                                                     \
        if ((level) <= log_threshold)                                                                        \
            log_write((level), __VA_ARGS__);                                                                 \
    } while (0)
#define LOG_E(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_W(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_I(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_D(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
