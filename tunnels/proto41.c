#include "proto41.h"

#include "datapath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
             const struct in6_addr *link_local, struct tunnel_counters *c)
{
	memset(p, 0, sizeof(*p));
	p->tun_fd = tun_fd;
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
	p->buf = malloc((size_t)P41_BATCH * P41_SLOT);
	if (!p->buf)
		return -ENOMEM;
	datapath_slots(p->msgs, p->iov, p->buf, P41_SLOT, P41_BATCH);
	return 0;
}

void p41_free(struct p41 *p)
{
	free(p->buf);
	p->buf = NULL;
}

static bool prefix_match(const struct in6_addr *a, const struct in6_addr *b, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	if (len > 128)
		return false;
	if (memcmp(a, b, full) != 0)
		return false;
	return !rest || ((a->s6_addr[full] ^ b->s6_addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static bool in_ours(const struct p41 *p, const struct in6_addr *a)
{
	for (unsigned i = 0; i < p->nours; i++)
		if (prefix_match(&p->ours[i].addr, a, p->ours[i].len))
			return true;
	return false;
}

bool p41_ours(const struct p41 *p, const uint8_t *ip6)
{
	struct in6_addr src, dst;

	memcpy(&src, ip6 + 8, sizeof(src));
	memcpy(&dst, ip6 + 24, sizeof(dst));
	if (IN6_IS_ADDR_MULTICAST(&dst))
		return prefix_match(&p->ours[0].addr, &src, p->ours[0].len);
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

int p41_from_tun(struct p41 *p)
{
	int queued = 0, handled = 0, err = 0;

	while (queued < P41_BATCH) {
		uint8_t *pkt = p->iov[queued].iov_base;
		ssize_t n = read(p->tun_fd, pkt, P41_SLOT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				err = -errno;
			break;
		}
		handled++;
		if (n < 40 || (pkt[0] >> 4) != 6) {
			p->c->drops[DROP_TUN_NOT_IPV6]++;
			continue;
		}
		if (datapath_link_local_source(pkt, (size_t)n)) {
			p->c->drops[DROP_LINK_LOCAL]++;
			continue;
		}
		p->iov[queued].iov_len = (size_t)n;
		p->msgs[queued].msg_hdr.msg_name = &p->peer;
		p->msgs[queued].msg_hdr.msg_namelen = sizeof(p->peer);
		queued++;
	}
	for (int off = 0; off < queued;) {
		int sent = sendmmsg(p->raw_fd, p->msgs + off, (unsigned)(queued - off), 0);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			p->c->drops[DROP_SEND] += (uint64_t)(queued - off);
			break;
		}
		for (int i = off; i < off + sent; i++) {
			p->c->tx_packets++;
			p->c->tx_bytes += p->iov[i].iov_len;
		}
		off += sent;
	}
	/* The slots double as receive buffers: restore their full size. */
	for (int i = 0; i < queued; i++) {
		p->iov[i].iov_len = P41_SLOT;
		p->msgs[i].msg_hdr.msg_name = NULL;
		p->msgs[i].msg_hdr.msg_namelen = 0;
	}
	return err ? err : handled;
}

int p41_from_raw(struct p41 *p)
{
	int n;

	do
		n = recvmmsg(p->raw_fd, p->msgs, P41_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
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
			p->c->drops[DROP_OTHER_TUNNEL]++; /* another tunnel's socket takes it */
			continue;
		}
		if (write(p->tun_fd, inner, len) != (ssize_t)len) {
			p->c->drops[DROP_TUN_WRITE]++;
			continue;
		}
		p->c->rx_packets++;
		p->c->rx_bytes += len;
	}
	return n;
}
