/*
 * The pure half of the endpoint updates (issue 23): the persisted state's
 * text, the check of the update child's result, the back-off, the
 * fingerprint of an [update] section.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "dyndns.h"
#include "update_plan.h"

static struct in_addr a4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

#define FP "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_round_trip(void **state)
{
	struct update_saved s = {0}, back;
	char buf[UPDATE_STATE_MAX];
	int n;

	(void)state;
	s.ok_addr = a4("198.51.100.7");
	s.ok_at = 1700000000;
	snprintf(s.ok_word, sizeof(s.ok_word), "good");
	s.last_at = 1700000100;
	s.last_addr = a4("203.0.113.5");
	snprintf(s.last_word, sizeof(s.last_word), "badauth");
	snprintf(s.last_reason, sizeof(s.last_reason),
	         "192.0.2.1:443: the broker answered 'badauth'");
	s.stopped = true;
	memcpy(s.stop_fp, FP, sizeof(FP));
	s.retry_at = 1700000200;
	n = update_saved_format(&s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "ok_addr 198.51.100.7\nok_at 1700000000\nok_word good\n"
	                         "last_at 1700000100\nlast_addr 203.0.113.5\nlast_word badauth\n"
	                         "last_reason 192.0.2.1:443: the broker answered 'badauth'\n"
	                         "stopped " FP "\nretry_at 1700000200\n");
	update_saved_parse(buf, (size_t)n, &back);
	assert_int_equal(back.ok_addr.s_addr, s.ok_addr.s_addr);
	assert_int_equal(back.ok_at, s.ok_at);
	assert_string_equal(back.ok_word, "good");
	assert_int_equal(back.last_addr.s_addr, s.last_addr.s_addr);
	assert_string_equal(back.last_word, "badauth");
	assert_string_equal(back.last_reason, s.last_reason);
	assert_true(back.stopped);
	assert_string_equal(back.stop_fp, FP);
	assert_int_equal(back.retry_at, s.retry_at);
	assert_int_equal(update_saved_format(&s, buf, 40), -ENOSPC);
}

static void test_empty_and_corrupt(void **state)
{
	struct update_saved s;
	char buf[UPDATE_STATE_MAX];
	const char *bad = "ok_addr 300.1.1.1\nok_at -5\nstopped 0123\nlast_word x\x01y\n"
	                  "garbage\nretry_at 12abc\nlast_addr\n";

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_true(update_saved_format(&s, buf, sizeof(buf)) > 0);
	update_saved_parse(buf, strlen(buf), &s);
	assert_int_equal(s.ok_addr.s_addr, 0);
	assert_false(s.stopped);
	assert_string_equal(s.ok_word, "");
	update_saved_parse(bad, strlen(bad), &s);
	assert_int_equal(s.ok_addr.s_addr, 0); /* an address that is none: no update known */
	assert_int_equal(s.ok_at, 0);
	assert_false(s.stopped); /* not a fingerprint */
	assert_string_equal(s.last_word, "x?y");
	assert_int_equal(s.retry_at, 0);
}

static void test_result_check(void **state)
{
	struct ipc_update_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.verdict = DYNDNS_OK;
	snprintf(r.word, sizeof(r.word), "good");
	assert_true(update_result_check(&r));
	r.err = -EPROTO; /* success without an answer: a lie */
	assert_false(update_result_check(&r));
	r.err = 0;
	snprintf(r.word, sizeof(r.word), "badauth"); /* success with a refusal's word */
	assert_false(update_result_check(&r));
	r.verdict = 7;
	assert_false(update_result_check(&r));
	r.verdict = DYNDNS_STOP;
	memset(r.reason, 'A', sizeof(r.reason)); /* no NUL, and a control character */
	r.reason[3] = '\n';
	assert_true(update_result_check(&r));
	assert_int_equal(strlen(r.reason), sizeof(r.reason) - 1);
	assert_int_equal(r.reason[3], '?');
	r.verdict = DYNDNS_RETRY;
	r.err = 5; /* errors are negative */
	assert_false(update_result_check(&r));
}

static void test_backoff(void **state)
{
	(void)state;
	assert_true(update_backoff_s(1) == 30.0);
	assert_true(update_backoff_s(2) == 60.0);
	assert_true(update_backoff_s(3) == 120.0);
	assert_true(update_backoff_s(7) == 1800.0);
	assert_true(update_backoff_s(1000) == 1800.0);
}

static void test_fingerprint(void **state)
{
	struct tunnel_update u;
	char a[UPDATE_FP_HEX + 1], b[UPDATE_FP_HEX + 1];

	(void)state;
	memset(&u, 0, sizeof(u));
	snprintf(u.url, sizeof(u.url), "https://h/");
	snprintf(u.username, sizeof(u.username), "user");
	snprintf(u.key, sizeof(u.key), "key");
	snprintf(u.hostname, sizeof(u.hostname), "1");
	update_fingerprint(&u, a);
	assert_int_equal(strlen(a), UPDATE_FP_HEX);
	update_fingerprint(&u, b);
	assert_string_equal(a, b);
	snprintf(u.key, sizeof(u.key), "key2"); /* the key fixed: updates resume */
	update_fingerprint(&u, b);
	assert_string_not_equal(a, b);
	/* fields are separated: "user"+"key" is not "use"+"rkey" */
	snprintf(u.key, sizeof(u.key), "key");
	snprintf(u.username, sizeof(u.username), "use");
	snprintf(u.key, sizeof(u.key), "rkey");
	update_fingerprint(&u, b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_empty_and_corrupt),
	    cmocka_unit_test(test_result_check), cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
