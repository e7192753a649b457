/* The fetch scheduler's pure decisions (fetch_plan.h). */
#include "fetch_plan.h"

#include <errno.h>
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

/* The tunnel's own error, unless the session ended before its turn. */
static bool tunnel_answered(int fetch_err)
{
	return fetch_err != -ECANCELED && fetch_err != -EINPROGRESS;
}

bool fetch_plan_needs_person(int session_err, int fetch_err)
{
	if (tunnel_answered(fetch_err) && fetch_err != 0)
		/* TIC's word on this tunnel (tic.h); other errors are the cache write's. */
		return fetch_err == -ENOENT || fetch_err == -EBADMSG || fetch_err == -EINVAL ||
		       fetch_err == -ENOTSUP || fetch_err == -EPROTO;
	/*
	 * A refused login, no TLS where required, a refused certificate, our
	 * own trust settings (ca_file) unusable, a server error answer.
	 */
	return session_err == -EACCES || session_err == -EPROTONOSUPPORT ||
	       session_err == -EKEYREJECTED || session_err == -EINVAL || session_err == -EPROTO;
}

enum fetch_outcome fetch_plan_outcome(bool refused, int session_err, int fetch_err,
                                      bool cache_usable, bool cache_stale)
{
	if (refused)
		return FETCH_WAIT_AGAIN; /* the broker's block lasts minutes: the limiter waits it
		                            out */
	if (fetch_err == 0 && cache_usable)
		return FETCH_START;
	if (fetch_plan_needs_person(session_err, fetch_err))
		return FETCH_FAIL; /* no retry storm on what only a person can mend */
	/* A router that boots before its uplink, a broker outage: ask again later. */
	return cache_usable && cache_stale ? FETCH_START_STALE : FETCH_RETRY;
}

const char *fetch_plan_hint(int session_err, int fetch_err)
{
	if (tunnel_answered(fetch_err) && fetch_err == -ENOENT)
		return "check the tunnel's id, then aiccuctl start it";
	if (tunnel_answered(fetch_err) && fetch_err != 0)
		return "the broker's parameters were refused; aiccuctl refresh or start it once "
		       "the broker's data is fixed";
	if (session_err == -EACCES)
		return "check username and password of [tic] in aiccud.conf or the tunnel file, "
		       "then aiccuctl start it";
	if (session_err == -EPROTONOSUPPORT || session_err == -EKEYREJECTED ||
	    session_err == -EINVAL || session_err == -EPROTO)
		return "check [tic] server, ca_file and require_tls, then aiccuctl start it";
	return "";
}

double fetch_plan_stale_delay(unsigned failures)
{
	double d = FETCH_PLAN_STALE_FIRST;

	for (unsigned i = 1; i < failures && d < FETCH_PLAN_STALE_MAX; i++)
		d *= 2;
	return d < FETCH_PLAN_STALE_MAX ? d : FETCH_PLAN_STALE_MAX;
}

void fetch_plan_refresh_failed(char *buf, size_t len, const char *server, const char *reason)
{
	snprintf(buf, len, "refresh failed: TIC %s: %s; left on its cached parameters", server,
	         reason);
}
