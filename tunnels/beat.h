/*
 * When a tunnel sends its keep-alives (PROTOCOLS.md 7 and 7.1).  Pure: no
 * sockets, no clock; the worker's loop asks and arms its timers.
 *
 * Start-up: the real client sent 3 AYIYA no-op beats back to back when an
 * AYIYA tunnel started and 2 identical heartbeats when a heartbeat tunnel
 * started, then one per interval, so that one lost datagram does not leave
 * the PoP without our address for a whole interval.
 *
 * Confirmation: a heartbeat PoP sends proto-41 to us only after it has
 * both a valid heartbeat and a proto-41 packet from the heartbeat's
 * address; when our first packet overtakes the heartbeat nothing would
 * trigger it again.  Until something comes back through the tunnel the
 * worker repeats the heartbeat and the first packet after 1, 2, 4, ...
 * seconds; once that delay reaches the interval every regular heartbeat
 * carries the packet instead (a bounded back-off: never more than one
 * extra beat per interval).
 */
#ifndef AICCUD_BEAT_H
#define AICCUD_BEAT_H

#include <stdbool.h>

#include "tunnel.h"

#define BEAT_STARTUP_AYIYA     3
#define BEAT_STARTUP_HEARTBEAT 2
#define BEAT_CONFIRM_FIRST     1.0 /* seconds to the first repeat */

/* What we know of the PoP's side of a tunnel (reported in the counters). */
enum beat_pop_state {
	BEAT_POP_UNKNOWN = 0, /* nothing to wait for (AYIYA, static), or not started */
	BEAT_POP_WAITING,     /* heartbeats sent, nothing came back through the tunnel yet */
	BEAT_POP_CONFIRMED,   /* the PoP forwards to us */
};

/* Beats to send back to back when a tunnel starts: 3, 2, or 0 (static: none). */
unsigned beat_startup_count(enum tunnel_type t);

/* Does this tunnel type wait for the PoP to confirm it (6in4-heartbeat)? */
bool beat_needs_confirm(enum tunnel_type t);

/*
 * Seconds from the start (or the last repeat) to confirmation repeat
 * number `tries` (0: the first): BEAT_CONFIRM_FIRST * 2^tries.  Returns 0
 * when that is not below the interval: from then on the regular beat
 * repeats the packet and no extra timer is needed.
 */
double beat_confirm_delay(unsigned tries, double interval);

/* "waiting for the PoP", "confirmed", "" */
const char *beat_pop_state_name(enum beat_pop_state s);

#endif
