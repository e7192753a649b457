/*
 * A tunnel's life cycle in the parent, as an explicit state machine.
 *
 * Pure: a transition table and names, no I/O.  workers.c feeds it events
 * (what happened) and gets the next state; an event the table does not
 * list for the current state is refused (-EPERM) and changes nothing, so
 * a late message from a dying worker cannot drag a tunnel backwards.
 *
 *   stopped --start--> starting --up--> up
 *      |                  |  \            |\
 *      |            need_tic  lost     lost \stop
 *      v                  v     \       v    v
 *   waiting --fetch--> fetching  `--> backoff  stopping --exited--> stopped
 *      ^                  |              |
 *      `----refused-------'   spawn <----' (timer)
 *
 * fetching --retry--> backoff: TIC could not be reached (DNS, no route,
 * a timeout, the cache not written); asked again after a back-off delay,
 * still behind the limiter.
 *
 * failed: the configuration, the broker or the worker said the tunnel
 * cannot come up (a refused password, an unknown tunnel, refused
 * parameters); it stays there until an operator (or a reload) starts it.
 */
#ifndef AICCUD_LIFECYCLE_H
#define AICCUD_LIFECYCLE_H

#include <stdbool.h>

enum tunnel_state {
	TS_STOPPED = 0, /* not running (never started, or stopped on request) */
	TS_WAITING,     /* TIC tunnel without usable cache: waiting for a limiter token */
	TS_FETCHING,    /* the fetcher is asking TIC for its parameters */
	TS_STARTING,    /* worker forked, link not up yet */
	TS_UP,          /* link up, routing policy installed */
	TS_STOPPING,    /* worker told to stop, not exited yet */
	TS_BACKOFF,     /* the worker died or lost its PoP: restart after a delay */
	TS_FAILED,      /* config invalid, or the worker gave up: see reason */
	TS_COUNT
};

enum lc_event {
	LC_SPAWN = 0,   /* a worker was forked */
	LC_NEED_TIC,    /* parameters must come from TIC: wait for a limiter token */
	LC_FETCH,       /* the fetcher was started for this tunnel */
	LC_FETCH_FAIL,  /* TIC could not give usable parameters */
	LC_UP,          /* the worker's link is up and routing is installed */
	LC_FAIL,        /* the worker or the parent judged the tunnel unusable */
	LC_LOST,        /* the worker exited or crashed, or reported its PoP dead */
	LC_STOP_WORKER, /* stop requested while a worker runs */
	LC_STOP_IDLE,   /* stop requested while no worker runs */
	LC_EXITED,      /* the worker we told to stop has exited */
	LC_INVALID,     /* the configuration of the tunnel is unusable */
	LC_RETRY,       /* a fetch failed for a reason that can go away: try again later */
	LC_COUNT
};

const char *lifecycle_state_name(enum tunnel_state s);
const char *lifecycle_event_name(enum lc_event e);

/*
 * The state after event e in state from.  Returns 0 and sets *to, or
 * -EPERM when e is not expected in from (nothing changes) and -EINVAL for
 * values out of range.
 */
int lifecycle_next(enum tunnel_state from, enum lc_event e, enum tunnel_state *to);

/* Whether some event leads from one state to the other (or from == to). */
bool lifecycle_allowed(enum tunnel_state from, enum tunnel_state to);

#endif
