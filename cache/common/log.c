/* SPDX-License-Identifier: MIT */
/*
 * log.c — the one logging function (common.h). The default sink writes "modfs: level: message"
 * lines to stderr, one write(2) each so lines from several threads never interleave; the
 * threshold is an atomic, so a reload may change it while every thread logs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

_Atomic int modfs_log_threshold = LOG_LEVEL_WARN;

static const char *level_name(modfs_log_level_t level)
{
    switch (level) {
    case LOG_LEVEL_ERROR:
        return "error";
    case LOG_LEVEL_WARN:
        return "warn";
    case LOG_LEVEL_INFO:
        return "info";
    default:
        return "debug";
    }
}

static void stderr_sink(modfs_log_level_t level, const char *line)
{
    char out[2048];
    int n = snprintf(out, sizeof out, "modfs: %s: %s\n", level_name(level), line);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof out) {
        n = sizeof out - 1;
        out[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, out, (size_t)n);
    (void)w;
}

static modfs_log_sink_fn current_sink = stderr_sink;

void modfs_log_set_sink(modfs_log_sink_fn sink)
{
    current_sink = sink ? sink : stderr_sink;
}

void modfs_log_set_level(modfs_log_level_t level)
{
    atomic_store(&modfs_log_threshold, (int)level);
}

int modfs_log_level_parse(const char *name, modfs_log_level_t *out)
{
    static const struct {
        const char *name;
        modfs_log_level_t level;
    } names[] = {{"error", LOG_LEVEL_ERROR}, {"warn", LOG_LEVEL_WARN}, {"info", LOG_LEVEL_INFO},
                 {"debug", LOG_LEVEL_DEBUG}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -EINVAL;
}

void modfs_log_write(modfs_log_level_t level, const char *fmt, ...)
{
    char line[1900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    current_sink(level, line);
}
