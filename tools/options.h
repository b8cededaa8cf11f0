/* SPDX-License-Identifier: MIT */
/*
 * options.h — the configuration of every modfs command, driven by one table.
 *
 * Each option is one row of option_table (optable.c): its long flag, which is also its key in
 * the config file, its environment variable, its type (parser, validator, printer), its default,
 * the commands that take it, whether SIGHUP reloads it, and its help text. Flag parsing, the
 * environment, the config file, --help, `modfs config` and the man pages all walk that table, so
 * they cannot disagree. Adding an option is one row plus the field of options_t it sets.
 *
 * Precedence: flag > environment > config file > default. Every value remembers where it came
 * from (option_origin_t), which `modfs config` prints.
 *
 * Errors are one line naming the place and the option, ready to print after "modfs: ":
 *   /etc/modfs/modfs.conf:12: list-ttl: not a number from 0 to 31536000: "1m"
 *   MODFS_LIST_TTL: list-ttl: not a number from 0 to 31536000: "1m"
 *   --list-ttl: not a number from 0 to 31536000: "1m"
 */
#ifndef MODFS_OPTIONS_H
#define MODFS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cache.h"
#include "fs.h"
#include "http.h"

/* Commands, as bits: which commands take an option. */
enum {
    CMD_SERVE = 1 << 0,
    CMD_GET = 1 << 1,
    CMD_STAT = 1 << 2,
    CMD_WARM = 1 << 3,
    CMD_CONFIG = 1 << 4,
    CMD_REPAIR = 1 << 5,
    CMD_GC = 1 << 6,
    CMD_VERIFY = 1 << 7,
    CMD_ALL = (1 << 8) - 1,
    /* the commands that open a store (and so need --cache-dir) */
    CMD_STORE = CMD_SERVE | CMD_GET | CMD_STAT | CMD_WARM | CMD_REPAIR | CMD_GC | CMD_VERIFY,
};

/* Option flags. */
enum {
    OPTF_RELOAD = 1 << 0, /* SIGHUP applies a new value to a running `modfs serve` */
    OPTF_NOFILE = 1 << 1, /* not a config-file key (--config itself) */
    OPTF_REPEAT = 1 << 2, /* a comma-separated list that a repeated flag extends (--deny a --deny b
                             is --deny a,b); the environment and the file give the whole list */
};

typedef struct option_spec option_spec_t;

/* A value type: text to field, and field back to text. */
typedef struct option_type {
    const char *name; /* for the man page: "seconds", "path", ... */
    /* Parses text into the field at field (strings are copied into *owned, which the caller frees).
     * Returns 0 or -EINVAL with a reason in why (no option name: the caller adds the place). An
     * empty text means "unset" for the types that allow it. */
    int (*parse)(const option_spec_t *spec, const char *text, void *field, char **owned, char *why, size_t cap);
    /* The value as a config file would give it; "" for unset. Secrets are masked. */
    void (*format)(const option_spec_t *spec, const void *field, char *out, size_t cap);
} option_type_t;

extern const option_type_t opt_string, opt_path, opt_address, opt_upstream, opt_s3url, opt_uint, opt_int,
    opt_seconds_ms, opt_size, opt_bool, opt_level, opt_globs, opt_rules, opt_sumdbs;

struct option_spec {
    const char *name;          /* long flag and config-file key */
    const char *env;           /* environment variable */
    const char *arg;           /* metavariable of the flag's value in help ("SECONDS"); NULL for a switch */
    const option_type_t *type;
    size_t offset;             /* of the field in options_t */
    long long min, max;        /* bounds of numbers */
    const char *def;           /* default, in the type's text form; NULL: unset or computed (def_fn) */
    const char *(*def_fn)(char *buf, size_t cap); /* a default computed at start; NULL when none */
    const char *def_doc;       /* the default as documentation words, when def alone would mislead */
    unsigned cmds;             /* CMD_* that take it */
    unsigned flags;            /* OPTF_* */
    const char *help;          /* one line for --help */
    const char *doc;           /* more words for the man page; NULL when the line says it all */
};

extern const option_spec_t option_table[];
extern const size_t option_count;
#define OPTION_MAX 48 /* rows the table may hold (options_t keeps per-row state) */

typedef enum option_source {
    OPT_FROM_DEFAULT,
    OPT_FROM_FILE,
    OPT_FROM_ENV,
    OPT_FROM_FLAG,
} option_source_t;

typedef struct option_origin {
    option_source_t source;
    int line; /* OPT_FROM_FILE */
} option_origin_t;

typedef struct options {
    /* ---- the fields the table sets ---- */
    cache_config_t cache;
    http_config_t http;
    fs_config_t fs;
    int log_level;       /* modfs_log_level_t */
    const char *config;  /* the config file read; NULL when none */
    unsigned jobs;       /* warm: fetches in parallel */
    bool dry_run;        /* gc: count, change nothing */
    bool heal;           /* verify: drop what is damaged */
    bool sumdb_check;    /* verify: check stored modules against the checksum database too */

    /* ---- bookkeeping ---- */
    option_origin_t origin[OPTION_MAX];
    char *owned[OPTION_MAX];  /* the string value of each row, owned here */
    char *write_dir_owned;
    int first_arg;            /* index in argv of the first non-option argument */
} options_t;

typedef struct command {
    const char *name;
    const char *args;    /* e.g. "KEY" */
    const char *summary; /* one line */
    const char *details; /* paragraph after the usage line, may be NULL */
    unsigned bit;        /* its CMD_* bit; 0 for a hidden command */
    unsigned accepts;    /* the CMD_* bits whose options it takes (config takes everyone's) */
    int (*run)(options_t *o, int argc, char **argv);
} command_t;

/*
 * Builds cmd's configuration from argv (argv[0] is the command name), the environment, the
 * config file (--config or MODFS_CONFIG) and the defaults. Returns 0; or an exit code + 1000 to
 * say "stop with this code": 1000 after --help (printed to stdout), 1002 after a usage or
 * configuration error (printed as one "modfs: ..." line on stderr). o is filled either way and
 * must be disposed.
 */
int options_parse(const command_t *cmd, int argc, char **argv, options_t *o);

/*
 * The same for a reload: re-reads the environment and the config file with the same argv, and
 * returns 0 or -EINVAL with the one-line error in err (nothing printed).
 */
int options_load(const command_t *cmd, int argc, char **argv, options_t *o, cache_err_t *err);

void options_dispose(options_t *o);
void options_print_help(const command_t *cmd, FILE *to);

/* The row named name, NULL when none. */
const option_spec_t *option_find(const char *name);
/* Where row i's value came from, as words: "default", "file PATH:LINE", "env NAME", "flag --NAME". */
void option_origin_describe(const options_t *o, size_t i, char *out, size_t cap);
/* Row i's value as text (masked where secret), "" when unset. */
void option_value_format(const options_t *o, size_t i, char *out, size_t cap);
/* The default of row i as documentation words. */
const char *option_default_doc(size_t i, char *buf, size_t cap);

/* Prints "modfs: <msg>" to stderr. */
void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
