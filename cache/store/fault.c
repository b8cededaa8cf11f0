/* SPDX-License-Identifier: MIT */
/*
 * fault.c — fault points for crash tests (store_i.h: STORE_FAULT), compiled only into builds
 * with tests (-Dtests=true defines MODFS_FAULT_POINTS).
 *
 * MODFS_FAULT=<name> in the environment makes the process SIGKILL itself the first time it
 * reaches the step of that name, so a crash test kills exactly where it says, not wherever a
 * timer happened to land. MODFS_FAULT=<name>:<n> waits for the n-th time. MODFS_FAULT=<name>:<n>:hang
 * stops the thread that reaches the step there for good instead, the rest of the process running
 * on: a test then sees what the process does (or answers) between that step and the next one, and
 * kills it itself. MODFS_FAULT=<name>:<n>:pause stops that thread there for FAULT_PAUSE_S seconds
 * only, then lets it go on: a test widens a window it must act in (a stop with a load under way).
 * Steps of store_put:
 *   chunks-start   the body checked, hashed and its early answer offered; no chunk cut or written
 *   pack-written   chunks appended to the pack, not yet synced, index not committed
 *   pack-sync-begun  a group sync of the packs under way (other ingests may append meanwhile)
 *   pack-synced    chunks durable, index not committed
 *   group-rows     one object's rows are in the open index transaction of a group commit (the
 *                  others of its group before or after it), COMMIT not yet run
 *   before-commit  the rows of every object of the group are in the open index transaction,
 *                  COMMIT not yet run
 *   committed      the index transaction committed, nothing after it done
 * Steps of a maintenance pass (evict.c, compact.c):
 *   evict-before-commit  the victims' rows deleted in the open transaction, not committed
 *   evict-committed      the victims gone from the index; their chunks not yet collected
 *   gc-committed         unused chunks gone from the index; their bytes still in the packs
 *   compact-copied       a pack's live chunks copied and synced; the index still names the old
 *   compact-switched     the index names the copies; the old pack not yet deleted
 * Step of a load of an object into memory (object.c, store_object_load_run):
 *   object-load    the load is claimed and its budget taken, nothing read yet (with :hang, a test
 *                  holds a load under way and sees what else the process answers meanwhile; with
 *                  :pause, it stops the server while the load runs)
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_i.h"

#define FAULT_PAUSE_S 3

void store_fault_point(const char *name)
{
    static _Atomic long hits;
    const char *want = getenv("MODFS_FAULT");
    if (want == NULL)
        return;
    size_t n = strlen(name);
    if (strncmp(want, name, n) != 0 || (want[n] != '\0' && want[n] != ':'))
        return;
    long nth = want[n] == ':' ? strtol(want + n + 1, NULL, 10) : 1;
    long count = atomic_fetch_add(&hits, 1) + 1;
    if (count < nth)
        return;
    if (want[n] == ':' && strstr(want + n, ":hang") != NULL) {
        static const char hang[] = "modfs: fault point reached: this thread stops here\n";
        ssize_t w = write(STDERR_FILENO, hang, sizeof hang - 1);
        (void)w;
        for (;;)
            pause();
    }
    if (want[n] == ':' && strstr(want + n, ":pause") != NULL) {
        if (count != nth)
            return; /* the n-th time only: the step runs as usual after it */
        static const char pausing[] = "modfs: fault point reached: this thread pauses here\n";
        ssize_t w = write(STDERR_FILENO, pausing, sizeof pausing - 1);
        (void)w;
        for (unsigned left = FAULT_PAUSE_S; left > 0;)
            left = sleep(left);
        return;
    }
    static const char msg[] = "modfs: fault point reached: killing myself\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    kill(getpid(), SIGKILL);
    _exit(137); /* not reached */
}
