/*
 * 6in4 heartbeat text (PROTOCOLS.md sections 2 and 7).  Pure: no sockets, no
 * clock, no globals.  The worker formats beats; the verifier is the PoP's
 * side, used by tests, fuzzers and anything simulating a broker in C.
 *
 *     HEARTBEAT TUNNEL <ipv6-local> <ipv4-local|sender> <epoch> <md5hex>
 *
 * md5hex is MD5 over the same text with the tunnel password in place of the
 * digest.
 */
#ifndef AICCUD_HEARTBEAT_H
#define AICCUD_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define HEARTBEAT_MAX_LEN  255 /* the PoP drops datagrams of 256 bytes or more */
#define HEARTBEAT_MAX_SKEW 120 /* seconds, both directions */

/*
 * Write one heartbeat into out (NUL-terminated, no newline).  local4 NULL
 * sends the word "sender": the PoP then takes the datagram's source address
 * (needed behind NAT).  Returns the text length (without the NUL), -EINVAL
 * for a NULL local6 or password, -ENOSPC when out is too small or the text
 * would reach 256 bytes.
 */
int heartbeat_format(char *out, size_t outlen, const struct in6_addr *local6,
                     const struct in_addr *local4, uint64_t epoch, const char *password);

/* Why a received heartbeat was rejected (first failed check). */
enum heartbeat_verdict {
	HEARTBEAT_OK = 0,
	HEARTBEAT_ERR_SYNTAX,   /* >= 256 bytes, not 6 fields, wrong prefix, unparsable field */
	HEARTBEAT_ERR_IDENTITY, /* IPv6 address is not the expected tunnel's */
	HEARTBEAT_ERR_ADDRESS,  /* IPv4 address given and not the datagram's source */
	HEARTBEAT_ERR_CLOCK,    /* epoch more than 120 s from our clock */
	HEARTBEAT_ERR_HASH,     /* MD5 does not verify (or the password is wrong) */
	HEARTBEAT_VERDICT_COUNT
};

struct heartbeat_view {
	struct in6_addr ipv6;
	bool sender;         /* the second field was the word "sender" */
	struct in_addr ipv4; /* the address given, or for "sender" the source (0 if unknown) */
	uint64_t epoch;
};

/*
 * Split a heartbeat without checking identity, clock or hash, e.g. to find
 * the tunnel (and so the password) by its IPv6 address first.  Returns
 * HEARTBEAT_OK or HEARTBEAT_ERR_SYNTAX; *out is filled on HEARTBEAT_OK
 * (ipv4 is 0.0.0.0 for "sender").  Trailing CR/LF is ignored.
 */
enum heartbeat_verdict heartbeat_parse(const char *msg, size_t len, struct heartbeat_view *out);

/*
 * Check a received heartbeat the way the PoP does.  src: the datagram's
 * source address (NULL: not known, the address check is skipped).
 * expect6: the tunnel's IPv6 address (NULL: any).  now: our clock.  Checks,
 * in order: syntax, identity, address, clock, hash.  The hash is taken over
 * the address fields as received (non-canonical IPv6 text is fine) and the
 * epoch re-printed in plain decimal, so an epoch with a leading zero fails
 * the hash, as it does at the real PoP.  The digest may be in either case.
 * *out is filled for every verdict but HEARTBEAT_ERR_SYNTAX.
 */
enum heartbeat_verdict heartbeat_verify(const char *msg, size_t len, const struct in_addr *src,
                                        const char *password, const struct in6_addr *expect6,
                                        uint64_t now, struct heartbeat_view *out);

const char *heartbeat_verdict_name(enum heartbeat_verdict v);

#endif
