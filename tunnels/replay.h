/*
 * AYIYA replay filter: beyond what the real client and PoP do (they only
 * check the clock to +-120 s), a datagram whose signature verified is
 * accepted only when its epoch is at most REPLAY_WINDOW seconds older than
 * the newest one seen from the PoP, and when the same datagram (same
 * signature) was not seen within that window.  Reordering within the
 * window passes.
 *
 * Pure and fixed-size: a set-associative table of REPLAY_SLOTS signature
 * keys, no allocation or clock read per packet.  Call it only after the
 * signature verified, so a forger cannot move the window.  Duplicates are
 * caught while the table still holds them: within the window, as long as
 * fewer than about REPLAY_SLOTS datagrams arrived since (the old-epoch
 * check still bounds any replay to the window).
 */
#ifndef AICCUD_REPLAY_H
#define AICCUD_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_WINDOW 5 /* seconds */
#define REPLAY_WAYS   4
#define REPLAY_SLOTS  2048 /* a power of two, a multiple of REPLAY_WAYS */

enum replay_verdict {
	REPLAY_OK = 0,
	REPLAY_OLD, /* older than the newest seen by more than the window */
	REPLAY_DUP, /* the same datagram again within the window */
};

struct replay {
	bool seen_any;
	uint32_t newest; /* epoch of the newest datagram accepted */
	uint64_t key[REPLAY_SLOTS];
	uint32_t epoch[REPLAY_SLOTS];
};

/* A zeroed struct replay (calloc) is the empty filter. */
/* Check and, when accepted, remember one datagram (sig: its 20-byte signature). */
enum replay_verdict replay_check(struct replay *r, const uint8_t sig[20], uint32_t epoch);

#endif
