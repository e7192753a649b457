/*
 * Rate-limited logging: the window arithmetic (log_ratelimit_allow) and
 * what log_ratelimited / log_ratelimit_flush print, read back from stderr.
 * The line format: sd-daemon priority prefixes and no time of day when
 * stderr is the journal's stream ($JOURNAL_STREAM), the time otherwise;
 * the run-time log level.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>

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
	/* buf is zeroed: whatever was read is a string; a read error fails below */
	assert_false(fread(buf, 1, 8191, f) == 0 && ferror(f));
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

static void journal_stream_value_matches_exactly(void **state)
{
	(void)state;
	assert_true(log_journal_stream_matches("8:1234", 8, 1234));
	assert_false(log_journal_stream_matches("8:1234", 8, 1235));
	assert_false(log_journal_stream_matches("9:1234", 8, 1234));
	assert_false(log_journal_stream_matches("8:1234x", 8, 1234));
	assert_false(log_journal_stream_matches("8:", 8, 0));
	assert_false(log_journal_stream_matches(":1234", 0, 1234));
	assert_false(log_journal_stream_matches("8 1234", 8, 1234));
	assert_false(log_journal_stream_matches("8:-1", 8, (unsigned long long)-1));
	assert_false(log_journal_stream_matches("", 0, 0));
	assert_false(log_journal_stream_matches(NULL, 0, 0));
}

static void line_format_journal_and_plain(void **state)
{
	char out[256];
	size_t n;

	(void)state;
	n = log_format_line(out, sizeof(out), LOG_WARNING, true, "", "sixxs0",
	                    "cannot create TUN link sixxs0", "Operation not permitted");
	assert_string_equal(out,
	                    "<4>sixxs0: cannot create TUN link sixxs0: Operation not permitted\n");
	assert_int_equal(n, strlen(out));
	log_format_line(out, sizeof(out), LOG_ERR, true, "", "aiccud", "sixxs0: starting -> failed",
	                NULL);
	assert_string_equal(out, "<3>aiccud: sixxs0: starting -> failed\n");
	log_format_line(out, sizeof(out), LOG_INFO, true, "", "aiccud", "up", NULL);
	assert_string_equal(out, "<6>aiccud: up\n");
	log_format_line(out, sizeof(out), LOG_DEBUG, true, "", "aiccud", "x", NULL);
	assert_string_equal(out, "<7>aiccud: x\n");
	/* The facility bits never leak into the prefix. */
	log_format_line(out, sizeof(out), LOG_DAEMON | LOG_CRIT, true, "", "aiccud", "x", NULL);
	assert_string_equal(out, "<2>aiccud: x\n");
	/* Not the journal: today's format, with the time given. */
	log_format_line(out, sizeof(out), LOG_WARNING, false, "12:34:56.789", "aiccud", "m", "e");
	assert_string_equal(out, "12:34:56.789 aiccud: m: e\n");
	/* Cut to the buffer, still one line. */
	n = log_format_line(out, 10, LOG_INFO, true, "", "aiccud", "a long message", NULL);
	assert_int_equal(n, 9);
	assert_string_equal(out, "<6>aiccu\n");
}

/* Log one line of each kind. */
static void one_of_each(void *arg)
{
	(void)arg;
	log_errx("an error");
	log_warnx("a warning");
	log_info("an info");
	log_debug("a debug");
}

/* log_init with stderr pointed at a file that $JOURNAL_STREAM names (or not). */
static char *capture_as_journal(bool journal, int verbosity)
{
	char path[] = "/tmp/test_log_j.XXXXXX", value[64], *buf = calloc(1, 4096);
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	struct stat st;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0 && buf && fstat(fd, &st) == 0);
	snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino + (journal ? 0 : 1));
	setenv("JOURNAL_STREAM", value, 1);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	log_init("test", false, verbosity);
	one_of_each(NULL);
	dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	n = pread(fd, buf, 4095, 0);
	assert_true(n >= 0);
	close(fd);
	unlink(path);
	log_init("test", false, 0); /* stderr is not that file any more */
	return buf;
}

static void journal_stream_gets_priorities_and_no_time(void **state)
{
	char *out = capture_as_journal(true, 1);

	(void)state;
	assert_string_equal(out, "<3>test: an error\n"
	                         "<4>test: a warning\n"
	                         "<6>test: an info\n"
	                         "<7>test: a debug\n");
	free(out);
}

static void other_stderr_keeps_the_time(void **state)
{
	char *out = capture_as_journal(false, 0);
	const char *p = out;

	(void)state;
	assert_null(strstr(out, "<4>"));
	assert_null(strstr(out, "a debug")); /* not -v */
	/* "HH:MM:SS.mmm test: an error" first */
	assert_true(strlen(p) > 13 && p[2] == ':' && p[5] == ':' && p[8] == '.' && p[12] == ' ');
	assert_int_equal(strncmp(p + 13, "test: an error\n", 15), 0);
	assert_non_null(strstr(out, " test: a warning\n"));
	assert_non_null(strstr(out, " test: an info\n"));
	free(out);
}

static void level_changes_what_is_printed(void **state)
{
	char *out;

	(void)state;
	log_init("test", false, 0);
	assert_int_equal(log_level_get(), LOG_INFO);
	assert_int_equal(log_level_set(LOG_WARNING), 0);
	out = capture_stderr(one_of_each, NULL);
	assert_non_null(strstr(out, "an error"));
	assert_non_null(strstr(out, "a warning"));
	assert_null(strstr(out, "an info"));
	free(out);
	assert_int_equal(log_level_set(LOG_ERR), 0);
	out = capture_stderr(one_of_each, NULL);
	assert_non_null(strstr(out, "an error"));
	assert_null(strstr(out, "a warning"));
	free(out);
	assert_int_equal(log_level_set(LOG_DEBUG), 0);
	out = capture_stderr(one_of_each, NULL);
	assert_non_null(strstr(out, "a debug"));
	free(out);
	assert_int_equal(log_level_set(LOG_NOTICE), -EINVAL);
	assert_int_equal(log_level_get(), LOG_DEBUG);
	/* Steps stop at the ends. */
	assert_int_equal(log_level_step(1), LOG_DEBUG);
	assert_int_equal(log_level_step(-1), LOG_INFO);
	assert_int_equal(log_level_step(-1), LOG_WARNING);
	assert_int_equal(log_level_step(-1), LOG_ERR);
	assert_int_equal(log_level_step(-1), LOG_ERR);
	assert_int_equal(log_level_step(1), LOG_WARNING);
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_level_parse("warning"), LOG_WARNING);
	assert_int_equal(log_level_parse("error"), LOG_ERR);
	assert_int_equal(log_level_parse("info"), LOG_INFO);
	assert_int_equal(log_level_parse("notice"), -1);
	assert_string_equal(log_level_name(LOG_WARNING), "warning");
	log_init("test", false, 0);
}

/* The datagram to /dev/log: RFC 3164 with facility daemon, cut to fit. */
static void syslog_datagram_format(void **state)
{
	struct tm tm = {
	    .tm_year = 126, .tm_mon = 11, .tm_mday = 8, .tm_hour = 1, .tm_min = 2, .tm_sec = 3};
	char out[64];
	size_t n;

	(void)state;
	n = log_format_syslog(out, sizeof(out), LOG_ERR, &tm, 42, "sixxs0", "failed", "why");
	assert_string_equal(out, "<27>Dec  8 01:02:03 aiccud[42]: sixxs0: failed: why");
	assert_int_equal(n, strlen(out));
	n = log_format_syslog(out, sizeof(out), LOG_INFO, &tm, 42, "aiccud", "up", NULL);
	assert_string_equal(out, "<30>Dec  8 01:02:03 aiccud[42]: aiccud: up");
	n = log_format_syslog(out, 16, LOG_INFO, &tm, 42, "aiccud", "up", NULL);
	assert_int_equal(n, 15);
	assert_int_equal(strlen(out), 15);
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
	    cmocka_unit_test(journal_stream_value_matches_exactly),
	    cmocka_unit_test(line_format_journal_and_plain),
	    cmocka_unit_test(syslog_datagram_format),
	    cmocka_unit_test(journal_stream_gets_priorities_and_no_time),
	    cmocka_unit_test(other_stderr_keeps_the_time),
	    cmocka_unit_test(level_changes_what_is_printed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
