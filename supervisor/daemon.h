/*
 * The parent's state: the loaded configuration and, per tunnel, what the
 * supervisor knows about its worker, link and routing.
 */
#ifndef AICCUD_DAEMON_H
#define AICCUD_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include <ev.h>

#include "config.h"
#include "counters.h"

enum tunnel_state {
	TS_STOPPED = 0, /* not running (never started, or stopped on request) */
	TS_STARTING,    /* worker forked, link not up yet */
	TS_UP,          /* link up, routing policy installed */
	TS_STOPPING,    /* worker told to stop, not exited yet */
	TS_FAILED,      /* config invalid, or the worker gave up: see reason */
};

struct daemon;

struct tunnel_rt {
	struct daemon *d;
	struct tunnel_entry entry; /* conf, valid, error */
	enum tunnel_state state;
	time_t since;     /* wall clock of the last state change */
	char reason[256]; /* why it is in this state, for status */
	pid_t pid;
	int ipc_fd;
	ev_io ipc_w;
	ev_child child_w;
	ev_timer kill_w;
	int ifindex;
	bool policy_installed;
	struct tunnel_counters counters;
	ev_tstamp spawned_at; /* monotonic */
	double up_latency;    /* seconds from spawn to policy installed; <0: n/a */
	unsigned starts;
};

struct daemon {
	struct ev_loop *loop;
	struct config cfg;
	struct tunnel_rt *tunnels;
	size_t ntunnels;
	struct netcfg *nc;
	char self_exe[TUNNEL_PATH_MAX];
	int verbosity;
	bool foreground;
	bool shutting_down;
	struct control *ctl;
	ev_signal term_w, int_w;
	ev_timer shutdown_w;
	ev_tstamp shutdown_started;
};

const char *tunnel_state_name(enum tunnel_state s);
struct tunnel_rt *daemon_find(struct daemon *d, const char *name);
void tunnel_set_state(struct tunnel_rt *t, enum tunnel_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* workers.c */
int tunnel_start(struct tunnel_rt *t);
void tunnel_stop(struct tunnel_rt *t);
bool tunnel_running(const struct tunnel_rt *t);

#endif
