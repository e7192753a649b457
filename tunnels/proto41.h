/*
 * User-space 6in4 (PROTOCOLS.md section 3): a TUN link for the IPv6 side
 * and a raw IPv4 socket of protocol 41 for the wire, for kernels without
 * sit.  The kernel builds the outer IPv4 header on send (its source follows
 * the routing table, so an address change needs nothing from us); on
 * receive we strip it and accept only packets from the PoP.
 *
 * No event loop here: the worker's loop calls these when an fd is
 * readable.  Buffers are allocated once at init.  Opening the raw socket
 * needs CAP_NET_RAW.
 */
#ifndef AICCUD_PROTO41_H
#define AICCUD_PROTO41_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/filter.h>

#include "counters.h"
#include "datapath.h"
#include "tunnel.h"

#define P41_BATCH 32
#define P41_SLOT  (65535 + 1) /* an IPv4 datagram of any size */
#define P41_SEGS  128         /* packets from the TUN queued for one sendmmsg */

struct p41 {
	struct dp_tun tun;
	int raw_fd;
	struct in_addr pop;
	/*
	 * Every raw proto-41 socket sees every tunnel's packets: accept only
	 * those addressed to this tunnel's prefix or one of its routed prefixes.
	 */
	struct tunnel_prefix ours[1 + TUNNEL_ROUTED_MAX];
	unsigned nours;
	struct in6_addr link_local; /* our TUN's fe80:: address */
	struct tunnel_counters *c;
	uint8_t *buf; /* P41_BATCH receive slots of P41_SLOT bytes */
	struct mmsghdr msgs[P41_BATCH];
	struct iovec iov[P41_BATCH];
	size_t arena_len;
	uint8_t *arena; /* packets from the TUN, back to back */
	int ntx;
	struct mmsghdr tx_msgs[P41_SEGS];
	struct iovec tx_iov[P41_SEGS];
	struct sockaddr_in peer;
};

/* Raw IPv4 socket of protocol 41, non-blocking, buffers sized for bursts. */
int p41_open_raw(void);
/*
 * Returns 0 or -ENOMEM; takes no ownership of the fds or the counters.
 * link_local: the TUN's link-local address; tun_offloads: what
 * netcfg_tun_open_offload gave (0: the plain path).
 */
int p41_init(struct p41 *p, int tun_fd, int raw_fd, const struct tunnel_conf *tc,
             const struct in6_addr *link_local, struct tunnel_counters *c, unsigned tun_offloads);
void p41_free(struct p41 *p);

/*
 * Pure: whether an IPv6 packet (its header at ip6) is this tunnel's: its
 * destination is in one of our prefixes or is our link-local address, or
 * it is multicast sent from our tunnel's prefix (the PoP's address).
 * Link-local-sourced multicast cannot be told apart between tunnels to one
 * PoP and is not ours.
 */
bool p41_ours(const struct p41 *p, const uint8_t *ip6);

/*
 * Pure: the IPv6 packet inside an IPv4 datagram received on the raw
 * socket, or NULL (and *drop says why) when it is not from pop, not
 * protocol 41, truncated or not IPv6.
 */
const uint8_t *p41_decap(const uint8_t *dgram, size_t len, struct in_addr pop, size_t *inner_len,
                         enum drop_reason *drop);

/*
 * A classic BPF socket filter for the raw socket: the kernel hands every
 * raw proto-41 socket every proto-41 packet, so without it each
 * user-space tunnel to a PoP wakes for, copies and discards all the
 * others' traffic.  It passes what p41_ours would take, and whatever
 * p41_decap would count as a drop (not from the PoP, short, not IPv6), so
 * the drop counters still see those; two tunnels from one IPv4 to one
 * PoP differ only in the inner addresses, which is what it looks at.
 */
#define P41_FILTER_MAX (32 + (3 + TUNNEL_ROUTED_MAX) * 14)
/* Pure: the program into prog (room for P41_FILTER_MAX); its length. */
size_t p41_filter_build(const struct p41 *p, struct sock_filter *prog);
/*
 * Attach it to p->raw_fd (SO_ATTACH_FILTER: while still privileged, the
 * worker's seccomp policy forbids it afterwards).  Returns 0 or -errno;
 * without it, what is not ours is still counted as other_tunnel.
 */
int p41_filter_attach(struct p41 *p);

/* Move up to one batch each way.  Packets handled, or -errno when fatal. */
int p41_from_tun(struct p41 *p);
int p41_from_raw(struct p41 *p);

#endif
