#include "routing.h"

#include <errno.h>
#include <string.h>

void routing_route(const struct tunnel_conf *tc, int ifindex, struct netcfg_route *r)
{
	memset(r, 0, sizeof(*r));
	r->table = tc->table;
	r->ifindex = ifindex;
	r->dst_len = 0;
	/* Pinning the MTU avoids depending on rate-limited Packet Too Big. */
	r->mtu = tunnel_mtu(tc);
	r->protocol = NETCFG_PROTO;
}

void routing_main_route(const struct tunnel_conf *tc, int ifindex, struct netcfg_route *r)
{
	routing_route(tc, ifindex, r);
	r->table = ROUTING_MAIN_TABLE;
	/* Explicit, so that removal matches our route and no other of ::/0. */
	r->priority = tc->default_route_metric ? tc->default_route_metric : ROUTING_MAIN_METRIC;
}

bool routing_main_route_is_ours(const struct tunnel_conf *tc, int ifindex,
                                const struct netcfg_route *r)
{
	struct netcfg_route want;

	if (!tc->default_route)
		return false;
	routing_main_route(tc, ifindex, &want);
	return r->protocol == NETCFG_PROTO && r->table == want.table && r->dst_len == 0 &&
	       r->ifindex == ifindex && r->priority == want.priority && r->mtu == want.mtu;
}

void routing_rule(const struct tunnel_conf *tc, struct netcfg_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->src = tc->params.ipv6_local;
	r->src_len = 128;
	r->table = tc->table;
	r->priority = tc->rule_priority;
	r->protocol = NETCFG_PROTO;
}

bool routing_rule_is_ours(const struct tunnel_conf *tc, const struct netcfg_rule *r)
{
	return r->protocol == NETCFG_PROTO && r->src_len == 128 &&
	       memcmp(&r->src, &tc->params.ipv6_local, sizeof(r->src)) == 0 &&
	       r->table == tc->table && r->priority == tc->rule_priority;
}

bool routing_route_is_ours(const struct tunnel_conf *tc, int ifindex, const struct netcfg_route *r)
{
	return r->protocol == NETCFG_PROTO && r->table == tc->table && r->dst_len == 0 &&
	       r->ifindex == ifindex && r->mtu == tunnel_mtu(tc);
}

bool routing_rule_is_stale(const struct tunnel_conf *tc, const struct netcfg_rule *r)
{
	return r->protocol == NETCFG_PROTO && r->table == tc->table && !routing_rule_is_ours(tc, r);
}

bool routing_route_is_stale(const struct tunnel_conf *tc, int ifindex, const struct netcfg_route *r)
{
	/* Another MTU is not stale: route_add's REPLACE rewrites it in place. */
	return r->protocol == NETCFG_PROTO && r->table == tc->table &&
	       !(r->dst_len == 0 && r->ifindex == ifindex);
}

bool routing_is_subnet_anycast(const struct in6_addr *a, unsigned prefix_len)
{
	if (prefix_len >= 127)
		return false;
	for (unsigned bit = prefix_len; bit < 128; bit++)
		if (a->s6_addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

struct prune_ctx {
	struct netcfg *nc;
	const struct tunnel_conf *tc;
	int ifindex;
	unsigned pruned;
	int err;
};

/* One stale object's removal: counted, or the error kept (already gone counts). */
static int prune_done(struct prune_ctx *c, int err)
{
	if (err < 0 && err != -ENOENT)
		c->err = err;
	else
		c->pruned++;
	return 0;
}

static int prune_rule(const struct netcfg_rule *r, void *arg)
{
	struct prune_ctx *c = arg;

	if (!routing_rule_is_stale(c->tc, r))
		return 0;
	return prune_done(c, netcfg_rule_del(c->nc, r));
}

static int prune_route(const struct netcfg_route *r, void *arg)
{
	struct prune_ctx *c = arg;

	if (!routing_route_is_stale(c->tc, c->ifindex, r))
		return 0;
	return prune_done(c, netcfg_route_del(c->nc, r));
}

/* Ours on our link in the main table, but not what we install now (an old metric or MTU). */
static int prune_main_route(const struct netcfg_route *r, void *arg)
{
	struct prune_ctx *c = arg;

	if (r->protocol != NETCFG_PROTO || r->dst_len != 0 || r->ifindex != c->ifindex ||
	    routing_main_route_is_ours(c->tc, c->ifindex, r))
		return 0;
	return prune_done(c, netcfg_route_del(c->nc, r));
}

int routing_prune(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, unsigned *pruned)
{
	struct prune_ctx c = {.nc = nc, .tc = tc, .ifindex = ifindex};
	int err;

	err = netcfg_rule_list(nc, NETCFG_PROTO, prune_rule, &c);
	if (!err)
		err = netcfg_route_list(nc, tc->table, NETCFG_PROTO, prune_route, &c);
	if (!err && ifindex > 0)
		err = netcfg_route_list(nc, ROUTING_MAIN_TABLE, NETCFG_PROTO, prune_main_route, &c);
	if (pruned)
		*pruned = c.pruned;
	return err < 0 ? err : c.err;
}

struct main_ctx {
	const struct tunnel_conf *tc;
	int ifindex;
	bool ours; /* the route of this metric is this tunnel's (another MTU at most) */
};

static int find_main_route(const struct netcfg_route *r, void *arg)
{
	struct main_ctx *c = arg;
	struct netcfg_route want;

	routing_main_route(c->tc, c->ifindex, &want);
	if (r->protocol == NETCFG_PROTO && r->dst_len == 0 && r->ifindex == c->ifindex &&
	    r->priority == want.priority)
		c->ours = true;
	return 0;
}

/*
 * Never replace someone else's default route: create it exclusively; when
 * one of that metric exists, only our own (from an earlier start, perhaps
 * with another MTU) is rewritten.
 */
static int main_route_add(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex)
{
	struct main_ctx c = {.tc = tc, .ifindex = ifindex};
	struct netcfg_route r;
	int err;

	routing_main_route(tc, ifindex, &r);
	err = netcfg_route_add_excl(nc, &r);
	if (err != -EEXIST)
		return err;
	err = netcfg_route_list(nc, ROUTING_MAIN_TABLE, NETCFG_PROTO, find_main_route, &c);
	if (err < 0)
		return err;
	return c.ours ? netcfg_route_add(nc, &r) : -EEXIST;
}

int routing_install(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, const char **what)
{
	struct netcfg_route route;
	struct netcfg_rule rule;
	const char *ignored;
	int err;

	routing_route(tc, ifindex, &route);
	routing_rule(tc, &rule);
	/* Route first: a rule pointing at an empty table would blackhole nothing
	 * but would fall through to main, leaking the tunnel's source to the ISP. */
	*what = "default route";
	err = netcfg_route_add(nc, &route);
	if (err < 0)
		return err;
	*what = "source rule";
	err = netcfg_rule_add(nc, &rule);
	if (err < 0 || !tc->default_route)
		return err;
	*what = "main-table default route";
	err = main_route_add(nc, tc, ifindex);
	if (err == -EEXIST)
		*what = "main-table default route (the main table has another default route "
		        "of that metric; set default_route_metric to use both)";
	if (err < 0) {
		/* All or nothing: the caller does not remove what it was not told of. */
		struct tunnel_conf only_table = *tc;

		only_table.default_route = false;
		routing_remove(nc, &only_table, ifindex, &ignored);
	}
	return err;
}

int routing_remove(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, const char **what)
{
	struct netcfg_route route;
	struct netcfg_rule rule;
	int err;

	routing_route(tc, ifindex, &route);
	routing_rule(tc, &rule);
	*what = "source rule";
	err = netcfg_rule_del(nc, &rule);
	if (err < 0 && err != -ENOENT)
		return err;
	*what = "default route";
	err = netcfg_route_del(nc, &route);
	if (err < 0 && err != -ENOENT)
		return err;
	if (!tc->default_route)
		return 0;
	/* Exactly ours: table, ::/0, our link, our metric, our protocol. */
	routing_main_route(tc, ifindex, &route);
	*what = "main-table default route";
	err = netcfg_route_del(nc, &route);
	if (err < 0 && err != -ENOENT)
		return err;
	return 0;
}
