/* SPDX-License-Identifier: MIT */
/*
 * service.c — sd_notify for `modfs serve` (see service.h).
 *
 * libsystemd rather than writing the datagram by hand: it handles abstract socket names and
 * credentials the way the running systemd expects, and it is already on every systemd machine.
 */
#include "service.h"

#include <stdio.h>

#ifdef MODFS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static void notify(const char *state)
{
    /* 0 keeps NOTIFY_SOCKET in the environment for a reload's later messages */
    sd_notify(0, state);
}
#else
static void notify(const char *state)
{
    (void)state;
}
#endif

void service_ready(const char *status)
{
    char msg[4200];
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status);
    notify(msg);
}

void service_reloading(void)
{
    notify("RELOADING=1\nSTATUS=reloading the configuration");
}

void service_stopping(void)
{
    notify("STOPPING=1\nSTATUS=stopping: finishing requests in progress");
}
