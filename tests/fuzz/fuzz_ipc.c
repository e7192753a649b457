/*
 * libFuzzer target: parent <-> worker/fetcher messages.  Any datagram a
 * compromised child could send through ipc_parse, and for a worker's
 * "link up" the parent's re-check of the parameters it reports.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "ipc.h"
#include "tpolicy.h"

static void check_up(const struct ipc_up *up)
{
	struct tpolicy_limits lim;
	char err[256];

	tpolicy_default_limits(&lim);
	if (tpolicy_check_params(&up->params, &lim, TPOLICY_KEYS_TIC, err, sizeof(err)) == 0) {
		FUZZ_CHECK(up->params.prefix_len >= 64 && up->params.prefix_len <= 128);
		FUZZ_CHECK(!tpolicy_ipv4_pop_bad(up->params.ipv4_pop));
	} else {
		FUZZ_CHECK(strlen(err) > 0 && strlen(err) < sizeof(err));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[IPC_MSG_MAX];
	const void *payload = NULL;
	int type;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	type = ipc_parse(buf, size, &payload);
	if (type < 0) {
		FUZZ_CHECK(type == -EBADMSG);
		return 0;
	}
	/* exactly the header and the payload of that type */
	FUZZ_CHECK(type > 0 && type < IPC_TYPE_MAX);
	FUZZ_CHECK(ipc_payload_len((uint16_t)type) >= 0);
	FUZZ_CHECK(size == sizeof(struct ipc_hdr) + (size_t)ipc_payload_len((uint16_t)type));
	FUZZ_CHECK(payload == buf + sizeof(struct ipc_hdr));
	if (type == IPC_W_UP) {
		struct ipc_up up;

		memcpy(&up, payload, sizeof(up)); /* the parent's copy: the buffer is not aligned */
		check_up(&up);
	}
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	static const uint16_t types[] = {IPC_W_UP,           IPC_W_FAILED, IPC_W_COUNTERS,
	                                 IPC_P_COUNTERS_REQ, IPC_F_RESULT, IPC_F_DONE};
	struct ipc_hdr h = {.type = types[seed % 6]};
	ssize_t len = ipc_payload_len(h.type);

	if (len < 0 || sizeof(h) + (size_t)len > cap)
		return 0;
	h.len = (uint16_t)len;
	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 0, (size_t)len);
	if (h.type == IPC_W_UP) {
		struct ipc_up up = {.ifindex = 5};

		up.params.type = TUNNEL_AYIYA;
		up.params.prefix_len = (uint8_t)(seed >> 8);
		up.params.ipv6_local.s6_addr[0] = 0x20;
		up.params.ipv6_local.s6_addr[15] = 2;
		up.params.ipv6_pop = up.params.ipv6_local;
		up.params.ipv6_pop.s6_addr[15] = 1;
		up.params.ipv4_pop.s_addr = seed;
		up.params.mtu = 1280 + (seed >> 16) % 300;
		memcpy(buf + sizeof(h), &up, sizeof(up));
	}
	return sizeof(h) + (size_t)len;
}
