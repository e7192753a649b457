/*
 * libFuzzer target: privreq_check, the content checks of what a (perhaps
 * compromised) worker asks the root parent to do (IPC_W_PRIV; fuzz_ipc
 * covers the framing).  Input: a tunnel type byte, then the request's
 * bytes.  Whatever is granted stays inside the tunnel: its own link, for
 * a sit link's local address a unicast IPv4 one, for an address repair
 * exactly its own address and prefix length.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "privreq.h"

#define OWN_IFINDEX 7

static void tunnel(struct tunnel_conf *tc, uint8_t pick)
{
	static const enum tunnel_type types[] = {TUNNEL_AYIYA, TUNNEL_6IN4_HEARTBEAT,
	                                         TUNNEL_6IN4_STATIC};

	memset(tc, 0, sizeof(*tc));
	tc->params.type = types[pick % 3];
	inet_pton(AF_INET6, "2001:db8:1::2", &tc->params.ipv6_local);
	inet_pton(AF_INET6, "2001:db8:1::1", &tc->params.ipv6_pop);
	tc->params.prefix_len = (uint8_t)(64 + (pick >> 2) % 65);
}

static bool unicast4(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h >> 24) != 0 && (h >> 24) != 127 && h < 0xe0000000u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tunnel_conf tc;
	struct ipc_priv_req r;
	const char *why = NULL;
	int ifindex, e;

	if (size < 1 + sizeof(r))
		return 0;
	tunnel(&tc, data[0]);
	memcpy(&r, data + 1, sizeof(r));
	/* the parent's own view of the link: usually right, sometimes none */
	ifindex = data[0] & 0x80 ? 0 : OWN_IFINDEX;
	e = privreq_check(&tc, ifindex, &r, &why);
	FUZZ_CHECK(ipc_priv_op_name(r.op) != NULL);
	if (e) {
		FUZZ_CHECK((e == -EPERM || e == -EINVAL) && why && *why);
		return 0;
	}
	FUZZ_CHECK(ifindex > 0 && r.ifindex == ifindex);
	if (r.op == IPC_PRIV_SIT_LOCAL) {
		FUZZ_CHECK(tc.params.type != TUNNEL_AYIYA && unicast4(r.local4));
		return 0;
	}
	FUZZ_CHECK(r.op == IPC_PRIV_REPAIR);
	FUZZ_CHECK(r.what && !(r.what & ~IPC_REPAIR_ALL));
	if (r.what & (IPC_REPAIR_ADDR | IPC_REPAIR_READD))
		FUZZ_CHECK(!memcmp(&r.addr, &tc.params.ipv6_local, sizeof(r.addr)) &&
		           r.prefix_len == tc.params.prefix_len);
	return 0;
}

/* A request the check grants, so mutations start inside the tunnel. */
size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	struct tunnel_conf tc;
	struct ipc_priv_req r;
	uint8_t pick = (uint8_t)(seed & 0x7f);

	if (cap < 1 + sizeof(r))
		return 0;
	tunnel(&tc, pick);
	memset(&r, 0, sizeof(r));
	r.ifindex = OWN_IFINDEX;
	if (seed % 2 && tc.params.type != TUNNEL_AYIYA) {
		r.op = IPC_PRIV_SIT_LOCAL;
		inet_pton(AF_INET, "192.0.2.2", &r.local4);
	} else {
		r.op = IPC_PRIV_REPAIR;
		r.what = IPC_REPAIR_ADDR;
		r.addr = tc.params.ipv6_local;
		r.prefix_len = tc.params.prefix_len;
	}
	buf[0] = pick;
	memcpy(buf + 1, &r, sizeof(r));
	return 1 + sizeof(r);
}
