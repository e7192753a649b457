#include "reconcile.h"

#include <string.h>

#include "routing.h"

long reconcile_rule_owner(const struct tunnel_entry *tunnels, size_t n, const struct netcfg_rule *r)
{
	if (r->protocol != NETCFG_PROTO)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct tunnel_conf *tc = &tunnels[i].conf;

		if (!tunnels[i].valid)
			continue;
		if (!tc->tic && routing_rule_is_ours(tc, r))
			return (long)i;
		if (tc->tic && r->src_len == 128 && r->table == tc->table &&
		    r->priority == tc->rule_priority)
			return (long)i;
	}
	return -1;
}

long reconcile_route_owner(const struct tunnel_entry *tunnels, size_t n,
                           const struct netcfg_route *r)
{
	if (r->protocol != NETCFG_PROTO || r->dst_len != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct tunnel_conf *tc = &tunnels[i].conf;
		struct netcfg_route main;

		if (!tunnels[i].valid)
			continue;
		if (tc->table == r->table)
			return (long)i;
		/* The main table's default: by metric (its link is known later). */
		routing_main_route(tc, r->ifindex, &main);
		if (tc->default_route && r->table == main.table && r->priority == main.priority)
			return (long)i;
	}
	return -1;
}

long reconcile_link_owner(const struct tunnel_entry *tunnels, size_t n, const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (tunnels[i].valid && strcmp(tunnels[i].conf.name, ifname) == 0)
			return (long)i;
	return -1;
}
