/*
 * libFuzzer target: the tunnel cache file's text (anyone who can write
 * the state directory, or a broker through what it made us store) through
 * cache_parse; what parses must be printed and read back to the same.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "fuzz.h"

static void round_trip(const struct tic_tunnel *t, time_t fetched)
{
	static char buf[CACHE_FILE_MAX + 64];
	struct tic_tunnel back;
	time_t f2, failed2;
	char err[TIC_ERR_MAX];
	int n = tic_show_format(t, buf, sizeof(buf) - 64);

	FUZZ_CHECK(n > 0);
	n += snprintf(buf + n, 64, "Fetched: %lld\n", (long long)fetched);
	FUZZ_CHECK(cache_parse(buf, (size_t)n, &back, &f2, &failed2, err, sizeof(err)) == 0);
	FUZZ_CHECK(f2 == fetched && failed2 == 0);
	FUZZ_CHECK(!strcmp(back.id, t->id) && !strcmp(back.pop_id, t->pop_id));
	FUZZ_CHECK(!memcmp(&back.params, &t->params, sizeof(t->params)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tic_tunnel t;
	time_t fetched, failed;
	char err[TIC_ERR_MAX];
	char *buf = malloc(size + 1);

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&t, 0, sizeof(t));
	if (cache_parse(buf, size, &t, &fetched, &failed, err, sizeof(err)) == 0) {
		/* what passed holds no byte that could break a log line or the file */
		for (const char *p = t.pop_id; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		FUZZ_CHECK(t.params.prefix_len >= 64 && t.params.prefix_len <= 128);
		round_trip(&t, fetched);
	} else {
		FUZZ_CHECK(err[0] && strlen(err) < sizeof(err));
	}
	free(buf);
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	static const char *const extra[] = {"", "Failed: 1700000500\n",
	                                    "Tunnel Name: home\x1b[1m\n", "POP Id: p o p\n",
	                                    "Some Key: x\n"};
	int n =
	    snprintf((char *)buf, cap,
	             "TunnelId: T%u\nType: %s\nIPv6 Endpoint: 2001:db8:%x::2\n"
	             "IPv6 POP: 2001:db8:%x::1\nIPv6 PrefixLength: %u\nIPv4 Endpoint: "
	             "heartbeat\nIPv4 POP: 192.0.2.%u\nUserState: enabled\nAdminState: "
	             "enabled\nPassword: pw%u\nHeartbeat_Interval: 60\nTunnel MTU: %u\n%s"
	             "Fetched: %u\n",
	             seed % 1000, seed & 1 ? "ayiya" : "6in4-heartbeat", seed % 0xffff,
	             seed % 0xffff, 64 + (seed >> 3) % 2 * 0, 1 + (seed >> 4) % 250, seed,
	             1280 + (seed >> 5) % 200, extra[(seed >> 8) % 5], 1700000000u + seed % 999);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
