/*
 * Verify a capture of an AYIYA tunnel packet by packet with the project's
 * codec (the one the conformance tests tie to the real PoP): every UDP
 * datagram to or from port 5072 must be one valid AYIYA datagram signed
 * by its side, at most MTU + 44 bytes, not fragmented, carrying one whole
 * IPv6 packet whose TCP/UDP/ICMPv6 checksum verifies.  Datagrams whose
 * identity is neither end of this tunnel belong to another one and are
 * only counted.
 *
 *   ayiya_pcapcheck FILE PASSWORD CLIENT-IPV6 POP-IPV6 MTU
 *
 * Classic pcap (dumpcap -P), Ethernet link type.  Prints a summary line;
 * exits 0 only when every datagram passed and there was at least one
 * forwarded TCP segment.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ayiya.h"

struct totals {
	unsigned long dgrams, others, forwards, tcp, bad;
	size_t largest;
};

static uint32_t rd32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

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

/* One IPv6 packet: whole, and its upper-layer checksum right. */
static const char *inner_problem(const uint8_t *ip6, size_t len, struct totals *t)
{
	uint32_t l4;
	uint8_t nh;

	if (len < 40 || (ip6[0] >> 4) != 6)
		return "payload is not IPv6";
	if ((size_t)(ip6[4] << 8 | ip6[5]) + 40 != len)
		return "IPv6 payload length does not match the datagram";
	nh = ip6[6];
	if (nh != 6 && nh != 17 && nh != 58)
		return NULL;
	if (nh == 6)
		t->tcp++;
	l4 = (uint32_t)(len - 40);
	if (sum16(sum16(0, ip6 + 8, 32) + (l4 >> 16) + (l4 & 0xffff) + nh, ip6 + 40, l4) != 0xffff)
		return "upper-layer checksum wrong";
	return NULL;
}

static const char *dgram_problem(struct ayiya *ay, uint8_t *d, size_t len, int from_pop,
                                 const struct in6_addr *client, const struct in6_addr *pop,
                                 uint32_t mtu, uint32_t now, struct totals *t)
{
	struct ayiya_view v;
	enum ayiya_verdict r;

	if (len > AYIYA_HDR_LEN + mtu)
		return "larger than MTU + AYIYA header";
	/* Another tunnel's datagram (its identity is neither end of ours): not ours to check. */
	if (len >= AYIYA_HDR_LEN && memcmp(d + 8, client, 16) != 0 && memcmp(d + 8, pop, 16) != 0) {
		t->others++;
		return NULL;
	}
	r = ayiya_open(ay, d, len, from_pop ? pop : client, 128, now, &v);
	if (r != AYIYA_OK)
		return ayiya_verdict_name(r);
	if (v.opcode != AYIYA_OP_FORWARD || v.next_header != AYIYA_NH_IPV6)
		return NULL;
	t->forwards++;
	return inner_problem(v.payload, v.payload_len, t);
}

/* An Ethernet frame: the AYIYA datagram in it, if any. */
static void frame(struct ayiya *ay, uint8_t *f, size_t len, uint32_t now,
                  const struct in6_addr *client, const struct in6_addr *pop, uint32_t mtu,
                  struct totals *t)
{
	uint8_t *ip = f + 14, *udp;
	size_t ihl, ulen;
	uint16_t sport, dport;
	const char *why;

	if (len < 14 + 20 + 8 || f[12] != 0x08 || f[13] != 0x00 || (ip[0] >> 4) != 4 || ip[9] != 17)
		return;
	ihl = (size_t)(ip[0] & 15) * 4;
	udp = ip + ihl;
	sport = (uint16_t)(udp[0] << 8 | udp[1]);
	dport = (uint16_t)(udp[2] << 8 | udp[3]);
	if (sport != AYIYA_PORT && dport != AYIYA_PORT)
		return;
	t->dgrams++;
	ulen = (size_t)(udp[4] << 8 | udp[5]);
	if ((ip[6] & 0x3f) || ip[7]) {
		why = "fragmented";
	} else if (14 + ihl + ulen > len || ulen < 8) {
		why = "truncated in the capture (or a super-packet)";
	} else {
		if (ulen - 8 > t->largest)
			t->largest = ulen - 8;
		why = dgram_problem(ay, udp + 8, ulen - 8, sport == AYIYA_PORT, client, pop, mtu,
		                    now, t);
	}
	if (why) {
		t->bad++;
		if (t->bad <= 10)
			fprintf(stderr, "datagram %lu (%s, %zu bytes): %s\n", t->dgrams,
			        sport == AYIYA_PORT ? "from the PoP" : "to the PoP", ulen - 8, why);
	}
}

int main(int argc, char **argv)
{
	static uint8_t rec[262144];
	struct in6_addr client, pop;
	struct totals t = {0};
	uint8_t gh[24], rh[16];
	struct ayiya *ay;
	uint32_t mtu;
	int swap;
	FILE *f;

	if (argc != 6 || inet_pton(AF_INET6, argv[3], &client) != 1 ||
	    inet_pton(AF_INET6, argv[4], &pop) != 1) {
		fprintf(stderr, "usage: %s FILE PASSWORD CLIENT-IPV6 POP-IPV6 MTU\n", argv[0]);
		return 2;
	}
	mtu = (uint32_t)atoi(argv[5]);
	f = fopen(argv[1], "rb");
	ay = ayiya_new(argv[2]);
	if (!f || !ay || fread(gh, 1, 24, f) != 24) {
		fprintf(stderr, "%s: cannot read a pcap header\n", argv[1]);
		return 2;
	}
	swap = rd32(gh, 0) == 0xd4c3b2a1;
	if (rd32(gh, swap) != 0xa1b2c3d4 || rd32(gh + 20, swap) != 1) {
		fprintf(stderr, "%s: not a classic Ethernet pcap\n", argv[1]);
		return 2;
	}
	while (fread(rh, 1, 16, f) == 16) {
		uint32_t caplen = rd32(rh + 8, swap);

		if (caplen > sizeof(rec) || fread(rec, 1, caplen, f) != caplen) {
			fprintf(stderr, "%s: truncated record\n", argv[1]);
			return 2;
		}
		frame(ay, rec, caplen, rd32(rh, swap), &client, &pop, mtu, &t);
	}
	printf("%lu AYIYA datagrams (%lu of other tunnels), %lu forwarded IPv6 packets, %lu TCP "
	       "segments, largest %zu bytes (limit %u), %lu bad\n",
	       t.dgrams, t.others, t.forwards, t.tcp, t.largest, mtu + AYIYA_HDR_LEN, t.bad);
	ayiya_free(ay);
	fclose(f);
	return t.bad == 0 && t.tcp > 0 ? 0 : 1;
}
