/*
 * What the host already routes and holds addresses in, read over
 * rtnetlink, fed to tpolicy_check_host.  The I/O edge of the overlap
 * check: the parent reads a view (and keeps it while nothing on the
 * host's own links changes, hostcache.h) and checks a worker's
 * parameters against it before the worker gives its link an address and
 * again before the parent installs routing.
 *
 * Not read as the host's: aiccud's own routes (protocol NETCFG_PROTO),
 * routes that only discard traffic (unreachable, blackhole, prohibit: a
 * router's aggregate), multicast and default routes.  Left out at check
 * time: anything on the links in own_ifindex (aiccud's tunnels).
 */
#ifndef AICCUD_HOSTVIEW_H
#define AICCUD_HOSTVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include "tpolicy.h"

struct netcfg;

struct hostview_prefix {
	struct tunnel_prefix pfx;
	int ifindex; /* the link it is on; 0: none (multipath) */
};

struct hostview_ipv4 {
	struct in_addr addr;
	int ifindex;
	uint8_t len; /* its prefix length (32 when added by hostview_add4) */
};

struct hostview {
	struct hostview_prefix *v6;
	size_t n6, cap6;
	struct hostview_ipv4 *v4;
	size_t n4, cap4;
};

/*
 * Read the host's view into hv (whose old contents go).  0, or -errno
 * with err set; hv is then empty.
 */
int hostview_read(struct netcfg *nc, struct hostview *hv, char *err, size_t errlen);
void hostview_free(struct hostview *hv);

/*
 * A check's own links, sorted once so that each entry of a large view is
 * looked up, not scanned for.  hostview_own_sort copies own (any order):
 * 0 or -ENOMEM.
 */
struct hostview_own {
	int *ifx;
	size_t n;
};
int hostview_own_sort(const int *own, size_t nown, struct hostview_own *out);
bool hostview_own_has(const struct hostview_own *own, int ifindex);
void hostview_own_free(struct hostview_own *own);
/*
 * Pure: 0 when p (and the routed prefixes) are clear of what hv holds on
 * links other than own's; -EADDRINUSE with "KEY: why" in err.
 */
int hostview_check_own(const struct hostview *hv, const struct tunnel_params *p,
                       const struct tunnel_prefix *routed, size_t nrouted,
                       const struct hostview_own *own, enum tpolicy_keys keys, char *err,
                       size_t errlen);

/* Pure, for building views in tests and readers: add one entry.  0 or -ENOMEM. */
int hostview_add6(struct hostview *hv, const struct in6_addr *a, uint8_t len, int ifindex);
int hostview_add4(struct hostview *hv, struct in_addr a, int ifindex);
/* The same with the address's prefix length, whose broadcast the PoP must not be. */
int hostview_add4_net(struct hostview *hv, struct in_addr a, uint8_t len, int ifindex);

#endif
