/* IPC framing between parent and worker, and the worker's pure helpers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ipc.h"
#include "routing.h"
#include "worker.h"

static int pair[2];

static int setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair);
}

static int teardown(void **state)
{
	(void)state;
	close(pair[0]);
	close(pair[1]);
	return 0;
}

static void test_round_trip(void **state)
{
	unsigned char buf[IPC_MSG_MAX];
	struct ipc_up up = {.ifindex = 7, .ifname = "sixxs0"};
	const struct ipc_up *got;
	const void *p;

	(void)state;
	assert_int_equal(ipc_send(pair[0], IPC_W_UP, &up, sizeof(up)), 0);
	assert_int_equal(ipc_recv(pair[1], buf, sizeof(buf), &p), IPC_W_UP);
	got = p;
	assert_int_equal(got->ifindex, 7);
	assert_string_equal(got->ifname, "sixxs0");
	assert_int_equal(ipc_recv(pair[1], buf, sizeof(buf), &p), -EAGAIN);
}

static void test_payload_length_is_checked(void **state)
{
	unsigned char buf[IPC_MSG_MAX];
	struct ipc_hdr h = {.type = IPC_W_UP, .len = 4};
	unsigned char raw[sizeof(h) + 4] = {0};
	const void *p;

	(void)state;
	/* sender refuses a wrong length */
	assert_int_equal(ipc_send(pair[0], IPC_W_UP, raw, 4), -EINVAL);
	assert_int_equal(ipc_send(pair[0], 99, raw, 0), -EINVAL);
	/* receiver refuses a header whose length does not match its type */
	memcpy(raw, &h, sizeof(h));
	assert_int_equal(send(pair[0], raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
	assert_int_equal(ipc_recv(pair[1], buf, sizeof(buf), &p), -EBADMSG);
	/* ... and a datagram longer than its header says */
	h.type = IPC_P_COUNTERS_REQ;
	h.len = 0;
	memcpy(raw, &h, sizeof(h));
	assert_int_equal(send(pair[0], raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
	assert_int_equal(ipc_recv(pair[1], buf, sizeof(buf), &p), -EBADMSG);
	/* ... and a truncated header */
	assert_int_equal(send(pair[0], raw, 2, 0), 2);
	assert_int_equal(ipc_recv(pair[1], buf, sizeof(buf), &p), -EBADMSG);
}

/* A child's first message: waited for, of the wanted type, copied out. */
static void test_recv_wait(void **state)
{
	struct ipc_up up = {.ifindex = 9, .ifname = "sixxs1"}, got = {0};
	struct ipc_failed f = {.reason = "no"};

	(void)state;
	assert_int_equal(ipc_recv_wait(pair[1], IPC_W_UP, &got, sizeof(got), 50), -ETIMEDOUT);
	assert_int_equal(ipc_send(pair[0], IPC_W_FAILED, &f, sizeof(f)), 0);
	assert_int_equal(ipc_recv_wait(pair[1], IPC_W_UP, &got, sizeof(got), 50), IPC_W_FAILED);
	assert_int_equal(got.ifindex, 0); /* another type: nothing copied */
	assert_int_equal(ipc_send(pair[0], IPC_W_UP, &up, sizeof(up)), 0);
	assert_int_equal(ipc_recv_wait(pair[1], IPC_W_UP, &got, sizeof(got), 50), IPC_W_UP);
	assert_int_equal(got.ifindex, 9);
	assert_string_equal(got.ifname, "sixxs1");
	assert_int_equal(ipc_send(pair[0], IPC_W_UP, &up, sizeof(up)), 0);
	assert_int_equal(ipc_recv_wait(pair[1], IPC_W_UP, &got, 4, 50), -EINVAL); /* wrong size */
}

static void test_eof(void **state)
{
	unsigned char buf[IPC_MSG_MAX];
	const void *p;

	(void)state;
	close(pair[0]);
	pair[0] = -1;
	assert_int_equal(ipc_recv(pair[1], buf, sizeof(buf), &p), 0);
}

static void test_link_local(void **state)
{
	struct in6_addr a, ll;
	char text[INET6_ADDRSTRLEN];

	(void)state;
	/* bytes 2..7 (low two bits of byte 2 cleared), then bytes 14..15 */
	inet_pton(AF_INET6, "2001:0db8:1233:4455:6677:8899:aabb:ccdd", &a);
	worker_link_local(&a, &ll);
	inet_ntop(AF_INET6, &ll, text, sizeof(text));
	assert_string_equal(text, "fe80::cb8:1233:4455:ccdd");
}

static void test_routing_objects(void **state)
{
	struct tunnel_conf tc = {.name = "sixxs0", .table = 200, .rule_priority = 20000};
	struct netcfg_route r;
	struct netcfg_rule rule;

	(void)state;
	inet_pton(AF_INET6, "2001:db8:a::2", &tc.params.ipv6_local);
	tc.params.mtu = 1280;
	routing_route(&tc, 5, &r);
	assert_int_equal(r.table, 200);
	assert_int_equal(r.ifindex, 5);
	assert_int_equal(r.dst_len, 0);
	assert_int_equal(r.mtu, 1280);
	assert_int_equal(r.protocol, NETCFG_PROTO);
	tc.mtu_override = 1400;
	routing_route(&tc, 5, &r);
	assert_int_equal(r.mtu, 1400);
	routing_rule(&tc, &rule);
	assert_memory_equal(&rule.src, &tc.params.ipv6_local, 16);
	assert_int_equal(rule.src_len, 128);
	assert_int_equal(rule.table, 200);
	assert_int_equal(rule.priority, 20000);
	assert_int_equal(rule.protocol, NETCFG_PROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_payload_length_is_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recv_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
	    cmocka_unit_test(test_link_local),
	    cmocka_unit_test(test_routing_objects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
