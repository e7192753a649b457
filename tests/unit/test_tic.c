/*
 * TIC: reply parsing, the line splitter, list/show parsing, the MD5
 * response (checked against md5sum), the clock check, the session state
 * machine on every path, and the I/O edge against a scripted fake server
 * forked on a loopback port.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>

#include "tic.h"
#include "tic_io.h"

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("'%s' does not contain '%s'", (hay), (needle));                   \
	} while (0)

/* ---- md5sum, the independent tool ---- */

static void md5sum_of(const char *text, char out[33])
{
	char path[] = "/tmp/test_tic_md5XXXXXX", cmd[128];
	int fd = mkstemp(path);
	FILE *p;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "md5sum %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%32s", out), 1);
	pclose(p);
	unlink(path);
	assert_int_equal(strlen(out), 32);
}

/* md5hex(challenge + md5hex(password)), both digests by md5sum. */
static void expected_response(const char *challenge, const char *password, char out[33])
{
	char pw[33], joined[TIC_LINE_MAX + 64];

	md5sum_of(password, pw);
	snprintf(joined, sizeof(joined), "%s%s", challenge, pw);
	md5sum_of(joined, out);
}

/* ---- reply lines ---- */

static void test_reply_parse(void **state)
{
	struct tic_reply r;

	(void)state;
	assert_int_equal(tic_reply_parse("200 TIC Service ready", &r), 0);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.text, "TIC Service ready");
	assert_int_equal(tic_reply_parse("202", &r), 0);
	assert_int_equal(r.code, 202);
	assert_string_equal(r.text, "");
	assert_int_equal(tic_reply_parse("401 ", &r), 0);
	assert_int_equal(r.code, 401);
	assert_string_equal(r.text, "");
	assert_int_equal(tic_reply_parse("999 x", &r), 0);
	assert_int_equal(r.code, 999);

	const char *bad[] = {"",       "2",      "20",    "2000 x", "20x ok", "abc",
	                     " 200 x", "200\tx", "099 x", "-20 x",  "200:x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tic_reply_parse(bad[i], &r) != -EBADMSG)
			fail_msg("'%s' was accepted", bad[i]);

	assert_false(tic_code_ok(199));
	assert_true(tic_code_ok(200));
	assert_true(tic_code_ok(299));
	assert_false(tic_code_ok(300));
	assert_false(tic_code_ok(401));
}

/* ---- line splitter ---- */

static void push_all(struct tic_lines *l, const char *s, size_t n)
{
	assert_int_equal(tic_lines_push(l, s, n), n);
}

static void test_lines_basic(void **state)
{
	struct tic_lines l;
	const char *line;

	(void)state;
	tic_lines_init(&l);
	assert_int_equal(tic_lines_pop(&l, &line), 0);
	push_all(&l, "200 a\r\n201 b\n20", 15);
	assert_int_equal(tic_lines_pop(&l, &line), 1);
	assert_string_equal(line, "200 a");
	assert_int_equal(tic_lines_pop(&l, &line), 1);
	assert_string_equal(line, "201 b");
	assert_int_equal(tic_lines_pop(&l, &line), 0);
	assert_int_equal(tic_lines_pending(&l), 2);
	push_all(&l, "2 end\r", 6);
	assert_int_equal(tic_lines_pop(&l, &line), 0);
	push_all(&l, "\n\n", 2);
	assert_int_equal(tic_lines_pop(&l, &line), 1);
	assert_string_equal(line, "202 end");
	assert_int_equal(tic_lines_pop(&l, &line), 1);
	assert_string_equal(line, "");
	assert_int_equal(tic_lines_pending(&l), 0);
}

static void test_lines_byte_at_a_time(void **state)
{
	const char *text = "200 one\r\n200 two\n";
	struct tic_lines l;
	const char *line;
	int got = 0;

	(void)state;
	tic_lines_init(&l);
	for (size_t i = 0; text[i]; i++) {
		push_all(&l, &text[i], 1);
		while (tic_lines_pop(&l, &line) == 1) {
			assert_string_equal(line, got ? "200 two" : "200 one");
			got++;
		}
	}
	assert_int_equal(got, 2);
}

static void test_lines_limits(void **state)
{
	char big[TIC_LINE_MAX + 3];
	struct tic_lines l;
	const char *line;

	(void)state;
	/* exactly TIC_LINE_MAX bytes, with CRLF: accepted */
	memset(big, 'x', TIC_LINE_MAX);
	memcpy(big + TIC_LINE_MAX, "\r\n", 2);
	tic_lines_init(&l);
	push_all(&l, big, TIC_LINE_MAX + 2);
	assert_int_equal(tic_lines_pop(&l, &line), 1);
	assert_int_equal(strlen(line), TIC_LINE_MAX);

	/* one more byte: refused, whether or not the LF has arrived */
	memset(big, 'x', TIC_LINE_MAX + 1);
	big[TIC_LINE_MAX + 1] = '\n';
	tic_lines_init(&l);
	push_all(&l, big, TIC_LINE_MAX + 2);
	assert_int_equal(tic_lines_pop(&l, &line), -EMSGSIZE);
	tic_lines_init(&l);
	push_all(&l, big, TIC_LINE_MAX + 1);
	assert_int_equal(tic_lines_pop(&l, &line), 0); /* could still end in CR LF */
	push_all(&l, "x", 1);
	assert_int_equal(tic_lines_pop(&l, &line), -EMSGSIZE);
	/* sticky */
	push_all(&l, "\n200 ok\n", 8);
	assert_int_equal(tic_lines_pop(&l, &line), -EMSGSIZE);

	/* skip_long (issue 20): the long line is dropped, the next one comes out */
	tic_lines_init(&l);
	l.skip_long = true;
	push_all(&l, big, TIC_LINE_MAX + 2); /* complete, LF included */
	push_all(&l, "200 ok\n", 7);
	assert_int_equal(tic_lines_pop(&l, &line), -EMSGSIZE);
	assert_int_equal(tic_lines_pop(&l, &line), 1);
	assert_string_equal(line, "200 ok");
	tic_lines_init(&l);
	l.skip_long = true;
	push_all(&l, big, TIC_LINE_MAX + 1); /* no LF yet */
	push_all(&l, "xx", 2);
	assert_int_equal(tic_lines_pop(&l, &line), -EMSGSIZE);
	push_all(&l, "more of it", 10);
	assert_int_equal(tic_lines_pop(&l, &line), 0);
	push_all(&l, "end\r\n201 next\r\n", 15);
	assert_int_equal(tic_lines_pop(&l, &line), 1);
	assert_string_equal(line, "201 next");

	/* a NUL inside a line */
	tic_lines_init(&l);
	push_all(&l, "200 a\0b\n", 8);
	assert_int_equal(tic_lines_pop(&l, &line), -EBADMSG);

	/* the buffer never fills up while lines are popped */
	tic_lines_init(&l);
	for (int i = 0; i < 10000; i++) {
		assert_true(tic_lines_room(&l) >= TIC_LINE_MAX);
		push_all(&l, "200 ok\n", 7);
		assert_int_equal(tic_lines_pop(&l, &line), 1);
	}
}

/* ---- tunnel list ---- */

static void test_list_parse(void **state)
{
	struct tic_list_entry e;
	char err[TIC_ERR_MAX], a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(
	    tic_list_parse("T12345 2001:db8:1::2 192.0.2.1 nlams01", &e, err, sizeof(err)), 0);
	assert_string_equal(e.id, "T12345");
	assert_string_equal(e.pop_id, "nlams01");
	assert_string_equal(inet_ntop(AF_INET6, &e.ipv6_local, a, sizeof(a)), "2001:db8:1::2");
	assert_string_equal(inet_ntop(AF_INET, &e.ipv4_local, a, sizeof(a)), "192.0.2.1");

	assert_int_equal(tic_list_parse("T2 2001:db8:2::2 heartbeat usqas01", &e, err, sizeof(err)),
	                 0);
	assert_int_equal(e.ipv4_local.s_addr, 0);
	/*
	 * The IPv4 field is informational (PROTOCOLS.md 7.1): a broker names
	 * AYIYA tunnels "ayiya"; any other word or odd text is kept out of
	 * ipv4_local but does not fail the list.
	 */
	const char *words[] = {"ayiya", "Heart-beat", "192.0.2", "-"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char line[80];

		snprintf(line, sizeof(line), "T3 2001:db8:3::2 %s usqas01", words[i]);
		e.ipv4_local.s_addr = 1;
		if (tic_list_parse(line, &e, err, sizeof(err)) != 0)
			fail_msg("'%s' refused: %s", line, err);
		assert_int_equal(e.ipv4_local.s_addr, 0);
		assert_string_equal(e.id, "T3");
	}

	const char *bad[] = {
	    "T1 2001:db8::2 192.0.2.1",
	    "T1 2001:db8::2 192.0.2.1 pop extra",
	    "T1 2001:db8::zz 192.0.2.1 pop",
	    "../etc 2001:db8::2 192.0.2.1 pop",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (tic_list_parse(bad[i], &e, err, sizeof(err)) != -EBADMSG)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
	/* the PoP id is a label: cleaned, never the reason a session fails (issue 12) */
	assert_int_equal(
	    tic_list_parse("T1 2001:db8::2 192.0.2.1 po/p\x1b[1m", &e, err, sizeof(err)), 0);
	assert_string_equal(e.pop_id, "po_p__1m");
	assert_int_equal(tic_list_parse("T1 2001:db8::2 192.0.2.1 .pop", &e, err, sizeof(err)), 0);
	assert_string_equal(e.pop_id, "_pop");
}

static void test_id_valid(void **state)
{
	(void)state;
	assert_true(tic_id_valid("T12345"));
	assert_true(tic_id_valid("t_1.2-3"));
	assert_false(tic_id_valid(""));
	assert_false(tic_id_valid(".hidden"));
	assert_false(tic_id_valid("a/b"));
	assert_false(tic_id_valid("a b"));
	assert_false(tic_id_valid("0123456789012345678901234567890123"));
	assert_true(tic_id_valid("0123456789012345678901234567890")); /* 31 */
}

/* ---- tunnel show ---- */

static const char *const ayiya_show[] = {
    "TunnelId: T1",
    "Type: ayiya",
    "IPv6 Endpoint: 2001:db8:1::2",
    "IPv6 POP: 2001:db8:1::1",
    "IPv6 PrefixLength: 64",
    "POP Id: nlams01",
    "IPv4 Endpoint: heartbeat",
    "IPv4 POP: 198.51.100.1",
    "UserState: enabled",
    "AdminState: enabled",
    "Password: sekrit pass",
    "Heartbeat_Interval: 60",
    "Tunnel MTU: 1280",
    "Tunnel Name: my home",
    "Some Future Key: whatever: with colons",
};
#define N_AYIYA (sizeof(ayiya_show) / sizeof(ayiya_show[0]))

/* Feed lines, with lines[skip] left out and lines[over] replaced by repl. */
static int show_lines(const char *const *lines, size_t n, size_t skip, size_t over,
                      const char *repl, struct tic_tunnel *t, char *err)
{
	struct tic_show p;
	int r;

	tic_show_begin(&p);
	for (size_t i = 0; i < n; i++) {
		if (i == skip)
			continue;
		tic_show_line(&p, i == over ? repl : lines[i]);
	}
	r = tic_show_end(&p, t);
	strcpy(err, p.err);
	return r;
}

static int show_replace(const char *line, struct tic_tunnel *t, char *err)
{
	const char *colon = strchr(line, ':');

	for (size_t i = 0; i < N_AYIYA; i++)
		if (!strncmp(ayiya_show[i], line, (size_t)(colon - line) + 1))
			return show_lines(ayiya_show, N_AYIYA, SIZE_MAX, i, line, t, err);
	fail_msg("no key for %s", line);
	return 0;
}

static void test_show_ok(void **state)
{
	struct tic_tunnel t;
	char err[TIC_ERR_MAX], a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(show_lines(ayiya_show, N_AYIYA, SIZE_MAX, SIZE_MAX, NULL, &t, err), 0);
	assert_string_equal(t.id, "T1");
	assert_string_equal(t.pop_id, "nlams01");
	assert_int_equal(t.params.type, TUNNEL_AYIYA);
	assert_string_equal(inet_ntop(AF_INET6, &t.params.ipv6_local, a, sizeof(a)),
	                    "2001:db8:1::2");
	assert_string_equal(inet_ntop(AF_INET6, &t.params.ipv6_pop, a, sizeof(a)), "2001:db8:1::1");
	assert_int_equal(t.params.prefix_len, 64);
	assert_int_equal(t.params.ipv4_local.s_addr, 0);
	assert_string_equal(inet_ntop(AF_INET, &t.params.ipv4_pop, a, sizeof(a)), "198.51.100.1");
	assert_string_equal(t.params.password, "sekrit pass");
	assert_int_equal(t.params.heartbeat_interval, 60);
	assert_int_equal(t.params.mtu, 1280);
	assert_true(t.admin_enabled);
	assert_true(t.user_enabled);
	assert_int_equal(t.fetch_err, 0);

	/* a disabled tunnel parses; the caller decides */
	assert_int_equal(show_replace("AdminState: disabled", &t, err), 0);
	assert_false(t.admin_enabled);
	assert_true(t.user_enabled);
	assert_string_equal(t.admin_state, "disabled");
	assert_int_equal(show_replace("UserState: suspended by user", &t, err), 0);
	assert_false(t.user_enabled);
	/* IPv4 Endpoint as an address; "Key:" with its space stripped means empty */
	assert_int_equal(show_replace("IPv4 Endpoint: 192.0.2.7", &t, err), 0);
	assert_int_equal(t.params.ipv4_local.s_addr, inet_addr("192.0.2.7"));
	assert_int_equal(show_replace("UserState:", &t, err), 0);
	assert_string_equal(t.user_state, "");
	/*
	 * A broker names an AYIYA tunnel's IPv4 Endpoint "ayiya" (PROTOCOLS.md
	 * 7.1); for a dynamic tunnel any text is information only, kept as given.
	 */
	const char *informational[] = {"ayiya", "heartbeat", "dynamic", "", "192.0.2"};
	for (size_t i = 0; i < sizeof(informational) / sizeof(informational[0]); i++) {
		char line[64];

		snprintf(line, sizeof(line), "IPv4 Endpoint: %s", informational[i]);
		if (show_replace(line, &t, err) != 0)
			fail_msg("'%s' refused for an AYIYA tunnel: %s", line, err);
		assert_int_equal(t.params.ipv4_local.s_addr, 0);
		assert_string_equal(t.ipv4_endpoint, informational[i]);
	}
	/* bounded like every other value */
	char longer[TIC_ENDPOINT_MAX + 32];
	snprintf(longer, sizeof(longer), "IPv4 Endpoint: %0*d", TIC_ENDPOINT_MAX, 7);
	assert_int_equal(show_replace(longer, &t, err), -EINVAL);
	assert_contains(err, "IPv4 Endpoint");
}

/* The Type key may come after IPv4 Endpoint: the word is judged at the end. */
static void test_show_endpoint_before_type(void **state)
{
	const char *lines[] = {
	    "TunnelId: T4",
	    "IPv4 Endpoint: ayiya",
	    "Type: ayiya",
	    "IPv6 Endpoint: 2001:db8:4::2",
	    "IPv6 POP: 2001:db8:4::1",
	    "IPv6 PrefixLength: 64",
	    "IPv4 POP: 203.0.113.1",
	    "UserState: enabled",
	    "AdminState: enabled",
	    "Password: x",
	    "Heartbeat_Interval: 60",
	};
	struct tic_tunnel t;
	char err[TIC_ERR_MAX];

	(void)state;
	assert_int_equal(show_lines(lines, 11, SIZE_MAX, SIZE_MAX, NULL, &t, err), 0);
	assert_int_equal(t.params.type, TUNNEL_AYIYA);
	assert_string_equal(t.ipv4_endpoint, "ayiya");
	/* the same word for a static tunnel is refused: there the address is used */
	assert_int_equal(show_lines(lines, 11, SIZE_MAX, 2, "Type: 6in4-static", &t, err), -EINVAL);
	assert_contains(err, "IPv4 Endpoint: a 6in4-static tunnel needs our IPv4 address, not "
	                     "'ayiya'");
}

static void test_show_missing_keys(void **state)
{
	/* Every key but the optional ones is required for an AYIYA tunnel. */
	const char *required[] = {
	    "TunnelId",          "Type",          "IPv6 Endpoint",     "IPv6 POP",
	    "IPv6 PrefixLength", "IPv4 Endpoint", "IPv4 POP",          "UserState",
	    "AdminState",        "Password",      "Heartbeat_Interval"};
	struct tic_tunnel t;
	char err[TIC_ERR_MAX];

	(void)state;
	for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
		size_t i;

		for (i = 0; i < N_AYIYA; i++)
			if (!strncmp(ayiya_show[i], required[k], strlen(required[k])) &&
			    ayiya_show[i][strlen(required[k])] == ':')
				break;
		assert_true(i < N_AYIYA);
		if (show_lines(ayiya_show, N_AYIYA, i, SIZE_MAX, NULL, &t, err) != -EBADMSG)
			fail_msg("missing %s was accepted", required[k]);
		assert_contains(err, required[k]);
	}
	/* optional: POP Id, Tunnel MTU */
	for (size_t i = 0; i < N_AYIYA; i++) {
		if (strncmp(ayiya_show[i], "POP Id:", 7) &&
		    strncmp(ayiya_show[i], "Tunnel MTU:", 11))
			continue;
		assert_int_equal(show_lines(ayiya_show, N_AYIYA, i, SIZE_MAX, NULL, &t, err), 0);
	}
}

static void test_show_bad_values(void **state)
{
	static const struct {
		const char *line;
		int error;
		const char *says;
	} cases[] = {
	    {"Type: l2tp", -ENOTSUP, "l2tp tunnels are not supported"},
	    {"Type: gre", -EINVAL, "unknown tunnel type 'gre'"},
	    {"IPv6 Endpoint: 2001:db8::g", -EINVAL, "IPv6 Endpoint"},
	    {"IPv6 POP: 198.51.100.1", -EINVAL, "IPv6 POP"},
	    {"IPv6 POP: ::", -EINVAL, "unspecified"},
	    {"IPv4 POP: 2001:db8::1", -EINVAL, "IPv4 POP"},
	    {"IPv4 POP: 0.0.0.0", -EINVAL, "IPv4 POP"},
	    {"IPv6 PrefixLength: 0", -EINVAL, "PrefixLength"},
	    {"IPv6 PrefixLength: 129", -EINVAL, "PrefixLength"},
	    {"IPv6 PrefixLength: 64x", -EINVAL, "PrefixLength"},
	    {"IPv6 PrefixLength: -1", -EINVAL, "PrefixLength"},
	    {"Tunnel MTU: 1279", -EINVAL, "Tunnel MTU"},
	    {"Tunnel MTU: 65536", -EINVAL, "Tunnel MTU"},
	    {"Tunnel MTU: 99999999999", -EINVAL, "Tunnel MTU"},
	    {"Heartbeat_Interval: 9", -EINVAL, "Heartbeat_Interval"},
	    {"Heartbeat_Interval: 111", -EINVAL, "Heartbeat_Interval"},
	    {"TunnelId: ../../etc/passwd", -EINVAL, "TunnelId"},
	    /* a broker taking over the host's routing (issue 12) */
	    {"IPv6 PrefixLength: 1", -EINVAL, "IPv6 PrefixLength: /1 is outside /64..128"},
	    {"IPv6 PrefixLength: 63", -EINVAL, "IPv6 PrefixLength"},
	    {"IPv4 POP: 127.0.0.1", -EINVAL, "IPv4 POP: 127.0.0.1 is a loopback address"},
	    {"IPv4 POP: 255.255.255.255", -EINVAL, "broadcast"},
	    {"IPv4 POP: 224.0.0.1", -EINVAL, "multicast"},
	    {"IPv4 POP: 169.254.1.1", -EINVAL, "link-local"},
	    {"IPv4 POP: 0.1.2.3", -EINVAL, "0.0.0.0/8"},
	    {"IPv4 POP: 240.0.0.1", -EINVAL, "240.0.0.0/4"},
	    {"Tunnel MTU: 65535", -EINVAL, "Tunnel MTU: 65535 is outside 1280..1480"},
	    {"Tunnel MTU: 1481", -EINVAL, "Tunnel MTU"},
	    {"IPv6 Endpoint: ff02::2", -EINVAL, "multicast"},
	    {"IPv6 Endpoint: ::1", -EINVAL, "loopback"},
	    {"IPv6 POP: fe80::1", -EINVAL, "link-local"},
	    {"IPv6 POP: 2001:db8:2::1", -EINVAL, "outside the tunnel prefix"},
	    {"IPv6 POP: 2001:db8:1::2", -EINVAL, "our own address"},
	    {"Password: ", -EBADMSG, "Password"},
	    {"Password: a\tb", -EBADMSG, "control character"},
	};
	struct tic_tunnel t;
	char err[TIC_ERR_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = show_replace(cases[i].line, &t, err);

		if (r != cases[i].error)
			fail_msg("'%s': %d, expected %d (%s)", cases[i].line, r, cases[i].error,
			         err);
		assert_contains(err, cases[i].says);
	}
	/* the edges of the ranges are fine */
	const char *ok[] = {"Tunnel MTU: 1280",       "Tunnel MTU: 1480",
	                    "Heartbeat_Interval: 10", "Heartbeat_Interval: 110",
	                    "IPv6 PrefixLength: 128", "IPv6 PrefixLength: 64"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (show_replace(ok[i], &t, err) != 0)
			fail_msg("'%s' refused: %s", ok[i], err);
}

/* Control characters in labels are replaced; the tunnel still comes up (issue 12). */
static void test_show_labels_scrubbed(void **state)
{
	struct tic_tunnel t;
	char err[TIC_ERR_MAX];

	(void)state;
	assert_int_equal(show_replace("Tunnel Name: evil\x1b[31mred", &t, err), 0);
	assert_int_equal(show_replace("POP Id: a b\x1b", &t, err), 0);
	assert_string_equal(t.pop_id, "a_b_");
	assert_int_equal(show_replace("UserState: enabled\x1b", &t, err), 0);
	assert_string_equal(t.user_state, "enabled?");
	assert_false(t.user_enabled);
	/* in a value that is used, it still refuses the tunnel */
	assert_int_equal(show_replace("IPv6 Endpoint: 2001:db8:1::2\x1b", &t, err), -EBADMSG);
	assert_contains(err, "IPv6 Endpoint: control character");
}

static void test_show_syntax(void **state)
{
	struct tic_show p;
	struct tic_tunnel t;

	(void)state;
	/* no ": " at all */
	tic_show_begin(&p);
	assert_int_equal(tic_show_line(&p, "TunnelId T1"), -EBADMSG);
	assert_int_equal(tic_show_end(&p, &t), -EBADMSG);
	assert_contains(p.err, "Key: value");
	/* the first error is kept, later lines are ignored */
	tic_show_begin(&p);
	assert_int_equal(tic_show_line(&p, "TunnelId: T1"), 0);
	assert_int_equal(tic_show_line(&p, "TunnelId: T2"), -EBADMSG);
	assert_int_equal(tic_show_line(&p, "garbage"), 0);
	assert_contains(p.err, "TunnelId: given twice");
	/* too many lines */
	tic_show_begin(&p);
	for (int i = 0; i < TIC_SHOW_LINES_MAX; i++)
		assert_int_equal(tic_show_line(&p, "X: y"), 0);
	assert_int_equal(tic_show_line(&p, "X: y"), -E2BIG);
	/* a static tunnel needs neither password nor heartbeat, but a real IPv4 */
	const char *stat[] = {
	    "TunnelId: T3",
	    "Type: 6in4-static",
	    "IPv6 Endpoint: 2001:db8:3::2",
	    "IPv6 POP: 2001:db8:3::1",
	    "IPv6 PrefixLength: 64",
	    "IPv4 Endpoint: 192.0.2.9",
	    "IPv4 POP: 203.0.113.1",
	    "UserState: enabled",
	    "AdminState: enabled",
	};
	char err[TIC_ERR_MAX];

	assert_int_equal(show_lines(stat, 9, SIZE_MAX, SIZE_MAX, NULL, &t, err), 0);
	assert_int_equal(t.params.type, TUNNEL_6IN4_STATIC);
	assert_int_equal(show_lines(stat, 9, SIZE_MAX, 5, "IPv4 Endpoint: heartbeat", &t, err),
	                 -EINVAL);
	assert_contains(err, "6in4-static");
	assert_int_equal(show_lines(stat, 9, SIZE_MAX, 5, "IPv4 Endpoint: 0.0.0.0", &t, err),
	                 -EINVAL);
	assert_contains(err, "0.0.0.0");
	assert_int_equal(show_lines(stat, 9, SIZE_MAX, 5, "IPv4 Endpoint: 192.0.2", &t, err),
	                 -EINVAL);
	assert_contains(err, "'192.0.2'");
}

static void test_show_format_round_trip(void **state)
{
	struct tic_tunnel t, back;
	struct tic_show p;
	char buf[2048], err[TIC_ERR_MAX], *line, *save = NULL;

	(void)state;
	/* the broker's IPv4 Endpoint text comes back as it was given */
	const char *v4[] = {"IPv4 Endpoint: heartbeat", "IPv4 Endpoint: ayiya",
	                    "IPv4 Endpoint: 192.0.2.7"};
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		assert_int_equal(show_replace(v4[i], &t, err), 0);
		assert_true(tic_show_format(&t, buf, sizeof(buf)) > 0);
		assert_non_null(strstr(buf, v4[i]));
		tic_show_begin(&p);
		save = NULL;
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			assert_int_equal(tic_show_line(&p, line), 0);
		assert_int_equal(tic_show_end(&p, &back), 0);
		assert_memory_equal(&t, &back, sizeof(t));
	}
	/* without the text (a tunnel built in memory), the type's word */
	t.ipv4_endpoint[0] = '\0';
	t.params.ipv4_local.s_addr = 0;
	assert_true(tic_show_format(&t, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "IPv4 Endpoint: ayiya\n"));
	assert_int_equal(tic_show_format(&t, buf, 100), -ENOSPC);
}

/* ---- MD5, clock, server names ---- */

static void test_md5_response(void **state)
{
	static const char *const vec[][2] = {
	    {"a8f5f167f44f4964e6c998dee827110c", "secret"},
	    {"1234567890", "pa$$ w0rd'\"\\"},
	    {"x", ""},
	};
	char got[33], want[33];

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		expected_response(vec[i][0], vec[i][1], want);
		assert_int_equal(tic_md5_response(vec[i][0], vec[i][1], got), 0);
		assert_string_equal(got, want);
	}
}

static void test_clock(void **state)
{
	char err[TIC_ERR_MAX];
	time_t server = 1700000000;

	(void)state;
	assert_int_equal(tic_clock_skew(server, server + 5), 5);
	assert_int_equal(tic_clock_skew(server, server - 7), -7);
	assert_int_equal(tic_clock_check(server, server + 120, err, sizeof(err)), 0);
	assert_int_equal(tic_clock_check(server, server - 120, err, sizeof(err)), 0);
	assert_int_equal(tic_clock_check(server, server + 121, err, sizeof(err)), -ERANGE);
	assert_contains(err, "clock is off by 121 s, use NTP");
	assert_contains(err, "ahead");
	assert_int_equal(tic_clock_check(server, server - 121, err, sizeof(err)), -ERANGE);
	assert_contains(err, "clock is off by 121 s, use NTP");
	assert_contains(err, "behind");
	assert_int_equal(tic_clock_check(server, server + 86400 * 365, err, sizeof(err)), -ERANGE);
}

static void test_server_parse(void **state)
{
	char h[64], p[8];

	(void)state;
	assert_int_equal(tic_server_parse("tic.example.net", h, sizeof(h), p, sizeof(p)), 0);
	assert_string_equal(h, "tic.example.net");
	assert_string_equal(p, "3874");
	assert_int_equal(tic_server_parse("tic.example.net:4000", h, sizeof(h), p, sizeof(p)), 0);
	assert_string_equal(p, "4000");
	assert_int_equal(tic_server_parse("[2001:db8::1]:4001", h, sizeof(h), p, sizeof(p)), 0);
	assert_string_equal(h, "2001:db8::1");
	assert_string_equal(p, "4001");
	assert_int_equal(tic_server_parse("2001:db8::1", h, sizeof(h), p, sizeof(p)), 0);
	assert_string_equal(h, "2001:db8::1");
	assert_string_equal(p, "3874");
	assert_int_equal(tic_server_parse("[2001:db8::1]", h, sizeof(h), p, sizeof(p)), 0);
	const char *bad[] = {"", ":3874", "host:", "host:0", "host:65536", "host:x", "[2001:db8::1",
	                     "[::1]x", "a b",
	                     /* issue 20 (found by fuzz_tic_server): no brackets or bytes
	                        outside ASCII inside the host */
	                     "[[::1]]:1", "x]:1", "2001:db8::]", "t\303\257c.example"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tic_server_parse(bad[i], h, sizeof(h), p, sizeof(p)) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
}

/* ---- the session state machine ---- */

#define NOW 1700000000

struct sm {
	struct tic_session s;
	struct tic_tunnel out[4];
	const char *ids[4];
};

static void sm_init(struct sm *m, size_t nids, bool require_tls)
{
	static const char *const ids[] = {"T1", "T2", "T9", "T1"};
	struct tic_session_cfg cfg = {
	    .username = "alice",
	    .password = "wonderland",
	    .client_version = "1.2.3",
	    .os_release = "6.1.0-test",
	    .require_tls = require_tls,
	    .ids = m->ids,
	    .nids = nids,
	    .out = m->out,
	};

	memcpy(m->ids, ids, sizeof(ids));
	assert_int_equal(tic_session_init(&m->s, &cfg), 0);
}

/* Feed a line and check the action and, when sending, the exact line. */
static void sm_step(struct sm *m, const char *line, enum tic_action want, const char *send)
{
	enum tic_action a = tic_session_feed(&m->s, line, NOW);

	if (a != want)
		fail_msg("after '%s': action %d, expected %d (%s)", line, a, want, m->s.err);
	if (send)
		assert_string_equal(m->s.out, send);
	if (a == TIC_ACT_SEND || a == TIC_ACT_SEND_CLOSE)
		assert_int_equal(m->s.outlen, strlen(m->s.out));
}

static void sm_feed_lines(struct sm *m, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sm_step(m, lines[i], TIC_ACT_READ, NULL);
}

/* Welcome through authenticate, TLS on. */
static void sm_login(struct sm *m)
{
	char t[32], auth[64], want[33];

	snprintf(t, sizeof(t), "200 %d", NOW + 30);
	expected_response("c0ffee42", "wonderland", want);
	snprintf(auth, sizeof(auth), "authenticate md5 %s\n", want);
	sm_step(m, "200 TIC Service on tic.example.net ready", TIC_ACT_SEND,
	        "client TIC/draft-00 aiccud/1.2.3 Linux/6.1.0-test\n");
	sm_step(m, "200 Client Identity accepted", TIC_ACT_SEND, "get unixtime\n");
	sm_step(m, t, TIC_ACT_SEND, "starttls\n");
	sm_step(m, "200 Starting TLS", TIC_ACT_STARTTLS, NULL);
	assert_int_equal(tic_session_tls_done(&m->s), TIC_ACT_SEND);
	assert_string_equal(m->s.out, "username alice\n");
	assert_true(m->s.tls);
	sm_step(m, "200 Choose your authentication challenge please", TIC_ACT_SEND,
	        "challenge md5\n");
	sm_step(m, "200 c0ffee42", TIC_ACT_SEND, auth);
}

static const char *const t1_show[] = {
    "201 Showing tunnel information for T1",
    "TunnelId: T1",
    "Type: 6in4-heartbeat",
    "IPv6 Endpoint: 2001:db8:1::2",
    "IPv6 POP: 2001:db8:1::1",
    "IPv6 PrefixLength: 64",
    "IPv4 Endpoint: heartbeat",
    "IPv4 POP: 198.51.100.1",
    "UserState: enabled",
    "AdminState: enabled",
    "Password: hbpass",
    "Heartbeat_Interval: 60",
    "Tunnel MTU: 1400",
};

static void test_sm_full_session(void **state)
{
	struct sm m;

	(void)state;
	sm_init(&m, 3, true);
	assert_int_equal(m.out[0].fetch_err, -ECANCELED);
	sm_login(&m);
	sm_step(&m, "200 Succesfully logged in using md5 as alice", TIC_ACT_SEND, "tunnel list\n");
	sm_step(&m, "201 Listing tunnels", TIC_ACT_READ, NULL);
	sm_step(&m, "T1 2001:db8:1::2 heartbeat nlams01", TIC_ACT_READ, NULL);
	sm_step(&m, "T2 2001:db8:2::2 ayiya usqas01", TIC_ACT_READ, NULL);
	sm_step(&m, "T7 2001:db8:7::2 192.0.2.7 usqas01", TIC_ACT_READ, NULL);
	sm_step(&m, "202 <tunnel_list/>", TIC_ACT_SEND, "tunnel show T1\n");
	assert_int_equal(m.out[2].fetch_err, -ENOENT);
	assert_contains(m.out[2].fetch_msg, "no tunnel T9");
	assert_string_equal(m.s.doing, "tunnel show T1");
	sm_feed_lines(&m, t1_show, sizeof(t1_show) / sizeof(t1_show[0]));
	sm_step(&m, "202 Done", TIC_ACT_SEND, "tunnel show T2\n");
	assert_int_equal(m.out[0].fetch_err, 0);
	assert_string_equal(m.out[0].id, "T1");
	assert_string_equal(m.out[0].pop_id, "nlams01"); /* from the list */
	assert_int_equal(m.out[0].params.mtu, 1400);
	assert_int_equal(m.out[0].params.type, TUNNEL_6IN4_HEARTBEAT);
	/* T2's answer is incomplete: only T2 fails */
	sm_step(&m, "201 Showing tunnel information for T2", TIC_ACT_READ, NULL);
	sm_step(&m, "TunnelId: T2", TIC_ACT_READ, NULL);
	sm_step(&m, "Type: ayiya", TIC_ACT_READ, NULL);
	sm_step(&m, "202 Done", TIC_ACT_SEND_CLOSE, NULL);
	assert_int_equal(strncmp(m.s.out, "QUIT ", 5), 0);
	assert_int_equal(m.out[1].fetch_err, -EBADMSG);
	assert_contains(m.out[1].fetch_msg, "tunnel show T2: missing key");
	assert_int_equal(m.out[0].fetch_err, 0);
	assert_int_equal(m.s.state, TIC_S_DONE);
	assert_int_equal(m.s.error, 0);
	/* nothing may follow QUIT */
	assert_int_equal(tic_session_feed(&m.s, "200 bye", NOW), TIC_ACT_ERROR);
}

/*
 * Issue 14: a broker gives "ayiya" as an AYIYA tunnel's IPv4 Endpoint in
 * both the list and the show answer; the tunnel must be fetched whole.
 */
static void test_sm_ayiya_endpoint(void **state)
{
	static const char *const t1[] = {
	    "201 Showing tunnel information for T1",
	    "TunnelId: T1",
	    "Type: ayiya",
	    "IPv6 Endpoint: 2001:db8:1::2",
	    "IPv6 POP: 2001:db8:1::1",
	    "IPv6 PrefixLength: 64",
	    "IPv4 Endpoint: ayiya",
	    "IPv4 POP: 198.51.100.1",
	    "UserState: enabled",
	    "AdminState: enabled",
	    "Password: aypass",
	    "Heartbeat_Interval: 60",
	};
	struct sm m;

	(void)state;
	sm_init(&m, 1, true);
	sm_login(&m);
	sm_step(&m, "200 Succesfully logged in using md5 as alice", TIC_ACT_SEND, "tunnel list\n");
	sm_step(&m, "201 Listing tunnels", TIC_ACT_READ, NULL);
	sm_step(&m, "T1 2001:db8:1::2 ayiya nlams01", TIC_ACT_READ, NULL);
	sm_step(&m, "202 <tunnel_list/>", TIC_ACT_SEND, "tunnel show T1\n");
	sm_feed_lines(&m, t1, sizeof(t1) / sizeof(t1[0]));
	sm_step(&m, "202 Done", TIC_ACT_SEND_CLOSE, NULL);
	if (m.out[0].fetch_err != 0)
		fail_msg("T1 not fetched: %s", m.out[0].fetch_msg);
	assert_int_equal(m.out[0].params.type, TUNNEL_AYIYA);
	assert_int_equal(m.out[0].params.ipv4_local.s_addr, 0);
	assert_string_equal(m.out[0].ipv4_endpoint, "ayiya");
	assert_string_equal(m.out[0].pop_id, "nlams01");
}

static void test_sm_show_errors_per_tunnel(void **state)
{
	struct sm m;

	(void)state;
	sm_init(&m, 4, true); /* T1, T2, T9, T1 again */
	sm_login(&m);
	sm_step(&m, "200 ok", TIC_ACT_SEND, "tunnel list\n");
	sm_step(&m, "201 list", TIC_ACT_READ, NULL);
	sm_step(&m, "T1 2001:db8:1::2 heartbeat nlams01", TIC_ACT_READ, NULL);
	sm_step(&m, "T2 2001:db8:2::2 heartbeat nlams01", TIC_ACT_READ, NULL);
	sm_step(&m, "202", TIC_ACT_SEND, "tunnel show T1\n");
	/* a refusal for T1 */
	sm_step(&m, "404 No such tunnel", TIC_ACT_SEND, "tunnel show T2\n");
	assert_int_equal(m.out[0].fetch_err, -EPROTO);
	assert_contains(m.out[0].fetch_msg, "tunnel show T1: 404 No such tunnel");
	/* a one-line 2xx for T2 */
	sm_step(&m, "200 here you go", TIC_ACT_SEND, "tunnel show T1\n");
	assert_int_equal(m.out[1].fetch_err, -EBADMSG);
	assert_contains(m.out[1].fetch_msg, "expected 201");
	/* the duplicate T1: the server answers for another tunnel */
	sm_step(&m, "201 T5", TIC_ACT_READ, NULL);
	for (size_t i = 1; i < sizeof(t1_show) / sizeof(t1_show[0]); i++)
		sm_step(&m, i == 1 ? "TunnelId: T5" : t1_show[i], TIC_ACT_READ, NULL);
	sm_step(&m, "202", TIC_ACT_SEND_CLOSE, NULL);
	assert_int_equal(m.out[3].fetch_err, -EBADMSG);
	assert_contains(m.out[3].fetch_msg, "answered for T5");
	assert_int_equal(m.out[2].fetch_err, -ENOENT);
}

static void test_sm_no_tunnels_quits_after_login(void **state)
{
	struct sm m;

	(void)state;
	sm_init(&m, 0, true);
	sm_login(&m);
	sm_step(&m, "200 ok", TIC_ACT_SEND_CLOSE, NULL);
	assert_int_equal(strncmp(m.s.out, "QUIT", 4), 0);
}

static void test_sm_plain_text(void **state)
{
	struct sm m;
	char t[32];

	(void)state;
	snprintf(t, sizeof(t), "200 %d", NOW);
	/* require_tls = no: goes on, with a warning */
	sm_init(&m, 1, false);
	sm_step(&m, "200 hi", TIC_ACT_SEND, NULL);
	sm_step(&m, "200 ok", TIC_ACT_SEND, "get unixtime\n");
	sm_step(&m, t, TIC_ACT_SEND, "starttls\n");
	sm_step(&m, "400 This service is not available", TIC_ACT_SEND, "username alice\n");
	assert_true(m.s.plain);
	assert_false(m.s.tls);
	assert_contains(m.s.warning, "plain text");
	/* require_tls = yes: refused */
	sm_init(&m, 1, true);
	sm_step(&m, "200 hi", TIC_ACT_SEND, NULL);
	sm_step(&m, "200 ok", TIC_ACT_SEND, NULL);
	sm_step(&m, t, TIC_ACT_SEND, "starttls\n");
	sm_step(&m, "400 This service is not available", TIC_ACT_ERROR, NULL);
	assert_int_equal(m.s.error, -EPROTONOSUPPORT);
	assert_contains(m.s.err, "starttls: the server refused TLS");
	assert_int_equal(m.out[0].fetch_err, -ECANCELED);
}

/* Run a session to the step `upto` answers, then give `bad` and expect `error`. */
static void sm_fail_at(int upto, const char *bad, int error, const char *says)
{
	char t[32], skewed[32];
	const char *good[] = {"200 welcome", "200 client ok", t,         "200 tls", "200 user",
	                      "200 chal",    "200 logged in", "201 list"};
	struct sm m;

	snprintf(t, sizeof(t), "200 %d", NOW);
	snprintf(skewed, sizeof(skewed), "200 %d", NOW - 121);
	sm_init(&m, 1, true);
	for (int i = 0; i < upto; i++) {
		enum tic_action a = tic_session_feed(&m.s, good[i], NOW);

		if (a == TIC_ACT_STARTTLS)
			a = tic_session_tls_done(&m.s);
		assert_true(a == TIC_ACT_SEND || a == TIC_ACT_READ);
	}
	if (!strcmp(bad, "SKEW"))
		bad = skewed;
	if (tic_session_feed(&m.s, bad, NOW) != TIC_ACT_ERROR)
		fail_msg("step %d accepted '%.40s'", upto, bad);
	assert_int_equal(m.s.error, error);
	assert_contains(m.s.err, says);
	assert_int_equal(m.s.state, TIC_S_FAILED);
	/* a failed session stays failed */
	assert_int_equal(tic_session_feed(&m.s, "200 ok", NOW), TIC_ACT_ERROR);
}

static void test_sm_failures(void **state)
{
	char big[TIC_LINE_MAX + 1];

	(void)state;
	sm_fail_at(0, "400 Too many connections, try again later", -EBUSY,
	           "welcome: the server turned us away");
	sm_fail_at(0, "hello", -EBADMSG, "welcome: not a reply line");
	/* the server's control characters do not reach our messages */
	sm_fail_at(0, "400 go away\x1b[2J", -EBUSY, "go away?[2J");
	sm_fail_at(1, "400 unknown client", -EPROTO, "client: 400 unknown client");
	sm_fail_at(2, "500 no time", -EPROTO, "get unixtime: 500");
	sm_fail_at(2, "200 soon", -EBADMSG, "get unixtime: not a time");
	sm_fail_at(2, "200 -5", -EBADMSG, "get unixtime: not a time");
	sm_fail_at(2, "SKEW", -ERANGE, "get unixtime: clock is off by 121 s, use NTP");
	sm_fail_at(3, "500 no", -EPROTONOSUPPORT, "starttls");
	sm_fail_at(4, "400 no such user", -EACCES, "username: 400 no such user");
	sm_fail_at(5, "500 no md5", -EPROTO, "challenge md5: 500 no md5");
	sm_fail_at(5, "200", -EBADMSG, "challenge md5: bad challenge");
	sm_fail_at(5, "200 two words", -EBADMSG, "challenge md5: bad challenge");
	sm_fail_at(6, "401 wrong password", -EACCES, "authenticate: 401 wrong password");
	sm_fail_at(7, "500 list broken", -EPROTO, "tunnel list: 500 list broken");
	sm_fail_at(7, "200 no tunnels", -EBADMSG, "tunnel list: expected 201");
	sm_fail_at(8, "T1 2001:db8::2", -EBADMSG, "tunnel list: line 1: expected 4 fields");
	memset(big, 'a', TIC_LINE_MAX);
	big[TIC_LINE_MAX] = '\0';
	sm_fail_at(8, big, -EBADMSG, "tunnel list: line 1");
}

static void test_sm_list_too_long(void **state)
{
	struct sm m;
	char t[32], line[80];
	enum tic_action a = TIC_ACT_READ;
	int i;

	(void)state;
	snprintf(t, sizeof(t), "200 %d", NOW);
	sm_init(&m, 1, false);
	const char *pre[] = {"200 w", "200 c", t,       "400 no tls",
	                     "200 u", "200 c", "200 a", "201 list"};
	for (size_t k = 0; k < sizeof(pre) / sizeof(pre[0]); k++)
		tic_session_feed(&m.s, pre[k], NOW);
	assert_int_equal(m.s.state, TIC_S_LIST_BODY);
	for (i = 0; i < TIC_LIST_MAX + 1 && a == TIC_ACT_READ; i++) {
		snprintf(line, sizeof(line), "T%d 2001:db8::2 heartbeat p", i);
		a = tic_session_feed(&m.s, line, NOW);
	}
	assert_int_equal(a, TIC_ACT_ERROR);
	assert_int_equal(i, TIC_LIST_MAX + 1);
	assert_int_equal(m.s.error, -E2BIG);
}

static void test_sm_show_too_long(void **state)
{
	struct sm m;
	enum tic_action a = TIC_ACT_READ;
	int i;

	(void)state;
	sm_init(&m, 1, true);
	sm_login(&m);
	sm_step(&m, "200 ok", TIC_ACT_SEND, "tunnel list\n");
	sm_step(&m, "201 list", TIC_ACT_READ, NULL);
	sm_step(&m, "T1 2001:db8:1::2 heartbeat nlams01", TIC_ACT_READ, NULL);
	sm_step(&m, "202", TIC_ACT_SEND, "tunnel show T1\n");
	sm_step(&m, "201 show", TIC_ACT_READ, NULL);
	for (i = 0; i < TIC_SHOW_LINES_MAX + 1 && a == TIC_ACT_READ; i++)
		a = tic_session_feed(&m.s, "Filler: x", NOW);
	assert_int_equal(a, TIC_ACT_ERROR);
	assert_int_equal(i, TIC_SHOW_LINES_MAX + 1);
	assert_int_equal(m.s.error, -E2BIG);
	assert_contains(m.s.err, "tunnel show T1");
	assert_int_equal(m.out[0].fetch_err, -ECANCELED);
}

static void test_sm_init_and_misuse(void **state)
{
	struct tic_session s;
	struct tic_tunnel out[1];
	const char *bad_id[] = {"../x"};
	const char *good_id[] = {"T1"};
	struct tic_session_cfg cfg = {.username = "alice",
	                              .password = "pw",
	                              .client_version = "1",
	                              .os_release = "6",
	                              .ids = good_id,
	                              .nids = 1,
	                              .out = out};

	(void)state;
	assert_int_equal(tic_session_init(&s, &cfg), 0);
	/* a handshake nobody asked for */
	assert_int_equal(tic_session_tls_done(&s), TIC_ACT_ERROR);
	assert_int_equal(tic_session_init(&s, &cfg), 0);
	cfg.username = "al ice";
	assert_int_equal(tic_session_init(&s, &cfg), -EINVAL);
	cfg.username = "";
	assert_int_equal(tic_session_init(&s, &cfg), -EINVAL);
	cfg.username = "alice";
	cfg.password = "a\nb";
	assert_int_equal(tic_session_init(&s, &cfg), -EINVAL);
	cfg.password = "pw";
	cfg.ids = bad_id;
	assert_int_equal(tic_session_init(&s, &cfg), -EINVAL);
	cfg.ids = good_id;
	cfg.os_release = NULL;
	assert_int_equal(tic_session_init(&s, &cfg), -EINVAL);
	/* the I/O edge's own failures */
	cfg.os_release = "6";
	assert_int_equal(tic_session_init(&s, &cfg), 0);
	assert_int_equal(tic_session_fail(&s, -ETIMEDOUT, "timed out after %d s", 10),
	                 TIC_ACT_ERROR);
	assert_int_equal(s.error, -ETIMEDOUT);
	assert_string_equal(s.err, "timed out after 10 s");
	assert_int_equal(out[0].fetch_err, -ECANCELED);
	assert_contains(out[0].fetch_msg, "timed out");
}

/* ---- the I/O edge against a scripted fake server ---- */

enum fake_op {
	F_END = 0,
	F_SEND,   /* send text ("@TIME@" becomes the current time) */
	F_EXPECT, /* read a line; it must start with text */
	F_STALL,  /* sleep until killed */
	F_CLOSE,  /* close the connection */
	F_TLS,    /* TLS handshake as the server (text: priority string or NULL) */
};

struct fake_step {
	enum fake_op op;
	const char *text;
};

struct fake {
	pid_t pid;
	int port;
};

/* The fake server's TLS side (in the child only). */
static gnutls_session_t fake_tls;
static char tls_dir[64], fake_cert[128], fake_key[128];

static ssize_t fake_recv(int fd, void *buf, size_t len)
{
	ssize_t n;

	if (!fake_tls)
		return read(fd, buf, len);
	do
		n = gnutls_record_recv(fake_tls, buf, len);
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	return n;
}

static ssize_t fake_send(int fd, const void *buf, size_t len)
{
	return fake_tls ? gnutls_record_send(fake_tls, buf, len) : write(fd, buf, len);
}

#define FAKE_ALERT_EXIT 100

static void fake_start_tls(int fd, const char *priority)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t ticket_key;
	int r;

	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_key_file(cred, fake_cert, fake_key, GNUTLS_X509_FMT_PEM) <
	        0 ||
	    gnutls_init(&fake_tls, GNUTLS_SERVER) < 0)
		_exit(8);
	if (priority ? gnutls_priority_set_direct(fake_tls, priority, NULL) < 0
	             : gnutls_set_default_priority(fake_tls) < 0)
		_exit(8);
	gnutls_credentials_set(fake_tls, GNUTLS_CRD_CERTIFICATE, cred);
	/* TLS 1.3 servers send session tickets after the handshake: so do we. */
	if (gnutls_session_ticket_key_generate(&ticket_key) < 0 ||
	    gnutls_session_ticket_enable_server(fake_tls, &ticket_key) < 0)
		_exit(8);
	gnutls_transport_set_int(fake_tls, fd);
	do
		r = gnutls_handshake(fake_tls);
	while (r < 0 && !gnutls_error_is_fatal(r));
	/* A client that refuses us must say why: FAKE_ALERT_EXIT + the alert it sent. */
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		_exit(FAKE_ALERT_EXIT + gnutls_alert_get(fake_tls));
	if (r < 0) {
		fprintf(stderr, "fake server: TLS handshake: %s\n", gnutls_strerror(r));
		_exit(9);
	}
}

static int fake_readline(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		char c;

		if (fake_recv(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

static void fake_serve(int lfd, const struct fake_step *script)
{
	int fd = accept(lfd, NULL, NULL);
	char line[4096], out[4096];

	alarm(20); /* never outlive a broken test */
	if (fd < 0)
		_exit(3);
	for (; script->op != F_END; script++) {
		const char *at;

		switch (script->op) {
		case F_SEND:
			at = strstr(script->text, "@TIME@");
			if (at)
				snprintf(out, sizeof(out), "%.*s%ld%s", (int)(at - script->text),
				         script->text, (long)time(NULL), at + 6);
			else
				snprintf(out, sizeof(out), "%s", script->text);
			if (fake_send(fd, out, strlen(out)) != (ssize_t)strlen(out))
				_exit(4);
			break;
		case F_EXPECT:
			if (fake_readline(fd, line, sizeof(line)) < 0)
				_exit(5);
			if (strncmp(line, script->text, strlen(script->text))) {
				fprintf(stderr, "fake server: got '%s', wanted '%s'\n", line,
				        script->text);
				_exit(6);
			}
			break;
		case F_STALL:
			pause();
			break;
		case F_CLOSE:
			close(fd);
			_exit(0);
		case F_TLS:
			fake_start_tls(fd, script->text);
			break;
		case F_END:
			break;
		}
	}
	/* The client closes after QUIT (a TLS close_notify first): expect EOF. */
	if (fake_recv(fd, line, 1) != 0)
		_exit(7);
	_exit(0);
}

static void fake_start(struct fake *f, const struct fake_step *script)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(listen(lfd, 1), 0);
	f->port = ntohs(sin.sin_port);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0)
		fake_serve(lfd, script);
	close(lfd);
}

/* Stop the fake server; its exit status (0: the script ran to its end). */
static int fake_stop(struct fake *f, bool kill_it)
{
	int st = 0;

	if (kill_it)
		kill(f->pid, SIGTERM);
	assert_int_equal(waitpid(f->pid, &st, 0), f->pid);
	if (kill_it)
		return 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static void account(struct tic_account *a, const struct fake *f, bool require_tls)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->server, sizeof(a->server), "127.0.0.1:%d", f->port);
	strcpy(a->username, "alice");
	strcpy(a->password, "wonderland");
	a->require_tls = require_tls;
}

static char warnings[1024];

static void collect_warning(void *ctx, const char *msg)
{
	(void)ctx;
	snprintf(warnings, sizeof(warnings), "%s", msg);
}

static char auth_line[64];

#define LOGIN_PLAIN                                                                                \
	{F_SEND, "200 TIC Service on fake ready\r\n"}, {F_EXPECT, "client TIC/draft-00 aiccud/"},  \
	    {F_SEND, "200 Client Identity accepted\r\n"}, {F_EXPECT, "get unixtime"},              \
	    {F_SEND, "200 @TIME@\r\n"}, {F_EXPECT, "starttls"},                                    \
	    {F_SEND, "400 This service is not available\r\n"}, {F_EXPECT, "username alice"},       \
	    {F_SEND, "200 Choose your authentication challenge please\r\n"},                       \
	    {F_EXPECT, "challenge md5"}, {F_SEND, "200 0123456789abcdef\r\n"},                     \
	{                                                                                          \
		F_EXPECT, auth_line                                                                \
	}

static int io_setup(void **state)
{
	char want[33];

	(void)state;
	expected_response("0123456789abcdef", "wonderland", want);
	snprintf(auth_line, sizeof(auth_line), "authenticate md5 %s", want);
	warnings[0] = '\0';
	return 0;
}

static void test_io_full_session(void **state)
{
	const struct fake_step script[] = {
	    LOGIN_PLAIN,
	    {F_SEND, "200 Succesfully logged in using md5 as alice\r\n"},
	    {F_EXPECT, "tunnel list"},
	    {F_SEND, "201 Listing tunnels\r\nT1 2001:db8:1::2 heartbeat nlams01\r\n"
	             "T2 2001:db8:2::2 heartbeat nlams01\r\n202 <tunnel_list/>\r\n"},
	    {F_EXPECT, "tunnel show T1"},
	    {F_SEND, "201 Showing tunnel information for T1\r\nTunnelId: T1\r\n"
	             "Type: ayiya\r\nIPv6 Endpoint: 2001:db8:1::2\r\nIPv6 POP: 2001:db8:1::1\r\n"
	             "IPv6 PrefixLength: 64\r\nIPv4 Endpoint: heartbeat\r\n"
	             "IPv4 POP: 198.51.100.1\r\nUserState: enabled\r\nAdminState: enabled\r\n"
	             "Password: tunnelpw\r\nHeartbeat_Interval: 60\r\nTunnel MTU: 1280\r\n"
	             "202 Done\r\n"},
	    {F_EXPECT, "QUIT"},
	    {F_END, NULL},
	};
	const char *ids[] = {"T1", "T9"};
	struct tic_io_opts opts = {.warn = collect_warning, .client_version = "9.9"};
	struct tic_tunnel out[2];
	struct tic_account acct;
	struct fake f;
	char err[TIC_ERR_MAX * 2];

	(void)state;
	fake_start(&f, script);
	account(&acct, &f, false);
	assert_int_equal(tic_fetch(&acct, ids, 2, &opts, out, err, sizeof(err)), 0);
	assert_int_equal(fake_stop(&f, false), 0);
	assert_int_equal(out[0].fetch_err, 0);
	assert_string_equal(out[0].params.password, "tunnelpw");
	assert_string_equal(out[0].pop_id, "nlams01");
	assert_int_equal(out[1].fetch_err, -ENOENT);
	assert_contains(warnings, "plain text");
	assert_contains(warnings, "127.0.0.1:");
}

static void io_expect_failure(const struct fake_step *script, bool require_tls,
                              const struct tic_io_opts *opts, int error, const char *says)
{
	const char *ids[] = {"T1"};
	struct tic_tunnel out[1];
	struct tic_account acct;
	struct fake f;
	char err[TIC_ERR_MAX * 2], prefix[64];
	int r;

	fake_start(&f, script);
	account(&acct, &f, require_tls);
	r = tic_fetch(&acct, ids, 1, opts, out, err, sizeof(err));
	fake_stop(&f, true);
	if (r != error)
		fail_msg("tic_fetch: %d, expected %d (%s)", r, error, err);
	snprintf(prefix, sizeof(prefix), "127.0.0.1:%d: ", f.port);
	assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
	assert_contains(err, says);
}

static void test_io_stall_mid_line(void **state)
{
	const struct fake_step script[] = {
	    LOGIN_PLAIN,
	    {F_SEND, "200 logged in\r\n"},
	    {F_EXPECT, "tunnel list"},
	    {F_SEND, "201 Listing\r\nT1 2001:db8:1::2 heartbeat nlams01\r\n202 done\r\n"},
	    {F_EXPECT, "tunnel show T1"},
	    {F_SEND, "201 Showing\r\nTunnelId: T1\r\nType: ay"},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};
	struct tic_io_opts opts = {.step_timeout_ms = 300};
	struct timespec a, b;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	io_expect_failure(script, false, &opts, -ETIMEDOUT,
	                  "timed out after 300 ms waiting for the reply to 'tunnel show T1'");
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 5);
}

static void test_io_total_timeout(void **state)
{
	const struct fake_step script[] = {
	    {F_SEND, "200 hi\r\n"},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};
	struct tic_io_opts opts = {.step_timeout_ms = 5000, .total_timeout_ms = 200};

	(void)state;
	io_expect_failure(script, false, &opts, -ETIMEDOUT,
	                  "client: the session took longer than 200 ms");
}

static void test_io_oversized_line(void **state)
{
	static char big[TIC_LINE_MAX + 64];
	const struct fake_step script[] = {
	    {F_SEND, big},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};

	(void)state;
	memcpy(big, "200 ", 4);
	memset(big + 4, 'w', TIC_LINE_MAX + 10);
	strcpy(big + TIC_LINE_MAX + 14, "\r\n");
	io_expect_failure(script, false, NULL, -EMSGSIZE,
	                  "welcome: a reply line longer than 1024 bytes");
}

/* Issue 20: one tunnel's over-long line costs that tunnel, not the session. */
static void test_io_long_line_one_tunnel(void **state)
{
	static char t1[TIC_LINE_MAX * 3 + 256];
	const struct fake_step script[] = {
	    LOGIN_PLAIN,
	    {F_SEND, "200 logged in\r\n"},
	    {F_EXPECT, "tunnel list"},
	    {F_SEND, "201 Listing\r\nT1 2001:db8:1::2 heartbeat nlams01\r\n"
	             "T2 2001:db8:2::2 heartbeat nlams01\r\n202 done\r\n"},
	    {F_EXPECT, "tunnel show T1"},
	    {F_SEND, t1},
	    {F_EXPECT, "tunnel show T2"},
	    {F_SEND, "201 Showing\r\nTunnelId: T2\r\nType: 6in4-static\r\n"
	             "IPv6 Endpoint: 2001:db8:2::2\r\nIPv6 POP: 2001:db8:2::1\r\n"
	             "IPv6 PrefixLength: 64\r\nIPv4 Endpoint: 192.0.2.2\r\n"
	             "IPv4 POP: 198.51.100.1\r\nUserState: enabled\r\nAdminState: enabled\r\n"
	             "202 Done\r\n"},
	    {F_EXPECT, "QUIT"},
	    {F_END, NULL},
	};
	const char *ids[] = {"T1", "T2"};
	struct tic_tunnel out[2];
	struct tic_account acct;
	struct fake f;
	char err[TIC_ERR_MAX * 2];
	size_t n;

	(void)state;
	n = (size_t)snprintf(t1, sizeof(t1), "201 Showing\r\nTunnelId: T1\r\nTunnel Name: ");
	memset(t1 + n, 'x', TIC_LINE_MAX * 3);
	snprintf(t1 + n + TIC_LINE_MAX * 3, sizeof(t1) - n - TIC_LINE_MAX * 3,
	         "\r\nType: ayiya\r\n202 Done\r\n");
	fake_start(&f, script);
	account(&acct, &f, false);
	if (tic_fetch(&acct, ids, 2, NULL, out, err, sizeof(err)) != 0)
		fail_msg("the session failed: %s", err);
	assert_int_equal(fake_stop(&f, false), 0);
	assert_int_equal(out[0].fetch_err, -EMSGSIZE);
	assert_contains(out[0].fetch_msg, "tunnel show T1: a line longer than 1024 bytes");
	assert_int_equal(out[1].fetch_err, 0);
	assert_int_equal(out[1].params.type, TUNNEL_6IN4_STATIC);
}

static void test_io_refused_welcome(void **state)
{
	const struct fake_step refuse[] = {
	    {F_SEND, "400 Too many connections, please wait 5 minutes\r\n"},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};
	const struct fake_step hangup[] = {{F_CLOSE, NULL}, {F_END, NULL}};

	(void)state;
	io_expect_failure(refuse, true, NULL, TIC_ERR_REFUSED,
	                  "welcome: the server turned us away: '400 Too many");
	io_expect_failure(hangup, true, NULL, TIC_ERR_REFUSED, "welcome: the server closed");
}

static void test_io_require_tls(void **state)
{
	const struct fake_step script[] = {
	    {F_SEND, "200 hi\r\n"},
	    {F_EXPECT, "client "},
	    {F_SEND, "200 ok\r\n"},
	    {F_EXPECT, "get unixtime"},
	    {F_SEND, "200 @TIME@\r\n"},
	    {F_EXPECT, "starttls"},
	    {F_SEND, "400 This service is not available\r\n"},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};

	(void)state;
	io_expect_failure(script, true, NULL, -EPROTONOSUPPORT, "starttls: the server refused TLS");
}

static time_t clock_ahead(void *ctx)
{
	(void)ctx;
	return time(NULL) + 500;
}

static void test_io_clock_off(void **state)
{
	const struct fake_step script[] = {
	    {F_SEND, "200 hi\r\n"},
	    {F_EXPECT, "client "},
	    {F_SEND, "200 ok\r\n"},
	    {F_EXPECT, "get unixtime"},
	    {F_SEND, "200 @TIME@\r\n"},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};
	struct tic_io_opts opts = {.clock = clock_ahead};

	(void)state;
	io_expect_failure(script, true, &opts, -ERANGE, "get unixtime: clock is off by 50");
}

static void test_io_closed_mid_session(void **state)
{
	const struct fake_step script[] = {
	    LOGIN_PLAIN,
	    {F_CLOSE, NULL},
	    {F_END, NULL},
	};

	(void)state;
	io_expect_failure(script, false, NULL, -ECONNRESET,
	                  "authenticate: the server closed the connection");
}

static void test_io_connect_refused(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	const char *ids[] = {"T1"};
	struct tic_tunnel out[1];
	struct tic_account acct = {.require_tls = true};
	char err[512];

	(void)state;
	/* a port that was free a moment ago and has no listener */
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	snprintf(acct.server, sizeof(acct.server), "127.0.0.1:%d", ntohs(sin.sin_port));
	strcpy(acct.username, "alice");
	assert_int_equal(tic_fetch(&acct, ids, 1, NULL, out, err, sizeof(err)), -ECONNREFUSED);
	assert_contains(err, "connect: ");
	strcpy(acct.server, "bad host:port:x");
	assert_int_equal(tic_fetch(&acct, ids, 1, NULL, out, err, sizeof(err)), -EINVAL);
}

/* ---- TLS: a test CA made by certtool ---- */

static int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run_cmd(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int write_text(const char *dir, const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Make a CA and certificate "name" for the given template lines. */
static int make_cert(const char *ca, const char *name, const char *tmpl)
{
	char t[64];

	snprintf(t, sizeof(t), "%s.tmpl", name);
	if (write_text(tls_dir, t, tmpl))
		return -1;
	return run_cmd("cd %s && certtool --generate-privkey --key-type=ecdsa --outfile %s.key "
	               ">/dev/null 2>&1 && certtool --generate-certificate --load-privkey %s.key "
	               "--load-ca-certificate %s.pem --load-ca-privkey %s.key --template %s.tmpl "
	               "--outfile %s.pem >/dev/null 2>&1",
	               tls_dir, name, name, ca, ca, name, name);
}

static int make_ca(const char *name)
{
	char t[64];

	snprintf(t, sizeof(t), "%s.tmpl", name);
	if (write_text(tls_dir, t,
	               "cn = aiccud test CA\nca\ncert_signing_key\nexpiration_days = 2\n"))
		return -1;
	return run_cmd("cd %s && certtool --generate-privkey --key-type=ecdsa --outfile %s.key "
	               ">/dev/null 2>&1 && certtool --generate-self-signed --load-privkey %s.key "
	               "--template %s.tmpl --outfile %s.pem >/dev/null 2>&1",
	               tls_dir, name, name, name, name);
}

static bool have_certs;

static int tls_group_setup(void **state)
{
	(void)state;
	strcpy(tls_dir, "/tmp/test_tic_tls_XXXXXX");
	if (!mkdtemp(tls_dir))
		return -1;
	have_certs =
	    system("certtool --version >/dev/null 2>&1") == 0 && !make_ca("ca") &&
	    !make_ca("otherca") &&
	    !make_cert("ca", "server",
	               "cn = tic.test\ndns_name = tic.test\nip_address = 127.0.0.1\n"
	               "tls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n") &&
	    !make_cert("ca", "wrongname",
	               "cn = other.test\ndns_name = other.test\ntls_www_server\n"
	               "signing_key\nencryption_key\nexpiration_days = 2\n");
	return 0;
}

static int tls_group_teardown(void **state)
{
	(void)state;
	return run_cmd("rm -rf '%s'", tls_dir) == 0 ? 0 : -1;
}

static void use_cert(const char *name)
{
	if (!have_certs)
		skip();
	snprintf(fake_cert, sizeof(fake_cert), "%s/%s.pem", tls_dir, name);
	snprintf(fake_key, sizeof(fake_key), "%s/%s.key", tls_dir, name);
}

static void tls_session_min(const char *server_prio, const char *client_prio, uint8_t tls_min)
{
	const struct fake_step script[] = {
	    {F_SEND, "200 TIC Service on fake ready\r\n"},
	    {F_EXPECT, "client TIC/draft-00 aiccud/"},
	    {F_SEND, "200 ok\r\n"},
	    {F_EXPECT, "get unixtime"},
	    {F_SEND, "200 @TIME@\r\n"},
	    {F_EXPECT, "starttls"},
	    {F_SEND, "200 Starting TLS\r\n"},
	    {F_TLS, server_prio},
	    {F_EXPECT, "username alice"},
	    {F_SEND, "200 Choose\r\n"},
	    {F_EXPECT, "challenge md5"},
	    {F_SEND, "200 0123456789abcdef\r\n"},
	    {F_EXPECT, auth_line},
	    {F_SEND, "200 logged in\r\n"},
	    {F_EXPECT, "tunnel list"},
	    {F_SEND, "201 Listing\r\nT1 2001:db8:1::2 192.0.2.2 nlams01\r\n202 done\r\n"},
	    {F_EXPECT, "tunnel show T1"},
	    {F_SEND, "201 Showing\r\nTunnelId: T1\r\nType: 6in4-static\r\n"
	             "IPv6 Endpoint: 2001:db8:1::2\r\nIPv6 POP: 2001:db8:1::1\r\n"
	             "IPv6 PrefixLength: 64\r\nIPv4 Endpoint: 192.0.2.2\r\n"
	             "IPv4 POP: 198.51.100.1\r\nUserState: enabled\r\nAdminState: enabled\r\n"
	             "202 Done\r\n"},
	    {F_EXPECT, "QUIT"},
	    {F_END, NULL},
	};
	struct tic_io_opts opts = {.tls_priority = client_prio, .warn = collect_warning};
	const char *ids[] = {"T1"};
	struct tic_tunnel out[1];
	struct tic_account acct;
	struct fake f;
	char err[TIC_ERR_MAX * 2];
	int r;

	use_cert("server");
	fake_start(&f, script);
	account(&acct, &f, true);
	acct.tls_min = tls_min;
	snprintf(acct.ca_file, sizeof(acct.ca_file), "%s/ca.pem", tls_dir);
	r = tic_fetch(&acct, ids, 1, &opts, out, err, sizeof(err));
	if (r)
		fail_msg("tic_fetch: %s", err);
	assert_int_equal(fake_stop(&f, false), 0);
	assert_int_equal(out[0].fetch_err, 0);
	assert_int_equal(out[0].params.type, TUNNEL_6IN4_STATIC);
	assert_string_equal(warnings, "");
}

static void tls_session(const char *server_prio, const char *client_prio)
{
	tls_session_min(server_prio, client_prio, 0);
}

/* A server that offers only TLS 1.0 and 1.1 */
#define OLD_SERVER "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0"

/* Issue 20: TLS 1.2 is the floor unless [tic] tls_min says otherwise. */
static void test_tls_old_server_refused(void **state)
{
	const struct fake_step script[] = {
	    {F_SEND, "200 hi\r\n"},
	    {F_EXPECT, "client "},
	    {F_SEND, "200 ok\r\n"},
	    {F_EXPECT, "get unixtime"},
	    {F_SEND, "200 @TIME@\r\n"},
	    {F_EXPECT, "starttls"},
	    {F_SEND, "200 Starting TLS\r\n"},
	    {F_TLS, OLD_SERVER},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};
	const char *ids[] = {"T1"};
	struct tic_tunnel out[1];
	struct tic_account acct;
	struct fake f;
	char err[TIC_ERR_MAX * 2];
	uint8_t floors[] = {0, 12, 13};

	(void)state;
	for (size_t i = 0; i < sizeof(floors); i++) {
		use_cert("server");
		fake_start(&f, script);
		account(&acct, &f, true);
		acct.tls_min = floors[i];
		snprintf(acct.ca_file, sizeof(acct.ca_file), "%s/ca.pem", tls_dir);
		assert_int_equal(tic_fetch(&acct, ids, 1, NULL, out, err, sizeof(err)), -EPROTO);
		/* the server's handshake failed: it never got to the TIC commands */
		assert_int_not_equal(fake_stop(&f, false), 0);
		assert_contains(err, "starttls: TLS handshake");
		assert_contains(err, floors[i] == 13 ? "offers TLS 1.3 and newer"
		                                     : "offers TLS 1.2 and newer");
		assert_contains(err, "[tic] tls_min allows older versions");
	}
}

static void test_tls_old_server_allowed(void **state)
{
	(void)state;
	tls_session_min(OLD_SERVER, NULL, 10);
	tls_session_min("NORMAL:-VERS-ALL:+VERS-TLS1.1", NULL, 11);
}

static void test_tls13_with_tickets(void **state)
{
	(void)state;
	tls_session("NORMAL:-VERS-ALL:+VERS-TLS1.3", NULL);
}

static void test_tls12(void **state)
{
	(void)state;
	tls_session("NORMAL:-VERS-ALL:+VERS-TLS1.2", NULL);
	tls_session(NULL, "NORMAL:-VERS-ALL:+VERS-TLS1.2");
}

static void tls_refused(const char *cert, const char *ca, const char *says,
                        gnutls_alert_description_t alert, const char *server_prio)
{
	const struct fake_step script[] = {
	    {F_SEND, "200 hi\r\n"},
	    {F_EXPECT, "client "},
	    {F_SEND, "200 ok\r\n"},
	    {F_EXPECT, "get unixtime"},
	    {F_SEND, "200 @TIME@\r\n"},
	    {F_EXPECT, "starttls"},
	    {F_SEND, "200 Starting TLS\r\n"},
	    {F_TLS, server_prio},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};
	const char *ids[] = {"T1"};
	struct tic_tunnel out[1];
	struct tic_account acct;
	struct fake f;
	char err[TIC_ERR_MAX * 2];

	use_cert(cert);
	fake_start(&f, script);
	account(&acct, &f, true);
	snprintf(acct.ca_file, sizeof(acct.ca_file), "%s/%s.pem", tls_dir, ca);
	assert_int_equal(tic_fetch(&acct, ids, 1, NULL, out, err, sizeof(err)), -EKEYREJECTED);
	/* PROTOCOLS.md 7.1: the server hears a TLS alert saying why, not a bare close */
	assert_int_equal(fake_stop(&f, false), FAKE_ALERT_EXIT + (int)alert);
	assert_contains(err, "starttls: the server's certificate was refused for '127.0.0.1'");
	assert_contains(err, says);
}

static void test_tls_wrong_name(void **state)
{
	(void)state;
	tls_refused("wrongname", "ca", "name in the certificate does not match",
	            GNUTLS_A_BAD_CERTIFICATE, NULL);
}

static void test_tls_unknown_ca(void **state)
{
	(void)state;
	tls_refused("server", "otherca", "issuer is unknown", GNUTLS_A_UNKNOWN_CA, NULL);
	/* the same alert over TLS 1.2, which the real client's broker spoke */
	tls_refused("server", "otherca", "issuer is unknown", GNUTLS_A_UNKNOWN_CA,
	            "NORMAL:-VERS-ALL:+VERS-TLS1.2");
}

static void test_tls_missing_ca_file(void **state)
{
	const struct fake_step script[] = {
	    {F_SEND, "200 hi\r\n"},
	    {F_EXPECT, "client "},
	    {F_SEND, "200 ok\r\n"},
	    {F_EXPECT, "get unixtime"},
	    {F_SEND, "200 @TIME@\r\n"},
	    {F_EXPECT, "starttls"},
	    {F_SEND, "200 Starting TLS\r\n"},
	    {F_STALL, NULL},
	    {F_END, NULL},
	};
	const char *ids[] = {"T1"};
	struct tic_tunnel out[1];
	struct tic_account acct;
	struct fake f;
	char err[TIC_ERR_MAX * 2];

	(void)state;
	fake_start(&f, script);
	account(&acct, &f, true);
	strcpy(acct.ca_file, "/nonexistent/ca.pem");
	assert_int_equal(tic_fetch(&acct, ids, 1, NULL, out, err, sizeof(err)), -EINVAL);
	fake_stop(&f, true);
	assert_contains(err, "starttls: ca_file /nonexistent/ca.pem");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_parse),
	    cmocka_unit_test(test_lines_basic),
	    cmocka_unit_test(test_lines_byte_at_a_time),
	    cmocka_unit_test(test_lines_limits),
	    cmocka_unit_test(test_list_parse),
	    cmocka_unit_test(test_id_valid),
	    cmocka_unit_test(test_show_ok),
	    cmocka_unit_test(test_show_missing_keys),
	    cmocka_unit_test(test_show_bad_values),
	    cmocka_unit_test(test_show_endpoint_before_type),
	    cmocka_unit_test(test_show_labels_scrubbed),
	    cmocka_unit_test(test_show_syntax),
	    cmocka_unit_test(test_show_format_round_trip),
	    cmocka_unit_test(test_md5_response),
	    cmocka_unit_test(test_clock),
	    cmocka_unit_test(test_server_parse),
	    cmocka_unit_test(test_sm_full_session),
	    cmocka_unit_test(test_sm_show_errors_per_tunnel),
	    cmocka_unit_test(test_sm_ayiya_endpoint),
	    cmocka_unit_test(test_sm_no_tunnels_quits_after_login),
	    cmocka_unit_test(test_sm_plain_text),
	    cmocka_unit_test(test_sm_failures),
	    cmocka_unit_test(test_sm_list_too_long),
	    cmocka_unit_test(test_sm_show_too_long),
	    cmocka_unit_test(test_sm_init_and_misuse),
	    cmocka_unit_test_setup(test_io_full_session, io_setup),
	    cmocka_unit_test_setup(test_io_stall_mid_line, io_setup),
	    cmocka_unit_test_setup(test_io_total_timeout, io_setup),
	    cmocka_unit_test_setup(test_io_oversized_line, io_setup),
	    cmocka_unit_test_setup(test_io_refused_welcome, io_setup),
	    cmocka_unit_test_setup(test_io_require_tls, io_setup),
	    cmocka_unit_test_setup(test_io_clock_off, io_setup),
	    cmocka_unit_test_setup(test_io_closed_mid_session, io_setup),
	    cmocka_unit_test(test_io_connect_refused),
	};

	const struct CMUnitTest tls_tests[] = {
	    cmocka_unit_test_setup(test_tls13_with_tickets, io_setup),
	    cmocka_unit_test_setup(test_tls12, io_setup),
	    cmocka_unit_test_setup(test_io_long_line_one_tunnel, io_setup),
	    cmocka_unit_test_setup(test_tls_old_server_refused, io_setup),
	    cmocka_unit_test_setup(test_tls_old_server_allowed, io_setup),
	    cmocka_unit_test_setup(test_tls_wrong_name, io_setup),
	    cmocka_unit_test_setup(test_tls_unknown_ca, io_setup),
	    cmocka_unit_test_setup(test_tls_missing_ca_file, io_setup),
	};
	int failed;

	/* A fake server that hangs up must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	failed += cmocka_run_group_tests(tls_tests, tls_group_setup, tls_group_teardown);
	return failed;
}
