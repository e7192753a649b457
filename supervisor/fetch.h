/*
 * TIC fetches, each behind a limiter token (fetch.c).  The scheduler
 * subscribes to the registry: a tunnel that starts waiting for TIC wakes it.
 */
#ifndef AICCUD_FETCH_H
#define AICCUD_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ipc.h"

struct daemon;
struct limiter_status;
struct tunnel_rt;

/* The fetcher's phase, the state of the fetcher -> parent message table. */
enum fetch_phase {
	FETCH_PHASE_RESULTS = 0, /* asked: per-tunnel results, then the session's outcome */
	FETCH_PHASE_DONE,        /* the outcome came: nothing more but its exit */
};
/* The fetcher -> parent message table (n entries), for the tests. */
const struct ipc_route *fetch_ipc_routes(size_t *n);

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
/* The views for control: the running fetcher's pid (0: none). */
pid_t fetch_fetcher_pid(const struct daemon *d);
/* No fetcher runs and the scheduler sleeps until the next token. */
bool fetch_token_awaited(const struct daemon *d);
/* The TIC limiter's status as of now (zeros before fetch_init); returns its state file. */
const char *fetch_limiter_status(const struct daemon *d, struct limiter_status *st);
/*
 * aiccuctl refresh: fetch t's parameters from TIC at the next token (one
 * session with whatever else waits for that account), and restart t only
 * if they changed.  A tunnel that waits for TIC anyway is simply fetched.
 */
void fetch_refresh(struct daemon *d, struct tunnel_rt *t);

#endif
