/*
 * Start-up reconciliation: what to do with routing objects an earlier
 * aiccud left behind (it was killed, or crashed, before it could remove
 * them).  aiccud's rules and routes carry NETCFG_PROTO; a link counts as
 * one of aiccud's when such a route uses it.
 *
 * Pure: the caller lists the kernel's objects and applies the verdicts.
 * Each function returns the index (in tunnels) of the configured tunnel
 * that adopts the object, or -1: remove it.
 */
#ifndef AICCUD_RECONCILE_H
#define AICCUD_RECONCILE_H

#include <stddef.h>

#include "config.h"
#include "netcfg.h"

/*
 * A rule is adopted by a usable tunnel that would install exactly it; for
 * a TIC tunnel, whose address is known only once its worker read the
 * cache, by table and priority (routing_prune settles the address then).
 */
long reconcile_rule_owner(const struct tunnel_entry *tunnels, size_t n,
                          const struct netcfg_rule *r);
/*
 * A route is adopted by the usable tunnel whose table it is in (default
 * route only), or, in the main table, by the default_route tunnel of its
 * metric.
 */
long reconcile_route_owner(const struct tunnel_entry *tunnels, size_t n,
                           const struct netcfg_route *r);
/* A link is adopted by the usable tunnel of that interface name (its worker takes it over). */
long reconcile_link_owner(const struct tunnel_entry *tunnels, size_t n, const char *ifname);

#endif
