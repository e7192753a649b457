/*
 * Reload on the parent's loop: see reload.h.  The pure comparison is in
 * reload_plan.c.
 */
#include "reload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "daemon.h"
#include "log.h"

/* Appends to a message buffer, never past its end. */
static void msg_add(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void msg_add(char *msg, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(msg, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + used, len - used, fmt, ap);
	va_end(ap);
}

/* Give the tunnel its new configuration (no worker runs). */
static void entry_apply(struct tunnel_rt *t, const struct tunnel_entry *e)
{
	t->entry = *e;
	t->fetch_err = 0;
	t->fetch_reason[0] = '\0';
	t->fresh_fetch = false;
	backoff_reset(&t->backoff);
}

/* Drop the slot of a removed tunnel whose worker is gone. */
static void vacate(struct tunnel_rt *t)
{
	struct daemon *d = t->d;
	struct tunnel_rt *last = &d->tunnels[d->ntunnels - 1];

	log_info("%s: removed from the configuration", t->entry.conf.name);
	/* Answer anyone waiting on it: a stop is done, a start never will be. */
	t->state = TS_STOPPED;
	snprintf(t->reason, sizeof(t->reason), "removed from the configuration");
	control_tunnel_changed(d->ctl, t);
	t->state = TS_FAILED;
	control_tunnel_changed(d->ctl, t);
	ev_timer_stop(d->loop, &t->backoff_w);
	ev_timer_stop(d->loop, &t->kill_w);
	free(t->next_entry);
	t->next_entry = NULL;
	if (last != t)
		tunnel_rt_move(t, last);
	else
		memset(t, 0, sizeof(*t));
	d->ntunnels--;
}

void reload_tunnel_idle(struct tunnel_rt *t)
{
	struct tunnel_entry *e = t->next_entry;

	if (tunnel_running(t))
		return;
	if (t->removing) {
		vacate(t);
		return;
	}
	if (!e)
		return;
	t->next_entry = NULL;
	entry_apply(t, e);
	free(e);
	if (!t->d->shutting_down)
		tunnel_start(t);
}

static void tunnel_remove(struct tunnel_rt *t)
{
	t->removing = true;
	free(t->next_entry);
	t->next_entry = NULL;
	tunnel_stop(t);
}

static void tunnel_reconfigure(struct tunnel_rt *t, const struct tunnel_entry *e)
{
	bool stopped_by_operator = t->state == TS_STOPPED && !t->removing;

	t->removing = false;
	if (tunnel_running(t)) {
		/* Restart: the old worker and routing go first (same link name,
		 * maybe the same table); reload_tunnel_idle starts the new one. */
		free(t->next_entry);
		t->next_entry = malloc(sizeof(*t->next_entry));
		if (!t->next_entry)
			fatalx("out of memory");
		*t->next_entry = *e;
		tunnel_stop(t);
		return;
	}
	/* A fetch under way for the old configuration still fills the cache. */
	if (t->state == TS_WAITING || t->state == TS_FETCHING || t->state == TS_BACKOFF)
		tunnel_stop(t);
	entry_apply(t, e);
	if (stopped_by_operator) {
		snprintf(t->reason, sizeof(t->reason), "stopped on request; configuration changed");
		return;
	}
	tunnel_start(t);
}

/* Settings a running daemon keeps; the ones it can take, it takes. */
static void settings_keep(struct daemon *d, struct config *n, char *notes, size_t len)
{
	static const char later[] = " (takes effect when aiccud restarts)";

	if (strcmp(d->cfg.control_socket, n->control_socket) != 0)
		msg_add(notes, len, "; control_socket changed%s", later);
	if (strcmp(d->cfg.state_dir, n->state_dir) != 0)
		msg_add(notes, len, "; state_dir changed%s", later);
	if (strcmp(d->cfg.control_group, n->control_group) != 0)
		msg_add(notes, len, "; control_group changed%s", later);
	if (strcmp(d->cfg.user, n->user) != 0)
		msg_add(notes, len, "; user changed%s", later);
	if (d->cfg.limiter_burst != n->limiter_burst || d->cfg.limiter_refill != n->limiter_refill)
		msg_add(notes, len, "; [limiter] changed%s", later);
	memcpy(n->control_socket, d->cfg.control_socket, sizeof(n->control_socket));
	memcpy(n->state_dir, d->cfg.state_dir, sizeof(n->state_dir));
	memcpy(n->control_group, d->cfg.control_group, sizeof(n->control_group));
	memcpy(n->user, d->cfg.user, sizeof(n->user));
	n->limiter_burst = d->cfg.limiter_burst;
	n->limiter_refill = d->cfg.limiter_refill;
}

struct tally {
	unsigned added, removed, changed, same, kept_old;
	char names[4][192]; /* added, removed, changed, kept_old */
};

static void tally_name(char *list, size_t len, const char *name)
{
	msg_add(list, len, "%s%s", list[0] ? ", " : "", name);
}

static int load_new(struct daemon *d, struct config *n, char *msg, size_t len)
{
	struct config_diag diag = {0};
	int err;

	memset(n, 0, sizeof(*n));
	err = config_load(n, d->cfg.file, &diag);
	for (size_t i = 0; i < diag.count; i++)
		log_warnx("reload: %s", diag.msgs[i]);
	if (err < 0) {
		snprintf(msg, len,
		         "%s is not usable; still running on the previous configuration: %s%s",
		         d->cfg.file, diag.count ? diag.msgs[0] : "unknown error",
		         diag.count > 1 ? " (more in the log)" : "");
		config_free(n);
	}
	config_diag_free(&diag);
	return err < 0 ? -EINVAL : 0;
}

/* Every tunnel slot's entry, removed-in-progress ones included. */
static const struct tunnel_entry **old_entries(struct daemon *d)
{
	const struct tunnel_entry **old = calloc(d->ntunnels ? d->ntunnels : 1, sizeof(*old));

	if (!old)
		fatalx("out of memory");
	for (size_t i = 0; i < d->ntunnels; i++)
		old[i] = &d->tunnels[i].entry;
	return old;
}

static void apply_one(struct daemon *d, struct tunnel_rt *t, const struct tunnel_entry *e,
                      struct tally *k)
{
	enum reload_action a = reload_classify(&t->entry, e);

	if (a == RELOAD_SAME && t->removing) {
		/* Removed by an earlier reload, back before its worker left. */
		a = RELOAD_CHANGED;
	}
	switch (a) {
	case RELOAD_SAME:
		k->same++;
		break;
	case RELOAD_KEEP_OLD:
		k->kept_old++;
		tally_name(k->names[3], sizeof(k->names[3]), e->conf.name);
		log_warnx("%s: %s; still running on its previous configuration", e->conf.name,
		          e->error);
		break;
	case RELOAD_CHANGED:
		k->changed++;
		tally_name(k->names[2], sizeof(k->names[2]), e->conf.name);
		log_info("%s: configuration changed; restarting it", e->conf.name);
		tunnel_reconfigure(t, e);
		break;
	case RELOAD_ADD:
		break;
	}
	(void)d;
}

static void apply(struct daemon *d, const struct config *n, const long *old_of_new, struct tally *k)
{
	size_t nold = d->ntunnels;
	bool *keep = calloc(nold ? nold : 1, sizeof(*keep));

	if (!keep)
		fatalx("out of memory");
	for (size_t j = 0; j < n->ntunnels; j++)
		if (old_of_new[j] >= 0)
			keep[old_of_new[j]] = true;
	/* Removals first: their routing goes before a new tunnel takes a table. */
	for (size_t i = 0; i < nold; i++)
		if (!keep[i] && !d->tunnels[i].removing) {
			k->removed++;
			tally_name(k->names[1], sizeof(k->names[1]), d->tunnels[i].entry.conf.name);
			tunnel_remove(&d->tunnels[i]);
		}
	for (size_t j = 0; j < n->ntunnels; j++)
		if (old_of_new[j] >= 0)
			apply_one(d, &d->tunnels[old_of_new[j]], &n->tunnels[j], k);
	for (size_t j = 0; j < n->ntunnels; j++) {
		struct tunnel_rt *t;

		if (old_of_new[j] >= 0)
			continue;
		t = &d->tunnels[d->ntunnels++];
		tunnel_rt_init(t, d, &n->tunnels[j]);
		k->added++;
		tally_name(k->names[0], sizeof(k->names[0]), t->entry.conf.name);
		log_info("%s: new in the configuration; starting it", t->entry.conf.name);
		tunnel_start(t);
	}
	/* Backwards: vacating slot i moves the last tunnel, already visited. */
	for (size_t i = nold; i-- > 0;)
		if (i < d->ntunnels && d->tunnels[i].removing && !tunnel_running(&d->tunnels[i]))
			vacate(&d->tunnels[i]);
	free(keep);
}

static size_t count_new(const long *old_of_new, size_t n)
{
	size_t c = 0;

	for (size_t j = 0; j < n; j++)
		c += old_of_new[j] < 0;
	return c;
}

static void report(const struct tally *k, const char *notes, char *msg, size_t len)
{
	snprintf(msg, len, "reloaded: %u added, %u removed, %u changed, %u unchanged", k->added,
	         k->removed, k->changed, k->same);
	if (k->added)
		msg_add(msg, len, "; added: %s", k->names[0]);
	if (k->removed)
		msg_add(msg, len, "; removed: %s", k->names[1]);
	if (k->changed)
		msg_add(msg, len, "; changed: %s", k->names[2]);
	if (k->kept_old)
		msg_add(msg, len,
		        "; %u with a broken file kept on their previous configuration: %s",
		        k->kept_old, k->names[3]);
	msg_add(msg, len, "%s", notes);
}

int daemon_reload(struct daemon *d, char *msg, size_t len)
{
	struct config n;
	struct tally k = {0};
	char notes[256] = "";
	const struct tunnel_entry **old;
	long *old_of_new;
	int err;

	d->last_reload_at = time(NULL);
	if (d->shutting_down) {
		snprintf(msg, len, "aiccud is shutting down");
		return -ECANCELED;
	}
	err = load_new(d, &n, msg, len);
	if (err < 0)
		goto done;
	old = old_entries(d);
	old_of_new = calloc(n.ntunnels ? n.ntunnels : 1, sizeof(*old_of_new));
	if (!old_of_new)
		fatalx("out of memory");
	reload_match(old, d->ntunnels, n.tunnels, n.ntunnels, old_of_new);
	free(old);
	if (d->ntunnels + count_new(old_of_new, n.ntunnels) > d->tunnels_cap) {
		snprintf(msg, len,
		         "too many tunnels while removed ones are still stopping; still running "
		         "on the previous configuration (try again in a few seconds)");
		free(old_of_new);
		config_free(&n);
		err = -EBUSY;
		goto done;
	}
	settings_keep(d, &n, notes, sizeof(notes));
	if (d->cfg.cache_max_age != n.cache_max_age)
		log_info("reload: cache_max_age %u -> %u s", d->cfg.cache_max_age, n.cache_max_age);
	apply(d, &n, old_of_new, &k);
	free(old_of_new);
	/* Tunnels keep copies of their entries: the old lists can go. */
	config_free(&d->cfg);
	d->cfg = n;
	d->reloads++;
	report(&k, notes, msg, len);
done:
	if (err < 0)
		log_warnx("reload: %s", msg);
	else
		log_info("%s", msg);
	snprintf(d->last_reload_msg, sizeof(d->last_reload_msg), "%s", msg);
	return err;
}
