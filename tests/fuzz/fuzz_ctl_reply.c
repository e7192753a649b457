/*
 * libFuzzer target: aiccuctl's reply parser.  Whatever is listening on
 * the control socket (aiccud, or something that took its place) sends
 * lines; each goes through ctl_take_line, and a final status reply
 * through the table and detail printers, the exit-code mapping and
 * aiccuctl metrics' renderer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fuzz.h"
#include "metrics.h"

/* main.c's, which the target does not link: cmd_status (never called here) refers to it. */
int ctl_usage(const char *name)
{
	(void)name;
	return EX_USAGE;
}

static void count_progress(json_t *line, void *arg)
{
	FUZZ_CHECK(json_is_object(line));
	++*(unsigned *)arg;
}

static void use_final(json_t *final)
{
	int code = ctl_exit_for(final);

	FUZZ_CHECK(code >= 0 && code < 256);
	ctl_status_print(final, false);
	ctl_status_print(final, true);
	metrics_render(final, stdout);
	json_decref(final);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	char *buf = malloc(size + 1), *line, *nl;
	unsigned progress = 0;

	if (!quiet && !getenv("FUZZ_CTL_PRINT"))
		quiet = freopen("/dev/null", "w", stdout) != NULL;
	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
		json_t *final = NULL;
		int r;

		*nl = '\0';
		r = ctl_take_line(line, count_progress, &progress, &final);
		FUZZ_CHECK(r >= -1 && r <= 1);
		FUZZ_CHECK((r == 1) == (final != NULL));
		if (r != 0) {
			if (final)
				use_final(final);
			break;
		}
	}
	free(buf);
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	int n = snprintf(
	    (char *)buf, cap,
	    "{\"progress\":\"sixxs0: waiting\"}\n"
	    "{\"ok\":true,\"tunnels\":[{\"name\":\"sixxs%u\",\"type\":\"ayiya\",\"state\":\"%s\","
	    "\"since\":%u,\"interface\":\"sixxs0\",\"local\":\"2001:db8:1::2/64\",\"pop\":"
	    "\"2001:db8:1::1\",\"pop_ipv4\":\"192.0.2.1\",\"table\":200,\"reason\":\"x\\u001b[1m\","
	    "\"counters\":{\"tx_packets\":%u,\"tx_bytes\":99,\"rx_packets\":1,\"rx_bytes\":2,"
	    "\"last_keepalive\":1700000000,\"drops\":{\"replay\":%u,\"clock\":1}},\"restarts\":0,"
	    "\"repairs\":0,\"update\":{\"last_at\":5,\"last_answer\":\"good\",\"last_address\":"
	    "\"192.0.2.7\",\"stopped\":false,\"broker_at\":5}}],\"limiter\":{\"tokens\":0,"
	    "\"burst\":1,\"refill\":30,\"next_grant_s\":1.5,\"last_grant\":%u,\"grants\":3,"
	    "\"update_buckets\":[{\"url\":\"https://u.example/\",\"tokens\":1,\"grants\":2}]}}\n",
	    seed % 10, seed & 1 ? "up" : "waiting", seed, seed >> 3, seed >> 5, seed);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
