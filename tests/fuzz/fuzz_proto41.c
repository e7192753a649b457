/*
 * libFuzzer target: user-space 6in4 receive path.  Arbitrary IPv4
 * datagrams (what the raw proto-41 socket hands over: anyone can send
 * them) through p41_decap and, for what it passes on, p41_ours.
 */
#include <string.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "proto41.h"

static void init_ours(struct p41 *p)
{
	memset(p, 0, sizeof(*p));
	inet_pton(AF_INET6, "2001:db8:a::2", &p->ours[0].addr);
	p->ours[0].len = 64;
	inet_pton(AF_INET6, "2001:db8:100::", &p->ours[1].addr);
	p->ours[1].len = 48;
	p->nours = 2;
	inet_pton(AF_INET6, "fe80::2", &p->link_local);
	inet_pton(AF_INET, "192.0.2.1", &p->pop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct p41 p;
	enum drop_reason why = DROP_REASON_COUNT;
	size_t inner_len = 0;
	const uint8_t *inner;

	if (!p.nours)
		init_ours(&p);
	inner = p41_decap(data, size, p.pop, &inner_len, &why);
	if (!inner) {
		FUZZ_CHECK(why == DROP_SHORT || why == DROP_FOREIGN || why == DROP_PAYLOAD);
		return 0;
	}
	/* What is passed on lies inside the datagram, after a real IPv4 header. */
	FUZZ_CHECK(inner >= data + 20 && inner + inner_len == data + size);
	FUZZ_CHECK(inner_len >= 40 && (inner[0] >> 4) == 6);
	FUZZ_CHECK((data[0] >> 4) == 4 && data[9] == 41);
	FUZZ_CHECK(memcmp(data + 12, &p.pop, 4) == 0);
	(void)p41_ours(&p, inner);
	return 0;
}

/* A proto-41 datagram from the PoP carrying an IPv6 packet to one of our prefixes. */
size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	static const char *const dsts[] = {"2001:db8:a::2", "2001:db8:100:5::1", "ff02::1",
	                                   "fe80::2", "2001:db8:dead::1"};
	size_t payload = seed % 64, len = 20 + 40 + payload;
	struct in6_addr src, dst;

	if (cap < len)
		return 0;
	memset(buf, 0, len);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[8] = 64;
	buf[9] = 41;
	inet_pton(AF_INET, "192.0.2.1", buf + 12);
	inet_pton(AF_INET, "198.51.100.2", buf + 16);
	buf[20] = 0x60;
	buf[24] = (uint8_t)(payload >> 8);
	buf[25] = (uint8_t)payload;
	buf[26] = 58;
	buf[27] = 64;
	inet_pton(AF_INET6, (seed >> 8) & 1 ? "2001:db8:a::1" : "fe80::1", &src);
	inet_pton(AF_INET6, dsts[(seed >> 9) % 5], &dst);
	memcpy(buf + 28, &src, 16);
	memcpy(buf + 44, &dst, 16);
	for (size_t i = 60; i < len; i++)
		buf[i] = (uint8_t)(seed >> (i % 24));
	return len;
}
