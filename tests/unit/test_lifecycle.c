/*
 * The tunnel life cycle's transition table.  The expected transitions are
 * written out here, from the design (DESIGN.md, issue 5), and every
 * (state, event) pair is checked against them: one the list does not
 * name must be refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lifecycle.h"

struct step {
	enum tunnel_state from;
	enum lc_event ev;
	enum tunnel_state to;
};

static const struct step allowed[] = {
    /* start with usable parameters, and the three roads back to a start */
    {TS_STOPPED, LC_SPAWN, TS_STARTING},
    {TS_FAILED, LC_SPAWN, TS_STARTING},
    {TS_FETCHING, LC_SPAWN, TS_STARTING},
    {TS_BACKOFF, LC_SPAWN, TS_STARTING},
    /* TIC through the limiter */
    {TS_STOPPED, LC_NEED_TIC, TS_WAITING},
    {TS_FAILED, LC_NEED_TIC, TS_WAITING},
    {TS_BACKOFF, LC_NEED_TIC, TS_WAITING},
    {TS_STARTING, LC_NEED_TIC, TS_WAITING},
    {TS_FETCHING, LC_NEED_TIC, TS_WAITING},
    {TS_WAITING, LC_NEED_TIC, TS_WAITING},
    {TS_WAITING, LC_FETCH, TS_FETCHING},
    {TS_FETCHING, LC_FETCH_FAIL, TS_FAILED},
    {TS_STARTING, LC_UP, TS_UP},
    /* deliberate failures stop; crashes back off */
    {TS_STARTING, LC_FAIL, TS_FAILED},
    {TS_UP, LC_FAIL, TS_FAILED},
    {TS_STOPPING, LC_FAIL, TS_FAILED},
    {TS_STARTING, LC_LOST, TS_BACKOFF},
    {TS_UP, LC_LOST, TS_BACKOFF},
    /* stopping */
    {TS_STARTING, LC_STOP_WORKER, TS_STOPPING},
    {TS_UP, LC_STOP_WORKER, TS_STOPPING},
    {TS_STOPPING, LC_STOP_WORKER, TS_STOPPING},
    {TS_FAILED, LC_STOP_WORKER, TS_STOPPING},
    {TS_STOPPED, LC_STOP_IDLE, TS_STOPPED},
    {TS_WAITING, LC_STOP_IDLE, TS_STOPPED},
    {TS_FETCHING, LC_STOP_IDLE, TS_STOPPED},
    {TS_BACKOFF, LC_STOP_IDLE, TS_STOPPED},
    {TS_STOPPING, LC_EXITED, TS_STOPPED},
    /* a configuration that cannot run, while nothing runs */
    {TS_STOPPED, LC_INVALID, TS_FAILED},
    {TS_FAILED, LC_INVALID, TS_FAILED},
    {TS_BACKOFF, LC_INVALID, TS_FAILED},
    {TS_WAITING, LC_INVALID, TS_FAILED},
    {TS_FETCHING, LC_INVALID, TS_FAILED},
    {TS_FETCHING, LC_RETRY, TS_BACKOFF},
};

static const struct step *expected(enum tunnel_state s, enum lc_event e)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (allowed[i].from == s && allowed[i].ev == e)
			return &allowed[i];
	return NULL;
}

static void test_every_pair(void **state)
{
	unsigned refused = 0, taken = 0;

	(void)state;
	for (int s = 0; s < TS_COUNT; s++)
		for (int e = 0; e < LC_COUNT; e++) {
			const struct step *want = expected(s, e);
			enum tunnel_state to = TS_COUNT;
			int rc = lifecycle_next(s, e, &to);

			if (want) {
				assert_int_equal(rc, 0);
				assert_int_equal(to, want->to);
				taken++;
			} else {
				assert_int_equal(rc, -EPERM);
				assert_int_equal(to, TS_COUNT); /* untouched */
				refused++;
			}
		}
	assert_int_equal(taken, sizeof(allowed) / sizeof(allowed[0]));
	assert_true(refused > 0);
}

static void test_out_of_range(void **state)
{
	enum tunnel_state to;

	(void)state;
	assert_int_equal(lifecycle_next(TS_COUNT, LC_SPAWN, &to), -EINVAL);
	assert_int_equal(lifecycle_next(TS_STOPPED, LC_COUNT, &to), -EINVAL);
	assert_int_equal(lifecycle_next((enum tunnel_state) - 1, LC_SPAWN, &to), -EINVAL);
	assert_false(lifecycle_allowed(TS_COUNT, TS_UP));
	assert_string_equal(lifecycle_state_name(TS_COUNT), "?");
	assert_string_equal(lifecycle_event_name(LC_COUNT), "?");
}

/* Runs a sequence of events, checking the state after each. */
static void run(enum tunnel_state s, const struct step *seq, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s, seq[i].from);
		assert_int_equal(lifecycle_next(s, seq[i].ev, &s), 0);
		assert_int_equal(s, seq[i].to);
	}
}

static void test_crash_loop_then_stop(void **state)
{
	static const struct step seq[] = {
	    {TS_STOPPED, LC_SPAWN, TS_STARTING}, {TS_STARTING, LC_UP, TS_UP},
	    {TS_UP, LC_LOST, TS_BACKOFF},        {TS_BACKOFF, LC_SPAWN, TS_STARTING},
	    {TS_STARTING, LC_LOST, TS_BACKOFF},  {TS_BACKOFF, LC_SPAWN, TS_STARTING},
	    {TS_STARTING, LC_UP, TS_UP},         {TS_UP, LC_STOP_WORKER, TS_STOPPING},
	    {TS_STOPPING, LC_EXITED, TS_STOPPED}};

	(void)state;
	run(TS_STOPPED, seq, sizeof(seq) / sizeof(seq[0]));
}

static void test_tic_roads(void **state)
{
	/* The cache failed: the worker asks for TIC, the limiter grants, the fetch works. */
	static const struct step seq[] = {
	    {TS_BACKOFF, LC_SPAWN, TS_STARTING}, {TS_STARTING, LC_NEED_TIC, TS_WAITING},
	    {TS_WAITING, LC_FETCH, TS_FETCHING}, {TS_FETCHING, LC_NEED_TIC, TS_WAITING},
	    {TS_WAITING, LC_FETCH, TS_FETCHING}, {TS_FETCHING, LC_SPAWN, TS_STARTING},
	    {TS_STARTING, LC_UP, TS_UP}};

	(void)state;
	run(TS_BACKOFF, seq, sizeof(seq) / sizeof(seq[0]));
}

static void test_late_events_do_not_drag_back(void **state)
{
	enum tunnel_state s = TS_STOPPED;

	(void)state;
	/* An "up" from a worker we already told to stop. */
	assert_int_equal(lifecycle_next(TS_STOPPING, LC_UP, &s), -EPERM);
	/* A crash report for a tunnel that is stopped, or already backing off. */
	assert_int_equal(lifecycle_next(TS_STOPPED, LC_LOST, &s), -EPERM);
	assert_int_equal(lifecycle_next(TS_BACKOFF, LC_LOST, &s), -EPERM);
	/* A failed tunnel is not started by a stop request. */
	assert_int_equal(lifecycle_next(TS_FAILED, LC_STOP_IDLE, &s), -EPERM);
	assert_int_equal(s, TS_STOPPED);
}

static void test_allowed_matches_table(void **state)
{
	(void)state;
	for (int a = 0; a < TS_COUNT; a++)
		for (int b = 0; b < TS_COUNT; b++) {
			bool want = a == b;

			for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
				want |= allowed[i].from == (enum tunnel_state)a &&
				        allowed[i].to == (enum tunnel_state)b;
			assert_int_equal(lifecycle_allowed(a, b), want);
		}
	/* The direct moves fetch.c makes. */
	assert_true(lifecycle_allowed(TS_WAITING, TS_FETCHING));
	assert_true(lifecycle_allowed(TS_FETCHING, TS_WAITING));
	assert_true(lifecycle_allowed(TS_FETCHING, TS_FAILED));
	assert_false(lifecycle_allowed(TS_UP, TS_WAITING));
}

static void test_names(void **state)
{
	(void)state;
	for (int a = 0; a < TS_COUNT; a++) {
		assert_string_not_equal(lifecycle_state_name(a), "?");
		for (int b = a + 1; b < TS_COUNT; b++)
			assert_string_not_equal(lifecycle_state_name(a), lifecycle_state_name(b));
	}
	for (int a = 0; a < LC_COUNT; a++) {
		assert_string_not_equal(lifecycle_event_name(a), "?");
		for (int b = a + 1; b < LC_COUNT; b++)
			assert_string_not_equal(lifecycle_event_name(a), lifecycle_event_name(b));
	}
	/* Names control prints and the tests read. */
	assert_string_equal(lifecycle_state_name(TS_UP), "up");
	assert_string_equal(lifecycle_state_name(TS_BACKOFF), "backoff");
	assert_string_equal(lifecycle_state_name(TS_STOPPED), "stopped");
	assert_string_equal(lifecycle_state_name(TS_FAILED), "failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_pair),
	    cmocka_unit_test(test_out_of_range),
	    cmocka_unit_test(test_crash_loop_then_stop),
	    cmocka_unit_test(test_tic_roads),
	    cmocka_unit_test(test_late_events_do_not_drag_back),
	    cmocka_unit_test(test_allowed_matches_table),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
