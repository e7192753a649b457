/* The host's addresses and routes for the overlap check (see hostview.h). */
#include "hostview.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "netcfg.h"

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *grown;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	grown = realloc(*arr, ncap * size);
	if (!grown)
		return -ENOMEM;
	*arr = grown;
	*cap = ncap;
	return 0;
}

int hostview_add6(struct hostview *hv, const struct in6_addr *a, uint8_t len, int ifindex)
{
	if (grow((void **)&hv->v6, &hv->cap6, hv->n6, sizeof(*hv->v6)) < 0)
		return -ENOMEM;
	hv->v6[hv->n6].pfx.addr = *a;
	hv->v6[hv->n6].pfx.len = len;
	hv->v6[hv->n6].ifindex = ifindex;
	hv->n6++;
	return 0;
}

int hostview_add4_net(struct hostview *hv, struct in_addr a, uint8_t len, int ifindex)
{
	if (grow((void **)&hv->v4, &hv->cap4, hv->n4, sizeof(*hv->v4)) < 0)
		return -ENOMEM;
	hv->v4[hv->n4].addr = a;
	hv->v4[hv->n4].ifindex = ifindex;
	hv->v4[hv->n4].len = len;
	hv->n4++;
	return 0;
}

int hostview_add4(struct hostview *hv, struct in_addr a, int ifindex)
{
	return hostview_add4_net(hv, a, 32, ifindex);
}

void hostview_free(struct hostview *hv)
{
	free(hv->v6);
	free(hv->v4);
	memset(hv, 0, sizeof(*hv));
}

static int on_route(const struct netcfg_route_dst *r, void *arg)
{
	if (r->protocol == NETCFG_PROTO || r->dst_len == 0)
		return 0;
	if (r->type == RTN_UNREACHABLE || r->type == RTN_BLACKHOLE || r->type == RTN_PROHIBIT ||
	    r->type == RTN_MULTICAST)
		return 0;
	return hostview_add6(arg, &r->dst, r->dst_len, r->ifindex);
}

static int on_addr(const struct netcfg_addr *a, void *arg)
{
	/* The address itself and its prefix: a /128 inside a tunnel's /64 is the host's too. */
	if (hostview_add6(arg, &a->addr, 128, a->ifindex) < 0)
		return -ENOMEM;
	return hostview_add6(arg, &a->addr, a->prefix_len, a->ifindex);
}

static int on_addr4(const struct netcfg_addr4 *a, void *arg)
{
	return hostview_add4_net(arg, a->addr, a->prefix_len, a->ifindex);
}

int hostview_read(struct netcfg *nc, struct hostview *hv, char *err, size_t errlen)
{
	int r;

	hv->n6 = hv->n4 = 0;
	r = netcfg_route_dst_list(nc, on_route, hv);
	if (r == 0)
		r = netcfg_addr_list(nc, 0, on_addr, hv);
	if (r == 0)
		r = netcfg_addr4_list(nc, on_addr4, hv);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the host's routes and addresses: %s %s",
		         strerror(-r), netcfg_errmsg(nc));
		hv->n6 = hv->n4 = 0;
	}
	return r;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int hostview_own_sort(const int *own, size_t nown, struct hostview_own *out)
{
	out->n = 0;
	out->ifx = malloc((nown ? nown : 1) * sizeof(*out->ifx));
	if (!out->ifx)
		return -ENOMEM;
	if (nown)
		memcpy(out->ifx, own, nown * sizeof(*out->ifx));
	qsort(out->ifx, nown, sizeof(*out->ifx), cmp_int);
	out->n = nown;
	return 0;
}

bool hostview_own_has(const struct hostview_own *own, int ifindex)
{
	return ifindex > 0 &&
	       bsearch(&ifindex, own->ifx, own->n, sizeof(*own->ifx), cmp_int) != NULL;
}

void hostview_own_free(struct hostview_own *own)
{
	free(own->ifx);
	own->ifx = NULL;
	own->n = 0;
}

int hostview_check_own(const struct hostview *hv, const struct tunnel_params *p,
                       const struct tunnel_prefix *routed, size_t nrouted,
                       const struct hostview_own *own, enum tpolicy_keys keys, char *err,
                       size_t errlen)
{
	struct tunnel_prefix *pfx = malloc((hv->n6 ? hv->n6 : 1) * sizeof(*pfx));
	struct in_addr *v4 = malloc((hv->n4 ? hv->n4 : 1) * sizeof(*v4));
	struct tpolicy_net4 *nets4 = malloc((hv->n4 ? hv->n4 : 1) * sizeof(*nets4));
	size_t n6 = 0, n4 = 0;
	int r = -ENOMEM;

	if (!pfx || !v4 || !nets4) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < hv->n6; i++)
		if (!hostview_own_has(own, hv->v6[i].ifindex))
			pfx[n6++] = hv->v6[i].pfx;
	for (size_t i = 0; i < hv->n4; i++) {
		nets4[n4].addr = hv->v4[i].addr;
		nets4[n4].len = hv->v4[i].len;
		v4[n4++] = hv->v4[i].addr; /* no tunnel link has IPv4 addresses of its own */
	}
	{
		struct tpolicy_host host = {pfx, n6, v4, n4, nets4, n4};

		r = tpolicy_check_host(p, routed, nrouted, &host, keys, err, errlen);
	}
out:
	free(pfx);
	free(v4);
	free(nets4);
	return r;
}
