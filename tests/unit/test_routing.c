/*
 * Routing policy objects: the subnet-router anycast check (PROTOCOLS.md
 * 6), the table route's MTU, and which aiccud objects count as this
 * tunnel's own or as stale leftovers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "routing.h"

static struct in6_addr A(const char *s) {
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static bool
anycast(const char *s, unsigned len)
{
	struct in6_addr a = A(s);

	return routing_is_subnet_anycast(&a, len);
}

static void test_anycast_64(void **state)
{
	(void)state;
	assert_true(anycast("2001:db8:a::", 64));
	assert_false(anycast("2001:db8:a::2", 64));
	assert_false(anycast("2001:db8:a::1", 64));
	assert_false(anycast("2001:db8:a:0:8000::", 64)); /* the top interface-ID bit */
}

static void test_anycast_112(void **state)
{
	(void)state;
	assert_true(anycast("2001:db8:a::5:0", 112));
	assert_false(anycast("2001:db8:a::5:1", 112));
	assert_false(anycast("2001:db8:a::5:8000", 112));
	/* The same address in a /64 is a plain host address. */
	assert_false(anycast("2001:db8:a::5:0", 64));
}

static void test_anycast_127_128(void **state)
{
	(void)state;
	/* RFC 6164: point-to-point /127 links use both addresses. */
	assert_false(anycast("2001:db8:a::4", 127));
	assert_false(anycast("2001:db8:a::5", 127));
	/* A /128 has no interface identifier at all. */
	assert_false(anycast("2001:db8:a::", 128));
	assert_false(anycast("2001:db8:a::2", 128));
}

static void test_anycast_other_lengths(void **state)
{
	(void)state;
	assert_true(anycast("2001:db8:a::4", 126));
	assert_false(anycast("2001:db8:a::5", 126));
	/* Not on a byte boundary: bit 60 is inside a /61, bit 61 is not. */
	assert_true(anycast("2001:db8:a:8::", 61));
	assert_false(anycast("2001:db8:a:4::", 61));
	assert_true(anycast("::", 0));
	assert_false(anycast("::1", 0));
}

static struct tunnel_conf conf(void)
{
	struct tunnel_conf tc;

	memset(&tc, 0, sizeof(tc));
	strcpy(tc.name, "sixxs0");
	tc.table = 200;
	tc.rule_priority = 1000;
	tc.params.ipv6_local = A("2001:db8:a::2");
	tc.params.prefix_len = 64;
	tc.params.mtu = 1280;
	return tc;
}

static void test_route_carries_the_tunnel_mtu(void **state)
{
	struct tunnel_conf tc = conf();
	struct netcfg_route r;

	(void)state;
	routing_route(&tc, 7, &r);
	assert_int_equal(r.mtu, 1280);
	assert_int_equal(r.table, 200);
	assert_int_equal(r.ifindex, 7);
	assert_int_equal(r.dst_len, 0);
	assert_int_equal(r.protocol, NETCFG_PROTO);
	tc.mtu_override = 1400;
	routing_route(&tc, 7, &r);
	assert_int_equal(r.mtu, 1400);
	assert_true(routing_route_is_ours(&tc, 7, &r));
	r.mtu = 1280; /* someone changed it: no longer what we install */
	assert_false(routing_route_is_ours(&tc, 7, &r));
	assert_false(routing_route_is_stale(&tc, 7, &r)); /* REPLACE rewrites it */
}

static void test_ours_and_stale(void **state)
{
	struct tunnel_conf tc = conf();
	struct netcfg_rule rule, other;
	struct netcfg_route route;

	(void)state;
	routing_rule(&tc, &rule);
	assert_true(routing_rule_is_ours(&tc, &rule));
	assert_false(routing_rule_is_stale(&tc, &rule));
	/* An earlier address of the tunnel, same table: stale. */
	other = rule;
	other.src = A("2001:db8:a::99");
	assert_false(routing_rule_is_ours(&tc, &other));
	assert_true(routing_rule_is_stale(&tc, &other));
	/* Another priority, same table: stale.  Another tunnel's: not ours to touch. */
	other = rule;
	other.priority = 1005;
	assert_true(routing_rule_is_stale(&tc, &other));
	other.table = 201;
	assert_false(routing_rule_is_stale(&tc, &other));
	/* Another tunnel's rule at the same priority: rules may share one. */
	other = rule;
	other.src = A("2001:db8:b::2");
	other.table = 201;
	assert_false(routing_rule_is_stale(&tc, &other));
	/* Not aiccud's (no protocol mark): never stale. */
	other = rule;
	other.src = A("2001:db8:a::99");
	other.protocol = 0;
	assert_false(routing_rule_is_stale(&tc, &other));

	routing_route(&tc, 7, &route);
	assert_false(routing_route_is_stale(&tc, 7, &route));
	route.ifindex = 9; /* the link of a killed worker */
	assert_true(routing_route_is_stale(&tc, 7, &route));
	route.ifindex = 7;
	route.dst_len = 48;
	assert_true(routing_route_is_stale(&tc, 7, &route));
	route.table = 201;
	assert_false(routing_route_is_stale(&tc, 7, &route));
}

static void test_main_route(void **state)
{
	struct tunnel_conf tc = conf();
	struct netcfg_route r, other;

	(void)state;
	tc.default_route = true;
	routing_main_route(&tc, 7, &r);
	assert_int_equal(r.table, ROUTING_MAIN_TABLE);
	assert_int_equal(r.dst_len, 0);
	assert_int_equal(r.ifindex, 7);
	assert_int_equal(r.mtu, 1280);
	assert_int_equal(r.protocol, NETCFG_PROTO);
	/* The kernel's default metric, given explicitly: removal matches only it. */
	assert_int_equal(r.priority, ROUTING_MAIN_METRIC);
	assert_true(routing_main_route_is_ours(&tc, 7, &r));
	tc.default_route_metric = 1500;
	tc.mtu_override = 1400;
	routing_main_route(&tc, 7, &r);
	assert_int_equal(r.priority, 1500);
	assert_int_equal(r.mtu, 1400);
	assert_true(routing_main_route_is_ours(&tc, 7, &r));
	other = r;
	other.priority = 1024; /* another tunnel's, or an old metric */
	assert_false(routing_main_route_is_ours(&tc, 7, &other));
	other = r;
	other.protocol = 9; /* the ISP's (ra) */
	assert_false(routing_main_route_is_ours(&tc, 7, &other));
	assert_false(routing_main_route_is_ours(&tc, 8, &r));
	/* The table route stays in the tunnel's table, without a metric. */
	routing_route(&tc, 7, &other);
	assert_int_equal(other.table, 200);
	assert_int_equal(other.priority, 0);
	tc.default_route = false;
	assert_false(routing_main_route_is_ours(&tc, 7, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_anycast_64),
	    cmocka_unit_test(test_anycast_112),
	    cmocka_unit_test(test_anycast_127_128),
	    cmocka_unit_test(test_anycast_other_lengths),
	    cmocka_unit_test(test_route_carries_the_tunnel_mtu),
	    cmocka_unit_test(test_ours_and_stale),
	    cmocka_unit_test(test_main_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
