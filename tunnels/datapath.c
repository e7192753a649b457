#include "datapath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/uio.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#include "ayiya.h"
#include "mss.h"
#include "netcfg.h"
#include "offload.h"
#include "replay.h"

/* Socket buffers sized for bursts: the default (~200 KiB) lost ~10% at speed. */
#define DATAPATH_SOCKBUF (4 * 1024 * 1024)
/* Largest datagram we accept from the PoP: a tunnel MTU up to 8 KiB. */
#define DATAPATH_RX_SLOT (8192 + AYIYA_HDR_LEN)
/* A UDP_GRO buffer: up to 64 KiB of datagrams. */
#define DATAPATH_GRO_SLOT 65536
/* The largest UDP payload one IPv4 datagram (so one UDP_SEGMENT send) carries. */
#define UDP_MAX_PAYLOAD (65535 - 20 - 8)
/* The kernel's UDP_MAX_SEGMENTS. */
#define UDP_SEGS_MAX 64
/* One read from an offloaded TUN: the header and an IPv6 packet of 64 KiB. */
#define TUN_READ_MAX (OFFLOAD_VNET_LEN + 40 + 65535)

static const char *const drop_names[DROP_REASON_COUNT] = {
    [DROP_SHORT] = "short",
    [DROP_HEADER] = "header",
    [DROP_IDENTITY] = "identity",
    [DROP_CLOCK] = "clock",
    [DROP_SIGNATURE] = "signature",
    [DROP_PAYLOAD] = "payload",
    [DROP_TUN_NOT_IPV6] = "tun_not_ipv6",
    [DROP_TUN_WRITE] = "tun_write",
    [DROP_SEND] = "send",
    [DROP_OTHER_OPCODE] = "other_opcode",
    [DROP_OVERSIZE] = "oversize",
    [DROP_FOREIGN] = "foreign_source",
    [DROP_SEGMENT] = "unsplittable",
    [DROP_REPLAY] = "replay",
};

bool datapath_link_local_source(const uint8_t *ip6, size_t len)
{
	/* fe80::/10, source address at bytes 8..23 of the IPv6 header */
	return len >= 40 && ip6[8] == 0xfe && (ip6[9] & 0xc0) == 0x80;
}

const char *drop_reason_name(enum drop_reason r)
{
	if ((unsigned)r >= DROP_REASON_COUNT)
		return "unknown";
	return drop_names[r];
}

static enum drop_reason drop_from_verdict(enum ayiya_verdict v)
{
	switch (v) {
	case AYIYA_ERR_SHORT:
		return DROP_SHORT;
	case AYIYA_ERR_HEADER:
		return DROP_HEADER;
	case AYIYA_ERR_IDENTITY:
		return DROP_IDENTITY;
	case AYIYA_ERR_CLOCK:
		return DROP_CLOCK;
	case AYIYA_ERR_SIGNATURE:
		return DROP_SIGNATURE;
	default:
		return DROP_PAYLOAD;
	}
}

void datapath_sockbuf(int fd)
{
	int size = DATAPATH_SOCKBUF;

	/* FORCE variants pass rmem_max as root; fall back to the capped ones. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

double dp_pace(struct dp_pace *p, uint64_t moved, bool more)
{
	uint64_t n = moved - p->last;

	p->last = moved;
	if (n >= DP_PACE_BUSY)
		p->busy = true;
	else if (n <= DP_PACE_IDLE)
		p->busy = false;
	return p->busy && !more ? DP_PACE_HOLDOFF : 0.;
}

void datapath_slots(struct mmsghdr *msgs, struct iovec *iov, uint8_t *buf, size_t slot, int n)
{
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = buf + (size_t)i * slot;
		iov[i].iov_len = slot;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
}

int datapath_udp_open(const struct in_addr *pop, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = *pop};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	datapath_sockbuf(fd);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

const char *datapath_offload_name(unsigned bits, char *buf, size_t len)
{
	static const char *const names[] = {"tun-tso", "tun-uso", "udp-gso", "udp-gro"};
	size_t used = 0;

	if (!len)
		return "";
	buf[0] = '\0';
	for (unsigned i = 0; i < 4; i++)
		if ((bits & (1u << i)) && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
			                         names[i]);
	return buf[0] ? buf : "plain";
}

unsigned datapath_tun_offload_bits(unsigned tun_offloads)
{
	return ((tun_offloads & NETCFG_TUN_TSO) ? COUNTERS_OFFLOAD_TUN_TSO : 0) |
	       ((tun_offloads & NETCFG_TUN_USO) ? COUNTERS_OFFLOAD_TUN_USO : 0);
}

/* ---- the TUN side ---- */

/* gro_emit_fn: one (super-)packet into the TUN, behind its virtio-net header. */
static int tun_emit(void *ctx, const struct offload_vnet *h, const struct iovec *iov, int iovcnt)
{
	struct dp_tun *t = ctx;
	struct iovec v[1 + OFFLOAD_SEGS_MAX];
	uint8_t hdr[OFFLOAD_VNET_LEN];
	size_t want = OFFLOAD_VNET_LEN, bytes;

	offload_vnet_put(hdr, h);
	v[0].iov_base = hdr;
	v[0].iov_len = sizeof(hdr);
	for (int i = 0; i < iovcnt; i++) {
		v[1 + i] = iov[i];
		want += iov[i].iov_len;
	}
	t->c->tun_writes++;
	t->c->tun_packets += (uint64_t)iovcnt;
	if (writev(t->fd, v, iovcnt + 1) != (ssize_t)want) {
		t->c->drops[DROP_TUN_WRITE] += (uint64_t)iovcnt;
		return 0;
	}
	/* Counted as the packets that came in: each segment with its headers. */
	bytes = want - OFFLOAD_VNET_LEN + (size_t)(iovcnt - 1) * h->hdr_len;
	t->c->rx_packets += (uint64_t)iovcnt;
	t->c->rx_bytes += bytes;
	return 0;
}

int dp_tun_init(struct dp_tun *t, int fd, unsigned offloads, uint32_t mtu, bool mss_clamp,
                struct tunnel_counters *c)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->offloads = offloads & NETCFG_TUN_VNET ? offloads : 0;
	t->mtu = mtu > 1280 ? mtu : 1280;
	t->mss = mss_clamp ? MSS_FOR_MTU(t->mtu) : 0;
	t->c = c;
	if (!t->offloads)
		return 0;
	t->rd = malloc(TUN_READ_MAX);
	t->gro = malloc(sizeof(*t->gro));
	if (!t->rd || !t->gro) {
		dp_tun_free(t);
		return -ENOMEM;
	}
	gro_init(t->gro, tun_emit, t);
	return 0;
}

void dp_tun_free(struct dp_tun *t)
{
	free(t->rd);
	free(t->gro);
	t->rd = NULL;
	t->gro = NULL;
}

size_t dp_tun_read_room(const struct dp_tun *t, size_t headroom)
{
	return (t->offloads ? OFFLOAD_SEGS_MAX : 1) * (headroom + t->mtu);
}

/* A SYN is never a super-packet: only single packets are looked at. */
static void clamp(struct dp_tun *t, uint8_t *pkt, size_t len, uint64_t *count)
{
	if (t->mss && mss_clamp(pkt, len, t->mss))
		(*count)++;
}

/* Plain TUN: the packet lands where its AYIYA header (headroom) ends; no copy. */
static int tun_read_plain(struct dp_tun *t, uint8_t *out, size_t room, size_t headroom,
                          size_t *seg_len, size_t *last_len)
{
	ssize_t n = read(t->fd, out + headroom, room - headroom);

	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	if (n < 40 || (out[headroom] >> 4) != 6) {
		t->c->drops[DROP_TUN_NOT_IPV6]++;
		return 0;
	}
	if (datapath_link_local_source(out + headroom, (size_t)n)) {
		t->c->link_local_suppressed++;
		return 0;
	}
	*seg_len = *last_len = (size_t)n;
	clamp(t, out + headroom, (size_t)n, &t->c->mss_clamped_tx);
	return 1;
}

/* Lay out the next part of the packet in rd; a part that cannot be split drops it all. */
static int tun_segments(struct dp_tun *t, uint8_t *out, size_t room, size_t headroom,
                        size_t *seg_len, size_t *last_len)
{
	struct offload_vnet h;
	unsigned total = 0;
	int segs;

	offload_vnet_get(t->rd, &h);
	segs =
	    offload_split_from(&h, t->rd + OFFLOAD_VNET_LEN, t->rd_len - OFFLOAD_VNET_LEN, t->next,
	                       out, room, headroom, OFFLOAD_SEGS_MAX, seg_len, last_len, &total);
	if (segs <= 0 || *seg_len > t->mtu) {
		t->next = 0;
		t->c->drops[DROP_SEGMENT]++;
		return 0;
	}
	t->next += (unsigned)segs;
	if (t->next >= total)
		t->next = 0;
	if (total == 1)
		clamp(t, out + headroom, *seg_len, &t->c->mss_clamped_tx);
	return segs;
}

int dp_tun_read(struct dp_tun *t, uint8_t *out, size_t room, size_t headroom, size_t *seg_len,
                size_t *last_len)
{
	ssize_t n;

	if (!t->offloads)
		return tun_read_plain(t, out, room, headroom, seg_len, last_len);
	if (t->next)
		return tun_segments(t, out, room, headroom, seg_len, last_len);
	n = read(t->fd, t->rd, TUN_READ_MAX);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	if (n < OFFLOAD_VNET_LEN + 40 || (t->rd[OFFLOAD_VNET_LEN] >> 4) != 6) {
		t->c->drops[DROP_TUN_NOT_IPV6]++;
		return 0;
	}
	if (datapath_link_local_source(t->rd + OFFLOAD_VNET_LEN, (size_t)n - OFFLOAD_VNET_LEN)) {
		t->c->link_local_suppressed++;
		return 0;
	}
	t->rd_len = (size_t)n;
	return tun_segments(t, out, room, headroom, seg_len, last_len);
}

void dp_tun_deliver(struct dp_tun *t, uint8_t *pkt, size_t len)
{
	clamp(t, pkt, len, &t->c->mss_clamped_rx);
	if (t->offloads) {
		gro_add(t->gro, pkt, len);
		return;
	}
	t->c->tun_writes++;
	t->c->tun_packets++;
	if (write(t->fd, pkt, len) != (ssize_t)len) {
		t->c->drops[DROP_TUN_WRITE]++;
		return;
	}
	t->c->rx_packets++;
	t->c->rx_bytes += len;
}

void dp_tun_flush(struct dp_tun *t)
{
	if (t->offloads)
		gro_flush(t->gro);
}

/* ---- AYIYA ---- */

/* Whether the kernel takes UDP_SEGMENT on this socket (Linux 4.18). */
static bool udp_gso_probe(int fd)
{
	int size = 1280;

	if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof(size)) < 0)
		return false;
	size = 0; /* a default size per socket is not what we want: per send */
	setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof(size));
	return true;
}

static bool udp_gro_enable(int fd)
{
	int on = 1;

	return setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0;
}

static void rx_setup(struct datapath *dp)
{
	dp->rx_slot = dp->udp_gro ? DATAPATH_GRO_SLOT : DATAPATH_RX_SLOT;
	dp->rx_n = dp->udp_gro ? DATAPATH_GRO_BUFS : DATAPATH_BATCH;
}

int datapath_init(struct datapath *dp, int tun_fd, int udp_fd, const struct tunnel_params *p,
                  uint32_t mtu, struct tunnel_counters *c, unsigned tun_offloads, bool udp_offload,
                  bool mss_clamp)
{
	int err;

	memset(dp, 0, sizeof(*dp));
	dp->c = c;
	dp->udp_fd = udp_fd;
	dp->local = p->ipv6_local;
	dp->pop = p->ipv6_pop;
	err = dp_tun_init(&dp->tun, tun_fd, tun_offloads, mtu, mss_clamp, c);
	if (err < 0)
		return err;
	dp->udp_gso = udp_offload && udp_gso_probe(udp_fd);
	dp->udp_gro = udp_offload && udp_gro_enable(udp_fd);
	c->offload = (uint8_t)(datapath_tun_offload_bits(dp->tun.offloads) |
	                       (dp->udp_gso ? COUNTERS_OFFLOAD_UDP_GSO : 0) |
	                       (dp->udp_gro ? COUNTERS_OFFLOAD_UDP_GRO : 0));
	rx_setup(dp);
	dp->arena_len = (size_t)(dp->tun.offloads ? DATAPATH_SEGS : DATAPATH_BATCH) *
	                (AYIYA_HDR_LEN + dp->tun.mtu);
	dp->ay = ayiya_new(p->password);
	dp->arena = malloc(dp->arena_len);
	dp->rx_buf = malloc((size_t)dp->rx_n * dp->rx_slot);
	dp->replay = calloc(1, sizeof(*dp->replay));
	if (!dp->ay || !dp->arena || !dp->rx_buf || !dp->replay) {
		datapath_free(dp);
		return -ENOMEM;
	}
	datapath_slots(dp->rx_msgs, dp->rx_iov, dp->rx_buf, dp->rx_slot, dp->rx_n);
	for (int i = 0; i < DATAPATH_MSGS; i++) {
		dp->tx_msgs[i].msg_hdr.msg_iov = &dp->tx_iov[i];
		dp->tx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

void datapath_free(struct datapath *dp)
{
	ayiya_free(dp->ay);
	dp_tun_free(&dp->tun);
	free(dp->arena);
	free(dp->rx_buf);
	free(dp->replay);
	dp->ay = NULL;
	dp->arena = dp->rx_buf = NULL;
	dp->replay = NULL;
}

/* Queue one message: segs datagrams of dgram bytes (the last one may be shorter). */
static void queue_msg(struct datapath *dp, uint8_t *base, size_t bytes, unsigned segs, size_t dgram)
{
	struct msghdr *m = &dp->tx_msgs[dp->ntx].msg_hdr;

	dp->tx_iov[dp->ntx].iov_base = base;
	dp->tx_iov[dp->ntx].iov_len = bytes;
	dp->tx_segs[dp->ntx] = (uint16_t)segs;
	dp->tx_dgram[dp->ntx] = (uint16_t)dgram;
	m->msg_control = NULL;
	m->msg_controllen = 0;
	if (segs > 1) {
		struct cmsghdr *cm = (struct cmsghdr *)dp->tx_cmsg[dp->ntx].buf;
		uint16_t size = (uint16_t)dgram;

		m->msg_control = cm;
		m->msg_controllen = CMSG_SPACE(sizeof(size));
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(size));
		memcpy(CMSG_DATA(cm), &size, sizeof(size));
	}
	dp->ntx++;
}

/*
 * n sealed datagrams at base, dgram bytes apart, the last one last bytes:
 * runs of equal-size datagrams as UDP_SEGMENT messages, or one message each.
 */
static void queue_segments(struct datapath *dp, uint8_t *base, unsigned n, size_t dgram,
                           size_t last)
{
	unsigned per = 1;

	if (dp->udp_gso) {
		per = (unsigned)(UDP_MAX_PAYLOAD / dgram);
		per = per > UDP_SEGS_MAX ? UDP_SEGS_MAX : per;
	}
	for (unsigned i = 0; i < n; i += per) {
		unsigned k = n - i < per ? n - i : per;
		size_t bytes = (size_t)(k - 1) * dgram + (i + k == n ? last : dgram);

		queue_msg(dp, base + (size_t)i * dgram, bytes, k, dgram);
	}
}

/* Message m datagram by datagram: what a UDP_SEGMENT send would have put on the wire. */
static int send_unsegmented(struct datapath *dp, int m)
{
	struct mmsghdr one[UDP_SEGS_MAX];
	struct iovec iov[UDP_SEGS_MAX];
	uint8_t *p = dp->tx_iov[m].iov_base;
	size_t left = dp->tx_iov[m].iov_len, dgram = dp->tx_dgram[m];
	int k = 0, sent;

	memset(one, 0, sizeof(one));
	for (; left && k < UDP_SEGS_MAX; k++) {
		size_t l = left < dgram ? left : dgram;

		iov[k].iov_base = p;
		iov[k].iov_len = l;
		one[k].msg_hdr.msg_iov = &iov[k];
		one[k].msg_hdr.msg_iovlen = 1;
		p += l;
		left -= l;
	}
	do
		sent = sendmmsg(dp->udp_fd, one, (unsigned)k, 0);
	while (sent < 0 && errno == EINTR);
	return sent < 0 ? 0 : sent;
}

/* The kernel refused UDP_SEGMENT (a route through a device without checksum
 * offload): the rest of the batch and everything after go datagram by datagram. */
static void gso_refused(struct datapath *dp, int from)
{
	dp->udp_gso = false;
	dp->c->offload &= (uint8_t)~COUNTERS_OFFLOAD_UDP_GSO;
	for (int m = from; m < dp->ntx; m++) {
		int sent = send_unsegmented(dp, m);

		dp->c->tx_packets += (uint64_t)sent;
		dp->c->drops[DROP_SEND] += (uint64_t)(dp->tx_segs[m] - sent);
		dp->c->tx_bytes += dp->tx_iov[m].iov_len - (size_t)dp->tx_segs[m] * AYIYA_HDR_LEN;
	}
}

/* Send the queued messages; what the socket refuses is counted as dropped. */
static void flush_tx(struct datapath *dp)
{
	int off = 0, n = dp->ntx;

	while (off < n) {
		int sent = sendmmsg(dp->udp_fd, dp->tx_msgs + off, (unsigned)(n - off), 0);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			if (dp->udp_gso && (errno == EIO || errno == EINVAL)) {
				gso_refused(dp, off);
				break;
			}
			for (int i = off; i < n; i++)
				dp->c->drops[DROP_SEND] += dp->tx_segs[i];
			break;
		}
		for (int i = off; i < off + sent; i++) {
			dp->c->tx_packets += dp->tx_segs[i];
			dp->c->tx_bytes +=
			    dp->tx_iov[i].iov_len - (size_t)dp->tx_segs[i] * AYIYA_HDR_LEN;
		}
		off += sent;
	}
	dp->ntx = 0;
}

/* Seal n segments laid out by dp_tun_read; 0 if sealing failed (nothing valid to send). */
static int seal_segments(struct datapath *dp, uint8_t *base, int n, size_t seg, size_t last,
                         uint32_t now)
{
	for (int i = 0; i < n; i++) {
		uint8_t *d = base + (size_t)i * (AYIYA_HDR_LEN + seg);

		if (!ayiya_seal(dp->ay, d, i + 1 < n ? seg : last, AYIYA_OP_FORWARD, AYIYA_NH_IPV6,
		                &dp->local, now))
			return 0;
	}
	return 1;
}

int datapath_from_tun(struct datapath *dp, uint32_t now)
{
	size_t used = 0, need = dp_tun_read_room(&dp->tun, AYIYA_HDR_LEN);
	int handled = 0, err = 0;

	/* (a super-packet begun is finished: the TUN may not wake us for its rest) */
	while (handled < DATAPATH_TUN_READS || dp_tun_pending(&dp->tun)) {
		size_t seg = 0, last = 0;
		int n;

		if (dp->arena_len - used < need || dp->ntx + OFFLOAD_SEGS_MAX > DATAPATH_MSGS) {
			flush_tx(dp);
			used = 0;
		}
		n = dp_tun_read(&dp->tun, dp->arena + used, dp->arena_len - used, AYIYA_HDR_LEN,
		                &seg, &last);
		if (n < 0) {
			if (n != -EAGAIN)
				err = n;
			break;
		}
		handled++;
		if (n == 0)
			continue;
		if (!seal_segments(dp, dp->arena + used, n, seg, last, now)) {
			dp->c->drops[DROP_SEND] += (uint64_t)n;
			continue;
		}
		queue_segments(dp, dp->arena + used, (unsigned)n, AYIYA_HDR_LEN + seg,
		               AYIYA_HDR_LEN + last);
		used += (size_t)(n - 1) * (AYIYA_HDR_LEN + seg) + AYIYA_HDR_LEN + last;
	}
	if (dp->ntx)
		flush_tx(dp);
	if (handled >= DATAPATH_TUN_READS)
		dp->tun.more = true;
	return err ? err : handled;
}

/* After the signature verified: drop what the PoP already sent (replay.h). */
static bool fresh(struct datapath *dp, const uint8_t *pkt, uint32_t epoch)
{
	if (replay_check(dp->replay, pkt + AYIYA_HDR_LEN - AYIYA_SIG_LEN, epoch) == REPLAY_OK)
		return true;
	dp->c->drops[DROP_REPLAY]++;
	return false;
}

static void deliver(struct datapath *dp, uint8_t *pkt, size_t len, uint32_t now)
{
	struct ayiya_view v;
	enum ayiya_verdict verdict = ayiya_open(dp->ay, pkt, len, &dp->pop, 128, now, &v);

	if (verdict != AYIYA_OK) {
		dp->c->drops[drop_from_verdict(verdict)]++;
		return;
	}
	if (!fresh(dp, pkt, v.epoch))
		return;
	if (v.opcode == AYIYA_OP_NOOP)
		return;
	if ((v.opcode != AYIYA_OP_FORWARD && v.opcode != AYIYA_OP_ECHO_REQUEST_FORWARD) ||
	    v.next_header != AYIYA_NH_IPV6) {
		dp->c->drops[DROP_OTHER_OPCODE]++;
		return;
	}
	/* v.payload points into pkt, which is ours to change (the clamp, coalescing). */
	dp_tun_deliver(&dp->tun, pkt + (v.payload - pkt), v.payload_len);
}

/* The size of the datagrams a UDP_GRO buffer holds; the whole length if not coalesced. */
static size_t gro_segment_size(const struct msghdr *m, size_t len)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR((struct msghdr *)m, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int size;

			memcpy(&size, CMSG_DATA(cm), sizeof(size));
			return size > 0 ? (size_t)size : len;
		}
	}
	return len;
}

/* One receive call's worth: up to rx_n messages, delivered and flushed to the TUN. */
static int from_udp_once(struct datapath *dp, uint32_t now)
{
	int n;

	for (int i = 0; i < dp->rx_n; i++) {
		dp->rx_msgs[i].msg_hdr.msg_control = dp->udp_gro ? dp->rx_cmsg[i].buf : NULL;
		dp->rx_msgs[i].msg_hdr.msg_controllen =
		    dp->udp_gro ? sizeof(dp->rx_cmsg[i].buf) : 0;
	}
	do
		n = recvmmsg(dp->udp_fd, dp->rx_msgs, (unsigned)dp->rx_n, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* ICMP errors (port unreachable) surface here on a connected socket. */
		if (errno == EAGAIN || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
		    errno == ENETUNREACH)
			return 0;
		return -errno;
	}
	if (n > 0)
		dp->c->rx_calls++;
	for (int i = 0; i < n; i++) {
		uint8_t *buf = dp->rx_iov[i].iov_base;
		size_t len = dp->rx_msgs[i].msg_len, size;

		if (dp->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			dp->c->drops[DROP_OVERSIZE]++;
			continue;
		}
		size = gro_segment_size(&dp->rx_msgs[i].msg_hdr, len);
		for (size_t off = 0; off < len; off += size) {
			dp->c->rx_datagrams++;
			deliver(dp, buf + off, len - off < size ? len - off : size, now);
		}
	}
	dp_tun_flush(&dp->tun);
	return n;
}

int datapath_from_udp(struct datapath *dp, uint32_t now)
{
	int total = 0, n;

	/* A full batch leaves more waiting: take it now rather than after another poll. */
	for (int round = 0; round < DATAPATH_RX_ROUNDS; round++) {
		n = from_udp_once(dp, now);
		if (n < 0)
			return total ? total : n;
		total += n;
		if (n < dp->rx_n)
			return total;
	}
	dp->tun.more = true;
	return total;
}

int datapath_keepalive(struct datapath *dp, uint32_t now)
{
	uint8_t pkt[AYIYA_HDR_LEN];
	size_t len = ayiya_seal(dp->ay, pkt, 0, AYIYA_OP_NOOP, AYIYA_NH_NONE, &dp->local, now);

	if (len == 0)
		return -EIO;
	if (send(dp->udp_fd, pkt, len, 0) < 0) {
		dp->c->drops[DROP_SEND]++;
		return -errno;
	}
	dp->c->keepalives++;
	return 0;
}
