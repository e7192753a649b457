/* The host's addresses and routes for the overlap check (see hostview.h). */
#include "hostview.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "netcfg.h"

struct gather {
	const int *own;
	size_t nown;
	struct tunnel_prefix *pfx;
	size_t n, cap;
	int err;
};

static bool ours(const struct gather *g, int ifindex)
{
	for (size_t i = 0; i < g->nown; i++)
		if (ifindex > 0 && g->own[i] == ifindex)
			return true;
	return false;
}

static int push(struct gather *g, const struct in6_addr *a, uint8_t len)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct tunnel_prefix *grown = realloc(g->pfx, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		g->pfx = grown;
		g->cap = cap;
	}
	g->pfx[g->n].addr = *a;
	g->pfx[g->n].len = len;
	g->n++;
	return 0;
}

static int on_route(const struct netcfg_route_dst *r, void *arg)
{
	struct gather *g = arg;

	if (r->protocol == NETCFG_PROTO || ours(g, r->ifindex) || r->dst_len == 0)
		return 0;
	if (r->type == RTN_UNREACHABLE || r->type == RTN_BLACKHOLE || r->type == RTN_PROHIBIT ||
	    r->type == RTN_MULTICAST)
		return 0;
	return push(g, &r->dst, r->dst_len);
}

static int on_addr(const struct netcfg_addr *a, void *arg)
{
	struct gather *g = arg;

	if (ours(g, a->ifindex))
		return 0;
	/* The address itself and its prefix: a /128 inside a tunnel's /64 is the host's too. */
	if (push(g, &a->addr, 128) < 0)
		return -ENOMEM;
	return push(g, &a->addr, a->prefix_len);
}

static int ipv4_addrs(struct in_addr **out, size_t *n)
{
	struct ifaddrs *ifa, *i;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			cap++;
	*out = calloc(cap ? cap : 1, sizeof(**out));
	if (!*out) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			(*out)[(*n)++] =
			    ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
	freeifaddrs(ifa);
	return 0;
}

static int gather(struct netcfg *nc, struct gather *g, struct in_addr **v4, size_t *nv4, char *err,
                  size_t errlen)
{
	int r = netcfg_route_dst_list(nc, on_route, g);

	if (r == 0)
		r = netcfg_addr_list(nc, 0, on_addr, g);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the host's routes and addresses: %s %s",
		         strerror(-r), netcfg_errmsg(nc));
		return r;
	}
	r = ipv4_addrs(v4, nv4);
	if (r < 0)
		snprintf(err, errlen, "cannot read the host's IPv4 addresses: %s", strerror(-r));
	return r;
}

int hostview_check(struct netcfg *nc, const struct tunnel_params *p,
                   const struct tunnel_prefix *routed, size_t nrouted, const int *own_ifindex,
                   size_t nown, enum tpolicy_keys keys, char *err, size_t errlen)
{
	struct gather g = {.own = own_ifindex, .nown = nown};
	struct netcfg *mine = NULL;
	struct in_addr *v4 = NULL;
	size_t nv4 = 0;
	int r;

	if (!nc) {
		r = netcfg_open(&mine);
		if (r < 0) {
			snprintf(err, errlen, "cannot open rtnetlink: %s", strerror(-r));
			return r;
		}
		nc = mine;
	}
	r = gather(nc, &g, &v4, &nv4, err, errlen);
	if (r == 0) {
		struct tpolicy_host host = {g.pfx, g.n, v4, nv4};

		r = tpolicy_check_host(p, routed, nrouted, &host, keys, err, errlen);
	}
	free(g.pfx);
	free(v4);
	netcfg_close(mine);
	return r;
}
