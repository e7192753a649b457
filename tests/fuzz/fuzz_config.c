/*
 * libFuzzer target: a tunnel file through the config parser (inih with
 * our line reader and handler, then validation), the way aiccud, -n and
 * check-config read it.  The input is written to a private 0600 file
 * that config_load_tunnel reads back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static int fd = -1;
static char path[64];

/* A 0600 file of our own, unlinked at once: read back through /proc, nothing left behind. */
static void open_file(void)
{
	char tmp[] = "/tmp/aiccud-fuzz-config-XXXXXX";

	fd = mkstemp(tmp);
	FUZZ_CHECK(fd >= 0);
	unlink(tmp);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
}

static void check_entry(const struct tunnel_entry *te, const struct config_diag *diag)
{
	const struct tunnel_conf *tc = &te->conf;

	FUZZ_CHECK(memchr(tc->name, '\0', sizeof(tc->name)) != NULL);
	FUZZ_CHECK(memchr(te->error, '\0', sizeof(te->error)) != NULL);
	if (te->valid) {
		FUZZ_CHECK(tc->name[0] && tc->nrouted <= TUNNEL_ROUTED_MAX);
		/* 0: left out, aiccud assigns one; never the kernel's own 253..255 */
		FUZZ_CHECK(tc->table < 253 || tc->table > 255);
		if (!tc->tic)
			FUZZ_CHECK(tc->params.prefix_len <= 128);
	} else {
		FUZZ_CHECK(te->error[0]);
	}
	/* every message says where: "file:line: ..." */
	for (size_t i = 0; i < diag->count; i++)
		FUZZ_CHECK(strncmp(diag->msgs[i], path, strlen(path)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tunnel_entry te;
	struct config_diag diag = {0};

	if (fd < 0)
		open_file();
	if (size > 65536)
		return 0;
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size);
	memset(&te, 0, sizeof(te));
	(void)config_load_tunnel(path, &te, &diag);
	check_entry(&te, &diag);
	config_diag_free(&diag);
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	int n;

	if (seed & 1)
		n = snprintf((char *)buf, cap,
		             "[tunnel]\ninterface = sixxs%u\nid = T%u\ntable = %u\nrule_priority = "
		             "%u\nrouted = 2001:db8:%x::/48\n[tic]\nserver = tic.test\nusername = "
		             "u\npassword = p\n",
		             seed % 10, seed % 9999, 200 + seed % 50, 1000 + seed % 50,
		             seed % 0xfff);
	else
		n = snprintf(
		    (char *)buf, cap,
		    "# file\n[tunnel]\ninterface = sixxs%u\ntic = no\ntable = %u\nmtu = %u\n"
		    "\n[params]\ntype = %s\nipv6_local = 2001:db8:%x::2\nipv6_pop = "
		    "2001:db8:%x::1\nprefix_len = 64\nipv4_pop = 192.0.2.%u\npassword = "
		    "secret\nheartbeat_interval = 60\n",
		    seed % 10, 200 + seed % 50, 1280 + seed % 300,
		    seed & 2 ? "ayiya" : "6in4-heartbeat", seed % 0xfff, seed % 0xfff,
		    1 + seed % 200);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
