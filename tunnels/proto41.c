#include "proto41.h"

#include "datapath.h"
#include "offload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/ip.h>

int p41_open_raw(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPV6);

	if (fd < 0)
		return -errno;
	datapath_sockbuf(fd);
	return fd;
}

int p41_init(struct p41 *p, int tun_fd, int raw_fd, const struct tunnel_conf *tc,
             const struct in6_addr *link_local, struct tunnel_counters *c, unsigned tun_offloads)
{
	int err;

	memset(p, 0, sizeof(*p));
	err = dp_tun_init(&p->tun, tun_fd, tun_offloads, tunnel_mtu(tc), tc->mss_clamp, c);
	if (err < 0)
		return err;
	c->offload = (uint8_t)datapath_tun_offload_bits(p->tun.offloads);
	p->raw_fd = raw_fd;
	p->pop = tc->params.ipv4_pop;
	p->c = c;
	p->ours[0].addr = tc->params.ipv6_local;
	p->ours[0].len = tc->params.prefix_len;
	p->nours = 1;
	for (unsigned i = 0; i < tc->nrouted && i < TUNNEL_ROUTED_MAX; i++)
		p->ours[p->nours++] = tc->routed[i];
	p->link_local = *link_local;
	p->peer.sin_family = AF_INET;
	p->peer.sin_addr = p->pop;
	p->arena_len = (size_t)(p->tun.offloads ? P41_SEGS : P41_BATCH) * p->tun.mtu;
	p->buf = malloc((size_t)P41_BATCH * P41_SLOT);
	p->arena = malloc(p->arena_len);
	if (!p->buf || !p->arena) {
		p41_free(p);
		return -ENOMEM;
	}
	datapath_slots(p->msgs, p->iov, p->buf, P41_SLOT, P41_BATCH);
	datapath_slots(p->tx_msgs, p->tx_iov, p->arena, 0, P41_SEGS);
	for (int i = 0; i < P41_SEGS; i++) {
		p->tx_msgs[i].msg_hdr.msg_name = &p->peer;
		p->tx_msgs[i].msg_hdr.msg_namelen = sizeof(p->peer);
	}
	return 0;
}

void p41_free(struct p41 *p)
{
	dp_tun_free(&p->tun);
	free(p->buf);
	free(p->arena);
	p->buf = p->arena = NULL;
}

static bool in_ours(const struct p41 *p, const struct in6_addr *a)
{
	for (unsigned i = 0; i < p->nours; i++)
		if (tunnel_prefix_contains(&p->ours[i].addr, p->ours[i].len, a))
			return true;
	return false;
}

bool p41_ours(const struct p41 *p, const uint8_t *ip6)
{
	struct in6_addr src, dst;

	memcpy(&src, ip6 + 8, sizeof(src));
	memcpy(&dst, ip6 + 24, sizeof(dst));
	if (IN6_IS_ADDR_MULTICAST(&dst))
		return tunnel_prefix_contains(&p->ours[0].addr, p->ours[0].len, &src);
	if (IN6_IS_ADDR_LINKLOCAL(&dst))
		return memcmp(&dst, &p->link_local, sizeof(dst)) == 0;
	return in_ours(p, &dst);
}

const uint8_t *p41_decap(const uint8_t *dgram, size_t len, struct in_addr pop, size_t *inner_len,
                         enum drop_reason *drop)
{
	struct iphdr ip;
	size_t hlen;

	if (len < sizeof(ip)) {
		*drop = DROP_SHORT;
		return NULL;
	}
	memcpy(&ip, dgram, sizeof(ip));
	hlen = (size_t)ip.ihl * 4;
	if (ip.version != 4 || hlen < sizeof(ip) || hlen > len) {
		*drop = DROP_SHORT;
		return NULL;
	}
	if (ip.saddr != pop.s_addr) {
		*drop = DROP_FOREIGN;
		return NULL;
	}
	if (ip.protocol != IPPROTO_IPV6 || len - hlen < 40 || (dgram[hlen] >> 4) != 6) {
		*drop = DROP_PAYLOAD;
		return NULL;
	}
	*inner_len = len - hlen;
	return dgram + hlen;
}

/* ---- the socket filter (p41_filter_build) ---- */

/* The packet starts at the outer IPv4 header; X holds its length. */
#define F_IP6_SRC 8  /* + X: the inner source */
#define F_IP6_DST 24 /* + X: the inner destination */

struct fbuild {
	struct sock_filter *prog;
	size_t n;
};

static void emit(struct fbuild *b, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	b->prog[b->n++] = (struct sock_filter){code, jt, jf, k};
}

/* Instructions of prefix_match for a prefix of len bits. */
static size_t prefix_match_len(unsigned len)
{
	size_t n = 1; /* the ret */

	for (unsigned bit = 0; bit < len; bit += 32)
		n += len - bit >= 32 ? 2 : 3;
	return n;
}

/*
 * Accept when the address at X + off is in addr/len; otherwise go on
 * after these instructions.  Word by word: load, mask, compare, and on a
 * mismatch jump past the rest (forward jumps only, each short).
 */
static void prefix_match(struct fbuild *b, const struct in6_addr *addr, unsigned len, uint32_t off)
{
	size_t end = b->n + prefix_match_len(len);

	for (unsigned bit = 0; bit < len && bit < 128; bit += 32) {
		uint32_t word, mask = len - bit >= 32 ? 0xffffffffu : ~(0xffffffffu >> (len - bit));

		memcpy(&word, addr->s6_addr + bit / 8, sizeof(word));
		emit(b, BPF_LD | BPF_W | BPF_IND, 0, 0, off + bit / 8);
		if (mask != 0xffffffffu)
			emit(b, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
		emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(end - b->n - 1),
		     ntohl(word) & mask);
	}
	emit(b, BPF_RET | BPF_K, 0, 0, 0xffffffffu);
}

/* If the byte/half-word test at X + F_IP6_DST holds, only match decides. */
static void dst_class(struct fbuild *b, uint16_t size, uint32_t mask, uint32_t value,
                      const struct in6_addr *addr, unsigned len, uint32_t off)
{
	size_t body = prefix_match_len(len) + 1;

	emit(b, BPF_LD | size | BPF_IND, 0, 0, F_IP6_DST);
	emit(b, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask);
	emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)body, value);
	prefix_match(b, addr, len, off);
	emit(b, BPF_RET | BPF_K, 0, 0, 0); /* in the class, not ours */
}

size_t p41_filter_build(const struct p41 *p, struct sock_filter *prog)
{
	struct fbuild b = {prog, 0};

	/* What p41_decap drops, it must see to count: not from the PoP, short, not IPv6. */
	emit(&b, BPF_LD | BPF_W | BPF_ABS, 0, 0, 12); /* outer source */
	emit(&b, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, ntohl(p->pop.s_addr));
	emit(&b, BPF_RET | BPF_K, 0, 0, 0xffffffffu);
	emit(&b, BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0); /* X = outer header length */
	emit(&b, BPF_LD | BPF_W | BPF_LEN, 0, 0, 0);
	emit(&b, BPF_JMP | BPF_JGE | BPF_X, 1, 0, 0);
	emit(&b, BPF_RET | BPF_K, 0, 0, 0xffffffffu);
	emit(&b, BPF_ALU | BPF_SUB | BPF_X, 0, 0, 0);
	emit(&b, BPF_JMP | BPF_JGE | BPF_K, 1, 0, 40);
	emit(&b, BPF_RET | BPF_K, 0, 0, 0xffffffffu);
	emit(&b, BPF_LD | BPF_B | BPF_IND, 0, 0, 0);
	emit(&b, BPF_ALU | BPF_RSH | BPF_K, 0, 0, 4);
	emit(&b, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 6);
	emit(&b, BPF_RET | BPF_K, 0, 0, 0xffffffffu);
	/* p41_ours: multicast from our prefix, our own link-local, our prefixes. */
	dst_class(&b, BPF_B, 0xff, 0xff, &p->ours[0].addr, p->ours[0].len, F_IP6_SRC);
	dst_class(&b, BPF_H, 0xffc0, 0xfe80, &p->link_local, 128, F_IP6_DST);
	for (unsigned i = 0; i < p->nours; i++)
		prefix_match(&b, &p->ours[i].addr, p->ours[i].len, F_IP6_DST);
	emit(&b, BPF_RET | BPF_K, 0, 0, 0);
	return b.n;
}

int p41_filter_attach(struct p41 *p)
{
	struct sock_filter prog[P41_FILTER_MAX];
	struct sock_fprog fp = {.filter = prog};

	fp.len = (unsigned short)p41_filter_build(p, prog);
	if (setsockopt(p->raw_fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0)
		return -errno;
	return 0;
}

/* Send what is queued; the kernel builds each packet's IPv4 header. */
static void flush_tx(struct p41 *p)
{
	for (int off = 0; off < p->ntx;) {
		int sent = sendmmsg(p->raw_fd, p->tx_msgs + off, (unsigned)(p->ntx - off), 0);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			p->c->drops[DROP_SEND] += (uint64_t)(p->ntx - off);
			break;
		}
		for (int i = off; i < off + sent; i++) {
			p->c->tx_packets++;
			p->c->tx_bytes += p->tx_iov[i].iov_len;
		}
		off += sent;
	}
	p->ntx = 0;
}

int p41_from_tun(struct p41 *p)
{
	size_t used = 0, need = dp_tun_read_room(&p->tun, 0);
	int handled = 0, err = 0;

	/* (a super-packet begun is finished: the TUN may not wake us for its rest) */
	while (handled < DATAPATH_TUN_READS || dp_tun_pending(&p->tun)) {
		size_t seg = 0, last = 0;
		int n;

		if (p->arena_len - used < need || p->ntx + OFFLOAD_SEGS_MAX > P41_SEGS) {
			flush_tx(p);
			used = 0;
		}
		n = dp_tun_read(&p->tun, p->arena + used, p->arena_len - used, 0, &seg, &last);
		if (n < 0) {
			if (n != -EAGAIN)
				err = n;
			break;
		}
		handled++;
		/* One raw datagram per segment: raw sockets have no segmentation offload. */
		for (int i = 0; i < n; i++) {
			p->tx_iov[p->ntx].iov_base = p->arena + used;
			p->tx_iov[p->ntx].iov_len = i + 1 < n ? seg : last;
			used += p->tx_iov[p->ntx].iov_len;
			p->ntx++;
		}
	}
	if (p->ntx)
		flush_tx(p);
	if (handled >= DATAPATH_TUN_READS)
		p->tun.more = true;
	return err ? err : handled;
}

/* One receive call's worth: up to P41_BATCH datagrams, delivered and flushed to the TUN. */
static int from_raw_once(struct p41 *p)
{
	int n;

	do
		n = recvmmsg(p->raw_fd, p->msgs, P41_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n > 0)
		p->c->rx_calls++;
	p->c->rx_datagrams += (uint64_t)n;
	for (int i = 0; i < n; i++) {
		enum drop_reason why;
		size_t len;
		const uint8_t *inner =
		    p41_decap(p->iov[i].iov_base, p->msgs[i].msg_len, p->pop, &len, &why);

		if (!inner) {
			p->c->drops[why]++;
			continue;
		}
		if (!p41_ours(p, inner)) {
			p->c->other_tunnel++; /* another tunnel's socket takes it: no drop */
			continue;
		}
		/* The slot is ours until the next receive: clamp and coalesce in place. */
		dp_tun_deliver(
		    &p->tun,
		    (uint8_t *)p->iov[i].iov_base + (inner - (uint8_t *)p->iov[i].iov_base), len);
	}
	dp_tun_flush(&p->tun);
	return n;
}

int p41_from_raw(struct p41 *p)
{
	int total = 0, n;

	/* A full batch leaves more waiting: take it now rather than after another poll. */
	for (int round = 0; round < DATAPATH_RX_ROUNDS; round++) {
		n = from_raw_once(p);
		if (n < 0)
			return total ? total : n;
		total += n;
		if (n < P41_BATCH)
			return total;
	}
	p->tun.more = true;
	return total;
}
