/*
 * The AYIYA data path end to end without root: a SOCK_SEQPACKET pair
 * stands in for the TUN (one message per read or write, like a TUN fd)
 * and a UDP socket on 127.0.0.1 for the PoP, which checks every datagram
 * with its own codec instance and every inner checksum with this file's
 * own sum.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ayiya.h"
#include "datapath.h"
#include "netcfg.h"
#include "offload.h"

#define PASSWORD "unit-test-secret"
#define NOW      1700000000u

struct rig {
	int tun_peer; /* what the kernel's side of the TUN would be */
	int pop;      /* the PoP's UDP socket */
	struct datapath dp;
	struct tunnel_counters c;
	struct ayiya *pop_codec;
	struct in6_addr client, popid;
};

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static int tcp_ok(const uint8_t *p, size_t len)
{
	uint32_t l4 = (uint32_t)(len - 40);

	return sum16(sum16(0, p + 8, 32) + l4 + 6, p + 40, l4) == 0xffff;
}

/* An IPv6 TCP segment (no options) from the client, plen payload bytes, full checksum. */
static size_t segment(uint8_t *p, uint32_t seq, uint8_t flags, size_t plen, int to_client)
{
	size_t len = 60 + plen;
	uint16_t c;

	memset(p, 0, 60);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = 6;
	p[7] = 64;
	inet_pton(AF_INET6, to_client ? "2001:db8:a::1" : "2001:db8:a::2", p + 8);
	inet_pton(AF_INET6, to_client ? "2001:db8:a::2" : "2001:db8:a::1", p + 24);
	p[40] = 0x9c;
	p[43] = 80;
	p[44] = (uint8_t)(seq >> 24);
	p[45] = (uint8_t)(seq >> 16);
	p[46] = (uint8_t)(seq >> 8);
	p[47] = (uint8_t)seq;
	p[52] = 5 << 4;
	p[53] = flags;
	p[54] = 1;
	for (size_t i = 0; i < plen; i++)
		p[60 + i] = (uint8_t)(seq + i);
	c = (uint16_t)~sum16(sum16(0, p + 8, 32) + (uint32_t)(len - 40) + 6, p + 40, len - 40);
	p[56] = (uint8_t)(c >> 8);
	p[57] = (uint8_t)c;
	return len;
}

static int rig_up(struct rig *r, unsigned tun_offloads, int udp_offload)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	struct tunnel_params p = {.type = TUNNEL_AYIYA, .password = PASSWORD};
	int sp[2], udp;

	memset(r, 0, sizeof(*r));
	inet_pton(AF_INET6, "2001:db8:a::2", &r->client);
	inet_pton(AF_INET6, "2001:db8:a::1", &r->popid);
	p.ipv6_local = r->client;
	p.ipv6_pop = r->popid;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	r->tun_peer = sp[1];
	r->pop = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(r->pop, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(r->pop, (struct sockaddr *)&a, &alen), 0);
	udp = datapath_udp_open(&a.sin_addr, ntohs(a.sin_port));
	assert_true(udp >= 0);
	alen = sizeof(a);
	assert_int_equal(getsockname(udp, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(connect(r->pop, (struct sockaddr *)&a, sizeof(a)), 0);
	r->pop_codec = ayiya_new(PASSWORD);
	assert_non_null(r->pop_codec);
	return datapath_init(&r->dp, sp[0], udp, &p, 1280, &r->c, tun_offloads, udp_offload, true);
}

static void rig_down(struct rig *r)
{
	close(r->dp.tun.fd);
	close(r->dp.udp_fd);
	datapath_free(&r->dp);
	ayiya_free(r->pop_codec);
	close(r->tun_peer);
	close(r->pop);
}

/* Receive at the PoP until quiet (bounded): every datagram checked, their count. */
static int pop_receive(struct rig *r, uint32_t seq0)
{
	static uint8_t d[70000];
	uint32_t seq = seq0;
	int n = 0;
	struct pollfd pf = {.fd = r->pop, .events = POLLIN};

	while (poll(&pf, 1, 500) > 0) {
		ssize_t len = recv(r->pop, d, sizeof(d), 0);
		struct ayiya_view v;

		if (len < 0)
			break;
		assert_true(len <= 1280 + AYIYA_HDR_LEN);
		assert_int_equal(ayiya_open(r->pop_codec, d, (size_t)len, &r->client, 128, NOW, &v),
		                 AYIYA_OK);
		assert_int_equal(v.opcode, AYIYA_OP_FORWARD);
		assert_true(tcp_ok(v.payload, v.payload_len));
		assert_int_equal((uint32_t)(v.payload[44] << 24 | v.payload[45] << 16 |
		                            v.payload[46] << 8 | v.payload[47]),
		                 seq);
		seq += (uint32_t)(v.payload_len - 60);
		n++;
	}
	return n;
}

static void tso_super_packet_leaves_as_signed_datagrams(void **state)
{
	static uint8_t m[OFFLOAD_VNET_LEN + 70000];
	struct offload_vnet h = {.flags = OFFLOAD_F_NEEDS_CSUM,
	                         .gso_type = OFFLOAD_GSO_TCPV6,
	                         .hdr_len = 60,
	                         .gso_size = 1220,
	                         .csum_start = 40,
	                         .csum_offset = 16};
	uint8_t *pkt = m + OFFLOAD_VNET_LEN;
	size_t len = segment(pkt, 1000, 0x18, 40 * 1220 + 500, 0);
	struct rig r;
	uint32_t partial;

	(void)state;
	assert_int_equal(rig_up(&r, NETCFG_TUN_VNET | NETCFG_TUN_TSO, 1), 0);
	/* As the kernel leaves it: the checksum field holds the pseudo header's sum. */
	partial = sum16(sum16(0, pkt + 8, 32) + (uint32_t)(len - 40) + 6, NULL, 0);
	pkt[56] = (uint8_t)(partial >> 8);
	pkt[57] = (uint8_t)partial;
	offload_vnet_put(m, &h);
	assert_int_equal(write(r.tun_peer, m, OFFLOAD_VNET_LEN + len), OFFLOAD_VNET_LEN + len);
	assert_int_equal(datapath_from_tun(&r.dp, NOW), 1); /* one read */
	assert_int_equal(pop_receive(&r, 1000), 41);
	assert_int_equal(r.c.tx_packets, 41);
	assert_int_equal(r.c.tx_bytes, len + 40 * 60);
	assert_true(r.c.offload & COUNTERS_OFFLOAD_TUN_TSO);
	rig_down(&r);
}

/* The PoP sends n segments of one flow in one UDP_SEGMENT message. */
static void pop_send_flow(struct rig *r, int n, size_t plen)
{
	static uint8_t buf[65536];
	size_t dg = AYIYA_HDR_LEN + 60 + plen;
	uint16_t gso = (uint16_t)dg;
	char ctl[CMSG_SPACE(sizeof(gso))];
	struct iovec iov = {.iov_base = buf, .iov_len = (size_t)n * dg};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	for (int i = 0; i < n; i++) {
		uint8_t *d = buf + (size_t)i * dg;

		segment(d + AYIYA_HDR_LEN, 5000 + (uint32_t)i * (uint32_t)plen, 0x10, plen, 1);
		assert_int_equal(ayiya_seal(r->pop_codec, d, 60 + plen, AYIYA_OP_FORWARD,
		                            AYIYA_NH_IPV6, &r->popid, NOW),
		                 dg);
	}
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(gso));
	memcpy(CMSG_DATA(cm), &gso, sizeof(gso));
	assert_int_equal(sendmsg(r->pop, &mh, 0), (ssize_t)iov.iov_len);
}

static void received_segments_reach_the_tun_coalesced(void **state)
{
	static uint8_t m[OFFLOAD_VNET_LEN + 70000];
	struct pollfd pf;
	struct offload_vnet h;
	struct rig r;
	ssize_t len;
	int got = 0;

	(void)state;
	assert_int_equal(rig_up(&r, NETCFG_TUN_VNET | NETCFG_TUN_TSO, 1), 0);
	assert_true(r.c.offload & COUNTERS_OFFLOAD_UDP_GRO);
	pop_send_flow(&r, 20, 1220);
	pf.fd = r.dp.udp_fd;
	pf.events = POLLIN;
	while (got < 20 && poll(&pf, 1, 1000) > 0) {
		assert_true(datapath_from_udp(&r.dp, NOW) >= 1);
		got = (int)r.c.rx_packets;
	}
	assert_int_equal(r.c.rx_packets, 20);
	assert_int_equal(r.c.rx_bytes, 20 * (60 + 1220));
	/* However the kernel batched them: fewer writes than segments, all in order. */
	got = 0;
	for (uint32_t seq = 5000; (len = read(r.tun_peer, m, sizeof(m))) > 0;) {
		uint8_t *p = m + OFFLOAD_VNET_LEN;

		offload_vnet_get(m, &h);
		assert_int_equal((uint32_t)(p[44] << 24 | p[45] << 16 | p[46] << 8 | p[47]), seq);
		if (h.gso_type == OFFLOAD_GSO_TCPV6) {
			assert_int_equal(h.gso_size, 1220);
			assert_int_equal(h.flags, OFFLOAD_F_NEEDS_CSUM);
		} else {
			assert_true(tcp_ok(p, (size_t)len - OFFLOAD_VNET_LEN));
		}
		seq += (uint32_t)((size_t)len - OFFLOAD_VNET_LEN - 60);
		got++;
	}
	assert_true(got >= 1 && got < 20);
	rig_down(&r);
}

static void plain_path_moves_one_packet_per_datagram(void **state)
{
	static uint8_t m[2000];
	struct rig r;
	size_t len;
	struct pollfd pf;
	int writes = 0;

	(void)state;
	assert_int_equal(rig_up(&r, 0, 0), 0);
	assert_int_equal(r.c.offload, 0);
	for (int i = 0; i < 3; i++) {
		len = segment(m, 1000 + (uint32_t)i * 1220, 0x10, 1220, 0);
		assert_int_equal(write(r.tun_peer, m, len), len);
	}
	assert_int_equal(datapath_from_tun(&r.dp, NOW), 3);
	assert_int_equal(pop_receive(&r, 1000), 3);
	pop_send_flow(&r, 4, 1000); /* the kernel segments them: no UDP_GRO */
	pf.fd = r.dp.udp_fd;
	pf.events = POLLIN;
	while (r.c.rx_packets < 4 && poll(&pf, 1, 1000) > 0)
		datapath_from_udp(&r.dp, NOW);
	while (read(r.tun_peer, m, sizeof(m)) == 60 + 1000)
		writes++;
	assert_int_equal(writes, 4);
	rig_down(&r);
}

/* The PoP sends n segments of one flow the way the real one does: one send() each. */
static void pop_send_each(struct rig *r, int n, size_t plen)
{
	static uint8_t d[2000];
	size_t dg = AYIYA_HDR_LEN + 60 + plen;

	for (int i = 0; i < n; i++) {
		segment(d + AYIYA_HDR_LEN, 5000 + (uint32_t)i * (uint32_t)plen, 0x10, plen, 1);
		assert_int_equal(ayiya_seal(r->pop_codec, d, 60 + plen, AYIYA_OP_FORWARD,
		                            AYIYA_NH_IPV6, &r->popid, NOW),
		                 dg);
		assert_int_equal(send(r->pop, d, dg, 0), (ssize_t)dg);
	}
}

static void wait_readable(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};

	assert_int_equal(poll(&pf, 1, 1000), 1);
}

/*
 * A one-datagram-per-call PoP: one wake-up takes what is queued in full
 * batches (up to DATAPATH_RX_ROUNDS receive calls), and the counters say
 * how many datagrams each call and how many packets each TUN write moved.
 */
static void one_datagram_pop_is_read_in_batches(void **state)
{
	static uint8_t m[2000];
	struct rig r;
	int writes = 0;

	(void)state;
	assert_int_equal(rig_up(&r, 0, 0), 0);
	pop_send_each(&r, 150, 100);
	wait_readable(r.dp.udp_fd);
	/* 150 queued: 4 full calls of 32 now, the remaining 22 at the next wake-up. */
	assert_int_equal(datapath_from_udp(&r.dp, NOW), DATAPATH_RX_ROUNDS * DATAPATH_BATCH);
	assert_int_equal(r.c.rx_calls, DATAPATH_RX_ROUNDS);
	assert_true(r.dp.tun.more); /* stopped at its bound: the loop must not hold off */
	r.dp.tun.more = false;
	assert_int_equal(datapath_from_udp(&r.dp, NOW), 150 - DATAPATH_RX_ROUNDS * DATAPATH_BATCH);
	assert_false(r.dp.tun.more);
	assert_int_equal(r.c.rx_calls, DATAPATH_RX_ROUNDS + 1);
	assert_int_equal(r.c.rx_datagrams, 150);
	assert_int_equal(r.c.rx_packets, 150);
	/* The plain path: one write per packet. */
	assert_int_equal(r.c.tun_writes, 150);
	assert_int_equal(r.c.tun_packets, 150);
	while (read(r.tun_peer, m, sizeof(m)) == 60 + 100)
		writes++;
	assert_int_equal(writes, 150);
	/* Nothing left: no call counted for an empty socket. */
	assert_int_equal(datapath_from_udp(&r.dp, NOW), 0);
	assert_int_equal(r.c.rx_calls, DATAPATH_RX_ROUNDS + 1);
	rig_down(&r);
}

/* Offloaded, the same datagrams reach the TUN as a few super-packets, in order. */
static void one_datagram_pop_reaches_the_tun_coalesced(void **state)
{
	static uint8_t m[OFFLOAD_VNET_LEN + 70000];
	struct offload_vnet h;
	struct rig r;
	uint32_t seq = 5000;
	ssize_t len;
	int writes = 0;

	(void)state;
	assert_int_equal(rig_up(&r, NETCFG_TUN_VNET | NETCFG_TUN_TSO, 1), 0);
	pop_send_each(&r, 30, 100);
	wait_readable(r.dp.udp_fd);
	assert_int_equal(datapath_from_udp(&r.dp, NOW), 30);
	assert_int_equal(r.c.rx_calls, 1);
	assert_int_equal(r.c.rx_datagrams, 30);
	assert_int_equal(r.c.tun_packets, 30);
	assert_true(r.c.tun_writes >= 1 && r.c.tun_writes <= 2);
	while ((len = read(r.tun_peer, m, sizeof(m))) > 0) {
		uint8_t *p = m + OFFLOAD_VNET_LEN;

		offload_vnet_get(m, &h);
		assert_int_equal((uint32_t)(p[44] << 24 | p[45] << 16 | p[46] << 8 | p[47]), seq);
		seq += (uint32_t)((size_t)len - OFFLOAD_VNET_LEN - 60);
		writes++;
	}
	assert_int_equal(seq, 5000 + 30 * 100);
	assert_int_equal(writes, r.c.tun_writes);
	rig_down(&r);
}

/* Toward the PoP: at most DATAPATH_TUN_READS reads per wake-up, and it says when it stopped. */
static void tun_reads_are_bounded_per_wakeup(void **state)
{
	static uint8_t m[2000];
	struct rig r;
	int n = DATAPATH_TUN_READS + 10;
	size_t len;

	(void)state;
	assert_int_equal(rig_up(&r, 0, 0), 0);
	for (int i = 0; i < n; i++) {
		len = segment(m, 1000 + (uint32_t)i * 100, 0x10, 100, 0);
		assert_int_equal(write(r.tun_peer, m, len), len);
	}
	assert_int_equal(datapath_from_tun(&r.dp, NOW), DATAPATH_TUN_READS);
	assert_true(r.dp.tun.more);
	r.dp.tun.more = false;
	assert_int_equal(datapath_from_tun(&r.dp, NOW), 10);
	assert_false(r.dp.tun.more);
	assert_int_equal(pop_receive(&r, 1000), n);
	rig_down(&r);
}

/* The loop's hold-off: on after a busy iteration, off after an idle one, never for a lone packet.
 */
static void pace_holds_off_only_under_load(void **state)
{
	struct dp_pace p = {0};
	uint64_t moved = 0;

	(void)state;
	assert_true(dp_pace(&p, moved += 1, false) == 0.);                /* a ping */
	assert_true(dp_pace(&p, moved += DP_PACE_BUSY - 1, false) == 0.); /* a few, not a stream */
	assert_true(dp_pace(&p, moved += DP_PACE_BUSY, false) == DP_PACE_HOLDOFF);
	assert_true(dp_pace(&p, moved += 2, false) == DP_PACE_HOLDOFF); /* between: stays */
	assert_true(dp_pace(&p, moved += 40, false) == DP_PACE_HOLDOFF);
	assert_true(dp_pace(&p, moved += DP_PACE_IDLE, false) == 0.); /* the stream ended */
	assert_true(dp_pace(&p, moved, false) == 0.);
	assert_true(dp_pace(&p, moved += 2, false) ==
	            0.); /* and does not start again on a trickle */
	/* A handler that left packets waiting: poll again at once, still busy. */
	assert_true(dp_pace(&p, moved += 40, false) == DP_PACE_HOLDOFF);
	assert_true(dp_pace(&p, moved += 128, true) == 0.);
	assert_true(dp_pace(&p, moved += 2, false) == DP_PACE_HOLDOFF);
	assert_true(dp_pace(&p, moved += 1, true) == 0.); /* and idle ends it */
	assert_true(dp_pace(&p, moved += 2, false) == 0.);
	/* Counts that wrap (a counter far along) still give the difference. */
	p.last = UINT64_MAX - 1;
	assert_true(dp_pace(&p, 10, false) == DP_PACE_HOLDOFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tso_super_packet_leaves_as_signed_datagrams),
	    cmocka_unit_test(received_segments_reach_the_tun_coalesced),
	    cmocka_unit_test(plain_path_moves_one_packet_per_datagram),
	    cmocka_unit_test(one_datagram_pop_is_read_in_batches),
	    cmocka_unit_test(one_datagram_pop_reaches_the_tun_coalesced),
	    cmocka_unit_test(tun_reads_are_bounded_per_wakeup),
	    cmocka_unit_test(pace_holds_off_only_under_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
