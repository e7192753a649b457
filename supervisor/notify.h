/*
 * systemd's readiness protocol (sd_notify) without libsystemd: datagrams
 * of "KEY=value" lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a
 * path, or "@name" for the abstract namespace).  With no $NOTIFY_SOCKET
 * (not started by systemd with Type=notify) every call does nothing.
 *
 * The parent sends READY=1 once the control socket is open and the
 * tunnels are being started, STATUS= lines as tunnels change ("2 of 3
 * tunnels up"), RELOADING=1 ... READY=1 around a reload, and STOPPING=1
 * when it begins to shut down.
 */
#ifndef AICCUD_NOTIFY_H
#define AICCUD_NOTIFY_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/*
 * Pure: the address in a $NOTIFY_SOCKET value.  0, or -EINVAL (not an
 * absolute path nor "@name"), -ENAMETOOLONG.
 */
int notify_address(const char *value, struct sockaddr_un *sun, socklen_t *len);

/*
 * Send text (one or more "KEY=value" lines) to $NOTIFY_SOCKET.  Returns 1
 * when sent, 0 when $NOTIFY_SOCKET is not set, or -errno.
 */
int notify_send(const char *text);

int notify_ready(void);
int notify_stopping(void);
/* RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it; older ones ignore it). */
int notify_reloading(void);
int notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
