/*
 * The endpoint update's request and answers (issue 23).  The expected
 * Authorization value is base64 of "example-user:the-key" as coreutils'
 * base64 prints it (ZXhhbXBsZS11c2VyOnRoZS1rZXk=), not the code's own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "dyndns.h"

static struct tunnel_update upd(void)
{
	struct tunnel_update u;

	memset(&u, 0, sizeof(u));
	snprintf(u.username, sizeof(u.username), "example-user");
	snprintf(u.key, sizeof(u.key), "the-key");
	snprintf(u.hostname, sizeof(u.hostname), "123456");
	return u;
}

static struct in_addr a4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void test_request_exact(void **state)
{
	struct tunnel_update u = upd();
	struct in_addr ip = a4("198.51.100.7");
	char buf[DYNDNS_REQUEST_MAX];
	int n;

	(void)state;
	n = dyndns_request(buf, sizeof(buf), "https://ipv4.tunnelbroker.net/nic/update", &u, &ip,
	                   "0.1.0");
	assert_string_equal(buf, "GET /nic/update?hostname=123456&myip=198.51.100.7 HTTP/1.1\r\n"
	                         "Host: ipv4.tunnelbroker.net\r\n"
	                         "Authorization: Basic ZXhhbXBsZS11c2VyOnRoZS1rZXk=\r\n"
	                         "User-Agent: aiccud/0.1.0\r\n"
	                         "Accept: text/plain\r\n"
	                         "Connection: close\r\n"
	                         "\r\n");
	assert_int_equal(n, (int)strlen(buf));
}

static void test_request_no_myip_port(void **state)
{
	struct tunnel_update u = upd();
	char buf[DYNDNS_REQUEST_MAX];

	(void)state;
	snprintf(u.hostname, sizeof(u.hostname), "a b&c");
	assert_true(dyndns_request(buf, sizeof(buf), "https://update.test:8443", &u, NULL, "1") >
	            0);
	assert_non_null(strstr(buf, "GET /?hostname=a%20b%26c HTTP/1.1\r\n"));
	assert_non_null(strstr(buf, "Host: update.test:8443\r\n"));
	assert_null(strstr(buf, "myip"));
}

static void test_request_refused(void **state)
{
	struct tunnel_update u = upd();
	char buf[DYNDNS_REQUEST_MAX], small[64];

	(void)state;
	snprintf(u.key, sizeof(u.key), "k\r\nX-Evil: 1");
	assert_int_equal(dyndns_request(buf, sizeof(buf), "https://h/", &u, NULL, "1"), -EINVAL);
	u = upd();
	snprintf(u.username, sizeof(u.username), "a:b");
	assert_int_equal(dyndns_request(buf, sizeof(buf), "https://h/", &u, NULL, "1"), -EINVAL);
	u = upd();
	assert_int_equal(dyndns_request(buf, sizeof(buf), "http://h/", &u, NULL, "1"), -EINVAL);
	assert_int_equal(dyndns_request(small, sizeof(small), "https://h/", &u, NULL, "1"),
	                 -ENOSPC);
}

static void test_url_split(void **state)
{
	char h[64], p[8], path[64];

	(void)state;
	assert_int_equal(dyndns_url_split("https://[2001:db8::1]:444/x/y", h, sizeof(h), p,
	                                  sizeof(p), path, sizeof(path)),
	                 0);
	assert_string_equal(h, "2001:db8::1");
	assert_string_equal(p, "444");
	assert_string_equal(path, "/x/y");
	assert_int_equal(
	    dyndns_url_split("https://192.0.2.1", h, sizeof(h), p, sizeof(p), path, sizeof(path)),
	    0);
	assert_string_equal(h, "192.0.2.1");
	assert_string_equal(p, "443");
	assert_string_equal(path, "/");
	assert_int_equal(
	    dyndns_url_split("https://:1/", h, sizeof(h), p, sizeof(p), path, sizeof(path)),
	    -EINVAL);
}

static void test_public(void **state)
{
	static const char *const priv[] = {"10.1.2.3",    "172.16.0.1",  "172.31.255.255",
	                                   "192.168.1.1", "100.64.0.1",  "100.127.255.254",
	                                   "127.0.0.1",   "169.254.1.1", "0.0.0.0"};
	static const char *const pub[] = {"198.51.100.7", "203.0.113.1", "192.0.2.1",
	                                  "100.128.0.1",  "172.32.0.1",  "100.63.255.255"};

	(void)state;
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		assert_false(dyndns_addr_public(a4(priv[i])));
	for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++)
		assert_true(dyndns_addr_public(a4(pub[i])));
}

#define ANSWER(body) "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" body

/*
 * An answer is bytes from the network, not a string: parse a copy that
 * ends where a page without access begins, so that any read past its end
 * (libc's own too, which AddressSanitizer does not see) faults.
 */
static void parse(const char *s, struct dyndns_answer *a)
{
	size_t n = strlen(s), page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (n + page - 1) / page * page + page;
	char *map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + span - page, page, PROT_NONE), 0);
	memcpy(map + span - page - n, s, n);
	dyndns_answer_parse(map + span - page - n, n, a);
	munmap(map, span);
}

static void test_answers(void **state)
{
	struct dyndns_answer a;

	(void)state;
	parse(ANSWER("good 198.51.100.7\n"), &a);
	assert_int_equal(a.verdict, DYNDNS_OK);
	assert_string_equal(a.word, "good");
	assert_int_equal(a.addr.s_addr, a4("198.51.100.7").s_addr);
	parse(ANSWER("nochg 198.51.100.7"), &a);
	assert_int_equal(a.verdict, DYNDNS_OK);
	assert_string_equal(a.word, "nochg");
	parse(ANSWER("badauth"), &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	assert_string_equal(a.word, "badauth");
	assert_string_equal(a.why, "the broker answered 'badauth'");
	parse(ANSWER("nohost\r\n"), &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	parse(ANSWER("abuse"), &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	parse(ANSWER("badagent"), &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	parse(ANSWER("911"), &a);
	assert_int_equal(a.verdict, DYNDNS_RETRY);
	assert_string_equal(a.word, "911");
	/* The broker's word counts, whatever the status says (401 with badauth). */
	parse("HTTP/1.1 401 Unauthorized\r\n\r\nbadauth\n", &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	assert_string_equal(a.word, "badauth");
	assert_int_equal(a.http_status, 401);
}

static void test_chunked(void **state)
{
	struct dyndns_answer a;

	(void)state;
	parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n13\r\nnochg "
	      "203.0.113.20\n\r\n0\r\n\r\n",
	      &a);
	assert_int_equal(a.verdict, DYNDNS_OK);
	assert_string_equal(a.word, "nochg");
	assert_int_equal(a.addr.s_addr, a4("203.0.113.20").s_addr);
	parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffff\r\ngood\r\n", &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	/* the size at the very end of the answer (fuzz_dyndns: read past it) */
	parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7", &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	/* a size far beyond the answer, beyond 64 bits too */
	parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "fffffffffffffffffffffffff\r\ngood\r\n",
	      &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	/* a size in upper-case hex (0x1B: the line, eight blanks, the newline) */
	parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "1B\r\nnochg 203.0.113.20        \n\r\n0\r\n\r\n",
	      &a);
	assert_int_equal(a.verdict, DYNDNS_OK);
	assert_int_equal(a.addr.s_addr, a4("203.0.113.20").s_addr);
}

static void test_not_dyndns(void **state)
{
	struct dyndns_answer a;
	const char nul[] = "HTTP/1.1 200 OK\r\n\r\ngood\0x";

	(void)state;
	parse(ANSWER("<html><body>Welcome</body></html>"), &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	assert_string_equal(
	    a.why,
	    "not a dyndns2 answer (HTTP 200, an HTML page: '<html><body>Welcome</body></html>')");
	parse("HTTP/1.1 503 Busy\r\n\r\n", &a);
	assert_int_equal(a.verdict, DYNDNS_RETRY);
	parse("HTTP/1.1 500 Oops\r\n\r\nsorry", &a);
	assert_int_equal(a.verdict, DYNDNS_RETRY);
	parse("HTTP/1.1 404 Not Found\r\n\r\n", &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	parse("good 198.51.100.7\n", &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	assert_string_equal(a.why, "not an HTTP answer");
	parse("HTTP/1.1 200 OK\r\nX: y\r\n", &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	assert_string_equal(a.why, "the answer's headers do not end");
	dyndns_answer_parse(nul, sizeof(nul) - 1, &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	parse(ANSWER("goodness 1.2.3.4"), &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	parse(ANSWER("\x01\x02 evil"), &a);
	assert_int_equal(a.verdict, DYNDNS_STOP);
	assert_null(strchr(a.why, '\x01'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_exact),   cmocka_unit_test(test_request_no_myip_port),
	    cmocka_unit_test(test_request_refused), cmocka_unit_test(test_url_split),
	    cmocka_unit_test(test_public),          cmocka_unit_test(test_answers),
	    cmocka_unit_test(test_chunked),         cmocka_unit_test(test_not_dyndns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
