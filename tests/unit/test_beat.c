/* The keep-alive schedule: start-up bursts and the confirmation back-off (beat.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "beat.h"

/* PROTOCOLS.md 7.1: 3 AYIYA no-ops, 2 heartbeats, nothing for a static tunnel. */
static void test_startup_counts(void **state)
{
	(void)state;
	assert_int_equal(beat_startup_count(TUNNEL_AYIYA), 3);
	assert_int_equal(beat_startup_count(TUNNEL_6IN4_HEARTBEAT), 2);
	assert_int_equal(beat_startup_count(TUNNEL_6IN4_STATIC), 0);
	assert_true(beat_needs_confirm(TUNNEL_6IN4_HEARTBEAT));
	assert_false(beat_needs_confirm(TUNNEL_AYIYA));
	assert_false(beat_needs_confirm(TUNNEL_6IN4_STATIC));
}

/* 1, 2, 4, ... s while below the interval, then 0: the regular beat takes over. */
static void test_confirm_backoff(void **state)
{
	const double want60[] = {1, 2, 4, 8, 16, 32, 0, 0};
	double total = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(want60) / sizeof(want60[0]); i++)
		assert_true(beat_confirm_delay(i, 60) == want60[i]);
	/* the repeats end within two intervals of the start... */
	for (unsigned i = 0; beat_confirm_delay(i, 60) > 0; i++)
		total += beat_confirm_delay(i, 60);
	assert_true(total < 2 * 60);
	/* ...and never come closer than the first delay: at most log2(interval) extra beats */
	assert_true(beat_confirm_delay(0, 2) == 1);
	assert_true(beat_confirm_delay(1, 2) == 0);
	assert_true(beat_confirm_delay(0, 1) == 0);
	/* a huge count does not overflow into a tiny delay */
	assert_true(beat_confirm_delay(UINT32_MAX, 60) == 0);
	assert_true(beat_confirm_delay(5, 1e9) == 32);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(beat_pop_state_name(BEAT_POP_WAITING), "waiting for the PoP");
	assert_string_equal(beat_pop_state_name(BEAT_POP_CONFIRMED), "confirmed");
	assert_string_equal(beat_pop_state_name(BEAT_POP_UNKNOWN), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_startup_counts),
	    cmocka_unit_test(test_confirm_backoff),
	    cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
