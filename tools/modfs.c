/* SPDX-License-Identifier: MIT */
/* modfs.c — the modfs command: picks the subcommand, reads its configuration, runs it. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

const command_t *const modfs_commands[] = {&cmd_serve, &cmd_get, &cmd_warm, &cmd_stat, &cmd_gc,
                                               &cmd_verify, &cmd_repair, &cmd_config};
const size_t modfs_command_count = sizeof modfs_commands / sizeof modfs_commands[0];

static void usage(FILE *to)
{
    fputs("usage: modfs COMMAND [options] [args]\n\n"
          "modfs keeps one store of Go modules and shows it as a GOMODCACHE (FUSE) and as a GOPROXY (HTTP).\n\n"
          "commands:\n",
          to);
    for (size_t i = 0; i < modfs_command_count; i++)
        fprintf(to, "  %-8s %s\n", modfs_commands[i]->name, modfs_commands[i]->summary);
    fputs("\n'modfs COMMAND --help' lists a command's options; man modfs tells more.\n", to);
}

static int run(const command_t *cmd, int argc, char **argv)
{
    options_t o;
    int rc = options_parse(cmd, argc, argv, &o);
    if (rc == 0)
        rc = cmd->run(&o, argc, argv);
    else
        rc -= 1000;
    options_dispose(&o);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        puts("modfs " MODFS_VERSION);
        return 0;
    }
    modfs_log_detect_journal();
    for (size_t i = 0; i < modfs_command_count; i++)
        if (strcmp(argv[1], modfs_commands[i]->name) == 0)
            return run(modfs_commands[i], argc - 1, argv + 1);
    if (strcmp(argv[1], cmd_scdoc.name) == 0)
        return cmd_scdoc.run(NULL, argc - 1, argv + 1);
    print_error("unknown command %s (see modfs --help)", argv[1]);
    return 2;
}
