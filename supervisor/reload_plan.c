/* The pure half of reload.h: which tunnels changed. */
#include "reload.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static bool account_same(const struct tic_account *a, const struct tic_account *b)
{
	return strcmp(a->server, b->server) == 0 && strcmp(a->username, b->username) == 0 &&
	       strcmp(a->password, b->password) == 0 && a->require_tls == b->require_tls &&
	       a->tls_min == b->tls_min && strcmp(a->ca_file, b->ca_file) == 0;
}

static bool update_same(const struct tunnel_conf *a, const struct tunnel_conf *b)
{
	const struct tunnel_update *x = &a->update, *y = &b->update;

	return a->has_update == b->has_update && strcmp(x->url, y->url) == 0 &&
	       strcmp(x->username, y->username) == 0 && strcmp(x->key, y->key) == 0 &&
	       strcmp(x->hostname, y->hostname) == 0 && strcmp(x->ca_file, y->ca_file) == 0;
}

static bool routed_same(const struct tunnel_conf *a, const struct tunnel_conf *b)
{
	if (a->nrouted != b->nrouted)
		return false;
	for (unsigned i = 0; i < a->nrouted && i < TUNNEL_ROUTED_MAX; i++)
		if (a->routed[i].len != b->routed[i].len ||
		    memcmp(&a->routed[i].addr, &b->routed[i].addr, sizeof(a->routed[i].addr)) != 0)
			return false;
	return true;
}

/*
 * Field by field, not memcmp: padding, and the params the parent copies
 * from the worker's report at run time.  A field added to struct
 * tunnel_conf must be added here.  Except autostart: it only decides
 * whether the daemon starts the tunnel itself (at start-up, or when the
 * file is new), so changing it neither starts nor stops a tunnel.
 */
bool reload_conf_same(const struct tunnel_conf *a, const struct tunnel_conf *b)
{
	if (strcmp(a->name, b->name) != 0 || strcmp(a->id, b->id) != 0 ||
	    strcmp(a->file, b->file) != 0 || a->table != b->table ||
	    a->rule_priority != b->rule_priority || a->mtu_override != b->mtu_override ||
	    a->datapath != b->datapath || a->tic != b->tic ||
	    a->heartbeat_ipv4 != b->heartbeat_ipv4 || a->liveness != b->liveness ||
	    a->liveness_misses != b->liveness_misses || a->mss_clamp != b->mss_clamp ||
	    a->offload != b->offload || strcmp(a->setup_script, b->setup_script) != 0 ||
	    a->default_route != b->default_route ||
	    a->default_route_metric != b->default_route_metric || a->ipv4_auto != b->ipv4_auto)
		return false;
	if (!account_same(&a->account, &b->account) || !routed_same(a, b) || !update_same(a, b))
		return false;
	/* A TIC tunnel's params come from the cache at run time, not the file. */
	return a->tic || tunnel_params_same(&a->params, &b->params);
}

enum reload_action reload_classify(const struct tunnel_entry *old, const struct tunnel_entry *neu)
{
	if (!old)
		return RELOAD_ADD;
	if (old->valid && !neu->valid)
		return RELOAD_KEEP_OLD;
	if (old->valid != neu->valid)
		return RELOAD_CHANGED;
	if (!neu->valid)
		return strcmp(old->error, neu->error) == 0 ? RELOAD_SAME : RELOAD_CHANGED;
	return reload_conf_same(&old->conf, &neu->conf) ? RELOAD_SAME : RELOAD_CHANGED;
}

/* FNV-1a of a name, for the matching's buckets. */
static size_t name_hash(const char *s)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * Old entries by name in buckets (chains through next[]), so that a
 * reload of a thousand tunnels is linear, not quadratic.
 */
struct name_index {
	long *head, *next;
	size_t nbuckets;
};

static int index_build(struct name_index *x, const struct tunnel_entry *const *old, size_t nold)
{
	x->nbuckets = 64;
	while (x->nbuckets < 2 * nold)
		x->nbuckets *= 2;
	x->head = malloc(x->nbuckets * sizeof(*x->head));
	x->next = malloc((nold ? nold : 1) * sizeof(*x->next));
	if (!x->head || !x->next) {
		free(x->head);
		free(x->next);
		return -1;
	}
	for (size_t b = 0; b < x->nbuckets; b++)
		x->head[b] = -1;
	/* Backwards, so that each chain lists the old entries in order. */
	for (size_t i = nold; i-- > 0;) {
		size_t b = name_hash(old[i]->conf.name) & (x->nbuckets - 1);

		x->next[i] = x->head[b];
		x->head[b] = (long)i;
	}
	return 0;
}

/* The quadratic fallback when memory is short: same pairs, slower. */
static void match_slow(const struct tunnel_entry *const *old, size_t nold,
                       const struct tunnel_entry *neu, size_t nnew, long *old_of_new, bool *taken)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < nnew; j++)
			for (size_t i = 0; i < nold && old_of_new[j] < 0; i++)
				if (!taken[i] && strcmp(old[i]->conf.name, neu[j].conf.name) == 0 &&
				    (pass || strcmp(old[i]->conf.file, neu[j].conf.file) == 0)) {
					old_of_new[j] = (long)i;
					taken[i] = true;
				}
}

void reload_match(const struct tunnel_entry *const *old, size_t nold,
                  const struct tunnel_entry *neu, size_t nnew, long *old_of_new)
{
	bool *taken = calloc(nold ? nold : 1, sizeof(*taken));
	struct name_index x;

	for (size_t j = 0; j < nnew; j++)
		old_of_new[j] = -1;
	if (!taken)
		fatalx("out of memory");
	if (index_build(&x, old, nold) < 0) {
		match_slow(old, nold, neu, nnew, old_of_new, taken);
		free(taken);
		return;
	}
	/* Two passes: an invalid duplicate of a name keeps to its own file. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < nnew; j++) {
			size_t b = name_hash(neu[j].conf.name) & (x.nbuckets - 1);

			for (long i = x.head[b]; i >= 0 && old_of_new[j] < 0; i = x.next[i])
				if (!taken[i] && strcmp(old[i]->conf.name, neu[j].conf.name) == 0 &&
				    (pass || strcmp(old[i]->conf.file, neu[j].conf.file) == 0)) {
					old_of_new[j] = i;
					taken[i] = true;
				}
		}
	free(x.head);
	free(x.next);
	free(taken);
}

int reload_plan(const struct tunnel_entry *const *old, const bool *old_removing, size_t nold,
                const struct tunnel_entry *neu, size_t nnew, struct reload_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->old_of_new = malloc((nnew ? nnew : 1) * sizeof(*plan->old_of_new));
	plan->new_action = malloc((nnew ? nnew : 1) * sizeof(*plan->new_action));
	plan->remove = calloc(nold ? nold : 1, sizeof(*plan->remove));
	if (!plan->old_of_new || !plan->new_action || !plan->remove) {
		reload_plan_free(plan);
		return -1;
	}
	reload_match(old, nold, neu, nnew, plan->old_of_new);
	for (size_t i = 0; i < nold; i++)
		plan->remove[i] = !old_removing[i]; /* until a new entry claims it */
	for (size_t j = 0; j < nnew; j++) {
		long i = plan->old_of_new[j];
		enum reload_action a = reload_classify(i >= 0 ? old[i] : NULL, &neu[j]);

		if (i >= 0) {
			plan->remove[i] = false;
			/* Removed by an earlier reload, back before its worker left. */
			if (a == RELOAD_SAME && old_removing[i])
				a = RELOAD_CHANGED;
		}
		plan->new_action[j] = a;
		plan->count[a]++;
	}
	for (size_t i = 0; i < nold; i++)
		plan->removed += plan->remove[i];
	return 0;
}

void reload_plan_free(struct reload_plan *plan)
{
	free(plan->old_of_new);
	free(plan->new_action);
	free(plan->remove);
	memset(plan, 0, sizeof(*plan));
}
