/*
 * The control socket: a Unix stream socket, one request line per
 * connection, JSON replies, then the server closes.  The protocol is
 * documented in aiccuctl(8) (dist/aiccuctl.8); in short:
 *
 *   request   one line, words separated by blanks, at most 511 bytes:
 *               version | status [TUNNEL] | limiter | check-config | reload
 *               start|stop|restart [--no-wait] TUNNEL|--all
 *   reply     one JSON object per line.  The last line carries "ok"
 *             (true or false) and ends the reply; start, stop and restart
 *             may send lines carrying "progress" (and no "ok") before it.
 *             Every line carries "version": CONTROL_VERSION.
 *   errors    {"ok":false,"code":CODE,"error":TEXT}, CODE one of usage,
 *             unknown_tunnel, permission, failed, config.
 *
 * Access: the socket is 0660, owned by root and control_group; the
 * commands that change something (start, stop, restart, reload) are
 * refused, and logged, unless SO_PEERCRED says the peer is root or a
 * member (primary or supplementary) of control_group.
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
