/* SPDX-License-Identifier: MIT */
/*
 * service.h — telling the service manager how `modfs serve` is doing.
 *
 * Under systemd with Type=notify (NOTIFY_SOCKET set), these send READY=1, RELOADING=1,
 * STOPPING=1 and STATUS= lines through libsystemd's sd_notify; anywhere else, and in a build
 * without libsystemd, they do nothing. Main thread only.
 */
#ifndef MODFS_SERVICE_H
#define MODFS_SERVICE_H

/* The fronts are up: systemd may start what depends on modfs. status is shown by systemctl status. */
void service_ready(const char *status);
/* A reload started (SIGHUP); service_ready says it ended. */
void service_reloading(void);
/* Shutdown started. */
void service_stopping(void);

#endif
