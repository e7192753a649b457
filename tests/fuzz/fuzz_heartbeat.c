/*
 * heartbeat_verify on arbitrary bytes (what anyone can send to a PoP), and
 * a format/verify round trip on fields taken from the input.
 */
#include <string.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "heartbeat.h"

#define FUZZ_PASSWORD "fuzz-tunnel-password"
#define FUZZ_NOW      1700000000u
#define FUZZ_PW_MAX   128

static void check_raw(const uint8_t *data, size_t size)
{
	struct heartbeat_view v, p;
	struct in_addr src = {.s_addr = htonl(0xc0000201)}; /* 192.0.2.1 */
	enum heartbeat_verdict r =
	    heartbeat_verify((const char *)data, size, &src, FUZZ_PASSWORD, NULL, FUZZ_NOW, &v);
	enum heartbeat_verdict pr = heartbeat_parse((const char *)data, size, &p);

	FUZZ_CHECK((unsigned)r < HEARTBEAT_VERDICT_COUNT);
	FUZZ_CHECK(r != HEARTBEAT_ERR_IDENTITY); /* no identity was expected */
	FUZZ_CHECK(heartbeat_verdict_name(r) != NULL);
	FUZZ_CHECK(pr == HEARTBEAT_OK || pr == HEARTBEAT_ERR_SYNTAX);
	FUZZ_CHECK((pr == HEARTBEAT_ERR_SYNTAX) == (r == HEARTBEAT_ERR_SYNTAX));
	if (size > HEARTBEAT_MAX_LEN)
		FUZZ_CHECK(r == HEARTBEAT_ERR_SYNTAX);
	if (pr != HEARTBEAT_OK)
		return;
	FUZZ_CHECK(memcmp(&v.ipv6, &p.ipv6, sizeof(p.ipv6)) == 0);
	FUZZ_CHECK(v.epoch == p.epoch && v.sender == p.sender);
	FUZZ_CHECK(v.ipv4.s_addr == (p.sender ? src.s_addr : p.ipv4.s_addr));
	/* expecting the address it names never fails on identity */
	r = heartbeat_verify((const char *)data, size, &src, FUZZ_PASSWORD, &p.ipv6, FUZZ_NOW, &v);
	FUZZ_CHECK(r != HEARTBEAT_ERR_IDENTITY && r != HEARTBEAT_ERR_SYNTAX);
}

/* Input layout: ipv6[16] flags[1] ipv4[4] epoch[8] password...: format, then verify. */
static void check_round_trip(const uint8_t *data, size_t size)
{
	char msg[HEARTBEAT_MAX_LEN + 3], pw[FUZZ_PW_MAX + 2];
	struct in6_addr ip6;
	struct in_addr ip4;
	struct heartbeat_view v;
	uint64_t epoch = 0;
	size_t pwlen = size - 29 > FUZZ_PW_MAX ? FUZZ_PW_MAX : size - 29;
	int sender = data[16] & 1, n;

	memcpy(&ip6, data, 16);
	memcpy(&ip4, data + 17, 4);
	for (int i = 0; i < 8; i++)
		epoch = epoch << 8 | data[21 + i];
	memcpy(pw, data + 29, pwlen);
	pw[pwlen] = '\0'; /* a NUL inside simply ends the password early */

	n = heartbeat_format(msg, sizeof(msg), &ip6, sender ? NULL : &ip4, epoch, pw);
	FUZZ_CHECK(n > 0 && n <= HEARTBEAT_MAX_LEN && (size_t)n == strlen(msg));
	FUZZ_CHECK(heartbeat_verify(msg, (size_t)n, &ip4, pw, &ip6, epoch, &v) == HEARTBEAT_OK);
	FUZZ_CHECK(memcmp(&v.ipv6, &ip6, 16) == 0 && v.epoch == epoch);
	FUZZ_CHECK(v.sender == sender && v.ipv4.s_addr == ip4.s_addr);
	memcpy(msg + n, "\r\n", 3);
	FUZZ_CHECK(heartbeat_verify(msg, (size_t)n + 2, &ip4, pw, &ip6, epoch, &v) == HEARTBEAT_OK);
	strcat(pw, "x");
	FUZZ_CHECK(heartbeat_verify(msg, (size_t)n, &ip4, pw, &ip6, epoch, &v) ==
	           HEARTBEAT_ERR_HASH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_raw(data, size);
	if (size >= 29)
		check_round_trip(data, size);
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	uint32_t s = seed;
	struct in6_addr ip6 = {.s6_addr = {0x20, 0x01, 0x0d, 0xb8}};
	struct in_addr ip4 = {.s_addr = htonl(0xc0000201)}; /* the source check_raw uses */
	uint64_t epoch = FUZZ_NOW - 150 + fuzz_rand(&s) % 300;
	char msg[HEARTBEAT_MAX_LEN + 1];
	int n;

	for (size_t i = 4; i < 16; i++)
		ip6.s6_addr[i] = (uint8_t)(fuzz_rand(&s) % 4 ? 0 : fuzz_rand(&s));
	n = heartbeat_format(msg, sizeof(msg), &ip6, fuzz_rand(&s) % 2 ? NULL : &ip4, epoch,
	                     FUZZ_PASSWORD);
	if (n <= 0 || (size_t)n > cap)
		return 0;
	memcpy(buf, msg, (size_t)n);
	return (size_t)n;
}
