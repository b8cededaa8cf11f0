/* SPDX-License-Identifier: MIT */
/*
 * log.c — the one logging function (common.h). The default sink writes one line per message to
 * stderr, one write(2) each so lines from several threads never interleave: "modfs: level:
 * message", or "<priority>message" when stderr is the journal. The threshold is an atomic, so a
 * reload may change it while every thread logs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

_Atomic int modfs_log_threshold = LOG_LEVEL_DEFAULT;

static bool journal_format; /* set once at start, before threads */

const char *modfs_log_level_name(modfs_log_level_t level)
{
    switch (level) {
    case LOG_LEVEL_ERROR:
        return "error";
    case LOG_LEVEL_WARN:
        return "warn";
    case LOG_LEVEL_NOTICE:
        return "notice";
    case LOG_LEVEL_INFO:
        return "info";
    default:
        return "debug";
    }
}

static void stderr_sink(modfs_log_level_t level, const char *line)
{
    char out[2048];
    int n = journal_format ? snprintf(out, sizeof out, "<%d>%s\n", (int)level, line)
                           : snprintf(out, sizeof out, "modfs: %s: %s\n", modfs_log_level_name(level), line);
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
    static const modfs_log_level_t levels[] = {LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO,
                                               LOG_LEVEL_DEBUG};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcmp(name, modfs_log_level_name(levels[i])) == 0) {
            *out = levels[i];
            return 0;
        }
    }
    return -EINVAL;
}

bool modfs_log_detect_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char end;
    if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2)
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    journal_format = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
    return journal_format;
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
