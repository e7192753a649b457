/* Tunnel enum names and the MTU rule (tunnel.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "ayiya.h"
#include "tunnel.h"

static void test_type_names(void **state)
{
	static const struct {
		enum tunnel_type t;
		const char *name;
	} known[] = {
	    {TUNNEL_AYIYA, "ayiya"},
	    {TUNNEL_6IN4_HEARTBEAT, "6in4-heartbeat"},
	    {TUNNEL_6IN4_STATIC, "6in4-static"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		enum tunnel_type t = 0;

		assert_string_equal(tunnel_type_name(known[i].t), known[i].name);
		assert_int_equal(tunnel_type_parse(known[i].name, &t), 0);
		assert_int_equal(t, known[i].t);
	}
	assert_string_equal(tunnel_type_name((enum tunnel_type)0), "unknown");
	assert_string_equal(tunnel_type_name((enum tunnel_type)99), "unknown");
}

static void test_type_parse_rejects(void **state)
{
	static const char *bad[] = {"l2tp", "", "AYIYA", "ayiya ", "6in4", "unknown"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum tunnel_type t = TUNNEL_6IN4_STATIC;

		assert_int_equal(tunnel_type_parse(bad[i], &t), -EINVAL);
		assert_int_equal(t, TUNNEL_6IN4_STATIC); /* untouched */
	}
	assert_int_equal(tunnel_type_parse(NULL, &(enum tunnel_type){0}), -EINVAL);
}

static void test_datapath_names(void **state)
{
	static const struct {
		enum tunnel_datapath d;
		const char *name;
	} known[] = {
	    {DATAPATH_AUTO, "auto"},
	    {DATAPATH_KERNEL, "kernel"},
	    {DATAPATH_USERSPACE, "userspace"},
	};
	static const char *bad[] = {"", "Kernel", "user", "unknown"};

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		enum tunnel_datapath d = 99;

		assert_string_equal(tunnel_datapath_name(known[i].d), known[i].name);
		assert_int_equal(tunnel_datapath_parse(known[i].name, &d), 0);
		assert_int_equal(d, known[i].d);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum tunnel_datapath d = DATAPATH_KERNEL;

		assert_int_equal(tunnel_datapath_parse(bad[i], &d), -EINVAL);
		assert_int_equal(d, DATAPATH_KERNEL);
	}
	assert_int_equal(tunnel_datapath_parse(NULL, &(enum tunnel_datapath){0}), -EINVAL);
	assert_string_equal(tunnel_datapath_name((enum tunnel_datapath)7), "unknown");
}

static void test_mtu(void **state)
{
	struct tunnel_conf tc;

	(void)state;
	memset(&tc, 0, sizeof(tc));
	assert_int_equal(tunnel_mtu(&tc), 1280);
	tc.params.mtu = 1480;
	assert_int_equal(tunnel_mtu(&tc), 1480);
	tc.mtu_override = 1400;
	assert_int_equal(tunnel_mtu(&tc), 1400);
	tc.params.mtu = 0;
	assert_int_equal(tunnel_mtu(&tc), 1400);
	/* Issue 22: AYIYA is clamped to what a 1500-byte IPv4 path carries (1500 - 72). */
	assert_int_equal(AYIYA_MTU_MAX(AYIYA_PATH_MTU), 1428);
	tc.params.type = TUNNEL_AYIYA;
	tc.mtu_override = 0;
	tc.params.mtu = 1480;
	assert_int_equal(tunnel_mtu_wanted(&tc), 1480);
	assert_int_equal(tunnel_mtu_max(&tc), 1428);
	assert_int_equal(tunnel_mtu(&tc), 1428);
	tc.params.mtu = 1428;
	assert_int_equal(tunnel_mtu(&tc), 1428);
	tc.params.mtu = 1280;
	assert_int_equal(tunnel_mtu(&tc), 1280);
	tc.mtu_override = 9000;
	assert_int_equal(tunnel_mtu(&tc), 1428);
	/* 6in4 is not AYIYA: no clamp here (its 20-byte header fits 1480 on 1500). */
	tc.params.type = TUNNEL_6IN4_HEARTBEAT;
	assert_int_equal(tunnel_mtu_max(&tc), UINT32_MAX);
	assert_int_equal(tunnel_mtu(&tc), 9000);
}

/* Issue 22 (10): the AYIYA clamp follows the path MTU toward the PoP the worker found. */
static void test_mtu_path(void **state)
{
	struct tunnel_conf tc;

	(void)state;
	memset(&tc, 0, sizeof(tc));
	tc.params.type = TUNNEL_AYIYA;
	tc.params.mtu = 1428;
	/* unknown: 1500 assumed */
	assert_int_equal(tunnel_path_mtu(&tc), 1500);
	assert_int_equal(tunnel_mtu_max(&tc), 1428);
	assert_false(tunnel_path_too_small(&tc));
	/* a 1400-byte underlay (PPPoE-like, a VPN): 1400 - 72 */
	tc.path_mtu = 1400;
	assert_int_equal(tunnel_path_mtu(&tc), 1400);
	assert_int_equal(tunnel_mtu_max(&tc), 1328);
	assert_int_equal(tunnel_mtu(&tc), 1328);
	/* an override above it is clamped too, one below it kept */
	tc.mtu_override = 1480;
	assert_int_equal(tunnel_mtu(&tc), 1328);
	tc.mtu_override = 1300;
	assert_int_equal(tunnel_mtu(&tc), 1300);
	tc.mtu_override = 0;
	/* a jumbo path does not raise what was asked for */
	tc.path_mtu = 9000;
	assert_int_equal(tunnel_mtu_max(&tc), 9000 - 72);
	assert_int_equal(tunnel_mtu(&tc), 1428);
	/* the edge: 1352 carries 1280 exactly */
	tc.path_mtu = 1352;
	assert_int_equal(tunnel_mtu_max(&tc), 1280);
	assert_false(tunnel_path_too_small(&tc));
	/* smaller: never below IPv6's minimum, and said to be too small */
	tc.path_mtu = 1351;
	assert_int_equal(tunnel_mtu_max(&tc), 1280);
	assert_int_equal(tunnel_mtu(&tc), 1280);
	assert_true(tunnel_path_too_small(&tc));
	tc.path_mtu = 576;
	assert_int_equal(tunnel_mtu(&tc), 1280);
	assert_true(tunnel_path_too_small(&tc));
	/* what a worker may report */
	assert_true(tunnel_path_mtu_ok(0));
	assert_true(tunnel_path_mtu_ok(68));
	assert_true(tunnel_path_mtu_ok(65535));
	assert_false(tunnel_path_mtu_ok(67));
	assert_false(tunnel_path_mtu_ok(65536));
	assert_false(tunnel_path_mtu_ok(UINT32_MAX));
	/* 6in4: the path MTU is not AYIYA's business here */
	tc.params.type = TUNNEL_6IN4_HEARTBEAT;
	assert_int_equal(tunnel_mtu_max(&tc), UINT32_MAX);
	assert_false(tunnel_path_too_small(&tc));
	assert_int_equal(tunnel_mtu(&tc), 1428);
}

static void test_params_same(void **state)
{
	struct tunnel_params a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.type = TUNNEL_AYIYA;
	a.prefix_len = 64;
	a.mtu = 1280;
	strcpy(a.password, "secret");
	b = a;
	assert_true(tunnel_params_same(&a, &b));
	/* Bytes after the password's NUL do not count. */
	b.password[sizeof(b.password) - 1] = 'x';
	assert_true(tunnel_params_same(&a, &b));
	b = a;
	b.mtu = 1480; /* the broker changed the MTU */
	assert_false(tunnel_params_same(&a, &b));
	b = a;
	b.ipv6_local.s6_addr[15] = 2;
	assert_false(tunnel_params_same(&a, &b));
	b = a;
	strcpy(b.password, "rotated");
	assert_false(tunnel_params_same(&a, &b));
	b = a;
	b.heartbeat_interval = 30;
	assert_false(tunnel_params_same(&a, &b));
}

static void set_prefix(struct tunnel_prefix *p, const char *a, unsigned len)
{
	assert_int_equal(inet_pton(AF_INET6, a, &p->addr), 1);
	p->len = (uint8_t)len;
}

/* Issue 20, finding 3: what one tunnel claims against another's claims. */
static void test_claims_overlap(void **state)
{
	struct tunnel_params a, b;
	struct tunnel_prefix ra[2], rb[1];
	char what[128];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:a::2", &a.ipv6_local), 1);
	a.prefix_len = 64;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:b::2", &b.ipv6_local), 1);
	b.prefix_len = 64;
	assert_false(tunnel_claims_overlap(&a, NULL, 0, &b, NULL, 0, what, sizeof(what)));
	/* the same /64, another address */
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:a::9", &b.ipv6_local), 1);
	assert_true(tunnel_claims_overlap(&a, NULL, 0, &b, NULL, 0, what, sizeof(what)));
	assert_string_equal(what, "2001:db8:a::2/64 and 2001:db8:a::9/64");
	/* a /128 inside the other's /64, either way round */
	b.prefix_len = 128;
	assert_true(tunnel_claims_overlap(&b, NULL, 0, &a, NULL, 0, what, sizeof(what)));
	/* routed prefixes: a's /48 holds b's tunnel prefix */
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:c::2", &b.ipv6_local), 1);
	b.prefix_len = 64;
	set_prefix(&ra[0], "2001:db8:1::", 48);
	set_prefix(&ra[1], "2001:db8:c::", 48);
	assert_true(tunnel_claims_overlap(&a, ra, 2, &b, NULL, 0, what, sizeof(what)));
	assert_string_equal(what, "2001:db8:c::/48 and 2001:db8:c::2/64");
	assert_false(tunnel_claims_overlap(&a, ra, 1, &b, NULL, 0, what, sizeof(what)));
	/* routed against routed, no params (TIC tunnels not fetched yet) */
	set_prefix(&rb[0], "2001:db8:1:5::", 64);
	assert_true(tunnel_claims_overlap(NULL, ra, 1, NULL, rb, 1, what, sizeof(what)));
	assert_false(tunnel_claims_overlap(NULL, ra + 1, 1, NULL, rb, 1, what, sizeof(what)));
	/* a prefix length over 128 claims nothing */
	b.prefix_len = 200;
	assert_false(tunnel_claims_overlap(&a, NULL, 0, &b, NULL, 0, what, sizeof(what)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_type_names),     cmocka_unit_test(test_type_parse_rejects),
	    cmocka_unit_test(test_datapath_names), cmocka_unit_test(test_mtu),
	    cmocka_unit_test(test_mtu_path),       cmocka_unit_test(test_params_same),
	    cmocka_unit_test(test_claims_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
