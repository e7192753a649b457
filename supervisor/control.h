/*
 * The control socket: a Unix stream socket, one request line per
 * connection, one JSON reply (then the server closes).  Requests:
 *   status [TUNNEL]   start TUNNEL   stop TUNNEL   limiter
 * Replies: {"version":1,"ok":true,...} or {"version":1,"ok":false,
 * "code":"usage|unknown_tunnel|permission|failed","error":"..."}.
 * start and stop reply once the tunnel is up/stopped or has failed.
 */
#ifndef AICCUD_CONTROL_H
#define AICCUD_CONTROL_H

#include <jansson.h>

#define CONTROL_VERSION 1

struct control;
struct daemon;
struct tunnel_rt;

/*
 * Take the instance lock and bind the socket.  Fails (-EADDRINUSE) when
 * another aiccud holds the lock; *msg then says which.
 */
int control_open(struct daemon *d, struct control **out, char *msg, size_t msglen);
void control_close(struct control *c);
/* A tunnel changed state: answer the requests waiting for it.  c may be NULL. */
void control_tunnel_changed(struct control *c, struct tunnel_rt *t);

/* The JSON object describing the TIC limiter (status, limiter). */
json_t *control_limiter_json(const struct daemon *d);

/* The JSON object describing one tunnel (status). */
json_t *control_tunnel_json(const struct tunnel_rt *t);

#endif
