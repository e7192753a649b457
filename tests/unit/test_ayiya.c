/*
 * AYIYA codec.  Expected digests come from coreutils' sha1sum, run on bytes
 * this test lays out itself from PROTOCOLS.md section 4, never from the code
 * under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "ayiya.h"

#define PASSWORD    "aiccud-test-password"
#define VECTOR_PW   "vector-Pa55word" /* no shell metacharacters: it goes through sh */
#define EPOCH       1700000000u
#define PKT_MAX     2048
#define SHA1_HEXLEN 40

/* Byte values straight from the spec's header diagram. */
#define SPEC_BYTE0 ((4 << 4) | 1) /* IdLen 4, IdType 1 (integer) */
#define SPEC_BYTE1 ((5 << 4) | 2) /* SigLen 5 (20 bytes), HshMeth 2 (SHA-1) */
#define SPEC_AUTH  1              /* AutMeth 1 (shared secret), high nibble of byte 2 */

struct fixture {
	struct ayiya *a;
	struct in6_addr local; /* 2001:db8:a::2, the client */
	struct in6_addr pop;   /* 2001:db8:a::1, the PoP */
	uint8_t pkt[PKT_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->a = ayiya_new(PASSWORD);
	if (!f->a || inet_pton(AF_INET6, "2001:db8:a::2", &f->local) != 1 ||
	    inet_pton(AF_INET6, "2001:db8:a::1", &f->pop) != 1)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ayiya_free(f->a);
	free(f);
	return 0;
}

/* ayiya_open, checking that the datagram is byte-for-byte unchanged after. */
static enum ayiya_verdict open_checked(struct ayiya *a, uint8_t *pkt, size_t len,
                                       const struct in6_addr *id, unsigned prefix, uint32_t now,
                                       struct ayiya_view *v)
{
	static uint8_t before[PKT_MAX];
	enum ayiya_verdict verdict;

	assert_true(len <= sizeof(before));
	memcpy(before, pkt, len);
	verdict = ayiya_open(a, pkt, len, id, prefix, now, v);
	assert_memory_equal(before, pkt, len);
	return verdict;
}

/* A minimal IPv6 header (no next header, empty body) from src to dst. */
static size_t make_ipv6(uint8_t *p, const struct in6_addr *src, const struct in6_addr *dst)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = 59; /* no next header */
	p[7] = 64; /* hop limit */
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

static size_t seal_forward(struct fixture *f, uint32_t epoch)
{
	size_t n = make_ipv6(f->pkt + AYIYA_HDR_LEN, &f->local, &f->pop);

	return ayiya_seal(f->a, f->pkt, n, AYIYA_OP_FORWARD, AYIYA_NH_IPV6, &f->local, epoch);
}

static void test_new_rejects_null_password(void **state)
{
	(void)state;
	assert_null(ayiya_new(NULL));
	ayiya_free(NULL); /* must be a no-op */
}

static void test_round_trip_noop(void **state)
{
	struct fixture *f = *state;
	struct ayiya_view v;
	size_t len = ayiya_seal(f->a, f->pkt, 0, AYIYA_OP_NOOP, AYIYA_NH_NONE, &f->local, EPOCH);

	assert_int_equal(len, AYIYA_HDR_LEN);
	assert_int_equal(f->pkt[0], SPEC_BYTE0);
	assert_int_equal(f->pkt[1], SPEC_BYTE1);
	assert_int_equal(f->pkt[2], (SPEC_AUTH << 4) | AYIYA_OP_NOOP);
	assert_int_equal(f->pkt[3], 59);
	assert_int_equal(f->pkt[4], (EPOCH >> 24) & 0xff);
	assert_int_equal(f->pkt[5], (EPOCH >> 16) & 0xff);
	assert_int_equal(f->pkt[6], (EPOCH >> 8) & 0xff);
	assert_int_equal(f->pkt[7], EPOCH & 0xff);
	assert_memory_equal(f->pkt + 8, &f->local, 16);

	assert_int_equal(open_checked(f->a, f->pkt, len, &f->local, 0, EPOCH, &v), AYIYA_OK);
	assert_int_equal(v.opcode, AYIYA_OP_NOOP);
	assert_int_equal(v.next_header, AYIYA_NH_NONE);
	assert_int_equal(v.epoch, EPOCH);
	assert_memory_equal(&v.identity, &f->local, 16);
	assert_int_equal(v.payload_len, 0);
}

static void test_round_trip_forward(void **state)
{
	struct fixture *f = *state;
	struct ayiya_view v;
	uint8_t inner[40];
	size_t len;

	make_ipv6(inner, &f->local, &f->pop);
	len = seal_forward(f, EPOCH);
	assert_int_equal(len, AYIYA_HDR_LEN + sizeof(inner));
	assert_int_equal(f->pkt[2], (SPEC_AUTH << 4) | AYIYA_OP_FORWARD);
	assert_int_equal(f->pkt[3], 41);

	assert_int_equal(open_checked(f->a, f->pkt, len, &f->local, 128, EPOCH, &v), AYIYA_OK);
	assert_int_equal(v.opcode, AYIYA_OP_FORWARD);
	assert_int_equal(v.next_header, AYIYA_NH_IPV6);
	assert_ptr_equal(v.payload, f->pkt + AYIYA_HDR_LEN);
	assert_int_equal(v.payload_len, sizeof(inner));
	assert_memory_equal(v.payload, inner, sizeof(inner));
}

/* Every opcode survives a round trip, also reusing one context many times. */
static void test_round_trip_all_opcodes(void **state)
{
	struct fixture *f = *state;
	struct ayiya_view v;

	for (int round = 0; round < 3; round++) {
		for (unsigned op = AYIYA_OP_NOOP; op <= AYIYA_OP_QUERY_RESPONSE; op++) {
			size_t len = ayiya_seal(f->a, f->pkt, 0, (enum ayiya_opcode)op,
			                        AYIYA_NH_NONE, &f->local, EPOCH + op);

			assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH + op, &v),
			                 AYIYA_OK);
			assert_int_equal(v.opcode, op);
		}
	}
}

static void test_short(void **state)
{
	struct fixture *f = *state;
	struct ayiya_view v;
	size_t len = ayiya_seal(f->a, f->pkt, 0, AYIYA_OP_NOOP, AYIYA_NH_NONE, &f->local, EPOCH);

	assert_int_equal(open_checked(f->a, f->pkt, 0, NULL, 0, EPOCH, &v), AYIYA_ERR_SHORT);
	assert_int_equal(open_checked(f->a, f->pkt, AYIYA_HDR_LEN - 1, NULL, 0, EPOCH, &v),
	                 AYIYA_ERR_SHORT);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH, &v), AYIYA_OK);
}

/* Each fixed header nibble: (byte, shift) of IdLen, IdType, SigLen, HshMeth, AutMeth. */
static void test_bad_header_fields(void **state)
{
	static const struct {
		unsigned byte, shift;
		const char *name;
	} nib[] = {{0, 4, "IdLen"},
	           {0, 0, "IdType"},
	           {1, 4, "SigLen"},
	           {1, 0, "HshMeth"},
	           {2, 4, "AutMeth"}};
	struct fixture *f = *state;
	struct ayiya_view v;

	for (size_t i = 0; i < sizeof(nib) / sizeof(nib[0]); i++) {
		for (unsigned val = 0; val < 16; val++) {
			size_t len = seal_forward(f, EPOCH);
			uint8_t *b = &f->pkt[nib[i].byte];
			unsigned orig = (*b >> nib[i].shift) & 0x0f;

			if (val == orig)
				continue;
			*b = (uint8_t)((*b & ~(0x0f << nib[i].shift)) | (val << nib[i].shift));
			if (open_checked(f->a, f->pkt, len, &f->local, 0, EPOCH, &v) !=
			    AYIYA_ERR_HEADER)
				fail_msg("%s = %u was not rejected as a header error", nib[i].name,
				         val);
		}
	}
}

static void test_identity(void **state)
{
	struct fixture *f = *state;
	struct ayiya_view v;
	size_t len = seal_forward(f, EPOCH);

	assert_int_equal(open_checked(f->a, f->pkt, len, &f->pop, 0, EPOCH, &v),
	                 AYIYA_ERR_IDENTITY);
	assert_int_equal(open_checked(f->a, f->pkt, len, &f->pop, 128, EPOCH, &v),
	                 AYIYA_ERR_IDENTITY);
	/* NULL: any identity */
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH, &v), AYIYA_OK);
	/* ::1 and ::2 share their first 126 bits */
	assert_int_equal(open_checked(f->a, f->pkt, len, &f->pop, 64, EPOCH, &v), AYIYA_OK);
	assert_int_equal(open_checked(f->a, f->pkt, len, &f->pop, 126, EPOCH, &v), AYIYA_OK);
	assert_int_equal(open_checked(f->a, f->pkt, len, &f->pop, 127, EPOCH, &v),
	                 AYIYA_ERR_IDENTITY);
	/* beyond 128 bits means all of them */
	assert_int_equal(open_checked(f->a, f->pkt, len, &f->pop, 200, EPOCH, &v),
	                 AYIYA_ERR_IDENTITY);
}

/* Expecting an address that differs in bit b: a b-bit prefix matches, b+1 does not. */
static void test_identity_prefix_bits(void **state)
{
	struct fixture *f = *state;
	struct ayiya_view v;
	size_t len = seal_forward(f, EPOCH);

	for (unsigned b = 1; b < 128; b++) {
		struct in6_addr want = f->local;

		want.s6_addr[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
		if (open_checked(f->a, f->pkt, len, &want, b, EPOCH, &v) != AYIYA_OK)
			fail_msg("bit %u differs, a %u-bit prefix should match", b, b);
		if (open_checked(f->a, f->pkt, len, &want, b + 1, EPOCH, &v) != AYIYA_ERR_IDENTITY)
			fail_msg("bit %u differs, a %u-bit prefix should not match", b, b + 1);
	}
}

static void test_clock(void **state)
{
	struct fixture *f = *state;
	struct ayiya_view v;
	size_t len = seal_forward(f, EPOCH);

	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH + 120, &v), AYIYA_OK);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH - 120, &v), AYIYA_OK);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH + 121, &v),
	                 AYIYA_ERR_CLOCK);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH - 121, &v),
	                 AYIYA_ERR_CLOCK);
	/* no modular arithmetic: 0 and 2^32-1 are far apart */
	len = seal_forward(f, 0);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, UINT32_MAX, &v), AYIYA_ERR_CLOCK);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, 120, &v), AYIYA_OK);
}

/* One flipped bit anywhere the signature covers breaks it. */
static void test_signature_bit_flips(void **state)
{
	static const struct {
		size_t byte;
		uint8_t bit;
		const char *where;
	} flips[] = {
	    {2, 0x01, "opcode"},          {3, 0x01, "next header"},
	    {7, 0x01, "epoch"},           {8, 0x80, "identity first"},
	    {23, 0x01, "identity last"},  {24, 0x80, "signature first"},
	    {43, 0x01, "signature last"}, {44, 0x01, "payload first"},
	    {83, 0x80, "payload last"},
	};
	struct fixture *f = *state;
	struct ayiya_view v;

	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		size_t len = seal_forward(f, EPOCH);

		assert_int_equal(len, 84);
		f->pkt[flips[i].byte] ^= flips[i].bit;
		if (open_checked(f->a, f->pkt, len, NULL, 0, EPOCH, &v) != AYIYA_ERR_SIGNATURE)
			fail_msg("flipped bit in %s was not caught", flips[i].where);
	}
}

static void test_wrong_password(void **state)
{
	struct fixture *f = *state;
	struct ayiya *other = ayiya_new(PASSWORD "x");
	struct ayiya_view v;
	size_t len;

	assert_non_null(other);
	len = ayiya_seal(other, f->pkt, 0, AYIYA_OP_NOOP, AYIYA_NH_NONE, &f->local, EPOCH);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH, &v), AYIYA_ERR_SIGNATURE);
	assert_int_equal(open_checked(other, f->pkt, len, NULL, 0, EPOCH, &v), AYIYA_OK);
	ayiya_free(other);
}

static void test_payload(void **state)
{
	struct fixture *f = *state;
	struct ayiya_view v;
	size_t len;

	/* NextHeader 41 with an IPv4 packet inside */
	seal_forward(f, EPOCH);
	f->pkt[AYIYA_HDR_LEN] = 0x45;
	len = ayiya_seal(f->a, f->pkt, 40, AYIYA_OP_FORWARD, AYIYA_NH_IPV6, &f->local, EPOCH);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH, &v), AYIYA_ERR_PAYLOAD);

	/* the version check applies to IPv6 payloads only */
	len = ayiya_seal(f->a, f->pkt, 40, AYIYA_OP_FORWARD, AYIYA_NH_NONE, &f->local, EPOCH);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH, &v), AYIYA_OK);

	/* NextHeader 41 and nothing after the header */
	len = ayiya_seal(f->a, f->pkt, 0, AYIYA_OP_FORWARD, AYIYA_NH_IPV6, &f->local, EPOCH);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH, &v), AYIYA_ERR_PAYLOAD);

	/* a one-byte payload that only says "version 6" is enough for the codec */
	f->pkt[AYIYA_HDR_LEN] = 0x60;
	len = ayiya_seal(f->a, f->pkt, 1, AYIYA_OP_FORWARD, AYIYA_NH_IPV6, &f->local, EPOCH);
	assert_int_equal(open_checked(f->a, f->pkt, len, NULL, 0, EPOCH, &v), AYIYA_OK);
}

/* Run a shell command and read the first 40 hex digits it prints. */
static void sha1_tool(const char *cmd, uint8_t digest[20])
{
	char line[256];
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	assert_true(strspn(line, "0123456789abcdef") >= SHA1_HEXLEN);
	for (int i = 0; i < 20; i++) {
		unsigned byte;

		assert_int_equal(sscanf(line + 2 * i, "%2x", &byte), 1);
		digest[i] = (uint8_t)byte;
	}
}

/* sha1sum over bytes written to a temporary file. */
static void sha1_of_bytes(const uint8_t *data, size_t len, uint8_t digest[20])
{
	char path[] = "/tmp/aiccud-test-ayiya-XXXXXX";
	char cmd[128];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "sha1sum %s", path);
	sha1_tool(cmd, digest);
	unlink(path);
}

/*
 * A datagram laid out by hand: header, identity 2001:db8:a::2, epoch
 * 1700000000, K = SHA-1(password) from sha1sum, a 40-byte IPv6 payload; the
 * signature is sha1sum over all of it.  The codec must produce exactly this.
 */
static void test_vector_against_sha1sum(void **state)
{
	struct fixture *f = *state;
	struct ayiya *a = ayiya_new(VECTOR_PW);
	uint8_t expect[AYIYA_HDR_LEN + 40], key[20], sig[20];
	struct ayiya_view v;
	size_t plen, len;

	assert_non_null(a);
	/* exercise the shared context first: it must be clean for every packet */
	for (int i = 0; i < 5; i++) {
		len = ayiya_seal(a, f->pkt, 0, AYIYA_OP_NOOP, AYIYA_NH_NONE, &f->pop, EPOCH);
		ayiya_open(a, f->pkt, len - 1, NULL, 0, EPOCH, &v);
		f->pkt[30] ^= 1;
		ayiya_open(a, f->pkt, len, NULL, 0, EPOCH, &v);
	}

	sha1_tool("printf %s '" VECTOR_PW "' | sha1sum", key);
	expect[0] = SPEC_BYTE0;
	expect[1] = SPEC_BYTE1;
	expect[2] = (SPEC_AUTH << 4) | 1; /* forward */
	expect[3] = 41;
	expect[4] = (uint8_t)(EPOCH >> 24);
	expect[5] = (uint8_t)(EPOCH >> 16);
	expect[6] = (uint8_t)(EPOCH >> 8);
	expect[7] = (uint8_t)EPOCH;
	memcpy(expect + 8, &f->local, 16);
	memcpy(expect + 24, key, 20);
	plen = make_ipv6(expect + AYIYA_HDR_LEN, &f->local, &f->pop);
	sha1_of_bytes(expect, sizeof(expect), sig);
	memcpy(expect + 24, sig, 20);

	memset(f->pkt, 0xa5, AYIYA_HDR_LEN);
	make_ipv6(f->pkt + AYIYA_HDR_LEN, &f->local, &f->pop);
	len = ayiya_seal(a, f->pkt, plen, AYIYA_OP_FORWARD, AYIYA_NH_IPV6, &f->local, EPOCH);
	assert_int_equal(len, sizeof(expect));
	assert_memory_equal(f->pkt, expect, sizeof(expect));

	/* and the independently built datagram opens */
	assert_int_equal(open_checked(a, expect, sizeof(expect), &f->local, 0, EPOCH, &v),
	                 AYIYA_OK);
	assert_int_equal(open_checked(f->a, expect, sizeof(expect), NULL, 0, EPOCH, &v),
	                 AYIYA_ERR_SIGNATURE);
	ayiya_free(a);
}

static void test_verdict_names(void **state)
{
	const char *seen[AYIYA_VERDICT_COUNT];

	(void)state;
	for (int i = 0; i < AYIYA_VERDICT_COUNT; i++) {
		seen[i] = ayiya_verdict_name((enum ayiya_verdict)i);
		assert_non_null(seen[i]);
		assert_string_not_equal(seen[i], "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
	assert_string_equal(ayiya_verdict_name(AYIYA_OK), "ok");
	assert_string_equal(ayiya_verdict_name(AYIYA_ERR_SIGNATURE), "signature");
	assert_string_equal(ayiya_verdict_name(AYIYA_VERDICT_COUNT), "unknown");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_rejects_null_password),
	    T(test_round_trip_noop),
	    T(test_round_trip_forward),
	    T(test_round_trip_all_opcodes),
	    T(test_short),
	    T(test_bad_header_fields),
	    T(test_identity),
	    T(test_identity_prefix_bits),
	    T(test_clock),
	    T(test_signature_bit_flips),
	    T(test_wrong_password),
	    T(test_payload),
	    T(test_vector_against_sha1sum),
	    cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
