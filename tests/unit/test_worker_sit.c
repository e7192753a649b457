/*
 * The worker's reading of netcfg_sit_add's answer: the new link's index
 * (> 0) means the sit link is there; only "no sit in this kernel" on
 * datapath = auto falls back to user space; everything else fails.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "worker.h"

static void test_index_is_success(void **state)
{
	(void)state;
	/* The bug of issue 18: an index was read as an error. */
	assert_int_equal(worker_sit_decide(1, DATAPATH_AUTO), WORKER_SIT_USE);
	assert_int_equal(worker_sit_decide(4, DATAPATH_AUTO), WORKER_SIT_USE);
	assert_int_equal(worker_sit_decide(4, DATAPATH_KERNEL), WORKER_SIT_USE);
	assert_int_equal(worker_sit_decide(123456, DATAPATH_KERNEL), WORKER_SIT_USE);
}

static void test_zero_names_no_link(void **state)
{
	(void)state;
	assert_int_equal(worker_sit_decide(0, DATAPATH_AUTO), WORKER_SIT_FAIL);
	assert_int_equal(worker_sit_decide(0, DATAPATH_KERNEL), WORKER_SIT_FAIL);
}

static void test_no_sit_falls_back_on_auto(void **state)
{
	static const int missing[] = {-EOPNOTSUPP, -ENODEV, -EINVAL, -EAFNOSUPPORT};

	(void)state;
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		assert_int_equal(worker_sit_decide(missing[i], DATAPATH_AUTO), WORKER_SIT_FALLBACK);
		assert_int_equal(worker_sit_decide(missing[i], DATAPATH_KERNEL), WORKER_SIT_FAIL);
	}
}

static void test_other_errors_fail(void **state)
{
	static const int other[] = {-EPERM, -EEXIST, -ENOBUFS, -ETIMEDOUT, -ENOMEM};

	(void)state;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_int_equal(worker_sit_decide(other[i], DATAPATH_AUTO), WORKER_SIT_FAIL);
		assert_int_equal(worker_sit_decide(other[i], DATAPATH_KERNEL), WORKER_SIT_FAIL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_is_success),
	    cmocka_unit_test(test_zero_names_no_link),
	    cmocka_unit_test(test_no_sit_falls_back_on_auto),
	    cmocka_unit_test(test_other_errors_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
