/* The fetch scheduler's pure decisions (fetch_plan.h). */
#include "fetch_plan.h"

#include <stdio.h>
#include <string.h>

bool fetch_plan_same_account(const struct tic_account *a, const struct tic_account *b)
{
	return strcmp(a->server, b->server) == 0 && strcmp(a->username, b->username) == 0;
}

void fetch_plan_batch(const struct registry *r, struct fetch_batch *b)
{
	b->account = NULL;
	b->n = 0;
	for (struct tunnel_rt *t = registry_first(r); t && b->n < b->max; t = registry_next(t)) {
		/* Waiting for TIC, or running with a refresh asked for (aiccuctl refresh). */
		if (t->state != TS_WAITING && !(t->refresh && !t->refreshing))
			continue;
		if (!b->account)
			b->account = &t->entry.conf.account;
		else if (!fetch_plan_same_account(&t->entry.conf.account, b->account))
			continue;
		b->tunnels[b->n++] = t;
	}
}

bool fetch_plan_token(struct limiter *l, const struct limiter_now *now, double *wait_s, char *why,
                      size_t whylen)
{
	struct limiter_status st;
	double wait = 0;

	if (limiter_take(l, now, &wait))
		return true;
	limiter_status(l, now, &st);
	if (st.penalty_active)
		snprintf(why, whylen, "the TIC server refused us; next connection in %.0f s",
		         wait < 1 ? 1 : wait);
	else
		snprintf(why, whylen, "waiting for a TIC connection token (next in %.0f s)",
		         wait < 1 ? 1 : wait);
	*wait_s = wait > FETCH_PLAN_MIN_WAIT ? wait : FETCH_PLAN_MIN_WAIT;
	return false;
}

enum fetch_outcome fetch_plan_outcome(bool refused, int fetch_err, bool cache_usable)
{
	if (refused)
		return FETCH_WAIT_AGAIN; /* the broker's block lasts minutes: the limiter waits it
		                            out */
	if (fetch_err == 0 && cache_usable)
		return FETCH_START;
	return FETCH_FAIL; /* no retry storm: a failed fetch waits for an operator's start */
}

void fetch_plan_refresh_failed(char *buf, size_t len, const char *server, const char *reason)
{
	snprintf(buf, len, "refresh failed: TIC %s: %s; left on its cached parameters", server,
	         reason);
}
