/* SPDX-License-Identifier: MIT */
/* commands.h — the subcommands of modfs, one file each. */
#ifndef MODFS_COMMANDS_H
#define MODFS_COMMANDS_H

#include "options.h"

extern const command_t cmd_serve;
extern const command_t cmd_get;
extern const command_t cmd_stat;
extern const command_t cmd_warm;
extern const command_t cmd_config;
extern const command_t cmd_repair;
extern const command_t cmd_gc;
extern const command_t cmd_verify;
extern const command_t cmd_scdoc; /* hidden: man page sources for the build */

/* Every visible command, in the order help and the man page list them. */
extern const command_t *const modfs_commands[];
extern const size_t modfs_command_count;

#endif
