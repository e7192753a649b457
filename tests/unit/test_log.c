/*
 * Rate-limited logging: the window arithmetic (log_ratelimit_allow) and
 * what log_ratelimited / log_ratelimit_flush print, read back from stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static void burst_then_drop_then_new_window(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(10.0, 3);
	uint64_t dropped = 99;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(log_ratelimit_allow(&rl, 100.0 + i, &dropped));
		assert_int_equal(dropped, 0);
	}
	for (int i = 0; i < 5; i++)
		assert_false(log_ratelimit_allow(&rl, 103.0 + i, &dropped));
	/* Still inside the window that opened at 100. */
	assert_false(log_ratelimit_allow(&rl, 109.9, &dropped));
	/* The window is over: printed again, with the six drops reported once. */
	assert_true(log_ratelimit_allow(&rl, 110.0, &dropped));
	assert_int_equal(dropped, 6);
	assert_true(log_ratelimit_allow(&rl, 110.5, &dropped));
	assert_int_equal(dropped, 0);
}

static void clock_going_back_opens_a_window(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(60.0, 1);
	uint64_t dropped;

	(void)state;
	assert_true(log_ratelimit_allow(&rl, 500.0, &dropped));
	assert_false(log_ratelimit_allow(&rl, 501.0, &dropped));
	assert_true(log_ratelimit_allow(&rl, 10.0, &dropped));
	assert_int_equal(dropped, 1);
}

static void zero_burst_means_one(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(1.0, 0);
	uint64_t dropped;

	(void)state;
	assert_true(log_ratelimit_allow(&rl, 1.0, &dropped));
	assert_false(log_ratelimit_allow(&rl, 1.1, &dropped));
}

/* Run fn with stderr sent to a file; return what it printed (malloc'd). */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char *buf = calloc(1, 8192);
	FILE *f;

	assert_true(fd >= 0 && saved >= 0 && buf);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn(arg);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	fread(buf, 1, 8191, f);
	fclose(f);
	unlink(path);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The fake monotonic clock the rate-limited calls below are given. */
static double fake_now = 100.0;

static void flood(void *arg)
{
	struct log_ratelimit *rl = arg;

	for (int i = 0; i < 1000; i++)
		log_ratelimited_at(rl, fake_now, "sixxs0: bad packet %d from 192.0.2.1", i);
}

/* The clock-reading form: one line, with the real monotonic clock. */
static void one_line(void *arg)
{
	log_ratelimited(arg, "sixxs0: one line");
}

static void printed_lines_are_bounded(void **state)
{
	/* An hour-long window: the whole loop falls into it. */
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(3600.0, 5);
	char *out;

	(void)state;
	log_init("test", false, 0);
	out = capture_stderr(flood, &rl);
	assert_int_equal(count(out, "bad packet"), 5);
	assert_non_null(strstr(out, "test: sixxs0: bad packet 0 from 192.0.2.1"));
	assert_non_null(strstr(out, "bad packet 4 "));
	assert_null(strstr(out, "bad packet 5 "));
	assert_int_equal(rl.suppressed, 995);
	free(out);
}

static void flush_now(void *arg)
{
	log_ratelimit_flush_at(arg, fake_now, "sixxs0: AYIYA");
}

static void flush_reports_pending_drops_after_the_window(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(60.0, 1);
	char *out;

	(void)state;
	log_init("test", false, 0);
	fake_now = 100.0;
	free(capture_stderr(flood, &rl));
	fake_now = 159.9; /* window still open: nothing */
	out = capture_stderr(flush_now, &rl);
	assert_string_equal(out, "");
	free(out);
	fake_now = 160.0;
	out = capture_stderr(flush_now, &rl);
	assert_non_null(
	    strstr(out, "sixxs0: AYIYA: 999 similar warning(s) suppressed in the last 60 s"));
	free(out);
	out = capture_stderr(flush_now, &rl); /* reported once */
	assert_string_equal(out, "");
	free(out);
	/* The next line is printed and mentions no stale count. */
	out = capture_stderr(flood, &rl);
	assert_non_null(strstr(out, "bad packet 0 from 192.0.2.1\n"));
	free(out);
}

static void clock_reading_form_prints(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(3600.0, 1);
	char *out;

	(void)state;
	log_init("test", false, 0);
	out = capture_stderr(one_line, &rl);
	assert_non_null(strstr(out, "test: sixxs0: one line"));
	free(out);
	out = capture_stderr(one_line, &rl); /* the same hour: dropped */
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(rl.suppressed, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(burst_then_drop_then_new_window),
	    cmocka_unit_test(clock_going_back_opens_a_window),
	    cmocka_unit_test(zero_burst_means_one),
	    cmocka_unit_test(printed_lines_are_bounded),
	    cmocka_unit_test(flush_reports_pending_drops_after_the_window),
	    cmocka_unit_test(clock_reading_form_prints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
