/* The tunnel registry: lookup, state transitions and change events, on a fake clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "registry.h"
#include "workers.h"

static time_t fake_now = 1000;

static time_t fake_clock(void)
{
	return fake_now;
}

static struct tunnel_entry entry(const char *name, bool valid)
{
	struct tunnel_entry e;

	memset(&e, 0, sizeof(e));
	snprintf(e.conf.name, sizeof(e.conf.name), "%s", name);
	e.valid = valid;
	return e;
}

/* What a subscriber saw, in order. */
struct seen {
	struct registry_change c[64];
	char name[64][IFNAMSIZ];
	size_t n;
};

static void record(void *arg, const struct registry_change *c)
{
	struct seen *s = arg;

	if (s->n < 64) {
		s->c[s->n] = *c;
		snprintf(s->name[s->n], IFNAMSIZ, "%s", c->t->entry.conf.name);
		s->n++;
	}
}

static void test_thousand_by_name(void **state)
{
	struct registry *r = registry_new(fake_clock);
	char name[IFNAMSIZ];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		struct tunnel_entry e;

		snprintf(name, sizeof(name), "t%04d", i);
		e = entry(name, true);
		assert_non_null(registry_add(r, &e));
	}
	assert_int_equal(registry_count(r), 1000);
	assert_int_equal(registry_count_state(r, TS_STOPPED), 1000);
	for (int i = 0; i < 1000; i++) {
		struct tunnel_rt *t;

		snprintf(name, sizeof(name), "t%04d", i);
		t = registry_find(r, name);
		assert_non_null(t);
		assert_string_equal(t->entry.conf.name, name);
	}
	assert_null(registry_find(r, "t1000"));
	assert_null(registry_find(r, ""));
	/* Configuration order is kept. */
	{
		int i = 0;

		for (struct tunnel_rt *t = registry_first(r); t; t = registry_next(t), i++) {
			snprintf(name, sizeof(name), "t%04d", i);
			assert_string_equal(t->entry.conf.name, name);
		}
		assert_int_equal(i, 1000);
	}
	/* Every other one removed: the rest are still found, the removed ones not. */
	for (struct tunnel_rt *t = registry_first(r), *next; t; t = next) {
		next = registry_next(t);
		if (atoi(t->entry.conf.name + 1) % 2)
			registry_remove(r, t);
	}
	registry_dispatch(r);
	assert_int_equal(registry_count(r), 500);
	assert_non_null(registry_find(r, "t0998"));
	assert_null(registry_find(r, "t0999"));
	registry_free(r);
}

static void test_duplicate_names(void **state)
{
	struct registry *r = registry_new(fake_clock);
	struct tunnel_entry bad1 = entry("sixxs0", false), bad2 = entry("sixxs0", false),
	                    good = entry("sixxs0", true);
	struct tunnel_rt *b1, *b2, *g;

	(void)state;
	snprintf(bad1.error, sizeof(bad1.error), "first");
	snprintf(bad2.error, sizeof(bad2.error), "second");
	b1 = registry_add(r, &bad1);
	b2 = registry_add(r, &bad2);
	/* Two unusable files of one name: the first one reports. */
	assert_ptr_equal(registry_find(r, "sixxs0"), b1);
	g = registry_add(r, &good);
	/* The usable one wins over any unusable duplicate. */
	assert_ptr_equal(registry_find(r, "sixxs0"), g);
	/* One on its way out of the configuration is not found. */
	g->removing = true;
	assert_ptr_equal(registry_find(r, "sixxs0"), b1);
	b1->removing = true;
	assert_ptr_equal(registry_find(r, "sixxs0"), b2);
	registry_free(r);
}

static void test_transitions_and_clock(void **state)
{
	struct registry *r = registry_new(fake_clock);
	struct tunnel_entry e = entry("sixxs0", true);
	struct tunnel_rt *t = registry_add(r, &e);

	(void)state;
	fake_now = 1000;
	assert_int_equal(t->state, TS_STOPPED);
	fake_now = 1005;
	assert_int_equal(registry_feed(t, LC_SPAWN, "worker %d started", 42), 0);
	assert_int_equal(t->state, TS_STARTING);
	assert_int_equal(t->prev_state, TS_STOPPED);
	assert_int_equal(t->since, 1005);
	assert_string_equal(t->reason, "worker 42 started");
	assert_int_equal(registry_count_state(r, TS_STARTING), 1);
	assert_int_equal(registry_count_state(r, TS_STOPPED), 0);
	/* An event the life cycle does not expect changes nothing. */
	fake_now = 1010;
	assert_int_equal(registry_feed(t, LC_EXITED, "late"), -EPERM);
	assert_int_equal(t->state, TS_STARTING);
	assert_int_equal(t->since, 1005);
	assert_string_equal(t->reason, "worker 42 started");
	assert_int_equal(registry_feed(t, LC_UP, "%s", ""), 0);
	assert_int_equal(registry_count_state(r, TS_UP), 1);
	/* A direct move (the fetch scheduler's): done even when unexpected. */
	registry_set_state(t, TS_WAITING, "odd");
	assert_int_equal(t->state, TS_WAITING);
	assert_int_equal(registry_count_state(r, TS_UP), 0);
	assert_int_equal(registry_count_state(r, TS_WAITING), 1);
	registry_free(r);
}

static void test_events_deferred_and_ordered(void **state)
{
	struct registry *r = registry_new(fake_clock);
	struct tunnel_entry e = entry("sixxs0", true);
	struct seen a = {0}, b = {0};
	struct tunnel_rt *t;

	(void)state;
	assert_int_equal(registry_subscribe(r, record, &a), 0);
	assert_int_equal(registry_subscribe(r, record, &b), 0);
	t = registry_add(r, &e);
	registry_feed(t, LC_SPAWN, "x");
	registry_feed(t, LC_UP, "y");
	registry_changed(t);
	/* Nothing is delivered inside the code that made the change. */
	assert_int_equal(a.n, 0);
	assert_true(registry_pending(r));
	registry_dispatch(r);
	assert_false(registry_pending(r));
	assert_int_equal(a.n, 4);
	assert_int_equal(b.n, 4);
	assert_int_equal(a.c[0].ev, REG_ADDED);
	assert_int_equal(a.c[1].ev, REG_STATE);
	assert_int_equal(a.c[1].from, TS_STOPPED);
	assert_int_equal(a.c[1].to, TS_STARTING);
	assert_int_equal(a.c[2].from, TS_STARTING);
	assert_int_equal(a.c[2].to, TS_UP);
	assert_int_equal(a.c[3].ev, REG_CHANGED);
	/* Unsubscribed: no more events for b. */
	registry_unsubscribe(r, record, &b);
	registry_feed(t, LC_STOP_WORKER, "z");
	registry_dispatch(r);
	assert_int_equal(a.n, 5);
	assert_int_equal(b.n, 4);
	registry_free(r);
}

/* A subscriber that removes a tunnel once it is stopped (as reload does). */
static void remove_when_stopped(void *arg, const struct registry_change *c)
{
	struct registry *r = arg;

	if (c->ev == REG_STATE && c->to == TS_STOPPED && c->t->removing)
		registry_remove(r, c->t);
}

/* One that starts a tunnel whenever another one comes up (events from callbacks). */
static void chain_start(void *arg, const struct registry_change *c)
{
	struct tunnel_rt *other = arg;

	if (c->ev == REG_STATE && c->to == TS_UP && c->t != other && other->state == TS_STOPPED)
		registry_feed(other, LC_SPAWN, "chained");
}

static void test_remove_from_a_callback(void **state)
{
	struct registry *r = registry_new(fake_clock);
	struct tunnel_entry e0 = entry("sixxs0", true), e1 = entry("sixxs1", true);
	struct seen s = {0};
	struct tunnel_rt *t0, *t1;

	(void)state;
	t0 = registry_add(r, &e0);
	t1 = registry_add(r, &e1);
	registry_subscribe(r, remove_when_stopped, r);
	registry_subscribe(r, record, &s);
	registry_subscribe(r, chain_start, t1);
	registry_dispatch(r);
	s.n = 0;
	t0->removing = true;
	registry_feed(t0, LC_STOP_IDLE, "removed");
	/* Queued behind the stop: must not reach anyone once t0 is gone. */
	registry_changed(t0);
	registry_dispatch(r);
	/* record saw the stop, then the removal; the REG_CHANGED was dropped. */
	assert_int_equal(s.n, 2);
	assert_int_equal(s.c[0].ev, REG_STATE);
	assert_int_equal(s.c[1].ev, REG_REMOVED);
	assert_string_equal(s.name[1], "sixxs0");
	assert_int_equal(registry_count(r), 1);
	assert_null(registry_find(r, "sixxs0"));
	assert_ptr_equal(registry_first(r), t1);
	assert_null(registry_next(t1));
	/* Events queued by a callback are delivered in the same dispatch. */
	{
		struct tunnel_entry e2 = entry("sixxs2", true);
		struct tunnel_rt *t2 = registry_add(r, &e2);

		registry_feed(t2, LC_SPAWN, "a");
		registry_feed(t2, LC_UP, "b");
		s.n = 0;
		registry_dispatch(r);
		assert_int_equal(t1->state, TS_STARTING);
		assert_int_equal(s.n, 4); /* added, starting, up of t2; starting of t1 */
		assert_ptr_equal(s.c[3].t, t1);
		assert_false(registry_pending(r));
	}
	registry_free(r);
}

static void test_status_text_names_the_tunnels_not_up(void **state)
{
	struct registry *r = registry_new(fake_clock);
	struct tunnel_entry e0 = entry("sixxs0", true), e1 = entry("sixxs1", true),
	                    e2 = entry("sixxs2", true);
	struct tunnel_rt *t0 = registry_add(r, &e0), *t1 = registry_add(r, &e1),
	                 *t2 = registry_add(r, &e2);
	char out[480], small[120];

	(void)state;
	registry_set_state(t0, TS_STARTING, "worker 1 started");
	registry_set_state(t0, TS_UP, "%s", "");
	registry_set_state(t1, TS_WAITING, "waiting for a TIC token (next in 12 s)");
	registry_set_state(t2, TS_STARTING, "worker 2 started");
	registry_set_state(t2, TS_UP, "%s", "");
	registry_status_text(r, out, sizeof(out));
	assert_string_equal(out, "2 of 3 tunnel(s) up; not up: sixxs1 (waiting: waiting for a TIC "
	                         "token (next in 12 s))");
	registry_set_state(t2, TS_FAILED, "cannot create TUN link sixxs2: Operation not permitted");
	registry_status_text(r, out, sizeof(out));
	assert_string_equal(out, "1 of 3 tunnel(s) up; not up: sixxs1 (waiting: waiting for a TIC "
	                         "token (next in 12 s)), sixxs2 (failed: cannot create TUN link "
	                         "sixxs2: Operation not permitted)");
	/* Too small for both: the first, then "..." */
	registry_status_text(r, small, sizeof(small));
	assert_string_equal(small, "1 of 3 tunnel(s) up; not up: sixxs1 (waiting: waiting for a "
	                           "TIC token (next in 12 s)) ...");
	/* A long reason is cut, and says so. */
	registry_set_state(t1, TS_WAITING, "%0150d", 0);
	registry_status_text(r, out, sizeof(out));
	assert_non_null(strstr(out, "sixxs1 (waiting: 000000"));
	assert_non_null(strstr(out, "0000...), sixxs2 (failed: "));
	assert_int_equal(strstr(out, "...), sixxs2") - strstr(out, "sixxs1 (waiting: ") -
	                     (long)strlen("sixxs1 (waiting: "),
	                 117);
	/* A tunnel leaving the configuration is not counted. */
	t1->removing = true;
	registry_status_text(r, out, sizeof(out));
	assert_string_equal(out, "1 of 2 tunnel(s) up; not up: sixxs2 (failed: cannot create TUN "
	                         "link sixxs2: Operation not permitted)");
	registry_set_state(t2, TS_STARTING, "again");
	registry_set_state(t2, TS_UP, "%s", "");
	registry_status_text(r, out, sizeof(out));
	assert_string_equal(out, "2 of 2 tunnel(s) up");
	registry_free(r);
}

/* Issue 20 (11): a refusal names where the values came from, the cache file above all. */
static void test_origin_text(void **state)
{
	struct tunnel_conf tc;
	char buf[600];

	(void)state;
	memset(&tc, 0, sizeof(tc));
	snprintf(tc.id, sizeof(tc.id), "T1234");
	snprintf(tc.account.server, sizeof(tc.account.server), "tic.example.net");
	snprintf(tc.file, sizeof(tc.file), "/etc/aiccud/conf.d/sixxs0.conf");
	tc.tic = true;
	/* Started on the cache (no fetch just before): never "from TIC server". */
	assert_int_equal(workers_origin(true, false, false), ORIGIN_CACHE);
	workers_origin_text(&tc, workers_origin(true, false, false), "/var/lib/aiccud", buf,
	                    sizeof(buf));
	assert_string_equal(buf, "T1234 from the cache file /var/lib/aiccud/tunnels/T1234");
	workers_origin_text(&tc, workers_origin(true, false, true), "/var/lib/aiccud", buf,
	                    sizeof(buf));
	assert_string_equal(buf, "T1234 from TIC server tic.example.net (cache file "
	                         "/var/lib/aiccud/tunnels/T1234)");
	/* Held (not cached) wins over the fetch flag: the worker runs on the held text. */
	assert_int_equal(workers_origin(true, true, true), ORIGIN_HELD);
	workers_origin_text(&tc, ORIGIN_HELD, "/var/lib/aiccud", buf, sizeof(buf));
	assert_string_equal(buf, "T1234 from TIC server tic.example.net (not cached)");
	tc.tic = false;
	assert_int_equal(workers_origin(false, true, true), ORIGIN_FILE);
	/* A file tunnel is its file whatever the origin says. */
	workers_origin_text(&tc, ORIGIN_CACHE, "/var/lib/aiccud", buf, sizeof(buf));
	assert_string_equal(buf, "tunnel file /etc/aiccud/conf.d/sixxs0.conf");
}

/*
 * registry_set_params: a worker's granted parameters replace the
 * tunnel's, but the configured password stays (the report carries none);
 * the setters change no state and queue no event.
 */
static void test_setters_keep_the_password(void **state)
{
	struct registry *r = registry_new(fake_clock);
	struct tunnel_entry e = entry("sixxs0", true), e2 = entry("sixxs0", true);
	struct tunnel_params granted;
	struct tunnel_rt *t;

	(void)state;
	snprintf(e.conf.params.password, sizeof(e.conf.params.password), "%s", "secret");
	e.conf.params.prefix_len = 64;
	t = registry_add(r, &e);
	assert_non_null(t);
	registry_dispatch(r);
	memset(&granted, 0, sizeof(granted));
	granted.prefix_len = 48;
	registry_set_params(t, &granted);
	assert_int_equal(t->entry.conf.params.prefix_len, 48);
	assert_string_equal(t->entry.conf.params.password, "secret");
	registry_set_reason(t, "because %d", 7);
	registry_set_refresh_msg(t, "refresh: %s", "under way");
	assert_string_equal(t->reason, "because 7");
	assert_string_equal(t->refresh_msg, "refresh: under way");
	assert_int_equal(t->state, TS_STOPPED);
	assert_false(registry_pending(r));
	/* A new configuration replaces the whole entry, password included. */
	e2.conf.params.prefix_len = 56;
	registry_set_entry(t, &e2);
	assert_int_equal(t->entry.conf.params.prefix_len, 56);
	assert_string_equal(t->entry.conf.params.password, "");
	registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_thousand_by_name),
	    cmocka_unit_test(test_duplicate_names),
	    cmocka_unit_test(test_transitions_and_clock),
	    cmocka_unit_test(test_status_text_names_the_tunnels_not_up),
	    cmocka_unit_test(test_events_deferred_and_ordered),
	    cmocka_unit_test(test_remove_from_a_callback),
	    cmocka_unit_test(test_origin_text),
	    cmocka_unit_test(test_setters_keep_the_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
