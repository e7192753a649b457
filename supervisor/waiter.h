/*
 * What a start, stop or restart request waits for, per tunnel: pure
 * (no loop, no socket), so that its decisions are unit-tested.  The
 * control socket's waiting code (control_wait.c) feeds it the registry's
 * events and its own periodic tick, and sends what it says.
 */
#ifndef AICCUD_WAITER_H
#define AICCUD_WAITER_H

#include <stdbool.h>
#include <net/if.h>

#include "registry.h"

/* OP_WAIT: nothing is done, the tunnels are waited for until they are up. */
enum change_op { OP_START, OP_STOP, OP_RESTART, OP_REFRESH, OP_WAIT };

struct waiter {
	struct tunnel_rt *t; /* NULL once a reload removed it */
	char name[IFNAMSIZ];
	bool settled;
	bool ok;
	enum tunnel_state reported; /* last state sent as progress */
	char reported_reason[sizeof(((struct tunnel_rt *)0)->reason)];
	char reported_refresh[sizeof(((struct tunnel_rt *)0)->refresh_msg)];
};

enum waiter_note {
	WAITER_QUIET = 0, /* nothing to say */
	WAITER_PROGRESS,  /* the state or its reason changed: a progress line */
	WAITER_TOKEN,     /* tick while waiting for a TIC token: say when the next is due */
	WAITER_REFRESH,   /* a refresh's message changed (refresh_msg) */
};

/* Start waiting on t: called just before its operation is issued. */
void waiter_begin(struct waiter *w, struct tunnel_rt *t);
/* The tunnel left the registry. */
void waiter_gone(struct waiter *w);
/*
 * Look at the tunnel again (after one of its events, or on a tick): what
 * to tell the client (the state is then taken as reported), and whether
 * w->settled became true (w->ok says how) just now.
 */
enum waiter_note waiter_update(struct waiter *w, enum change_op op, bool tick, bool *settled_now);
/*
 * Whether op on t is over: stop, once no worker runs and the tunnel is
 * stopped or failed; start and restart, once it is up, failed or stopped
 * without a start still promised (a restart's first half); refresh, once
 * its fetch is over and, when that restarted the tunnel, like a restart
 * (ok: unchanged, or restarted and up, or cached for a stopped tunnel);
 * wait, once it is up (a failed or stopped tunnel may still come up: a
 * back-off, an operator's start; the waiting client's timeout ends it).
 */
bool waiter_settled(enum change_op op, const struct tunnel_rt *t, bool *ok);

#endif
