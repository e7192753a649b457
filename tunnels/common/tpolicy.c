/* Tunnel-parameter policy (see tpolicy.h). */
#include "tpolicy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

enum field { F_PREFIX, F_LOCAL, F_POP6, F_POP4, F_MTU, F_ROUTED, F_COUNT };

/* How each source spells the keys, so a refusal names what its author wrote. */
static const char *const key_names[2][F_COUNT] = {
    [TPOLICY_KEYS_TIC] = {"IPv6 PrefixLength", "IPv6 Endpoint", "IPv6 POP", "IPv4 POP",
                          "Tunnel MTU", "routed"},
    [TPOLICY_KEYS_FILE] = {"prefix_len", "ipv6_local", "ipv6_pop", "ipv4_pop", "mtu", "routed"},
};

static const char *key(enum tpolicy_keys keys, enum field f)
{
	return key_names[keys == TPOLICY_KEYS_FILE][f];
}

void tpolicy_default_limits(struct tpolicy_limits *l)
{
	l->prefix_min = TPOLICY_PREFIX_MIN;
	l->mtu_min = TPOLICY_MTU_MIN;
	l->mtu_max = TPOLICY_MTU_MAX;
}

void tpolicy_conf_limits(const struct tunnel_conf *tc, struct tpolicy_limits *l)
{
	tpolicy_default_limits(l);
	if (!tc->tic && tc->min_prefix_len)
		l->prefix_min = tc->min_prefix_len;
}

const char *tpolicy_ipv4_pop_bad(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	if (h >> 24 == 0)
		return "in 0.0.0.0/8 (this network, not a host)";
	if (h >> 24 == 127)
		return "a loopback address";
	if (h >> 16 == 0xa9fe)
		return "a link-local address";
	if (h >> 28 == 0xe)
		return "a multicast address";
	if (h == 0xffffffffu)
		return "the broadcast address";
	if (h >> 28 == 0xf)
		return "in the reserved 240.0.0.0/4";
	return NULL;
}

/* A tunnel endpoint must be an address a host can have and route to. */
static const char *ipv6_bad(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return "the unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(a))
		return "the loopback address";
	if (IN6_IS_ADDR_MULTICAST(a))
		return "a multicast address";
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return "a link-local address";
	if (IN6_IS_ADDR_V4MAPPED(a))
		return "an IPv4-mapped address";
	return NULL;
}

bool tpolicy_prefix_overlap(const struct tunnel_prefix *a, const struct tunnel_prefix *b)
{
	unsigned len = a->len < b->len ? a->len : b->len;

	return tunnel_prefix_contains(&a->addr, len > 128 ? 128 : len, &b->addr);
}

static int fail(char *err, size_t errlen, int error, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "KEY: what is wrong" into err; returns error. */
static int fail(char *err, size_t errlen, int error, const char *k, const char *fmt, ...)
{
	int n = snprintf(err, errlen, "%s: ", k);
	va_list ap;

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return error;
}

static int check_ipv6(const struct tunnel_params *p, enum tpolicy_keys keys, char *err,
                      size_t errlen)
{
	char a[INET6_ADDRSTRLEN];
	const char *why;

	inet_ntop(AF_INET6, &p->ipv6_local, a, sizeof(a));
	if ((why = ipv6_bad(&p->ipv6_local)))
		return fail(err, errlen, -EINVAL, key(keys, F_LOCAL), "%s is %s", a, why);
	inet_ntop(AF_INET6, &p->ipv6_pop, a, sizeof(a));
	if ((why = ipv6_bad(&p->ipv6_pop)))
		return fail(err, errlen, -EINVAL, key(keys, F_POP6), "%s is %s", a, why);
	/* A /128 has no room for the PoP: it is reached over the link then. */
	if (p->prefix_len < 128 &&
	    !tunnel_prefix_contains(&p->ipv6_local, p->prefix_len, &p->ipv6_pop))
		return fail(err, errlen, -EINVAL, key(keys, F_POP6),
		            "%s is outside the tunnel prefix", a);
	if (!memcmp(&p->ipv6_local, &p->ipv6_pop, sizeof(p->ipv6_pop)))
		return fail(err, errlen, -EINVAL, key(keys, F_POP6), "%s is our own address", a);
	return 0;
}

int tpolicy_check_params(const struct tunnel_params *p, const struct tpolicy_limits *lim,
                         enum tpolicy_keys keys, char *err, size_t errlen)
{
	char a[64], b[64];
	const char *why;

	if (p->prefix_len < lim->prefix_min || p->prefix_len > 128) {
		snprintf(a, sizeof(a), "/%u", p->prefix_len);
		snprintf(b, sizeof(b), "/%u..128", lim->prefix_min);
		return fail(err, errlen, -EINVAL, key(keys, F_PREFIX),
		            "%s is outside %s (a tunnel may only own its own prefix)", a, b);
	}
	if (check_ipv6(p, keys, err, errlen))
		return -EINVAL;
	inet_ntop(AF_INET, &p->ipv4_pop, a, sizeof(a));
	if ((why = tpolicy_ipv4_pop_bad(p->ipv4_pop)))
		return fail(err, errlen, -EINVAL, key(keys, F_POP4), "%s is %s", a, why);
	if (p->mtu && (p->mtu < lim->mtu_min || p->mtu > lim->mtu_max)) {
		snprintf(a, sizeof(a), "%u", p->mtu);
		snprintf(b, sizeof(b), "%u..%u", lim->mtu_min, lim->mtu_max);
		return fail(err, errlen, -EINVAL, key(keys, F_MTU),
		            "%s is outside %s (what the PoP accepts)", a, b);
	}
	return 0;
}

static int overlap_fail(char *err, size_t errlen, const char *k, const struct tunnel_prefix *ours,
                        const struct tunnel_prefix *host)
{
	char a[INET6_ADDRSTRLEN + 4], b[INET6_ADDRSTRLEN + 4];
	size_t n;

	inet_ntop(AF_INET6, &ours->addr, a, sizeof(a));
	n = strlen(a);
	snprintf(a + n, sizeof(a) - n, "/%u", ours->len);
	inet_ntop(AF_INET6, &host->addr, b, sizeof(b));
	n = strlen(b);
	snprintf(b + n, sizeof(b) - n, "/%u", host->len);
	return fail(err, errlen, -EADDRINUSE, k,
	            "%s overlaps %s, which this host already routes or has an address in", a, b);
}

/* The first host prefix (default routes excepted) that p overlaps, or NULL. */
static const struct tunnel_prefix *host_overlap(const struct tunnel_prefix *p,
                                                const struct tpolicy_host *host)
{
	for (size_t i = 0; i < host->nprefixes; i++)
		if (host->prefixes[i].len && tpolicy_prefix_overlap(p, &host->prefixes[i]))
			return &host->prefixes[i];
	return NULL;
}

/* a is n's broadcast address (a /31 or /32 has none; /0 is no network of the host's). */
static bool is_broadcast4(const struct tpolicy_net4 *n, struct in_addr a)
{
	uint32_t host_bits;

	if (n->len == 0 || n->len >= 31)
		return false;
	host_bits = ~0u >> n->len;
	return (ntohl(n->addr.s_addr) | host_bits) == ntohl(a.s_addr);
}

int tpolicy_check_host(const struct tunnel_params *p, const struct tunnel_prefix *routed,
                       size_t nrouted, const struct tpolicy_host *host, enum tpolicy_keys keys,
                       char *err, size_t errlen)
{
	struct tunnel_prefix own = {.addr = p->ipv6_local, .len = p->prefix_len};
	const struct tunnel_prefix *h;
	char a[INET_ADDRSTRLEN];

	if ((h = host_overlap(&own, host)))
		return overlap_fail(err, errlen, key(keys, F_LOCAL), &own, h);
	for (size_t i = 0; i < nrouted; i++)
		if ((h = host_overlap(&routed[i], host)))
			return overlap_fail(err, errlen, key(keys, F_ROUTED), &routed[i], h);
	for (size_t i = 0; i < host->nipv4; i++)
		if (host->ipv4[i].s_addr == p->ipv4_pop.s_addr) {
			inet_ntop(AF_INET, &p->ipv4_pop, a, sizeof(a));
			return fail(err, errlen, -EADDRINUSE, key(keys, F_POP4),
			            "%s is one of this host's own addresses", a);
		}
	for (size_t i = 0; i < host->nnets4; i++)
		if (is_broadcast4(&host->nets4[i], p->ipv4_pop)) {
			char net[INET_ADDRSTRLEN];
			struct in_addr n = {host->nets4[i].addr.s_addr &
			                    htonl(~0u << (32 - host->nets4[i].len))};

			inet_ntop(AF_INET, &p->ipv4_pop, a, sizeof(a));
			inet_ntop(AF_INET, &n, net, sizeof(net));
			return fail(err, errlen, -EADDRINUSE, key(keys, F_POP4),
			            "%s is the broadcast address of this host's network %s/%u", a,
			            net, (unsigned)host->nets4[i].len);
		}
	return 0;
}

size_t tpolicy_scrub(char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			*s = '?';
			n++;
		}
	return n;
}
