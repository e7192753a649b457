/* What an unprivileged worker may ask the parent for (privreq.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "privreq.h"

static void conf(struct tunnel_conf *tc, enum tunnel_type type)
{
	memset(tc, 0, sizeof(*tc));
	snprintf(tc->name, sizeof(tc->name), "sixxs0");
	tc->params.type = type;
	inet_pton(AF_INET6, "2001:db8:a::2", &tc->params.ipv6_local);
	tc->params.prefix_len = 64;
	inet_pton(AF_INET, "192.0.2.1", &tc->params.ipv4_pop);
}

static struct ipc_priv_req req(uint32_t op, uint32_t what, int ifindex, const char *a6,
                               uint8_t plen, const char *a4)
{
	struct ipc_priv_req r = {.op = op, .what = what, .ifindex = ifindex, .prefix_len = plen};

	if (a6)
		inet_pton(AF_INET6, a6, &r.addr);
	if (a4)
		inet_pton(AF_INET, a4, &r.local4);
	return r;
}

static void test_own_link_only(void **state)
{
	struct tunnel_conf tc;
	struct ipc_priv_req r = req(IPC_PRIV_REPAIR, IPC_REPAIR_LINK_UP, 7, NULL, 0, NULL);
	const char *why = NULL;

	(void)state;
	conf(&tc, TUNNEL_AYIYA);
	assert_int_equal(privreq_check(&tc, 7, &r, &why), 0);
	r.ifindex = 8;
	assert_int_equal(privreq_check(&tc, 7, &r, &why), -EPERM);
	assert_string_equal(why, "not the tunnel's own link");
	/* No link known yet (the worker has not reported it up): nothing. */
	r.ifindex = 0;
	assert_int_equal(privreq_check(&tc, 0, &r, &why), -EPERM);
}

static void test_own_address_only(void **state)
{
	static const uint32_t with_addr[] = {IPC_REPAIR_ADDR, IPC_REPAIR_READD, IPC_REPAIR_ALL};
	struct tunnel_conf tc;
	struct ipc_priv_req r;
	const char *why = NULL;

	(void)state;
	conf(&tc, TUNNEL_AYIYA);
	for (size_t i = 0; i < sizeof(with_addr) / sizeof(with_addr[0]); i++) {
		uint32_t w = with_addr[i];

		r = req(IPC_PRIV_REPAIR, w, 3, "2001:db8:a::2", 64, NULL);
		assert_int_equal(privreq_check(&tc, 3, &r, &why), 0);
		/* Another address, the right one with a wider or narrower prefix, another net. */
		r = req(IPC_PRIV_REPAIR, w, 3, "2001:db8:a::3", 64, NULL);
		assert_int_equal(privreq_check(&tc, 3, &r, &why), -EPERM);
		assert_string_equal(why, "not the tunnel's own address and prefix length");
		r = req(IPC_PRIV_REPAIR, w, 3, "2001:db8:a::2", 1, NULL);
		assert_int_equal(privreq_check(&tc, 3, &r, &why), -EPERM);
		r = req(IPC_PRIV_REPAIR, w, 3, "2001:db8:a::2", 128, NULL);
		assert_int_equal(privreq_check(&tc, 3, &r, &why), -EPERM);
		r = req(IPC_PRIV_REPAIR, w, 3, "2001:db8:b::2", 64, NULL);
		assert_int_equal(privreq_check(&tc, 3, &r, &why), -EPERM);
	}
	/* Setting the link up names no address. */
	r = req(IPC_PRIV_REPAIR, IPC_REPAIR_LINK_UP, 3, "::", 0, NULL);
	assert_int_equal(privreq_check(&tc, 3, &r, &why), 0);
	/* No repair, or one nobody knows. */
	r = req(IPC_PRIV_REPAIR, 0, 3, "2001:db8:a::2", 64, NULL);
	assert_int_equal(privreq_check(&tc, 3, &r, &why), -EINVAL);
	r = req(IPC_PRIV_REPAIR, 0x80, 3, "2001:db8:a::2", 64, NULL);
	assert_int_equal(privreq_check(&tc, 3, &r, &why), -EINVAL);
	assert_string_equal(why, "unknown repair");
}

static void test_sit_local(void **state)
{
	struct tunnel_conf tc;
	struct ipc_priv_req r = req(IPC_PRIV_SIT_LOCAL, 0, 4, NULL, 0, "192.0.2.2");
	const char *why = NULL;
	static const char *bad[] = {"0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255",
	                            "240.0.0.1"};

	(void)state;
	conf(&tc, TUNNEL_6IN4_HEARTBEAT);
	assert_int_equal(privreq_check(&tc, 4, &r, &why), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = req(IPC_PRIV_SIT_LOCAL, 0, 4, NULL, 0, bad[i]);
		assert_int_equal(privreq_check(&tc, 4, &r, &why), -EPERM);
		assert_string_equal(why, "not a unicast IPv4 address");
	}
	/* An AYIYA tunnel has no sit link to move. */
	conf(&tc, TUNNEL_AYIYA);
	r = req(IPC_PRIV_SIT_LOCAL, 0, 4, NULL, 0, "192.0.2.2");
	assert_int_equal(privreq_check(&tc, 4, &r, &why), -EPERM);
}

static void test_unknown_op(void **state)
{
	struct tunnel_conf tc;
	struct ipc_priv_req r = req(99, 0, 4, NULL, 0, NULL);
	const char *why = NULL;

	(void)state;
	conf(&tc, TUNNEL_AYIYA);
	assert_int_equal(privreq_check(&tc, 4, &r, &why), -EINVAL);
	assert_string_equal(ipc_priv_op_name(99), "unknown request");
	assert_string_equal(ipc_priv_op_name(IPC_PRIV_REPAIR), "repair the link");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_link_only),
	    cmocka_unit_test(test_own_address_only),
	    cmocka_unit_test(test_sit_local),
	    cmocka_unit_test(test_unknown_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
