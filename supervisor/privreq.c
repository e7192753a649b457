#include "privreq.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

static bool usable_ipv4(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	/* 0/8, loopback, multicast and above (class E, broadcast). */
	return (h >> 24) != 0 && (h >> 24) != 127 && h < 0xe0000000u;
}

/* The tunnel's own address with its own prefix length, nothing wider. */
static bool own_address(const struct tunnel_conf *tc, const struct ipc_priv_req *r)
{
	return !memcmp(&r->addr, &tc->params.ipv6_local, sizeof(r->addr)) &&
	       r->prefix_len == tc->params.prefix_len;
}

int privreq_check(const struct tunnel_conf *tc, int ifindex, const struct ipc_priv_req *r,
                  const char **why)
{
	if (ifindex <= 0 || r->ifindex != ifindex) {
		*why = "not the tunnel's own link";
		return -EPERM;
	}
	switch (r->op) {
	case IPC_PRIV_SIT_LOCAL:
		if (tc->params.type == TUNNEL_AYIYA) {
			*why = "an AYIYA tunnel has no sit link";
			return -EPERM;
		}
		if (!usable_ipv4(r->local4)) {
			*why = "not a unicast IPv4 address";
			return -EPERM;
		}
		return 0;
	case IPC_PRIV_REPAIR:
		if (!r->what || (r->what & ~IPC_REPAIR_ALL)) {
			*why = "unknown repair";
			return -EINVAL;
		}
		if ((r->what & (IPC_REPAIR_ADDR | IPC_REPAIR_READD)) && !own_address(tc, r)) {
			*why = "not the tunnel's own address and prefix length";
			return -EPERM;
		}
		return 0;
	default:
		*why = "unknown request";
		return -EINVAL;
	}
}
