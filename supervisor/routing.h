/*
 * Routing of one tunnel (its policy routing), owned by the parent: a default route in
 * the tunnel's own table (with the tunnel MTU as its MTU metric) and a rule
 * "from <tunnel address> lookup <table>" at the tunnel's priority, both
 * marked with NETCFG_PROTO.  Installing twice changes nothing; removing
 * deletes exactly those two objects.  Needs CAP_NET_ADMIN.
 */
#ifndef AICCUD_ROUTING_H
#define AICCUD_ROUTING_H

#include "netcfg.h"
#include "tunnel.h"

#include <stdbool.h>

/* The main table's number and the kernel's metric for routes added without one. */
#define ROUTING_MAIN_TABLE  254
#define ROUTING_MAIN_METRIC 1024

void routing_route(const struct tunnel_conf *tc, int ifindex, struct netcfg_route *r);
/*
 * default_route = yes: the main table's default route via the tunnel (its
 * MTU, its metric), so that all IPv6 traffic uses the tunnel, as AICCU's
 * "defaultroute true" did.  Only meaningful when tc->default_route.
 */
void routing_main_route(const struct tunnel_conf *tc, int ifindex, struct netcfg_route *r);
bool routing_main_route_is_ours(const struct tunnel_conf *tc, int ifindex,
                                const struct netcfg_route *r);
void routing_rule(const struct tunnel_conf *tc, struct netcfg_rule *r);

/* Exactly the rule / table route routing_install makes for this tunnel. */
bool routing_rule_is_ours(const struct tunnel_conf *tc, const struct netcfg_rule *r);
bool routing_route_is_ours(const struct tunnel_conf *tc, int ifindex, const struct netcfg_route *r);
/*
 * An aiccud object (NETCFG_PROTO) that occupies this tunnel's table
 * without being what routing_install makes now: left by a killed aiccud, or
 * by an earlier address of a TIC tunnel.  Removing them keeps one rule per
 * tunnel.  Only the table counts: several tunnels may share a rule
 * priority (their rules differ in the source address).
 */
bool routing_rule_is_stale(const struct tunnel_conf *tc, const struct netcfg_rule *r);
bool routing_route_is_stale(const struct tunnel_conf *tc, int ifindex,
                            const struct netcfg_route *r);

/*
 * a is the subnet-router anycast address of its prefix (RFC 4291 2.6.1:
 * interface identifier all zero).  A /127 has none (RFC 6164) and a /128
 * has no interface identifier, so both are false.  Linux will not send
 * ICMPv6 errors to such a source, which silently breaks path MTU discovery.
 */
bool routing_is_subnet_anycast(const struct in6_addr *a, unsigned prefix_len);

/*
 * Returns 0 or -errno; *what names the step that failed.  With
 * default_route, a main-table default route of the same metric that is
 * not this tunnel's (the ISP's, another tunnel's) is never replaced:
 * -EEXIST, and *what says so.
 */
int routing_install(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex,
                    const char **what);
/*
 * Also removes stale aiccud objects in the tunnel's table and at its rule
 * priority (policy_*_is_stale); *pruned (may be NULL) counts them.
 */
int routing_prune(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, unsigned *pruned);
/*
 * Removes the rule, the table route and (default_route) exactly this
 * tunnel's main-table default route; a missing object is not an error.
 * Returns 0 or -errno.
 */
int routing_remove(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, const char **what);

#endif
