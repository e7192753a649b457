/* The tunnel-parameter policy: ranges, PoP addresses, overlap with the host, labels. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "tpolicy.h"

#define assert_contains(s, sub)                                                                    \
	do {                                                                                       \
		if (!strstr((s), (sub)))                                                           \
			fail_msg("'%s' does not contain '%s'", (s), (sub));                        \
	} while (0)

static void good(struct tunnel_params *p)
{
	memset(p, 0, sizeof(*p));
	p->type = TUNNEL_AYIYA;
	inet_pton(AF_INET6, "2001:db8:1::2", &p->ipv6_local);
	inet_pton(AF_INET6, "2001:db8:1::1", &p->ipv6_pop);
	p->prefix_len = 64;
	inet_pton(AF_INET, "192.0.2.1", &p->ipv4_pop);
	p->mtu = 1280;
}

static struct tunnel_prefix pfx(const char *a, unsigned len)
{
	struct tunnel_prefix p = {.len = (uint8_t)len};

	assert_int_equal(inet_pton(AF_INET6, a, &p.addr), 1);
	return p;
}

static void test_params(void **state)
{
	struct tpolicy_limits lim;
	struct tunnel_params p;
	char err[256];

	(void)state;
	tpolicy_default_limits(&lim);
	good(&p);
	assert_int_equal(tpolicy_check_params(&p, &lim, TPOLICY_KEYS_TIC, err, sizeof(err)), 0);
	p.prefix_len = 1;
	assert_int_equal(tpolicy_check_params(&p, &lim, TPOLICY_KEYS_TIC, err, sizeof(err)),
	                 -EINVAL);
	assert_contains(err, "IPv6 PrefixLength: /1 is outside /64..128");
	assert_int_equal(tpolicy_check_params(&p, &lim, TPOLICY_KEYS_FILE, err, sizeof(err)),
	                 -EINVAL);
	assert_contains(err, "prefix_len: /1");
	/* a file's explicit key lowers the bound */
	lim.prefix_min = 48;
	p.prefix_len = 48;
	assert_int_equal(tpolicy_check_params(&p, &lim, TPOLICY_KEYS_FILE, err, sizeof(err)), 0);
	tpolicy_default_limits(&lim);
	good(&p);
	p.mtu = 65535;
	assert_int_equal(tpolicy_check_params(&p, &lim, TPOLICY_KEYS_TIC, err, sizeof(err)),
	                 -EINVAL);
	assert_contains(err, "Tunnel MTU: 65535 is outside 1280..1480");
	p.mtu = 0; /* not given */
	assert_int_equal(tpolicy_check_params(&p, &lim, TPOLICY_KEYS_TIC, err, sizeof(err)), 0);
	p.mtu = 1480;
	assert_int_equal(tpolicy_check_params(&p, &lim, TPOLICY_KEYS_TIC, err, sizeof(err)), 0);
	inet_pton(AF_INET, "127.0.0.1", &p.ipv4_pop);
	assert_int_equal(tpolicy_check_params(&p, &lim, TPOLICY_KEYS_FILE, err, sizeof(err)),
	                 -EINVAL);
	assert_contains(err, "ipv4_pop: 127.0.0.1 is a loopback address");
}

static void test_ipv4_pop(void **state)
{
	static const char *const bad[] = {"0.0.0.0",         "0.255.1.1",   "127.0.0.1",
	                                  "127.9.9.9",       "169.254.0.1", "224.0.0.1",
	                                  "239.255.255.255", "240.0.0.1",   "255.255.255.255"};
	static const char *const ok[] = {"192.0.2.1", "198.51.100.7", "203.0.113.254", "10.1.2.3",
	                                 "1.1.1.1"};
	struct in_addr a;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		inet_pton(AF_INET, bad[i], &a);
		if (!tpolicy_ipv4_pop_bad(a))
			fail_msg("%s accepted as a PoP", bad[i]);
	}
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		inet_pton(AF_INET, ok[i], &a);
		if (tpolicy_ipv4_pop_bad(a))
			fail_msg("%s refused: %s", ok[i], tpolicy_ipv4_pop_bad(a));
	}
}

static void test_overlap(void **state)
{
	struct tunnel_prefix a = pfx("2001:db8:1::", 64), b;

	(void)state;
	b = pfx("2001:db8:1::", 64); /* equal */
	assert_true(tpolicy_prefix_overlap(&a, &b));
	b = pfx("2001:db8:1:0:8000::", 65); /* inside */
	assert_true(tpolicy_prefix_overlap(&a, &b) && tpolicy_prefix_overlap(&b, &a));
	b = pfx("2001:db8::", 32); /* contains */
	assert_true(tpolicy_prefix_overlap(&a, &b) && tpolicy_prefix_overlap(&b, &a));
	b = pfx("2001:db8:2::", 64); /* beside */
	assert_false(tpolicy_prefix_overlap(&a, &b));
	b = pfx("2001:db8:1::1", 128);
	assert_true(tpolicy_prefix_overlap(&a, &b));
	b = pfx("::", 1);
	assert_true(tpolicy_prefix_overlap(&a, &b));
	b = pfx("8000::", 1);
	assert_false(tpolicy_prefix_overlap(&a, &b));
}

static void test_host(void **state)
{
	struct tunnel_prefix routes[] = {pfx("::", 0), pfx("2001:db8:ffff::", 64),
	                                 pfx("2001:db8:fffe::5", 128)};
	struct in_addr own[2];
	struct tpolicy_host host = {routes, 3, own, 2, NULL, 0};
	struct tunnel_prefix routed[2] = {pfx("2001:db8:100::", 48), pfx("2001:db8:fffe::", 120)};
	struct tunnel_params p;
	char err[256];

	(void)state;
	inet_pton(AF_INET, "198.51.100.2", &own[0]);
	inet_pton(AF_INET, "203.0.113.9", &own[1]);
	good(&p);
	/* the default route (::/0) does not count */
	assert_int_equal(
	    tpolicy_check_host(&p, routed, 1, &host, TPOLICY_KEYS_TIC, err, sizeof(err)), 0);
	/* the host's own ISP address as IPv6 Endpoint */
	inet_pton(AF_INET6, "2001:db8:ffff::2", &p.ipv6_local);
	inet_pton(AF_INET6, "2001:db8:ffff::1", &p.ipv6_pop);
	assert_int_equal(tpolicy_check_host(&p, NULL, 0, &host, TPOLICY_KEYS_TIC, err, sizeof(err)),
	                 -EADDRINUSE);
	assert_contains(err, "IPv6 Endpoint: 2001:db8:ffff::2/64 overlaps 2001:db8:ffff::/64");
	/* a routed prefix around a host address */
	good(&p);
	assert_int_equal(
	    tpolicy_check_host(&p, routed, 2, &host, TPOLICY_KEYS_FILE, err, sizeof(err)),
	    -EADDRINUSE);
	assert_contains(err, "routed: 2001:db8:fffe::/120 overlaps 2001:db8:fffe::5/128");
	/* a /1 tunnel prefix covers the host's routes */
	p.prefix_len = 1;
	assert_int_equal(tpolicy_check_host(&p, NULL, 0, &host, TPOLICY_KEYS_TIC, err, sizeof(err)),
	                 -EADDRINUSE);
	/* the host's own IPv4 as the PoP */
	good(&p);
	p.ipv4_pop = own[1];
	assert_int_equal(tpolicy_check_host(&p, NULL, 0, &host, TPOLICY_KEYS_TIC, err, sizeof(err)),
	                 -EADDRINUSE);
	assert_contains(err, "IPv4 POP: 203.0.113.9 is one of this host's own addresses");
}

/* Issue 20: a PoP at the broadcast address of the host's LAN would broadcast the tunnel. */
static void test_host_broadcast(void **state)
{
	struct tpolicy_net4 nets[3];
	struct in_addr own[3];
	struct tpolicy_host host = {NULL, 0, own, 3, nets, 3};
	struct tunnel_params p;
	char err[256];
	static const char *const fine[] = {"198.51.100.254", "198.51.100.0", "203.0.113.1",
	                                   "203.0.113.3",    "192.0.2.6",    "192.0.2.8"};

	(void)state;
	inet_pton(AF_INET, "198.51.100.2", &own[0]);
	inet_pton(AF_INET, "203.0.113.2", &own[1]);
	inet_pton(AF_INET, "192.0.2.5", &own[2]);
	for (int i = 0; i < 3; i++)
		nets[i].addr = own[i];
	nets[0].len = 24;
	nets[1].len = 31; /* a point-to-point /31 has no broadcast address */
	nets[2].len = 30;
	good(&p);
	inet_pton(AF_INET, "198.51.100.255", &p.ipv4_pop);
	assert_int_equal(tpolicy_check_host(&p, NULL, 0, &host, TPOLICY_KEYS_TIC, err, sizeof(err)),
	                 -EADDRINUSE);
	assert_contains(err, "IPv4 POP: 198.51.100.255 is the broadcast address of this host's "
	                     "network 198.51.100.0/24");
	inet_pton(AF_INET, "192.0.2.7", &p.ipv4_pop);
	nets[2].len = 29;
	assert_int_equal(
	    tpolicy_check_host(&p, NULL, 0, &host, TPOLICY_KEYS_FILE, err, sizeof(err)),
	    -EADDRINUSE);
	assert_contains(err, "ipv4_pop: 192.0.2.7 is the broadcast address of this host's network "
	                     "192.0.2.0/29");
	nets[2].len = 30;
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		inet_pton(AF_INET, fine[i], &p.ipv4_pop);
		if (tpolicy_check_host(&p, NULL, 0, &host, TPOLICY_KEYS_TIC, err, sizeof(err)))
			fail_msg("%s refused: %s", fine[i], err);
	}
}

static void test_scrub(void **state)
{
	char s[] = "a\x1b[31mb\x7f\n";

	(void)state;
	assert_int_equal(tpolicy_scrub(s), 3);
	assert_string_equal(s, "a?[31mb??");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params),         cmocka_unit_test(test_ipv4_pop),
	    cmocka_unit_test(test_overlap),        cmocka_unit_test(test_host),
	    cmocka_unit_test(test_host_broadcast), cmocka_unit_test(test_scrub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
