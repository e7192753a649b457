/*
 * The fetch scheduler's decisions (fetch_plan.h) on a fake clock: which
 * waiting tunnels share a TIC session, when the limiter lets one start,
 * and what becomes of each tunnel afterwards.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fetch_plan.h"

static struct limiter_now at_ms(int64_t ms)
{
	struct limiter_now n;

	memset(&n, 0, sizeof(n));
	n.boot_ms = ms;
	n.wall_ms = 1700000000000LL + ms;
	snprintf(n.boot_id, sizeof(n.boot_id), "test-boot");
	return n;
}

static struct tunnel_rt *add(struct registry *r, const char *name, const char *user,
                             enum tunnel_state s)
{
	struct tunnel_entry e;
	struct tunnel_rt *t;

	memset(&e, 0, sizeof(e));
	snprintf(e.conf.name, sizeof(e.conf.name), "%s", name);
	snprintf(e.conf.account.server, sizeof(e.conf.account.server), "tic.example.net");
	snprintf(e.conf.account.username, sizeof(e.conf.account.username), "%s", user);
	e.conf.tic = true;
	e.valid = true;
	t = registry_add(r, &e);
	if (s != TS_STOPPED)
		registry_set_state(t, s, "test");
	return t;
}

static void test_batch_is_one_account_in_order(void **state)
{
	struct registry *r = registry_new(NULL);
	struct tunnel_rt *slots[32], *first = NULL;
	struct fetch_batch b = {.tunnels = slots, .max = 32};
	char name[IFNAMSIZ];

	(void)state;
	/* 40 waiting of alice, 10 of bob between them, some not waiting at all. */
	add(r, "up0", "alice", TS_UP);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "t%02d", i);
		if (i % 5 == 4)
			add(r, name, "bob", TS_WAITING);
		else if (!first)
			first = add(r, name, "alice", TS_WAITING);
		else
			add(r, name, "alice", TS_WAITING);
	}
	fetch_plan_batch(r, &b);
	assert_non_null(b.account);
	assert_string_equal(b.account->username, "alice");
	/* At most one session's worth, all alice's, in configuration order. */
	assert_int_equal(b.n, 32);
	assert_ptr_equal(b.tunnels[0], first);
	for (size_t i = 0; i < b.n; i++) {
		assert_string_equal(b.tunnels[i]->entry.conf.account.username, "alice");
		assert_int_equal(b.tunnels[i]->state, TS_WAITING);
	}
	/* Once those are fetching, the first waiting one (bob's t04) sets the account. */
	for (size_t i = 0; i < b.n; i++)
		registry_set_state(b.tunnels[i], TS_FETCHING, "fetching");
	fetch_plan_batch(r, &b);
	assert_string_equal(b.account->username, "bob");
	assert_int_equal(b.n, 10);
	assert_string_equal(b.tunnels[0]->entry.conf.name, "t04");
	for (size_t i = 0; i < b.n; i++)
		registry_set_state(b.tunnels[i], TS_FETCHING, "fetching");
	fetch_plan_batch(r, &b);
	assert_string_equal(b.account->username, "alice"); /* the 8 left */
	assert_int_equal(b.n, 8);
	for (size_t i = 0; i < b.n; i++)
		registry_set_state(b.tunnels[i], TS_FETCHING, "fetching");
	fetch_plan_batch(r, &b);
	assert_null(b.account);
	assert_int_equal(b.n, 0);
	registry_free(r);
}

static void test_token_waits_and_grants(void **state)
{
	struct limiter l;
	struct limiter_now now = at_ms(1000);
	double wait = -1;
	char why[128];
	int64_t t = 1000;

	(void)state;
	assert_int_equal(limiter_init(&l, 1, 30, &now), 0);
	/* However the bucket starts, a grant comes within one refill. */
	if (!fetch_plan_token(&l, &now, &wait, why, sizeof(why))) {
		assert_true(wait >= FETCH_PLAN_MIN_WAIT && wait <= 30.0);
		assert_non_null(strstr(why, "waiting for a TIC connection token (next in "));
		t += (int64_t)(wait * 1000.0 + 0.5);
		now = at_ms(t);
		assert_true(fetch_plan_token(&l, &now, &wait, why, sizeof(why)));
	}
	/* The next connection waits for the refill: about 30 s. */
	assert_false(fetch_plan_token(&l, &now, &wait, why, sizeof(why)));
	assert_true(wait > 29.0 && wait <= 30.0);
	assert_string_equal(why, "waiting for a TIC connection token (next in 30 s)");
	now = at_ms(t + 29000);
	assert_false(fetch_plan_token(&l, &now, &wait, why, sizeof(why)));
	assert_true(wait > 0.9 && wait <= 1.0);
	now = at_ms(t + 30000);
	assert_true(fetch_plan_token(&l, &now, &wait, why, sizeof(why)));
	/* A refusal by the server: the penalty, with its own reason. */
	limiter_penalize(&l, &now, LIMITER_PENALTY_MIN);
	now = at_ms(t + 90000);
	assert_false(fetch_plan_token(&l, &now, &wait, why, sizeof(why)));
	assert_non_null(strstr(why, "the TIC server refused us; next connection in "));
	assert_true(wait > 200.0);
}

static void test_outcomes(void **state)
{
	(void)state;
	/* A refusal: the limiter waits out the broker's penalty, whatever else. */
	assert_int_equal(fetch_plan_outcome(true, 0, 0, true, false), FETCH_WAIT_AGAIN);
	assert_int_equal(fetch_plan_outcome(true, -EBUSY, -EIO, false, false), FETCH_WAIT_AGAIN);
	assert_int_equal(fetch_plan_outcome(false, 0, 0, true, false), FETCH_START);
	/* Fetched, but the cache was not written: that can go away. */
	assert_int_equal(fetch_plan_outcome(false, 0, -ENOSPC, true, false), FETCH_RETRY);
	assert_int_equal(fetch_plan_outcome(false, 0, -EACCES, false, false), FETCH_RETRY);
	assert_int_equal(fetch_plan_outcome(false, 0, 0, false, false), FETCH_RETRY);
}

/* A broker that cannot be reached is asked again; with a too old cache, that serves meanwhile. */
static void test_unreachable_is_retried(void **state)
{
	static const int session[] = {-EHOSTUNREACH, -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH,
	                              -ECHILD,       -ERANGE,       -EBADMSG,   -EIO};

	(void)state;
	for (size_t i = 0; i < sizeof(session) / sizeof(session[0]); i++) {
		assert_false(fetch_plan_needs_person(session[i], -ECANCELED));
		assert_int_equal(fetch_plan_outcome(false, session[i], -ECANCELED, false, false),
		                 FETCH_RETRY);
		/* No result for this tunnel at all (the fetcher was killed). */
		assert_int_equal(fetch_plan_outcome(false, session[i], -EINPROGRESS, false, false),
		                 FETCH_RETRY);
		/* A cache file the worker found only too old: start on it. */
		assert_int_equal(fetch_plan_outcome(false, session[i], -ECANCELED, true, true),
		                 FETCH_START_STALE);
		/* A cache file that failed before (not stale): not used again. */
		assert_int_equal(fetch_plan_outcome(false, session[i], -ECANCELED, true, false),
		                 FETCH_RETRY);
		assert_string_equal(fetch_plan_hint(session[i], -ECANCELED), "");
	}
}

/* What only a person can mend stays failed, and says what to do. */
static void test_person_needed_stays_failed(void **state)
{
	static const int session[] = {-EACCES, -EPROTONOSUPPORT, -EKEYREJECTED, -EINVAL, -EPROTO};
	static const int tunnel[] = {-ENOENT, -EBADMSG, -EINVAL, -ENOTSUP, -EPROTO};

	(void)state;
	for (size_t i = 0; i < sizeof(session) / sizeof(session[0]); i++) {
		assert_true(fetch_plan_needs_person(session[i], -ECANCELED));
		/* Not even a stale cache: the password or the trust is wrong. */
		assert_int_equal(fetch_plan_outcome(false, session[i], -ECANCELED, true, true),
		                 FETCH_FAIL);
		assert_non_null(strstr(fetch_plan_hint(session[i], -ECANCELED), "aiccuctl start"));
	}
	assert_non_null(strstr(fetch_plan_hint(-EACCES, -ECANCELED), "password"));
	for (size_t i = 0; i < sizeof(tunnel) / sizeof(tunnel[0]); i++) {
		assert_true(fetch_plan_needs_person(0, tunnel[i]));
		assert_int_equal(fetch_plan_outcome(false, 0, tunnel[i], true, true), FETCH_FAIL);
		assert_string_not_equal(fetch_plan_hint(0, tunnel[i]), "");
	}
	assert_non_null(strstr(fetch_plan_hint(0, -ENOENT), "id"));
	/* The session completed but this tunnel's cache write failed with EACCES: not a login. */
	assert_false(fetch_plan_needs_person(0, -EACCES));
}

static void test_stale_delays(void **state)
{
	(void)state;
	assert_true(fetch_plan_stale_delay(0) == FETCH_PLAN_STALE_FIRST);
	assert_true(fetch_plan_stale_delay(1) == FETCH_PLAN_STALE_FIRST);
	assert_true(fetch_plan_stale_delay(2) == 2 * FETCH_PLAN_STALE_FIRST);
	assert_true(fetch_plan_stale_delay(3) == 4 * FETCH_PLAN_STALE_FIRST);
	assert_true(fetch_plan_stale_delay(100) == FETCH_PLAN_STALE_MAX);
}

/* A running tunnel with a refresh asked for joins its account's batch, once. */
static void test_refresh_joins_the_batch(void **state)
{
	struct registry *r = registry_new(NULL);
	struct tunnel_rt *slots[8];
	struct fetch_batch b = {.tunnels = slots, .max = 8};
	struct tunnel_rt *up0 = add(r, "up0", "alice", TS_UP);
	struct tunnel_rt *up1 = add(r, "up1", "alice", TS_UP);

	(void)state;
	add(r, "w0", "alice", TS_WAITING);
	fetch_plan_batch(r, &b);
	assert_int_equal(b.n, 1);
	up1->refresh = true;
	fetch_plan_batch(r, &b);
	assert_int_equal(b.n, 2);
	assert_ptr_equal(b.tunnels[0], up1);
	/* Under way: not asked again. */
	up1->refresh = false;
	up1->refreshing = true;
	fetch_plan_batch(r, &b);
	assert_int_equal(b.n, 1);
	(void)up0;
	registry_free(r);
}

/* Issue 20: a refusal's text reached status cut before its closing parenthesis. */
static void test_refresh_failed_keeps_the_whole_reason(void **state)
{
	struct tunnel_rt t;
	char reason[sizeof(t.fetch_reason)], server[TUNNEL_HOST_MAX];
	size_t n;

	(void)state;
	memset(reason, 'r', sizeof(reason) - 2);
	reason[sizeof(reason) - 2] = ')';
	reason[sizeof(reason) - 1] = '\0';
	memset(server, 's', sizeof(server) - 1);
	server[sizeof(server) - 1] = '\0';
	fetch_plan_refresh_failed(t.refresh_msg, sizeof(t.refresh_msg), server, reason);
	n = strlen(t.refresh_msg);
	assert_true(n < sizeof(t.refresh_msg) - 1);
	assert_non_null(strstr(t.refresh_msg, reason));
	assert_non_null(strstr(t.refresh_msg, server));
	assert_string_equal(t.refresh_msg + n - strlen("); left on its cached parameters"),
	                    "); left on its cached parameters");
	fetch_plan_refresh_failed(t.refresh_msg, sizeof(t.refresh_msg), "tic.test",
	                          "tunnel show T10002: IPv6 PrefixLength: /1 is outside /64..128 "
	                          "(a tunnel may only own its own prefix)");
	assert_string_equal(t.refresh_msg,
	                    "refresh failed: TIC tic.test: tunnel show T10002: IPv6 PrefixLength: "
	                    "/1 is outside /64..128 (a tunnel may only own its own prefix); left "
	                    "on its cached parameters");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_is_one_account_in_order),
	    cmocka_unit_test(test_token_waits_and_grants),
	    cmocka_unit_test(test_outcomes),
	    cmocka_unit_test(test_unreachable_is_retried),
	    cmocka_unit_test(test_person_needed_stays_failed),
	    cmocka_unit_test(test_stale_delays),
	    cmocka_unit_test(test_refresh_failed_keeps_the_whole_reason),
	    cmocka_unit_test(test_refresh_joins_the_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
