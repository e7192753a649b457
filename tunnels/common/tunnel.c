/* Names of tunnel enums as they appear in TIC answers and tunnel files. */
#include "tunnel.h"
#include "../ayiya.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#define TUNNEL_DEFAULT_MTU 1280 /* the IPv6 minimum: always safe */

struct name_map {
	int value;
	const char *name;
};

static const struct name_map type_names[] = {
    {TUNNEL_AYIYA, "ayiya"},
    {TUNNEL_6IN4_HEARTBEAT, "6in4-heartbeat"},
    {TUNNEL_6IN4_STATIC, "6in4-static"},
};

static const struct name_map datapath_names[] = {
    {DATAPATH_AUTO, "auto"},
    {DATAPATH_KERNEL, "kernel"},
    {DATAPATH_USERSPACE, "userspace"},
};

#define NMAP(m) (sizeof(m) / sizeof((m)[0]))

static const char *map_name(const struct name_map *m, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].value == value)
			return m[i].name;
	return "unknown";
}

/* Exact, case-sensitive match: the spellings TIC and the tunnel files use. */
static int map_parse(const struct name_map *m, size_t n, const char *s, int *out)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(m[i].name, s) == 0) {
			*out = m[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

const char *tunnel_type_name(enum tunnel_type t)
{
	return map_name(type_names, NMAP(type_names), (int)t);
}

int tunnel_type_parse(const char *s, enum tunnel_type *out)
{
	int v, err = map_parse(type_names, NMAP(type_names), s, &v);

	if (!err)
		*out = (enum tunnel_type)v;
	return err;
}

const char *tunnel_datapath_name(enum tunnel_datapath d)
{
	return map_name(datapath_names, NMAP(datapath_names), (int)d);
}

bool tunnel_link_kind_ok(const struct tunnel_conf *tc, const char *kind)
{
	bool tun = strcmp(kind, "tun") == 0, sit = strcmp(kind, "sit") == 0;

	if (tc->params.type == TUNNEL_AYIYA || tc->datapath == DATAPATH_USERSPACE)
		return tun;
	if (tc->datapath == DATAPATH_KERNEL)
		return sit;
	return tun || sit;
}

int tunnel_datapath_parse(const char *s, enum tunnel_datapath *out)
{
	int v, err = map_parse(datapath_names, NMAP(datapath_names), s, &v);

	if (!err)
		*out = (enum tunnel_datapath)v;
	return err;
}

uint32_t tunnel_mtu_wanted(const struct tunnel_conf *tc)
{
	if (tc->mtu_override)
		return tc->mtu_override;
	if (tc->params.mtu)
		return tc->params.mtu;
	return TUNNEL_DEFAULT_MTU;
}

bool tunnel_path_mtu_ok(uint32_t path_mtu)
{
	return path_mtu == 0 || (path_mtu >= 68 && path_mtu <= 65535);
}

uint32_t tunnel_path_mtu(const struct tunnel_conf *tc)
{
	return tc->path_mtu ? tc->path_mtu : AYIYA_PATH_MTU;
}

bool tunnel_path_too_small(const struct tunnel_conf *tc)
{
	return tc->params.type == TUNNEL_AYIYA &&
	       tunnel_path_mtu(tc) < TUNNEL_DEFAULT_MTU + AYIYA_IPV4_OVERHEAD;
}

uint32_t tunnel_mtu_max(const struct tunnel_conf *tc)
{
	if (tc->params.type != TUNNEL_AYIYA)
		return UINT32_MAX;
	if (tunnel_path_too_small(tc))
		return TUNNEL_DEFAULT_MTU;
	return AYIYA_MTU_MAX(tunnel_path_mtu(tc));
}

uint32_t tunnel_mtu(const struct tunnel_conf *tc)
{
	uint32_t mtu = tunnel_mtu_wanted(tc), max = tunnel_mtu_max(tc);

	return mtu > max ? max : mtu;
}

bool tunnel_params_same(const struct tunnel_params *a, const struct tunnel_params *b)
{
	return a->type == b->type &&
	       memcmp(&a->ipv6_local, &b->ipv6_local, sizeof(a->ipv6_local)) == 0 &&
	       memcmp(&a->ipv6_pop, &b->ipv6_pop, sizeof(a->ipv6_pop)) == 0 &&
	       a->prefix_len == b->prefix_len && a->ipv4_pop.s_addr == b->ipv4_pop.s_addr &&
	       a->ipv4_local.s_addr == b->ipv4_local.s_addr &&
	       strcmp(a->password, b->password) == 0 &&
	       a->heartbeat_interval == b->heartbeat_interval && a->mtu == b->mtu;
}

bool tunnel_prefix_contains(const struct in6_addr *net, unsigned len, const struct in6_addr *a)
{
	unsigned full = len / 8, rest = len % 8;

	if (len > 128 || memcmp(net, a, full) != 0)
		return false;
	return !rest || ((net->s6_addr[full] ^ a->s6_addr[full]) & (0xff00u >> rest) & 0xff) == 0;
}

static bool prefixes_overlap(const struct tunnel_prefix *a, const struct tunnel_prefix *b)
{
	return a->len <= b->len ? tunnel_prefix_contains(&a->addr, a->len, &b->addr)
	                        : tunnel_prefix_contains(&b->addr, b->len, &a->addr);
}

static void prefix_text(const struct tunnel_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
}

bool tunnel_claims_overlap(const struct tunnel_params *pa, const struct tunnel_prefix *ra,
                           size_t na, const struct tunnel_params *pb,
                           const struct tunnel_prefix *rb, size_t nb, char *what, size_t len)
{
	struct tunnel_prefix a[1 + TUNNEL_ROUTED_MAX], b[1 + TUNNEL_ROUTED_MAX];
	size_t n = 0, m = 0;
	char x[INET6_ADDRSTRLEN + 4], y[INET6_ADDRSTRLEN + 4];

	if (pa) {
		a[n].addr = pa->ipv6_local;
		a[n++].len = pa->prefix_len;
	}
	for (size_t i = 0; i < na && n < sizeof(a) / sizeof(a[0]); i++)
		a[n++] = ra[i];
	if (pb) {
		b[m].addr = pb->ipv6_local;
		b[m++].len = pb->prefix_len;
	}
	for (size_t i = 0; i < nb && m < sizeof(b) / sizeof(b[0]); i++)
		b[m++] = rb[i];
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++) {
			if (a[i].len > 128 || b[j].len > 128 || !prefixes_overlap(&a[i], &b[j]))
				continue;
			prefix_text(&a[i], x, sizeof(x));
			prefix_text(&b[j], y, sizeof(y));
			snprintf(what, len, "%s and %s", x, y);
			return true;
		}
	return false;
}
