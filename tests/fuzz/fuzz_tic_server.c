/*
 * libFuzzer target: tic_server_parse, the [tic] server value (from a
 * configuration file, or a tunnel cache a broker's answer filled): it
 * either refuses or gives a non-empty host made of what names and address
 * literals are made of (no blanks, brackets or bytes outside ASCII) that
 * fits its buffer, and a port 1..65535 in decimal, and
 * the host and port it gives put together parse back to the same.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "tic.h"

#define SERVER_MAX 300

static void check_host_port(const char *host, size_t hostlen, const char *port)
{
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	FUZZ_CHECK(strlen(host) > 0 && strlen(host) < hostlen);
	/* a name or an address literal: no blanks, brackets or bytes outside ASCII */
	for (const char *c = host; *c; c++)
		FUZZ_CHECK(strchr(
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%", *c));
	FUZZ_CHECK(*port && !*end && p >= 1 && p <= 65535);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char server[SERVER_MAX + 1], host[64], port[8], again[SERVER_MAX + 16];
	char host2[64], port2[8];
	size_t hostlen = 1 + (size ? data[0] % sizeof(host) : 0);

	if (size > SERVER_MAX)
		return 0;
	/* The first byte also picks the host buffer's size: short ones must be refused, not
	 * overrun. */
	memcpy(server, data, size);
	server[size] = '\0';
	if (tic_server_parse(server, host, hostlen, port, sizeof(port)) != 0)
		return 0;
	check_host_port(host, hostlen, port);
	snprintf(again, sizeof(again), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	FUZZ_CHECK(tic_server_parse(again, host2, sizeof(host2), port2, sizeof(port2)) == 0);
	FUZZ_CHECK(!strcmp(host, host2) && !strcmp(port, port2));
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	static const char *const forms[] = {"tic.example.net",    "tic.example.net:3874",
	                                    "[2001:db8::1]:3874", "2001:db8::1",
	                                    "[2001:db8::2]",      "192.0.2.1:1"};
	const char *f = forms[seed % (sizeof(forms) / sizeof(forms[0]))];
	size_t n = strlen(f);

	if (n > cap)
		return 0;
	memcpy(buf, f, n);
	return n;
}
