/*
 * Worker management in the parent (workers.h): spawn, messages from the
 * worker, exit, stop.  Runs on the parent's loop (parent.c owns it); what
 * it changes, the rest of the parent learns from the registry's events.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "workers.h"

#include <sys/stat.h>

#include "cache.h"
#include "child.h"
#include "hook.h"
#include "hostcache.h"
#include "ipc.h"
#include "log.h"
#include "privsep.h"
#include "events.h"
#include "routing.h"
#include "tpolicy.h"

/* A worker that ignores SIGTERM this long gets SIGKILL. */
#define WORKER_STOP_TIMEOUT 5.0
/*
 * The watchdog: a running worker that has sent nothing for half an
 * interval is asked for its counters; WATCHDOG_MISSES requests in a row
 * without an answer mean its loop is stuck (stopped, deadlocked): it is
 * killed and restarted like a worker that died.  The interval is
 * WATCHDOG_INTERVAL seconds, longer when there are so many tunnels that
 * the parent would send more than WATCHDOG_RATE requests a second (1000
 * tunnels: 10 s).  Bound: about (WATCHDOG_MISSES + 1) intervals.
 */
#define WATCHDOG_INTERVAL 2.0
#define WATCHDOG_MISSES   3
#define WATCHDOG_RATE     100.0
/*
 * Every line a worker's messages can make the parent log goes through its
 * tunnel's own limit: at most CHILD_LOG_BURST lines per CHILD_LOG_INTERVAL
 * seconds, so a flooding worker neither fills the disk nor drowns the
 * other tunnels' lines (the count of dropped lines comes with the next).
 */
#define CHILD_LOG_INTERVAL 60.0
#define CHILD_LOG_BURST    10

static void on_worker_msg(EV_P_ ev_io *io, int revents);
static void counters_hint(struct tunnel_rt *t, const struct tunnel_counters *k);
static void pop_quiet_event(struct tunnel_rt *t);
static void on_child(EV_P_ ev_child *c, int revents);
static void on_kill_timeout(EV_P_ ev_timer *w, int revents);
static void on_backoff(EV_P_ ev_timer *w, int revents);
static void on_watchdog(EV_P_ ev_timer *w, int revents);

static double watchdog_interval(const struct daemon *d)
{
	double scaled = (double)registry_count(d->reg) / WATCHDOG_RATE;

	return scaled > WATCHDOG_INTERVAL ? scaled : WATCHDOG_INTERVAL;
}

void workers_rt_init(struct tunnel_rt *t, struct daemon *d)
{
	static const struct backoff_policy bp = BACKOFF_DEFAULT_POLICY;

	t->d = d;
	t->ipc_fd = -1;
	t->up_latency = -1;
	backoff_init(&t->backoff, &bp);
	ev_init(&t->backoff_w, on_backoff);
	ev_init(&t->kill_w, on_kill_timeout);
	ev_init(&t->watchdog_w, on_watchdog);
	ev_init(&t->stale_w, NULL); /* fetch.c's */
	t->watchdog_w.repeat = WATCHDOG_INTERVAL;
	t->child_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(CHILD_LOG_INTERVAL, CHILD_LOG_BURST);
	t->backoff_w.data = t->kill_w.data = t->watchdog_w.data = t;
}

void workers_hold(struct tunnel_rt *t, const char *text, size_t len, int cache_err)
{
	if (t->held) {
		explicit_bzero(t->held, t->held_len);
		free(t->held);
	}
	t->held = NULL;
	t->held_len = 0;
	t->held_err = 0;
	if (!text || !len)
		return;
	t->held = malloc(len);
	if (!t->held)
		fatalx("out of memory");
	memcpy(t->held, text, len);
	t->held_len = len;
	t->held_err = cache_err;
}

void workers_release(struct tunnel_rt *t)
{
	workers_hold(t, NULL, 0, 0);
	ev_timer_stop(t->d->loop, &t->backoff_w);
	ev_timer_stop(t->d->loop, &t->kill_w);
	ev_timer_stop(t->d->loop, &t->watchdog_w);
	ev_timer_stop(t->d->loop, &t->stale_w);
}

void workers_child_log(struct tunnel_rt *t, bool warn, const char *fmt, ...)
{
	char line[512];
	uint64_t dropped;
	va_list ap;

	if (!log_ratelimit_allow(&t->child_rl, ev_now(t->d->loop), &dropped))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (warn && dropped)
		log_warnx("%s: %s (and %llu more line(s) of this worker's not logged)",
		          t->entry.conf.name, line, (unsigned long long)dropped);
	else if (warn)
		log_warnx("%s: %s", t->entry.conf.name, line);
	else if (dropped)
		log_info("%s: %s (and %llu more line(s) of this worker's not logged)",
		         t->entry.conf.name, line, (unsigned long long)dropped);
	else
		log_info("%s: %s", t->entry.conf.name, line);
}

bool workers_cache_usable(const struct daemon *d, const struct tunnel_rt *t)
{
	char path[TUNNEL_PATH_MAX + 64];
	struct stat st;

	return cache_path(d->cfg.state_dir, t->entry.conf.id, path, sizeof(path)) == 0 &&
	       stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The tunnel's setup script (AICCU's setupscript), if it has one. */
static void run_hook(struct tunnel_rt *t, enum hook_event ev)
{
	int err;

	if (!t->d->hooks || !t->entry.conf.setup_script[0])
		return;
	err =
	    hooks_run(t->d->hooks, &t->entry.conf, ev, ev == HOOK_UP ? t->ifindex : 0, NULL, NULL);
	if (err < 0)
		log_warnx("%s: cannot run setup script %s: %s", t->entry.conf.name,
		          t->entry.conf.setup_script, strerror(-err));
}

bool workers_running(const struct tunnel_rt *t)
{
	return t->pid > 0;
}

static void policy_drop(struct tunnel_rt *t)
{
	const char *what = "";
	int err;

	if (!t->policy_installed && !t->policy_adopted)
		return;
	if (t->policy_installed)
		run_hook(t, HOOK_DOWN);
	/* Adopted leftovers may not match what we would install (a TIC tunnel's
	 * address is known only once it is up): everything in its table and at
	 * its priority goes. */
	if (t->policy_adopted && routing_prune(t->d->nc, &t->entry.conf, t->ifindex, NULL) < 0)
		log_warnx("%s: cannot remove leftovers of table %u: %s", t->entry.conf.name,
		          t->entry.conf.table, netcfg_errmsg(t->d->nc));
	err = routing_remove(t->d->nc, &t->entry.conf, t->ifindex, &what);
	if (err < 0)
		log_warnx("%s: cannot remove %s: %s %s", t->entry.conf.name, what, strerror(-err),
		          netcfg_errmsg(t->d->nc));
	t->policy_installed = false;
	t->policy_adopted = false;
}

/*
 * The parent installs routing only for what belongs to this tunnel: a file
 * tunnel must report exactly its file's address; a TIC tunnel a global
 * unicast address (never link-local, multicast, loopback or unspecified).
 */
static bool params_acceptable(const struct tunnel_rt *t, const struct tunnel_params *p,
                              const char **why)
{
	const struct in6_addr *a = &p->ipv6_local;

	if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_MULTICAST(a) ||
	    IN6_IS_ADDR_LINKLOCAL(a)) {
		*why = "local address is not a global unicast address";
		return false;
	}
	if (p->prefix_len > 128) {
		*why = "prefix length above 128";
		return false;
	}
	/* PROTOCOLS.md 6: no ICMPv6 errors reach such a source (no PMTU discovery). */
	if (routing_is_subnet_anycast(a, p->prefix_len)) {
		*why = "local address is the subnet-router anycast address of its prefix";
		return false;
	}
	if (!t->entry.conf.tic && memcmp(a, &t->entry.conf.params.ipv6_local, sizeof(*a)) != 0) {
		*why = "local address differs from the tunnel file's";
		return false;
	}
	return true;
}

/* The links of every tunnel with a worker: what is on them is aiccud's, not the host's.
 * self: t's own link (0: none yet). */
static int *own_links(const struct tunnel_rt *t, int self, size_t *n)
{
	size_t cap = registry_count(t->reg) + 1;
	int *own = calloc(cap, sizeof(*own));
	const struct tunnel_rt *o;

	*n = 0;
	if (!own)
		return NULL;
	own[(*n)++] = self;
	for (o = registry_first(t->reg); o && *n < cap; o = registry_next(o))
		if (o != t && o->ifindex > 0)
			own[(*n)++] = o->ifindex;
	return own;
}

/*
 * One tunnel never claims what another one does.  The host check cannot
 * see it (hostview drops every tunnel link's routes from its view), so the
 * others' prefixes are taken from what the parent knows itself: a file
 * tunnel's from its file, a TIC tunnel's from the moment its worker's
 * parameter check passed (the checks are serial: two workers starting
 * together cannot both win the same prefix) until that worker has gone.
 */
static int claims_check(const struct tunnel_rt *t, const struct tunnel_params *p, char *err,
                        size_t errlen)
{
	const struct tunnel_conf *tc = &t->entry.conf;
	char what[128];

	for (const struct tunnel_rt *o = registry_first(t->reg); o; o = registry_next(o)) {
		const struct tunnel_conf *oc = &o->entry.conf;

		if (o == t || !o->entry.valid || (oc->tic && !o->claimed))
			continue;
		if (!tunnel_claims_overlap(p, tc->routed, tc->nrouted,
		                           oc->tic ? &o->claim : &oc->params, oc->routed,
		                           oc->nrouted, what, sizeof(what)))
			continue;
		/* Cut if need be: the names come first. */
		if (snprintf(err, errlen, "its prefixes overlap those of tunnel %s (%s %.100s): %s",
		             oc->name, oc->tic ? "from TIC, id" : "tunnel file",
		             oc->tic ? oc->id : oc->file, what) < 0)
			err[0] = '\0';
		return -EADDRINUSE;
	}
	return 0;
}

/*
 * The parameters a worker reports go through the same policy as where
 * they entered (tpolicy.h), now against the host's addresses and routes
 * (the kept view, hostcache.h): before the worker gives its link an
 * address (IPC_W_CHECK) and again before the parent installs routing.
 * self: the tunnel's own link, 0 if it has none yet.  0, or -errno with
 * the message in err.
 */
static int params_recheck(const struct tunnel_rt *t, int self, const struct tunnel_params *p,
                          char *err, size_t errlen)
{
	const struct tunnel_conf *tc = &t->entry.conf;
	enum tpolicy_keys keys = tc->tic ? TPOLICY_KEYS_TIC : TPOLICY_KEYS_FILE;
	struct tpolicy_limits lim;
	size_t nown;
	int *own, r;

	tpolicy_conf_limits(tc, &lim);
	r = tpolicy_check_params(p, &lim, keys, err, errlen);
	if (r == 0)
		r = claims_check(t, p, err, errlen);
	if (r < 0)
		return r;
	own = own_links(t, self, &nown);
	if (!own) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = hostcache_check(&t->d->hostcache, t->d->nc, p, tc->routed, tc->nrouted, own, nown, keys,
	                    err, errlen);
	free(own);
	return r;
}

/*
 * The tunnel's link as the parent finds it itself: the link of the name it
 * expects, of a kind the tunnel's data path makes (tunnel_link_kind_ok).
 * A worker's ifindex is believed only when it is that link's.  Returns
 * the index, or -errno with the reason in why.
 */
static int own_link_verify(struct tunnel_rt *t, int claimed, char *why, size_t len)
{
	const char *name = t->entry.conf.name;
	struct netcfg_link l;
	int err = netcfg_link_get(t->d->nc, 0, name, &l);

	if (err < 0) {
		snprintf(why, len, "no link named %s (%s)", name, strerror(-err));
		return err;
	}
	if (!tunnel_link_kind_ok(&t->entry.conf, l.kind)) {
		snprintf(why, len, "link %s (ifindex %d) is of kind '%s', not the tunnel's", name,
		         l.ifindex, l.kind);
		return -EMEDIUMTYPE;
	}
	if (l.ifindex != claimed) {
		snprintf(why, len, "it named ifindex %d, but link %s is ifindex %d", claimed, name,
		         l.ifindex);
		return -EPERM;
	}
	return l.ifindex;
}

/* The worker broke the rules of its boundary: it is killed (and restarted,
 * unless it was going anyway), with the reason in its exit text. */
static void worker_refuse(struct tunnel_rt *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void worker_refuse(struct tunnel_rt *t, const char *fmt, ...)
{
	bool restart = t->state == TS_STARTING || t->state == TS_UP;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->refused, sizeof(t->refused), fmt, ap);
	va_end(ap);
	workers_child_log(t, true, "refused worker %d: %s; %s", (int)t->pid, t->refused,
	                  restart ? "killing and restarting it" : "killing it");
	policy_drop(t);
	ev_io_stop(t->d->loop, &t->ipc_w); /* nothing more from it */
	if (t->pid > 0)
		kill(t->pid, SIGKILL);
}

/*
 * A worker about to give its link an address asks first (IPC_W_CHECK):
 * the same checks as at link-up, so a refused prefix never gets even the
 * kernel's prefix route.  The worker reports a refusal as its failure.
 */
static void params_check(struct tunnel_rt *t, const struct ipc_up *q)
{
	struct ipc_verdict v = {0};
	const char *what = "";
	char why[128];
	int self = 0;

	/* A link it names is its own only if it is the tunnel's link (own_link_verify). */
	if (q->ifindex > 0 && own_link_verify(t, q->ifindex, why, sizeof(why)) > 0)
		self = q->ifindex;
	if (!params_acceptable(t, &q->params, &what)) {
		v.err = -EINVAL;
		snprintf(v.reason, sizeof(v.reason), "%s", what);
	} else {
		v.err = params_recheck(t, self, &q->params, v.reason, sizeof(v.reason));
	}
	if (v.err == 0) {
		t->claim = q->params;
		explicit_bzero(t->claim.password, sizeof(t->claim.password));
		t->claimed = true;
	}
	if (ipc_send(t->ipc_fd, IPC_P_CHECKED, &v, sizeof(v)) < 0)
		log_debug("%s: cannot answer the worker's parameter check", t->entry.conf.name);
}

enum tunnel_origin workers_origin(bool tic, bool held, bool fresh_fetch)
{
	if (!tic)
		return ORIGIN_FILE;
	if (held)
		return ORIGIN_HELD;
	return fresh_fetch ? ORIGIN_FETCHED : ORIGIN_CACHE;
}

void workers_origin_text(const struct tunnel_conf *tc, enum tunnel_origin o, const char *state_dir,
                         char *buf, size_t len)
{
	switch (tc->tic ? o : ORIGIN_FILE) {
	case ORIGIN_FILE:
		snprintf(buf, len, "tunnel file %s", tc->file);
		break;
	case ORIGIN_FETCHED:
		snprintf(buf, len, "%s from TIC server %s (cache file %s/" CACHE_DIR "/%s)", tc->id,
		         tc->account.server, state_dir, tc->id);
		break;
	case ORIGIN_HELD:
		snprintf(buf, len, "%s from TIC server %s (not cached)", tc->id,
		         tc->account.server);
		break;
	case ORIGIN_CACHE:
	default:
		snprintf(buf, len, "%s from the cache file %s/" CACHE_DIR "/%s", tc->id, state_dir,
		         tc->id);
		break;
	}
}

static void on_link_up(struct tunnel_rt *t, const struct ipc_up *up)
{
	char refusal[256];
	const char *what = "";
	unsigned pruned = 0;
	int err = own_link_verify(t, up->ifindex, refusal, sizeof(refusal));

	if (err < 0) {
		worker_refuse(t, "its link-up report: %s", refusal);
		return;
	}
	t->ifindex = err;
	if (!tunnel_path_mtu_ok(up->path_mtu)) {
		worker_refuse(t, "its link-up report: path MTU %u", up->path_mtu);
		return;
	}
	if (!params_acceptable(t, &up->params, &what)) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &up->params.ipv6_local, a, sizeof(a));
		workers_child_log(t, true, "worker reported unusable parameters (%s/%u): %s", a,
		                  up->params.prefix_len, what);
		workers_stop(t);
		registry_feed(t, LC_FAIL, "unusable tunnel parameters %s/%u: %s", a,
		              up->params.prefix_len, what);
		return;
	}
	if (params_recheck(t, t->ifindex, &up->params, refusal, sizeof(refusal)) < 0) {
		char src[600];

		workers_origin_text(&t->entry.conf, t->origin, t->d->cfg.state_dir, src,
		                    sizeof(src));
		workers_child_log(t, true, "refused the parameters of %s: %s", src, refusal);
		workers_stop(t);
		registry_feed(t, LC_FAIL, "refused the parameters of %s: %s", src, refusal);
		return;
	}
	registry_set_params(t, &up->params);
	/* What the worker sized its link with: routes and status must agree (tunnel_mtu). */
	t->entry.conf.path_mtu = up->params.type == TUNNEL_AYIYA ? up->path_mtu : 0;
	t->claim = up->params; /* the report carries no password */
	t->claimed = true;
	err = routing_install(t->d->nc, &t->entry.conf, t->ifindex, &what);
	if (err < 0) {
		workers_child_log(t, true, "cannot install %s in table %u: %s %s", what,
		                  t->entry.conf.table, strerror(-err), netcfg_errmsg(t->d->nc));
		workers_stop(t);
		registry_feed(t, LC_FAIL, "cannot install %s: %s", what, strerror(-err));
		return;
	}
	t->policy_installed = true;
	/* Only now may the worker send from the tunnel's address: its table routes it. */
	if (ipc_send(t->ipc_fd, IPC_P_ROUTED, NULL, 0) < 0)
		log_debug("%s: cannot tell the worker its routing is in", t->entry.conf.name);
	/* For shutdown's batch removal (parent.c); without it the worker's exit removes it. */
	if (netcfg_link_set_group(t->d->nc, t->ifindex, WORKERS_LINK_GROUP) < 0)
		log_debug("%s: cannot put link %s in group 0x%x: %s", t->entry.conf.name,
		          t->entry.conf.name, WORKERS_LINK_GROUP, netcfg_errmsg(t->d->nc));
	/* Leftovers in our table or at our priority (a killed aiccud's, which
	 * reconciliation adopted; an old TIC address) would make a second rule:
	 * never leave one.  Only then: the rule list is a dump of every rule,
	 * which a thousand tunnels coming up must not each pay for. */
	err = t->policy_adopted || t->entry.conf.tic
	          ? routing_prune(t->d->nc, &t->entry.conf, t->ifindex, &pruned)
	          : 0;
	if (err < 0)
		log_warnx("%s: cannot remove stale objects from table %u: %s %s",
		          t->entry.conf.name, t->entry.conf.table, strerror(-err),
		          netcfg_errmsg(t->d->nc));
	else if (pruned)
		log_info("%s: removed %u stale aiccud rule(s)/route(s) of table %u or priority %u",
		         t->entry.conf.name, pruned, t->entry.conf.table,
		         t->entry.conf.rule_priority);
	ev_now_update(t->d->loop);
	t->up_latency = ev_now(t->d->loop) - t->spawned_at;
	log_info("%s: table %u and rule priority %u installed %.1f ms after start",
	         t->entry.conf.name, t->entry.conf.table, t->entry.conf.rule_priority,
	         t->up_latency * 1000.0);
	t->on_stale = t->stale_ok;
	t->stale_ok = false;
	t->up_at = time(NULL);
	if (t->held)
		registry_feed(t, LC_UP,
		              "on parameters fetched from TIC that could not be cached (%s); the "
		              "worker writes them once it can",
		              strerror(-t->held_err));
	else if (t->on_stale)
		registry_feed(t, LC_UP,
		              "on cached parameters older than cache_max_age (TIC cannot be "
		              "reached); asking TIC again in the background");
	else
		registry_feed(t, LC_UP, "%s", "");
	run_hook(t, HOOK_UP);
}

/* ---- the worker -> parent boundary: its handlers and their table ---- */

static void on_w_check(void *ctx, const void *p)
{
	params_check(ctx, p);
}

static void on_w_up(void *ctx, const void *p)
{
	on_link_up(ctx, p);
}

static void on_w_need_tic(void *ctx, const void *p)
{
	struct tunnel_rt *t = ctx;
	const struct ipc_failed *why = p;

	t->need_tic = true;
	t->cache_stale = why->kind == IPC_NEED_TIC_STALE;
	char reason[sizeof(t->reason)];

	ipc_text(reason, sizeof(reason), why->reason, sizeof(why->reason));
	registry_set_reason(t, "%s", reason);
	workers_hold(t, NULL, 0, 0); /* too old: TIC again */
}

/*
 * The worker says its tunnel cannot come up.  A final failure waits for
 * a person; a transient one (IPC_FAIL_TRANSIENT) is retried with back-off
 * once the worker has exited (worker_reaped), as after a crash.
 */
static void on_w_failed(void *ctx, const void *p)
{
	struct tunnel_rt *t = ctx;
	const struct ipc_failed *f = p;
	char reason[sizeof(f->reason)];

	ipc_text(reason, sizeof(reason), f->reason, sizeof(f->reason));
	workers_hold(t, NULL, 0, 0); /* they failed: not again */
	/* The routing goes before the link does. */
	policy_drop(t);
	if (f->kind == IPC_FAIL_TRANSIENT && t->state != TS_STOPPING) {
		t->retry_failed = true;
		snprintf(t->last_exit, sizeof(t->last_exit), "%s", reason);
		return;
	}
	registry_feed(t, LC_FAIL, "%s", reason);
}

static void on_w_counters(void *ctx, const void *p)
{
	struct tunnel_rt *t = ctx;
	struct tunnel_counters k;

	memcpy(&k, p, sizeof(k)); /* the payload is not aligned */
	counters_hint(t, &k);
	t->counters = k;
	pop_quiet_event(t);
	t->wd_unanswered = 0;
	t->wd_heard_at = ev_now(t->d->loop);
}

/* The worker restored (or not) what heal.c asked for: heal.c learns it as an event. */
static void on_w_repaired(void *ctx, const void *p)
{
	struct tunnel_rt *t = ctx;
	const struct ipc_repaired *r = p;
	unsigned what = r->what & IPC_REPAIR_ALL; /* nothing heal.c never asks for */

	/* Bits, not the message: answers may arrive faster than heal.c hears of them. */
	if (r->err) {
		t->repair_failed |= what;
		ipc_text(t->repair_reason, sizeof(t->repair_reason), r->reason, sizeof(r->reason));
	} else {
		t->repair_done |= what;
	}
	registry_changed(t);
}

static void on_w_priv(void *ctx, const void *p)
{
	struct tunnel_rt *t = ctx;
	const struct ipc_priv_req *r = p;
	const char *why;

	/* A worker being stopped may still ask; its link is no longer to be changed. */
	if (t->state != TS_UP)
		privsep_refuse(t, r, "the tunnel is stopping");
	else if (privsep_request(t, r, &why) < 0)
		workers_child_log(t, true, "the worker's request to %s was not done: %s",
		                  ipc_priv_op_name(r->op), why);
	else
		workers_child_log(t, false, "did the worker's request to %s",
		                  ipc_priv_op_name(r->op));
}

/* Believed only if the worker then dies by SIGSYS (worker_reaped). */
static void on_c_seccomp(void *ctx, const void *p)
{
	struct tunnel_rt *t = ctx;

	memcpy(&t->seccomp, p, sizeof(t->seccomp));
	t->seccomp_said = true;
}

/* A worker still running while its tunnel stops or has failed: what it may still say. */
#define W_LEAVING (IPC_IN(TS_STOPPING) | IPC_IN(TS_FAILED))

/*
 * What a worker may send, in which of its tunnel's states.  Setting up
 * (TS_STARTING): the parameter check, then link-up, or "ask TIC"; in its
 * loop (TS_UP): counters, requests to the parent, repair answers; a
 * failure or a seccomp report at any time it runs.
 */
static const struct ipc_route worker_routes[] = {
    {IPC_W_CHECK, IPC_IN(TS_STARTING), on_w_check},
    {IPC_W_UP, IPC_IN(TS_STARTING), on_w_up},
    {IPC_W_NEED_TIC, IPC_IN(TS_STARTING), on_w_need_tic},
    {IPC_W_FAILED, IPC_IN(TS_STARTING) | IPC_IN(TS_UP) | W_LEAVING, on_w_failed},
    {IPC_W_COUNTERS, IPC_IN(TS_UP) | W_LEAVING, on_w_counters},
    {IPC_W_PRIV, IPC_IN(TS_UP) | W_LEAVING, on_w_priv},
    {IPC_W_REPAIRED, IPC_IN(TS_UP) | W_LEAVING, on_w_repaired},
    {IPC_C_SECCOMP, IPC_IN(TS_STARTING) | IPC_IN(TS_UP) | W_LEAVING, on_c_seccomp},
};

const struct ipc_route *workers_ipc_routes(size_t *n)
{
	*n = sizeof(worker_routes) / sizeof(worker_routes[0]);
	return worker_routes;
}

int workers_request_repair(struct tunnel_rt *t, unsigned what)
{
	struct ipc_repair rq = {.what = what};

	if (!workers_running(t) || t->ipc_fd < 0)
		return -ESRCH;
	return ipc_send(t->ipc_fd, IPC_P_REPAIR, &rq, sizeof(rq));
}

/* PoP packets failing the signature check: the likely cause, in status. */
static void counters_hint(struct tunnel_rt *t, const struct tunnel_counters *k)
{
	if (t->state != TS_UP || k->drops[DROP_SIGNATURE] <= t->counters.drops[DROP_SIGNATURE] ||
	    strcmp(t->reason, TUNNEL_SIGNATURE_HINT) == 0)
		return;
	/* A new reason, not a new state: "since" stays when it came up. */
	log_warnx("%s: %s", t->entry.conf.name, TUNNEL_SIGNATURE_HINT);
	registry_set_reason(t, "%s", TUNNEL_SIGNATURE_HINT);
	registry_changed(t);
}

double workers_pop_silent_s(const struct tunnel_rt *t, time_t now)
{
	time_t heard = t->counters.last_rx > t->up_at ? (time_t)t->counters.last_rx : t->up_at;

	if (t->state != TS_UP || !t->entry.conf.pop_silence || now <= heard)
		return 0;
	return (double)(now - heard);
}

bool workers_pop_silent(const struct tunnel_rt *t, time_t now)
{
	/* Half the time: one interval's echo went unanswered, more than a lost packet. */
	return workers_pop_silent_s(t, now) * 2 >= t->entry.conf.pop_silence &&
	       t->entry.conf.pop_silence;
}

/*
 * Nothing from the PoP for pop_silence seconds (a PoP that is there
 * answers the worker's echoes): restart the worker with back-off, as if it
 * had died.
 */
static void pop_quiet_event(struct tunnel_rt *t)
{
	time_t now = time(NULL);
	bool quiet = workers_pop_silent(t, now);

	if (t->state != TS_UP) {
		t->pop_quiet_told = false; /* the state events say the rest */
		return;
	}
	if (quiet == t->pop_quiet_told)
		return;
	t->pop_quiet_told = quiet;
	if (quiet)
		events_publish(
		    EVENTS_POP, t->entry.conf.name,
		    "silent: nothing from the PoP for %.0f s (restart at pop_silence %u s)",
		    workers_pop_silent_s(t, now), t->entry.conf.pop_silence);
	else
		events_publish(EVENTS_POP, t->entry.conf.name, "back: the PoP is heard again");
}

static bool pop_silence_check(struct tunnel_rt *t)
{
	double silent = workers_pop_silent_s(t, time(NULL));

	if (!t->entry.conf.pop_silence || silent < t->entry.conf.pop_silence || t->pop_silent)
		return false;
	log_warnx("%s: nothing from the PoP for %.0f s (pop_silence %u s); restarting worker %d",
	          t->entry.conf.name, silent, t->entry.conf.pop_silence, (int)t->pid);
	t->pop_silent = true;
	t->pop_quiet_told = false;
	events_publish(EVENTS_POP, t->entry.conf.name,
	               "silent for %.0f s (pop_silence %u s): restarting the worker", silent,
	               t->entry.conf.pop_silence);
	snprintf(t->last_exit, sizeof(t->last_exit), "PoP silent: nothing received for %.0f s",
	         silent);
	policy_drop(t);
	kill(t->pid, SIGTERM);
	ev_timer_stop(t->d->loop, &t->kill_w);
	ev_timer_set(&t->kill_w, WORKER_STOP_TIMEOUT, 0.);
	ev_timer_start(t->d->loop, &t->kill_w);
	return true;
}

static void on_worker_msg(EV_P_ ev_io *io, int revents)
{
	struct tunnel_rt *t = io->data;
	unsigned char buf[IPC_MSG_MAX];
	const void *p;
	int type = -EAGAIN, why;

	(void)revents;
	while (ev_is_active(io) && (type = ipc_recv(t->ipc_fd, buf, sizeof(buf), &p)) > 0) {
		size_t n = 0;
		const struct ipc_route *tab = workers_ipc_routes(&n);
		const struct ipc_route *r = ipc_route_find(tab, n, type, t->state, &why);

		if (r)
			r->handle(t, p);
		else
			worker_refuse(t, "it sent %s (type %d) %s %s", ipc_type_name(type), type,
			              why == -EPERM ? "in state" : "which no worker sends; state",
			              lifecycle_state_name(t->state));
	}
	if (!ev_is_active(io))
		return; /* refused: killed */
	if (type == -EBADMSG)
		worker_refuse(t, "a malformed message (its length does not match its type)");
	else if (type == 0 || (type < 0 && type != -EAGAIN))
		ev_io_stop(EV_A_ io); /* EOF: the worker is exiting; ev_child reports how. */
}

static void exit_text(const struct tunnel_rt *t, int status, char *buf, size_t len)
{
	if (t->refused[0]) {
		snprintf(buf, len, "worker killed: %.100s", t->refused);
		return;
	}
	if (t->retry_failed || t->pop_silent)
		return; /* the words are in buf already (on_w_failed, pop_silence_check) */
	if (t->hung) {
		snprintf(buf, len,
		         "worker hung: no answer to %d counters requests in %.0f s; killed",
		         WATCHDOG_MISSES, WATCHDOG_MISSES * watchdog_interval(t->d));
		return;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, len,
		         "worker killed by signal %d (%s): a system call outside its seccomp "
		         "allow-list (aiccud -v names it)",
		         SIGSYS, strsignal(SIGSYS));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "worker killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == IPC_EXIT_PEER_DEAD)
		snprintf(buf, len, "liveness: the PoP did not answer %u probe(s) in a row",
		         t->entry.conf.liveness_misses);
	else if (t->link_lost)
		snprintf(buf, len, "link %s vanished", t->entry.conf.name);
	else
		snprintf(buf, len, "worker exited with status %d", WEXITSTATUS(status));
}

/* Uniform in [0, 1): the jitter of restart delays. */
static double jitter_random(void)
{
	return (double)random() / ((double)RAND_MAX + 1.0);
}

/*
 * The worker died on its own (LC_LOST, ran_s seconds after its start), or
 * TIC could not be reached (LC_RETRY): start again after a back-off delay.
 */
static void schedule_again(struct tunnel_rt *t, enum lc_event e, double ran_s)
{
	double delay = backoff_failure(&t->backoff, ran_s, jitter_random());

	t->next_start_s = delay;
	t->next_start_at = time(NULL) + (time_t)(delay + 0.5);
	if (registry_feed(t, e, "%s; %s in %.1f s (failure %u in a row)", t->last_exit,
	                  e == LC_RETRY ? "trying again" : "restart", delay, t->backoff.streak) < 0)
		return;
	ev_timer_stop(t->d->loop, &t->backoff_w);
	ev_timer_set(&t->backoff_w, delay, 0.);
	ev_timer_start(t->d->loop, &t->backoff_w);
}

static void schedule_restart(struct tunnel_rt *t)
{
	ev_now_update(t->d->loop);
	schedule_again(t, LC_LOST, ev_now(t->d->loop) - t->spawned_at);
}

void workers_retry_later(struct tunnel_rt *t, const char *why)
{
	snprintf(t->last_exit, sizeof(t->last_exit), "%s", why);
	log_warnx("%s: %s", t->entry.conf.name, why);
	schedule_again(t, LC_RETRY, 0);
}

static int tunnel_launch(struct tunnel_rt *t);

/* Give the tunnel its new configuration (no worker runs). */
static void entry_apply(struct tunnel_rt *t, const struct tunnel_entry *e)
{
	registry_set_entry(t, e);
	t->fresh_fetch = false;
	t->stale_ok = false;
	backoff_reset(&t->backoff);
}

/* The worker has gone: a restart or a reconfiguration starts it now. */
static void start_again(struct tunnel_rt *t)
{
	struct tunnel_entry *e = t->next_entry;
	bool start = t->start_pending || e;

	if (workers_running(t) || t->removing)
		return;
	t->next_entry = NULL;
	t->start_pending = false;
	if (e) {
		entry_apply(t, e);
		free(e);
	}
	if (start && !t->d->shutting_down && (t->state == TS_STOPPED || t->state == TS_FAILED)) {
		backoff_reset(&t->backoff);
		tunnel_launch(t);
	}
}

static void worker_reaped(struct tunnel_rt *t, int status)
{
	pid_t pid = t->pid;

	ev_io_stop(t->d->loop, &t->ipc_w);
	ev_timer_stop(t->d->loop, &t->kill_w);
	ev_timer_stop(t->d->loop, &t->watchdog_w);
	close(t->ipc_fd);
	t->ipc_fd = -1;
	t->pid = 0;
	policy_drop(t);
	privsep_link_reaped(t);
	t->ifindex = 0;
	exit_text(t, status, t->last_exit, sizeof(t->last_exit));
	privsep_seccomp_verdict(t->entry.conf.name, pid, t->seccomp_said ? &t->seccomp : NULL,
	                        status, &t->child_rl, ev_now(t->d->loop));
	t->seccomp_said = false;
	t->claimed = false;
	t->refused[0] = '\0';
	t->link_lost = false;
	t->hung = false;
	t->retry_failed = false;
	t->pop_silent = false;
	if (t->need_tic && t->state == TS_STARTING) {
		char why[sizeof(t->reason)];

		/* The worker's reason is in t->reason, which the event rewrites. */
		memcpy(why, t->reason, sizeof(why));
		t->need_tic = false;
		registry_feed(t, LC_NEED_TIC, "%s; waiting for a TIC connection token", why);
	} else if (t->state == TS_STOPPING) {
		registry_feed(t, LC_EXITED, "%s",
		              t->removing        ? "removed from the configuration"
		              : t->next_entry    ? "configuration changed"
		              : t->start_pending ? "restarting"
		                                 : "stopped on request");
	} else if (t->state == TS_FAILED) {
		registry_changed(t); /* no worker any more: status shows pid 0 */
	} else if (t->d->shutting_down) {
		registry_feed(t, LC_FAIL, "%s during shutdown", t->last_exit);
	} else {
		log_warnx("%s: %s", t->entry.conf.name, t->last_exit);
		schedule_restart(t);
	}
	start_again(t);
}

static void on_child(EV_P_ ev_child *c, int revents)
{
	struct tunnel_rt *t = c->data;

	(void)revents;
	ev_child_stop(EV_A_ c);
	worker_reaped(t, c->rstatus);
}

static void on_kill_timeout(EV_P_ ev_timer *w, int revents)
{
	struct tunnel_rt *t = w->data;

	(void)loop;
	(void)revents;
	if (t->pid > 0) {
		log_warnx("%s: worker %d did not exit %.0f s after SIGTERM; killing it",
		          t->entry.conf.name, (int)t->pid, WORKER_STOP_TIMEOUT);
		kill(t->pid, SIGKILL);
	}
}

/* Only a worker in its loop (link up) can answer; one that stops answering is killed. */
static void on_watchdog(EV_P_ ev_timer *w, int revents)
{
	struct tunnel_rt *t = w->data;

	(void)revents;
	w->repeat = watchdog_interval(t->d); /* from the next tick on */
	if (t->pid <= 0 || t->ipc_fd < 0 || t->state != TS_UP || t->hung) {
		t->wd_unanswered = 0;
		return;
	}
	if (pop_silence_check(t))
		return;
	pop_quiet_event(t);
	/* Its own counters came lately (it has traffic): its loop runs. */
	if (t->wd_unanswered == 0 && ev_now(EV_A) - t->wd_heard_at < w->repeat / 2)
		return;
	if (t->wd_unanswered >= WATCHDOG_MISSES) {
		log_warnx("%s: worker hung: worker %d answered none of %u counters requests in "
		          "%.0f s; killing it",
		          t->entry.conf.name, (int)t->pid, t->wd_unanswered,
		          t->wd_unanswered * w->repeat);
		t->hung = true;
		kill(t->pid, SIGKILL);
		return;
	}
	/* A full socket buffer means it is not reading either: that counts as unanswered. */
	if (ipc_send(t->ipc_fd, IPC_P_COUNTERS_REQ, NULL, 0) == 0)
		t->counters_asked++;
	t->wd_unanswered++;
	(void)loop;
}

bool workers_counters_ask(struct tunnel_rt *t)
{
	if (t->pid <= 0 || t->ipc_fd < 0 || t->state != TS_UP || t->hung)
		return false;
	if (ipc_send(t->ipc_fd, IPC_P_COUNTERS_REQ, NULL, 0) < 0)
		return false;
	t->counters_asked++;
	return true;
}

bool workers_counters_fresh(const struct tunnel_rt *t)
{
	if (t->pid <= 0 || t->ipc_fd < 0 || t->state != TS_UP || t->hung)
		return true; /* no worker loop that could answer */
	return t->counters.answered == t->counters_asked;
}

static const struct ipc_conf *worker_conf(const struct tunnel_rt *t)
{
	static struct ipc_conf ic;

	memset(&ic, 0, sizeof(ic));
	ic.conf = t->entry.conf;
	/* The broker's Update Key is the parent's business (update.c), not the worker's. */
	explicit_bzero(ic.conf.update.key, sizeof(ic.conf.update.key));
	snprintf(ic.state_dir, sizeof(ic.state_dir), "%s", t->d->cfg.state_dir);
	ic.cache_max_age = t->d->cfg.cache_max_age;
	ic.fresh_fetch = t->fresh_fetch;
	ic.stale_ok = t->stale_ok;
	if (t->held && t->held_len <= sizeof(ic.held)) {
		memcpy(ic.held, t->held, t->held_len);
		ic.held_len = (uint32_t)t->held_len;
	}
	privsep_fill(t->d, &ic.drop);
	return &ic;
}

static int worker_spawn(struct tunnel_rt *t)
{
	struct daemon *d = t->d;
	pid_t pid = child_spawn(d, d->self_exe, "-W", t->entry.conf.name, &t->ipc_fd);

	if (pid < 0)
		return (int)pid;
	t->pid = pid;
	ev_io_init(&t->ipc_w, on_worker_msg, t->ipc_fd, EV_READ);
	ev_child_init(&t->child_w, on_child, pid, 0);
	t->ipc_w.data = t->child_w.data = t;
	ev_io_start(d->loop, &t->ipc_w);
	ev_child_start(d->loop, &t->child_w);
	t->wd_unanswered = 0;
	t->wd_heard_at = 0;
	t->counters_asked = 0; /* a new worker has answered none */
	t->hung = false;
	t->watchdog_w.repeat = watchdog_interval(d);
	ev_timer_again(d->loop, &t->watchdog_w);
	if (ipc_send(t->ipc_fd, IPC_P_CONF, worker_conf(t), sizeof(struct ipc_conf)) < 0)
		log_warn("%s: sending the configuration to worker %d", t->entry.conf.name,
		         (int)pid);
	return 0;
}

int workers_spawn(struct tunnel_rt *t)
{
	int err;

	ev_now_update(t->d->loop);
	t->spawned_at = ev_now(t->d->loop);
	t->up_latency = -1;
	t->starts++;
	t->need_tic = false;
	t->cache_stale = false;
	t->on_stale = false;
	t->retry_failed = false;
	t->link_lost = false;
	memset(&t->counters, 0, sizeof(t->counters));
	/* The new worker looks the path MTU up again (a link-up reports it). */
	t->entry.conf.path_mtu = 0;
	/* As worker_conf hands them over: held text first, then a fetch just made. */
	t->origin = workers_origin(t->entry.conf.tic, t->held && t->held_len <= IPC_CACHE_TEXT_MAX,
	                           t->fresh_fetch);
	err = worker_spawn(t);
	t->fresh_fetch = false;
	if (registry_feed(t, LC_SPAWN, "worker %d started", (int)t->pid) < 0)
		log_warnx("%s: worker forked in state %s (a bug; please report)",
		          t->entry.conf.name, lifecycle_state_name(t->state));
	if (err < 0) {
		/* fork or socketpair failed: as if the worker died at once. */
		snprintf(t->last_exit, sizeof(t->last_exit), "cannot start a worker: %s",
		         strerror(-err));
		log_warnx("%s: %s", t->entry.conf.name, t->last_exit);
		schedule_restart(t);
		return err;
	}
	return 0;
}

/* Start from any idle state: TIC first when the cache cannot serve. */
static int tunnel_launch(struct tunnel_rt *t)
{
	if (!t->entry.valid) {
		registry_feed(t, LC_INVALID, "%s", t->entry.error);
		return -EINVAL;
	}
	if (t->entry.conf.tic && !workers_cache_usable(t->d, t)) {
		/* The limiter decides when TIC may be asked; fetch.c (subscribed
		 * to this state) spawns us after. */
		registry_feed(t, LC_NEED_TIC, "waiting for a TIC connection token");
		return 0;
	}
	return workers_spawn(t);
}

static void on_backoff(EV_P_ ev_timer *w, int revents)
{
	struct tunnel_rt *t = w->data;

	(void)loop;
	(void)revents;
	if (t->state != TS_BACKOFF || t->d->shutting_down)
		return;
	t->restarts++;
	log_info("%s: restart %u after %s", t->entry.conf.name, t->restarts, t->last_exit);
	/* The cache, not TIC: a worker that dies is no reason to ask the broker
	 * again (the worker asks for TIC itself when the cache has failed). */
	tunnel_launch(t);
}

int workers_start(struct tunnel_rt *t)
{
	if (t->removing)
		return -ENOENT;
	if (t->state == TS_STOPPING) {
		t->start_pending = true; /* once the worker has exited */
		return 0;
	}
	if (workers_running(t) || t->state == TS_WAITING || t->state == TS_FETCHING)
		return 0;
	/* An operator's start: now, and a fresh back-off series. */
	ev_timer_stop(t->d->loop, &t->backoff_w);
	backoff_reset(&t->backoff);
	return tunnel_launch(t);
}

void workers_autostart(struct tunnel_rt *t)
{
	if (t->entry.conf.autostart) {
		workers_start(t);
		return;
	}
	snprintf(t->reason, sizeof(t->reason),
	         "not autostarted (autostart = no): start it with aiccuctl start %s",
	         t->entry.conf.name);
	log_info("%s: autostart = no; stopped until aiccuctl start %s", t->entry.conf.name,
	         t->entry.conf.name);
	registry_changed(t);
}

void workers_stop(struct tunnel_rt *t)
{
	ev_timer_stop(t->d->loop, &t->backoff_w);
	t->start_pending = false; /* the last word: a stop */
	if (!workers_running(t)) {
		/* A fetch under way still completes and fills the cache. */
		registry_feed(t, LC_STOP_IDLE, "stopped on request");
		return;
	}
	/* Routing first, so nothing is routed into a link that is going away. */
	policy_drop(t);
	if (t->state != TS_STOPPING) {
		kill(t->pid, SIGTERM);
		ev_timer_stop(t->d->loop, &t->kill_w);
		ev_timer_set(&t->kill_w, WORKER_STOP_TIMEOUT, 0.);
		ev_timer_start(t->d->loop, &t->kill_w);
	}
	registry_feed(t, LC_STOP_WORKER, "worker %d told to stop", (int)t->pid);
}

int workers_restart(struct tunnel_rt *t)
{
	if (t->removing)
		return -ENOENT;
	if (!workers_running(t)) {
		/* A fetch under way still completes; the start waits for a token again. */
		if (t->state == TS_WAITING || t->state == TS_FETCHING || t->state == TS_BACKOFF)
			workers_stop(t);
		return workers_start(t);
	}
	workers_stop(t);
	t->start_pending = true; /* start_again, once the worker has exited */
	return 0;
}

void workers_reconfigure(struct tunnel_rt *t, const struct tunnel_entry *e)
{
	bool stopped_by_operator = t->state == TS_STOPPED && !t->removing;

	t->removing = false;
	if (workers_running(t)) {
		/* The old worker and routing go first (same link name, maybe the
		 * same table); start_again starts the new one. */
		free(t->next_entry);
		t->next_entry = malloc(sizeof(*t->next_entry));
		if (!t->next_entry)
			fatalx("out of memory");
		*t->next_entry = *e;
		workers_stop(t);
		return;
	}
	/* A fetch under way for the old configuration still fills the cache. */
	if (t->state == TS_WAITING || t->state == TS_FETCHING || t->state == TS_BACKOFF)
		workers_stop(t);
	entry_apply(t, e);
	if (stopped_by_operator) {
		registry_set_reason(t, "stopped on request; configuration changed");
		registry_changed(t);
		return;
	}
	workers_start(t);
}

void workers_retire(struct tunnel_rt *t)
{
	t->removing = true;
	free(t->next_entry);
	t->next_entry = NULL;
	workers_stop(t);
	registry_changed(t); /* a failed idle tunnel has no stop transition */
}

void workers_link_lost(struct tunnel_rt *t)
{
	if (!workers_running(t) || t->link_lost)
		return;
	log_warnx("%s: link %s (ifindex %d) vanished under worker %d; restarting it",
	          t->entry.conf.name, t->entry.conf.name, t->ifindex, (int)t->pid);
	t->link_lost = true;
	policy_drop(t);
	/* The worker's exit is then an unexpected one: back-off restart. */
	kill(t->pid, SIGTERM);
	ev_timer_stop(t->d->loop, &t->kill_w);
	ev_timer_set(&t->kill_w, WORKER_STOP_TIMEOUT, 0.);
	ev_timer_start(t->d->loop, &t->kill_w);
}

void workers_start_from(struct tunnel_rt *t, bool fresh_fetch, bool stale_ok)
{
	t->fresh_fetch = fresh_fetch;
	t->stale_ok = stale_ok;
}

void workers_cache_renewed(struct tunnel_rt *t)
{
	t->on_stale = false;
}

unsigned workers_repairs_take(struct tunnel_rt *t, unsigned *failed)
{
	unsigned done = t->repair_done;

	*failed = t->repair_failed;
	t->repair_done = t->repair_failed = 0;
	return done;
}

void workers_policy_adopted(struct tunnel_rt *t)
{
	t->policy_adopted = true;
}
