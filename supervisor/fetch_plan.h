/*
 * The fetch scheduler's decisions, pure (no loop, no child, no disk):
 * which account's waiting tunnels one TIC session serves, whether the
 * limiter lets it start now or when to look again, and what becomes of
 * each tunnel when the session is over.  fetch.c does the I/O.
 */
#ifndef AICCUD_FETCH_PLAN_H
#define AICCUD_FETCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "limiter.h"
#include "registry.h"

/* Shortest wait the scheduler arms (a token "due now" is looked at after this). */
#define FETCH_PLAN_MIN_WAIT 0.05

/* One TIC session: an account and up to max of its waiting tunnels, in order. */
struct fetch_batch {
	const struct tic_account *account; /* NULL: nobody waits */
	struct tunnel_rt **tunnels;
	size_t n, max;
};

bool fetch_plan_same_account(const struct tic_account *a, const struct tic_account *b);
/*
 * Fill b (b->tunnels has room for b->max) with the first waiting tunnel's
 * account and that account's waiting tunnels; a tunnel with a refresh
 * asked for (and not yet under way) counts as waiting.
 */
void fetch_plan_batch(const struct registry *r, struct fetch_batch *b);

/*
 * Ask the limiter for a token at now: true to connect now (the grant is
 * taken), false with *wait_s the delay before asking again (at least
 * FETCH_PLAN_MIN_WAIT) and in why the reason for the waiting tunnels.
 */
bool fetch_plan_token(struct limiter *l, const struct limiter_now *now, double *wait_s, char *why,
                      size_t whylen);

enum fetch_outcome {
	FETCH_WAIT_AGAIN, /* the server refused us: wait for the limiter (its penalty) */
	FETCH_START,      /* the cache was written: start the worker */
	FETCH_FAIL,       /* no usable parameters: failed until an operator starts it */
};

/* A fetched tunnel's fate, from the session's refusal, its own result and the cache. */
enum fetch_outcome fetch_plan_outcome(bool refused, int fetch_err, bool cache_usable);

/*
 * A failed refresh's message: the server and the whole reason (a refusal's
 * text is never cut short; buf has room for TUNNEL_HOST_MAX + 256 + 96).
 */
void fetch_plan_refresh_failed(char *buf, size_t len, const char *server, const char *reason);

#endif
