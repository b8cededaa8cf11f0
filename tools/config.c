/* SPDX-License-Identifier: MIT */
/*
 * config.c — from defaults, the config file, the environment and flags to one options_t.
 *
 * The layers are applied in rising precedence (default, file, environment, flag), each through
 * the row's own parser, and each value keeps its origin. Flags are read first, though applied
 * last, because --config names the file.
 *
 * The file is INI as libinih reads it ("key = value", '#' or ';' comments, no sections): a format
 * every operator has edited (systemd units, php.ini, git config), with a small, long-lived
 * parser packaged by Debian, and nothing in it that changes meaning by accident the way YAML's
 * unquoted "no" or "0755" do. inih as Debian builds it does not pass line numbers to the
 * handler, so the reader function counts lines itself: inih asks it for one line per call. A
 * line longer than inih's buffer would be split in two calls; the reader refuses such a line
 * rather than let the count drift. An indented line continues the previous value in inih, which
 * here reads as that key set twice, an error that names both lines.
 */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define OPT_VAL_BASE 1000 /* getopt's val for row i is OPT_VAL_BASE + i */
#define OPT_VAL_HELP 999

void print_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("modfs: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const option_spec_t *option_find(const char *name)
{
    for (size_t i = 0; i < option_count; i++)
        if (strcmp(option_table[i].name, name) == 0)
            return &option_table[i];
    return NULL;
}

static bool takes(const command_t *cmd, const option_spec_t *spec)
{
    return (spec->cmds & cmd->accepts) != 0;
}

/* Parses text into row i of o; on failure err gets "<place>: <why>". */
static int apply(options_t *o, size_t i, const char *text, option_origin_t origin, const char *place,
                 cache_err_t *err)
{
    const option_spec_t *spec = &option_table[i];
    char why[400];
    if (spec->type->parse(spec, text, (char *)o + spec->offset, &o->owned[i], why, sizeof why) != 0)
        return cache_err_set(err, -EINVAL, "%s: %s", place, why);
    o->origin[i] = origin;
    return 0;
}

static int apply_defaults(options_t *o, cache_err_t *err)
{
    for (size_t i = 0; i < option_count; i++) {
        const option_spec_t *spec = &option_table[i];
        char buf[4096];
        const char *def = spec->def != NULL ? spec->def : spec->def_fn != NULL ? spec->def_fn(buf, sizeof buf) : NULL;
        if (def == NULL)
            continue;
        char place[128];
        snprintf(place, sizeof place, "default of %s", spec->name);
        int rc = apply(o, i, def, (option_origin_t){OPT_FROM_DEFAULT, 0}, place, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- the config file ---- */

typedef struct file_ctx {
    FILE *f;
    const char *path;
    options_t *o;
    char *line;
    size_t line_cap;
    int lineno;         /* the line inih is working on */
    int set_at[OPTION_MAX];
    int err_line;       /* 0 while no error */
    cache_err_t err;
} file_ctx_t;

static char *file_read_line(char *str, int num, void *stream)
{
    file_ctx_t *ctx = stream;
    ssize_t n = getline(&ctx->line, &ctx->line_cap, ctx->f);
    if (n < 0)
        return NULL;
    ctx->lineno++;
    if (n >= num - 1 && !(n == num - 1 && ctx->line[n - 1] == '\n')) {
        if (ctx->err_line == 0) {
            ctx->err_line = ctx->lineno;
            cache_err_set(&ctx->err, -EINVAL, "%s:%d: line longer than %d bytes", ctx->path, ctx->lineno, num - 2);
        }
        snprintf(str, (size_t)num, "\n");
        return str;
    }
    memcpy(str, ctx->line, (size_t)n + 1);
    return str;
}

/* Records the first error of the file, at the current line; returns 0 for inih ("stop liking this line"). */
__attribute__((format(printf, 2, 3))) static int file_error(file_ctx_t *ctx, const char *fmt, ...)
{
    if (ctx->err_line == 0) {
        char what[300];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        ctx->err_line = ctx->lineno;
        cache_err_set(&ctx->err, -EINVAL, "%s:%d: %s", ctx->path, ctx->lineno, what);
    }
    return 0;
}

static int file_on_value(void *user, const char *section, const char *name, const char *value)
{
    file_ctx_t *ctx = user;
    if (ctx->err_line != 0)
        return 1; /* the first error is the one reported */
    if (section[0] != '\0')
        return file_error(ctx, "options are not grouped in sections: remove [%s]", section);
    const option_spec_t *spec = option_find(name);
    if (spec == NULL)
        return file_error(ctx, "unknown option \"%s\" (modfs config lists them all)", name);
    size_t i = (size_t)(spec - option_table);
    if (spec->flags & OPTF_NOFILE)
        return file_error(ctx, "%s cannot be set in a config file", name);
    if (ctx->set_at[i] != 0)
        return file_error(ctx, "%s: set twice (first on line %d; an indented line continues the one before)", name,
                          ctx->set_at[i]);
    ctx->set_at[i] = ctx->lineno;
    char place[400];
    snprintf(place, sizeof place, "%s:%d: %s", ctx->path, ctx->lineno, name);
    if (apply(ctx->o, i, value, (option_origin_t){OPT_FROM_FILE, ctx->lineno}, place, &ctx->err) != 0) {
        ctx->err_line = ctx->lineno;
        return 0;
    }
    return 1;
}

static int apply_file(options_t *o, const char *path, cache_err_t *err)
{
    file_ctx_t ctx = {.path = path, .o = o};
    ctx.f = fopen(path, "re");
    if (ctx.f == NULL)
        return cache_err_set(err, -errno, "config file %s: %s", path, strerror(errno));
    int rc = ini_parse_stream(file_read_line, &ctx, file_on_value, &ctx);
    bool read_error = ferror(ctx.f);
    fclose(ctx.f);
    free(ctx.line);
    if (read_error)
        return cache_err_set(err, -EIO, "config file %s: read error", path);
    if (rc == -2)
        return cache_err_set(err, -ENOMEM, "config file %s: out of memory", path);
    if (rc > 0 && (ctx.err_line == 0 || rc < ctx.err_line))
        return cache_err_set(err, -EINVAL, "%s:%d: expected \"key = value\", a comment or an empty line", path, rc);
    if (ctx.err_line != 0) {
        *err = ctx.err;
        return -EINVAL;
    }
    return 0;
}

/* ---- environment and flags ---- */

static int apply_env(options_t *o, cache_err_t *err)
{
    for (size_t i = 0; i < option_count; i++) {
        const option_spec_t *spec = &option_table[i];
        const char *v = getenv(spec->env);
        if (v == NULL || v[0] == '\0' || strcmp(spec->name, "config") == 0)
            continue;
        char place[128];
        snprintf(place, sizeof place, "%s: %s", spec->env, spec->name);
        int rc = apply(o, i, v, (option_origin_t){OPT_FROM_ENV, 0}, place, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct pending_flag {
    size_t row;
    const char *value;
} pending_flag_t;

/* Reads argv into flags (applied later); *help when --help was given. */
static int read_flags(const command_t *cmd, int argc, char **argv, pending_flag_t *flags, size_t *nflags,
                      bool *help, options_t *o, cache_err_t *err)
{
    struct option longopts[OPTION_MAX + 2];
    size_t n = 0;
    for (size_t i = 0; i < option_count; i++) {
        if (!takes(cmd, &option_table[i]))
            continue;
        longopts[n++] = (struct option){option_table[i].name,
                                        option_table[i].arg != NULL ? required_argument : optional_argument, NULL,
                                        (int)(OPT_VAL_BASE + i)};
    }
    longopts[n++] = (struct option){"help", no_argument, NULL, OPT_VAL_HELP};
    memset(&longopts[n], 0, sizeof longopts[n]);
    optind = 0; /* GNU: start over (a reload parses the same argv again) */
    opterr = 0;
    *nflags = 0;
    *help = false;
    int c;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (c == 'h' || c == OPT_VAL_HELP) {
            *help = true;
            continue;
        }
        if (c == ':')
            return cache_err_set(err, -EINVAL, "%s: option %s needs a value (see modfs %s --help)", cmd->name,
                                 argv[optind - 1], cmd->name);
        if (c == '?')
            return cache_err_set(err, -EINVAL, "%s: unknown option %s (see modfs %s --help)", cmd->name,
                                 argv[optind - 1], cmd->name);
        size_t row = (size_t)(c - OPT_VAL_BASE);
        /* a switch given bare means true; --allow-other=false overrides a file's true */
        flags[(*nflags)++] = (pending_flag_t){row, optarg != NULL ? optarg : "true"};
    }
    o->first_arg = optind;
    return 0;
}

static int load(const command_t *cmd, int argc, char **argv, options_t *o, bool *help, cache_err_t *err)
{
    memset(o, 0, sizeof *o);
    cache_config_init(&o->cache);
    pending_flag_t *flags = calloc((size_t)argc + 1, sizeof *flags);
    if (flags == NULL)
        return cache_err_set(err, -ENOMEM, "out of memory");
    size_t nflags = 0;
    int rc = read_flags(cmd, argc, argv, flags, &nflags, help, o, err);
    if (rc != 0 || *help)
        goto out;
    if ((rc = apply_defaults(o, err)) != 0)
        goto out;
    /* the file first, though --config is a flag: it names the file */
    size_t config_row = (size_t)(option_find("config") - option_table);
    const char *file = getenv("MODFS_CONFIG");
    option_origin_t file_origin = {OPT_FROM_ENV, 0};
    for (size_t f = 0; f < nflags; f++) {
        if (flags[f].row == config_row) {
            file = flags[f].value;
            file_origin.source = OPT_FROM_FLAG;
        }
    }
    if (file != NULL && file[0] != '\0') {
        if ((rc = apply(o, config_row, file, file_origin, "--config", err)) != 0)
            goto out;
        if ((rc = apply_file(o, o->config, err)) != 0)
            goto out;
    }
    if ((rc = apply_env(o, err)) != 0)
        goto out;
    for (size_t f = 0; f < nflags; f++) {
        size_t row = flags[f].row;
        char place[128];
        snprintf(place, sizeof place, "--%s", option_table[row].name);
        /* a repeatable list: a second flag extends what the first set (not the file's value) */
        char *joined = NULL;
        const char *value = flags[f].value;
        if ((option_table[row].flags & OPTF_REPEAT) && o->origin[row].source == OPT_FROM_FLAG &&
            o->owned[row] != NULL && value[0] != '\0') {
            if (asprintf(&joined, "%s,%s", o->owned[row], value) < 0) {
                rc = cache_err_set(err, -ENOMEM, "out of memory");
                goto out;
            }
            value = joined;
        }
        rc = apply(o, row, value, (option_origin_t){OPT_FROM_FLAG, 0}, place, err);
        free(joined);
        if (rc != 0)
            goto out;
    }
    if (o->cache.dir == NULL && (cmd->accepts & CMD_STORE))
        rc = cache_err_set(err, -EINVAL, "no --cache-dir given and neither CACHE_DIRECTORY, XDG_CACHE_HOME nor HOME is set");
out:
    free(flags);
    return rc;
}

int options_load(const command_t *cmd, int argc, char **argv, options_t *o, cache_err_t *err)
{
    bool help;
    return load(cmd, argc, argv, o, &help, err);
}

int options_parse(const command_t *cmd, int argc, char **argv, options_t *o)
{
    bool help = false;
    cache_err_t err = {0};
    if (load(cmd, argc, argv, o, &help, &err) != 0) {
        print_error("%s", err.msg);
        return 1002;
    }
    if (help) {
        options_print_help(cmd, stdout);
        return 1000;
    }
    modfs_log_set_level((modfs_log_level_t)o->log_level);
    return 0;
}

void options_dispose(options_t *o)
{
    for (size_t i = 0; i < OPTION_MAX; i++)
        free(o->owned[i]);
    free(o->write_dir_owned);
    memset(o, 0, sizeof *o);
}

/* ---- describing values ---- */

void option_origin_describe(const options_t *o, size_t i, char *out, size_t cap)
{
    const option_origin_t *or = &o->origin[i];
    switch (or->source) {
    case OPT_FROM_DEFAULT:
        snprintf(out, cap, "default");
        break;
    case OPT_FROM_FILE:
        snprintf(out, cap, "file %s:%d", o->config != NULL ? o->config : "?", or->line);
        break;
    case OPT_FROM_ENV:
        snprintf(out, cap, "env %s", option_table[i].env);
        break;
    case OPT_FROM_FLAG:
        snprintf(out, cap, "flag --%s", option_table[i].name);
        break;
    }
}

void option_value_format(const options_t *o, size_t i, char *out, size_t cap)
{
    const option_spec_t *spec = &option_table[i];
    spec->type->format(spec, (const char *)o + spec->offset, out, cap);
}

const char *option_default_doc(size_t i, char *buf, size_t cap)
{
    const option_spec_t *spec = &option_table[i];
    if (spec->def_doc != NULL)
        return spec->def_doc;
    if (spec->def != NULL) {
        snprintf(buf, cap, "%s", spec->def);
        return buf;
    }
    return NULL;
}

void options_print_help(const command_t *cmd, FILE *to)
{
    fprintf(to, "usage: modfs %s [options]%s%s\n\n%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
            cmd->summary);
    if (cmd->details)
        fprintf(to, "\n%s\n", cmd->details);
    fputs("\noptions (each also an environment variable and a config-file key; see modfs config):\n", to);
    for (size_t i = 0; i < option_count; i++) {
        const option_spec_t *spec = &option_table[i];
        if (!takes(cmd, spec))
            continue;
        char left[64], buf[64];
        snprintf(left, sizeof left, "--%s%s%s", spec->name, spec->arg ? " " : "", spec->arg ? spec->arg : "");
        const char *def = option_default_doc(i, buf, sizeof buf);
        fprintf(to, "  %-24s %s\n  %-24s [%s%s%s%s%s]\n", left, spec->help, "", spec->env, def ? "; default " : "",
                def ? def : "", spec->flags & OPTF_REPEAT ? "; repeatable" : "",
                spec->flags & OPTF_RELOAD ? "; SIGHUP reloads it" : "");
    }
    fputs("  --help                   show this help\n", to);
}
