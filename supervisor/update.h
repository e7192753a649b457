/*
 * Keeping a 6in4 broker's idea of our IPv4 endpoint current (issue 23;
 * PROTOCOLS.md 8), on the parent's loop.
 *
 * For every tunnel with an [update] section: at start, and after the
 * host's addresses or routes changed (heal.c's rtnetlink monitor calls
 * update_host_changed; a settle time lets a change finish), the address
 * to announce (the host's IPv4 source toward ipv4_pop with ipv4_local =
 * auto, else ipv4_local) is compared with the last one the broker took
 * (persisted in state_dir/update/<tunnel>, atomically).  When they differ,
 * one request goes out through aiccud-tic -U (TLS, unprivileged), after a
 * token of this URL's own limiter bucket (state_dir/update-limiter.<hash>)
 * was saved.  good/nochg: done, never asked again for that address;
 * badauth, nohost, abuse, badagent and whatever is not a dyndns2 answer:
 * no more requests until the [update] section changes or aiccuctl refresh
 * (the stop is persisted too); 911 and network trouble: again after a
 * back-off.  The parent reads only the child's flat result, re-checked.
 */
#ifndef AICCUD_UPDATE_H
#define AICCUD_UPDATE_H

#include <jansson.h>

struct daemon;
struct tunnel_rt;

#define UPDATE_SETTLE_S     2.0  /* after the last address/route event */
#define UPDATE_SETTLE_MAX_S 10.0 /* a stream of events delays a check no longer */
#define UPDATE_DEADLINE_S   60.0 /* a child still running then is killed */
/* The per-URL bucket: 1 token, one every 20 s (at most 4 requests in 60 s). */
#define UPDATE_LIMITER_BURST  1
#define UPDATE_LIMITER_REFILL 20

int update_init(struct daemon *d);
void update_shutdown(struct daemon *d);
/* After the loop: every state and bucket freed. */
void update_free(struct daemon *d);
/* heal.c: an address or route of the host changed. */
void update_host_changed(struct daemon *d);
/* Whether t has an endpoint update (aiccuctl refresh applies). */
int update_has(const struct tunnel_rt *t);
/* aiccuctl refresh: a stopped update may go again; a back-off is cut short. */
void update_refresh(struct daemon *d, struct tunnel_rt *t);
/* Status: the update's state as a JSON object, NULL when t has none. */
json_t *update_json(const struct daemon *d, const struct tunnel_rt *t);
/*
 * aiccuctl limiter, status, metrics: the per-URL buckets used since the
 * daemon started (a bucket is read from its file at its first request),
 * as an array of objects; an empty array when none was.
 */
json_t *update_limiter_json(const struct daemon *d);

#endif
