/* Control request lines (invalid bytes answered at once) and connection admission. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "control_req.h"

static enum creq_status scan(const char *s, size_t *at)
{
	return creq_scan(s, strlen(s), 511, at);
}

static void test_scan(void **state)
{
	size_t at;
	char nul[] = "status\0x\n";

	(void)state;
	assert_int_equal(scan("status", &at), CREQ_INCOMPLETE);
	assert_int_equal(scan("status sixxs0\n", &at), CREQ_LINE);
	assert_int_equal(at, 13);
	assert_int_equal(scan("status\r\n", &at), CREQ_LINE);
	assert_int_equal(at, 6);
	assert_int_equal(scan("status\r", &at), CREQ_INCOMPLETE); /* the LF may follow */
	assert_int_equal(scan("sta\rtus\n", &at), CREQ_BAD_BYTE);
	assert_int_equal(at, 3);
	/* a NUL: answered at once, without waiting for the rest */
	assert_int_equal(creq_scan(nul, 7, 511, &at), CREQ_BAD_BYTE);
	assert_int_equal(at, 6);
	assert_int_equal(scan("stat\x1b[2Jus\n", &at), CREQ_BAD_BYTE);
	assert_int_equal(at, 4);
	assert_int_equal(scan("status \xc3\xa9\n", &at), CREQ_BAD_BYTE);
	assert_int_equal(scan("status\x7f", &at), CREQ_BAD_BYTE);
	assert_int_equal(scan("start\t--all\n", &at), CREQ_LINE);
	/* bytes after the LF are not looked at */
	assert_int_equal(scan("version\n\x01", &at), CREQ_LINE);
	char longline[600];
	memset(longline, 'a', sizeof(longline));
	assert_int_equal(creq_scan(longline, 511, 511, &at), CREQ_TOO_LONG);
	assert_int_equal(creq_scan(longline, 510, 511, &at), CREQ_INCOMPLETE);
}

static void test_split(void **state)
{
	char a[] = "  start\t--no-wait  sixxs0 ", b[] = "", c[] = "a b c d e";
	char *argv[5];

	(void)state;
	assert_int_equal(creq_split(a, argv, 4), 3);
	assert_string_equal(argv[0], "start");
	assert_string_equal(argv[1], "--no-wait");
	assert_string_equal(argv[2], "sixxs0");
	assert_null(argv[3]);
	assert_int_equal(creq_split(b, argv, 4), 0);
	assert_int_equal(creq_split(c, argv, 4), -E2BIG);
}

static const struct admit_limits lim = {64, 8, 16};

static enum admit_verdict decide(struct admit_counts c, bool root, enum admit_scope *scope)
{
	return admit_decide(&lim, &c, root, scope);
}

static void test_admit(void **state)
{
	enum admit_scope sc;

	(void)state;
	assert_int_equal(decide((struct admit_counts){0}, false, &sc), ADMIT_OK);
	/* one uid holds its share: refused, even when those are idle */
	assert_int_equal(decide((struct admit_counts){.total = 16,
	                                              .nonroot = 16,
	                                              .of_uid = 16,
	                                              .idle = 16,
	                                              .idle_nonroot = 16,
	                                              .idle_of_uid = 16},
	                        false, &sc),
	                 ADMIT_REFUSE_UID);
	assert_int_equal(
	    decide((struct admit_counts){.total = 16, .nonroot = 16, .of_uid = 16}, false, &sc),
	    ADMIT_REFUSE_UID);
	/* non-root peers share 56; the last 8 are root's */
	assert_int_equal(
	    decide((struct admit_counts){.total = 56, .nonroot = 56, .of_uid = 1}, false, &sc),
	    ADMIT_REFUSE_FULL);
	assert_int_equal(decide((struct admit_counts){.total = 56, .nonroot = 56}, true, &sc),
	                 ADMIT_OK);
	/* all 64 taken: root closes an idle one of anybody's */
	assert_int_equal(
	    decide((struct admit_counts){.total = 64, .nonroot = 56, .idle = 3}, true, &sc),
	    ADMIT_EVICT_IDLE);
	assert_int_equal(sc, ADMIT_SCOPE_ANY);
	assert_int_equal(decide((struct admit_counts){.total = 64, .nonroot = 56}, true, &sc),
	                 ADMIT_REFUSE_FULL);
	/* root's own idle flood does not lock root out */
	assert_int_equal(
	    decide((struct admit_counts){.total = 64, .of_uid = 64, .idle = 64}, true, &sc),
	    ADMIT_EVICT_IDLE);
	/* a non-root peer never takes a root connection's slot */
	assert_int_equal(
	    decide((struct admit_counts){.total = 64, .nonroot = 10, .idle = 54}, false, &sc),
	    ADMIT_REFUSE_FULL);
	assert_string_equal(admit_verdict_text(ADMIT_REFUSE_UID),
	                    "this uid already holds its share of connections");
}

static void test_monitor_limits(void **state)
{
	static const struct monitor_limits ml = {16, 4, 65536};

	(void)state;
	assert_int_equal(monitor_admit(&ml, 0, 0, false), MONITOR_OK);
	assert_int_equal(monitor_admit(&ml, 15, 3, false), MONITOR_OK);
	/* a non-root uid holds 4 of the 16, root as many as are free */
	assert_int_equal(monitor_admit(&ml, 4, 4, false), MONITOR_REFUSE_UID);
	assert_int_equal(monitor_admit(&ml, 15, 15, true), MONITOR_OK);
	assert_int_equal(monitor_admit(&ml, 16, 0, false), MONITOR_REFUSE_FULL);
	assert_int_equal(monitor_admit(&ml, 16, 16, true), MONITOR_REFUSE_FULL);
	/* up to buf_max waits for a reader; one byte more drops it */
	assert_false(monitor_overflows(&ml, 0, 100));
	assert_false(monitor_overflows(&ml, 65536 - 100, 100));
	assert_true(monitor_overflows(&ml, 65536 - 99, 100));
	assert_true(monitor_overflows(&ml, 0, 65537));
	/* no wrap-around with absurd sizes */
	assert_true(monitor_overflows(&ml, (size_t)-1, 100));
	assert_true(monitor_overflows(&ml, 100, (size_t)-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scan),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_admit),
	    cmocka_unit_test(test_monitor_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
