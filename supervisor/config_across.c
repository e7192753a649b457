/* Validation across tunnel files (config_int.h). */
#include "config_int.h"

#include "routing.h"

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

/* ---- across tunnel files ---- */

static int line_or(int line, int fallback)
{
	return line ? line : fallback;
}

/* The metric default_route = yes uses (the kernel's default when not given). */
static uint32_t main_metric(const struct tunnel_conf *tc)
{
	return tc->default_route_metric ? tc->default_route_metric : ROUTING_MAIN_METRIC;
}

/*
 * Report (and count) every clash of b, the later file, with a, an earlier
 * usable one.  Two tunnels may not share what must identify one of them:
 * its name, its routing table (when the file names one: automatic ones
 * never clash), its address, the metric of its main-table default route.
 * Rules may share a priority: they differ in the source address.
 */
static size_t clashes(const struct tunnel_entry *a, const struct tunnel_lines *la,
                      const struct tunnel_entry *b, const struct tunnel_lines *lb, struct pctx *p)
{
	const struct tunnel_conf *x = &a->conf, *y = &b->conf;
	char addr[INET6_ADDRSTRLEN], what[2 * INET6_ADDRSTRLEN + 16];
	size_t before = p->nerr;

	if (strcmp(x->name, y->name) == 0)
		config_perr(p, lb->interface, "interface %s is already used by %s:%d", y->name,
		            x->file, la->interface);
	if (x->table && x->table == y->table)
		config_perr(p, lb->table, "table %u is already used by %s:%d", y->table, x->file,
		            la->table);
	if (x->default_route && y->default_route && main_metric(x) == main_metric(y))
		config_perr(p, line_or(lb->default_route_metric, lb->default_route),
		            "default_route: %s:%d already puts the main table's default route at "
		            "metric %u%s; give each tunnel its own default_route_metric",
		            x->file, line_or(la->default_route_metric, la->default_route),
		            main_metric(y), lb->default_route_metric ? "" : " (the default)");
	if (!x->tic && !y->tic &&
	    memcmp(&x->params.ipv6_local, &y->params.ipv6_local, sizeof(struct in6_addr)) == 0) {
		inet_ntop(AF_INET6, &y->params.ipv6_local, addr, sizeof(addr));
		config_perr(p, lb->ipv6_local, "ipv6_local %s is already used by %s:%d", addr,
		            x->file, la->ipv6_local);
	} else if (tunnel_claims_overlap(y->tic ? NULL : &y->params, y->routed, y->nrouted,
	                                 x->tic ? NULL : &x->params, x->routed, x->nrouted, what,
	                                 sizeof(what))) {
		/* A TIC tunnel's prefix is known only once fetched: checked then (workers.c). */
		config_perr(p, line_or(lb->ipv6_local, lb->sect),
		            "tunnel %s claims prefixes that overlap those of tunnel %s (%s:%d): %s",
		            y->name, x->name, x->file, line_or(la->ipv6_local, la->sect), what);
	}
	if (x->tic && y->tic && strcmp(x->id, y->id) == 0 &&
	    strcmp(x->account.server, y->account.server) == 0)
		config_perr(p, lb->id, "id %s on %s is already used by %s:%d", y->id,
		            y->account.server, x->file, la->id);
	return p->nerr - before;
}

void config_check_across(struct config *cfg, const struct tunnel_lines *tl,
                         struct config_diag *diag)
{
	for (size_t i = 0; i < cfg->ntunnels; i++) {
		struct tunnel_entry *b = &cfg->tunnels[i];
		struct pctx p;

		if (!b->valid)
			continue;
		config_pctx_init(&p, b->conf.file, config_tunnel_keys, config_tunnel_nkeys,
		                 config_tunnel_sections, &b->conf, diag);
		for (size_t j = 0; j < i; j++)
			if (cfg->tunnels[j].valid)
				clashes(&cfg->tunnels[j], &tl[j], b, &tl[i], &p);
		if (p.nerr) {
			b->valid = false;
			snprintf(b->error, sizeof(b->error), "%s", p.first_err);
		}
	}
}
