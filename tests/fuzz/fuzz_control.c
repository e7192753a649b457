/*
 * libFuzzer target: the control socket's request parser.  Any peer that
 * may connect (0660 socket: the control group, or root's mistakes) sends
 * bytes in any chunks; creq_scan must find the line or the first bad byte
 * the same way however they arrive, and creq_split must give words of
 * allowed bytes only.
 */
#include <errno.h>
#include <string.h>

#include "control_req.h"
#include "fuzz.h"

#define LINE_MAX_ 512

static void check_words(char *line, size_t len)
{
	char *argv[5];
	int argc = creq_split(line, argv, 4);

	FUZZ_CHECK(argc == -E2BIG || (argc >= 0 && argc <= 4));
	for (int i = 0; i < argc; i++) {
		FUZZ_CHECK(argv[i] >= line && argv[i] < line + len && argv[i][0]);
		for (const char *p = argv[i]; *p; p++)
			FUZZ_CHECK(*p > 0x20 && *p < 0x7f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[LINE_MAX_ + 1];
	enum creq_status whole, part = CREQ_INCOMPLETE;
	size_t at = 0, at2 = 0, chunk, have = 0;

	if (size < 1)
		return 0;
	chunk = data[0] % 16 + 1;
	data++;
	size--;
	if (size > LINE_MAX_ - 1)
		size = LINE_MAX_ - 1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	whole = creq_scan(buf, size, LINE_MAX_ - 1, &at);
	/* the control socket's reads: what arrived so far, in chunks */
	while (part == CREQ_INCOMPLETE && have < size) {
		have = have + chunk < size ? have + chunk : size;
		part = creq_scan(buf, have, LINE_MAX_ - 1, &at2);
	}
	if (part != CREQ_INCOMPLETE || whole != CREQ_INCOMPLETE) {
		/* A CR at the end of a chunk may still become CR LF: the final answer matches. */
		FUZZ_CHECK(part == whole);
		FUZZ_CHECK(at == at2);
	}
	if (whole == CREQ_LINE) {
		FUZZ_CHECK(at < size &&
		           (buf[at] == '\n' || (buf[at] == '\r' && buf[at + 1] == '\n')));
		buf[at] = '\0';
		check_words(buf, at);
	}
	if (whole == CREQ_BAD_BYTE)
		FUZZ_CHECK(at < size);
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	static const char *const reqs[] = {"status\n",
	                                   "status sixxs0\n",
	                                   "start --no-wait sixxs1\r\n",
	                                   "stop\t--all\n",
	                                   "restart sixxs0 sixxs1 x y z\n",
	                                   "version",
	                                   "status \x1b[1m\n",
	                                   "check-config\n"};
	const char *r = reqs[seed % 8];
	size_t n = strlen(r);

	if (n + 1 > cap)
		return 0;
	buf[0] = (uint8_t)(seed >> 8);
	memcpy(buf + 1, r, n);
	return n + 1;
}
