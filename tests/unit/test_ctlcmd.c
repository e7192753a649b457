/*
 * The control-command table (ctlcmd.h) that the daemon's dispatch and
 * aiccuctl both use: every command once, in id order, and the daemon's
 * unknown-command reply built from it (so it cannot go stale again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control_int.h"
#include "ctlcmd.h"

static void test_ids_are_indexes_and_names_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < CTLCMD_COUNT; i++) {
		assert_int_equal(ctlcmd_table[i].id, i);
		assert_non_null(ctlcmd_table[i].name);
		assert_non_null(ctlcmd_table[i].usage);
		assert_non_null(ctlcmd_table[i].summary);
		/* the usage starts with the command's own name */
		assert_int_equal(strncmp(ctlcmd_table[i].usage, ctlcmd_table[i].name,
		                         strlen(ctlcmd_table[i].name)),
		                 0);
		assert_ptr_equal(ctlcmd_find(ctlcmd_table[i].name), &ctlcmd_table[i]);
		assert_true(ctlcmd_table[i].min_args <= ctlcmd_table[i].max_args);
	}
	assert_null(ctlcmd_find("frobnicate"));
	assert_null(ctlcmd_find(""));
	assert_null(ctlcmd_find("statu"));
}

static void test_changes_need_privilege(void **state)
{
	static const char *const mutating[] = {"start",   "stop",   "restart",
	                                       "refresh", "reload", "log-level"};
	static const char *const reading[] = {"status",       "wait",    "limiter",
	                                      "check-config", "version", "monitor"};

	(void)state;
	for (size_t i = 0; i < sizeof(mutating) / sizeof(mutating[0]); i++)
		assert_int_equal(ctlcmd_find(mutating[i])->flags, CTLCMD_DAEMON | CTLCMD_MUTATING);
	for (size_t i = 0; i < sizeof(reading) / sizeof(reading[0]); i++)
		assert_int_equal(ctlcmd_find(reading[i])->flags, CTLCMD_DAEMON | CTLCMD_READONLY);
	/* aiccuctl's own: never sent to aiccud */
	assert_int_equal(ctlcmd_find("import-aiccu")->flags & CTLCMD_DAEMON, 0);
	assert_int_equal(ctlcmd_find("help")->flags & CTLCMD_DAEMON, 0);
	/* metrics: aiccuctl renders the status reply; it changes nothing (read-only tier) */
	assert_int_equal(ctlcmd_find("metrics")->flags, CTLCMD_READONLY);
}

static void test_names_lists(void **state)
{
	char out[256], tiny[12];

	(void)state;
	ctlcmd_names(CTLCMD_DAEMON, out, sizeof(out));
	assert_string_equal(out, "status, start, stop, restart, refresh, wait, reload, log-level, "
	                         "limiter, check-config, version, monitor");
	/* the read-only tier: what reads, never what changes */
	ctlcmd_names(CTLCMD_READONLY, out, sizeof(out));
	assert_string_equal(out, "status, wait, limiter, check-config, version, metrics, monitor");
	ctlcmd_names(0, out, sizeof(out));
	assert_non_null(strstr(out, "import-aiccu, help"));
	ctlcmd_names(CTLCMD_MUTATING, out, sizeof(out));
	assert_string_equal(out, "start, stop, restart, refresh, reload, log-level");
	ctlcmd_names(CTLCMD_DAEMON, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

static void test_unknown_command_reply(void **state)
{
	json_t *r = control_unknown_command("frobnicate");
	const char *err = json_string_value(json_object_get(r, "error"));

	(void)state;
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "code")), "usage");
	assert_non_null(strstr(err, "'frobnicate'"));
	for (size_t i = 0; i < CTLCMD_COUNT; i++)
		if (ctlcmd_table[i].flags & CTLCMD_DAEMON)
			assert_non_null(strstr(err, ctlcmd_table[i].name));
	assert_non_null(strstr(err, "refresh"));
	assert_null(strstr(err, "import-aiccu"));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ids_are_indexes_and_names_unique),
	    cmocka_unit_test(test_changes_need_privilege),
	    cmocka_unit_test(test_names_lists),
	    cmocka_unit_test(test_unknown_command_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
