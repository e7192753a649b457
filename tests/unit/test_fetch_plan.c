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
		tunnel_set_state(t, s, "test");
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
		tunnel_set_state(b.tunnels[i], TS_FETCHING, "fetching");
	fetch_plan_batch(r, &b);
	assert_string_equal(b.account->username, "bob");
	assert_int_equal(b.n, 10);
	assert_string_equal(b.tunnels[0]->entry.conf.name, "t04");
	for (size_t i = 0; i < b.n; i++)
		tunnel_set_state(b.tunnels[i], TS_FETCHING, "fetching");
	fetch_plan_batch(r, &b);
	assert_string_equal(b.account->username, "alice"); /* the 8 left */
	assert_int_equal(b.n, 8);
	for (size_t i = 0; i < b.n; i++)
		tunnel_set_state(b.tunnels[i], TS_FETCHING, "fetching");
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
	assert_int_equal(fetch_plan_outcome(true, 0, true), FETCH_WAIT_AGAIN);
	assert_int_equal(fetch_plan_outcome(true, -EIO, false), FETCH_WAIT_AGAIN);
	assert_int_equal(fetch_plan_outcome(false, 0, true), FETCH_START);
	assert_int_equal(fetch_plan_outcome(false, 0, false), FETCH_FAIL);
	assert_int_equal(fetch_plan_outcome(false, -ENOENT, true), FETCH_FAIL);
	assert_int_equal(fetch_plan_outcome(false, -EINPROGRESS, true), FETCH_FAIL);
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
	    cmocka_unit_test(test_refresh_failed_keeps_the_whole_reason),
	    cmocka_unit_test(test_refresh_joins_the_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
