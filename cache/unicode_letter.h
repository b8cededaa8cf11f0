/* SPDX-License-Identifier: MIT */
/*
 * unicode_letter.h — unicode.IsLetter above ASCII (Unicode 13.0.0, as in Go 1.19).
 *
 * Internal to cache/: modpath.c asks it for the letters that module.fileNameOK allows in zip file
 * names. Pure and thread-safe.
 */
#ifndef MODFS_UNICODE_LETTER_H
#define MODFS_UNICODE_LETTER_H

#include <stdbool.h>
#include <stdint.h>

/* True when r (a code point of 0x80 or more) is a letter for Go's unicode.IsLetter. ASCII is not
 * in the table: callers test letters below 0x80 themselves. */
bool unicode_is_letter_nonascii(uint32_t r);

#endif
