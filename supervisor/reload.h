/*
 * Reload (SIGHUP, aiccuctl reload): read the configuration again and
 * apply only the difference.  The new configuration is parsed first; when
 * aiccud.conf itself is unusable nothing changes.  Then, per tunnel
 * (matched by interface name):
 *   new        started
 *   removed    stopped (its routing removed, its link gone), then dropped
 *   changed    stopped, then started on the new configuration
 *   unchanged  not touched: same worker, same link, no packet lost
 *   broken     (its file no longer loads, but it did) keeps running on the
 *              configuration it has; the reply says why
 * Daemon settings that cannot change under a running daemon (control
 * socket, state directory, control group, limiter) keep their old values
 * until aiccud restarts; the reply names them.
 */
#ifndef AICCUD_RELOAD_H
#define AICCUD_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct daemon;

/*
 * Returns 0 (msg: what was done), 1 when it was done but the new
 * configuration had problems (a tunnel file with a syntax error or an
 * unknown key: that tunnel keeps its previous configuration, or fails
 * when it is new; msg names file:line), or -errno (msg: why nothing was
 * done).  Runs on the parent's loop; control calls it for "reload",
 * parent.c for SIGHUP.
 */
int daemon_reload(struct daemon *d, char *msg, size_t len);

/* Subscribe to the registry: removed tunnels leave it once idle.  0 or -errno. */
int reload_init(struct daemon *d);

/* ---- pure part, unit-tested ---- */

enum reload_action {
	RELOAD_ADD = 0,  /* no old tunnel of that name */
	RELOAD_SAME,     /* nothing the worker or the routing uses changed */
	RELOAD_CHANGED,  /* restart on the new configuration */
	RELOAD_KEEP_OLD, /* the new file is broken, the old one was fine: keep it */
	RELOAD_ACTIONS
};

/*
 * Whether two tunnel configurations are the same for a running tunnel.
 * Every field of struct tunnel_conf is compared except a TIC tunnel's
 * params (filled at run time from the tunnel cache).
 */
bool reload_conf_same(const struct tunnel_conf *a, const struct tunnel_conf *b);

enum reload_action reload_classify(const struct tunnel_entry *old, const struct tunnel_entry *neu);

/*
 * Pair new entries with old ones by interface name: first those from the
 * same file, then any left of that name.  old_of_new[j] is the index in
 * old of new entry j's partner, or -1 (a new tunnel).  Old entries no new
 * one points at are removed.
 */
void reload_match(const struct tunnel_entry *const *old, size_t nold,
                  const struct tunnel_entry *neu, size_t nnew, long *old_of_new);

/*
 * The whole reload, decided before anything is touched.  old[i] is the
 * registry's i-th entry (old_removing[i]: retired by an earlier reload,
 * its worker not gone yet); neu the new configuration's tunnels.
 */
struct reload_plan {
	long *old_of_new;               /* per new entry: its old partner, or -1 */
	enum reload_action *new_action; /* per new entry */
	bool *remove;                   /* per old entry: retire it */
	size_t count[RELOAD_ACTIONS];   /* new entries per action */
	size_t removed;                 /* old entries to retire */
};

/* 0, or -1 when out of memory (the plan is then empty). */
int reload_plan(const struct tunnel_entry *const *old, const bool *old_removing, size_t nold,
                const struct tunnel_entry *neu, size_t nnew, struct reload_plan *plan);
void reload_plan_free(struct reload_plan *plan);

#endif
