/*
 * Self-healing and start-up reconciliation (heal.h), on the parent's loop.
 *
 * Events only say where to look: a check then reads the kernel's state
 * and repairs what is missing, so a repeated, late or coalesced event
 * does no harm, and a lost one (ENOBUFS) just means "look everywhere".
 */
#include "heal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "daemon.h"
#include "log.h"
#include "netcfg.h"
#include "reconcile.h"
#include "routing.h"
#include "update.h"
#include "workers.h"
#include "events.h"

/* Events come in bursts (an address takes its routes with it): look once. */
#define HEAL_COALESCE 0.002
/* A worker that exits takes its link along; its exit is reaped within this
 * time, so a link still missing after it has really vanished under a
 * running worker. */
#define HEAL_LINK_GRACE 0.5
/* A missing local route is looked at again after this long before repairing. */
#define HEAL_LOCAL_GRACE 0.1
/* The kernel answers a route lookup at once; this only bounds a stuck socket. */

enum {
	HEAL_RULE = 1 << 0,
	HEAL_ROUTE = 1 << 1,
	HEAL_ADDR = 1 << 2,
	HEAL_LINK = 1 << 3,
	HEAL_LOCAL = 1 << 4,
	HEAL_ALL = HEAL_RULE | HEAL_ROUTE | HEAL_ADDR | HEAL_LINK | HEAL_LOCAL,
};

struct heal {
	struct daemon *d;
	struct netcfg_monitor *mon;
	ev_io io;
	ev_timer check_w;
	ev_timer link_w;       /* second look at links found missing */
	ev_tstamp first_event; /* ev_time() of the oldest event not yet checked; 0: none */
	bool resync;           /* events were lost: check everything */
};

static bool watched(const struct tunnel_rt *t)
{
	return t->state == TS_UP && t->policy_installed && t->pid > 0 && t->ifindex > 0;
}

/* ---- which tunnel an event concerns ---- */

static void mark(struct daemon *d, unsigned what,
                 bool (*hit)(const struct tunnel_rt *, const void *), const void *obj)
{
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t)) {
		if (watched(t) && hit(t, obj))
			t->heal_dirty |= what;
	}
}

static bool rule_hit(const struct tunnel_rt *t, const void *obj)
{
	return routing_rule_is_ours(&t->entry.conf, obj);
}

static bool route_hit(const struct tunnel_rt *t, const void *obj)
{
	const struct netcfg_route *r = obj;

	if (t->entry.conf.default_route && r->table == ROUTING_MAIN_TABLE && r->dst_len == 0 &&
	    r->ifindex == t->ifindex)
		return true; /* its main-table default route (default_route = yes) */
	return r->table == t->entry.conf.table && r->dst_len == 0;
}

static bool addr_hit(const struct tunnel_rt *t, const void *obj)
{
	const struct netcfg_addr *a = obj;

	return a->ifindex == t->ifindex &&
	       memcmp(&a->addr, &t->entry.conf.params.ipv6_local, sizeof(a->addr)) == 0;
}

static bool link_hit(const struct tunnel_rt *t, const void *obj)
{
	return ((const struct netcfg_link *)obj)->ifindex == t->ifindex;
}

static void ev_rule(const struct netcfg_rule *r, bool deleted, void *arg)
{
	if (deleted)
		mark(arg, HEAL_RULE, rule_hit, r);
}

static void ev_route(const struct netcfg_route *r, bool deleted, void *arg)
{
	/* A new route in our table may have replaced ours (another MTU, device). */
	(void)deleted;
	mark(arg, HEAL_ROUTE, route_hit, r);
}

static void ev_addr(const struct netcfg_addr *a, bool deleted, void *arg)
{
	if (deleted)
		mark(arg, HEAL_ADDR, addr_hit, a);
}

static bool local_hit(const struct tunnel_rt *t, const void *obj)
{
	return memcmp(obj, &t->entry.conf.params.ipv6_local, sizeof(struct in6_addr)) == 0;
}

static void ev_local(const struct in6_addr *a, bool deleted, void *arg)
{
	if (deleted)
		mark(arg, HEAL_LOCAL, local_hit, a);
}

static void ev_link(const struct netcfg_link *l, bool deleted, void *arg)
{
	if (deleted || !l->up)
		mark(arg, HEAL_LINK, link_hit, l);
}

/* Any change on a link: the overlap check's view of the host may be out of date. */
static void ev_changed(int ifindex, void *arg)
{
	struct daemon *d = arg;

	hostcache_note(&d->hostcache, ifindex);
	/* The IPv4 source toward a 6in4 PoP may have moved (update.h). */
	update_host_changed(d);
}

static const struct netcfg_monitor_ops monitor_ops = {.link = ev_link,
                                                      .addr = ev_addr,
                                                      .route = ev_route,
                                                      .rule = ev_rule,
                                                      .local = ev_local,
                                                      .changed = ev_changed};

static void on_monitor(EV_P_ ev_io *io, int revents)
{
	struct heal *h = io->data;
	int n;

	(void)revents;
	if (!h->first_event)
		h->first_event = ev_time();
	n = netcfg_monitor_read(h->mon, &monitor_ops, h->d);
	if (n == -ENOBUFS) {
		log_warnx("rtnetlink: events were lost; checking every tunnel's routing");
		h->resync = true;
		hostcache_note(&h->d->hostcache, 0);
	} else if (n < 0) {
		log_warnx("rtnetlink monitor: %s", strerror(-n));
	}
	/* Only tunnels an event concerned are looked at (the check is a
	 * netlink round trip each: a thousand tunnels must not pay for one). */
	if (!ev_is_active(&h->check_w)) {
		ev_timer_set(&h->check_w, HEAL_COALESCE, 0.);
		ev_timer_start(EV_A_ & h->check_w);
	}
}

/* ---- looking at the kernel ---- */

static int rule_seen(const struct netcfg_rule *r, void *arg)
{
	return routing_rule_is_ours(arg, r) ? 1 : 0;
}

static int route_seen(const struct netcfg_route *r, void *arg)
{
	const struct tunnel_rt *t = arg;

	return routing_route_is_ours(&t->entry.conf, t->ifindex, r) ? 1 : 0;
}

static int main_route_seen(const struct netcfg_route *r, void *arg)
{
	const struct tunnel_rt *t = arg;

	return routing_main_route_is_ours(&t->entry.conf, t->ifindex, r) ? 1 : 0;
}

static int addr_seen(const struct netcfg_addr *a, void *arg)
{
	const struct tunnel_rt *t = arg;

	return addr_hit(t, a) && a->prefix_len == t->entry.conf.params.prefix_len ? 1 : 0;
}

/* ---- repairs ---- */

static void repaired(struct tunnel_rt *t, ev_tstamp event_at, const char *what)
{
	double ms = event_at ? (ev_time() - event_at) * 1000.0 : 0;

	t->repairs++;
	t->last_repair_at = time(NULL);
	t->last_repair_ms = ms;
	snprintf(t->last_repair, sizeof(t->last_repair), "%s", what);
	log_warnx("%s: %s went missing; restored %.1f ms after the kernel's notification "
	          "(repair %u)",
	          t->entry.conf.name, what, ms, t->repairs);
	events_publish(EVENTS_REPAIR, t->entry.conf.name,
	               "%s went missing; restored %.1f ms after "
	               "the kernel's notification (repair %u)",
	               what, ms, t->repairs);
}

static void repair_failed(struct tunnel_rt *t, const char *what, int err)
{
	log_warnx("%s: cannot restore %s: %s %s", t->entry.conf.name, what, strerror(-err),
	          netcfg_errmsg(t->d->nc));
	events_publish(EVENTS_REPAIR, t->entry.conf.name, "cannot restore %s: %s %s", what,
	               strerror(-err), netcfg_errmsg(t->d->nc));
}

static void check_rule(struct heal *h, struct tunnel_rt *t)
{
	struct netcfg *nc = h->d->nc;
	struct netcfg_rule rule;
	char what[128], a[INET6_ADDRSTRLEN];
	int err = netcfg_rule_list(nc, NETCFG_PROTO, rule_seen, &t->entry.conf);

	if (err != 0)
		return; /* present (1), or the list failed: the next event retries */
	routing_rule(&t->entry.conf, &rule);
	inet_ntop(AF_INET6, &rule.src, a, sizeof(a));
	snprintf(what, sizeof(what), "rule from %s lookup %u (priority %u)", a, rule.table,
	         rule.priority);
	err = netcfg_rule_add(nc, &rule);
	if (err < 0)
		repair_failed(t, what, err);
	else
		repaired(t, h->first_event, what);
}

static void check_route(struct heal *h, struct tunnel_rt *t)
{
	struct netcfg *nc = h->d->nc;
	struct netcfg_route route;
	char what[128];
	int err = netcfg_route_list(nc, t->entry.conf.table, NETCFG_PROTO, route_seen, t);

	if (err != 0)
		return;
	routing_route(&t->entry.conf, t->ifindex, &route);
	snprintf(what, sizeof(what), "default route of table %u (mtu %u)", route.table, route.mtu);
	err = netcfg_route_add(nc, &route);
	if (err < 0)
		repair_failed(t, what, err);
	else
		repaired(t, h->first_event, what);
}

/*
 * default_route = yes: its main-table default route.  Created exclusively,
 * as at install: if another default route of that metric took its place,
 * that one is left alone and the failure logged.
 */
static void check_main_route(struct heal *h, struct tunnel_rt *t)
{
	struct netcfg *nc = h->d->nc;
	struct netcfg_route route;
	char what[128];
	int err;

	if (!t->entry.conf.default_route)
		return;
	err = netcfg_route_list(nc, ROUTING_MAIN_TABLE, NETCFG_PROTO, main_route_seen, t);
	if (err != 0)
		return;
	routing_main_route(&t->entry.conf, t->ifindex, &route);
	snprintf(what, sizeof(what), "main-table default route (metric %u, mtu %u)", route.priority,
	         route.mtu);
	err = netcfg_route_add_excl(nc, &route);
	if (err < 0)
		repair_failed(t, what, err);
	else
		repaired(t, h->first_event, what);
}

/* What a repair request restores, for the log and status. */
static void repair_text(const struct tunnel_rt *t, unsigned what, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &t->entry.conf.params.ipv6_local, a, sizeof(a));
	if (what & IPC_REPAIR_LINK_UP)
		snprintf(buf, len, "link %s up", t->entry.conf.name);
	else if (what & IPC_REPAIR_READD)
		snprintf(buf, len, "local route of %s (table local)", a);
	else
		snprintf(buf, len, "address %s/%u on %s", a, t->entry.conf.params.prefix_len,
		         t->entry.conf.name);
}

/*
 * The worker owns its link: ask it to restore what is missing there.  The
 * repair is counted when its answer comes (on_registry).
 */
static int ask_worker(struct heal *h, struct tunnel_rt *t, unsigned what)
{
	char text[128];
	int err;

	t->repair_event_at = h->first_event ? h->first_event : ev_time();
	err = workers_request_repair(t, what);
	if (err < 0) {
		repair_text(t, what, text, sizeof(text));
		repair_failed(t, text, err);
	}
	return err;
}

/* Returns true when the address had to be added again. */
static bool check_addr(struct heal *h, struct tunnel_rt *t)
{
	int err = netcfg_addr_list(h->d->nc, t->ifindex, addr_seen, t);

	if (err != 0)
		return false;
	return ask_worker(h, t, IPC_REPAIR_ADDR) == 0;
}

static void check_local_route(struct heal *h, struct tunnel_rt *t)
{
	int kind = netcfg_route_kind(h->d->nc, &t->entry.conf.params.ipv6_local);
	ev_tstamp left;

	if (kind == RTN_LOCAL) {
		t->local_missing_at = 0;
		return;
	}
	if (kind < 0 && kind != -ENETUNREACH && kind != -EHOSTUNREACH) {
		log_debug("%s: route lookup failed: %s", t->entry.conf.name, strerror(-kind));
		return;
	}
	/* Only with the address in place: otherwise check_addr's business. */
	if (netcfg_addr_list(h->d->nc, t->ifindex, addr_seen, t) != 1)
		return;
	/*
	 * The kernel inserts an address's local route from a work item (DAD,
	 * even with nodad), moments after the address appears: look again
	 * after a grace before calling it lost, or we would race the kernel.
	 */
	ev_now_update(h->d->loop);
	if (!t->local_missing_at)
		t->local_missing_at = ev_now(h->d->loop);
	left = HEAL_LOCAL_GRACE - (ev_now(h->d->loop) - t->local_missing_at);
	if (left > 0) {
		/* Look at this one again once the grace is over. */
		t->heal_dirty |= HEAL_LOCAL;
		if (!ev_is_active(&h->check_w)) {
			ev_timer_set(&h->check_w, left, 0.);
			ev_timer_start(h->d->loop, &h->check_w);
		}
		return;
	}
	t->local_missing_at = 0;
	ask_worker(h, t, IPC_REPAIR_READD);
}

static void check_link(struct heal *h, struct tunnel_rt *t)
{
	struct netcfg_link l;
	int err = netcfg_link_get(h->d->nc, t->ifindex, NULL, &l);

	if (err == -ENODEV && !t->link_missing) {
		/* Most likely the worker is exiting: give its exit time to arrive. */
		t->link_missing = true;
		if (!ev_is_active(&h->link_w)) {
			ev_timer_set(&h->link_w, HEAL_LINK_GRACE, 0.);
			ev_timer_start(h->d->loop, &h->link_w);
		}
		return;
	}
	t->link_missing = false;
	if (err == -ENODEV) {
		workers_link_lost(t);
		return;
	}
	if (err < 0 || l.up)
		return;
	ask_worker(h, t, IPC_REPAIR_LINK_UP);
}

static void check_tunnel(struct heal *h, struct tunnel_rt *t, unsigned dirty)
{
	bool readded = false;

	if (dirty & HEAL_LINK) {
		check_link(h, t);
		if (!watched(t) || t->link_missing)
			return; /* the link is gone: the worker restarts */
	}
	if (dirty & HEAL_ROUTE) {
		check_route(h, t);
		check_main_route(h, t);
	}
	if (dirty & HEAL_RULE)
		check_rule(h, t);
	if (dirty & HEAL_ADDR)
		readded = check_addr(h, t);
	/* A re-added address brings its local route with it. */
	if (!readded && (dirty & (HEAL_LOCAL | HEAL_ADDR)))
		check_local_route(h, t);
}

static void on_check(EV_P_ ev_timer *w, int revents)
{
	struct heal *h = w->data;
	struct daemon *d = h->d;

	(void)loop;
	(void)revents;
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t)) {
		unsigned dirty = t->heal_dirty | (h->resync ? HEAL_ALL : 0);

		t->heal_dirty = 0;
		if (dirty && watched(t) && !d->shutting_down)
			check_tunnel(h, t, dirty);
	}
	h->resync = false;
	h->first_event = 0;
}

static void on_link_grace(EV_P_ ev_timer *w, int revents)
{
	struct heal *h = w->data;
	struct daemon *d = h->d;

	(void)loop;
	(void)revents;
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t)) {
		if (t->link_missing && watched(t) && !d->shutting_down)
			check_link(h, t);
		t->link_missing = false;
	}
}

/* The worker's answers to ask_worker: count and log each restored piece. */
static void repairs_answered(struct heal *h, struct tunnel_rt *t)
{
	static const unsigned bits[] = {IPC_REPAIR_LINK_UP, IPC_REPAIR_ADDR, IPC_REPAIR_READD};
	char text[128];
	unsigned failed, done = workers_repairs_take(t, &failed);

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		repair_text(t, bits[i], text, sizeof(text));
		if (failed & bits[i]) {
			log_warnx("%s: the worker cannot restore %s: %s", t->entry.conf.name, text,
			          t->repair_reason);
			events_publish(EVENTS_REPAIR, t->entry.conf.name,
			               "the worker cannot restore %s: %s", text, t->repair_reason);
		} else if (done & bits[i])
			repaired(t, t->repair_event_at, text);
	}
	/* What needed the link up (its routes) could not come back before:
	 * look again after a success (after a failure, the next event does). */
	if (done) {
		t->heal_dirty |= HEAL_ALL;
		if (!ev_is_active(&h->check_w)) {
			ev_timer_set(&h->check_w, HEAL_COALESCE, 0.);
			ev_timer_start(h->d->loop, &h->check_w);
		}
	}
}

/*
 * A tunnel that leaves TS_UP is no longer watched: forget what was still
 * to check, so its next life starts clean.
 */
static void on_registry(void *arg, const struct registry_change *c)
{
	struct heal *h = arg;
	struct tunnel_rt *t = c->t;

	if (c->ev == REG_CHANGED && (t->repair_done || t->repair_failed))
		repairs_answered(h, t);
	if (c->ev == REG_STATE && c->from == TS_UP && c->to != TS_UP) {
		c->t->heal_dirty = 0;
		c->t->link_missing = false;
		c->t->local_missing_at = 0;
	}
	/*
	 * Up: only now is the tunnel watched, so what went missing while it
	 * started (its address deleted between the worker adding it and
	 * reporting up) had no event to act on.  Look once at what the worker
	 * made (link state, address, local route) and the table's route.  The
	 * rule is left out: the parent added it just before the state became
	 * up, so its deletion has an event, and its check is a dump of every
	 * rule, which a thousand tunnels coming up must not each pay for.
	 */
	if (c->ev == REG_STATE && c->to == TS_UP && c->from != TS_UP) {
		t->heal_dirty |= HEAL_LINK | HEAL_ADDR | HEAL_LOCAL | HEAL_ROUTE;
		if (!ev_is_active(&h->check_w)) {
			ev_timer_set(&h->check_w, HEAL_COALESCE, 0.);
			ev_timer_start(h->d->loop, &h->check_w);
		}
	}
}

int heal_open(struct daemon *d)
{
	struct heal *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	h->d = d;
	err = netcfg_monitor_open(&h->mon);
	if (err < 0)
		goto fail;
	ev_io_init(&h->io, on_monitor, netcfg_monitor_fd(h->mon), EV_READ);
	ev_init(&h->check_w, on_check);
	ev_init(&h->link_w, on_link_grace);
	h->io.data = h->check_w.data = h->link_w.data = h;
	err = registry_subscribe(d->reg, on_registry, h);
	if (err < 0)
		goto fail;
	ev_io_start(d->loop, &h->io);
	d->heal = h;
	return 0;
fail:
	netcfg_monitor_close(h->mon);
	free(h);
	return err;
}

void heal_close(struct daemon *d)
{
	struct heal *h = d->heal;

	if (!h)
		return;
	registry_unsubscribe(d->reg, on_registry, h);
	ev_io_stop(d->loop, &h->io);
	ev_timer_stop(d->loop, &h->check_w);
	ev_timer_stop(d->loop, &h->link_w);
	netcfg_monitor_close(h->mon);
	free(h);
	d->heal = NULL;
}

/* ---- start-up reconciliation ---- */

struct found {
	struct netcfg_rule *rules;
	size_t nrules;
	struct netcfg_route *routes;
	size_t nroutes;
};

static int collect_rule(const struct netcfg_rule *r, void *arg)
{
	struct found *f = arg;
	struct netcfg_rule *n = realloc(f->rules, (f->nrules + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[f->nrules++] = *r;
	f->rules = n;
	return 0;
}

static int collect_route(const struct netcfg_route *r, void *arg)
{
	struct found *f = arg;
	struct netcfg_route *n = realloc(f->routes, (f->nroutes + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[f->nroutes++] = *r;
	f->routes = n;
	return 0;
}

struct tally {
	unsigned rules_adopted, rules_removed, routes_adopted, routes_removed, links_removed;
	struct tunnel_rt **owners; /* the registry's entry of d->cfg.tunnels[i] */
};

static bool same_rule(const struct netcfg_rule *a, const struct netcfg_rule *b)
{
	return memcmp(&a->src, &b->src, sizeof(a->src)) == 0 && a->src_len == b->src_len &&
	       a->table == b->table && a->priority == b->priority;
}

static void reconcile_rules(struct daemon *d, const struct found *f, struct tally *k)
{
	for (size_t i = 0; i < f->nrules; i++) {
		const struct netcfg_rule *r = &f->rules[i];
		long owner = reconcile_rule_owner(d->cfg.tunnels, d->cfg.ntunnels, r);
		char a[INET6_ADDRSTRLEN];
		bool dup = false;
		int err;

		for (size_t j = 0; j < i; j++)
			dup |= same_rule(r, &f->rules[j]);
		inet_ntop(AF_INET6, &r->src, a, sizeof(a));
		if (owner >= 0 && !dup) {
			workers_policy_adopted(k->owners[owner]);
			k->rules_adopted++;
			log_info("%s: adopted rule from %s/%u lookup %u (priority %u) left by an "
			         "earlier aiccud",
			         k->owners[owner]->entry.conf.name, a, r->src_len, r->table,
			         r->priority);
			continue;
		}
		if (dup && owner < 0)
			continue; /* the first copy's rule_del removed every copy */
		/* A duplicate: rule_del removes every copy; the tunnel adds one back. */
		err = netcfg_rule_del(d->nc, r);
		if (err < 0 && err != -ENOENT) {
			log_warnx("cannot remove leftover rule from %s lookup %u: %s %s", a,
			          r->table, strerror(-err), netcfg_errmsg(d->nc));
			continue;
		}
		k->rules_removed++;
		log_info("removed %s rule from %s/%u lookup %u (priority %u) left by an earlier "
		         "aiccud",
		         dup ? "a duplicate" : "a", a, r->src_len, r->table, r->priority);
	}
}

static bool link_once(const int *seen, size_t n, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (seen[i] == ifindex)
			return false;
	return true;
}

/* A link one of our removed routes used, and no configured tunnel claims. */
static void reconcile_link(struct daemon *d, int ifindex, struct tally *k)
{
	struct netcfg_link l;

	if (ifindex <= 0 || netcfg_link_get(d->nc, ifindex, NULL, &l) < 0)
		return;
	if (reconcile_link_owner(d->cfg.tunnels, d->cfg.ntunnels, l.name) >= 0)
		return; /* its tunnel's worker takes it over */
	if (netcfg_link_del(d->nc, ifindex) < 0) {
		log_warnx("cannot remove leftover link %s: %s", l.name, netcfg_errmsg(d->nc));
		return;
	}
	k->links_removed++;
	log_info("removed link %s left by an earlier aiccud", l.name);
}

static void reconcile_routes(struct daemon *d, const struct found *f, struct tally *k)
{
	int *links = calloc(f->nroutes ? f->nroutes : 1, sizeof(*links));
	size_t nlinks = 0;

	if (!links)
		fatalx("out of memory");
	for (size_t i = 0; i < f->nroutes; i++) {
		const struct netcfg_route *r = &f->routes[i];
		long owner = reconcile_route_owner(d->cfg.tunnels, d->cfg.ntunnels, r);

		if (owner >= 0) {
			workers_policy_adopted(k->owners[owner]);
			k->routes_adopted++;
			continue;
		}
		if (netcfg_route_del(d->nc, r) < 0) {
			log_warnx("cannot remove leftover route in table %u: %s", r->table,
			          netcfg_errmsg(d->nc));
			continue;
		}
		k->routes_removed++;
		log_info("removed a route of table %u left by an earlier aiccud", r->table);
		if (link_once(links, nlinks, r->ifindex))
			links[nlinks++] = r->ifindex;
	}
	for (size_t i = 0; i < nlinks; i++)
		reconcile_link(d, links[i], k);
	free(links);
}

int heal_reconcile(struct daemon *d)
{
	struct found f = {0};
	struct tally k = {0};
	size_t i = 0;
	int err;

	/* Before any reload: the registry holds d->cfg.tunnels, in that order. */
	k.owners = calloc(d->cfg.ntunnels ? d->cfg.ntunnels : 1, sizeof(*k.owners));
	if (!k.owners)
		fatalx("out of memory");
	for (struct tunnel_rt *t = registry_first(d->reg); t && i < d->cfg.ntunnels;
	     t = registry_next(t))
		k.owners[i++] = t;

	err = netcfg_rule_list(d->nc, NETCFG_PROTO, collect_rule, &f);
	if (!err)
		err = netcfg_route_list(d->nc, 0, NETCFG_PROTO, collect_route, &f);
	if (err < 0) {
		log_warnx("reconcile: cannot list rules and routes: %s %s", strerror(-err),
		          netcfg_errmsg(d->nc));
	} else {
		reconcile_rules(d, &f, &k);
		reconcile_routes(d, &f, &k);
		if (f.nrules || f.nroutes)
			log_info(
			    "reconcile: adopted %u rule(s) and %u route(s); removed %u rule(s), "
			    "%u route(s) and %u link(s) left by an earlier aiccud",
			    k.rules_adopted, k.routes_adopted, k.rules_removed, k.routes_removed,
			    k.links_removed);
	}
	free(f.rules);
	free(f.routes);
	free(k.owners);
	return err;
}
