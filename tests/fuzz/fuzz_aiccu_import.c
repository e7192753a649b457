/*
 * libFuzzer target: import-aiccu's converter on any old AICCU file (a
 * file an operator may have got from anywhere); what it writes must be
 * one tunnel file whose notes are single lines.
 */
#include <errno.h>
#include <string.h>

#include "aiccu_import.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aiccu_import_opts opts = {.source = "aiccu.conf"};
	struct aiccu_import out;
	int r;

	memset(&out, 0, sizeof(out));
	if (size && data[0] & 1)
		opts.interface = "sixxs3";
	r = aiccu_import((const char *)data, size, &opts, &out);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r == 0) {
		for (size_t i = 0; i < out.nnotes; i++)
			FUZZ_CHECK(out.notes[i] && !strchr(out.notes[i], '\n'));
		if (out.complete)
			FUZZ_CHECK(out.text != NULL);
		if (out.text)
			FUZZ_CHECK(strstr(out.text, "[tunnel]") != NULL);
	}
	aiccu_import_free(&out);
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	static const char *const protos[] = {"tic", "ayiya", "tsp", "l2tp"};
	int n = snprintf((char *)buf, cap,
	                 "# AICCU config\nusername ABC%u-SIXXS\npassword \"pw %u\"\nprotocol %s\n"
	                 "server tic.sixxs.net\nipv6_interface sixxs%u\ntunnel_id T%u\nverbose "
	                 "false\ndaemonize true\nautomatic true\nrequiretls %s\nbehindnat %s\n"
	                 "setupscript /etc/aiccu-subnets.sh\ndefaultroute true\n",
	                 seed % 100, seed, protos[seed % 4], seed % 10, seed % 100000,
	                 seed & 16 ? "true" : "false", seed & 32 ? "true" : "false");

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
