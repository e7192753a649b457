/*
 * libFuzzer target: arbitrary bytes as a limiter state file.
 *
 * Byte 0 picks the mode: odd means "append a valid checksum line", so the
 * fuzzer also reaches the field parser behind the SHA-256 check; byte 1
 * picks the boot id of "now" (same as a state the fuzzer may name, or
 * another).  Whatever the input, the limiter must never end up fuller than
 * the file could justify:
 *   - tokens never exceed burst;
 *   - a rejected or rebased state never grants at once;
 *   - what it accepted serializes and parses back to the same bucket.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Isupervisor -Itunnels
 *        tests/fuzz/fuzz_limiter_state.c supervisor/limiter.c -lnettle -lgnutls
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "fuzz.h"
#include "limiter.h"

#define BOOT_A "3f1c2b6e-8d4a-4c2e-9b1a-0a1b2c3d4e5f"
#define BOOT_B "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_limiter_state: %s\n", what);
		abort();
	}
}

/* data + "sha256 <hex of data>\n", or NULL when it does not fit. */
static char *with_checksum(const uint8_t *data, size_t size, size_t *out_len)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	char *buf;
	size_t i, n;

	if (size > LIMITER_STATE_MAX)
		return NULL;
	buf = malloc(size + 7 + 64 + 1);
	if (!buf)
		return NULL;
	memcpy(buf, data, size);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, size, md) < 0) {
		free(buf);
		return NULL;
	}
	n = size;
	memcpy(buf + n, "sha256 ", 7);
	n += 7;
	for (i = 0; i < sizeof(md); i++) {
		buf[n++] = digits[md[i] >> 4];
		buf[n++] = digits[md[i] & 15];
	}
	buf[n++] = '\n';
	*out_len = n;
	return buf;
}

/* Tokens now and seconds until a grant, as the product reads them (limiter_status). */
static unsigned tokens_now(const struct limiter *l, const struct limiter_now *now)
{
	struct limiter_status st;

	limiter_status(l, now, &st);
	return st.tokens;
}

static double next_grant_s(const struct limiter *l, const struct limiter_now *now)
{
	struct limiter_status st;

	limiter_status(l, now, &st);
	return st.next_grant_s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limiter_now now = {.boot_ms = 50000000, .wall_ms = 1700000000000LL};
	struct limiter l, back;
	char out[LIMITER_STATE_MAX], *buf;
	size_t len;
	int rc, n;

	if (size < 2)
		return 0;
	snprintf(now.boot_id, sizeof(now.boot_id), "%s", data[1] & 1 ? BOOT_A : BOOT_B);
	if (data[1] & 2)
		now.boot_id[0] = '\0'; /* boot id unknown */
	if (data[0] & 1) {
		buf = with_checksum(data + 2, size - 2, &len);
		if (!buf)
			return 0;
	} else {
		len = size - 2;
		buf = malloc(len ? len : 1);
		if (!buf)
			return 0;
		memcpy(buf, data + 2, len);
	}
	check(limiter_init(&l, 1 + (data[0] >> 1) % 2, 30, &now) == 0, "init");
	rc = limiter_parse(&l, buf, len, &now);
	free(buf);
	check(rc == 0 || rc == LIMITER_STATE_NEW_BOOT || rc == LIMITER_STATE_NEW_PARAMS ||
	          rc == -EBADMSG,
	      "unexpected result");
	check(tokens_now(&l, &now) <= l.burst, "more tokens than burst");
	if (rc != 0) {
		struct limiter c = l;

		check(tokens_now(&l, &now) == 0, "rejected state has tokens");
		check(!limiter_take(&c, &now, NULL), "rejected state grants at once");
	}
	n = limiter_serialize(&l, out, sizeof(out));
	check(n > 0, "serialize");
	check(limiter_init(&back, l.burst, l.refill, &now) == 0, "init back");
	if (now.boot_id[0]) {
		check(limiter_parse(&back, out, (size_t)n, &now) == 0, "own output refused");
		check(tokens_now(&back, &now) == tokens_now(&l, &now), "round trip tokens");
		check(next_grant_s(&back, &now) == next_grant_s(&l, &now), "round trip next");
	} else {
		check(limiter_parse(&back, out, (size_t)n, &now) == LIMITER_STATE_NEW_BOOT,
		      "unknown boot id accepted");
	}
	return 0;
}

/* A state the limiter itself wrote after a few grants, for the smoke runner. */
size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	/* Written before the "now" the target parses at, as a real state is. */
	struct limiter_now now = {.boot_ms = 50000000 - 200000,
	                          .wall_ms = 1700000000000LL - 200000};
	struct limiter l;
	char out[LIMITER_STATE_MAX];
	int n;

	snprintf(now.boot_id, sizeof(now.boot_id), "%s", seed & 1 ? BOOT_A : BOOT_B);
	if (limiter_init(&l, 1 + (seed >> 1) % 2, 30, &now) < 0)
		return 0;
	for (uint32_t i = 0; i < seed % 5; i++) {
		now.boot_ms += 31000;
		now.wall_ms += 31000;
		limiter_take(&l, &now, NULL);
	}
	n = limiter_serialize(&l, out, sizeof(out));
	if (n <= 0 || (size_t)n + 2 > cap)
		return 0;
	buf[0] = (uint8_t)(((seed >> 1) % 2) << 1); /* no extra checksum, same burst */
	buf[1] = (uint8_t)(seed & 1);               /* the boot id it was written in */
	memcpy(buf + 2, out, (size_t)n);
	return (size_t)n + 2;
}
