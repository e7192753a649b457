/* TUN offloads in user space: segmentation and coalescing (see offload.h).  Pure. */
#include "offload.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "wire.h"

#define IP6_LEN   40
#define TCP_MIN   20
#define UDP_LEN   8
#define TCP_FIN   0x01
#define TCP_PSH   0x08
#define TCP_ACK   0x10
#define TCP_CWR   0x80
#define IP6_MAXPL 65535

void offload_vnet_get(const uint8_t *p, struct offload_vnet *h)
{
	h->flags = p[0];
	h->gso_type = p[1];
	memcpy(&h->hdr_len, p + 2, 2);
	memcpy(&h->gso_size, p + 4, 2);
	memcpy(&h->csum_start, p + 6, 2);
	memcpy(&h->csum_offset, p + 8, 2);
}

void offload_vnet_put(uint8_t *p, const struct offload_vnet *h)
{
	p[0] = h->flags;
	p[1] = h->gso_type;
	memcpy(p + 2, &h->hdr_len, 2);
	memcpy(p + 4, &h->gso_size, 2);
	memcpy(p + 6, &h->csum_start, 2);
	memcpy(p + 8, &h->csum_offset, 2);
}

/*
 * The one's complement sum does not depend on byte order (RFC 1071): add
 * native 32-bit words in a 64-bit accumulator, fold, and swap the result
 * into network order once.  Odd lengths only at the end of a run.
 */
uint32_t offload_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	uint32_t w;
	uint16_t h;

	for (; len >= 16; p += 16, len -= 16) {
		uint32_t a, b, c, d;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		memcpy(&c, p + 8, 4);
		memcpy(&d, p + 12, 4);
		acc += (uint64_t)a + b + c + d;
	}
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		acc += w;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = {p[0], 0};

		memcpy(&h, last, 2);
		acc += h;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = ((acc & 0xff) << 8) | (acc >> 8);
#endif
	return sum + (uint32_t)acc;
}

uint16_t offload_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint32_t offload_pseudo6(const uint8_t *ip6, uint8_t proto, uint32_t len)
{
	return offload_csum_add(0, ip6 + 8, 32) + (len >> 16) + (len & 0xffff) + proto;
}

/* Checksum over [start, len) of pkt stored at start + field, finished (never 0). */
static void csum_finish(uint8_t *pkt, size_t len, size_t start, size_t field, uint32_t seed)
{
	uint16_t c = (uint16_t)~offload_csum_fold(offload_csum_add(seed, pkt + start, len - start));

	wire_put16(pkt + start + field, c ? c : 0xffff);
}

/* A plain packet whose checksum the kernel left to us (CHECKSUM_PARTIAL). */
static int complete_partial(const struct offload_vnet *h, uint8_t *pkt, size_t len)
{
	if (!(h->flags & OFFLOAD_F_NEEDS_CSUM))
		return 0;
	if (h->csum_start >= len || (size_t)h->csum_start + h->csum_offset + 2 > len)
		return -EINVAL;
	/* The field holds the pseudo header's sum: sum over it and finish. */
	csum_finish(pkt, len, h->csum_start, h->csum_offset, 0);
	return 0;
}

/* Length of the headers copied onto every segment; 0 when malformed. */
static size_t gso_hdr_len(const struct offload_vnet *h, const uint8_t *pkt, size_t len, bool tcp)
{
	size_t cs = h->csum_start, doff;

	/* Not h->hdr_len: kernels fill it in loosely; the headers themselves say. */
	if (cs < IP6_LEN || cs + (tcp ? TCP_MIN : UDP_LEN) > len)
		return 0;
	if (!tcp)
		return cs + UDP_LEN;
	doff = (size_t)(pkt[cs + 12] >> 4) * 4;
	if (doff < TCP_MIN || cs + doff > len)
		return 0;
	return cs + doff;
}

/* Fix up segment i of n (seg_len bytes at o) cut from a TCP or UDP super-packet. */
static void segment_fixup(uint8_t *o, size_t seg_len, size_t cs, bool tcp, unsigned i, unsigned n,
                          uint32_t seq0, uint16_t gso)
{
	size_t l4 = seg_len - cs;

	wire_put16(o + 4, (uint16_t)(seg_len - IP6_LEN));
	if (tcp) {
		uint8_t *t = o + cs;

		wire_put32(t + 4, seq0 + (uint32_t)i * gso);
		if (i + 1 < n)
			t[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (i > 0)
			t[13] &= (uint8_t)~TCP_CWR;
		wire_put16(t + 16, 0);
		csum_finish(o, seg_len, cs, 16, offload_pseudo6(o, IPPROTO_TCP, (uint32_t)l4));
	} else {
		wire_put16(o + cs + 4, (uint16_t)l4);
		wire_put16(o + cs + 6, 0);
		csum_finish(o, seg_len, cs, 6, offload_pseudo6(o, IPPROTO_UDP, (uint32_t)l4));
	}
}

static int split_plain(const struct offload_vnet *h, const uint8_t *pkt, size_t len, uint8_t *out,
                       size_t room, size_t headroom, size_t *seg_len, size_t *last_len)
{
	if (headroom + len > room)
		return -ENOSPC;
	memcpy(out + headroom, pkt, len);
	if (complete_partial(h, out + headroom, len) < 0)
		return -EINVAL;
	*seg_len = *last_len = len;
	return 1;
}

int offload_split_from(const struct offload_vnet *h, const uint8_t *pkt, size_t len, unsigned first,
                       uint8_t *out, size_t room, size_t headroom, unsigned max_segs,
                       size_t *seg_len, size_t *last_len, unsigned *total)
{
	uint8_t gso = h->gso_type & (uint8_t)~OFFLOAD_GSO_ECN;
	bool tcp = gso == OFFLOAD_GSO_TCPV6;
	size_t hdr, payload, full, stride, final;
	unsigned n, k;
	uint32_t seq0;

	if (len < IP6_LEN || (pkt[0] >> 4) != 6)
		return -EINVAL;
	if (gso == OFFLOAD_GSO_NONE) {
		*total = 1;
		if (first)
			return 0;
		return split_plain(h, pkt, len, out, room, headroom, seg_len, last_len);
	}
	if ((!tcp && gso != OFFLOAD_GSO_UDP_L4) || h->gso_size == 0)
		return -EINVAL;
	hdr = gso_hdr_len(h, pkt, len, tcp);
	if (!hdr || hdr >= len)
		return -EINVAL;
	payload = len - hdr;
	n = (unsigned)((payload + h->gso_size - 1) / h->gso_size);
	*total = n;
	if (first >= n)
		return 0;
	full = hdr + (payload < h->gso_size ? payload : h->gso_size);
	final = hdr + (payload - (size_t)(n - 1) * h->gso_size);
	stride = headroom + full;
	/* As many as fit, up to max_segs: the rest is for the next call. */
	k = n - first < max_segs ? n - first : max_segs;
	while (k > 0 &&
	       (size_t)(k - 1) * stride + headroom + (first + k == n ? final : full) > room)
		k--;
	if (k == 0)
		return -ENOSPC;
	*seg_len = full;
	*last_len = first + k == n ? final : full;
	seq0 = tcp ? wire_get32(pkt + h->csum_start + 4) : 0;
	for (unsigned i = first; i < first + k; i++) {
		uint8_t *o = out + (size_t)(i - first) * stride + headroom;
		size_t this = i + 1 < n ? full : final;

		memcpy(o, pkt, hdr);
		memcpy(o + hdr, pkt + hdr + (size_t)i * h->gso_size, this - hdr);
		segment_fixup(o, this, h->csum_start, tcp, i, n, seq0, h->gso_size);
	}
	return (int)k;
}

/* ---- coalescing ---- */

struct tcp_view {
	size_t doff;
	size_t plen;
	uint32_t seq;
	uint8_t flags;
};

static const uint8_t *tcp_of(const uint8_t *pkt)
{
	return pkt + IP6_LEN;
}

/*
 * A segment we may merge: bare IPv6 + TCP, ACK with or without PSH and
 * nothing else, data, no padding, and a checksum that verifies (a merged
 * packet gets a fresh one, which must not launder a corrupt segment).
 */
static bool gro_candidate(const uint8_t *pkt, size_t len, struct tcp_view *v)
{
	const uint8_t *t = tcp_of(pkt);

	if (len < IP6_LEN + TCP_MIN || (pkt[0] >> 4) != 6 || pkt[6] != IPPROTO_TCP ||
	    wire_get16(pkt + 4) != len - IP6_LEN)
		return false;
	v->doff = (size_t)(t[12] >> 4) * 4;
	v->flags = t[13];
	if (v->doff < TCP_MIN || IP6_LEN + v->doff >= len || (v->flags & ~TCP_PSH) != TCP_ACK)
		return false;
	v->plen = len - IP6_LEN - v->doff;
	v->seq = wire_get32(t + 4);
	return offload_csum_fold(offload_pseudo6(pkt, IPPROTO_TCP, (uint32_t)(len - IP6_LEN)) +
	                         offload_csum_add(0, t, len - IP6_LEN)) == 0xffff;
}

/* Same addresses and ports: the packets of one TCP flow. */
static int gro_find(const struct gro *g, const uint8_t *pkt, size_t len)
{
	if (len < IP6_LEN + 4 || pkt[6] != IPPROTO_TCP)
		return -1;
	for (int i = 0; i < g->nitems; i++)
		if (memcmp(g->items[i].head + 8, pkt + 8, 36) == 0)
			return i;
	return -1;
}

/* Everything but sequence, PSH and payload must be equal (what Linux's GRO checks). */
static bool gro_fits(const struct gro_item *it, const uint8_t *pkt, const struct tcp_view *v)
{
	const uint8_t *ht = tcp_of(it->head), *t = tcp_of(pkt);

	return !it->closed && it->n < OFFLOAD_SEGS_MAX && v->seq == it->next_seq &&
	       v->plen <= it->gso_size && it->total - IP6_LEN + v->plen <= IP6_MAXPL &&
	       it->hdr_len == IP6_LEN + v->doff && memcmp(it->head, pkt, 4) == 0 &&
	       it->head[7] == pkt[7] && memcmp(ht + 8, t + 8, 4) == 0 /* ack */ &&
	       memcmp(ht + 14, t + 14, 2) == 0 /* window */ &&
	       memcmp(ht + TCP_MIN, t + TCP_MIN, v->doff - TCP_MIN) == 0 /* options */;
}

static void gro_append(struct gro_item *it, uint8_t *pkt, const struct tcp_view *v)
{
	it->iov[it->n].iov_base = pkt + IP6_LEN + v->doff;
	it->iov[it->n].iov_len = v->plen;
	it->n++;
	it->total += v->plen;
	it->next_seq += (uint32_t)v->plen;
	if (v->plen < it->gso_size || (v->flags & TCP_PSH)) {
		it->closed = true;
		it->psh = it->psh || (v->flags & TCP_PSH);
	}
}

static void gro_start(struct gro_item *it, uint8_t *pkt, size_t len, const struct tcp_view *v)
{
	it->head = pkt;
	it->hdr_len = IP6_LEN + v->doff;
	it->total = len;
	it->next_seq = v->seq + (uint32_t)v->plen;
	it->gso_size = (uint16_t)v->plen;
	it->closed = false;
	it->psh = false;
	it->n = 1;
	it->iov[0].iov_base = pkt;
	it->iov[0].iov_len = len;
}

static int emit_plain(struct gro *g, uint8_t *pkt, size_t len)
{
	struct offload_vnet none = {0};
	struct iovec iov = {.iov_base = pkt, .iov_len = len};

	return g->emit(g->ctx, &none, &iov, 1);
}

/* Hand item i over and remove it from the table. */
static int gro_emit_item(struct gro *g, int i)
{
	struct gro_item *it = &g->items[i];
	struct offload_vnet h = {0};
	int err;

	if (it->n > 1) {
		uint8_t *t = it->head + IP6_LEN;
		uint32_t l4 = (uint32_t)(it->total - IP6_LEN);

		wire_put16(it->head + 4, (uint16_t)l4);
		if (it->psh)
			t[13] |= TCP_PSH;
		/* CHECKSUM_PARTIAL: the pseudo header's sum; the kernel adds the rest. */
		wire_put16(t + 16, offload_csum_fold(offload_pseudo6(it->head, IPPROTO_TCP, l4)));
		h.flags = OFFLOAD_F_NEEDS_CSUM;
		h.gso_type = OFFLOAD_GSO_TCPV6;
		h.hdr_len = (uint16_t)it->hdr_len;
		h.gso_size = it->gso_size;
		h.csum_start = IP6_LEN;
		h.csum_offset = 16;
		g->merged += (uint64_t)(it->n - 1);
	}
	err = g->emit(g->ctx, &h, it->iov, it->n);
	if (i != g->nitems - 1)
		*it = g->items[g->nitems - 1];
	g->nitems--;
	return err;
}

void gro_init(struct gro *g, gro_emit_fn emit, void *ctx)
{
	g->emit = emit;
	g->ctx = ctx;
	g->nitems = 0;
	g->merged = 0;
}

int gro_add(struct gro *g, uint8_t *pkt, size_t len)
{
	struct tcp_view v = {0};
	bool cand = gro_candidate(pkt, len, &v);
	int i = gro_find(g, pkt, len), err = 0;

	if (i >= 0) {
		if (cand && gro_fits(&g->items[i], pkt, &v)) {
			gro_append(&g->items[i], pkt, &v);
			return 0;
		}
		err = gro_emit_item(g, i); /* what came before it in its flow goes first */
	}
	/* A PSH segment ends a burst: nothing to wait for. */
	if (!cand || (v.flags & TCP_PSH)) {
		int e = emit_plain(g, pkt, len);

		return err < 0 ? err : e;
	}
	if (g->nitems == GRO_ITEMS) {
		int e = gro_emit_item(g, 0);

		err = err < 0 ? err : e;
	}
	gro_start(&g->items[g->nitems++], pkt, len, &v);
	return err;
}

int gro_flush(struct gro *g)
{
	int err = 0;

	while (g->nitems > 0) {
		int e = gro_emit_item(g, g->nitems - 1);

		if (e < 0 && err == 0)
			err = e;
	}
	return err;
}
