/* SPDX-License-Identifier: MIT */
/* modfs.c — the modfs command: picks the subcommand, parses its options, runs it. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const command_t *const commands[] = {&cmd_serve, &cmd_get, &cmd_stat, &cmd_repair};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *to)
{
    fputs("usage: modfs COMMAND [options] [args]\n\n"
          "modfs keeps one store of Go modules and shows it as a GOMODCACHE (FUSE) and as a GOPROXY (HTTP).\n\n"
          "commands:\n",
          to);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(to, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\n'modfs COMMAND --help' lists a command's options.\n", to);
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
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i]->name) != 0)
            continue;
        options_t o;
        int rc = options_parse(commands[i], argc - 1, argv + 1, &o);
        if (rc == 0)
            rc = commands[i]->run(&o, argc - 1, argv + 1);
        else
            rc -= 1000;
        options_dispose(&o);
        return rc;
    }
    die_msg("unknown command %s (see modfs --help)", argv[1]);
    return 2;
}
