/* SPDX-License-Identifier: MIT */
/*
 * cmd_scdoc.c — `modfs scdoc TEMPLATE` (hidden): the man page sources, for the build.
 *
 * The hand-written scdoc of a man page (in docs/, NAME.scd) holds the prose; wherever a line is one of
 * the markers below, this command writes what the option table and the command list say, so
 * the man pages describe exactly the options the binary takes. meson runs it and then scdoc.
 *   @COMMANDS@      every command, its arguments, summary and details
 *   @OPTIONS@       every option: flag, value, help, default, variable, key, commands, reload
 *   @CONFIG_KEYS@   every config-file key (modfs.conf(5))
 *   @ENVIRONMENT@   every environment variable
 * and @VERSION@ anywhere in a line becomes the version.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

/* Writes s with scdoc's markup characters escaped. */
static void put(const char *s)
{
    for (; *s; s++) {
        if (*s == '*' || *s == '_' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
}

static void put_commands_of(const option_spec_t *spec)
{
    bool first = true;
    for (size_t c = 0; c < modfs_command_count; c++) {
        if (!(spec->cmds & modfs_commands[c]->bit) || modfs_commands[c]->bit == CMD_CONFIG)
            continue;
        printf("%s%s", first ? "" : ", ", modfs_commands[c]->name);
        first = false;
    }
    if (first)
        printf("config");
}

static void put_facts(size_t i, bool as_key)
{
    const option_spec_t *spec = &option_table[i];
    char buf[128];
    const char *def = option_default_doc(i, buf, sizeof buf);
    fputs("\t", stdout);
    if (def != NULL) {
        fputs("Default: ", stdout);
        put(def);
        fputs(". ", stdout);
    }
    if (as_key) {
        printf("Flag: *--%s*; environment: *", spec->name);
        put(spec->env);
        fputs("*.", stdout);
    } else {
        fputs("Environment: *", stdout);
        put(spec->env);
        fputs("*", stdout);
        if (!(spec->flags & OPTF_NOFILE))
            printf("; config key: *%s*", spec->name);
        fputs(".", stdout);
    }
    fputs(" Used by: ", stdout);
    put_commands_of(spec);
    fputs(".", stdout);
    if (spec->flags & OPTF_REPEAT)
        printf(" Repeatable: each *--%s* flag adds to the list; the environment variable and the config key "
               "give the whole list, comma-separated.",
               spec->name);
    if (spec->flags & OPTF_RELOAD)
        fputs(" SIGHUP applies a new value to a running server.", stdout);
    fputs("\n\n", stdout);
}

static void put_option(size_t i, bool as_key)
{
    const option_spec_t *spec = &option_table[i];
    if (as_key) {
        printf("*%s* = ", spec->name);
        if (spec->arg != NULL) {
            fputs("_", stdout);
            put(spec->arg);
            fputs("_\n", stdout);
        } else {
            fputs("_true_|_false_\n", stdout);
        }
    } else {
        printf("*--%s*", spec->name);
        if (spec->arg != NULL) {
            fputs(" _", stdout);
            put(spec->arg);
            fputs("_", stdout);
        }
        fputs("\n", stdout);
    }
    fputs("\t", stdout);
    put(spec->help);
    fputs(".", stdout);
    if (spec->doc != NULL) {
        fputs(" ", stdout);
        put(spec->doc);
    }
    fputs("\n\n", stdout);
    put_facts(i, as_key);
}

static void put_command(const command_t *cmd)
{
    printf("*modfs %s* [_options_]%s", cmd->name, cmd->args[0] ? " " : "");
    if (cmd->args[0]) {
        fputs("_", stdout);
        put(cmd->args);
        fputs("_", stdout);
    }
    fputs("\n\t", stdout);
    put(cmd->summary);
    fputs(".\n\n", stdout);
    if (cmd->details != NULL) {
        /* details are laid out for a terminal: keep their lines */
        fputs("```\n", stdout);
        fputs(cmd->details, stdout);
        fputs("\n```\n\n", stdout);
    }
    fputs("\tOptions:", stdout);
    for (size_t i = 0; i < option_count; i++)
        if (option_table[i].cmds & cmd->accepts)
            printf(" *--%s*", option_table[i].name);
    fputs(", *--help*.\n\n", stdout);
}

static int run_scdoc(options_t *o, int argc, char **argv)
{
    (void)o;
    if (argc != 2) {
        print_error("scdoc: expected one TEMPLATE");
        return 2;
    }
    FILE *in = fopen(argv[1], "re");
    if (in == NULL) {
        print_error("scdoc: %s: %s", argv[1], strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0) {
        if (strcmp(line, "@COMMANDS@\n") == 0) {
            for (size_t c = 0; c < modfs_command_count; c++)
                put_command(modfs_commands[c]);
        } else if (strcmp(line, "@OPTIONS@\n") == 0 || strcmp(line, "@CONFIG_KEYS@\n") == 0) {
            bool as_key = line[1] == 'C';
            for (size_t i = 0; i < option_count; i++)
                if (!as_key || !(option_table[i].flags & OPTF_NOFILE))
                    put_option(i, as_key);
        } else if (strcmp(line, "@ENVIRONMENT@\n") == 0) {
            for (size_t i = 0; i < option_count; i++) {
                fputs("*", stdout);
                put(option_table[i].env);
                printf("*\n\tThe same as *--%s*.\n\n", option_table[i].name);
            }
        } else {
            for (const char *p = line; *p; p++) {
                if (strncmp(p, "@VERSION@", 9) == 0) {
                    fputs(MODFS_VERSION, stdout);
                    p += 8;
                } else {
                    putchar(*p);
                }
            }
        }
    }
    free(line);
    bool bad = ferror(in);
    fclose(in);
    if (bad || fflush(stdout) != 0) {
        print_error("scdoc: read or write error");
        return 1;
    }
    return 0;
}

const command_t cmd_scdoc = {
    .name = "scdoc",
    .args = "TEMPLATE",
    .summary = "write a man page's scdoc source, its option sections generated from the option table",
    .bit = 0,
    .accepts = 0,
    .run = run_scdoc,
};
