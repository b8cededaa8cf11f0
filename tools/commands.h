/* SPDX-License-Identifier: MIT */
/* commands.h — the subcommands of modfs, one file each. */
#ifndef MODFS_COMMANDS_H
#define MODFS_COMMANDS_H

#include "options.h"

extern const command_t cmd_get;
extern const command_t cmd_stat;
extern const command_t cmd_serve;
extern const command_t cmd_repair;

#endif
