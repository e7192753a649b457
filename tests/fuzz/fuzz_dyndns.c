/*
 * dyndns_answer_parse on arbitrary bytes (what an update server, or anyone
 * in its place, can answer): always a verdict, a printable reason, and an
 * address only with a success.
 */
#include <stdio.h>
#include <string.h>

#include "dyndns.h"
#include "fuzz.h"

static const char *const bodies[] = {"good 198.51.100.7",
                                     "nochg 203.0.113.5",
                                     "badauth",
                                     "nohost",
                                     "abuse",
                                     "911",
                                     "<html>x</html>",
                                     "",
                                     "badagent"};

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	int n;

	if (seed & 1)
		n = snprintf(
		    (char *)buf, cap,
		    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
		    strlen(bodies[seed / 2 % 9]), bodies[seed / 2 % 9]);
	else
		n = snprintf((char *)buf, cap, "HTTP/1.1 %u OK\r\nContent-Length: %zu\r\n\r\n%s\n",
		             200 + seed % 400, strlen(bodies[seed / 2 % 9]) + 1,
		             bodies[seed / 2 % 9]);
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dyndns_answer a;

	if (size > DYNDNS_ANSWER_MAX)
		size = DYNDNS_ANSWER_MAX;
	dyndns_answer_parse((const char *)data, size, &a);
	FUZZ_CHECK(a.verdict == DYNDNS_OK || a.verdict == DYNDNS_RETRY || a.verdict == DYNDNS_STOP);
	FUZZ_CHECK(memchr(a.why, '\0', sizeof(a.why)) && memchr(a.word, '\0', sizeof(a.word)));
	for (const char *p = a.why; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	FUZZ_CHECK(a.verdict == DYNDNS_OK || a.addr.s_addr == 0);
	FUZZ_CHECK(a.verdict != DYNDNS_OK || !strcmp(a.word, "good") || !strcmp(a.word, "nochg"));
	return 0;
}
