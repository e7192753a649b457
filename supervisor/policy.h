/*
 * Routing policy of one tunnel, owned by the parent: a default route in
 * the tunnel's own table (with the tunnel MTU as its MTU metric) and a rule
 * "from <tunnel address> lookup <table>" at the tunnel's priority, both
 * marked with NETCFG_PROTO.  Installing twice changes nothing; removing
 * deletes exactly those two objects.  Needs CAP_NET_ADMIN.
 */
#ifndef AICCUD_POLICY_H
#define AICCUD_POLICY_H

#include "netcfg.h"
#include "tunnel.h"

void policy_route(const struct tunnel_conf *tc, int ifindex, struct netcfg_route *r);
void policy_rule(const struct tunnel_conf *tc, struct netcfg_rule *r);

/* Returns 0 or -errno; *what names the step that failed. */
int policy_install(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, const char **what);
/* Removes both; a missing object is not an error.  Returns 0 or -errno. */
int policy_remove(struct netcfg *nc, const struct tunnel_conf *tc, int ifindex, const char **what);

#endif
