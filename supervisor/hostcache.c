/* The parent's kept view of the host (see hostcache.h). */
#include "hostcache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hostcache_init(struct hostcache *hc)
{
	memset(hc, 0, sizeof(*hc));
}

void hostcache_free(struct hostcache *hc)
{
	hostview_free(&hc->view);
	free(hc->noted);
	memset(hc, 0, sizeof(*hc));
}

/* Index of the first noted link >= ifindex. */
static size_t lower_bound(const int *a, size_t n, int ifindex)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void hostcache_note(struct hostcache *hc, int ifindex)
{
	size_t at;

	if (!hc->valid || hc->anywhere)
		return; /* the next check reads the host anyway */
	if (ifindex <= 0) {
		hc->anywhere = true;
		return;
	}
	at = lower_bound(hc->noted, hc->nnoted, ifindex);
	if (at < hc->nnoted && hc->noted[at] == ifindex)
		return;
	if (hc->nnoted == hc->cap) {
		size_t cap = hc->cap ? hc->cap * 2 : 32;
		int *grown = realloc(hc->noted, cap * sizeof(*grown));

		if (!grown) {
			hc->anywhere = true; /* cannot remember where: look everywhere */
			return;
		}
		hc->noted = grown;
		hc->cap = cap;
	}
	memmove(hc->noted + at + 1, hc->noted + at, (hc->nnoted - at) * sizeof(*hc->noted));
	hc->noted[at] = ifindex;
	hc->nnoted++;
}

bool hostcache_usable_own(const struct hostcache *hc, const struct hostview_own *own)
{
	if (!hc->monitored || !hc->valid || hc->anywhere)
		return false;
	for (size_t i = 0; i < hc->nnoted; i++)
		if (!hostview_own_has(own, hc->noted[i]))
			return false;
	return true;
}

int hostcache_check(struct hostcache *hc, struct netcfg *nc, const struct tunnel_params *p,
                    const struct tunnel_prefix *routed, size_t nrouted, const int *own, size_t nown,
                    enum tpolicy_keys keys, char *err, size_t errlen)
{
	struct hostview_own sorted;
	int r = hostview_own_sort(own, nown, &sorted);

	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	if (!hostcache_usable_own(hc, &sorted)) {
		/* Marked before the read: what changes during it is noted for the next. */
		hc->valid = true;
		hc->anywhere = false;
		hc->nnoted = 0;
		hc->reads++;
		r = hostview_read(nc, &hc->view, err, errlen);
		if (r < 0)
			hc->valid = false;
	}
	if (r == 0)
		r = hostview_check_own(&hc->view, p, routed, nrouted, &sorted, keys, err, errlen);
	hostview_own_free(&sorted);
	return r;
}
