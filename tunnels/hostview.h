/*
 * What the host already routes and holds addresses in, read live over
 * rtnetlink (and getifaddrs for IPv4), fed to tpolicy_check_host.  The
 * I/O edge of the overlap check: the worker runs it before it configures
 * its link, the parent again before it installs routing.
 *
 * Not counted as the host's: aiccud's own routes (protocol NETCFG_PROTO),
 * anything on the links in own_ifindex (aiccud's tunnels), routes that
 * only discard traffic (unreachable, blackhole, prohibit: a router's
 * aggregate), and default routes.
 */
#ifndef AICCUD_HOSTVIEW_H
#define AICCUD_HOSTVIEW_H

#include <stddef.h>

#include "tpolicy.h"

struct netcfg;

/*
 * 0 when p (and the routed prefixes) are clear of the host; -EADDRINUSE
 * with "KEY: why" in err; other -errno (with err set) when the host's
 * state could not be read.  nc: an open request socket, or NULL to use a
 * socket of its own for the call.
 */
int hostview_check(struct netcfg *nc, const struct tunnel_params *p,
                   const struct tunnel_prefix *routed, size_t nrouted, const int *own_ifindex,
                   size_t nown, enum tpolicy_keys keys, char *err, size_t errlen);

#endif
