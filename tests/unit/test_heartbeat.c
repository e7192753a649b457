/*
 * Heartbeat text.  Expected digests come from coreutils' md5sum over text
 * this test writes itself from PROTOCOLS.md section 2, never from the code
 * under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "heartbeat.h"

#define PW         "beat-Pa55word"
#define EPOCH      1700000000u
#define EPOCH_S    "1700000000"
#define LOCAL6     "2001:db8:a::2"
#define LOCAL4     "192.0.2.10"
#define MD5_HEXLEN 32
#define DUMMY_MD5  "0123456789abcdef0123456789abcdef"
#define BEAT_MAX   600

static struct in6_addr local6, pop6;
static struct in_addr local4, other4;

static int setup(void **state)
{
	(void)state;
	if (inet_pton(AF_INET6, LOCAL6, &local6) != 1 ||
	    inet_pton(AF_INET6, "2001:db8:a::1", &pop6) != 1 ||
	    inet_pton(AF_INET, LOCAL4, &local4) != 1 ||
	    inet_pton(AF_INET, "192.0.2.11", &other4) != 1)
		return -1;
	return 0;
}

/* md5sum over text written to a temporary file: 32 hex digits into hex. */
static void md5sum_of(const char *text, char hex[MD5_HEXLEN + 1])
{
	char path[] = "/tmp/aiccud-test-heartbeat-XXXXXX";
	char cmd[128], line[256];
	size_t len = strlen(text);
	int fd = mkstemp(path);
	FILE *p;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "md5sum %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	unlink(path);
	assert_true(strspn(line, "0123456789abcdef") == MD5_HEXLEN);
	memcpy(hex, line, MD5_HEXLEN);
	hex[MD5_HEXLEN] = '\0';
}

/*
 * A heartbeat as a peer would send it: fields as given, digest by md5sum
 * over the same text with `hashed_epoch` in the epoch's place and the
 * password in the digest's place.
 */
static size_t make_beat(char *out, const char *ipv6, const char *ipv4, const char *epoch,
                        const char *hashed_epoch, const char *password)
{
	char text[BEAT_MAX], hex[MD5_HEXLEN + 1];
	int n;

	n = snprintf(text, sizeof(text), "HEARTBEAT TUNNEL %s %s %s %s", ipv6, ipv4, hashed_epoch,
	             password);
	assert_true(n > 0 && n < (int)sizeof(text));
	md5sum_of(text, hex);
	n = snprintf(out, BEAT_MAX, "HEARTBEAT TUNNEL %s %s %s %s", ipv6, ipv4, epoch, hex);
	assert_true(n > 0 && n < BEAT_MAX);
	return (size_t)n;
}

static enum heartbeat_verdict verify(const char *msg, const struct in_addr *src, uint64_t now,
                                     struct heartbeat_view *v)
{
	return heartbeat_verify(msg, strlen(msg), src, PW, &local6, now, v);
}

static void expect_format(const char *ipv4_field, const struct in_addr *l4, uint64_t epoch,
                          const char *epoch_text)
{
	char out[256], expect[BEAT_MAX];
	size_t n = make_beat(expect, LOCAL6, ipv4_field, epoch_text, epoch_text, PW);
	int len = heartbeat_format(out, sizeof(out), &local6, l4, epoch, PW);

	assert_int_equal(len, (int)n);
	assert_int_equal(strlen(out), n);
	assert_string_equal(out, expect);
	assert_null(strchr(out, '\n'));
}

static void test_format_sender(void **state)
{
	(void)state;
	expect_format("sender", NULL, EPOCH, EPOCH_S);
}

static void test_format_address(void **state)
{
	(void)state;
	expect_format(LOCAL4, &local4, EPOCH, EPOCH_S);
}

static void test_format_epoch_plain_decimal(void **state)
{
	(void)state;
	expect_format("sender", NULL, 0, "0");
	expect_format("sender", NULL, 7, "7");
	expect_format(LOCAL4, &local4, UINT64_MAX, "18446744073709551615");
}

static void test_format_canonical_ipv6(void **state)
{
	static const char PREFIX[] = "HEARTBEAT TUNNEL " LOCAL6 " sender ";
	struct in6_addr a;
	char out[256];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:0DB8:000a:0000:0000::0002", &a), 1);
	assert_true(heartbeat_format(out, sizeof(out), &a, NULL, EPOCH, PW) > 0);
	assert_true(strncmp(out, PREFIX, strlen(PREFIX)) == 0);
}

static void test_format_space(void **state)
{
	char out[256];
	int need;

	(void)state;
	need = heartbeat_format(out, sizeof(out), &local6, &local4, EPOCH, PW);
	assert_true(need > 0);
	/* room for the text and its NUL, not one byte less */
	assert_int_equal(heartbeat_format(out, (size_t)need, &local6, &local4, EPOCH, PW), -ENOSPC);
	assert_int_equal(heartbeat_format(out, (size_t)need + 1, &local6, &local4, EPOCH, PW),
	                 need);
	assert_int_equal(heartbeat_format(out, 0, &local6, NULL, EPOCH, PW), -ENOSPC);
	assert_int_equal(heartbeat_format(out, sizeof(out), NULL, NULL, EPOCH, PW), -EINVAL);
	assert_int_equal(heartbeat_format(out, sizeof(out), &local6, NULL, EPOCH, NULL), -EINVAL);
}

static void test_format_verifies(void **state)
{
	struct heartbeat_view v;
	char out[256];

	(void)state;
	assert_true(heartbeat_format(out, sizeof(out), &local6, &local4, EPOCH, PW) > 0);
	assert_int_equal(verify(out, &local4, EPOCH, &v), HEARTBEAT_OK);
	assert_true(heartbeat_format(out, sizeof(out), &local6, NULL, EPOCH, PW) > 0);
	assert_int_equal(verify(out, &other4, EPOCH, &v), HEARTBEAT_OK);
}

static void test_verify_ok(void **state)
{
	struct heartbeat_view v;
	char msg[BEAT_MAX];

	(void)state;
	make_beat(msg, LOCAL6, LOCAL4, EPOCH_S, EPOCH_S, PW);
	memset(&v, 0xff, sizeof(v));
	assert_int_equal(verify(msg, &local4, EPOCH, &v), HEARTBEAT_OK);
	assert_memory_equal(&v.ipv6, &local6, sizeof(local6));
	assert_false(v.sender);
	assert_int_equal(v.ipv4.s_addr, local4.s_addr);
	assert_int_equal(v.epoch, EPOCH);
	/* unknown source: the address is not checked */
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_OK);

	/* "sender": the PoP uses the datagram's source, whatever it is */
	make_beat(msg, LOCAL6, "sender", EPOCH_S, EPOCH_S, PW);
	assert_int_equal(verify(msg, &other4, EPOCH, &v), HEARTBEAT_OK);
	assert_true(v.sender);
	assert_int_equal(v.ipv4.s_addr, other4.s_addr);
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_OK);
	assert_int_equal(v.ipv4.s_addr, 0);
}

static void test_verify_syntax(void **state)
{
	static const char *bad[] = {
	    "",
	    "HEARTBEAT",
	    "HEARTBEAT TUNNEL " LOCAL6 " sender " EPOCH_S,
	    "HEARTBEAT TUNNEL " LOCAL6 " sender " EPOCH_S " " DUMMY_MD5 " extra",
	    "HEARTBEAT TUNNEL " LOCAL6 " sender " EPOCH_S " " DUMMY_MD5 " ",
	    " HEARTBEAT TUNNEL " LOCAL6 " sender " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT  TUNNEL " LOCAL6 " sender " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT\tTUNNEL " LOCAL6 " sender " EPOCH_S " " DUMMY_MD5,
	    "heartbeat tunnel " LOCAL6 " sender " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT TUNNELS " LOCAL6 " sender " EPOCH_S " " DUMMY_MD5,
	    "HELLO TUNNEL " LOCAL6 " sender " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT TUNNEL 2001:db8:a::g "
	    "sender " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT TUNNEL 192.0.2.1 sender " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT TUNNEL " LOCAL6 " 192.0.2.300 " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT TUNNEL " LOCAL6 " Sender " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT TUNNEL " LOCAL6 " " LOCAL6 " " EPOCH_S " " DUMMY_MD5,
	    "HEARTBEAT TUNNEL " LOCAL6 " sender -1700000000 " DUMMY_MD5,
	    "HEARTBEAT TUNNEL " LOCAL6 " sender +1700000000 " DUMMY_MD5,
	    "HEARTBEAT TUNNEL " LOCAL6 " sender 17000x0000 " DUMMY_MD5,
	    "HEARTBEAT TUNNEL " LOCAL6 " sender 18446744073709551616 " DUMMY_MD5,
	    "HEARTBEAT TUNNEL " LOCAL6 " sender " EPOCH_S " 0123456789abcdef0123456789abcde",
	    "HEARTBEAT TUNNEL " LOCAL6 " sender " EPOCH_S " 0123456789abcdef0123456789abcdef0",
	    "HEARTBEAT TUNNEL " LOCAL6 " sender " EPOCH_S " 0123456789abcdef0123456789abcdeg",
	    "HEARTBEAT TUNNEL " LOCAL6 " sender " EPOCH_S " \r" DUMMY_MD5,
	};
	struct heartbeat_view v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (verify(bad[i], &local4, EPOCH, &v) != HEARTBEAT_ERR_SYNTAX)
			fail_msg("not a syntax error: \"%s\"", bad[i]);
		if (heartbeat_parse(bad[i], strlen(bad[i]), &v) != HEARTBEAT_ERR_SYNTAX)
			fail_msg("parse accepted: \"%s\"", bad[i]);
	}
	assert_int_equal(heartbeat_verify(NULL, 0, NULL, PW, NULL, EPOCH, &v),
	                 HEARTBEAT_ERR_SYNTAX);
}

static void test_verify_embedded_nul(void **state)
{
	struct heartbeat_view v;
	char msg[BEAT_MAX];
	size_t n = make_beat(msg, LOCAL6, "sender", EPOCH_S, EPOCH_S, PW);

	(void)state;
	assert_int_equal(heartbeat_verify(msg, n, NULL, PW, NULL, EPOCH, &v), HEARTBEAT_OK);
	/* a NUL after the text is part of the datagram, not its end */
	assert_int_equal(heartbeat_verify(msg, n + 1, NULL, PW, NULL, EPOCH, &v),
	                 HEARTBEAT_ERR_SYNTAX);
	msg[20] = '\0';
	assert_int_equal(heartbeat_verify(msg, n, NULL, PW, NULL, EPOCH, &v), HEARTBEAT_ERR_SYNTAX);
}

static void test_verify_identity(void **state)
{
	struct heartbeat_view v;
	char msg[BEAT_MAX];

	(void)state;
	make_beat(msg, LOCAL6, "sender", EPOCH_S, EPOCH_S, PW);
	assert_int_equal(heartbeat_verify(msg, strlen(msg), NULL, PW, &pop6, EPOCH, &v),
	                 HEARTBEAT_ERR_IDENTITY);
	assert_int_equal(heartbeat_verify(msg, strlen(msg), NULL, PW, NULL, EPOCH, &v),
	                 HEARTBEAT_OK);

	/* non-canonical text of the right address; the hash covers it as sent */
	make_beat(msg, "2001:0DB8:a:0:0:0:0:0002", "sender", EPOCH_S, EPOCH_S, PW);
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_OK);
	assert_memory_equal(&v.ipv6, &local6, sizeof(local6));
}

static void test_verify_address(void **state)
{
	struct heartbeat_view v;
	char msg[BEAT_MAX];

	(void)state;
	make_beat(msg, LOCAL6, LOCAL4, EPOCH_S, EPOCH_S, PW);
	assert_int_equal(verify(msg, &other4, EPOCH, &v), HEARTBEAT_ERR_ADDRESS);
	assert_int_equal(verify(msg, &local4, EPOCH, &v), HEARTBEAT_OK);
}

static void test_verify_clock(void **state)
{
	struct heartbeat_view v;
	char msg[BEAT_MAX];

	(void)state;
	make_beat(msg, LOCAL6, "sender", EPOCH_S, EPOCH_S, PW);
	assert_int_equal(verify(msg, NULL, EPOCH + 120, &v), HEARTBEAT_OK);
	assert_int_equal(verify(msg, NULL, EPOCH - 120, &v), HEARTBEAT_OK);
	assert_int_equal(verify(msg, NULL, EPOCH + 121, &v), HEARTBEAT_ERR_CLOCK);
	assert_int_equal(verify(msg, NULL, EPOCH - 121, &v), HEARTBEAT_ERR_CLOCK);
	assert_int_equal(verify(msg, NULL, 0, &v), HEARTBEAT_ERR_CLOCK);
	assert_int_equal(verify(msg, NULL, UINT64_MAX, &v), HEARTBEAT_ERR_CLOCK);
}

static void test_verify_hash(void **state)
{
	struct heartbeat_view v;
	char msg[BEAT_MAX];
	size_t n;

	(void)state;
	make_beat(msg, LOCAL6, "sender", EPOCH_S, EPOCH_S, PW "x");
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_ERR_HASH);
	assert_int_equal(heartbeat_verify(msg, strlen(msg), NULL, PW "x", NULL, EPOCH, &v),
	                 HEARTBEAT_OK);
	assert_int_equal(heartbeat_verify(msg, strlen(msg), NULL, NULL, NULL, EPOCH, &v),
	                 HEARTBEAT_ERR_HASH);

	/* one digest digit changed */
	n = make_beat(msg, LOCAL6, "sender", EPOCH_S, EPOCH_S, PW);
	msg[n - 1] = msg[n - 1] == '0' ? '1' : '0';
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_ERR_HASH);

	/* a digest in upper case is the same digest */
	n = make_beat(msg, LOCAL6, "sender", EPOCH_S, EPOCH_S, PW);
	for (size_t i = n - MD5_HEXLEN; i < n; i++)
		if (msg[i] >= 'a' && msg[i] <= 'f')
			msg[i] = (char)(msg[i] - 'a' + 'A');
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_OK);

	/* the PoP re-prints the epoch: a leading zero hashed as sent fails */
	make_beat(msg, LOCAL6, "sender", "0" EPOCH_S, "0" EPOCH_S, PW);
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_ERR_HASH);
	make_beat(msg, LOCAL6, "sender", "0" EPOCH_S, EPOCH_S, PW);
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_OK);
}

static void test_verify_crlf(void **state)
{
	static const char *tails[] = {"\n", "\r\n", "\r", "\r\n\r\n"};
	struct heartbeat_view v;
	char msg[BEAT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		make_beat(msg, LOCAL6, LOCAL4, EPOCH_S, EPOCH_S, PW);
		strcat(msg, tails[i]);
		assert_int_equal(verify(msg, &local4, EPOCH, &v), HEARTBEAT_OK);
	}
	make_beat(msg, LOCAL6, LOCAL4, EPOCH_S, EPOCH_S, PW);
	strcat(msg, " \r\n");
	assert_int_equal(verify(msg, &local4, EPOCH, &v), HEARTBEAT_ERR_SYNTAX);
}

/* Leading zeros pad the epoch to an exact datagram length; they do not count in the hash. */
static size_t beat_of_length(char *msg, size_t want, const char *tail)
{
	char epoch[BEAT_MAX];
	size_t base = strlen("HEARTBEAT TUNNEL " LOCAL6 " sender  ") + MD5_HEXLEN + strlen(tail);
	size_t digits;

	assert_true(want > base + strlen(EPOCH_S));
	digits = want - base;
	memset(epoch, '0', digits - strlen(EPOCH_S));
	strcpy(epoch + digits - strlen(EPOCH_S), EPOCH_S);
	make_beat(msg, LOCAL6, "sender", epoch, EPOCH_S, PW);
	strcat(msg, tail);
	assert_int_equal(strlen(msg), want);
	return want;
}

static void test_verify_length_bound(void **state)
{
	struct heartbeat_view v;
	char msg[BEAT_MAX];

	(void)state;
	beat_of_length(msg, 255, "");
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_OK);
	beat_of_length(msg, 256, "");
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_ERR_SYNTAX);
	/* the bound is on the datagram, line ending included */
	beat_of_length(msg, 255, "\r\n");
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_OK);
	beat_of_length(msg, 256, "\r\n");
	assert_int_equal(verify(msg, NULL, EPOCH, &v), HEARTBEAT_ERR_SYNTAX);
}

static void test_parse(void **state)
{
	struct heartbeat_view v;
	char msg[BEAT_MAX];

	(void)state;
	/* parse checks neither hash, clock nor identity */
	make_beat(msg, "2001:db8:a::1", LOCAL4, "5", "5", "not-the-password");
	assert_int_equal(heartbeat_parse(msg, strlen(msg), &v), HEARTBEAT_OK);
	assert_memory_equal(&v.ipv6, &pop6, sizeof(pop6));
	assert_false(v.sender);
	assert_int_equal(v.ipv4.s_addr, local4.s_addr);
	assert_int_equal(v.epoch, 5);
}

static void test_verdict_names(void **state)
{
	const char *seen[HEARTBEAT_VERDICT_COUNT];

	(void)state;
	for (int i = 0; i < HEARTBEAT_VERDICT_COUNT; i++) {
		seen[i] = heartbeat_verdict_name((enum heartbeat_verdict)i);
		assert_non_null(seen[i]);
		assert_string_not_equal(seen[i], "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
	assert_string_equal(heartbeat_verdict_name(HEARTBEAT_OK), "ok");
	assert_string_equal(heartbeat_verdict_name(HEARTBEAT_ERR_HASH), "hash");
	assert_string_equal(heartbeat_verdict_name(HEARTBEAT_VERDICT_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_sender),
	    cmocka_unit_test(test_format_address),
	    cmocka_unit_test(test_format_epoch_plain_decimal),
	    cmocka_unit_test(test_format_canonical_ipv6),
	    cmocka_unit_test(test_format_space),
	    cmocka_unit_test(test_format_verifies),
	    cmocka_unit_test(test_verify_ok),
	    cmocka_unit_test(test_verify_syntax),
	    cmocka_unit_test(test_verify_embedded_nul),
	    cmocka_unit_test(test_verify_identity),
	    cmocka_unit_test(test_verify_address),
	    cmocka_unit_test(test_verify_clock),
	    cmocka_unit_test(test_verify_hash),
	    cmocka_unit_test(test_verify_crlf),
	    cmocka_unit_test(test_verify_length_bound),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
