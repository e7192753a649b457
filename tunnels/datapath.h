/*
 * The AYIYA data path of one tunnel: TUN <-> UDP to the PoP's port 5072.
 *
 * No event loop here: the worker's loop calls these when an fd is
 * readable or a timer fires.  Buffers are allocated once at init; moving
 * a packet allocates nothing.  Packets move in batches (recvmmsg and
 * sendmmsg) of up to DATAPATH_BATCH.
 */
#ifndef AICCUD_DATAPATH_H
#define AICCUD_DATAPATH_H

#include <stdint.h>
#include <sys/socket.h>

#include "counters.h"
#include "tunnel.h"

#define DATAPATH_BATCH 32

struct ayiya;
struct replay;

struct datapath {
	int tun_fd;
	int udp_fd; /* connected to the PoP */
	struct ayiya *ay;
	struct replay *replay;     /* what the PoP already sent (replay.h) */
	struct in6_addr local;     /* our identity */
	struct in6_addr pop;       /* the identity we accept */
	struct tunnel_counters *c; /* the worker's, not owned */
	size_t slot;               /* bytes per buffer slot, AYIYA header included */
	uint8_t *tx_buf;
	uint8_t *rx_buf;
	struct mmsghdr tx_msgs[DATAPATH_BATCH];
	struct iovec tx_iov[DATAPATH_BATCH];
	struct mmsghdr rx_msgs[DATAPATH_BATCH];
	struct iovec rx_iov[DATAPATH_BATCH];
};

/* Returns 0 or -errno; takes no ownership of the fds or the counters. */
int datapath_init(struct datapath *dp, int tun_fd, int udp_fd, const struct tunnel_params *p,
                  uint32_t mtu, struct tunnel_counters *c);
void datapath_free(struct datapath *dp);

/* Drain up to one batch.  Return packets handled, or -errno on a fatal error. */
int datapath_from_tun(struct datapath *dp, uint32_t now);
int datapath_from_udp(struct datapath *dp, uint32_t now);
/* Send the no-op keep-alive.  Returns 0 or -errno. */
int datapath_keepalive(struct datapath *dp, uint32_t now);

/* Socket buffers sized for bursts (the defaults lost ~10% at speed). */
void datapath_sockbuf(int fd);
/* Point n messages at n slots of buf, slot bytes each. */
void datapath_slots(struct mmsghdr *msgs, struct iovec *iov, uint8_t *buf, size_t slot, int n);

/* Open a UDP socket connected to the PoP's AYIYA port, sized for bursts. */
int datapath_udp_open(const struct in_addr *pop, uint16_t port);

#endif
