#include "datapath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "ayiya.h"
#include "replay.h"

/* Socket buffers sized for bursts: the default (~200 KiB) lost ~10% at speed. */
#define DATAPATH_SOCKBUF (4 * 1024 * 1024)
/* Largest datagram we accept from the PoP: a tunnel MTU up to 8 KiB. */
#define DATAPATH_RX_SLOT (8192 + AYIYA_HDR_LEN)

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
    [DROP_OTHER_TUNNEL] = "other_tunnel",
    [DROP_REPLAY] = "replay",
};

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

int datapath_init(struct datapath *dp, int tun_fd, int udp_fd, const struct tunnel_params *p,
                  uint32_t mtu, struct tunnel_counters *c)
{
	memset(dp, 0, sizeof(*dp));
	dp->c = c;
	dp->tun_fd = tun_fd;
	dp->udp_fd = udp_fd;
	dp->local = p->ipv6_local;
	dp->pop = p->ipv6_pop;
	dp->slot = AYIYA_HDR_LEN + (mtu > 1280 ? mtu : 1280);
	dp->ay = ayiya_new(p->password);
	dp->tx_buf = calloc(DATAPATH_BATCH, dp->slot);
	dp->rx_buf = calloc(DATAPATH_BATCH, DATAPATH_RX_SLOT);
	dp->replay = calloc(1, sizeof(*dp->replay));
	if (!dp->ay || !dp->tx_buf || !dp->rx_buf || !dp->replay) {
		datapath_free(dp);
		return -ENOMEM;
	}
	datapath_slots(dp->tx_msgs, dp->tx_iov, dp->tx_buf, dp->slot, DATAPATH_BATCH);
	datapath_slots(dp->rx_msgs, dp->rx_iov, dp->rx_buf, DATAPATH_RX_SLOT, DATAPATH_BATCH);
	return 0;
}

void datapath_free(struct datapath *dp)
{
	ayiya_free(dp->ay);
	free(dp->tx_buf);
	free(dp->rx_buf);
	free(dp->replay);
	dp->ay = NULL;
	dp->tx_buf = dp->rx_buf = NULL;
	dp->replay = NULL;
}

/* Send n queued datagrams; what the socket refuses is counted as dropped. */
static void flush_tx(struct datapath *dp, int n)
{
	int off = 0;

	while (off < n) {
		int sent = sendmmsg(dp->udp_fd, dp->tx_msgs + off, (unsigned)(n - off), 0);

		if (sent < 0) {
			if (errno == EINTR)
				continue;
			dp->c->drops[DROP_SEND] += (uint64_t)(n - off);
			return;
		}
		for (int i = off; i < off + sent; i++) {
			dp->c->tx_packets++;
			dp->c->tx_bytes += dp->tx_iov[i].iov_len - AYIYA_HDR_LEN;
		}
		off += sent;
	}
}

int datapath_from_tun(struct datapath *dp, uint32_t now)
{
	int queued = 0, handled = 0, err = 0;

	while (queued < DATAPATH_BATCH) {
		uint8_t *pkt = dp->tx_iov[queued].iov_base;
		ssize_t n = read(dp->tun_fd, pkt + AYIYA_HDR_LEN, dp->slot - AYIYA_HDR_LEN);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				err = -errno;
			break;
		}
		handled++;
		if (n < 1 || (pkt[AYIYA_HDR_LEN] >> 4) != 6) {
			dp->c->drops[DROP_TUN_NOT_IPV6]++;
			continue;
		}
		dp->tx_iov[queued].iov_len = ayiya_seal(dp->ay, pkt, (size_t)n, AYIYA_OP_FORWARD,
		                                        AYIYA_NH_IPV6, &dp->local, now);
		if (dp->tx_iov[queued].iov_len == 0) { /* gnutls could not hash */
			dp->c->drops[DROP_SEND]++;
			continue;
		}
		queued++;
	}
	if (queued)
		flush_tx(dp, queued);
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
	if (write(dp->tun_fd, v.payload, v.payload_len) != (ssize_t)v.payload_len) {
		dp->c->drops[DROP_TUN_WRITE]++;
		return;
	}
	dp->c->rx_packets++;
	dp->c->rx_bytes += v.payload_len;
}

int datapath_from_udp(struct datapath *dp, uint32_t now)
{
	int n;

	do
		n = recvmmsg(dp->udp_fd, dp->rx_msgs, DATAPATH_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* ICMP errors (port unreachable) surface here on a connected socket. */
		if (errno == EAGAIN || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
		    errno == ENETUNREACH)
			return 0;
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		if (dp->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			dp->c->drops[DROP_OVERSIZE]++;
			continue;
		}
		deliver(dp, dp->rx_iov[i].iov_base, dp->rx_msgs[i].msg_len, now);
	}
	return n;
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
