/*
 * The parent's state: the loaded configuration, the tunnel registry
 * (registry.h) and what the modules on its loop share.
 *
 * Who calls whom (no chain of calls leads back to where it started):
 *   parent.c  -> control, reload, fetch, heal, workers, registry
 *   control   -> reload, workers, registry       (views of everything)
 *   reload    -> workers, registry, config
 *   fetch     -> workers, child, registry
 *   heal      -> workers, registry, policy, hostcache, netcfg, update
 *   update    -> child, registry, netcfg, limiter
 *   workers   -> child, registry, policy, hook, hostcache, netcfg
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
#include "limiter.h"
#include "registry.h"

/* The one TIC fetcher child that may run at a time. */
struct fetch_rt {
	pid_t pid;
	int fd;
	ev_io io;
	ev_child child;
	ev_timer deadline;
	bool refused; /* the server turned the connection away */
	int err;      /* the session's -errno (IPC_F_DONE); -ECHILD: no outcome came */
	char server[TUNNEL_HOST_MAX];
	char reason[256];
	int phase;                  /* enum fetch_phase (fetch.h) */
	struct log_ratelimit rl;    /* every line the fetcher can cause */
	struct ipc_seccomp seccomp; /* its seccomp report, believed only if it died by SIGSYS */
	bool seccomp_said;
};

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
	struct limiter limiter;
	char limiter_path[TUNNEL_PATH_MAX + 16];
	ev_timer token_w; /* wakes the fetch scheduler when the next token is due */
	struct fetch_rt fetch;
	struct hooks *hooks; /* setup scripts (hook.c) */
	struct heal *heal;
	struct updates *upd; /* endpoint updates of 6in4 brokers (update.c) */
	struct hostcache
	    hostcache;         /* the host's routes for the overlap check, fed by heal's monitor */
	unsigned reloads;      /* successful reloads */
	time_t last_reload_at; /* wall clock of the last reload attempt; 0: none */
	char last_reload_msg[512]; /* its outcome */
	int tables_write_err;      /* -errno: state_dir/tables could not be written; 0: fine */
	/* Why TIC tunnels wait (fetch_wait_reason): */
	const char *limiter_empty_why; /* why the bucket started empty; NULL after a grant */
	int limiter_save_err;          /* -errno of the last failed save; 0: saved */
	ev_tstamp token_due;           /* when the scheduler wakes next (ev time); 0: never */
};

#endif
