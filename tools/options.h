/* SPDX-License-Identifier: MIT */
/*
 * options.h — the command line shared by every modfs subcommand: one parser, one place where
 * defaults live, per-command help listing only the options that command reads.
 */
#ifndef MODFS_OPTIONS_H
#define MODFS_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "cache.h"
#include "fs.h"
#include "http.h"

/* Which options a command accepts (a bit set). */
enum {
    OPT_STORE = 1 << 0,    /* --cache-dir */
    OPT_UPSTREAM = 1 << 1, /* --upstream --ca-file --list-ttl --notfound-ttl --timeout --retries --sumdb --nosumdb */
    OPT_HTTP = 1 << 2,     /* --listen --tls-listen --tls-cert --tls-key --threads */
    OPT_FS = 1 << 3,       /* --mount --allow-other --fuse-threads --fuse-debug */
};

#define OPTIONS_SUMDB_MAX 16

typedef struct options {
    char *cache_dir_owned;
    const char *sumdb[OPTIONS_SUMDB_MAX]; /* --sumdb values, in order (cache.sumdb points here) */
    size_t nsumdb;
    cache_config_t cache;
    http_config_t http;
    fs_config_t fs;
    const char *write_dir_owned;
    int first_arg; /* index in argv of the first non-option argument */
} options_t;

typedef struct command {
    const char *name;
    const char *args;    /* e.g. "KEY" */
    const char *summary; /* one line */
    const char *details; /* paragraph after the usage line, may be NULL */
    unsigned opts;
    int (*run)(options_t *o, int argc, char **argv);
} command_t;

/* Parses argv for cmd. Returns 0; or prints help (exit 0) / a usage error (exit 2) and returns
 * the exit code + 1000 to say "stop with this code". */
int options_parse(const command_t *cmd, int argc, char **argv, options_t *o);
void options_dispose(options_t *o);
void options_print_help(const command_t *cmd, FILE *to);
/* Prints "modfs: <msg>" to stderr. */
void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
