/*
 * TIC fetches, each behind a limiter token (fetch.c).  The scheduler
 * subscribes to the registry: a tunnel that starts waiting for TIC wakes it.
 */
#ifndef AICCUD_FETCH_H
#define AICCUD_FETCH_H

struct daemon;
struct tunnel_rt;

/* Limiter state, and the registry subscription.  0 or -errno. */
int fetch_init(struct daemon *d);
void fetch_shutdown(struct daemon *d);
/*
 * Why waiting TIC tunnels wait, with the seconds left: "waiting for a TIC
 * connection token (next in N s)" and why the bucket started empty (a
 * fresh install, another boot, ...), or the broker's penalty, or a state
 * directory the grant could not be saved in.  For status, aiccuctl start
 * and the log.  Returns the seconds left.
 */
double fetch_wait_reason(const struct daemon *d, char *buf, size_t len);
/*
 * aiccuctl refresh: fetch t's parameters from TIC at the next token (one
 * session with whatever else waits for that account), and restart t only
 * if they changed.  A tunnel that waits for TIC anyway is simply fetched.
 */
void fetch_refresh(struct daemon *d, struct tunnel_rt *t);

#endif
