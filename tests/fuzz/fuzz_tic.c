/*
 * libFuzzer target: arbitrary server bytes through the TIC line splitter
 * and the session state machine (and each line through the list and show
 * parsers).  Build: clang -fsanitize=fuzzer,address,undefined with
 * tunnels/tic.c, tunnels/common/tunnel.c and nettle.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "tic.h"

/* Checks that must hold whatever the server sent. */
static void check_action(const struct tic_session *s, enum tic_action a)
{
	if (a == TIC_ACT_SEND || a == TIC_ACT_SEND_CLOSE) {
		/* exactly one line, LF-terminated, nothing the server could inject */
		FUZZ_CHECK(s->outlen > 0 && s->outlen == strlen(s->out));
		FUZZ_CHECK(s->out[s->outlen - 1] == '\n');
		FUZZ_CHECK(memchr(s->out, '\n', s->outlen - 1) == NULL);
		FUZZ_CHECK(memchr(s->out, '\r', s->outlen) == NULL);
	}
	if (a == TIC_ACT_ERROR)
		FUZZ_CHECK(s->error < 0 && s->err[0]);
}

static void side_parsers(const char *line)
{
	struct tic_list_entry e;
	struct tic_reply r;
	struct tic_show p;
	struct tic_tunnel t;
	char err[TIC_ERR_MAX], buf[2048];

	tic_reply_parse(line, &r);
	if (tic_list_parse(line, &e, err, sizeof(err)) == 0)
		FUZZ_CHECK(tic_id_valid(e.id));
	tic_show_begin(&p);
	tic_show_line(&p, line);
	if (tic_show_end(&p, &t) == 0)
		tic_show_format(&t, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ids[] = {"T1", "T2", "T3"};
	struct tic_tunnel out[3];
	struct tic_session_cfg cfg = {
	    .username = "alice",
	    .password = "pw",
	    .client_version = "0",
	    .os_release = "6",
	    .require_tls = true,
	    .ids = ids,
	    .nids = 3,
	    .out = out,
	};
	static struct tic_session s;
	static struct tic_lines l;
	enum tic_action a = TIC_ACT_READ;
	size_t chunk, off = 0;
	const char *line;

	if (size < 2)
		return 0;
	/* The first byte picks the read size, the second the options. */
	chunk = (size_t)data[0] * 8 + 1;
	cfg.require_tls = data[1] & 1;
	cfg.nids = (size_t)(data[1] >> 1) % 4;
	data += 2;
	size -= 2;
	if (tic_session_init(&s, &cfg) < 0)
		return 0;
	tic_lines_init(&l);
	while (off < size && a != TIC_ACT_ERROR && a != TIC_ACT_SEND_CLOSE) {
		size_t n = size - off < chunk ? size - off : chunk;
		int r = 0;

		off += tic_lines_push(&l, data + off, n);
		while (a != TIC_ACT_ERROR && a != TIC_ACT_SEND_CLOSE &&
		       (r = tic_lines_pop(&l, &line)) == 1) {
			FUZZ_CHECK(strlen(line) <= TIC_LINE_MAX);
			side_parsers(line);
			/* 1700000000 is what a well-behaved "get unixtime" would need */
			a = tic_session_feed(&s, line, 1700000000);
			check_action(&s, a);
			if (a == TIC_ACT_STARTTLS) {
				a = tic_session_tls_done(&s);
				check_action(&s, a);
			}
		}
		if (r < 0) {
			FUZZ_CHECK(r == -EMSGSIZE || r == -EBADMSG);
			break;
		}
	}
	for (size_t i = 0; i < cfg.nids; i++)
		if (out[i].fetch_err == 0)
			FUZZ_CHECK(!strcmp(out[i].id, ids[i]));
	return 0;
}

/*
 * A well-behaved server's side of a plain-text session (no STARTTLS,
 * require_tls off), for the smoke runner to start its mutations from.
 */

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	static const char transcript[] =
	    "200 welcome\n200 client ok\n200 1700000000\n400 no TLS here\n200 user ok\n"
	    "200 abcdef0123456789\n200 logged in\n201 listing\n"
	    "T1 2001:db8:a::2 heartbeat simpop01\nT2 2001:db8:b::2 192.0.2.2 simpop01\n"
	    "202 done\n201 show\nTunnelId: T1\nType: ayiya\nIPv6 Endpoint: 2001:db8:a::2\n"
	    "IPv6 POP: 2001:db8:a::1\nIPv6 PrefixLength: 64\nPOP Id: simpop01\n"
	    "IPv4 Endpoint: heartbeat\nIPv4 POP: 192.0.2.1\nUserState: enabled\n"
	    "AdminState: enabled\nPassword: secret\nHeartbeat_Interval: 60\n"
	    "Tunnel MTU: 1280\n202 done\n";
	size_t len = sizeof(transcript) - 1;

	if (cap < len + 2)
		return 0;
	buf[0] = (uint8_t)(seed & 0xff); /* read size */
	buf[1] = (uint8_t)(1 << 1);      /* require_tls off, one tunnel */
	memcpy(buf + 2, transcript, len);
	return len + 2;
}
