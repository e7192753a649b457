/* Tunnel enum names and the MTU rule (tunnel.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_type_names),     cmocka_unit_test(test_type_parse_rejects),
	    cmocka_unit_test(test_datapath_names), cmocka_unit_test(test_mtu),
	    cmocka_unit_test(test_params_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
