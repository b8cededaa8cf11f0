/* SPDX-License-Identifier: MIT */
/*
 * cmd_config.c — `modfs config`: the effective configuration and where each value came from.
 *
 * The output is itself a config file (key = value, the origin in a ';' comment), so it can be
 * saved and edited. Unset options are shown commented out. Passwords in upstream URLs are masked
 * as everywhere else, so the output is safe to paste into a bug report.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static int run_config(options_t *o, int argc, char **argv)
{
    (void)argv;
    if (argc != o->first_arg) {
        print_error("config: takes no arguments (see modfs config --help)");
        return 2;
    }
    printf("# modfs %s: the effective configuration (flag > environment > file > default)\n", MODFS_VERSION);
    for (size_t i = 0; i < option_count; i++) {
        const option_spec_t *spec = &option_table[i];
        char value[4096], origin[600], line[4200];
        option_value_format(o, i, value, sizeof value);
        option_origin_describe(o, i, origin, sizeof origin);
        if (spec->flags & OPTF_NOFILE) {
            if (value[0] != '\0')
                printf("# %s: %s (%s)\n", spec->name, value, origin);
            else
                printf("# %s: none\n", spec->name);
            continue;
        }
        if (value[0] == '\0') {
            printf("#%s =\n", spec->name);
            continue;
        }
        snprintf(line, sizeof line, "%s = %s", spec->name, value);
        printf("%-44s ; %s\n", line, origin);
    }
    return 0;
}

const command_t cmd_config = {
    .name = "config",
    .args = "",
    .summary = "print the effective configuration and where each value came from",
    .details = "Takes every option of every command, so the effect of a flag, an environment variable or\n"
               "a config file can be seen before it is used. The output is a valid config file.\n"
               "Example: modfs config --config /etc/modfs/modfs.conf",
    .bit = CMD_CONFIG,
    .accepts = CMD_ALL,
    .run = run_config,
};
