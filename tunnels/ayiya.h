/*
 * AYIYA codec (PROTOCOLS.md section 4).  Pure: no sockets, no clock.
 *
 * A struct ayiya holds the tunnel's key K = SHA-1(password) and one hash
 * context that is reused for every packet, so sealing or opening a packet
 * does not allocate.  Packets are built in place: the caller puts the
 * payload at pkt + AYIYA_HDR_LEN and the codec fills the first 44 bytes.
 */
#ifndef AICCUD_AYIYA_H
#define AICCUD_AYIYA_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define AYIYA_PORT     5072
#define AYIYA_HDR_LEN  44 /* header 8 + identity 16 + signature 20 */
#define AYIYA_SIG_LEN  20
#define AYIYA_MAX_SKEW 120 /* seconds */
/* What carrying one IPv6 packet over IPv4 adds: IPv4 20 + UDP 8 + the AYIYA header. */
#define AYIYA_IPV4_OVERHEAD (20 + 8 + AYIYA_HDR_LEN)
/* The path MTU toward the PoP assumed when none is known (an Ethernet path). */
#define AYIYA_PATH_MTU 1500
/* The largest tunnel MTU whose datagrams cross a path_mtu path unfragmented (1428 on 1500). */
#define AYIYA_MTU_MAX(path_mtu) ((uint32_t)(path_mtu)-AYIYA_IPV4_OVERHEAD)

enum ayiya_opcode {
	AYIYA_OP_NOOP = 0,
	AYIYA_OP_FORWARD = 1,
	AYIYA_OP_ECHO_REQUEST = 2,
	AYIYA_OP_ECHO_REQUEST_FORWARD = 3,
	AYIYA_OP_ECHO_RESPONSE = 4,
	AYIYA_OP_MOTD = 5,
	AYIYA_OP_QUERY_REQUEST = 6,
	AYIYA_OP_QUERY_RESPONSE = 7,
};

#define AYIYA_NH_IPV6 41
#define AYIYA_NH_NONE 59

/* Why a received datagram was rejected. */
enum ayiya_verdict {
	AYIYA_OK = 0,
	AYIYA_ERR_SHORT,     /* shorter than 44 bytes */
	AYIYA_ERR_HEADER,    /* IdLen/IdType/SigLen/HshMeth/AutMeth not the SixXS values */
	AYIYA_ERR_IDENTITY,  /* identity is not the expected peer */
	AYIYA_ERR_CLOCK,     /* epoch more than 120 s from our clock */
	AYIYA_ERR_SIGNATURE, /* SHA-1 signature does not verify */
	AYIYA_ERR_PAYLOAD,   /* NextHeader 41 but the payload is not IPv6 */
	AYIYA_VERDICT_COUNT
};

struct ayiya;

/* Returns NULL on allocation failure. */
struct ayiya *ayiya_new(const char *password);
void ayiya_free(struct ayiya *a);

/*
 * Seal a packet in place.  pkt has AYIYA_HDR_LEN bytes of room followed by
 * payload_len bytes of payload.  Returns the datagram length, or 0 if
 * the digest failed (nothing valid to send; nettle's SHA-1 cannot fail).
 */
size_t ayiya_seal(struct ayiya *a, uint8_t *pkt, size_t payload_len, enum ayiya_opcode op,
                  uint8_t next_header, const struct in6_addr *identity, uint32_t epoch);

struct ayiya_view {
	enum ayiya_opcode opcode;
	uint8_t next_header;
	uint32_t epoch;
	struct in6_addr identity;
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Check a received datagram.  identity: the peer we expect (NULL: accept
 * any identity; id_prefix_len > 0 compares only that many leading bits, as
 * the PoP does; 0 or more than 128 compares all 128).  now: our clock.
 * The signature field is temporarily overwritten during the check and
 * restored.  On AYIYA_OK, *view describes the packet (payload points into
 * pkt).
 */
enum ayiya_verdict ayiya_open(struct ayiya *a, uint8_t *pkt, size_t len,
                              const struct in6_addr *identity, unsigned id_prefix_len, uint32_t now,
                              struct ayiya_view *view);

const char *ayiya_verdict_name(enum ayiya_verdict v);

#endif
