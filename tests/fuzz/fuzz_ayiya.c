/*
 * ayiya_open on arbitrary bytes (what the PoP or anyone on the path can
 * send), plus properties of a re-sealed copy: it opens, and any one flipped
 * bit makes it fail.
 */
#include <string.h>

#include "ayiya.h"
#include "fuzz.h"

#define FUZZ_PASSWORD "fuzz-tunnel-password"
#define FUZZ_MAX      4096

static struct ayiya *codec(void)
{
	static struct ayiya *a;

	if (!a)
		a = ayiya_new(FUZZ_PASSWORD);
	FUZZ_CHECK(a != NULL);
	return a;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The receiver's clock: near the datagram's epoch, sometimes just too far. */
static uint32_t clock_for(const uint8_t *data, size_t size)
{
	uint32_t epoch = size >= 8 ? be32(data + 4) : 0;

	return epoch + (uint32_t)((int)(size % 256) - 128);
}

static void check_view(const uint8_t *pkt, size_t size, const struct ayiya_view *v)
{
	FUZZ_CHECK(v->payload == pkt + AYIYA_HDR_LEN);
	FUZZ_CHECK(v->payload_len == size - AYIYA_HDR_LEN);
	FUZZ_CHECK(v->epoch == be32(pkt + 4));
	FUZZ_CHECK(memcmp(&v->identity, pkt + 8, 16) == 0);
	FUZZ_CHECK((unsigned)v->opcode == (pkt[2] & 0x0fu));
	FUZZ_CHECK(v->next_header == pkt[3]);
	if (v->next_header == AYIYA_NH_IPV6)
		FUZZ_CHECK(v->payload_len > 0 && (v->payload[0] >> 4) == 6);
}

/* Open buf (a copy of data) under several expectations; it must stay intact. */
static void open_raw(uint8_t *buf, const uint8_t *data, size_t size)
{
	struct ayiya_view v;
	struct in6_addr want;
	uint32_t now = clock_for(data, size);
	enum ayiya_verdict r = ayiya_open(codec(), buf, size, NULL, 0, now, &v);

	FUZZ_CHECK(memcmp(buf, data, size) == 0);
	FUZZ_CHECK((unsigned)r < AYIYA_VERDICT_COUNT);
	FUZZ_CHECK((r == AYIYA_ERR_SHORT) == (size < AYIYA_HDR_LEN));
	if (r == AYIYA_OK)
		check_view(buf, size, &v);
	FUZZ_CHECK(ayiya_verdict_name(r) != NULL);

	/* an expected identity taken from the input's tail, any prefix length */
	memset(&want, 0, sizeof(want));
	memcpy(&want, data + size - (size < 16 ? size : 16), size < 16 ? size : 16);
	r = ayiya_open(codec(), buf, size, &want, size > 0 ? data[0] : 0, now, &v);
	FUZZ_CHECK(memcmp(buf, data, size) == 0);
	FUZZ_CHECK((unsigned)r < AYIYA_VERDICT_COUNT);
}

/* Sign the input as if we had sent it: it opens; one flipped bit and it does not. */
static void reseal(uint8_t *buf, size_t size)
{
	struct ayiya_view v;
	struct in6_addr id;
	uint32_t epoch = be32(buf + 4);
	uint8_t nh = buf[3];
	size_t payload_len = size - AYIYA_HDR_LEN, bit;
	int payload_bad =
	    nh == AYIYA_NH_IPV6 && (payload_len == 0 || (buf[AYIYA_HDR_LEN] >> 4) != 6);
	enum ayiya_verdict r;

	memcpy(&id, buf + 8, sizeof(id));
	FUZZ_CHECK(ayiya_seal(codec(), buf, payload_len, (enum ayiya_opcode)(buf[2] & 0x0f), nh,
	                      &id, epoch) == size);
	r = ayiya_open(codec(), buf, size, &id, 128, epoch, &v);
	FUZZ_CHECK(r == (payload_bad ? AYIYA_ERR_PAYLOAD : AYIYA_OK));
	if (r == AYIYA_OK)
		check_view(buf, size, &v);
	FUZZ_CHECK(ayiya_open(codec(), buf, size, &id, 128, epoch + 121, &v) == AYIYA_ERR_CLOCK);
	FUZZ_CHECK(ayiya_open(codec(), buf, size, &id, 128, epoch - 121, &v) == AYIYA_ERR_CLOCK);

	bit = (epoch ^ (uint32_t)size) % (size * 8);
	buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	r = ayiya_open(codec(), buf, size, &id, 128, epoch, &v);
	FUZZ_CHECK(r != AYIYA_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[FUZZ_MAX];

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	open_raw(buf, data, size);
	if (size >= AYIYA_HDR_LEN)
		reseal(buf, size);
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	uint32_t s = seed;
	size_t payload_len = fuzz_rand(&s) % 200;
	struct in6_addr id = {.s6_addr = {0x20, 0x01, 0x0d, 0xb8}};
	enum ayiya_opcode op = (enum ayiya_opcode)(fuzz_rand(&s) % 8);
	uint8_t nh = AYIYA_NH_NONE;

	if (cap < AYIYA_HDR_LEN + payload_len)
		return 0;
	for (size_t i = 4; i < 16; i++)
		id.s6_addr[i] = (uint8_t)fuzz_rand(&s);
	for (size_t i = 0; i < payload_len; i++)
		buf[AYIYA_HDR_LEN + i] = (uint8_t)fuzz_rand(&s);
	if (payload_len) {
		buf[AYIYA_HDR_LEN] = 0x60;
		nh = AYIYA_NH_IPV6;
	}
	return ayiya_seal(codec(), buf, payload_len, op, nh, &id,
	                  1700000000u + fuzz_rand(&s) % 1000);
}
