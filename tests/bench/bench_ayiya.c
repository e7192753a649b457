/*
 * AYIYA signing cost per packet: the codec's reused SHA-1 context against
 * a per-packet one-shot hash (what a naive data path does), both over the
 * same datagrams, measured side by side in one run.  Prints ns/packet and
 * the ratio; asserts nothing about speed (that is for a person to read).
 *
 * Second table: the receive side, ayiya_open alone (the code without the
 * replay filter) against ayiya_open followed by replay_check, over the
 * same distinct datagrams.
 *
 *   bench_ayiya [PACKETS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ayiya.h"
#include "replay.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The naive way: one-shot hashes (a context set up and torn down) per packet. */
static void seal_naive(uint8_t *pkt, size_t payload_len, const uint8_t key[20])
{
	uint8_t sig[20];

	memcpy(pkt + 24, key, 20);
	gnutls_hash_fast(GNUTLS_DIG_SHA1, pkt, AYIYA_HDR_LEN + payload_len, sig);
	memcpy(pkt + 24, sig, 20);
}

static double run(int naive, struct ayiya *ay, const uint8_t key[20], uint8_t *pkt, size_t payload,
                  long n)
{
	struct in6_addr id;
	double t0;

	inet_pton(AF_INET6, "2001:db8:a::2", &id);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		if (naive)
			seal_naive(pkt, payload, key);
		else
			ayiya_seal(ay, pkt, payload, AYIYA_OP_FORWARD, AYIYA_NH_IPV6, &id,
			           1700000000u);
	}
	return (now_s() - t0) * 1e9 / (double)n;
}

#define RX_PKTS 4096

/* Receive n datagrams out of pkts (RX_PKTS of slot bytes each), with or without the filter. */
static double run_rx(int filter, struct ayiya *ay, uint8_t *pkts, size_t slot, size_t len, long n)
{
	static struct replay r;
	struct ayiya_view v;
	unsigned long dropped = 0;
	double t0;

	memset(&r, 0, sizeof(r));
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		uint8_t *pkt = pkts + (size_t)(i % RX_PKTS) * slot;
		uint32_t epoch = 1700000000u + (uint32_t)(i % RX_PKTS) / 1024;

		if (ayiya_open(ay, pkt, len, NULL, 0, epoch, &v) != AYIYA_OK)
			dropped++;
		else if (filter && replay_check(&r, pkt + 24, v.epoch) != REPLAY_OK)
			dropped++;
	}
	(void)dropped; /* repeats after the first round are duplicates; same cost */
	return (now_s() - t0) * 1e9 / (double)n;
}

static void bench_rx(struct ayiya *ay, long n)
{
	static const size_t sizes[] = {40, 576, 1280};
	struct in6_addr id;
	size_t slot = AYIYA_HDR_LEN + 1280;
	uint8_t *pkts = calloc(RX_PKTS, slot);

	if (!pkts)
		return;
	inet_pton(AF_INET6, "2001:db8:a::1", &id);
	printf("\n%-10s %14s %14s %8s\n", "payload", "open ns/pkt", "+replay ns/pkt", "ratio");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = 0;
		double a, b;

		for (size_t i = 0; i < RX_PKTS; i++) {
			uint8_t *pkt = pkts + i * slot;

			memset(pkt + AYIYA_HDR_LEN, (int)i, sizes[s]);
			pkt[AYIYA_HDR_LEN] = 0x60;
			len = ayiya_seal(ay, pkt, sizes[s], AYIYA_OP_FORWARD, AYIYA_NH_IPV6, &id,
			                 1700000000u + (uint32_t)i / 1024);
		}
		run_rx(1, ay, pkts, slot, len, n / 10); /* warm up */
		a = run_rx(0, ay, pkts, slot, len, n);
		b = run_rx(1, ay, pkts, slot, len, n);
		printf("%-10zu %14.1f %14.1f %7.2fx\n", sizes[s], a, b, b / a);
	}
	free(pkts);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {40, 576, 1280};
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct ayiya *ay = ayiya_new("bench-password");
	uint8_t key[20], *pkt = calloc(1, AYIYA_HDR_LEN + 1280);

	if (!ay || !pkt || n <= 0)
		return 1;
	gnutls_hash_fast(GNUTLS_DIG_SHA1, "bench-password", 14, key);
	printf("%-10s %14s %14s %8s\n", "payload", "reused ns/pkt", "one-shot ns/pkt", "ratio");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double a, b;

		run(0, ay, key, pkt, sizes[i], n / 10); /* warm up */
		a = run(0, ay, key, pkt, sizes[i], n);
		b = run(1, ay, key, pkt, sizes[i], n);
		printf("%-10zu %14.1f %14.1f %7.2fx\n", sizes[i], a, b, b / a);
	}
	bench_rx(ay, n);
	ayiya_free(ay);
	free(pkt);
	return 0;
}
