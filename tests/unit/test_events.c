/*
 * The events of aiccuctl monitor (events.h): the one sink gets what is
 * published, long texts are cut visibly, kind names go both ways, and
 * the human line has the clock, the kind, the tunnel and the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "events.h"

static struct events_event got;
static int ngot;

static void sink(void *arg, const struct events_event *e)
{
	assert_ptr_equal(arg, &got);
	got = *e;
	ngot++;
}

static void test_no_sink_no_delivery(void **state)
{
	(void)state;
	ngot = 0;
	events_set_sink(NULL, NULL);
	assert_false(events_wanted());
	events_publish(EVENTS_REPAIR, "sixxs0", "restored %d", 1);
	assert_int_equal(ngot, 0);
}

static void test_publish(void **state)
{
	time_t before = time(NULL);

	(void)state;
	ngot = 0;
	events_set_sink(sink, &got);
	assert_true(events_wanted());
	events_publish(EVENTS_REPAIR, "sixxs0", "rule %s restored", "from 2001:db8:a::2");
	assert_int_equal(ngot, 1);
	assert_int_equal(got.kind, EVENTS_REPAIR);
	assert_string_equal(got.tunnel, "sixxs0");
	assert_string_equal(got.text, "rule from 2001:db8:a::2 restored");
	assert_string_equal(got.from, "");
	assert_true(got.time >= (double)before && got.time < (double)before + 5);
	events_publish(EVENTS_RELOAD, NULL, "reloaded");
	assert_string_equal(got.tunnel, "");
	events_publish_state("sixxs1", "starting", "up", "%s", "");
	assert_int_equal(got.kind, EVENTS_STATE);
	assert_string_equal(got.from, "starting");
	assert_string_equal(got.to, "up");
	/* a kind out of range is not delivered */
	events_publish(EVENTS_KIND_COUNT, NULL, "x");
	assert_int_equal(ngot, 3);
	events_set_sink(NULL, NULL);
}

static void test_long_text_is_cut(void **state)
{
	char big[2 * EVENTS_TEXT_MAX];
	char name[2 * EVENTS_NAME_MAX];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	events_set_sink(sink, &got);
	events_publish(EVENTS_POP, name, "%s", big);
	assert_int_equal(strlen(got.text), EVENTS_TEXT_MAX - 1);
	assert_string_equal(got.text + EVENTS_TEXT_MAX - 4, "...");
	assert_int_equal(strlen(got.tunnel), EVENTS_NAME_MAX - 1);
	events_set_sink(NULL, NULL);
}

static void test_kind_names(void **state)
{
	(void)state;
	for (int k = 0; k < EVENTS_KIND_COUNT; k++) {
		assert_non_null(events_kind_name((enum events_kind)k));
		assert_int_equal(events_kind_find(events_kind_name((enum events_kind)k)), k);
	}
	assert_string_equal(events_kind_name(EVENTS_STATE), "state");
	assert_string_equal(events_kind_name(EVENTS_LIMITER), "limiter");
	assert_null(events_kind_name(EVENTS_KIND_COUNT));
	assert_int_equal(events_kind_find("frobnicate"), -1);
	assert_int_equal(events_kind_find(NULL), -1);
}

static void test_format(void **state)
{
	struct events_event e = {.kind = EVENTS_STATE, .time = 1700000000.25};
	char out[EVENTS_LINE_MAX], small[20];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(e.tunnel, sizeof(e.tunnel), "sixxs0");
	snprintf(e.from, sizeof(e.from), "starting");
	snprintf(e.to, sizeof(e.to), "up");
	events_format(&e, out, sizeof(out));
	assert_string_equal(out, "22:13:20.250 state sixxs0: starting -> up");
	snprintf(e.text, sizeof(e.text), "heartbeat answered");
	events_format(&e, out, sizeof(out));
	assert_string_equal(out, "22:13:20.250 state sixxs0: starting -> up: heartbeat answered");
	e.kind = EVENTS_REPAIR;
	snprintf(e.text, sizeof(e.text), "address restored");
	events_format(&e, out, sizeof(out));
	assert_string_equal(out, "22:13:20.250 repair sixxs0: address restored");
	e.tunnel[0] = '\0';
	e.kind = EVENTS_RELOAD;
	events_format(&e, out, sizeof(out));
	assert_string_equal(out, "22:13:20.250 reload: address restored");
	/* an unknown kind (a newer aiccud) still prints */
	e.kind = EVENTS_KIND_COUNT;
	events_format(&e, out, sizeof(out));
	assert_string_equal(out, "22:13:20.250 ?: address restored");
	/* like snprintf: cut to fit, the length it wanted */
	assert_true(events_format(&e, small, sizeof(small)) > (int)sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_sink_no_delivery),
	    cmocka_unit_test(test_publish),
	    cmocka_unit_test(test_long_text_is_cut),
	    cmocka_unit_test(test_kind_names),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
