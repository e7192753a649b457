/*
 * start, stop, restart and refresh on the control socket: issue the operation,
 * then follow the registry's events for the tunnels concerned, sending
 * progress lines until every one has settled (waiter.h decides).  wait
 * issues nothing and follows the tunnels until they are up, or its
 * timeout is over.
 */
#include "control_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "log.h"
#include "reload.h"
#include "update.h"
#include "workers.h"

/* A refresh's own progress (its fetch while the tunnel runs on). */
static void send_refresh(struct client *cl, const struct tunnel_rt *t)
{
	char text[sizeof(t->refresh_msg) + IFNAMSIZ + 2];

	snprintf(text, sizeof(text), "%s: %s", t->entry.conf.name, t->refresh_msg);
	control_send(cl,
	             json_pack("{s:s, s:s, s:s}", "progress", text, "tunnel", t->entry.conf.name,
	                       "state", lifecycle_state_name(t->state)),
	             false);
}

static void send_progress(struct client *cl, const struct tunnel_rt *t)
{
	char text[512];

	snprintf(text, sizeof(text), "%s: %s%s%s", t->entry.conf.name,
	         lifecycle_state_name(t->state), t->reason[0] ? ": " : "", t->reason);
	control_send(cl,
	             json_pack("{s:s, s:s, s:s}", "progress", text, "tunnel", t->entry.conf.name,
	                       "state", lifecycle_state_name(t->state)),
	             false);
}

/* A TIC tunnel waiting for a limiter token: say when the next one is due. */
static void send_token_wait(struct client *cl, const struct tunnel_rt *t)
{
	char text[768], why[sizeof(t->reason)];
	double left = 0;

	if (fetch_fetcher_pid(cl->ctl->d) > 0)
		snprintf(text, sizeof(text), "%s: waiting: another TIC fetch is under way",
		         t->entry.conf.name);
	else {
		left = fetch_wait_reason(cl->ctl->d, why, sizeof(why));
		snprintf(text, sizeof(text), "%s: %s", t->entry.conf.name, why);
	}
	control_send(cl,
	             json_pack("{s:s, s:s, s:s, s:f}", "progress", text, "tunnel",
	                       t->entry.conf.name, "state", "waiting", "next_token_s", left),
	             false);
}

/* Every waited-for tunnel settled: send the final line. */
static void client_finish_change(struct client *cl)
{
	json_t *list = json_array(), *r;
	char failed[768] = "";
	size_t off = 0, nfailed = 0;

	for (size_t i = 0; i < cl->nw; i++) {
		struct tunnel_rt *t = cl->w[i].t;

		if (t)
			json_array_append_new(list, control_tunnel_json(t));
		if (cl->w[i].ok)
			continue;
		nfailed++;
		if (cl->op == OP_WAIT && off < sizeof(failed)) {
			if (!off)
				off = (size_t)snprintf(failed, sizeof(failed),
				                       "not up after %.0f s: ", cl->wait_timeout);
			off += (size_t)snprintf(failed + off, sizeof(failed) - off, "%s%s (%s%s%s)",
			                        nfailed > 1 ? ", " : "", cl->w[i].name,
			                        t ? lifecycle_state_name(t->state) : "removed",
			                        t && t->reason[0] ? ": " : "", t ? t->reason : "");
		} else if (off < sizeof(failed))
			off += (size_t)snprintf(failed + off, sizeof(failed) - off, "%s%s: %s",
			                        off ? "; " : "", cl->w[i].name,
			                        !t ? "removed by a reload"
			                        : cl->op == OP_REFRESH &&
			                                t->refresh_result != REFRESH_RESTARTED
			                            ? t->refresh_msg
			                        : t->state == TS_UP ? "still up"
			                        : t->reason[0]      ? t->reason
			                                       : lifecycle_state_name(t->state));
	}
	if (nfailed)
		r = control_error("failed", "%s", failed);
	else
		r = control_ok();
	if (cl->nw == 1 && json_array_size(list) == 1)
		json_object_set(r, "tunnel", json_array_get(list, 0));
	json_object_set_new(r, "tunnels", list);
	control_send(cl, r, true);
}

/* Progress for w's tunnel if it changed, and whether it has settled now. */
static void waiter_check(struct client *cl, struct waiter *w, bool tick)
{
	bool settled;

	switch (waiter_update(w, cl->op, tick, &settled)) {
	case WAITER_PROGRESS:
		send_progress(cl, w->t);
		break;
	case WAITER_TOKEN:
		send_token_wait(cl, w->t);
		break;
	case WAITER_REFRESH:
		send_refresh(cl, w->t);
		break;
	case WAITER_QUIET:
		break;
	}
	if (settled)
		cl->unsettled--;
}

static void client_maybe_finish(struct client *cl)
{
	if (!cl->finished && cl->nw && !cl->unsettled)
		client_finish_change(cl);
}

void control_wait_tick(EV_P_ ev_timer *tm, int revents)
{
	struct client *cl = tm->data;

	(void)loop;
	(void)revents;
	for (size_t i = 0; i < cl->nw; i++)
		waiter_check(cl, &cl->w[i], true);
	client_maybe_finish(cl);
}

/* refresh applies to usable tunnels whose parameters come from TIC. */
static bool refreshable(const struct tunnel_rt *t)
{
	return t->entry.valid && t->entry.conf.tic;
}

/*
 * refresh of a tunnel whose broker takes endpoint updates (update.h): its
 * parameters come from its file, so a stopped update may go again.  The
 * reply says what became of it at once; status follows the request.
 */
static json_t *update_refresh_reply(struct client *cl, struct tunnel_rt *t)
{
	json_t *r = control_ok(), *list = json_array();

	log_info("control: refresh %s: endpoint update (uid %d, pid %d)", t->entry.conf.name,
	         (int)cl->cred.uid, (int)cl->cred.pid);
	update_refresh(cl->ctl->d, t);
	json_array_append_new(list, control_tunnel_json(t));
	json_object_set_new(r, "tunnels", list);
	return r;
}

/* Begin the operation on t and fill in its waiter w. */
static void change_begin(struct client *cl, struct tunnel_rt *t, struct waiter *w)
{
	waiter_begin(w, t);
	switch (cl->op) {
	case OP_START:
		workers_start(t);
		break;
	case OP_STOP:
		workers_stop(t);
		break;
	case OP_RESTART:
		workers_restart(t);
		break;
	case OP_REFRESH:
		fetch_refresh(cl->ctl->d, t);
		break;
	case OP_WAIT:
		break;
	}
}

/* The operation a command of the table (ctlcmd.h) names; -1 for any other name. */
static int change_op_of(const char *name, enum change_op *op)
{
	const struct ctlcmd *k = ctlcmd_find(name);

	switch (k ? k->id : CTLCMD_COUNT) {
	case CTLCMD_START:
		*op = OP_START;
		return 0;
	case CTLCMD_STOP:
		*op = OP_STOP;
		return 0;
	case CTLCMD_RESTART:
		*op = OP_RESTART;
		return 0;
	case CTLCMD_REFRESH:
		*op = OP_REFRESH;
		return 0;
	default:
		return -1;
	}
}

/*
 * start and restart of one tunnel apply its file as it is now (like
 * wg-quick up): NULL to go on, or the error reply (file:line) when it
 * does not load, and nothing is started.
 */
static json_t *file_apply(struct daemon *d, struct tunnel_rt *t, bool *changed)
{
	char msg[1024];

	if (reload_tunnel(d, t, msg, sizeof(msg)) == 0) {
		*changed = msg[0] != '\0';
		return NULL;
	}
	log_warnx("%s: not started: %s", t->entry.conf.name, msg);
	return control_error("config", "%s; nothing started", msg);
}

json_t *control_cmd_change(struct client *cl, int argc, char **argv)
{
	struct daemon *d = cl->ctl->d;
	const char *target = NULL;
	bool wait = true, all = false;

	if (change_op_of(argv[0], &cl->op) < 0)
		return control_unknown_command(argv[0]);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-wait") == 0)
			wait = false;
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else if (argv[i][0] == '-')
			return control_error("usage",
			                     "'%s': unknown option '%s' (--no-wait, --all)",
			                     argv[0], argv[i]);
		else if (target)
			return control_error("usage", "'%s' takes one tunnel name", argv[0]);
		else
			target = argv[i];
	}
	if (!target == !all)
		return control_error("usage", "'%s' needs a tunnel name or --all", argv[0]);
	if (target && !registry_find(d->reg, target))
		return control_unknown_tunnel(d, target);
	if (target && cl->op == OP_REFRESH && update_has(registry_find(d->reg, target)) &&
	    !registry_find(d->reg, target)->entry.conf.tic)
		return update_refresh_reply(cl, registry_find(d->reg, target));
	if (target && cl->op == OP_REFRESH && !refreshable(registry_find(d->reg, target)))
		return control_error("failed",
		                     "%s: nothing to refresh: its parameters come from its file "
		                     "(tic = no), or its file is not usable",
		                     target);
	log_info("control: %s %s (uid %d, pid %d)", argv[0], all ? "--all" : target,
	         (int)cl->cred.uid, (int)cl->cred.pid);
	if (target && (cl->op == OP_START || cl->op == OP_RESTART)) {
		bool changed = false;
		json_t *refused = file_apply(d, registry_find(d->reg, target), &changed);

		if (refused)
			return refused;
		/* The new file restarted it already: a start follows that, not a second restart. */
		if (changed)
			cl->op = OP_START;
	}
	cl->nw = all ? registry_count(d->reg) : 1;
	cl->w = calloc(cl->nw ? cl->nw : 1, sizeof(*cl->w));
	if (!cl->w)
		fatalx("out of memory");
	if (all) {
		size_t i = 0;

		/* Tunnels on their way out of the configuration are not started or waited for. */
		for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
			if (!t->removing && cl->op == OP_REFRESH && update_has(t) &&
			    !t->entry.conf.tic)
				update_refresh(d, t); /* no waiter: its reply is its status */
		for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
			if (!t->removing && (cl->op != OP_REFRESH || refreshable(t)))
				change_begin(cl, t, &cl->w[i++]);
		cl->nw = i;
	} else {
		change_begin(cl, registry_find(d->reg, target), &cl->w[0]);
	}
	if (!wait) {
		json_t *list = json_array(), *r = control_ok();

		/* The operation goes on without us (a restart's start half included). */
		for (size_t i = 0; i < cl->nw; i++)
			json_array_append_new(list, control_tunnel_json(cl->w[i].t));
		json_object_set_new(r, "tunnels", list);
		cl->nw = 0;
		return r;
	}
	if (!cl->nw)
		return json_pack("{s:b, s:[]}", "ok", 1, "tunnels");
	ev_timer_stop(d->loop, &cl->idle); /* waiting on the tunnels, not the client */
	ev_timer_again(d->loop, &cl->tick);
	/* Progress and settling come with the registry's events (control_wait_on_change). */
	cl->unsettled = cl->nw;
	for (size_t i = 0; i < cl->nw; i++)
		waiter_check(cl, &cl->w[i], false);
	client_maybe_finish(cl);
	return NULL;
}

void control_wait_on_change(void *arg, const struct registry_change *c)
{
	struct control *ctl = arg;

	/* client_send never frees a client, so the list stays intact. */
	for (struct client *cl = ctl->clients; cl; cl = cl->next) {
		if (cl->finished || !cl->nw)
			continue;
		for (size_t i = 0; i < cl->nw; i++) {
			struct waiter *w = &cl->w[i];

			if (w->t != c->t)
				continue;
			if (c->ev == REG_REMOVED)
				waiter_gone(w);
			waiter_check(cl, w, false);
		}
		client_maybe_finish(cl);
	}
}

void control_wait_deadline(EV_P_ ev_timer *tm, int revents)
{
	struct client *cl = tm->data;

	(void)loop;
	(void)revents;
	/* Whatever has not settled is not up: it settles now, not ok. */
	for (size_t i = 0; i < cl->nw; i++)
		cl->w[i].settled = true;
	cl->unsettled = 0;
	client_maybe_finish(cl);
}

/* --timeout S (1..86400) at argv[i + 1]; -1 when it is not a number of seconds. */
static double wait_seconds(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v >= 1 && v <= 86400 ? (double)v : -1;
}

/*
 * wait [--timeout S] [TUNNEL...|--all]: no tunnel named means every one.
 * Reading only: any user of the socket may wait.
 */
json_t *control_cmd_wait(struct client *cl, int argc, char **argv)
{
	struct daemon *d = cl->ctl->d;
	bool all = false;
	size_t named = 0;

	cl->op = OP_WAIT;
	cl->wait_timeout = WAIT_DEFAULT_TIMEOUT;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--all") == 0)
			all = true;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc &&
		         wait_seconds(argv[i + 1]) > 0)
			cl->wait_timeout = wait_seconds(argv[++i]);
		else if (argv[i][0] == '-')
			return control_error(
			    "usage", "wait: bad option '%s' (--timeout 1..86400, --all)", argv[i]);
		else if (!registry_find(d->reg, argv[i]))
			return control_unknown_tunnel(d, argv[i]);
		else
			named++;
	}
	if (all && named)
		return control_error("usage", "wait: tunnel names or --all, not both");
	cl->w = calloc(named ? named : registry_count(d->reg) + 1, sizeof(*cl->w));
	if (!cl->w)
		fatalx("out of memory");
	cl->nw = 0;
	for (int i = 1; named && i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0)
			i++;
		else
			waiter_begin(&cl->w[cl->nw++], registry_find(d->reg, argv[i]));
	}
	if (!named)
		for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
			if (!t->removing)
				waiter_begin(&cl->w[cl->nw++], t);
	if (!cl->nw)
		return json_pack("{s:b, s:[]}", "ok", 1, "tunnels");
	ev_timer_stop(d->loop, &cl->idle);
	ev_timer_again(d->loop, &cl->tick);
	ev_timer_set(&cl->deadline, cl->wait_timeout, 0.);
	ev_timer_start(d->loop, &cl->deadline);
	cl->unsettled = cl->nw;
	for (size_t i = 0; i < cl->nw; i++)
		waiter_check(cl, &cl->w[i], false);
	client_maybe_finish(cl);
	return NULL;
}
