/* SPDX-License-Identifier: MIT */
/*
 * cmd_repair.c — `modfs repair`: rebuild a store's index from the logs beside its packs, when
 * modfs refuses to open a store because its index.db is damaged or missing. The old index is
 * moved aside, not deleted; whatever cannot be proven whole from the packs is left out and
 * fetched again on its next use.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static int run_repair(options_t *o, int argc, char **argv)
{
    (void)argv;
    if (argc != o->first_arg) {
        die_msg("repair: takes no arguments (see modfs repair --help)");
        return 2;
    }
    cache_repair_report_t r;
    cache_err_t err = {0};
    if (cache_repair(o->cache.dir, &r, &err) != 0) {
        die_msg("repair %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    printf("store: %s\n", o->cache.dir);
    if (r.moved_aside[0])
        printf("old index moved to: %s\n", r.moved_aside);
    printf("packs read: %u", r.packs);
    if (r.packs_without_log)
        printf(" (%u written before pack logs existed: their objects cannot be restored)", r.packs_without_log);
    printf("\nobjects restored: %llu\n", (unsigned long long)r.objects);
    printf("objects left out (a chunk gone or damaged; fetched again when asked for): %llu\n",
           (unsigned long long)r.objects_skipped);
    printf("damaged or missing chunks: %llu\n", (unsigned long long)r.chunks_bad);
    return 0;
}

const command_t cmd_repair = {
    .name = "repair",
    .args = "",
    .summary = "rebuild the store's index from its packs (when modfs says the index is damaged or missing)",
    .details = "Stop every modfs using the store first. The old index.db is moved aside (index.db.damaged-TIME),\n"
               "never deleted; every chunk restored is read and checked; objects that cannot be proven whole\n"
               "are left out and fetched again on their next use.",
    .opts = OPT_STORE,
    .run = run_repair,
};
