/* TCP MSS clamping on IPv6 packets (see mss.h).  Pure. */
#include "mss.h"

#include <netinet/in.h>

#include "wire.h"

#define IP6_HDR_LEN  40
#define TCP_HDR_MIN  20
#define TCP_FLAG_SYN 0x02
#define TCPOPT_EOL   0
#define TCPOPT_NOP   1
#define TCPOPT_MSS   2

static uint16_t swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

/* Offset of the TCP header, skipping the extension headers a SYN may carry; 0: none. */
static size_t tcp_offset(const uint8_t *pkt, size_t len)
{
	uint8_t nh = pkt[6];
	size_t off = IP6_HDR_LEN;

	for (int hops = 0; hops < 8; hops++) {
		if (nh == IPPROTO_TCP)
			return off + TCP_HDR_MIN <= len ? off : 0;
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS)
			return 0; /* a fragment, or not TCP */
		if (off + 8 > len)
			return 0;
		nh = pkt[off];
		off += ((size_t)pkt[off + 1] + 1) * 8;
	}
	return 0;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
static uint16_t csum_replace16(uint16_t check, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t)~check + (uint32_t)(uint16_t)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Offset of the MSS option's value in the options of tcp (doff bytes); 0: none. */
static size_t mss_option(const uint8_t *tcp, size_t doff)
{
	size_t i = TCP_HDR_MIN;

	while (i < doff) {
		uint8_t kind = tcp[i];

		if (kind == TCPOPT_EOL)
			return 0;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > doff || tcp[i + 1] < 2 || i + tcp[i + 1] > doff)
			return 0; /* malformed: leave the packet alone */
		if (kind == TCPOPT_MSS)
			return tcp[i + 1] == 4 ? i + 2 : 0;
		i += tcp[i + 1];
	}
	return 0;
}

int mss_clamp(uint8_t *pkt, size_t len, uint16_t max_mss)
{
	size_t off, doff, opt;
	uint8_t *tcp;
	uint16_t mss;

	if (len < IP6_HDR_LEN + TCP_HDR_MIN || (pkt[0] >> 4) != 6)
		return 0;
	off = tcp_offset(pkt, len);
	if (!off)
		return 0;
	tcp = pkt + off;
	if (!(tcp[13] & TCP_FLAG_SYN))
		return 0;
	doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || off + doff > len)
		return 0;
	opt = mss_option(tcp, doff);
	if (!opt)
		return 0;
	mss = wire_get16(tcp + opt);
	if (mss <= max_mss)
		return 0;
	wire_put16(tcp + opt, max_mss);
	/* At an odd offset the value straddles two checksum words: swapped. */
	if (opt & 1)
		wire_put16(tcp + 16,
		           csum_replace16(wire_get16(tcp + 16), swap16(mss), swap16(max_mss)));
	else
		wire_put16(tcp + 16, csum_replace16(wire_get16(tcp + 16), mss, max_mss));
	return 1;
}
