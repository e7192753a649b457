/* The AYIYA replay filter: old epochs, exact duplicates, reordering, wrap, eviction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"

/* A distinct signature per (n): what SHA-1 would give, as far as the filter sees. */
static void sig_of(uint32_t n, uint8_t sig[20])
{
	uint32_t x = n * 2654435761u + 1;

	for (int i = 0; i < 20; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		sig[i] = (uint8_t)x;
	}
}

static enum replay_verdict check(struct replay *r, uint32_t n, uint32_t epoch)
{
	uint8_t sig[20];

	sig_of(n, sig);
	return replay_check(r, sig, epoch);
}

static struct replay r;

static void test_duplicates(void **state)
{
	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(check(&r, 1, 1000), REPLAY_OK);
	assert_int_equal(check(&r, 1, 1000), REPLAY_DUP); /* at once */
	assert_int_equal(check(&r, 2, 1001), REPLAY_OK);
	assert_int_equal(check(&r, 1, 1000), REPLAY_DUP); /* +1 s */
	assert_int_equal(check(&r, 3, 1005), REPLAY_OK);
	assert_int_equal(check(&r, 1, 1000), REPLAY_DUP); /* at the window's edge */
	assert_int_equal(check(&r, 4, 1006), REPLAY_OK);
	assert_int_equal(check(&r, 1, 1000), REPLAY_OLD); /* past it */
}

static void test_old(void **state)
{
	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(check(&r, 1, 5000), REPLAY_OK);
	/* captured 30 s and 110 s ago: within the PoP's clock skew, not within the window */
	assert_int_equal(check(&r, 2, 5000 - 30), REPLAY_OLD);
	assert_int_equal(check(&r, 3, 5000 - 110), REPLAY_OLD);
	assert_int_equal(check(&r, 4, 5000 - REPLAY_WINDOW), REPLAY_OK);
	assert_int_equal(check(&r, 5, 5000 - REPLAY_WINDOW - 1), REPLAY_OLD);
	/* an old packet does not move the window back */
	assert_int_equal(check(&r, 6, 5000 - REPLAY_WINDOW - 1), REPLAY_OLD);
}

static void test_reorder(void **state)
{
	static const uint32_t order[] = {100, 102, 101, 104, 103, 99, 105, 101};

	(void)state;
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_int_equal(check(&r, (uint32_t)i + 10, order[i]), REPLAY_OK);
	/* many distinct packets of one second all pass */
	for (uint32_t i = 0; i < 100000; i++)
		assert_int_equal(check(&r, 1000 + i, 105 + i / 20000), REPLAY_OK);
}

static void test_wrap(void **state)
{
	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(check(&r, 1, UINT32_MAX - 1), REPLAY_OK);
	assert_int_equal(check(&r, 2, 1), REPLAY_OK); /* 3 s later, across the wrap */
	assert_int_equal(check(&r, 1, UINT32_MAX - 1), REPLAY_DUP);
	assert_int_equal(check(&r, 3, UINT32_MAX - 10), REPLAY_OLD);
}

/* A duplicate is caught after as many other packets as the table holds per bucket. */
static void test_recent_kept(void **state)
{
	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(check(&r, 7, 50), REPLAY_OK);
	for (uint32_t i = 0; i < REPLAY_SLOTS / 4; i++)
		assert_int_equal(check(&r, 100 + i, 51), REPLAY_OK);
	assert_int_equal(check(&r, 7, 50), REPLAY_DUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duplicates),  cmocka_unit_test(test_old),
	    cmocka_unit_test(test_reorder),     cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_recent_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
