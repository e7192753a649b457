/* MSS clamping of TCP SYNs (mss.c); checksums checked by this file's own sum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "mss.h"

static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* Checksum of the TCP segment at off (its pseudo header from the IPv6 header). */
static uint16_t ref_tcp_csum(const uint8_t *p, size_t off, size_t len)
{
	uint32_t l4 = (uint32_t)(len - off), s = ref_sum(0, p + 8, 32) + l4 + 6;

	return (uint16_t)~ref_sum(s, p + off, l4);
}

static int ref_ok(const uint8_t *p, size_t off, size_t len)
{
	uint32_t l4 = (uint32_t)(len - off), s = ref_sum(0, p + 8, 32) + l4 + 6;

	return ref_sum(s, p + off, l4) == 0xffff;
}

/*
 * A SYN (flags) with the options opts (olen bytes, a multiple of 4), after
 * a hop-by-hop header when hbh.
 */
static size_t syn(uint8_t *p, uint8_t flags, const uint8_t *opts, size_t olen, int hbh)
{
	size_t off = hbh ? 48 : 40, len = off + 20 + olen + 10;

	memset(p, 0, len);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = hbh ? 0 : 6;
	p[7] = 64;
	inet_pton(AF_INET6, "2001:db8:77::5", p + 8);
	inet_pton(AF_INET6, "2001:db8:eeee::2", p + 24);
	if (hbh) {
		p[40] = 6; /* next: TCP; length 0: 8 bytes of PadN */
		p[42] = 1;
		p[43] = 4;
	}
	p[off + 0] = 0x9c;
	p[off + 1] = 0x40;
	p[off + 3] = 80;
	p[off + 7] = 1;
	p[off + 12] = (uint8_t)(((20 + olen) / 4) << 4);
	p[off + 13] = flags;
	p[off + 15] = 0xff;
	memcpy(p + off + 20, opts, olen);
	memset(p + off + 20 + olen, 0xa5, 10);
	uint16_t c = ref_tcp_csum(p, off, len);
	p[off + 16] = (uint8_t)(c >> 8);
	p[off + 17] = (uint8_t)c;
	return len;
}

static const uint8_t mss1440[] = {2, 4, 0x05, 0xa0, 1, 1, 4, 2}; /* MSS, NOP NOP SACK-ok */

static void clamps_1440_to_1220(void **state)
{
	uint8_t p[128];
	size_t len = syn(p, 0x02, mss1440, sizeof(mss1440), 0);

	(void)state;
	assert_int_equal(mss_clamp(p, len, MSS_FOR_MTU(1280)), 1);
	assert_int_equal(p[62] << 8 | p[63], 1220);
	assert_true(ref_ok(p, 40, len));
}

static void clamps_a_syn_ack_too(void **state)
{
	uint8_t p[128];
	size_t len = syn(p, 0x12, mss1440, sizeof(mss1440), 0);

	(void)state;
	assert_int_equal(mss_clamp(p, len, 1220), 1);
	assert_true(ref_ok(p, 40, len));
}

static void odd_offset_option_keeps_the_checksum_right(void **state)
{
	/* NOP, then MSS at offset 21: its value straddles two checksum words. */
	static const uint8_t opts[] = {1, 2, 4, 0x05, 0xb4, 1, 1, 0};
	uint8_t p[128];
	size_t len = syn(p, 0x02, opts, sizeof(opts), 0);

	(void)state;
	assert_int_equal(mss_clamp(p, len, 1220), 1);
	assert_int_equal(p[63] << 8 | p[64], 1220);
	assert_true(ref_ok(p, 40, len));
}

static void through_a_hop_by_hop_header(void **state)
{
	uint8_t p[128];
	size_t len = syn(p, 0x02, mss1440, sizeof(mss1440), 1);

	(void)state;
	assert_int_equal(mss_clamp(p, len, 1220), 1);
	assert_int_equal(p[70] << 8 | p[71], 1220);
	assert_true(ref_ok(p, 48, len));
}

static void leaves_small_mss_and_non_syn_alone(void **state)
{
	static const uint8_t small[] = {2, 4, 0x04, 0xb0, 1, 1, 1, 0}; /* 1200 */
	uint8_t p[128], copy[128];
	size_t len = syn(p, 0x02, small, sizeof(small), 0);

	(void)state;
	memcpy(copy, p, len);
	assert_int_equal(mss_clamp(p, len, 1220), 0);
	assert_memory_equal(p, copy, len);
	len = syn(p, 0x10, mss1440, sizeof(mss1440), 0); /* a plain ACK */
	memcpy(copy, p, len);
	assert_int_equal(mss_clamp(p, len, 1220), 0);
	assert_memory_equal(p, copy, len);
}

static void leaves_malformed_options_alone(void **state)
{
	static const uint8_t zero_len[] = {3, 0, 2, 4, 0x05, 0xa0, 0, 0};
	static const uint8_t after_eol[] = {0, 0, 0, 0, 2, 4, 0x05, 0xa0};
	static const uint8_t short_mss[] = {1, 1, 2, 3, 0x05, 0, 0, 0};
	const uint8_t *cases[] = {zero_len, after_eol, short_mss};
	uint8_t p[128], copy[128];

	(void)state;
	for (int i = 0; i < 3; i++) {
		size_t len = syn(p, 0x02, cases[i], 8, 0);

		memcpy(copy, p, len);
		assert_int_equal(mss_clamp(p, len, 1220), 0);
		assert_memory_equal(p, copy, len);
	}
	/* truncated before the TCP header ends; not IPv6; UDP */
	size_t len = syn(p, 0x02, mss1440, sizeof(mss1440), 0);
	assert_int_equal(mss_clamp(p, 62, 1220), 0);
	p[0] = 0x45;
	assert_int_equal(mss_clamp(p, len, 1220), 0);
	p[0] = 0x60;
	p[6] = 17;
	assert_int_equal(mss_clamp(p, len, 1220), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(clamps_1440_to_1220),
	    cmocka_unit_test(clamps_a_syn_ack_too),
	    cmocka_unit_test(odd_offset_option_keeps_the_checksum_right),
	    cmocka_unit_test(through_a_hop_by_hop_header),
	    cmocka_unit_test(leaves_small_mss_and_non_syn_alone),
	    cmocka_unit_test(leaves_malformed_options_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
