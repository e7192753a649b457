/*
 * Tunnel-parameter policy: what a broker (TIC answer, the tunnel cache
 * that stores them) or a tunnel file may hand a tunnel before aiccud puts
 * it into the host's routing.  Pure: no sockets, no globals.  The same
 * checks run where parameters enter (tic.c's show parser, so the cache
 * too; the config's [params]) and again in the parent before it installs
 * anything, there with the host's live addresses and routes
 * (tpolicy_check_host) that only the parent can see.
 *
 * Messages name the key the way the source spells it ("IPv6
 * PrefixLength" for TIC and the cache, "prefix_len" for a file) so a
 * caller only prefixes the tunnel and the source.
 */
#ifndef AICCUD_TPOLICY_H
#define AICCUD_TPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "tunnel.h"

/* A broker's tunnel prefix is /64 or longer; a file may allow shorter with a key. */
#define TPOLICY_PREFIX_MIN 64
/* What the real PoP daemon accepts as a tunnel MTU. */
#define TPOLICY_MTU_MIN 1280
#define TPOLICY_MTU_MAX 1480

enum tpolicy_keys {
	TPOLICY_KEYS_TIC = 0, /* TIC "tunnel show" names (TIC answers, the cache) */
	TPOLICY_KEYS_FILE,    /* [params] of a tunnel file */
};

struct tpolicy_limits {
	uint8_t prefix_min; /* shortest tunnel prefix (TPOLICY_PREFIX_MIN unless a file says) */
	uint32_t mtu_min, mtu_max;
};

/* The limits for a broker's parameters. */
void tpolicy_default_limits(struct tpolicy_limits *l);
/* The limits for one tunnel: a file's min_prefix_len lowers the prefix bound. */
void tpolicy_conf_limits(const struct tunnel_conf *tc, struct tpolicy_limits *l);

/*
 * IPv4 POP: unicast, not 0.0.0.0/8, loopback, link-local, multicast or
 * 240.0.0.0/4 (which holds the broadcast address).  NULL when acceptable,
 * else why not ("a loopback address").
 */
const char *tpolicy_ipv4_pop_bad(struct in_addr a);

/*
 * The parameters' own sanity (no host knowledge): prefix length, IPv4
 * POP, IPv6 Endpoint and POP inside the tunnel prefix and unicast, MTU
 * (0 means "not given" and passes).  0, or -EINVAL with "KEY: why" in err.
 */
int tpolicy_check_params(const struct tunnel_params *p, const struct tpolicy_limits *lim,
                         enum tpolicy_keys keys, char *err, size_t errlen);

/* Whether a and b overlap: one contains, equals or lies inside the other. */
bool tpolicy_prefix_overlap(const struct tunnel_prefix *a, const struct tunnel_prefix *b);

/* One of the host's IPv4 addresses with its prefix length. */
struct tpolicy_net4 {
	struct in_addr addr;
	uint8_t len;
};

/* What the host has that aiccud does not own (filled by the parent from a netlink dump). */
struct tpolicy_host {
	const struct tunnel_prefix *prefixes; /* routes' destinations and addresses' prefixes */
	size_t nprefixes;
	const struct in_addr *ipv4; /* the host's own IPv4 addresses */
	size_t nipv4;
	const struct tpolicy_net4 *nets4; /* the same with their prefixes (their broadcasts) */
	size_t nnets4;
};

/*
 * The tunnel's prefix (ipv6_local/prefix_len), each routed prefix and the
 * IPv6 Endpoint itself must not overlap any host prefix (::/0 excepted),
 * and the IPv4 POP must not be one of the host's addresses nor the
 * broadcast address of one of its networks (/30 and shorter).  0, or
 * -EADDRINUSE with "KEY: why" in err.
 */
int tpolicy_check_host(const struct tunnel_params *p, const struct tunnel_prefix *routed,
                       size_t nrouted, const struct tpolicy_host *host, enum tpolicy_keys keys,
                       char *err, size_t errlen);

/* Replace control characters (and DEL) in an informational text by '?'; count them. */
size_t tpolicy_scrub(char *s);

#endif
