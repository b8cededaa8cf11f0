/* SPDX-License-Identifier: MIT */
/* report.h — how the commands show numbers to a person: sizes, and one progress line on a terminal. */
#ifndef MODFS_REPORT_H
#define MODFS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* bytes as "512 B", "1.5 MiB", "20.0 GiB" */
void human_bytes(double bytes, char *out, size_t cap);

/* Redraws the progress line on stderr when it is a terminal (text after "\r", cleared to the end
 * of the line); last ends it with a newline. Does nothing when stderr is not a terminal: logs and
 * CI output get the summary only. */
void progress_line(bool last, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
