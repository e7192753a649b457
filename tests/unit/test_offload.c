/*
 * Segmentation of TUN super-packets and coalescing of received segments
 * (offload.c).  Every checksum is checked by this file's own byte-by-byte
 * RFC 1071 sum, not by the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "offload.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_CWR 0x80
#define OPTLEN  12 /* NOP NOP timestamp */
#define HROOM   44

/* The whole packet at once, or -ENOSPC when it does not fit (offload_split_from from 0). */
static int offload_split(const struct offload_vnet *h, const uint8_t *pkt, size_t len, uint8_t *out,
                         size_t room, size_t headroom, unsigned max_segs, size_t *seg_len,
                         size_t *last_len)
{
	unsigned total = 0;
	int n = offload_split_from(h, pkt, len, 0, out, room, headroom, max_segs, seg_len, last_len,
	                           &total);

	return n >= 0 && (unsigned)n < total ? -ENOSPC : n;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* The independent checksum: big-endian 16-bit words, one at a time. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Pseudo header (RFC 8200 8.1) of the packet at ip6 for an upper layer of l4 bytes. */
static uint32_t ref_pseudo(const uint8_t *ip6, uint8_t proto, uint32_t l4)
{
	return ref_sum(0, ip6 + 8, 32) + (l4 >> 16) + (l4 & 0xffff) + proto;
}

/* Whether the upper-layer checksum of an IPv6 packet (no extension headers) verifies. */
static int ref_l4_ok(const uint8_t *ip6, size_t len)
{
	uint32_t l4 = (uint32_t)(len - 40);

	return ref_fold(ref_pseudo(ip6, ip6[6], l4) + ref_sum(0, ip6 + 40, l4)) == 0xffff;
}

/* Fill in a full checksum with the reference code (field at l4off). */
static void ref_fill(uint8_t *ip6, size_t len, size_t field)
{
	wr16(ip6 + 40 + field, 0);
	wr16(ip6 + 40 + field, (uint16_t)~ref_fold(ref_pseudo(ip6, ip6[6], (uint32_t)(len - 40)) +
	                                           ref_sum(0, ip6 + 40, len - 40)));
}

static void ip6_hdr(uint8_t *p, uint8_t proto, size_t payload, uint8_t src_last)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[1] = 0x00;
	wr16(p + 4, (uint16_t)payload);
	p[6] = proto;
	p[7] = 64;
	inet_pton(AF_INET6, "2001:db8:a::2", p + 8);
	inet_pton(AF_INET6, "2001:db8:eeee::2", p + 24);
	p[23] = src_last;
}

/*
 * An IPv6 TCP packet with a 12-byte timestamp option and plen payload
 * bytes (payload byte i = (seq + i) & 0xff, so a segment's bytes say
 * where they belong).  Full checksum unless partial: then the field holds
 * the pseudo header's sum, as the kernel leaves it (CHECKSUM_PARTIAL).
 */
static size_t tcp6(uint8_t *p, uint32_t seq, uint8_t flags, size_t plen, int partial)
{
	uint8_t *t = p + 40;
	size_t len = 40 + 20 + OPTLEN + plen;

	ip6_hdr(p, 6, len - 40, 2);
	memset(t, 0, 20);
	wr16(t, 40000);
	wr16(t + 2, 5201);
	wr32(t + 4, seq);
	wr32(t + 8, 777);
	t[12] = (uint8_t)((20 + OPTLEN) / 4) << 4;
	t[13] = flags;
	wr16(t + 14, 512);
	t[20] = 1;
	t[21] = 1;
	t[22] = 8;
	t[23] = 10;
	wr32(t + 24, 0x11223344);
	wr32(t + 28, 0x55667788);
	for (size_t i = 0; i < plen; i++)
		t[20 + OPTLEN + i] = (uint8_t)(seq + i);
	if (partial)
		wr16(t + 16, ref_fold(ref_pseudo(p, 6, (uint32_t)(len - 40))));
	else
		ref_fill(p, len, 16);
	return len;
}

static size_t udp6(uint8_t *p, size_t plen, int partial)
{
	size_t len = 48 + plen;

	ip6_hdr(p, 17, len - 40, 2);
	wr16(p + 40, 5072);
	wr16(p + 42, 40001);
	wr16(p + 44, (uint16_t)(8 + plen));
	wr16(p + 46, 0);
	for (size_t i = 0; i < plen; i++)
		p[48 + i] = (uint8_t)(i * 7);
	if (partial)
		wr16(p + 46, ref_fold(ref_pseudo(p, 17, (uint32_t)(len - 40))));
	else
		ref_fill(p, len, 6);
	return len;
}

static const struct offload_vnet tso = {.flags = OFFLOAD_F_NEEDS_CSUM,
                                        .gso_type = OFFLOAD_GSO_TCPV6,
                                        .hdr_len = 40 + 20 + OPTLEN,
                                        .gso_size = 1000,
                                        .csum_start = 40,
                                        .csum_offset = 16};

static uint8_t in[70000], out[140000];

static void tso_splits_with_options_flags_and_checksums(void **state)
{
	size_t len = tcp6(in, 1000000, TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR, 3500, 1);
	size_t seg = 0, last = 0, hdr = 40 + 20 + OPTLEN;
	int n;

	(void)state;
	n = offload_split(&tso, in, len, out, sizeof(out), HROOM, OFFLOAD_SEGS_MAX, &seg, &last);
	assert_int_equal(n, 4);
	assert_int_equal(seg, hdr + 1000);
	assert_int_equal(last, hdr + 500); /* the last short segment */
	for (int i = 0; i < n; i++) {
		uint8_t *o = out + (size_t)i * (HROOM + seg) + HROOM, *t = o + 40;
		size_t l = i == 3 ? last : seg;
		uint32_t seq = 1000000 + (uint32_t)i * 1000;

		assert_int_equal(be16(o + 4), l - 40);
		assert_memory_equal(o + 8, in + 8, 32);
		assert_int_equal(be32(t + 4), seq);
		assert_int_equal(be32(t + 8), 777);
		assert_int_equal(t[12], in[52]);
		assert_memory_equal(t + 20, in + 60, OPTLEN); /* options on every segment */
		assert_true(ref_l4_ok(o, l));
		for (size_t b = 0; b < l - hdr; b++)
			assert_int_equal(o[hdr + b], (uint8_t)(seq + b));
		/* PSH and FIN only on the last, CWR only on the first. */
		assert_int_equal(!!(t[13] & TCP_PSH), i == 3);
		assert_int_equal(!!(t[13] & TCP_FIN), i == 3);
		assert_int_equal(!!(t[13] & TCP_CWR), i == 0);
		assert_true(t[13] & TCP_ACK);
	}
}

static void tso_even_split_has_full_last_segment(void **state)
{
	size_t len = tcp6(in, 5, TCP_ACK, 3000, 1), seg, last;

	(void)state;
	assert_int_equal(offload_split(&tso, in, len, out, sizeof(out), 0, 64, &seg, &last), 3);
	assert_int_equal(seg, last);
	assert_true(ref_l4_ok(out + 2 * seg, last));
	assert_int_equal(be32(out + 2 * seg + 44), 2005);
}

static void tso_one_segment_is_still_right(void **state)
{
	size_t len = tcp6(in, 9, TCP_ACK | TCP_PSH, 300, 1), seg, last;

	(void)state;
	assert_int_equal(offload_split(&tso, in, len, out, sizeof(out), HROOM, 64, &seg, &last), 1);
	assert_int_equal(last, len);
	assert_true(ref_l4_ok(out + HROOM, last));
	assert_true(out[HROOM + 53] & TCP_PSH);
}

/* A small MSS: more segments than one call may write, in parts. */
static void tso_splits_in_parts(void **state)
{
	struct offload_vnet h = tso;
	size_t len = tcp6(in, 500, TCP_ACK | TCP_PSH | TCP_CWR, 9950, 1), seg, last;
	size_t hdr = 40 + 20 + OPTLEN;
	unsigned total = 0, first = 0;
	int parts = 0;

	(void)state;
	h.gso_size = 100;
	for (;;) {
		int n = offload_split_from(&h, in, len, first, out, sizeof(out), HROOM, 64, &seg,
		                           &last, &total);

		assert_true(n >= 0);
		if (n == 0)
			break;
		parts++;
		assert_int_equal(total, 100);
		assert_int_equal(n, first == 0 ? 64 : 36);
		for (int i = 0; i < n; i++) {
			uint8_t *o = out + (size_t)i * (HROOM + seg) + HROOM, *t = o + 40;
			unsigned g = first + (unsigned)i;
			size_t l = g == 99 ? last : seg;

			assert_int_equal(be32(t + 4), 500 + g * 100);
			assert_int_equal(!!(t[13] & TCP_PSH), g == 99);
			assert_int_equal(!!(t[13] & TCP_CWR), g == 0);
			assert_true(ref_l4_ok(o, l));
			assert_int_equal(o[hdr], (uint8_t)(500 + g * 100));
		}
		first += (unsigned)n;
	}
	assert_int_equal(parts, 2);
	assert_int_equal(last, hdr + 50);
	/* The all-at-once form refuses what does not fit at once. */
	assert_int_equal(offload_split(&h, in, len, out, sizeof(out), HROOM, 64, &seg, &last),
	                 -ENOSPC);
}

static void uso_splits_datagrams_with_their_own_checksums(void **state)
{
	struct offload_vnet h = {.flags = OFFLOAD_F_NEEDS_CSUM,
	                         .gso_type = OFFLOAD_GSO_UDP_L4,
	                         .hdr_len = 48,
	                         .gso_size = 1000,
	                         .csum_start = 40,
	                         .csum_offset = 6};
	size_t len = udp6(in, 2500, 1), seg, last;
	int n;

	(void)state;
	n = offload_split(&h, in, len, out, sizeof(out), HROOM, 64, &seg, &last);
	assert_int_equal(n, 3);
	assert_int_equal(seg, 1048);
	assert_int_equal(last, 548);
	for (int i = 0; i < n; i++) {
		uint8_t *o = out + (size_t)i * (HROOM + seg) + HROOM;
		size_t l = i == 2 ? last : seg;

		assert_int_equal(be16(o + 4), l - 40);
		assert_int_equal(be16(o + 44), l - 40);
		assert_memory_equal(o + 40, in + 40, 4); /* ports */
		assert_memory_equal(o + 48, in + 48 + (size_t)i * 1000, l - 48);
		assert_true(ref_l4_ok(o, l));
	}
}

static void completes_a_partial_checksum(void **state)
{
	struct offload_vnet h = {
	    .flags = OFFLOAD_F_NEEDS_CSUM, .csum_start = 40, .csum_offset = 16};
	size_t len = tcp6(in, 42, TCP_ACK, 777, 1), seg, last;

	(void)state;
	assert_false(ref_l4_ok(in, len));
	assert_int_equal(offload_split(&h, in, len, out, sizeof(out), HROOM, 64, &seg, &last), 1);
	assert_int_equal(seg, len);
	assert_true(ref_l4_ok(out + HROOM, len));
	/* The same for UDP (odd length too). */
	h.csum_offset = 6;
	len = udp6(in, 333, 1);
	assert_int_equal(offload_split(&h, in, len, out, sizeof(out), 0, 64, &seg, &last), 1);
	assert_true(ref_l4_ok(out, len));
}

static void plain_packet_is_copied_untouched(void **state)
{
	struct offload_vnet h = {0};
	size_t len = tcp6(in, 1, TCP_ACK, 100, 0), seg, last;

	(void)state;
	assert_int_equal(offload_split(&h, in, len, out, sizeof(out), HROOM, 64, &seg, &last), 1);
	assert_memory_equal(out + HROOM, in, len);
}

static void refuses_what_it_cannot_split(void **state)
{
	struct offload_vnet h = tso;
	size_t len = tcp6(in, 1, TCP_ACK, 3500, 1), seg, last;

	(void)state;
	h.gso_type = 1; /* TCPv4 on an IPv6 tunnel */
	assert_int_equal(offload_split(&h, in, len, out, sizeof(out), 0, 64, &seg, &last), -EINVAL);
	h = tso;
	h.csum_start = 20;
	assert_int_equal(offload_split(&h, in, len, out, sizeof(out), 0, 64, &seg, &last), -EINVAL);
	h = tso;
	h.gso_size = 0;
	assert_int_equal(offload_split(&h, in, len, out, sizeof(out), 0, 64, &seg, &last), -EINVAL);
	in[52] = 0x10; /* data offset 4 bytes */
	assert_int_equal(offload_split(&tso, in, len, out, sizeof(out), 0, 64, &seg, &last),
	                 -EINVAL);
	len = tcp6(in, 1, TCP_ACK, 3500, 1);
	assert_int_equal(offload_split(&tso, in, len, out, 2000, 0, 64, &seg, &last), -ENOSPC);
	assert_int_equal(offload_split(&tso, in, len, out, sizeof(out), 0, 3, &seg, &last),
	                 -ENOSPC);
	in[0] = 0x45;
	assert_int_equal(offload_split(&tso, in, len, out, sizeof(out), 0, 64, &seg, &last),
	                 -EINVAL);
}

/* ---- coalescing ---- */

#define EMITS 32

struct emitted {
	struct offload_vnet h;
	uint8_t data[70000];
	size_t len;
};

static struct emitted em[EMITS];
static int nem;

static int capture(void *ctx, const struct offload_vnet *h, const struct iovec *iov, int iovcnt)
{
	struct emitted *e = &em[nem++];

	(void)ctx;
	assert_true(nem <= EMITS);
	e->h = *h;
	e->len = 0;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(e->data + e->len, iov[i].iov_base, iov[i].iov_len);
		e->len += iov[i].iov_len;
	}
	return 0;
}

static uint8_t pk[40][1200];

static struct gro g;

static int gro_setup(void **state)
{
	(void)state;
	nem = 0;
	gro_init(&g, capture, NULL);
	return 0;
}

/* Finish a CHECKSUM_PARTIAL super-packet independently and check it. */
static int ref_partial_ok(const struct emitted *e)
{
	uint8_t *copy = malloc(e->len);
	int ok;

	memcpy(copy, e->data, e->len);
	wr16(copy + 40 + e->h.csum_offset,
	     (uint16_t)~ref_fold(ref_sum(0, copy + e->h.csum_start, e->len - e->h.csum_start)));
	ok = ref_l4_ok(copy, e->len);
	free(copy);
	return ok;
}

static void merges_one_flow_into_a_super_packet(void **state)
{
	size_t l[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		l[i] = tcp6(pk[i], 100 + (uint32_t)i * 1000, TCP_ACK | (i == 3 ? TCP_PSH : 0),
		            i == 3 ? 400 : 1000, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(gro_add(&g, pk[i], l[i]), 0);
	assert_int_equal(gro_flush(&g), 0);
	assert_int_equal(nem, 1);
	assert_int_equal(em[0].h.gso_type, OFFLOAD_GSO_TCPV6);
	assert_int_equal(em[0].h.flags, OFFLOAD_F_NEEDS_CSUM);
	assert_int_equal(em[0].h.gso_size, 1000);
	assert_int_equal(em[0].h.hdr_len, 40 + 20 + OPTLEN);
	assert_int_equal(em[0].h.csum_start, 40);
	assert_int_equal(em[0].h.csum_offset, 16);
	assert_int_equal(em[0].len, 72 + 3400);
	assert_int_equal(be16(em[0].data + 4), 32 + 3400);
	assert_int_equal(be32(em[0].data + 44), 100);
	assert_true(em[0].data[53] & TCP_PSH);
	for (size_t b = 0; b < 3400; b++)
		assert_int_equal(em[0].data[72 + b], (uint8_t)(100 + b));
	assert_true(ref_partial_ok(&em[0]));
	assert_int_equal(g.merged, 3);
}

static void round_trip_split_of_a_merged_packet(void **state)
{
	size_t l[3], seg, last;

	(void)state;
	for (int i = 0; i < 3; i++)
		l[i] = tcp6(pk[i], 7 + (uint32_t)i * 1000, TCP_ACK, 1000, 0);
	for (int i = 0; i < 3; i++)
		gro_add(&g, pk[i], l[i]);
	gro_flush(&g);
	assert_int_equal(nem, 1);
	assert_int_equal(
	    offload_split(&em[0].h, em[0].data, em[0].len, out, sizeof(out), 0, 64, &seg, &last),
	    3);
	for (int i = 0; i < 3; i++) {
		tcp6(in, 7 + (uint32_t)i * 1000, TCP_ACK, 1000, 0);
		assert_memory_equal(out + (size_t)i * seg, in, l[i]);
	}
}

static void interleaved_flows_merge_separately(void **state)
{
	size_t l[6];

	(void)state;
	for (int i = 0; i < 6; i++) {
		l[i] = tcp6(pk[i], 1 + (uint32_t)(i / 2) * 500, TCP_ACK, 500, 0);
		if (i & 1) { /* flow B: another source port */
			wr16(pk[i] + 40, 40002);
			ref_fill(pk[i], l[i], 16);
		}
	}
	for (int i = 0; i < 6; i++)
		gro_add(&g, pk[i], l[i]);
	gro_flush(&g);
	assert_int_equal(nem, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(em[i].len, 72 + 1500);
		assert_true(ref_partial_ok(&em[i]));
	}
	assert_int_not_equal(be16(em[0].data + 40), be16(em[1].data + 40));
}

static void out_of_order_is_not_merged(void **state)
{
	size_t a = tcp6(pk[0], 1000, TCP_ACK, 1000, 0), b = tcp6(pk[1], 3000, TCP_ACK, 1000, 0);
	size_t c = tcp6(pk[2], 2000, TCP_ACK, 1000, 0);

	(void)state;
	gro_add(&g, pk[0], a);
	gro_add(&g, pk[1], b); /* a gap: the first goes out, the second starts anew */
	gro_add(&g, pk[2], c); /* behind the second: again */
	gro_flush(&g);
	assert_int_equal(nem, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(em[i].h.gso_type, OFFLOAD_GSO_NONE);
		assert_true(ref_l4_ok(em[i].data, em[i].len));
	}
	assert_int_equal(be32(em[0].data + 44), 1000);
	assert_int_equal(be32(em[1].data + 44), 3000);
	assert_int_equal(be32(em[2].data + 44), 2000);
}

static void flags_other_than_ack_psh_are_not_merged(void **state)
{
	static const uint8_t odd[] = {TCP_ACK | TCP_FIN, TCP_SYN, TCP_ACK | TCP_URG,
	                              TCP_ACK | TCP_CWR};

	(void)state;
	for (size_t k = 0; k < sizeof(odd); k++) {
		size_t a = tcp6(pk[0], 1, TCP_ACK, 1000, 0), b = tcp6(pk[1], 1001, odd[k], 1000, 0);

		nem = 0;
		gro_add(&g, pk[0], a);
		gro_add(&g, pk[1], b);
		gro_flush(&g);
		assert_int_equal(nem, 2);
		/* Order within the flow holds: the held segment first. */
		assert_int_equal(be32(em[0].data + 44), 1);
		assert_int_equal(em[1].data[53], odd[k]);
	}
}

static void nothing_is_appended_after_psh_or_a_short_segment(void **state)
{
	size_t a = tcp6(pk[0], 1, TCP_ACK, 1000, 0), b = tcp6(pk[1], 1001, TCP_ACK, 600, 0);
	size_t c = tcp6(pk[2], 1601, TCP_ACK, 600, 0);
	size_t d = tcp6(pk[3], 2201, TCP_ACK | TCP_PSH, 1000, 0);
	size_t e = tcp6(pk[4], 3201, TCP_ACK, 1000, 0);

	(void)state;
	gro_add(&g, pk[0], a);
	gro_add(&g, pk[1], b); /* short: ends the first super-packet */
	gro_add(&g, pk[2], c);
	gro_add(&g, pk[3], d);
	gro_add(&g, pk[4], e);
	gro_flush(&g);
	assert_int_equal(nem, 4);
	assert_int_equal(em[0].len, 72 + 1600);
	assert_true(ref_partial_ok(&em[0]));
	/* c (600) is the next head: d (1000) is larger than its size, so c goes alone. */
	assert_int_equal(em[1].len, c);
	/* d has PSH: it goes out at once, e then starts anew and is flushed. */
	assert_int_equal(em[2].len, d);
	assert_int_equal(em[3].len, e);
	assert_int_equal(g.nitems, 0);
}

static void different_options_ack_or_hop_limit_are_not_merged(void **state)
{
	(void)state;
	for (int k = 0; k < 3; k++) {
		size_t a = tcp6(pk[0], 1, TCP_ACK, 1000, 0),
		       b = tcp6(pk[1], 1001, TCP_ACK, 1000, 0);

		if (k == 0)
			pk[1][64] ^= 1; /* timestamp */
		else if (k == 1)
			wr32(pk[1] + 48, 778); /* ack */
		else
			pk[1][7] = 63; /* hop limit */
		ref_fill(pk[1], b, 16);
		nem = 0;
		gro_add(&g, pk[0], a);
		gro_add(&g, pk[1], b);
		gro_flush(&g);
		assert_int_equal(nem, 2);
		assert_int_equal(em[0].h.gso_type, OFFLOAD_GSO_NONE);
	}
}

static void bad_checksum_is_passed_on_alone(void **state)
{
	size_t a = tcp6(pk[0], 1, TCP_ACK, 1000, 0), b = tcp6(pk[1], 1001, TCP_ACK, 1000, 0);

	(void)state;
	pk[1][100] ^= 0xff;
	gro_add(&g, pk[0], a);
	gro_add(&g, pk[1], b);
	gro_flush(&g);
	assert_int_equal(nem, 2);
	assert_false(ref_l4_ok(em[1].data, em[1].len)); /* untouched: the kernel drops it */
}

static void non_tcp_goes_straight_through(void **state)
{
	size_t a = udp6(pk[0], 100, 0);

	(void)state;
	gro_add(&g, pk[0], a);
	assert_int_equal(nem, 1);
	assert_memory_equal(em[0].data, pk[0], a);
}

static void caps_a_super_packet_at_64k(void **state)
{
	static uint8_t big[60][1200];
	size_t total = 0;

	(void)state;
	for (int i = 0; i < 60; i++)
		gro_add(&g, big[i], tcp6(big[i], 1 + (uint32_t)i * 1100, TCP_ACK, 1100, 0));
	gro_flush(&g);
	assert_int_equal(nem, 2);
	assert_int_equal(em[0].h.gso_type + em[1].h.gso_type, OFFLOAD_GSO_TCPV6);
	for (int i = 0; i < nem; i++) {
		assert_true(em[i].len - 40 <= 65535);
		if (em[i].h.gso_type)
			assert_true(ref_partial_ok(&em[i]));
		else
			assert_true(ref_l4_ok(em[i].data, em[i].len));
		total += em[i].len - 72;
	}
	assert_int_equal(total, 60 * 1100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tso_splits_with_options_flags_and_checksums),
	    cmocka_unit_test(tso_even_split_has_full_last_segment),
	    cmocka_unit_test(tso_one_segment_is_still_right),
	    cmocka_unit_test(tso_splits_in_parts),
	    cmocka_unit_test(uso_splits_datagrams_with_their_own_checksums),
	    cmocka_unit_test(completes_a_partial_checksum),
	    cmocka_unit_test(plain_packet_is_copied_untouched),
	    cmocka_unit_test(refuses_what_it_cannot_split),
	    cmocka_unit_test_setup(merges_one_flow_into_a_super_packet, gro_setup),
	    cmocka_unit_test_setup(round_trip_split_of_a_merged_packet, gro_setup),
	    cmocka_unit_test_setup(interleaved_flows_merge_separately, gro_setup),
	    cmocka_unit_test_setup(out_of_order_is_not_merged, gro_setup),
	    cmocka_unit_test_setup(flags_other_than_ack_psh_are_not_merged, gro_setup),
	    cmocka_unit_test_setup(nothing_is_appended_after_psh_or_a_short_segment, gro_setup),
	    cmocka_unit_test_setup(different_options_ack_or_hop_limit_are_not_merged, gro_setup),
	    cmocka_unit_test_setup(bad_checksum_is_passed_on_alone, gro_setup),
	    cmocka_unit_test_setup(non_tcp_goes_straight_through, gro_setup),
	    cmocka_unit_test_setup(caps_a_super_packet_at_64k, gro_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
