/* SPDX-License-Identifier: MIT */
/* report.c — sizes for people, and the progress line of long commands (report.h). */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void human_bytes(double b, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (b >= 1024 && u < 4)
        b /= 1024, u++;
    snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
}

void progress_line(bool last, const char *fmt, ...)
{
    static int tty = -1; /* asked once: the answer does not change while a command runs */
    if (tty < 0)
        tty = isatty(STDERR_FILENO) == 1;
    if (!tty)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("\r\033[K", stderr);
    vfprintf(stderr, fmt, ap);
    if (last)
        fputc('\n', stderr);
    fflush(stderr);
    va_end(ap);
}
