/* p41_decap, p41_ours and the socket filter: what the user-space proto-41 receive path takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "datapath.h"
#include "proto41.h"

/* An IPv4 header (no options) with protocol 41 from src, then an IPv6 header. */
static size_t build(uint8_t *buf, const char *src, uint8_t proto, uint8_t ihl, size_t inner)
{
	struct in_addr a;

	memset(buf, 0, 20 + 40 + inner);
	buf[0] = (uint8_t)(0x40 | ihl);
	buf[9] = proto;
	inet_pton(AF_INET, src, &a);
	memcpy(buf + 12, &a, 4);
	inet_pton(AF_INET, "192.0.2.2", &a);
	memcpy(buf + 16, &a, 4);
	buf[ihl * 4] = 0x60;
	return (size_t)ihl * 4 + 40 + inner;
}

static struct in_addr pop(void)
{
	struct in_addr a;

	inet_pton(AF_INET, "192.0.2.1", &a);
	return a;
}

static void accepts_ipv6_from_the_pop(void **state)
{
	uint8_t buf[128];
	size_t len = build(buf, "192.0.2.1", 41, 5, 8), inner = 0;
	enum drop_reason why = DROP_REASON_COUNT;
	const uint8_t *p = p41_decap(buf, len, pop(), &inner, &why);

	(void)state;
	assert_ptr_equal(p, buf + 20);
	assert_int_equal(inner, 48);
	assert_int_equal(why, DROP_REASON_COUNT);
}

static void skips_ipv4_options(void **state)
{
	uint8_t buf[128];
	size_t len = build(buf, "192.0.2.1", 41, 6, 0), inner = 0;
	enum drop_reason why;

	(void)state;
	assert_ptr_equal(p41_decap(buf, len, pop(), &inner, &why), buf + 24);
	assert_int_equal(inner, 40);
}

static void drops_foreign_source(void **state)
{
	uint8_t buf[128];
	size_t len = build(buf, "198.51.100.7", 41, 5, 0), inner;
	enum drop_reason why;

	(void)state;
	assert_null(p41_decap(buf, len, pop(), &inner, &why));
	assert_int_equal(why, DROP_FOREIGN);
}

static void drops_non_ipv6_payload(void **state)
{
	uint8_t buf[128];
	size_t len = build(buf, "192.0.2.1", 41, 5, 0), inner;
	enum drop_reason why;

	(void)state;
	buf[20] = 0x45; /* IPv4 inside */
	assert_null(p41_decap(buf, len, pop(), &inner, &why));
	assert_int_equal(why, DROP_PAYLOAD);
	len = build(buf, "192.0.2.1", 41, 5, 0);
	assert_null(p41_decap(buf, len - 1, pop(), &inner, &why)); /* truncated IPv6 header */
	assert_int_equal(why, DROP_PAYLOAD);
	len = build(buf, "192.0.2.1", 17, 5, 0);
	assert_null(p41_decap(buf, len, pop(), &inner, &why));
	assert_int_equal(why, DROP_PAYLOAD);
}

static void drops_short_and_bad_headers(void **state)
{
	uint8_t buf[128];
	size_t len = build(buf, "192.0.2.1", 41, 5, 0), inner;
	enum drop_reason why;

	(void)state;
	assert_null(p41_decap(buf, 19, pop(), &inner, &why));
	assert_int_equal(why, DROP_SHORT);
	buf[0] = 0x44; /* IHL 4: shorter than an IPv4 header */
	assert_null(p41_decap(buf, len, pop(), &inner, &why));
	assert_int_equal(why, DROP_SHORT);
	buf[0] = 0x4f; /* IHL 15: 60 bytes, longer than a 24-byte datagram */
	assert_null(p41_decap(buf, 24, pop(), &inner, &why));
	assert_int_equal(why, DROP_SHORT);
	buf[0] = 0x65; /* not IPv4 */
	assert_null(p41_decap(buf, len, pop(), &inner, &why));
	assert_int_equal(why, DROP_SHORT);
}

static struct in6_addr a6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

/* An IPv6 header from src to dst in buf. */
static const uint8_t *ip6(uint8_t *buf, const char *src, const char *dst)
{
	struct in6_addr s = a6(src), d = a6(dst);

	memset(buf, 0, 40);
	buf[0] = 0x60;
	memcpy(buf + 8, &s, 16);
	memcpy(buf + 24, &d, 16);
	return buf;
}

/* Two user-space tunnels to one PoP see each other's packets: demultiplex. */
static void ours_by_destination(void **state)
{
	struct tunnel_conf tc = {0};
	struct tunnel_counters c = {0};
	struct in6_addr ll = a6("fe80::db8:a:0:2");
	struct p41 p;
	uint8_t h[40];

	(void)state;
	tc.params.ipv6_local = a6("2001:db8:a::2");
	tc.params.prefix_len = 64;
	tc.params.ipv4_pop = pop();
	tc.routed[0].addr = a6("2001:db8:100::");
	tc.routed[0].len = 44;
	tc.nrouted = 1;
	assert_int_equal(p41_init(&p, -1, -1, &tc, &ll, &c, 0), 0);
	assert_true(p41_ours(&p, ip6(h, "2001:db8:eeee::2", "2001:db8:a::2")));
	assert_true(p41_ours(&p, ip6(h, "2001:db8:eeee::2", "2001:db8:a::ffff")));
	assert_false(p41_ours(&p, ip6(h, "2001:db8:eeee::2", "2001:db8:b::2"))); /* other tunnel */
	assert_true(p41_ours(&p, ip6(h, "2001:db8:eeee::2", "2001:db8:10f:ffff::1")));
	assert_false(p41_ours(&p, ip6(h, "2001:db8:eeee::2", "2001:db8:110::1")));
	/* multicast: only from our tunnel's prefix (the PoP's ::1) */
	assert_true(p41_ours(&p, ip6(h, "2001:db8:a::1", "ff02::1")));
	assert_false(p41_ours(&p, ip6(h, "2001:db8:b::1", "ff02::1")));
	assert_false(p41_ours(&p, ip6(h, "fe80::1", "ff02::1")));
	/* link-local: only our own */
	assert_true(p41_ours(&p, ip6(h, "fe80::1", "fe80::db8:a:0:2")));
	assert_false(p41_ours(&p, ip6(h, "fe80::1", "fe80::db8:b:0:2")));
	p41_free(&p);
	tc.nrouted = 0;
	tc.params.prefix_len = 128;
	assert_int_equal(p41_init(&p, -1, -1, &tc, &ll, &c, 0), 0);
	assert_false(p41_ours(&p, ip6(h, "2001:db8:eeee::2", "2001:db8:a::3")));
	p41_free(&p);
}

/* ---- the socket filter, run by a small interpreter of what it uses ---- */

static uint32_t be(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v = v << 8 | p[i];
	return v;
}

/* The kernel's semantics: a load beyond the packet ends the program with 0 (dropped). */
static uint32_t filter_run(const struct sock_filter *f, size_t n, const uint8_t *pkt, size_t len)
{
	uint32_t a = 0, x = 0;

	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		unsigned size = BPF_SIZE(i->code) == BPF_W ? 4 : BPF_SIZE(i->code) == BPF_H ? 2 : 1;
		uint32_t off = i->k + (BPF_MODE(i->code) == BPF_IND ? x : 0);

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_W | BPF_IND:
		case BPF_LD | BPF_H | BPF_IND:
		case BPF_LD | BPF_B | BPF_IND:
			if ((size_t)off + size > len)
				return 0;
			a = be(pkt + off, size);
			break;
		case BPF_LD | BPF_W | BPF_LEN:
			a = (uint32_t)len;
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if (i->k >= len)
				return 0;
			x = 4u * (pkt[i->k] & 0xfu);
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			a >>= i->k;
			break;
		case BPF_ALU | BPF_SUB | BPF_X:
			a -= x;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_X:
			pc += a >= x ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fail_msg("opcode %#x at %zu", i->code, pc);
		}
	}
	fail_msg("the program runs off its end");
	return 0;
}

/* An outer IPv4 header of ihl words from src, then an IPv6 header src6 -> dst6. */
static size_t dgram(uint8_t *buf, const char *src, uint8_t ihl, const char *src6, const char *dst6)
{
	size_t len = build(buf, src, 41, ihl, 0);

	ip6(buf + ihl * 4, src6, dst6);
	return len;
}

/*
 * The filter passes exactly what p41_ours takes, and everything p41_decap
 * counts as a drop (it must see those to count them).
 */
static void filter_passes_what_is_ours(void **state)
{
	static const char *const srcs[] = {"192.0.2.1", "198.51.100.7"};
	static const char *const addrs[] = {
	    "2001:db8:a::2", "2001:db8:a::ffff",     "2001:db8:a:0:1::1", "2001:db8:a:1::2",
	    "2001:db8:b::2", "2001:db8:10f:ffff::1", "2001:db8:100::",    "2001:db8:110::1",
	    "2001:db8:c::8", "2001:db8:c::f",        "2001:db8:c::10",    "2001:db8:d::1",
	    "ff02::1",       "ff02::1:ff00:2",       "fe80::db8:a:0:2",   "fe80::db8:b:0:2",
	    "fe80::1",       "febf::db8:a:0:2",      "fec0::1",           "::",
	    "2001:db8:a::1", "2001:db8:b::1",        "::ffff:192.0.2.2",  "ff0e::1"};
	struct tunnel_conf tc = {0};
	struct tunnel_counters c = {0};
	struct in6_addr ll = a6("fe80::db8:a:0:2");
	struct sock_filter prog[P41_FILTER_MAX];
	struct p41 p;
	uint8_t buf[128];
	size_t n, checked = 0;

	(void)state;
	tc.params.ipv6_local = a6("2001:db8:a::2");
	tc.params.prefix_len = 64;
	tc.params.ipv4_pop = pop();
	tc.routed[0].addr = a6("2001:db8:100::");
	tc.routed[0].len = 44;
	tc.routed[1].addr = a6("2001:db8:c::8");
	tc.routed[1].len = 125; /* a partial last word */
	tc.routed[2].addr = a6("2001:db8:d::1");
	tc.routed[2].len = 128;
	tc.nrouted = 3;
	assert_int_equal(p41_init(&p, -1, -1, &tc, &ll, &c, 0), 0);
	n = p41_filter_build(&p, prog);
	assert_true(n > 0 && n <= P41_FILTER_MAX);
	for (size_t i = 0; i < n; i++)
		if (BPF_CLASS(prog[i].code) == BPF_JMP)
			assert_true(i + 1 + prog[i].jt < n && i + 1 + prog[i].jf < n);
	assert_int_equal(prog[n - 1].code, BPF_RET | BPF_K);
	for (size_t s = 0; s < 2; s++)
		for (uint8_t ihl = 5; ihl <= 6; ihl++)
			for (size_t d = 0; d < sizeof(addrs) / sizeof(addrs[0]); d++)
				for (size_t f = 0; f < sizeof(addrs) / sizeof(addrs[0]); f++) {
					size_t len = dgram(buf, srcs[s], ihl, addrs[f], addrs[d]),
					       inner;
					enum drop_reason why;
					const uint8_t *ip =
					    p41_decap(buf, len, pop(), &inner, &why);
					bool want = !ip || p41_ours(&p, ip);

					if ((filter_run(prog, n, buf, len) != 0) != want)
						fail_msg("from %s (ihl %u): %s -> %s: filter %s, "
						         "want %s",
						         srcs[s], ihl, addrs[f], addrs[d],
						         want ? "drops" : "passes",
						         want ? "pass" : "drop");
					checked += want && ip;
				}
	assert_true(checked > 0);
	/* What p41_decap drops passes: short, an IPv4 header longer than the datagram, not IPv6. */
	n = p41_filter_build(&p, prog);
	size_t len = dgram(buf, "192.0.2.1", 5, "2001:db8:eeee::1", "2001:db8:b::2");
	assert_int_equal(filter_run(prog, n, buf, len), 0); /* someone else's */
	assert_int_not_equal(filter_run(prog, n, buf, len - 1), 0);
	assert_int_not_equal(filter_run(prog, n, buf, 19), 0);
	buf[0] = 0x4f; /* 60 bytes of header in 60 */
	assert_int_not_equal(filter_run(prog, n, buf, 59), 0);
	buf[0] = 0x45;
	buf[20] = 0x40; /* IPv4 inside */
	assert_int_not_equal(filter_run(prog, n, buf, len), 0);
	p41_free(&p);
}

/* PROTOCOLS.md 7: the PoP drops link-local-sourced packets; we do not send them. */
static void link_local_sources_are_not_sent(void **state)
{
	uint8_t ip6[40] = {0x60};
	struct in6_addr a;

	(void)state;
	inet_pton(AF_INET6, "fe80::4ec8:8437:7d04:8268", &a); /* the real client's RS */
	memcpy(ip6 + 8, &a, 16);
	assert_true(datapath_link_local_source(ip6, sizeof(ip6)));
	assert_false(datapath_link_local_source(ip6, 39));
	inet_pton(AF_INET6, "febf::1", &a); /* still fe80::/10 */
	memcpy(ip6 + 8, &a, 16);
	assert_true(datapath_link_local_source(ip6, sizeof(ip6)));
	const char *not_ll[] = {"2001:db8:a::2", "fec0::1", "fe00::1", "::", "ff02::2"};
	for (size_t i = 0; i < sizeof(not_ll) / sizeof(not_ll[0]); i++) {
		inet_pton(AF_INET6, not_ll[i], &a);
		memcpy(ip6 + 8, &a, 16);
		if (datapath_link_local_source(ip6, sizeof(ip6)))
			fail_msg("%s taken for link-local", not_ll[i]);
	}
	/* only the source counts: a global source to a link-local destination goes */
	inet_pton(AF_INET6, "2001:db8:a::2", &a);
	memcpy(ip6 + 8, &a, 16);
	inet_pton(AF_INET6, "fe80::1", &a);
	memcpy(ip6 + 24, &a, 16);
	assert_false(datapath_link_local_source(ip6, sizeof(ip6)));
}

/*
 * The receive loop against a PoP that sends one datagram per call: a
 * datagram socket pair stands in for the raw socket and a SOCK_SEQPACKET
 * pair for the TUN.  One wake-up takes full batches (up to
 * DATAPATH_RX_ROUNDS calls); the counters say how they were moved.
 */
static void one_datagram_pop_is_read_in_batches(void **state)
{
	struct tunnel_conf tc = {0};
	struct tunnel_counters c = {0};
	struct in6_addr ll = a6("fe80::db8:a:0:2"), dst = a6("2001:db8:a::2");
	static struct p41 p;
	uint8_t buf[200];
	int raw[2], tun[2], n = 0;
	size_t len;

	(void)state;
	tc.params.ipv6_local = dst;
	tc.params.prefix_len = 64;
	tc.params.ipv4_pop = pop();
	tc.params.mtu = 1280;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, raw), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, tun), 0);
	fcntl(raw[0], F_SETFL, O_NONBLOCK);
	fcntl(tun[0], F_SETFL, O_NONBLOCK);
	fcntl(tun[1], F_SETFL, O_NONBLOCK);
	assert_int_equal(p41_init(&p, tun[0], raw[0], &tc, &ll, &c, 0), 0);
	len = build(buf, "192.0.2.1", 41, 5, 40);
	memcpy(buf + 20 + 24, &dst, 16);
	for (int i = 0; i < 100; i++)
		assert_int_equal(send(raw[1], buf, len, 0), (ssize_t)len);
	/* 100 queued: 32 + 32 + 32 + 4 in one wake-up. */
	assert_int_equal(p41_from_raw(&p), 100);
	assert_int_equal(c.rx_calls, 4);
	assert_int_equal(c.rx_datagrams, 100);
	assert_int_equal(c.tun_writes, 100);
	assert_int_equal(c.tun_packets, 100);
	assert_int_equal(c.rx_packets, 100);
	while (read(tun[1], buf, sizeof(buf)) == 80)
		n++;
	assert_int_equal(n, 100);
	for (int i = 0; i < 150; i++)
		assert_int_equal(send(raw[1], buf, len, 0), (ssize_t)len);
	assert_false(p.tun.more);
	assert_int_equal(p41_from_raw(&p), DATAPATH_RX_ROUNDS * P41_BATCH); /* bounded */
	assert_true(p.tun.more);
	p.tun.more = false;
	assert_int_equal(p41_from_raw(&p), 150 - DATAPATH_RX_ROUNDS * P41_BATCH);
	assert_false(p.tun.more);
	assert_int_equal(p41_from_raw(&p), 0);
	assert_int_equal(c.rx_calls, 4 + DATAPATH_RX_ROUNDS + 1);
	p41_free(&p);
	close(raw[0]);
	close(raw[1]);
	close(tun[0]);
	close(tun[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(link_local_sources_are_not_sent),
	    cmocka_unit_test(accepts_ipv6_from_the_pop),
	    cmocka_unit_test(skips_ipv4_options),
	    cmocka_unit_test(drops_foreign_source),
	    cmocka_unit_test(drops_non_ipv6_payload),
	    cmocka_unit_test(drops_short_and_bad_headers),
	    cmocka_unit_test(ours_by_destination),
	    cmocka_unit_test(filter_passes_what_is_ours),
	    cmocka_unit_test(one_datagram_pop_is_read_in_batches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
