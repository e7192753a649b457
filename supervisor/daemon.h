/*
 * The parent's state: the loaded configuration, the tunnel registry
 * (registry.h) and what the modules on its loop share.
 *
 * Who calls whom (every call between the parent's modules; no chain of
 * calls leads back to where it started):
 *   main.c    -> parent, child, config, tables
 *   parent.c  -> control, reload, fetch, heal, update, workers, privsep, hook,
 *                notify, hostcache, registry, netcfg
 *   control   -> reload, fetch, update, workers, config, registry
 *   reload    -> workers, tables, config, registry
 *   fetch     -> workers, child, privsep, limiter, registry
 *   heal      -> workers, update, reconcile, routing, hostcache, registry, netcfg
 *   update    -> child, privsep, limiter, registry, netcfg
 *   workers   -> child, privsep, hook, routing, hostcache, backoff, registry,
 *                netcfg
 *   privsep   -> privparent, privreq, netcfg
 *   config    -> limiter, routing (their pure checks of values)
 *   reconcile -> routing;  tables -> tabmap;  routing, hostcache -> netcfg
 * (control: control*.c, waiter.c, ctlcmd.c; reload, fetch, update: their
 * *_plan.c too; config: config_*.c; hostcache: hostview.c too; registry:
 * lifecycle.c too.  child, hook, notify, backoff, limiter, privparent,
 * privreq, tabmap call none of them.)
 * Upwards only through registry_subscribe: control's waiters, reload's
 * removals, fetch's scheduler, heal's bookkeeping and sd_notify react to
 * the registry's change events.
 */
#ifndef AICCUD_DAEMON_H
#define AICCUD_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <ev.h>

#include "config.h"
#include "hostcache.h"
#include "registry.h"

struct fetch_state;
struct heal;
struct updates;

struct daemon {
	struct ev_loop *loop;
	struct config cfg;
	struct registry *reg;  /* every tunnel; no fixed count */
	ev_prepare dispatch_w; /* delivers the registry's events before the loop waits */
	struct netcfg *nc;
	char self_exe[TUNNEL_PATH_MAX];
	char fetcher_exe[TUNNEL_PATH_MAX]; /* aiccud-tic (child_find_fetcher) */
	int verbosity;
	bool foreground;
	uid_t run_uid; /* [daemon] user, resolved at start (privsep.c) */
	gid_t run_gid;
	bool shutting_down;
	struct control *ctl;
	ev_signal term_w, int_w, hup_w, usr1_w, usr2_w;
	ev_timer shutdown_w;
	ev_tstamp shutdown_started;
	struct fetch_state *fetch; /* the TIC fetch scheduler and its limiter (fetch.c only) */
	struct hooks *hooks;       /* setup scripts (hook.c) */
	struct heal *heal;
	struct updates *upd; /* endpoint updates of 6in4 brokers (update.c) */
	struct hostcache
	    hostcache;         /* the host's routes for the overlap check, fed by heal's monitor */
	unsigned reloads;      /* successful reloads */
	time_t last_reload_at; /* wall clock of the last reload attempt; 0: none */
	char last_reload_msg[512]; /* its outcome */
	int tables_write_err;      /* -errno: state_dir/tables could not be written; 0: fine */
};

#endif
