/* SPDX-License-Identifier: MIT */
/*
 * cmd_verify.c — `modfs verify`: read every chunk of the store and check every hash (the
 * checksum of the stored bytes and the SHA-256 address of the raw bytes). A damaged chunk is
 * dropped with the objects using it, which are fetched again on their next use (--heal=false
 * only reports). The exit status says whether the store was clean: 0 clean, 3 damage found,
 * 1 the check could not run.
 *
 * --sumdb-check then also proves every stored .mod and .zip against the checksum database again,
 * as at its ingest (cache_sumdb_recheck): each one the database does not vouch for is listed, and
 * the exit status is 4 (over 3: a module that is not what the ecosystem agreed on is worse than a
 * damaged chunk, which is fetched again); nothing is dropped. Without it, verify opens the store
 * with no database at all, so that it never talks to one.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report.h"

#define EXIT_DAMAGED 3
#define EXIT_REFUSED 4

static void show_sumdb_progress(void *arg, uint64_t done, uint64_t total)
{
    (void)arg;
    progress_line(false, "verify: checksum database: %llu/%llu modules", (unsigned long long)done,
                  (unsigned long long)total);
}

static void show_refused(void *arg, const modkey_t *key, int reason, const char *why)
{
    (void)arg;
    progress_line(true, "verify: checksum database: checking");
    printf("refused by the checksum database (%s): %s: %s\n", cache_sumdb_reason_name(reason), key->escaped, why);
}

/* Checks the stored modules against the checksum database; the exit status. */
static int sumdb_check(options_t *o, cache_t *c)
{
    cache_sumdb_recheck_t r;
    cache_err_t err = {0};
    int rc = cache_sumdb_recheck(c, show_refused, NULL, show_sumdb_progress, NULL, &r, &err);
    progress_line(true, "verify: checksum database: done");
    if (rc != 0) {
        print_error("verify %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    uint64_t refused = 0;
    for (int i = 0; i < CACHE_SUMDB_REASONS; i++)
        refused += r.refused[i];
    printf("modules checked against the checksum database: %llu\n", (unsigned long long)r.verified);
    printf("modules exempt (--nosumdb, --private, --sumdb off): %llu\n", (unsigned long long)r.exempt);
    printf("modules refused by the checksum database: %llu\n", (unsigned long long)refused);
    if (r.unchecked > 0) {
        printf("modules not checked (the database could not be asked): %llu\n", (unsigned long long)r.unchecked);
        print_error("verify: %s", err.msg);
    }
    return refused > 0 ? EXIT_REFUSED : r.unchecked > 0 ? 1 : 0;
}

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
    if (!o->sumdb_check) {
        o->cache.upstream = "off"; /* what is dropped is fetched by whoever asks for it next */
        o->cache.sumdb = "off";
    }
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
    if (rc != 0) {
        cache_close(c);
        print_error("verify %s: %s", o->cache.dir, err.msg);
        return 1;
    }
    printf("store: %s\n", o->cache.dir);
    printf("chunks checked: %llu\n", (unsigned long long)checked);
    printf("chunks damaged: %llu\n", (unsigned long long)damaged);
    int status = 0;
    if (damaged == 0) {
        printf("the store is sound\n");
    } else {
        printf(o->heal ? "damaged chunks dropped with the objects using them: they are fetched again on their next "
                         "use\n"
                       : "nothing changed (--heal=false); run modfs verify again to drop them\n");
        status = EXIT_DAMAGED;
    }
    if (o->sumdb_check) {
        int s = sumdb_check(o, c);
        if (s == EXIT_REFUSED || (s != 0 && status == 0))
            status = s;
    }
    cache_close(c);
    return status;
}

const command_t cmd_verify = {
    .name = "verify",
    .args = "",
    .summary = "read every chunk and check every hash; drop what is damaged (exit 3 if anything was)",
    .details = "Exit status: 0 every chunk sound, 3 damage found (dropped unless --heal=false; the objects\n"
               "using it are fetched again on their next use), 4 with --sumdb-check: a stored module the\n"
               "checksum database does not vouch for (listed, not dropped), 1 the check could not run.\n"
               "It may run beside a modfs serve on the same store.",
    .bit = CMD_VERIFY,
    .accepts = CMD_VERIFY,
    .run = run_verify,
};
