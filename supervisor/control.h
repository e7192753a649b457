/*
 * The control socket: a Unix stream socket, one request line per
 * connection, JSON replies, then the server closes.  The protocol is
 * documented in aiccuctl(8) (dist/aiccuctl.8); in short:
 *
 *   request   one line, words separated by blanks, at most 511 bytes:
 *               version | status [TUNNEL] | limiter | check-config | reload
 *               start|stop|restart [--no-wait] TUNNEL|--all | monitor
 *   reply     one JSON object per line.  The last line carries "ok"
 *             (true or false) and ends the reply; start, stop and restart
 *             may send lines carrying "progress" (and no "ok") before it.
 *             Every line carries "version": CONTROL_VERSION.
 *             monitor: one line per event (events.h), no "ok" line, until
 *             aiccud stops (control_monitor.c).
 *   errors    {"ok":false,"code":CODE,"error":TEXT}, CODE one of usage,
 *             unknown_tunnel, permission, failed, config.
 *
 * Access, two tiers by SO_PEERCRED (primary or supplementary group):
 * root and control_group may do everything; readonly_group only the
 * commands flagged CTLCMD_READONLY (ctlcmd.h).  The socket is 0660 root:
 * control_group, or 0666 when readonly_group is set (one socket cannot
 * belong to two groups); then a peer in neither group is refused every
 * command.  Refusals are logged.
 */
#ifndef AICCUD_CONTROL_H
#define AICCUD_CONTROL_H

#include <jansson.h>

#define CONTROL_VERSION 1

#ifndef AICCUD_VERSION
#define AICCUD_VERSION "0.1.0"
#endif

struct control;
struct daemon;
struct tunnel_rt;

/*
 * Take the instance lock, bind the socket and subscribe to the registry
 * (the start/stop/restart waiters follow its events).  Fails (-EADDRINUSE) when
 * another aiccud holds the lock; *msg then says which.  Needs root for
 * the chown to control_group.
 */
int control_open(struct daemon *d, struct control **out, char *msg, size_t msglen);
void control_close(struct control *c);
/* The JSON object describing the TIC limiter (status, limiter). */
json_t *control_limiter_json(const struct daemon *d);

/* The JSON object describing one tunnel (status). */
json_t *control_tunnel_json(const struct tunnel_rt *t);

#endif
