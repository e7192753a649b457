/*
 * The control socket's waiters (waiter.h): what a start, stop or restart
 * reports and when it is over, driven by registry transitions on a fake
 * clock, as control_wait.c drives them from the registry's events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "waiter.h"

static time_t fake_now = 5000;

static time_t fake_clock(void)
{
	return fake_now;
}

struct fixture {
	struct registry *r;
	struct tunnel_rt *t;
	struct waiter w;
};

static int setup(void **state)
{
	static struct fixture f;
	struct tunnel_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.conf.name, sizeof(e.conf.name), "sixxs0");
	e.valid = true;
	f.r = registry_new(fake_clock);
	f.t = registry_add(f.r, &e);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	registry_free(f->r);
	return 0;
}

/* Bring the fixture's tunnel up with a worker, as workers.c would. */
static void make_up(struct tunnel_rt *t)
{
	t->pid = 42;
	assert_int_equal(registry_feed(t, LC_SPAWN, "worker 42 started"), 0);
	assert_int_equal(registry_feed(t, LC_UP, "%s", ""), 0);
}

/* update and expect (note, settled now, ok) */
static void expect(struct waiter *w, enum change_op op, bool tick, enum waiter_note note,
                   bool settled, bool ok)
{
	bool now;

	assert_int_equal(waiter_update(w, op, tick, &now), note);
	assert_int_equal(now, settled);
	if (settled)
		assert_int_equal(w->ok, ok);
}

static void test_restart_waits_through_the_stop(void **state)
{
	struct fixture *f = *state;
	struct tunnel_rt *t = f->t;

	make_up(t);
	waiter_begin(&f->w, t);
	assert_string_equal(f->w.name, "sixxs0");
	/* workers_restart: told to stop, a start promised. */
	fake_now += 1;
	registry_feed(t, LC_STOP_WORKER, "worker 42 told to stop");
	t->start_pending = true;
	expect(&f->w, OP_RESTART, false, WAITER_PROGRESS, false, false);
	/* Nothing new: nothing to say, still waiting. */
	expect(&f->w, OP_RESTART, false, WAITER_QUIET, false, false);
	/* The worker exited: stopped, but the start is still promised. */
	t->pid = 0;
	registry_feed(t, LC_EXITED, "restarting");
	expect(&f->w, OP_RESTART, false, WAITER_PROGRESS, false, false);
	/* The start half. */
	t->start_pending = false;
	t->pid = 43;
	registry_feed(t, LC_SPAWN, "worker 43 started");
	expect(&f->w, OP_RESTART, false, WAITER_PROGRESS, false, false);
	registry_feed(t, LC_UP, "%s", "");
	expect(&f->w, OP_RESTART, false, WAITER_PROGRESS, true, true);
	assert_int_equal(t->since, fake_now);
	/* Settled once: later looks say nothing and do not settle it again. */
	expect(&f->w, OP_RESTART, false, WAITER_QUIET, false, false);
}

static void test_stop_settles_when_the_worker_is_gone(void **state)
{
	struct fixture *f = *state;
	struct tunnel_rt *t = f->t;

	make_up(t);
	waiter_begin(&f->w, t);
	registry_feed(t, LC_STOP_WORKER, "worker 42 told to stop");
	expect(&f->w, OP_STOP, false, WAITER_PROGRESS, false, false);
	t->pid = 0;
	registry_feed(t, LC_EXITED, "stopped on request");
	expect(&f->w, OP_STOP, false, WAITER_PROGRESS, true, true);
}

static void test_start_that_fails(void **state)
{
	struct fixture *f = *state;
	struct tunnel_rt *t = f->t;

	waiter_begin(&f->w, t);
	registry_feed(t, LC_INVALID, "sixxs0.conf:3: table must be given");
	expect(&f->w, OP_START, false, WAITER_PROGRESS, true, false);
}

static void test_start_of_a_tunnel_already_up_says_nothing(void **state)
{
	struct fixture *f = *state;

	make_up(f->t);
	waiter_begin(&f->w, f->t);
	expect(&f->w, OP_START, false, WAITER_QUIET, true, true);
}

static void test_a_stopped_tunnel_without_promise_ends_a_start(void **state)
{
	struct fixture *f = *state;
	struct tunnel_rt *t = f->t;

	t->pid = 42;
	registry_feed(t, LC_SPAWN, "worker 42 started");
	waiter_begin(&f->w, t);
	/* Someone else stops it while we wait for it to come up. */
	registry_feed(t, LC_STOP_WORKER, "worker 42 told to stop");
	expect(&f->w, OP_START, false, WAITER_PROGRESS, false, false);
	t->pid = 0;
	registry_feed(t, LC_EXITED, "stopped on request");
	expect(&f->w, OP_START, false, WAITER_PROGRESS, true, false);
}

static void test_reason_change_and_token_tick(void **state)
{
	struct fixture *f = *state;
	struct tunnel_rt *t = f->t;

	waiter_begin(&f->w, t);
	registry_feed(t, LC_NEED_TIC, "waiting for a TIC connection token");
	expect(&f->w, OP_START, false, WAITER_PROGRESS, false, false);
	/* The periodic tick while waiting: when the next token is due. */
	expect(&f->w, OP_START, true, WAITER_TOKEN, false, false);
	/* An event without news says nothing. */
	expect(&f->w, OP_START, false, WAITER_QUIET, false, false);
	/* Same state, a new reason: progress. */
	registry_set_state(t, TS_WAITING, "waiting for a TIC connection token (next in 20 s)");
	expect(&f->w, OP_START, false, WAITER_PROGRESS, false, false);
	registry_feed(t, LC_FETCH, "fetching");
	/* A tick in another state: just the change. */
	expect(&f->w, OP_START, true, WAITER_PROGRESS, false, false);
	expect(&f->w, OP_START, true, WAITER_QUIET, false, false);
}

static void test_removed_by_a_reload(void **state)
{
	struct fixture *f = *state;
	struct waiter stop;

	make_up(f->t);
	waiter_begin(&f->w, f->t);
	waiter_begin(&stop, f->t);
	waiter_gone(&f->w);
	waiter_gone(&stop);
	/* For a restart that is a failure, for a stop it is done. */
	expect(&f->w, OP_RESTART, false, WAITER_QUIET, true, false);
	expect(&stop, OP_STOP, false, WAITER_QUIET, true, true);
}

static void test_reconfiguration_is_a_promised_start(void **state)
{
	struct fixture *f = *state;
	struct tunnel_rt *t = f->t;
	struct tunnel_entry next;
	bool ok;

	make_up(t);
	waiter_begin(&f->w, t);
	registry_feed(t, LC_STOP_WORKER, "told to stop");
	t->next_entry = &next;
	t->pid = 0;
	registry_feed(t, LC_EXITED, "configuration changed");
	expect(&f->w, OP_RESTART, false, WAITER_PROGRESS, false, false);
	t->next_entry = NULL;
	assert_true(waiter_settled(OP_RESTART, t, &ok));
	assert_false(ok);
}

/* refresh: the token wait (tick), the fetch, then unchanged (settled, ok) or restarted. */
static void test_refresh(void **state)
{
	struct fixture *f = *state;
	struct tunnel_rt *t = f->t;

	make_up(t);
	waiter_begin(&f->w, t);
	/* fetch_refresh */
	t->refresh = true;
	snprintf(t->refresh_msg, sizeof(t->refresh_msg), "refresh: waiting for a TIC token");
	expect(&f->w, OP_REFRESH, false, WAITER_REFRESH, false, false);
	/* The tunnel is up, not waiting, yet the refresh's tick says when the token comes. */
	expect(&f->w, OP_REFRESH, true, WAITER_TOKEN, false, false);
	t->refresh = false;
	t->refreshing = true;
	snprintf(t->refresh_msg, sizeof(t->refresh_msg), "refresh: fetching");
	expect(&f->w, OP_REFRESH, false, WAITER_REFRESH, false, false);
	expect(&f->w, OP_REFRESH, true, WAITER_QUIET, false, false); /* no token wait now */
	/* Unchanged: over, ok, still up. */
	t->refreshing = false;
	t->refresh_result = REFRESH_UNCHANGED;
	snprintf(t->refresh_msg, sizeof(t->refresh_msg), "refresh: unchanged");
	expect(&f->w, OP_REFRESH, false, WAITER_REFRESH, true, true);

	/* Changed: over once the restart is. */
	waiter_begin(&f->w, t);
	t->refresh_result = REFRESH_RESTARTED;
	snprintf(t->refresh_msg, sizeof(t->refresh_msg), "refresh: restarted");
	registry_feed(t, LC_STOP_WORKER, "worker 42 told to stop");
	t->start_pending = true;
	expect(&f->w, OP_REFRESH, false, WAITER_REFRESH, false, false);
	expect(&f->w, OP_REFRESH, false, WAITER_PROGRESS, false, false); /* stopping */
	t->pid = 0;
	registry_feed(t, LC_EXITED, "restarting");
	expect(&f->w, OP_REFRESH, false, WAITER_PROGRESS, false, false);
	t->start_pending = false;
	t->pid = 43;
	assert_int_equal(registry_feed(t, LC_SPAWN, "worker 43 started"), 0);
	expect(&f->w, OP_REFRESH, false, WAITER_PROGRESS, false, false);
	assert_int_equal(registry_feed(t, LC_UP, "%s", ""), 0);
	expect(&f->w, OP_REFRESH, false, WAITER_PROGRESS, true, true);

	/* Failed: over, not ok. */
	waiter_begin(&f->w, t);
	t->refresh_result = REFRESH_FAILED;
	snprintf(t->refresh_msg, sizeof(t->refresh_msg), "refresh failed");
	expect(&f->w, OP_REFRESH, false, WAITER_REFRESH, true, false);
}

/* wait: a failure or a stop does not end it (a back-off or an operator may still start it). */
static void test_wait_until_up(void **state)
{
	struct fixture *f = *state;
	struct tunnel_rt *t = f->t;
	bool ok;

	waiter_begin(&f->w, t);
	registry_feed(t, LC_INVALID, "sixxs0.conf:3: table must be given");
	expect(&f->w, OP_WAIT, false, WAITER_PROGRESS, false, false);
	assert_false(waiter_settled(OP_WAIT, t, &ok));
	assert_false(ok);
	t->pid = 42;
	assert_int_equal(registry_feed(t, LC_SPAWN, "worker 42 started"), 0);
	expect(&f->w, OP_WAIT, false, WAITER_PROGRESS, false, false);
	assert_int_equal(registry_feed(t, LC_UP, "%s", ""), 0);
	expect(&f->w, OP_WAIT, false, WAITER_PROGRESS, true, true);
	/* Settled once: a later change says nothing more. */
	assert_int_equal(registry_feed(t, LC_LOST, "PoP silent"), 0);
	expect(&f->w, OP_WAIT, false, WAITER_QUIET, false, true);
}

static void test_wait_for_a_tunnel_already_up(void **state)
{
	struct fixture *f = *state;

	make_up(f->t);
	waiter_begin(&f->w, f->t);
	expect(&f->w, OP_WAIT, false, WAITER_QUIET, true, true);
}

static void test_wait_for_a_removed_tunnel_fails(void **state)
{
	struct fixture *f = *state;

	waiter_begin(&f->w, f->t);
	waiter_gone(&f->w);
	expect(&f->w, OP_WAIT, false, WAITER_QUIET, true, false);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_restart_waits_through_the_stop),
	    T(test_stop_settles_when_the_worker_is_gone),
	    T(test_start_that_fails),
	    T(test_start_of_a_tunnel_already_up_says_nothing),
	    T(test_a_stopped_tunnel_without_promise_ends_a_start),
	    T(test_reason_change_and_token_tick),
	    T(test_removed_by_a_reload),
	    T(test_reconfiguration_is_a_promised_start),
	    T(test_refresh),
	    T(test_wait_until_up),
	    T(test_wait_for_a_tunnel_already_up),
	    T(test_wait_for_a_removed_tunnel_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
