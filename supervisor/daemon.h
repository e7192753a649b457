/*
 * The parent's state: the loaded configuration, the tunnel registry
 * (registry.h) and what the modules on its loop share.
 *
 * Who calls whom (no chain of calls leads back to where it started):
 *   parent.c  -> control, reload, fetch, heal, workers, registry
 *   control   -> reload, workers, registry       (views of everything)
 *   reload    -> workers, registry, config
 *   fetch     -> workers, child, registry
 *   heal      -> workers, registry, policy, netcfg
 *   workers   -> child, registry, policy, hook, netcfg
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
	char server[TUNNEL_HOST_MAX];
	char reason[256];
};

struct heal;

struct daemon {
	struct ev_loop *loop;
	struct config cfg;
	struct registry *reg;  /* every tunnel; no fixed count */
	ev_prepare dispatch_w; /* delivers the registry's events before the loop waits */
	struct netcfg *nc;
	char self_exe[TUNNEL_PATH_MAX];
	int verbosity;
	bool foreground;
	bool shutting_down;
	struct control *ctl;
	ev_signal term_w, int_w, hup_w;
	ev_timer shutdown_w;
	ev_tstamp shutdown_started;
	struct limiter limiter;
	char limiter_path[TUNNEL_PATH_MAX + 16];
	int limiter_save_err; /* fetch.c: the last save of limiter_path failed (-errno), 0: fine */
	ev_timer token_w;     /* wakes the fetch scheduler when the next token is due */
	struct fetch_rt fetch;
	struct hooks *hooks; /* setup scripts (hook.c) */
	struct heal *heal;
	unsigned reloads;          /* successful reloads */
	time_t last_reload_at;     /* wall clock of the last reload attempt; 0: none */
	char last_reload_msg[512]; /* its outcome */
};

#endif
