/*
 * The parent's tunnel registry: every tunnel it knows, as heap-allocated
 * entries (no fixed count, pointers stay valid until the entry is
 * removed), found by name through a hash table, each with its life-cycle
 * state (lifecycle.h).
 *
 * Change events: control, reload, fetch, healing and sd_notify subscribe
 * (registry_subscribe) instead of being called by the module that made
 * the change.  Events are queued and delivered by registry_dispatch,
 * which the parent's loop calls before it waits again: a subscriber
 * never runs inside the code that changed the state, so it may start,
 * stop or remove tunnels itself without re-entering its caller.
 *
 * No sockets, no loop: the clock is passed in (a fake one in the tests).
 */
#ifndef AICCUD_REGISTRY_H
#define AICCUD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <ev.h>

#include "backoff.h"
#include "config.h"
#include "counters.h"
#include "ipc.h"
#include "lifecycle.h"
#include "log.h"
#include "privsep.h"

struct daemon;
struct registry;

enum refresh_result {
	REFRESH_NONE = 0,  /* none asked for, or one under way */
	REFRESH_UNCHANGED, /* TIC has what the cache had: left running */
	REFRESH_RESTARTED, /* changed: restarted on the new parameters */
	REFRESH_CACHED,    /* changed, but not running: the next start uses them */
	REFRESH_FAILED,    /* no answer: left running on the cached parameters */
};

/* Where a worker's parameters came from, set when it is spawned (refusal texts). */
enum tunnel_origin {
	ORIGIN_FILE,    /* the tunnel file */
	ORIGIN_FETCHED, /* TIC, fetched just before the spawn and cached */
	ORIGIN_HELD,    /* TIC, fetched but not cached (a full disk) */
	ORIGIN_CACHE,   /* the cache file from an earlier fetch */
};

/*
 * One tunnel: what the supervisor knows about its worker, link and routing.
 *
 * Every field is written by one module only, the one named over its group
 * (or beside it); the others read it, or call that module's function:
 *   registry.c  reg, entry, state, prev_state, since, reason, refresh_msg and
 *               its list links (registry_add, registry_feed, registry_set_state,
 *               registry_set_*)
 *   workers.c   d, the worker, its IPC, watchdog, claim, held cache text,
 *               start inputs (fresh_fetch, stale_ok, on_stale), origin, policy_adopted,
 *               restarts and back-off, repair_done/failed/reason
 *               (workers_rt_init, workers_start_from, workers_cache_renewed,
 *               workers_policy_adopted, workers_repairs_take, ...)
 *   fetch.c     fetch_err, fetch_reason, refresh, refreshing, refresh_changed,
 *               refresh_result, stale_w, stale_streak
 *   heal.c      repairs, last_repair*, heal_dirty, link_missing,
 *               local_missing_at, repair_event_at
 *   privsep.c   priv_bucket (privsep_request)
 */
struct tunnel_rt {
	struct daemon *d; /* workers.c (workers_rt_init) */
	struct registry *reg;
	struct tunnel_entry entry; /* conf, valid, error */
	enum tunnel_state state;
	enum tunnel_state prev_state; /* the state before the last transition */
	time_t since;                 /* wall clock of the last state change */
	char reason[256];             /* why it is in this state, for status */

	/* workers.c (and all below up to the fetch.c group) */
	pid_t pid;
	int ipc_fd;
	ev_io ipc_w;
	ev_child child_w;
	ev_timer kill_w;
	ev_timer watchdog_w;    /* workers.c: the periodic counters request */
	unsigned wd_unanswered; /* requests sent since the last counters arrived */
	double wd_heard_at;     /* ev_now() when counters last arrived */
	uint8_t counters_asked; /* IPC_P_COUNTERS_REQ sent to this worker, modulo 256 */
	bool hung;              /* the watchdog killed this worker */
	int ifindex;
	bool policy_installed;
	bool policy_adopted; /* its rule/route were left by an earlier aiccud (reconcile) */
	struct tunnel_counters counters;
	ev_tstamp spawned_at; /* monotonic */
	double up_latency;    /* seconds from spawn to policy installed; <0: n/a */
	unsigned starts;
	bool need_tic;             /* the worker found the cache unusable: fetch, then start */
	bool cache_stale;          /* ... only too old (IPC_NEED_TIC_STALE): usable if TIC is not */
	bool fresh_fetch;          /* the next worker starts right after a fetch */
	enum tunnel_origin origin; /* where the running worker's parameters came from */
	bool stale_ok;             /* the next worker may use a too old cache (TIC unreachable) */
	bool on_stale;             /* it runs on cached parameters older than cache_max_age */
	bool retry_failed;         /* the worker's set-up failed for a reason that can go away */
	bool pop_silent;     /* the PoP said nothing for pop_silence: the worker was told to go */
	bool pop_quiet_told; /* monitors were told the PoP is silent (not yet that it is back) */
	time_t up_at;        /* wall clock of the last IPC_W_UP (pop_silence counts from it) */
	bool start_pending;  /* start again once the worker has exited (restart) */
	struct tunnel_entry *next_entry; /* reload: replaces entry once the worker exited */
	bool removing;                   /* reload: gone from the configuration, leaves once idle */
	struct log_ratelimit child_rl;   /* every line this tunnel's worker can cause */
	struct privsep_bucket priv_bucket; /* its workers' privileged requests (privsep.c) */
	char refused[192]; /* why the parent ended the worker (a message it refused); "" if not */
	struct ipc_seccomp
	    seccomp;       /* the worker's seccomp report, believed only if it died by SIGSYS */
	bool seccomp_said; /* a report came from this worker */
	/* What its worker's parameter check was granted (password cleared): while
	 * claimed, no other tunnel may take it (workers.c). */
	struct tunnel_params claim;
	bool claimed;

	/* fetch.c, but held* (workers.c: workers_hold) and refresh_msg (registry.c) */
	int fetch_err;          /* outcome of the last TIC fetch for this tunnel (0: ok) */
	char fetch_reason[256]; /* its message */
	/* Fetched but not cached (a full disk): the cache file's text, which the
	 * parent never reads, for the workers to run on and write (ipc.h). */
	char *held;
	size_t held_len;
	int held_err; /* -errno of the failed cache write */
	/* aiccuctl refresh (fetch_refresh): TIC asked again while the tunnel runs */
	bool refresh;         /* asked for: fetch at the next token */
	bool refreshing;      /* in the running fetch */
	bool refresh_changed; /* the fetch found other parameters than the cache held */
	enum refresh_result refresh_result; /* how the last refresh ended */
	/* its message, for status and aiccuctl: room for the server and the whole fetch_reason */
	char refresh_msg[TUNNEL_HOST_MAX + 256 + 96];
	ev_timer stale_w;      /* on_stale: when to ask TIC again in the background */
	unsigned stale_streak; /* background fetches that failed in a row */

	/* workers.c: restarts of workers that died (backoff.h). */
	struct backoff backoff;
	ev_timer backoff_w;
	unsigned restarts;    /* automatic restarts so far */
	double next_start_s;  /* TS_BACKOFF: the delay chosen */
	time_t next_start_at; /* TS_BACKOFF: wall clock of the next start */
	char last_exit[256];  /* how the last worker ended ("" if none has) */
	bool link_lost;       /* heal.c saw the link vanish and told the worker to go */

	/* heal.c, but repair_done/failed/reason (workers.c): objects restored behind our back. */
	unsigned repairs;
	time_t last_repair_at;      /* wall clock */
	char last_repair[128];      /* what was restored */
	double last_repair_ms;      /* kernel notification -> restored */
	unsigned heal_dirty;        /* HEAL_* bits still to check (heal.c) */
	bool link_missing;          /* heal.c found the link gone once: look again, then act */
	ev_tstamp local_missing_at; /* heal.c: local route first seen missing; 0: it is there */
	ev_tstamp repair_event_at;  /* heal.c: the notification behind the repair asked for */
	unsigned repair_done;    /* workers.c: IPC_REPAIR_* the worker restored, not yet counted */
	unsigned repair_failed;  /* workers.c: IPC_REPAIR_* it could not restore */
	char repair_reason[128]; /* why (the last failure) */

	/* registry.c only */
	struct tunnel_rt *next, *prev; /* in configuration order */
	struct tunnel_rt *hnext;       /* hash chain */
	unsigned hash;
	unsigned long seq; /* order of addition */
	bool dead;         /* removed; freed after the events about it were delivered */
};

enum registry_event {
	REG_ADDED = 0, /* a new entry (from the configuration) */
	REG_STATE,     /* a state change, or a new reason in the same state */
	REG_CHANGED,   /* something else a view shows (the worker exited in TS_FAILED) */
	REG_REMOVED,   /* the entry is leaving; the pointer is valid during the callback */
};

struct registry_change {
	struct tunnel_rt *t;
	enum registry_event ev;
	enum tunnel_state from, to;
};

typedef void (*registry_cb)(void *arg, const struct registry_change *c);

/* A clock returning wall-clock seconds: time() in aiccud, a fake in the tests. */
typedef time_t (*registry_clock)(void);

struct registry *registry_new(registry_clock clock);
/* Frees every entry (their watchers must be stopped) and pending events. */
void registry_free(struct registry *r);

/* A new entry in TS_STOPPED (copy of e), at the end of the order.  NULL: out of memory. */
struct tunnel_rt *registry_add(struct registry *r, const struct tunnel_entry *e);
/*
 * Take t out: not found or listed any more; subscribers get REG_REMOVED
 * at the next dispatch, after which t is freed.  Its watchers must be
 * stopped and its worker gone.
 */
void registry_remove(struct registry *r, struct tunnel_rt *t);

/*
 * By interface name: a valid entry first (an invalid duplicate of a name
 * only reports); entries on their way out (removing) are not found.
 */
struct tunnel_rt *registry_find(const struct registry *r, const char *name);
/* In configuration order; removing ones included. */
struct tunnel_rt *registry_first(const struct registry *r);
struct tunnel_rt *registry_next(const struct tunnel_rt *t);
size_t registry_count(const struct registry *r);
size_t registry_count_state(const struct registry *r, enum tunnel_state s);

/*
 * Pure: a one-line summary for systemd's STATUS=, e.g. "2 of 3 tunnel(s)
 * up; not up: sixxs1 (waiting: no TIC token yet)", cut to fit len (each
 * reason to 120 bytes, "..." when tunnels are left out).  Tunnels on their
 * way out of the configuration are not counted.
 */
void registry_status_text(const struct registry *r, char *out, size_t len);

/* Callbacks run in the order they subscribed.  0 or -ENOMEM. */
int registry_subscribe(struct registry *r, registry_cb cb, void *arg);
void registry_unsubscribe(struct registry *r, registry_cb cb, void *arg);
/* Whether events wait for registry_dispatch. */
bool registry_pending(const struct registry *r);
/* Deliver queued events (and those the callbacks queue) and free removed entries. */
void registry_dispatch(struct registry *r);

/*
 * Feed the life cycle an event: 0 and the new state is set (reason, time,
 * log, subscribers told), or -EPERM when the event does not apply in the
 * current state (then nothing changes).
 */
int registry_feed(struct tunnel_rt *t, enum lc_event e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Move to state s directly (the fetch scheduler's TS_WAITING updates).  A
 * transition the life cycle does not know is logged as a bug and done anyway.
 */
void registry_set_state(struct tunnel_rt *t, enum tunnel_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Tell subscribers about a change that is not a state change. */
void registry_changed(struct tunnel_rt *t);

/*
 * The fields registry.c owns, for the modules that change them (no event:
 * the caller tells subscribers with registry_changed or a state change).
 */
void registry_set_reason(struct tunnel_rt *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void registry_set_refresh_msg(struct tunnel_rt *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A new configuration (no worker runs). */
void registry_set_entry(struct tunnel_rt *t, const struct tunnel_entry *e);
/* The parameters a worker's check was granted; the configured password stays. */
void registry_set_params(struct tunnel_rt *t, const struct tunnel_params *p);

#endif
