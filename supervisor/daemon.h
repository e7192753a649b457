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
#include "limiter.h"

enum tunnel_state {
	TS_STOPPED = 0, /* not running (never started, or stopped on request) */
	TS_WAITING,     /* TIC tunnel without usable cache: waiting for a limiter token */
	TS_FETCHING,    /* the fetcher is asking TIC for its parameters */
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
	bool need_tic;          /* the worker found the cache unusable: fetch, then start */
	bool fresh_fetch;       /* the next worker starts right after a fetch */
	int fetch_err;          /* outcome of the last TIC fetch for this tunnel (0: ok) */
	char fetch_reason[256]; /* its message */
};

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
	struct limiter limiter;
	char limiter_path[TUNNEL_PATH_MAX + 16];
	ev_timer token_w; /* wakes the fetch scheduler when the next token is due */
	struct fetch_rt fetch;
};

const char *tunnel_state_name(enum tunnel_state s);
struct tunnel_rt *daemon_find(struct daemon *d, const char *name);
void tunnel_set_state(struct tunnel_rt *t, enum tunnel_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* workers.c */
/*
 * In a fresh child: exec aiccud again as a worker ("-W", name) or the TIC
 * fetcher ("-F", NULL), with fd as its IPC channel.  Never returns.
 */
void child_exec(const struct daemon *d, int fd, const char *mode, const char *name)
    __attribute__((noreturn));
int tunnel_start(struct tunnel_rt *t);
/* Fork the worker now (parameters are in the file or the tunnel cache). */
int tunnel_spawn(struct tunnel_rt *t);
void tunnel_stop(struct tunnel_rt *t);
bool tunnel_running(const struct tunnel_rt *t);

/* fetch.c: TIC fetches, each behind a limiter token */
int fetch_init(struct daemon *d);
/*
 * Whether a TIC tunnel has cached parameters at all (a stat, no parsing:
 * the worker reads them and says when they are stale or failed).
 */
bool fetch_cache_usable(const struct daemon *d, const struct tunnel_rt *t);
/* Tunnels in TS_WAITING want TIC: start a fetch now or when a token is due. */
void fetch_kick(struct daemon *d);
void fetch_shutdown(struct daemon *d);

#endif
