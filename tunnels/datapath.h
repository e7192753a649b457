/*
 * The AYIYA data path of one tunnel: TUN <-> UDP to the PoP's port 5072,
 * and the TUN side shared with user-space proto-41 (struct dp_tun).
 *
 * No event loop here: the worker's loop calls these when an fd is
 * readable or a timer fires.  Buffers are allocated once at init; moving
 * a packet allocates nothing.
 *
 * Two paths, chosen at start from what the kernel offers:
 * - plain: one TUN read or write per IPv6 packet, recvmmsg/sendmmsg
 *   batches of up to DATAPATH_BATCH datagrams;
 * - offloaded: the TUN hands over and takes TCP (and UDP) super-packets
 *   of up to 64 KiB (virtio-net header, offload.c splits and coalesces),
 *   and the UDP socket sends runs of equal-size datagrams in one
 *   UDP_SEGMENT message and receives UDP_GRO buffers.  The wire does not
 *   change: every datagram is one IPv6 packet of at most the MTU with its
 *   own AYIYA header and SHA-1 signature.
 */
#ifndef AICCUD_DATAPATH_H
#define AICCUD_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "counters.h"
#include "tunnel.h"

#define DATAPATH_BATCH 32
/* Datagrams queued before a send; a super-packet is at most 54 of them. */
#define DATAPATH_SEGS 128
/* Messages per send: a UDP_SEGMENT run each, or one datagram each. */
#define DATAPATH_MSGS 128
/*
 * Receive buffers of 64 KiB with UDP_GRO (each holds up to 64 datagrams).
 * As many as the plain path's batch: a PoP that sends one datagram per
 * call on a link without GRO fills each with one datagram (issue 24).
 * Pages are touched only as far as datagrams reach.
 */
#define DATAPATH_GRO_BUFS DATAPATH_BATCH
/* Receive calls per wake-up while each fills its batch. */
#define DATAPATH_RX_ROUNDS 4
/* TUN reads per wake-up (a super-packet begun is finished beyond it). */
#define DATAPATH_TUN_READS (DATAPATH_BATCH * DATAPATH_RX_ROUNDS)

struct ayiya;
struct gro;

/* The TUN side of a user-space data path (AYIYA and proto-41). */
struct dp_tun {
	int fd;
	unsigned offloads; /* NETCFG_TUN_* the TUN was opened with */
	uint32_t mtu;
	uint16_t mss; /* clamp SYNs both ways to this; 0: do not */
	struct tunnel_counters *c;
	uint8_t *rd;     /* offloads: one read, virtio-net header + 64 KiB */
	size_t rd_len;   /* bytes in rd */
	unsigned next;   /* the next segment of rd to lay out; 0: none pending */
	struct gro *gro; /* offloads: coalesces what goes to the TUN */
	/* A call stopped at its bound with more waiting (either side); the
	 * caller clears it.  Then the loop should poll again at once (dp_pace). */
	bool more;
};

/* Returns 0 or -ENOMEM.  mss_clamp: clamp SYNs to mtu - 60. */
int dp_tun_init(struct dp_tun *t, int fd, unsigned offloads, uint32_t mtu, bool mss_clamp,
                struct tunnel_counters *c);
void dp_tun_free(struct dp_tun *t);
/*
 * Read one packet (or super-packet) from the TUN and lay it out as
 * segments at out + i * (headroom + *seg_len) + headroom (see
 * offload_split_from), SYNs clamped.  Returns the number of segments, 0 when
 * the packet was dropped (counted), -EAGAIN when the TUN is empty, or
 * another -errno.  A super-packet of more segments than fit in room is
 * laid out over several calls: while dp_tun_pending, the next call goes
 * on with it instead of reading.
 */
int dp_tun_read(struct dp_tun *t, uint8_t *out, size_t room, size_t headroom, size_t *seg_len,
                size_t *last_len);
static inline bool dp_tun_pending(const struct dp_tun *t)
{
	return t->next != 0;
}
/* Bytes dp_tun_read may need at out for one read. */
size_t dp_tun_read_room(const struct dp_tun *t, size_t headroom);
/* Hand one received IPv6 packet to the TUN: clamped, held for coalescing
 * until dp_tun_flush when offloaded, counted. */
void dp_tun_deliver(struct dp_tun *t, uint8_t *pkt, size_t len);
void dp_tun_flush(struct dp_tun *t);
struct replay;

struct datapath {
	struct dp_tun tun;
	int udp_fd; /* connected to the PoP */
	bool udp_gso, udp_gro;
	struct ayiya *ay;
	struct replay *replay;     /* what the PoP already sent (replay.h) */
	struct in6_addr local;     /* our identity */
	struct in6_addr pop;       /* the identity we accept */
	struct tunnel_counters *c; /* the worker's, not owned */
	size_t arena_len;
	uint8_t *arena; /* sealed datagrams back to back, waiting for the send */
	size_t rx_slot;
	int rx_n;
	uint8_t *rx_buf;
	int ntx;
	struct mmsghdr tx_msgs[DATAPATH_MSGS];
	struct iovec tx_iov[DATAPATH_MSGS];
	uint16_t tx_segs[DATAPATH_MSGS];  /* datagrams in each message */
	uint16_t tx_dgram[DATAPATH_MSGS]; /* their size (the last may be shorter) */
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} tx_cmsg[DATAPATH_MSGS];
	struct mmsghdr rx_msgs[DATAPATH_BATCH];
	struct iovec rx_iov[DATAPATH_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} rx_cmsg[DATAPATH_BATCH];
};

/*
 * Returns 0 or -errno; takes no ownership of the fds or the counters.
 * tun_offloads: what netcfg_tun_open_offload gave; udp_offload: try
 * UDP_SEGMENT and UDP_GRO on udp_fd.  What is in use goes to c->offload.
 */
int datapath_init(struct datapath *dp, int tun_fd, int udp_fd, const struct tunnel_params *p,
                  uint32_t mtu, struct tunnel_counters *c, unsigned tun_offloads, bool udp_offload,
                  bool mss_clamp);
void datapath_free(struct datapath *dp);

/* Drain up to one batch.  Return packets handled, or -errno on a fatal error. */
int datapath_from_tun(struct datapath *dp, uint32_t now);
int datapath_from_udp(struct datapath *dp, uint32_t now);
/* Send the no-op keep-alive.  Returns 0 or -errno. */
int datapath_keepalive(struct datapath *dp, uint32_t now);

/*
 * A packet from our link with a link-local source (router solicitations,
 * MLD reports): the PoP drops those silently (PROTOCOLS.md 7, the real
 * client leaked them), so they are not sent.  ip6: the IPv6 header.
 */
bool datapath_link_local_source(const uint8_t *ip6, size_t len);

/*
 * Receive pacing (issue 24).  A PoP that sends one datagram per call (the
 * real one does) wakes a fast worker once per datagram, and every wake-up
 * costs a poll, a receive call, a TUN write and two context switches: more
 * than the hash.  Once one loop iteration has moved DP_PACE_BUSY packets or
 * more, the loop collects events for DP_PACE_HOLDOFF seconds before it
 * polls again (libev's io collect interval), so that each wake-up finds a
 * batch, as a NIC's interrupt moderation gives the kernel; an iteration
 * that moved at most DP_PACE_IDLE ends it, so a lone packet (a ping, a
 * keep-alive) is never held, and one whose handler stopped at its bound
 * with more waiting (more) polls again at once.  The socket buffers
 * (4 MiB) and the TUN queue hold far more than a hold-off's worth.
 */
#define DP_PACE_BUSY    4
#define DP_PACE_IDLE    1
#define DP_PACE_HOLDOFF 0.0005
struct dp_pace {
	uint64_t last; /* the packet count at the previous iteration */
	bool busy;
};
/* moved: the packets moved so far (any count that only grows); more: a
 * handler left packets waiting.  Returns the seconds to collect events
 * before the next poll.  Pure. */
double dp_pace(struct dp_pace *p, uint64_t moved, bool more);

/* Socket buffers sized for bursts (the defaults lost ~10% at speed). */
void datapath_sockbuf(int fd);
/* Point n messages at n slots of buf, slot bytes each. */
void datapath_slots(struct mmsghdr *msgs, struct iovec *iov, uint8_t *buf, size_t slot, int n);

/* Open a UDP socket connected to the PoP's AYIYA port, sized for bursts. */
int datapath_udp_open(const struct in_addr *pop, uint16_t port);

/* "plain", or the COUNTERS_OFFLOAD_* in bits as "tun-tso,tun-uso,udp-gso,udp-gro". */
const char *datapath_offload_name(unsigned bits, char *buf, size_t len);
/* COUNTERS_OFFLOAD_* of a TUN opened with these NETCFG_TUN_* offloads. */
unsigned datapath_tun_offload_bits(unsigned tun_offloads);

#endif
