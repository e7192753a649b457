/* The parent's kept view of the host (see hostcache.h). */
#include "hostcache.h"

#include <errno.h>
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

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool in(const int *own, size_t nown, int ifindex)
{
	for (size_t i = 0; i < nown; i++)
		if (own[i] == ifindex)
			return true;
	return false;
}

bool hostcache_usable(const struct hostcache *hc, const int *own, size_t nown)
{
	size_t i, j;

	if (!hc->monitored || !hc->valid || hc->anywhere)
		return false;
	if (hc->nnoted <= 8 || nown <= 8) {
		for (i = 0; i < hc->nnoted; i++)
			if (!in(own, nown, hc->noted[i]))
				return false;
		return true;
	}
	/* Many on both sides (a thousand tunnels coming up): merge two sorted lists. */
	{
		int *s = malloc(nown * sizeof(*s));
		bool ok = true;

		if (!s)
			return false;
		memcpy(s, own, nown * sizeof(*s));
		qsort(s, nown, sizeof(*s), cmp_int);
		for (i = 0, j = 0; ok && i < hc->nnoted; i++) {
			while (j < nown && s[j] < hc->noted[i])
				j++;
			ok = j < nown && s[j] == hc->noted[i];
		}
		free(s);
		return ok;
	}
}

int hostcache_check(struct hostcache *hc, struct netcfg *nc, const struct tunnel_params *p,
                    const struct tunnel_prefix *routed, size_t nrouted, const int *own, size_t nown,
                    enum tpolicy_keys keys, char *err, size_t errlen)
{
	if (!hostcache_usable(hc, own, nown)) {
		int r;

		/* Marked before the read: what changes during it is noted for the next. */
		hc->valid = true;
		hc->anywhere = false;
		hc->nnoted = 0;
		hc->reads++;
		r = hostview_read(nc, &hc->view, err, errlen);
		if (r < 0) {
			hc->valid = false;
			return r;
		}
	}
	return hostview_check(&hc->view, p, routed, nrouted, own, nown, keys, err, errlen);
}
