/*
 * The parent's event loop: the only file in supervisor/ that owns one.
 * Reconciles what an earlier aiccud left, starts every configured
 * tunnel's worker, serves the control socket, watches rtnetlink (heal.c),
 * re-reads the configuration on SIGHUP (reload.c) and on SIGTERM/SIGINT
 * stops every worker and removes their routing.
 */
#include "parent.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "fetch.h"
#include "heal.h"
#include "hook.h"
#include "log.h"
#include "netcfg.h"
#include "notify.h"
#include "privsep.h"
#include "reload.h"
#include "update.h"
#include "workers.h"
#include "events.h"

/* Workers get this long to exit on shutdown (each is SIGKILLed after 5 s). */
#define SHUTDOWN_TIMEOUT 8.0

static bool all_stopped(const struct daemon *d)
{
	if (fetch_fetcher_pid(d) > 0)
		return false;
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
		if (workers_running(t))
			return false;
	return true;
}

static void on_shutdown_check(EV_P_ ev_timer *t, int revents)
{
	struct daemon *d = t->data;

	(void)revents;
	if (all_stopped(d) || ev_now(EV_A) - d->shutdown_started >= SHUTDOWN_TIMEOUT)
		ev_break(EV_A_ EVBREAK_ALL);
}

static void on_signal(EV_P_ ev_signal *s, int revents)
{
	struct daemon *d = s->data;
	int err;

	(void)revents;
	if (d->shutting_down)
		return;
	log_info("signal %d: stopping %zu tunnel(s)", s->signum, registry_count(d->reg));
	events_publish(EVENTS_DAEMON, NULL, "aiccud stops (signal %d): stopping %zu tunnel(s)",
	               s->signum, registry_count(d->reg));
	d->shutting_down = true;
	notify_stopping();
	fetch_shutdown(d);
	update_shutdown(d);
	/* Nothing is repaired any more; the links' going makes a flood of events. */
	heal_close(d);
	/*
	 * The links first, in one kernel batch (their addresses and routes go
	 * with them): a worker removing its own link on exit holds the kernel's
	 * rtnl lock for milliseconds, and a thousand of them one by one would
	 * hold up the rule removals below for seconds.  Workers whose link is
	 * gone exit by themselves.
	 */
	err = netcfg_group_del(d->nc, WORKERS_LINK_GROUP);
	if (err < 0)
		log_warnx("cannot remove the tunnel links (group 0x%x): %s", WORKERS_LINK_GROUP,
		          netcfg_errmsg(d->nc)[0] ? netcfg_errmsg(d->nc) : strerror(-err));
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
		workers_stop(t);
	/* Poll for the workers' exits; ev_child callbacks do the cleanup. */
	ev_timer_init(&d->shutdown_w, on_shutdown_check, 0.05, 0.05);
	d->shutdown_w.data = d;
	d->shutdown_started = ev_now(EV_A);
	ev_timer_start(EV_A_ & d->shutdown_w);
}

static void on_hup(EV_P_ ev_signal *s, int revents)
{
	char msg[512];

	(void)loop;
	(void)revents;
	log_info("SIGHUP: reloading the configuration");
	notify_reloading();
	daemon_reload(s->data, msg, sizeof(msg)); /* logs its outcome */
	notify_ready();
}

/* SIGUSR1: one step more verbose, SIGUSR2: one less (aiccuctl log-level sets one). */
static void on_usr(EV_P_ ev_signal *s, int revents)
{
	int old = log_level_get(), level = log_level_step(s->signum == SIGUSR1 ? 1 : -1);
	char by[32];

	(void)loop;
	(void)revents;
	log_level_set(old); /* log_level_change says it, then sets it */
	snprintf(by, sizeof(by), "signal %d", s->signum);
	log_level_change(level, by);
}

/* systemd's STATUS= line (no-op without $NOTIFY_SOCKET). */
static void on_registry(void *arg, const struct registry_change *c)
{
	const struct daemon *d = arg;
	char text[480];

	/* A new reason in the same state counts too: it is part of the line. */
	if (c->ev != REG_CHANGED) {
		registry_status_text(d->reg, text, sizeof(text));
		notify_status("%s", text);
	}
}

/* Before the loop waits: subscribers see what the callbacks of this round changed. */
static void on_prepare(EV_P_ ev_prepare *w, int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	if (registry_pending(d->reg))
		registry_dispatch(d->reg);
}

static int tunnels_init(struct daemon *d)
{
	d->reg = registry_new(NULL);
	if (!d->reg || registry_subscribe(d->reg, on_registry, d) < 0 || reload_init(d) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < d->cfg.ntunnels; i++) {
		struct tunnel_rt *t = registry_add(d->reg, &d->cfg.tunnels[i]);

		if (!t)
			return -ENOMEM;
		workers_rt_init(t, d);
	}
	ev_prepare_init(&d->dispatch_w, on_prepare);
	d->dispatch_w.data = d;
	ev_prepare_start(d->loop, &d->dispatch_w);
	return 0;
}

static void tunnels_free(struct daemon *d)
{
	ev_prepare_stop(d->loop, &d->dispatch_w);
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
		workers_release(t);
	registry_free(d->reg);
	d->reg = NULL;
}

/*
 * One socket per worker (and the limit is inherited by the workers): a
 * thousand tunnels need more than the usual 1024 descriptors.
 */
static void raise_fd_limit(const struct daemon *d)
{
	struct rlimit rl;
	rlim_t want = 2 * (rlim_t)registry_count(d->reg) + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("raising the open files limit");
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		log_warnx("open files limit %llu is low for %zu tunnels (want %llu)",
		          (unsigned long long)rl.rlim_cur, registry_count(d->reg),
		          (unsigned long long)want);
}

int parent_run(struct daemon *d)
{
	char msg[256] = "";
	int err;

	d->loop = ev_default_loop(EVFLAG_AUTO);
	err = netcfg_open(&d->nc);
	if (err < 0) {
		log_warnx("rtnetlink: %s", strerror(-err));
		return 1;
	}
	if (tunnels_init(d) < 0)
		fatalx("out of memory");
	raise_fd_limit(d);
	/* Random enough to spread the restarts of tunnels that died together. */
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	err = fetch_init(d);
	if (err < 0) {
		log_warnx("limiter: %s", strerror(-err));
		return 1;
	}
	if (privsep_init(d) < 0)
		return 1;
	err = update_init(d);
	if (err < 0) {
		log_warnx("endpoint updates: %s", strerror(-err));
		return 1;
	}
	err = control_open(d, &d->ctl, msg, sizeof(msg));
	if (err < 0) {
		log_warnx("%s", msg);
		return 1;
	}
	/* After the instance lock: never touch the routing of a running aiccud. */
	heal_reconcile(d);
	hostcache_init(&d->hostcache);
	err = heal_open(d);
	if (err < 0)
		log_warnx("rtnetlink monitor: %s; routing will not be repaired", strerror(-err));
	d->hostcache.monitored = err >= 0;
	/* Everything that needed more (chown of the cache and socket dirs) is done. */
	privsep_limit(d);
	ev_signal_init(&d->term_w, on_signal, SIGTERM);
	ev_signal_init(&d->int_w, on_signal, SIGINT);
	ev_signal_init(&d->hup_w, on_hup, SIGHUP);
	d->term_w.data = d->int_w.data = d->hup_w.data = d;
	ev_signal_start(d->loop, &d->term_w);
	ev_signal_start(d->loop, &d->int_w);
	ev_signal_start(d->loop, &d->hup_w);
	ev_signal_init(&d->usr1_w, on_usr, SIGUSR1);
	ev_signal_init(&d->usr2_w, on_usr, SIGUSR2);
	ev_signal_start(d->loop, &d->usr1_w);
	ev_signal_start(d->loop, &d->usr2_w);
	signal(SIGPIPE, SIG_IGN);
	log_info("control socket %s; starting %zu tunnel(s)", d->cfg.control_socket,
	         registry_count(d->reg));
	d->hooks = hooks_new(d->loop, HOOK_TIMEOUT);
	if (!d->hooks)
		log_warnx("out of memory for setup scripts; they will not run");
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
		workers_autostart(t);
	/* Ready: the control socket answers and every tunnel is on its way. */
	notify_ready();
	ev_run(d->loop, 0);
	/* The operator should know when a setup script did not get to finish. */
	if (d->hooks && hooks_pending(d->hooks))
		log_warnx("exiting: %u setup script run(s) still running or queued are killed",
		          hooks_pending(d->hooks));
	hooks_free(d->hooks);
	d->hooks = NULL;
	heal_close(d);
	update_free(d);
	hostcache_free(&d->hostcache);
	control_close(d->ctl);
	d->ctl = NULL;
	/* The tests' measure of the parent's kernel work (a worker's request flood). */
	log_debug("rtnetlink: %llu request(s) made in this run",
	          (unsigned long long)netcfg_requests(d->nc));
	netcfg_close(d->nc);
	tunnels_free(d);
	log_info("stopped");
	return 0;
}
