#include "policy.h"

#include <errno.h>
#include <string.h>

void policy_route(const struct tunnel_conf *tc, int ifindex, struct netcfg_route *r)
{
	memset(r, 0, sizeof(*r));
	r->table = tc->table;
	r->ifindex = ifindex;
	r->dst_len = 0;
	/* Pinning the MTU avoids depending on rate-limited Packet Too Big. */
	r->mtu = tunnel_mtu(tc);
	r->protocol = NETCFG_PROTO;
}

void policy_rule(const struct tunnel_conf *tc, struct netcfg_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->src = tc->params.ipv6_local;
	r->src_len = 128;
	r->table = tc->table;
	r->priority = tc->rule_priority;
	r->protocol = NETCFG_PROTO;
}

int policy_install(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, const char **what)
{
	struct netcfg_route route;
	struct netcfg_rule rule;
	int err;

	policy_route(tc, ifindex, &route);
	policy_rule(tc, &rule);
	/* Route first: a rule pointing at an empty table would blackhole nothing
	 * but would fall through to main, leaking the tunnel's source to the ISP. */
	*what = "default route";
	err = netcfg_route_add(nc, &route);
	if (err < 0)
		return err;
	*what = "source rule";
	return netcfg_rule_add(nc, &rule);
}

int policy_remove(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, const char **what)
{
	struct netcfg_route route;
	struct netcfg_rule rule;
	int err;

	policy_route(tc, ifindex, &route);
	policy_rule(tc, &rule);
	*what = "source rule";
	err = netcfg_rule_del(nc, &rule);
	if (err < 0 && err != -ENOENT)
		return err;
	*what = "default route";
	err = netcfg_route_del(nc, &route);
	if (err < 0 && err != -ENOENT)
		return err;
	return 0;
}
