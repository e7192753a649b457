/*
 * The parent's view of the host for the overlap check (hostview.h), read
 * once and kept while it stays true for the checks it answers.
 *
 * A check leaves out the entries on aiccud's own links, so a change on
 * one of those links cannot change its answer; only a change elsewhere
 * can.  The rtnetlink monitor (heal.c) notes the link of every link,
 * address and route event here; a check reads the host again only when
 * some link noted since the last read is not one of the check's own
 * links (or an event named no link, or events were lost).  A thousand
 * tunnels coming up change only their own links: one read serves them
 * all, where each used to pay for a dump of every other tunnel's routes.
 *
 * The window between an event and the monitor's reading of it is the
 * same as between any check and the kernel acting on what it allowed.
 */
#ifndef AICCUD_HOSTCACHE_H
#define AICCUD_HOSTCACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "hostview.h"

struct netcfg;

struct hostcache {
	struct hostview view;
	bool valid; /* view holds a read whose changes are all noted below */
	int *noted; /* links with events since the read, sorted, no duplicates */
	size_t nnoted, cap;
	bool anywhere;       /* an event named no link, or events were lost */
	bool monitored;      /* events are noted here; without, every check reads the host */
	unsigned long reads; /* how often the host was read (status, tests) */
};

void hostcache_init(struct hostcache *hc);
void hostcache_free(struct hostcache *hc);

/* An event on link ifindex; 0 (or less): it may concern any of them. */
void hostcache_note(struct hostcache *hc, int ifindex);

/*
 * Pure: may the view answer a check that leaves out own's links (sorted:
 * hostview_own_sort)?  Only when every link noted since the read is one of them.
 */
bool hostcache_usable_own(const struct hostcache *hc, const struct hostview_own *own);

/*
 * hostview_check_own against the view, reading the host first (over nc)
 * when the view may not answer.  Same results as hostview_check_own, and those of
 * hostview_read when the read fails.
 */
int hostcache_check(struct hostcache *hc, struct netcfg *nc, const struct tunnel_params *p,
                    const struct tunnel_prefix *routed, size_t nrouted, const int *own, size_t nown,
                    enum tpolicy_keys keys, char *err, size_t errlen);

#endif
