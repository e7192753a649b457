/*
 * Automatic routing tables: first assignment, stability across a restart
 * (the state file read back) and a reload (tunnels added and removed), a
 * file's explicit table winning, damaged state files, a full range.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tabmap.h"

/* Assign, then "restart": format, parse into a fresh map. */
static void restart(struct tabmap *m)
{
	char *text = tabmap_format(m);
	unsigned skipped = 0;

	assert_non_null(text);
	tabmap_free(m);
	assert_int_equal(tabmap_parse(m, text, strlen(text), &skipped), 0);
	assert_int_equal(skipped, 0);
	free(text);
}

static void test_first_assignment_is_distinct(void **state)
{
	struct tabmap m = {0};
	struct tabmap_want w[] = {{"sixxs0", 0}, {"sixxs1", 0}, {"he0", 201}};
	bool changed = false;

	(void)state;
	assert_int_equal(tabmap_assign(&m, w, 3, &changed), 0);
	assert_true(changed);
	assert_int_equal(w[0].table, TABMAP_FIRST);
	assert_int_equal(w[1].table, TABMAP_FIRST + 1);
	assert_int_equal(w[2].table, 201); /* the file's own is left alone */
	assert_int_equal(m.n, 2);
	tabmap_free(&m);
}

static void test_stable_across_restart_and_reload(void **state)
{
	struct tabmap m = {0};
	struct tabmap_want w[] = {{"sixxs0", 0}, {"sixxs1", 0}, {"sixxs2", 0}};
	struct tabmap_want again[] = {{"sixxs2", 0}, {"sixxs1", 0}, {"sixxs0", 0}};
	struct tabmap_want reload[] = {{"new0", 0}, {"sixxs2", 0}};
	struct tabmap_want back[] = {{"sixxs0", 0}, {"new0", 0}, {"sixxs2", 0}};
	bool changed = true;

	(void)state;
	assert_int_equal(tabmap_assign(&m, w, 3, NULL), 0);
	restart(&m);
	/* Another order (files renamed): the same tables, nothing to write. */
	assert_int_equal(tabmap_assign(&m, again, 3, &changed), 0);
	assert_false(changed);
	assert_int_equal(again[0].table, w[2].table);
	assert_int_equal(again[1].table, w[1].table);
	assert_int_equal(again[2].table, w[0].table);
	/* A reload drops sixxs0 and sixxs1, adds new0: sixxs2 keeps its table,
	 * new0 does not take a table another tunnel held. */
	assert_int_equal(tabmap_assign(&m, reload, 2, &changed), 0);
	assert_true(changed);
	assert_int_equal(reload[1].table, w[2].table);
	assert_int_equal(reload[0].table, TABMAP_FIRST + 3);
	/* sixxs0 comes back: its old table. */
	restart(&m);
	assert_int_equal(tabmap_assign(&m, back, 3, &changed), 0);
	assert_false(changed);
	assert_int_equal(back[0].table, w[0].table);
	tabmap_free(&m);
}

static void test_a_files_table_wins(void **state)
{
	struct tabmap m = {0};
	struct tabmap_want w[] = {{"sixxs0", 0}, {"sixxs1", 0}};
	struct tabmap_want later[] = {{"sixxs0", 0}, {"sixxs1", 0}, {"static0", TABMAP_FIRST}};
	bool changed = false;

	(void)state;
	assert_int_equal(tabmap_assign(&m, w, 2, NULL), 0);
	assert_int_equal(w[0].table, TABMAP_FIRST);
	/* A file now names sixxs0's table: sixxs0 moves, sixxs1 stays. */
	assert_int_equal(tabmap_assign(&m, later, 3, &changed), 0);
	assert_true(changed);
	assert_int_equal(later[2].table, TABMAP_FIRST);
	assert_int_equal(later[1].table, w[1].table);
	assert_int_not_equal(later[0].table, TABMAP_FIRST);
	assert_int_not_equal(later[0].table, later[1].table);
	assert_in_range(later[0].table, TABMAP_FIRST, TABMAP_LAST);
	tabmap_free(&m);
}

static void test_damaged_file(void **state)
{
	static const char text[] = "# comment\n"
	                           "sixxs0 1570005\n"
	                           "sixxs0 1570006\n" /* name again */
	                           "other 1570005\n"  /* table again */
	                           "low 200\n"        /* outside the range */
	                           "junk\n"
	                           "a/b 1570007\n" /* not an interface name */
	                           "long012345678901 1570008\n"
	                           "tail 1570009 x\n"
	                           "\n"
	                           "sixxs1 1570001"; /* no newline at the end */
	struct tabmap m = {0};
	struct tabmap_want w[] = {{"sixxs1", 0}, {"sixxs0", 0}, {"other", 0}};
	unsigned skipped = 0;

	(void)state;
	assert_int_equal(tabmap_parse(&m, text, sizeof(text) - 1, &skipped), 0);
	assert_int_equal(skipped, 7);
	assert_int_equal(m.n, 2);
	assert_int_equal(tabmap_assign(&m, w, 3, NULL), 0);
	assert_int_equal(w[0].table, 1570001);
	assert_int_equal(w[1].table, 1570005);
	assert_int_equal(w[2].table, TABMAP_FIRST);
	tabmap_free(&m);
	/*
	 * An indented '#' starts a comment too, not a name "#x": formatted, it
	 * would come back a comment and the assignment would be lost (a
	 * finding of fuzz_tabmap).
	 */
	skipped = 0;
	assert_int_equal(tabmap_parse(&m, " #x 1570003\n\t# 1570004\n", 23, &skipped), 0);
	assert_int_equal(m.n, 0);
	assert_int_equal(skipped, 0);
	tabmap_free(&m);
	/* NUL bytes: the line is skipped, the rest is read. */
	assert_int_equal(tabmap_parse(&m, "a 1570000\nb\0 1570001\nc 1570002\n", 31, &skipped), 0);
	assert_int_equal(m.n, 2);
	tabmap_free(&m);
}

static void test_full_range(void **state)
{
	size_t n = TABMAP_LAST - TABMAP_FIRST + 2;
	struct tabmap_want *w = calloc(n, sizeof(*w));
	char(*names)[IFNAMSIZ] = calloc(n, IFNAMSIZ);
	struct tabmap m = {0};

	(void)state;
	assert_non_null(w);
	assert_non_null(names);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], IFNAMSIZ, "t%zu", i);
		w[i].name = names[i];
	}
	assert_int_equal(tabmap_assign(&m, w, n - 1, NULL), 0);
	assert_int_equal(w[n - 2].table, TABMAP_LAST);
	assert_int_equal(tabmap_assign(&m, w, n, NULL), -ENOSPC);
	tabmap_free(&m);
	free(w);
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_assignment_is_distinct),
	    cmocka_unit_test(test_stable_across_restart_and_reload),
	    cmocka_unit_test(test_a_files_table_wins),
	    cmocka_unit_test(test_damaged_file),
	    cmocka_unit_test(test_full_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
