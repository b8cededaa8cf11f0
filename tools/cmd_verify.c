/* SPDX-License-Identifier: MIT */
/*
 * cmd_verify.c — `modfs verify`: read every chunk of the store and check every hash (the
 * checksum of the stored bytes and the SHA-256 address of the raw bytes). A damaged chunk is
 * dropped with the objects using it, which are fetched again on their next use (--heal=false
 * only reports). The exit status says whether the store was clean: 0 clean, 3 damage found,
 * 1 the check could not run.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report.h"

#define EXIT_DAMAGED 3

static void show_progress(void *arg, uint64_t done, uint64_t total)
{
    (void)arg;
    progress_line(false, "verify: %llu/%llu chunks (%llu%%)", (unsigned long long)done, (unsigned long long)total,
                  (unsigned long long)(total ? done * 100 / total : 100));
}

static int run_verify(options_t *o, int argc, char **argv)
{
    (void)argv;
    if (argc != o->first_arg) {
        print_error("verify: takes no arguments (see modfs verify --help)");
        return 2;
    }
    o->cache.upstream = "off"; /* what is dropped is fetched by whoever asks for it next */
    o->cache.must_exist = true;
    cache_t *c = NULL;
    cache_err_t err = {0};
    if (cache_open(&o->cache, &c, &err) != 0) {
        print_error("cannot open store %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    uint64_t checked = 0, damaged = 0;
    int rc = cache_verify(c, o->heal, &checked, &damaged, show_progress, NULL, &err);
    progress_line(true, "verify: done");
    cache_close(c);
    if (rc != 0) {
        print_error("verify %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    printf("store: %s\n", o->cache.dir);
    printf("chunks checked: %llu\n", (unsigned long long)checked);
    printf("chunks damaged: %llu\n", (unsigned long long)damaged);
    if (damaged == 0) {
        printf("the store is sound\n");
        return 0;
    }
    printf(o->heal ? "damaged chunks dropped with the objects using them: they are fetched again on their next use\n"
                   : "nothing changed (--heal=false); run modfs verify again to drop them\n");
    return EXIT_DAMAGED;
}

const command_t cmd_verify = {
    .name = "verify",
    .args = "",
    .summary = "read every chunk and check every hash; drop what is damaged (exit 3 if anything was)",
    .details = "Exit status: 0 every chunk sound, 3 damage found (dropped unless --heal=false; the objects\n"
               "using it are fetched again on their next use), 1 the check could not run.\n"
               "It may run beside a modfs serve on the same store.",
    .bit = CMD_VERIFY,
    .accepts = CMD_VERIFY,
    .run = run_verify,
};
