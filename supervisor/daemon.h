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

#include "backoff.h"
#include "config.h"
#include "counters.h"
#include "lifecycle.h"
#include "limiter.h"

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
	bool policy_adopted; /* its rule/route were left by an earlier aiccud (reconcile) */
	struct tunnel_counters counters;
	ev_tstamp spawned_at; /* monotonic */
	double up_latency;    /* seconds from spawn to policy installed; <0: n/a */
	unsigned starts;
	bool need_tic;          /* the worker found the cache unusable: fetch, then start */
	bool fresh_fetch;       /* the next worker starts right after a fetch */
	int fetch_err;          /* outcome of the last TIC fetch for this tunnel (0: ok) */
	char fetch_reason[256]; /* its message */

	/* Life cycle (lifecycle.h): the state before the last transition. */
	enum tunnel_state prev_state;

	/* Restarts of workers that died (backoff.h). */
	struct backoff backoff;
	ev_timer backoff_w;
	unsigned restarts;    /* automatic restarts so far */
	double next_start_s;  /* TS_BACKOFF: the delay chosen */
	time_t next_start_at; /* TS_BACKOFF: wall clock of the next start */
	char last_exit[128];  /* how the last worker ended ("" if none has) */
	bool link_lost;       /* heal.c saw the link vanish and told the worker to go */

	/* Self-healing (heal.c): objects restored behind our back. */
	unsigned repairs;
	time_t last_repair_at;      /* wall clock */
	char last_repair[128];      /* what was restored */
	double last_repair_ms;      /* kernel notification -> restored */
	unsigned heal_dirty;        /* HEAL_* bits still to check (heal.c) */
	bool link_missing;          /* heal.c found the link gone once: look again, then act */
	ev_tstamp local_missing_at; /* heal.c: local route first seen missing; 0: it is there */

	/* Reload (reload.c) */
	bool removing;                   /* gone from the configuration: leaves once stopped */
	struct tunnel_entry *next_entry; /* changed: replaces entry once the worker exited */
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

struct heal;

/*
 * d->tunnels holds d->tunnels_cap slots, allocated once and never moved as
 * a whole: libev keeps pointers to the watchers inside each tunnel_rt.
 * A reload appends new tunnels; a removed one leaves once its worker is
 * gone, and the last entry moves into its slot (tunnel_rt_move re-arms
 * the moved watchers).
 */
#define DAEMON_TUNNEL_SLOTS (2 * CONFIG_MAX_TUNNELS)

struct daemon {
	struct ev_loop *loop;
	struct config cfg;
	struct tunnel_rt *tunnels;
	size_t ntunnels;
	size_t tunnels_cap;
	struct netcfg *nc;
	char self_exe[TUNNEL_PATH_MAX];
	int verbosity;
	bool foreground;
	uid_t run_uid; /* [daemon] user, resolved at start (privsep.c) */
	gid_t run_gid;
	bool shutting_down;
	struct control *ctl;
	ev_signal term_w, int_w, hup_w;
	ev_timer shutdown_w;
	ev_tstamp shutdown_started;
	struct limiter limiter;
	char limiter_path[TUNNEL_PATH_MAX + 16];
	ev_timer token_w; /* wakes the fetch scheduler when the next token is due */
	struct fetch_rt fetch;
	struct hooks *hooks; /* setup scripts (hook.c) */
	struct heal *heal;
	unsigned reloads;          /* successful reloads */
	time_t last_reload_at;     /* wall clock of the last reload attempt; 0: none */
	char last_reload_msg[512]; /* its outcome */
};

/* A tunnel by name (tunnels on their way out of the configuration are not found). */
struct tunnel_rt *daemon_find(struct daemon *d, const char *name);
/*
 * Move to state s directly (fetch.c).  A transition the life cycle does not
 * know is logged as a bug and done anyway.
 */
void tunnel_set_state(struct tunnel_rt *t, enum tunnel_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Feed the life cycle an event: 0 and the new state is set (reason, time,
 * log, control notified), or -EPERM when the event does not apply in the
 * current state (then nothing changes).
 */
int tunnel_event(struct tunnel_rt *t, enum lc_event e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* workers.c */
/*
 * Fork and exec aiccud again as a worker ("-W", name) or the TIC fetcher
 * ("-F", NULL), over a SOCK_SEQPACKET socketpair; *fd gets the parent's
 * non-blocking end.  Returns the child's pid or -errno.
 */
pid_t child_spawn(const struct daemon *d, const char *mode, const char *name, int *fd);
/* A fresh slot for entry e (not started). */
void tunnel_rt_init(struct tunnel_rt *t, struct daemon *d, const struct tunnel_entry *e);
/* An operator's (or the configuration's) start: also forgets the back-off series. */
int tunnel_start(struct tunnel_rt *t);
/* Fork the worker now (parameters are in the file or the tunnel cache). */
int tunnel_spawn(struct tunnel_rt *t);
void tunnel_stop(struct tunnel_rt *t);
/*
 * Stop (if a worker runs) and start again once it has exited, on the same
 * configuration; reaches TS_UP or TS_FAILED like a start.  For "restart".
 */
int tunnel_restart(struct tunnel_rt *t);
bool tunnel_running(const struct tunnel_rt *t);
/*
 * Move a tunnel to another slot (dst unused); src is left unused.  Active
 * watchers are stopped and started again at dst, pending ones kept.
 */
void tunnel_rt_move(struct tunnel_rt *dst, struct tunnel_rt *src);
/* heal.c: the tunnel's link vanished under a running worker: restart it. */
void tunnel_link_lost(struct tunnel_rt *t);

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
