/*
 * Restart back-off: exponential, jittered, bounded, reset after a stable
 * run.  The clock (how long a worker ran) and the random numbers are
 * injected; expected delays are computed here with ldexp, independently
 * of the doubling loop in backoff.c.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"

static const struct backoff_policy P = {1.0, 300.0, 60.0, 0.25};

static double want_nominal(unsigned streak)
{
	return fmin(P.max_s, ldexp(P.base_s, (int)streak - 1));
}

static void test_nominal_doubles_up_to_the_bound(void **state)
{
	(void)state;
	for (unsigned k = 1; k <= 40; k++)
		assert_float_equal(backoff_nominal(&P, k), want_nominal(k), 1e-9);
	assert_float_equal(backoff_nominal(&P, 1), 1.0, 0);
	assert_float_equal(backoff_nominal(&P, 9), 256.0, 0);
	assert_float_equal(backoff_nominal(&P, 10), 300.0, 0);
	assert_float_equal(backoff_nominal(&P, 4000000000u), 300.0, 0);
}

static void test_series_without_jitter(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, &P);
	/* Crashes 2 s after each start: 1, 2, 4, 8 ... */
	for (unsigned k = 1; k <= 12; k++) {
		assert_float_equal(backoff_failure(&b, 2.0, 0.0), want_nominal(k), 1e-9);
		assert_int_equal(b.streak, k);
	}
}

static void test_jitter_only_shortens_within_bounds(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull; /* xorshift: fixed, reproducible */
	struct backoff b;

	(void)state;
	backoff_init(&b, &P);
	for (int i = 0; i < 20000; i++) {
		double rnd, d, nominal;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		rnd = (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
		/* Mostly short runs, now and then a stable one. */
		d = backoff_failure(&b, (x & 63) == 0 ? 120.0 : 0.5, rnd);
		nominal = want_nominal(b.streak);
		assert_true(d <= nominal + 1e-9);
		assert_true(d >= nominal * (1.0 - P.jitter) - 1e-9);
		assert_true(d <= P.max_s);
		assert_true(d > 0);
	}
}

static void test_random_extremes_and_clamping(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, &P);
	b.streak = 3; /* next failure is the 4th: nominal 8 */
	assert_float_equal(backoff_failure(&b, 1.0, 0.999999), 8.0 * (1 - 0.25 * 0.999999), 1e-9);
	b.streak = 3;
	assert_float_equal(backoff_failure(&b, 1.0, -3.0), 8.0, 1e-9);
	b.streak = 3;
	assert_float_equal(backoff_failure(&b, 1.0, 7.0), 6.0, 1e-9);
	b.streak = 3;
	assert_float_equal(backoff_failure(&b, 1.0, NAN), 8.0, 1e-9);
}

static void test_stable_run_resets(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, &P);
	backoff_failure(&b, 1.0, 0);
	backoff_failure(&b, 1.0, 0);
	assert_float_equal(backoff_failure(&b, 59.9, 0), 4.0, 1e-9);
	/* Ran a full stable period: a new series. */
	assert_float_equal(backoff_failure(&b, 60.0, 0), 1.0, 1e-9);
	assert_int_equal(b.streak, 1);
	assert_float_equal(backoff_failure(&b, 3.0, 0), 2.0, 1e-9);
	backoff_reset(&b);
	assert_float_equal(backoff_failure(&b, 3.0, 0), 1.0, 1e-9);
}

static void test_crash_loop_on_a_fake_clock(void **state)
{
	/* A worker that dies 0.2 s after every start, for an hour: the restarts
	 * slow down to one per max_s, and the count stays small. */
	struct backoff b;
	double now = 0, last_delay = 0;
	unsigned starts = 0;

	(void)state;
	backoff_init(&b, &P);
	while (now < 3600) {
		starts++;
		now += 0.2;
		last_delay = backoff_failure(&b, 0.2, 0.5);
		now += last_delay;
	}
	assert_float_equal(last_delay, 300.0 * (1 - 0.25 * 0.5), 1e-9);
	/* 9 doubling steps (~450 s in all) then one per 262.5 s: at most ~22. */
	assert_true(starts <= 25);
	assert_true(starts >= 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nominal_doubles_up_to_the_bound),
	    cmocka_unit_test(test_series_without_jitter),
	    cmocka_unit_test(test_jitter_only_shortens_within_bounds),
	    cmocka_unit_test(test_random_extremes_and_clamping),
	    cmocka_unit_test(test_stable_run_resets),
	    cmocka_unit_test(test_crash_loop_on_a_fake_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
