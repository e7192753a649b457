/*
 * What the data path does to packets from the network before they reach
 * the TUN: MSS clamping and coalescing (and the split of what the TUN
 * hands over, on arbitrary headers).  Properties: a clamp changes at most
 * the option and the checksum and keeps a valid checksum valid; the
 * coalescer hands every packet on exactly once, within 64 KiB, and what it
 * merged splits back into segments that verify.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "mss.h"
#include "offload.h"

#define PKT_MAX 1400
#define PKTS    8

/* An independent Internet checksum over an IPv6 packet without extension headers. */
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

static int l4_ok(const uint8_t *p, size_t len)
{
	uint32_t s = 0, l4 = (uint32_t)(len - 40);

	for (size_t i = 8; i < 40; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	s += l4 + p[6];
	for (size_t i = 40; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static void check_clamp(const uint8_t *data, size_t size)
{
	static uint8_t p[PKT_MAX];
	size_t len = size < PKT_MAX ? size : PKT_MAX, changed = 0;
	int plain = len >= 60 && data[6] == 6 && (size_t)(data[4] << 8 | data[5]) + 40 == len;
	int was_ok = plain && l4_ok(data, len);

	memcpy(p, data, len);
	if (mss_clamp(p, len, 1220) == 0) {
		FUZZ_CHECK(memcmp(p, data, len) == 0);
		return;
	}
	for (size_t i = 0; i < len; i++)
		changed += p[i] != data[i];
	FUZZ_CHECK(changed <= 4);
	if (was_ok)
		FUZZ_CHECK(l4_ok(p, len));
}

struct sink {
	int packets;
	int emits;
};

static int emit(void *ctx, const struct offload_vnet *h, const struct iovec *iov, int iovcnt)
{
	static uint8_t buf[70000], seg[140000];
	struct sink *s = ctx;
	size_t len = 0, sl, ll;

	FUZZ_CHECK(iovcnt >= 1 && iovcnt <= OFFLOAD_SEGS_MAX);
	for (int i = 0; i < iovcnt; i++) {
		memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	s->packets += iovcnt;
	s->emits++;
	if (h->gso_type == OFFLOAD_GSO_NONE)
		return 0;
	FUZZ_CHECK(iovcnt >= 2 && len - 40 <= 65535);
	/* What the kernel would do with it: segments with valid checksums. */
	FUZZ_CHECK(offload_split(h, buf, len, seg, sizeof(seg), 0, OFFLOAD_SEGS_MAX, &sl, &ll) ==
	           iovcnt);
	for (int i = 0; i < iovcnt; i++)
		FUZZ_CHECK(l4_ok(seg + (size_t)i * sl, i + 1 < iovcnt ? sl : ll));
	return 0;
}

/* The input as up to PKTS packets: a length byte, then that many bytes (times 8). */
static void check_gro(const uint8_t *data, size_t size)
{
	static uint8_t pkts[PKTS][PKT_MAX * 2];
	static struct gro g;
	struct sink s = {0, 0};
	int n = 0;

	gro_init(&g, emit, &s);
	while (size > 1 && n < PKTS) {
		size_t len = (size_t)data[0] * 8;

		len = len > size - 1 ? size - 1 : len;
		memcpy(pkts[n], data + 1, len);
		FUZZ_CHECK(gro_add(&g, pkts[n], len) == 0);
		data += 1 + len;
		size -= 1 + len;
		n++;
	}
	FUZZ_CHECK(gro_flush(&g) == 0);
	FUZZ_CHECK(s.packets == n);
}

static void check_split(const uint8_t *data, size_t size)
{
	static uint8_t out[140000];
	struct offload_vnet h;
	size_t sl = 0, ll = 0;
	unsigned total = 0;
	int n;

	if (size < OFFLOAD_VNET_LEN)
		return;
	offload_vnet_get(data, &h);
	n = offload_split_from(&h, data + OFFLOAD_VNET_LEN, size - OFFLOAD_VNET_LEN, 0, out,
	                       sizeof(out), 44, OFFLOAD_SEGS_MAX, &sl, &ll, &total);
	if (n > 0)
		FUZZ_CHECK((size_t)(n - 1) * (44 + sl) + 44 + ll <= sizeof(out) && ll <= sl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_clamp(data, size);
	check_gro(data, size);
	check_split(data, size);
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A TCP/IPv6 segment (a SYN with MSS 1440 for some seeds) with a valid checksum. */
static size_t segment(uint8_t *p, uint32_t seq, uint8_t flags, size_t plen)
{
	size_t len = 40 + 24 + plen;
	uint32_t s = 0;

	memset(p, 0, len);
	p[0] = 0x60;
	put16(p + 4, (uint16_t)(len - 40));
	p[6] = 6;
	p[7] = 64;
	p[8] = 0x20;
	p[9] = 0x01;
	p[39] = 2;
	put16(p + 40, 40000);
	put16(p + 42, 80);
	p[44] = (uint8_t)(seq >> 24);
	p[45] = (uint8_t)(seq >> 16);
	p[46] = (uint8_t)(seq >> 8);
	p[47] = (uint8_t)seq;
	p[52] = 6 << 4;
	p[53] = flags;
	p[54] = 2;
	p[60] = 2;
	p[61] = 4;
	put16(p + 62, 1440);
	for (size_t i = 8; i < len; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < len ? p[i + 1] : 0));
	s += (uint32_t)(len - 40) + 6;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(p + 56, (uint16_t)~s);
	return len;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	uint32_t s = seed;
	size_t len = 0;
	unsigned n = 1 + fuzz_rand(&s) % 4;
	uint8_t pkt[PKT_MAX];

	if (fuzz_rand(&s) % 2)
		return cap >= 64 ? segment(buf, 1, 0x02, 0) : 0;
	/* Consecutive segments of one flow, each behind its length byte. */
	for (unsigned i = 0; i < n; i++) {
		size_t l = segment(pkt, 1 + i * 200, 0x10, 200 - 64 + 40 + 24);

		l = l / 8 * 8;
		if (len + 1 + l > cap)
			break;
		buf[len] = (uint8_t)(l / 8);
		memcpy(buf + len + 1, pkt, l);
		len += 1 + l;
	}
	return len;
}
