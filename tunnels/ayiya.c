/*
 * AYIYA codec (PROTOCOLS.md section 4).  Pure: no sockets, no clock, no
 * logging; the caller passes the time and decides what to do with a verdict.
 */
#include "ayiya.h"

#include <stdlib.h>
#include <string.h>

#include <nettle/memops.h>
#include <nettle/sha1.h>

#include "wire.h"

/* The only header values SixXS tunnels use. */
#define AYIYA_ID_LEN    4 /* identity is 2^4 = 16 bytes */
#define AYIYA_ID_TYPE   1 /* integer */
#define AYIYA_SIG_WORDS 5 /* signature is 5 * 4 = 20 bytes */
#define AYIYA_HASH_SHA1 2
#define AYIYA_AUTH_SS   1 /* shared secret */

#define AYIYA_BYTE0 ((AYIYA_ID_LEN << 4) | AYIYA_ID_TYPE)
#define AYIYA_BYTE1 ((AYIYA_SIG_WORDS << 4) | AYIYA_HASH_SHA1)

#define AYIYA_OFF_EPOCH 4
#define AYIYA_OFF_ID    8
#define AYIYA_OFF_SIG   (AYIYA_OFF_ID + 16)

struct ayiya {
	/* K = SHA-1(password): what the signature field holds while hashing. */
	uint8_t key[AYIYA_SIG_LEN];
	/* One context for the tunnel's lifetime; sha1_digest resets it. */
	struct sha1_ctx hash;
};

struct ayiya *ayiya_new(const char *password)
{
	struct ayiya *a;

	if (!password)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	sha1_init(&a->hash);
	sha1_update(&a->hash, strlen(password), (const uint8_t *)password);
	sha1_digest(&a->hash, sizeof(a->key), a->key);
	return a;
}

void ayiya_free(struct ayiya *a)
{
	if (!a)
		return;
	/* K is as good as the password for forging packets (and the context
	 * held it a moment ago). */
	explicit_bzero(a, sizeof(*a));
	free(a);
}

/*
 * SHA-1 over the datagram, whose signature field already holds K.  Always
 * 0 (nettle's SHA-1 cannot fail); kept as int for the callers' checks.
 * The digest resets the context for the next packet.
 */
static int ayiya_digest(struct ayiya *a, const uint8_t *pkt, size_t len, uint8_t out[AYIYA_SIG_LEN])
{
	sha1_update(&a->hash, len, pkt);
	sha1_digest(&a->hash, AYIYA_SIG_LEN, out);
	return 0;
}

size_t ayiya_seal(struct ayiya *a, uint8_t *pkt, size_t payload_len, enum ayiya_opcode op,
                  uint8_t next_header, const struct in6_addr *identity, uint32_t epoch)
{
	uint8_t *sig = pkt + AYIYA_OFF_SIG;
	size_t len = AYIYA_HDR_LEN + payload_len;

	pkt[0] = AYIYA_BYTE0;
	pkt[1] = AYIYA_BYTE1;
	pkt[2] = (uint8_t)((AYIYA_AUTH_SS << 4) | ((unsigned)op & 0x0f));
	pkt[3] = next_header;
	wire_put32(pkt + AYIYA_OFF_EPOCH, epoch);
	memcpy(pkt + AYIYA_OFF_ID, identity, sizeof(*identity));
	memcpy(sig, a->key, AYIYA_SIG_LEN);
	if (ayiya_digest(a, pkt, len, sig) < 0)
		return 0; /* nothing valid to send; sig holds garbage, not K */
	return len;
}

static int header_ok(const uint8_t *pkt)
{
	return pkt[0] == AYIYA_BYTE0 && pkt[1] == AYIYA_BYTE1 && (pkt[2] >> 4) == AYIYA_AUTH_SS;
}

/* The PoP checks only the tunnel part of an identity: compare `bits` bits. */
static int identity_matches(const uint8_t *got, const struct in6_addr *want, unsigned bits)
{
	unsigned full, rest;

	if (!want)
		return 1;
	if (bits == 0 || bits > 128)
		bits = 128;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(got, want->s6_addr, full) != 0)
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((got[full] ^ want->s6_addr[full]) & mask)
			return 0;
	}
	return 1;
}

static int clock_ok(uint32_t epoch, uint32_t now)
{
	int64_t skew = (int64_t)epoch - (int64_t)now;

	return skew <= AYIYA_MAX_SKEW && skew >= -AYIYA_MAX_SKEW;
}

/* Put K in the signature field, recompute, compare, restore the field. */
static int signature_ok(struct ayiya *a, uint8_t *pkt, size_t len)
{
	uint8_t *sig = pkt + AYIYA_OFF_SIG;
	uint8_t received[AYIYA_SIG_LEN], computed[AYIYA_SIG_LEN];
	int err;

	memcpy(received, sig, AYIYA_SIG_LEN);
	memcpy(sig, a->key, AYIYA_SIG_LEN);
	err = ayiya_digest(a, pkt, len, computed);
	memcpy(sig, received, AYIYA_SIG_LEN);
	/* Constant time: a timing oracle would let a peer forge byte by byte. */
	return err >= 0 && memeql_sec(received, computed, AYIYA_SIG_LEN);
}

static int payload_ok(uint8_t next_header, const uint8_t *payload, size_t payload_len)
{
	if (next_header != AYIYA_NH_IPV6)
		return 1;
	return payload_len > 0 && (payload[0] >> 4) == 6;
}

enum ayiya_verdict ayiya_open(struct ayiya *a, uint8_t *pkt, size_t len,
                              const struct in6_addr *identity, unsigned id_prefix_len, uint32_t now,
                              struct ayiya_view *view)
{
	uint32_t epoch;

	if (len < AYIYA_HDR_LEN)
		return AYIYA_ERR_SHORT;
	if (!header_ok(pkt))
		return AYIYA_ERR_HEADER;
	if (!identity_matches(pkt + AYIYA_OFF_ID, identity, id_prefix_len))
		return AYIYA_ERR_IDENTITY;
	epoch = wire_get32(pkt + AYIYA_OFF_EPOCH);
	if (!clock_ok(epoch, now))
		return AYIYA_ERR_CLOCK;
	if (!signature_ok(a, pkt, len))
		return AYIYA_ERR_SIGNATURE;
	if (!payload_ok(pkt[3], pkt + AYIYA_HDR_LEN, len - AYIYA_HDR_LEN))
		return AYIYA_ERR_PAYLOAD;

	view->opcode = (enum ayiya_opcode)(pkt[2] & 0x0f);
	view->next_header = pkt[3];
	view->epoch = epoch;
	memcpy(&view->identity, pkt + AYIYA_OFF_ID, sizeof(view->identity));
	view->payload = pkt + AYIYA_HDR_LEN;
	view->payload_len = len - AYIYA_HDR_LEN;
	return AYIYA_OK;
}

const char *ayiya_verdict_name(enum ayiya_verdict v)
{
	switch (v) {
	case AYIYA_OK:
		return "ok";
	case AYIYA_ERR_SHORT:
		return "short";
	case AYIYA_ERR_HEADER:
		return "header";
	case AYIYA_ERR_IDENTITY:
		return "identity";
	case AYIYA_ERR_CLOCK:
		return "clock";
	case AYIYA_ERR_SIGNATURE:
		return "signature";
	case AYIYA_ERR_PAYLOAD:
		return "payload";
	case AYIYA_VERDICT_COUNT:
		break;
	}
	return "unknown";
}
