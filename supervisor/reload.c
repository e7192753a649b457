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

#include "daemon.h"
#include "log.h"
#include "tables.h"
#include "workers.h"
#include "events.h"

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

/*
 * A removed tunnel leaves the registry once it is idle: subscribed, so it
 * happens after whatever stopped it has returned.
 */
static void on_registry(void *arg, const struct registry_change *c)
{
	struct tunnel_rt *t = c->t;

	(void)arg;
	if (c->ev == REG_REMOVED || !t->removing || workers_running(t) ||
	    (t->state != TS_STOPPED && t->state != TS_FAILED))
		return;
	log_info("%s: removed from the configuration", t->entry.conf.name);
	workers_release(t);
	registry_remove(t->reg, t);
}

int reload_init(struct daemon *d)
{
	return registry_subscribe(d->reg, on_registry, d);
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
	if (strcmp(d->cfg.readonly_group, n->readonly_group) != 0)
		msg_add(notes, len, "; readonly_group changed%s", later);
	if (strcmp(d->cfg.user, n->user) != 0)
		msg_add(notes, len, "; user changed%s", later);
	if (d->cfg.limiter_burst != n->limiter_burst || d->cfg.limiter_refill != n->limiter_refill)
		msg_add(notes, len, "; [limiter] changed%s", later);
	memcpy(n->control_socket, d->cfg.control_socket, sizeof(n->control_socket));
	memcpy(n->state_dir, d->cfg.state_dir, sizeof(n->state_dir));
	memcpy(n->control_group, d->cfg.control_group, sizeof(n->control_group));
	memcpy(n->readonly_group, d->cfg.readonly_group, sizeof(n->readonly_group));
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

/*
 * problems: what was wrong with a configuration that loaded all the same
 * (a tunnel file with a syntax error or an unknown key): the first
 * message (file:line) and how many there were; "" when none.
 */
static int load_new(struct daemon *d, struct config *n, char *msg, size_t len, char *problems,
                    size_t plen)
{
	struct config_diag diag = {0};
	int err;

	memset(n, 0, sizeof(*n));
	err = config_load(n, d->cfg.file, &diag);
	for (size_t i = 0; i < diag.count; i++) {
		log_warnx("reload: %s", diag.msgs[i]);
		events_publish(EVENTS_RELOAD, NULL, "problem: %s", diag.msgs[i]);
	}
	if (diag.count)
		snprintf(problems, plen, "%zu problem(s) in the configuration, the first: %s",
		         diag.count, diag.msgs[0]);
	if (err < 0) {
		snprintf(msg, len,
		         "%s is not usable; still running on the previous configuration: %s%s",
		         d->cfg.file, diag.count ? diag.msgs[0] : "unknown error",
		         diag.count > 1 ? " (more in the log)" : "");
		config_free(n);
	} else
		tables_assign(n, &d->tables_write_err);
	config_diag_free(&diag);
	return err < 0 ? -EINVAL : 0;
}

/* Every registry entry, removed-in-progress ones included, in order. */
static struct tunnel_rt **old_tunnels(struct daemon *d, const struct tunnel_entry ***entries,
                                      bool **removing)
{
	size_t n = registry_count(d->reg), i = 0;
	struct tunnel_rt **old = calloc(n ? n : 1, sizeof(*old));
	const struct tunnel_entry **e = calloc(n ? n : 1, sizeof(*e));
	bool *rm = calloc(n ? n : 1, sizeof(*rm));

	if (!old || !e || !rm)
		fatalx("out of memory");
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t)) {
		old[i] = t;
		rm[i] = t->removing;
		e[i++] = &t->entry;
	}
	*entries = e;
	*removing = rm;
	return old;
}

static void apply_one(struct tunnel_rt *t, const struct tunnel_entry *e, enum reload_action a,
                      struct tally *k)
{
	switch (a) {
	case RELOAD_SAME:
		k->same++;
		break;
	case RELOAD_KEEP_OLD:
		k->kept_old++;
		tally_name(k->names[3], sizeof(k->names[3]), e->conf.name);
		log_warnx("%s: %s; still running on its previous configuration", e->conf.name,
		          e->error);
		events_publish(EVENTS_RELOAD, e->conf.name,
		               "refused: %s; still running on its previous configuration",
		               e->error);
		break;
	case RELOAD_CHANGED:
		k->changed++;
		tally_name(k->names[2], sizeof(k->names[2]), e->conf.name);
		log_info("%s: configuration changed; restarting it", e->conf.name);
		events_publish(EVENTS_RELOAD, e->conf.name, "restarted: its configuration changed");
		workers_reconfigure(t, e);
		break;
	case RELOAD_ADD:
	case RELOAD_ACTIONS:
		break;
	}
}

static void apply(struct daemon *d, struct tunnel_rt **old, size_t nold, const struct config *n,
                  const struct reload_plan *plan, struct tally *k)
{
	/* Removals first: their routing goes before a new tunnel takes a table. */
	for (size_t i = 0; i < nold; i++)
		if (plan->remove[i]) {
			k->removed++;
			tally_name(k->names[1], sizeof(k->names[1]), old[i]->entry.conf.name);
			events_publish(EVENTS_RELOAD, old[i]->entry.conf.name,
			               "removed: no longer in the configuration");
			workers_retire(old[i]);
		}
	for (size_t j = 0; j < n->ntunnels; j++)
		if (plan->old_of_new[j] >= 0)
			apply_one(old[plan->old_of_new[j]], &n->tunnels[j], plan->new_action[j], k);
	for (size_t j = 0; j < n->ntunnels; j++) {
		struct tunnel_rt *t;

		if (plan->new_action[j] != RELOAD_ADD)
			continue;
		t = registry_add(d->reg, &n->tunnels[j]);
		if (!t)
			fatalx("out of memory");
		workers_rt_init(t, d);
		k->added++;
		tally_name(k->names[0], sizeof(k->names[0]), t->entry.conf.name);
		log_info("%s: new in the configuration", t->entry.conf.name);
		events_publish(EVENTS_RELOAD, t->entry.conf.name,
		               "added: new in the configuration");
		workers_autostart(t);
	}
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
	char notes[256] = "", problems[CONFIG_ERR_MAX + 128] = "";
	const struct tunnel_entry **entries;
	struct tunnel_rt **old;
	struct reload_plan plan;
	size_t nold = registry_count(d->reg);
	bool *removing;
	int err;

	d->last_reload_at = time(NULL);
	if (d->shutting_down) {
		snprintf(msg, len, "aiccud is shutting down");
		return -ECANCELED;
	}
	err = load_new(d, &n, msg, len, problems, sizeof(problems));
	if (err < 0)
		goto done;
	old = old_tunnels(d, &entries, &removing);
	if (reload_plan(entries, removing, nold, n.tunnels, n.ntunnels, &plan) < 0)
		fatalx("out of memory");
	free(entries);
	free(removing);
	settings_keep(d, &n, notes, sizeof(notes));
	if (d->cfg.cache_max_age != n.cache_max_age)
		log_info("reload: cache_max_age %u -> %u s", d->cfg.cache_max_age, n.cache_max_age);
	apply(d, old, nold, &n, &plan, &k);
	reload_plan_free(&plan);
	free(old);
	/* Tunnels keep copies of their entries: the old lists can go. */
	config_free(&d->cfg);
	d->cfg = n;
	d->reloads++;
	report(&k, notes, msg, len);
	if (problems[0]) {
		/* Applied where it could be; the caller's exit status says it was not all. */
		msg_add(msg, len, "; %s", problems);
		err = 1;
	}
done:
	if (err)
		log_warnx("reload: %s", msg);
	else
		log_info("%s", msg);
	events_publish(EVENTS_RELOAD, NULL, "%s", msg);
	snprintf(d->last_reload_msg, sizeof(d->last_reload_msg), "%s", msg);
	return err;
}

/* The entry of the file t came from, in a freshly loaded configuration. */
static const struct tunnel_entry *entry_of_file(const struct config *n, const struct tunnel_rt *t)
{
	for (size_t i = 0; i < n->ntunnels; i++)
		if (strcmp(n->tunnels[i].conf.file, t->entry.conf.file) == 0)
			return &n->tunnels[i];
	return NULL;
}

int reload_tunnel(struct daemon *d, struct tunnel_rt *t, char *msg, size_t len)
{
	const struct tunnel_entry *e;
	struct config n;
	char problems[512] = ""; /* other files' problems: the log has them, not this reply */
	int err;

	msg[0] = '\0';
	if (d->shutting_down) {
		snprintf(msg, len, "aiccud is shutting down");
		return -ECANCELED;
	}
	err = load_new(d, &n, msg, len, problems, sizeof(problems));
	if (err < 0)
		return err;
	e = entry_of_file(&n, t);
	if (!e) {
		snprintf(msg, len, "%s: %s is gone (aiccuctl reload removes the tunnel)",
		         t->entry.conf.name, t->entry.conf.file);
		err = -ENOENT;
	} else if (!e->valid) {
		snprintf(msg, len, "%s", e->error);
		err = -EINVAL;
	} else if (strcmp(e->conf.name, t->entry.conf.name) != 0) {
		snprintf(msg, len, "%s: now names interface %s (aiccuctl reload applies that)",
		         t->entry.conf.file, e->conf.name);
		err = -EINVAL;
	} else if (reload_classify(&t->entry, e) == RELOAD_CHANGED) {
		log_info("%s: %s changed; applying it", t->entry.conf.name, t->entry.conf.file);
		snprintf(msg, len, "%s changed: applied", t->entry.conf.file);
		workers_reconfigure(t, e);
	}
	config_free(&n);
	return err;
}
