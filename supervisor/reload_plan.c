/* The pure half of reload.h: which tunnels changed. */
#include "reload.h"

#include <string.h>

static bool account_same(const struct tic_account *a, const struct tic_account *b)
{
	return strcmp(a->server, b->server) == 0 && strcmp(a->username, b->username) == 0 &&
	       strcmp(a->password, b->password) == 0 && a->require_tls == b->require_tls &&
	       strcmp(a->ca_file, b->ca_file) == 0;
}

static bool params_same(const struct tunnel_params *a, const struct tunnel_params *b)
{
	return a->type == b->type &&
	       memcmp(&a->ipv6_local, &b->ipv6_local, sizeof(a->ipv6_local)) == 0 &&
	       memcmp(&a->ipv6_pop, &b->ipv6_pop, sizeof(a->ipv6_pop)) == 0 &&
	       a->prefix_len == b->prefix_len && a->ipv4_pop.s_addr == b->ipv4_pop.s_addr &&
	       a->ipv4_local.s_addr == b->ipv4_local.s_addr &&
	       strcmp(a->password, b->password) == 0 &&
	       a->heartbeat_interval == b->heartbeat_interval && a->mtu == b->mtu;
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
 * tunnel_conf must be added here.
 */
bool reload_conf_same(const struct tunnel_conf *a, const struct tunnel_conf *b)
{
	if (strcmp(a->name, b->name) != 0 || strcmp(a->id, b->id) != 0 ||
	    strcmp(a->file, b->file) != 0 || a->table != b->table ||
	    a->rule_priority != b->rule_priority || a->mtu_override != b->mtu_override ||
	    a->datapath != b->datapath || a->tic != b->tic || a->behind_nat != b->behind_nat ||
	    a->liveness != b->liveness || a->liveness_misses != b->liveness_misses ||
	    strcmp(a->setup_script, b->setup_script) != 0 || a->default_route != b->default_route ||
	    a->default_route_metric != b->default_route_metric)
		return false;
	if (!account_same(&a->account, &b->account) || !routed_same(a, b))
		return false;
	/* A TIC tunnel's params come from the cache at run time, not the file. */
	return a->tic || params_same(&a->params, &b->params);
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

static bool taken(const long *old_of_new, size_t nnew, size_t i)
{
	for (size_t j = 0; j < nnew; j++)
		if (old_of_new[j] == (long)i)
			return true;
	return false;
}

void reload_match(const struct tunnel_entry *const *old, size_t nold,
                  const struct tunnel_entry *neu, size_t nnew, long *old_of_new)
{
	for (size_t j = 0; j < nnew; j++)
		old_of_new[j] = -1;
	/* Two passes: an invalid duplicate of a name keeps to its own file. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < nnew; j++) {
			if (old_of_new[j] >= 0)
				continue;
			for (size_t i = 0; i < nold; i++) {
				if (strcmp(old[i]->conf.name, neu[j].conf.name) != 0 ||
				    (pass == 0 &&
				     strcmp(old[i]->conf.file, neu[j].conf.file) != 0) ||
				    taken(old_of_new, nnew, i))
					continue;
				old_of_new[j] = (long)i;
				break;
			}
		}
}
