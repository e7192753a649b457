/* Per-tunnel data-path counters, reported by the worker to the parent. */
#ifndef AICCUD_COUNTERS_H
#define AICCUD_COUNTERS_H

#include <stdint.h>
#include <netinet/in.h>

enum drop_reason {
	DROP_SHORT = 0,    /* AYIYA: shorter than its header */
	DROP_HEADER,       /* AYIYA: header fields not the tunnel's */
	DROP_IDENTITY,     /* AYIYA: not from the PoP's tunnel address */
	DROP_CLOCK,        /* AYIYA: epoch more than 120 s off */
	DROP_SIGNATURE,    /* AYIYA: signature does not verify */
	DROP_PAYLOAD,      /* AYIYA: payload is not IPv6 */
	DROP_TUN_NOT_IPV6, /* from TUN: not an IPv6 packet */
	DROP_TUN_WRITE,    /* to TUN: write failed (queue full) */
	DROP_SEND,         /* to the PoP: send failed */
	DROP_OTHER_OPCODE, /* AYIYA: valid but not a forward/no-op */
	DROP_OVERSIZE,     /* larger than a receive slot */
	DROP_FOREIGN,      /* proto-41: outer IPv4 source is not the PoP */
	DROP_SEGMENT,      /* from TUN: a super-packet we cannot split */
	DROP_REPLAY,       /* AYIYA: seen before, or older than the replay window (replay.h) */
	DROP_REASON_COUNT
};

struct tunnel_counters {
	uint64_t tx_packets; /* IPv6 packets sent to the PoP */
	uint64_t tx_bytes;   /* their IPv6 bytes */
	uint64_t rx_packets; /* IPv6 packets received from the PoP */
	uint64_t rx_bytes;
	uint64_t keepalives; /* AYIYA no-ops / heartbeats sent */
	uint64_t drops[DROP_REASON_COUNT];
	int64_t last_keepalive; /* wall clock of the last no-op / heartbeat sent; 0: none */
	int64_t
	    last_rx; /* wall clock of the last packet from the PoP through the tunnel; 0: none */
	struct in_addr local_ipv4; /* our current IPv4 toward the PoP (0: unknown) */
	uint8_t datapath;          /* enum tunnel_datapath actually in use (kernel/userspace) */
	uint8_t pop_state;         /* enum beat_pop_state: heartbeat tunnels wait for the PoP */
	uint8_t offload;           /* COUNTERS_OFFLOAD_* chosen at start; 0: the plain path */
	/* IPC_P_COUNTERS_REQ answered so far, modulo 256: the parent knows when
	 * a snapshot is at least as new as its request (workers.h). */
	uint8_t answered;
	uint8_t pad[4];
	uint64_t mss_clamped_tx; /* SYNs toward the PoP whose MSS we lowered */
	uint64_t mss_clamped_rx; /* SYNs from the PoP whose MSS we lowered */
	/*
	 * Not drops: nothing was lost that should have gone through.
	 * link_local_suppressed: from our link with a link-local source (the
	 * kernel's router solicitations, MLD reports): the PoP would ignore
	 * them (PROTOCOLS.md 7), so they are not sent.  other_tunnel:
	 * user-space proto-41 for another tunnel to the same PoP that reached
	 * our raw socket anyway (its socket filter could not be attached, or
	 * it arrived before it was); that tunnel's own socket takes it.
	 */
	uint64_t link_local_suppressed;
	uint64_t other_tunnel;
	/* How the receive path batches (issue 24): system calls and what each moved. */
	uint64_t rx_calls;     /* receive calls (recvmmsg) that returned datagrams */
	uint64_t rx_datagrams; /* datagrams they returned (a UDP_GRO buffer's each counted) */
	uint64_t tun_writes;   /* writes to the TUN */
	uint64_t tun_packets;  /* IPv6 packets those writes carried (a super-packet's each) */
};

#define COUNTERS_OFFLOAD_TUN_TSO 0x1 /* TCP super-packets to and from the TUN */
#define COUNTERS_OFFLOAD_TUN_USO 0x2 /* UDP super-packets from the TUN */
#define COUNTERS_OFFLOAD_UDP_GSO 0x4 /* AYIYA: UDP_SEGMENT sends */
#define COUNTERS_OFFLOAD_UDP_GRO 0x8 /* AYIYA: UDP_GRO receives */

const char *drop_reason_name(enum drop_reason r);

#endif
