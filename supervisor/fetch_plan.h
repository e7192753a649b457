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
	FETCH_WAIT_AGAIN,  /* the server refused us: wait for the limiter (its penalty) */
	FETCH_START,       /* the cache was written: start the worker */
	FETCH_START_STALE, /* TIC unreachable, the cache only too old: start on it meanwhile */
	FETCH_RETRY,       /* TIC unreachable (or the cache not written): back-off, then again */
	FETCH_FAIL,        /* refused by the broker: failed until a person changes something */
};

/*
 * What a fetch could not do that only a person can mend: true for a
 * refused login, a server without the TLS we require or whose certificate
 * we refuse, our own trust settings unusable (session errors), an unknown
 * tunnel or an answer we refuse (the tunnel's own error).  Everything
 * else (no DNS answer, no route, refused or timed-out connections, a
 * fetcher that died, a cache that could not be written) can go away by
 * itself.  session_err: the session's -errno (0: it completed);
 * fetch_err: the tunnel's, where -ECANCELED or -EINPROGRESS mean "never
 * got that far".
 */
bool fetch_plan_needs_person(int session_err, int fetch_err);

/*
 * A fetched tunnel's fate: the session's refusal and error, the tunnel's
 * own result, and what the cache holds (usable: a file is there;
 * stale: the worker found it only too old).
 */
enum fetch_outcome fetch_plan_outcome(bool refused, int session_err, int fetch_err,
                                      bool cache_usable, bool cache_stale);

/* What a person should do after a fetch that needs one ("" when nothing to say). */
const char *fetch_plan_hint(int session_err, int fetch_err);

/*
 * Running on a too old cache: seconds until TIC is asked again after
 * `failures` background fetches failed in a row (30 s, doubling, at most
 * FETCH_PLAN_STALE_MAX).
 */
#define FETCH_PLAN_STALE_FIRST 30.0
#define FETCH_PLAN_STALE_MAX   600.0
double fetch_plan_stale_delay(unsigned failures);

/*
 * A failed refresh's message: the server and the whole reason (a refusal's
 * text is never cut short; buf has room for TUNNEL_HOST_MAX + 256 + 96).
 */
void fetch_plan_refresh_failed(char *buf, size_t len, const char *server, const char *reason);

#endif
