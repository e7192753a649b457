/*
 * Worker management in the parent (workers.c): spawn, messages from the
 * worker, exit, stop, restart, and the operations reload uses.  Changes
 * reach the rest of the parent only as registry events.
 */
#ifndef AICCUD_WORKERS_H
#define AICCUD_WORKERS_H

#include <stdbool.h>

#include "daemon.h"

/*
 * The link group (IFLA_GROUP) the parent puts every tunnel link in once
 * it is up ("aicc"), so that shutdown removes all of them in one kernel
 * batch.  A link of someone else's in this group would go too.
 */
#define WORKERS_LINK_GROUP 0x61696363u

/*
 * A line the tunnel's worker caused (its messages, its requests): through
 * the tunnel's own rate limit, so a flooding worker cannot flood the log.
 * warn: log_warnx, else log_info; the tunnel's name comes first.
 */
void workers_child_log(struct tunnel_rt *t, bool warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Parameters fetched but not cached (text: the cache file's, len bytes,
 * never read by the parent; cache_err: why the write failed): the next
 * workers run on them and write them.  NULL forgets them.
 */
void workers_hold(struct tunnel_rt *t, const char *text, size_t len, int cache_err);
/* Where a worker spawned now takes its parameters from (worker_conf's order). */
enum tunnel_origin workers_origin(bool tic, bool held, bool fresh_fetch);
/*
 * "tunnel file F", "T1 from TIC server S (cache file D/tunnels/T1)", "T1
 * from TIC server S (not cached)" or "T1 from the cache file
 * D/tunnels/T1": where parameters refused in a message came from.
 */
void workers_origin_text(const struct tunnel_conf *tc, enum tunnel_origin o, const char *state_dir,
                         char *buf, size_t len);
/* The worker -> parent message table (n entries), for the tests. */
const struct ipc_route *workers_ipc_routes(size_t *n);

/* Set up the watchers of a fresh registry entry (not started). */
void workers_rt_init(struct tunnel_rt *t, struct daemon *d);
/* Stop its timers: before registry_remove (no worker may run). */
void workers_release(struct tunnel_rt *t);
/*
 * An operator's (or the configuration's) start: also forgets the back-off
 * series.  A tunnel still stopping starts once its worker has exited.
 */
int workers_start(struct tunnel_rt *t);
/* Fork the worker now (parameters are in the file or the tunnel cache). */
int workers_spawn(struct tunnel_rt *t);
void workers_stop(struct tunnel_rt *t);
/*
 * The daemon's own start (at start-up, a tunnel new on reload): workers_start,
 * unless the file says autostart = no; then it stays stopped, status says
 * why, and only aiccuctl start|restart starts it.
 */
void workers_autostart(struct tunnel_rt *t);
/*
 * Stop (if a worker runs or a fetch waits) and start again once the worker
 * has exited, on the same configuration; reaches TS_UP or TS_FAILED like
 * a start.
 */
int workers_restart(struct tunnel_rt *t);
/*
 * Reload: run t on configuration e from now on.  A running worker is
 * stopped first and the tunnel starts on e once it has exited; an idle
 * tunnel takes e at once and starts, unless an operator had stopped it.
 */
void workers_reconfigure(struct tunnel_rt *t, const struct tunnel_entry *e);
/* Reload: gone from the configuration; stop it (registry_remove once idle). */
void workers_retire(struct tunnel_rt *t);
bool workers_running(const struct tunnel_rt *t);
/* heal.c: the tunnel's link vanished under a running worker: restart it. */
void workers_link_lost(struct tunnel_rt *t);
/*
 * fetch.c: TIC could not be reached for t (TS_FETCHING) for a reason that
 * can go away: back-off, then wait for a limiter token again.
 */
void workers_retry_later(struct tunnel_rt *t, const char *why);
/*
 * Seconds an up tunnel has heard nothing from its PoP (since the later of
 * its last packet and coming up), 0 when not up or pop_silence is off;
 * "silent" (for status) from half of pop_silence on.  At pop_silence the
 * worker is restarted with back-off.
 */
double workers_pop_silent_s(const struct tunnel_rt *t, time_t now);
bool workers_pop_silent(const struct tunnel_rt *t, time_t now);
/*
 * heal.c: ask the worker to restore part of its own link (IPC_REPAIR_*
 * bits, ipc.h); its answer arrives in t->repair_done/failed and a REG_CHANGED
 * event.  0 or -errno (no worker, IPC failed).
 */
int workers_request_repair(struct tunnel_rt *t, unsigned what);
/*
 * Ask an up tunnel's worker for its counters now (status answers with
 * counters as of the request): true when asked.  Its answer carries the
 * count of requests it answered (tunnel_counters.answered), so
 * workers_counters_fresh tells an answer to the latest request from a
 * report sent before the worker read it.
 */
bool workers_counters_ask(struct tunnel_rt *t);
/* Nothing more to wait for: the latest request is answered, or no worker could answer. */
bool workers_counters_fresh(const struct tunnel_rt *t);
/*
 * Whether a TIC tunnel has cached parameters at all (a stat, no parsing:
 * the worker reads them and says when they are stale or failed).
 */
bool workers_cache_usable(const struct daemon *d, const struct tunnel_rt *t);
/* fetch.c: how the next worker starts (right after a fetch; on a too old cache). */
void workers_start_from(struct tunnel_rt *t, bool fresh_fetch, bool stale_ok);
/* fetch.c: a background fetch renewed the cache the running worker started on. */
void workers_cache_renewed(struct tunnel_rt *t);
/* heal.c: the IPC_REPAIR_* bits the worker restored since the last call (and, in
 * *failed, those it could not); both start again from none. */
unsigned workers_repairs_take(struct tunnel_rt *t, unsigned *failed);
/* heal.c (reconcile at start): its rule/route were left by an earlier aiccud. */
void workers_policy_adopted(struct tunnel_rt *t);

#endif
