/*
 * TCP MSS clamping for SYNs crossing a user-space data path (PROTOCOLS.md
 * section 6: PMTU black holes).  Pure: works on one IPv6 packet in place.
 *
 * A host behind a routed prefix announces the MSS of its own link (1440 on
 * a 1500-byte LAN); clamped to the tunnel MTU minus 60 (IPv6 40 + TCP 20)
 * its peer never sends segments that need a Packet Too Big to shrink.
 */
#ifndef AICCUD_MSS_H
#define AICCUD_MSS_H

#include <stddef.h>
#include <stdint.h>

/* The largest MSS that fits a tunnel MTU: MTU - IPv6 header - TCP header. */
#define MSS_FOR_MTU(mtu) ((uint16_t)((mtu) > 60 ? (mtu)-60 : 0))

/*
 * If pkt (len bytes, an IPv6 packet with a complete checksum) is a TCP
 * SYN whose MSS option exceeds max_mss, lower the option to max_mss and
 * update the TCP checksum incrementally (RFC 1624).  Returns 1 when the
 * packet changed, 0 otherwise (not a SYN, no MSS option, already small
 * enough, malformed or fragmented: left as it is).
 */
int mss_clamp(uint8_t *pkt, size_t len, uint16_t max_mss);

#endif
