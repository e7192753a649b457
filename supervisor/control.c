/*
 * Control socket server, on the parent's loop.  Each connection carries
 * one request line; the reply is one JSON line, preceded for start, stop
 * and restart by progress lines while the tunnels settle.  The protocol is
 * described in control.h and aiccuctl(8).
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ev.h>

#include "daemon.h"
#include "log.h"
#include "reload.h"
#include "workers.h"

#define CONTROL_LINE_MAX     512
#define CONTROL_IDLE         10.0 /* seconds to send the request line */
#define CONTROL_MAX_CONNS    64
#define CONTROL_ARGS_MAX     4
#define CONTROL_TICK         5.0         /* seconds between "still waiting" lines */
#define CONTROL_PROGRESS_MAX (64 * 1024) /* queued progress beyond this is dropped */
#define CONTROL_PEER_GROUPS  64          /* supplementary groups read without malloc */

enum change_op { OP_START, OP_STOP, OP_RESTART };

/* One tunnel a start/stop/restart request waits for. */
struct waiter {
	struct tunnel_rt *t; /* NULL once a reload removed it */
	char name[IFNAMSIZ];
	bool settled;
	bool ok;
	enum tunnel_state reported; /* last state sent as progress */
	char reported_reason[sizeof(((struct tunnel_rt *)0)->reason)];
};

struct client {
	struct control *ctl;
	struct client *next;
	int fd;
	ev_io rio, wio;
	ev_timer idle;
	char in[CONTROL_LINE_MAX];
	size_t inlen;
	bool have_request;
	char *out;
	size_t outlen, outoff, outcap;
	bool finished; /* the final line is queued: close once it is written */
	struct ucred cred;
	bool privileged; /* root or a member of control_group */
	/* start/stop/restart waiting for tunnels */
	enum change_op op;
	struct waiter *w;
	size_t nw;
	size_t unsettled; /* waiters not settled yet */
	ev_timer tick;    /* periodic progress while waiting */
};

struct control {
	struct daemon *d;
	int fd;
	int lock_fd;
	gid_t group;
	bool have_group;
	time_t started;
	ev_io accept_w;
	struct client *clients;
	unsigned nclients;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* ---- output queue ---- */

static void client_free(struct client *cl)
{
	struct control *c = cl->ctl;
	struct client **pp;

	for (pp = &c->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	c->nclients--;
	ev_io_stop(c->d->loop, &cl->rio);
	ev_io_stop(c->d->loop, &cl->wio);
	ev_timer_stop(c->d->loop, &cl->idle);
	ev_timer_stop(c->d->loop, &cl->tick);
	close(cl->fd);
	free(cl->out);
	free(cl->w);
	free(cl);
}

/*
 * Queue one JSON line (takes the reference).  final: the line carrying
 * "ok" that ends the reply.  Progress lines are dropped, not queued, when
 * a slow reader already has CONTROL_PROGRESS_MAX bytes pending.
 */
static void client_send(struct client *cl, json_t *line, bool final)
{
	struct control *c = cl->ctl;
	char *text;
	size_t len;

	if (cl->finished) {
		json_decref(line);
		return;
	}
	json_object_set_new(line, "version", json_integer(CONTROL_VERSION));
	text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (!text)
		fatalx("out of memory");
	len = strlen(text);
	if (!final && cl->outlen - cl->outoff + len > CONTROL_PROGRESS_MAX) {
		free(text);
		return;
	}
	if (cl->outlen + len + 1 > cl->outcap) {
		size_t cap = cl->outlen + len + 1 + 1024;
		char *p = realloc(cl->out, cap);

		if (!p)
			fatalx("out of memory");
		cl->out = p;
		cl->outcap = cap;
	}
	memcpy(cl->out + cl->outlen, text, len);
	cl->out[cl->outlen + len] = '\n';
	cl->outlen += len + 1;
	free(text);
	if (final) {
		cl->finished = true;
		ev_timer_stop(c->d->loop, &cl->tick);
		/* A reader that stalls on the final line is dropped after the idle time. */
		ev_timer_again(c->d->loop, &cl->idle);
	}
	ev_io_start(c->d->loop, &cl->wio);
}

static json_t *reply_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static json_t *reply_error(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "error", msg);
}

static json_t *reply_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* ---- JSON views of the daemon's state ---- */

static json_t *counters_json(const struct tunnel_counters *k)
{
	json_t *drops = json_object();

	for (int i = 0; i < DROP_REASON_COUNT; i++)
		json_object_set_new(drops, drop_reason_name(i),
		                    json_integer((json_int_t)k->drops[i]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "tx_packets",
	                 (json_int_t)k->tx_packets, "tx_bytes", (json_int_t)k->tx_bytes,
	                 "rx_packets", (json_int_t)k->rx_packets, "rx_bytes",
	                 (json_int_t)k->rx_bytes, "keepalives", (json_int_t)k->keepalives,
	                 "last_keepalive", (json_int_t)k->last_keepalive, "drops", drops);
}

/* Restarts, back-off and route repairs (workers.c, heal.c). */
static void supervision_json(json_t *o, const struct tunnel_rt *t)
{
	const struct tunnel_conf *tc = &t->entry.conf;

	json_object_set_new(o, "previous_state", json_string(tunnel_state_name(t->prev_state)));
	json_object_set_new(o, "restarts", json_integer(t->restarts));
	json_object_set_new(o, "failures_in_a_row", json_integer(t->backoff.streak));
	if (t->last_exit[0])
		json_object_set_new(o, "last_exit", json_string(t->last_exit));
	if (t->state == TS_BACKOFF) {
		json_object_set_new(o, "next_start_at", json_integer((json_int_t)t->next_start_at));
		json_object_set_new(o, "next_start_in_s", json_real(t->next_start_s));
	}
	json_object_set_new(o, "repairs", json_integer(t->repairs));
	if (t->repairs)
		json_object_set_new(o, "last_repair",
		                    json_pack("{s:s, s:I, s:f}", "what", t->last_repair, "at",
		                              (json_int_t)t->last_repair_at, "ms",
		                              t->last_repair_ms));
	json_object_set_new(o, "liveness",
	                    json_string(tc->liveness == LIVENESS_ICMP ? "icmp" : "none"));
	json_object_set_new(o, "liveness_misses", json_integer(tc->liveness_misses));
}

json_t *control_tunnel_json(const struct tunnel_rt *t)
{
	const struct tunnel_conf *tc = &t->entry.conf;
	char local[INET6_ADDRSTRLEN], pop[INET6_ADDRSTRLEN], pop4[INET_ADDRSTRLEN];
	json_t *o;

	inet_ntop(AF_INET6, &tc->params.ipv6_local, local, sizeof(local));
	inet_ntop(AF_INET6, &tc->params.ipv6_pop, pop, sizeof(pop));
	inet_ntop(AF_INET, &tc->params.ipv4_pop, pop4, sizeof(pop4));
	o = json_pack(
	    "{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:s, s:s, s:i, s:I, s:I, s:I}", "name",
	    tc->name, "id", tc->id, "file", tc->file, "state", tunnel_state_name(t->state), "since",
	    (json_int_t)t->since, "reason", t->reason, "interface", tc->name, "ifindex", t->ifindex,
	    "type", tc->params.type ? tunnel_type_name(tc->params.type) : "", "datapath",
	    tunnel_datapath_name(tc->datapath), "pid", (int)t->pid, "table", (json_int_t)tc->table,
	    "rule_priority", (json_int_t)tc->rule_priority, "mtu", (json_int_t)tunnel_mtu(tc));
	if (!o)
		fatalx("out of memory");
	json_object_set_new(o, "tic", json_boolean(tc->tic));
	if (t->entry.valid && (!tc->tic || tc->params.type)) {
		json_object_set_new(o, "local",
		                    json_sprintf("%s/%u", local, tc->params.prefix_len));
		json_object_set_new(o, "pop", json_string(pop));
		json_object_set_new(o, "pop_ipv4", json_string(pop4));
	}
	if (t->counters.datapath)
		json_object_set_new(o, "datapath_in_use",
		                    json_string(tunnel_datapath_name(t->counters.datapath)));
	if (t->counters.local_ipv4.s_addr) {
		char me4[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &t->counters.local_ipv4, me4, sizeof(me4));
		json_object_set_new(o, "local_ipv4", json_string(me4));
	}
	/* The PoP has sent us something: it accepts our heartbeats / keep-alives. */
	json_object_set_new(o, "confirmed", json_boolean(t->counters.rx_packets > 0));
	json_object_set_new(o, "routing", json_boolean(t->policy_installed));
	json_object_set_new(o, "starts", json_integer(t->starts));
	if (t->up_latency >= 0 && t->state == TS_UP)
		json_object_set_new(o, "up_latency_ms", json_real(t->up_latency * 1000.0));
	json_object_set_new(o, "counters", counters_json(&t->counters));
	supervision_json(o, t);
	return o;
}

/* The TIC limiter: tokens left, when the next connection is allowed. */
json_t *control_limiter_json(const struct daemon *d)
{
	struct limiter_now now;
	struct limiter_status st;
	json_t *o;

	limiter_now_read(&now);
	limiter_status(&d->limiter, &now, &st);
	o = json_pack("{s:i, s:i, s:i, s:f, s:f, s:b, s:I, s:I}", "burst", (int)st.burst, "refill",
	              (int)st.refill, "tokens", (int)st.tokens, "next_grant_s", st.next_grant_s,
	              "next_token_s", st.next_token_s, "penalty", st.penalty_active, "grants",
	              (json_int_t)st.grants, "last_grant",
	              (json_int_t)(st.last_grant_wall_ms / 1000));
	if (!o)
		fatalx("out of memory");
	if (st.penalty_active)
		json_object_set_new(o, "penalty_until",
		                    json_integer((json_int_t)(st.penalty_until_wall_ms / 1000)));
	json_object_set_new(o, "state_file", json_string(d->limiter_path));
	json_object_set_new(o, "fetcher_pid", json_integer(d->fetch.pid));
	return o;
}

static json_t *daemon_json(const struct control *c)
{
	const struct daemon *d = c->d;

	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:I, s:i}", "aiccud", AICCUD_VERSION,
	                      "pid", (int)getpid(), "config", d->cfg.file, "control_socket",
	                      c->path, "started", (json_int_t)c->started, "tunnels",
	                      (json_int_t)registry_count(d->reg), "reloads", (int)d->reloads);

	if (o && d->last_reload_at)
		json_object_set_new(o, "last_reload",
		                    json_pack("{s:I, s:s}", "at", (json_int_t)d->last_reload_at,
		                              "result", d->last_reload_msg));
	return o;
}

/* ---- read-only commands ---- */

static json_t *cmd_version(struct client *cl, int argc, char **argv)
{
	json_t *r = reply_ok();

	(void)argc;
	(void)argv;
	json_object_set_new(r, "daemon", daemon_json(cl->ctl));
	return r;
}

static json_t *cmd_limiter(struct client *cl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return json_pack("{s:b, s:o}", "ok", 1, "limiter", control_limiter_json(cl->ctl->d));
}

static json_t *unknown_tunnel(const struct daemon *d, const char *name)
{
	char names[256] = "";
	size_t off = 0;

	for (const struct tunnel_rt *t = registry_first(d->reg); t && off < sizeof(names);
	     t = registry_next(t))
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", off ? ", " : "",
		                        t->entry.conf.name);
	if (!registry_count(d->reg))
		return reply_error("unknown_tunnel",
		                   "no tunnel named '%s': no tunnel is configured (%s)", name,
		                   d->cfg.conf_dir);
	return reply_error("unknown_tunnel", "no tunnel named '%s' (configured: %s)", name, names);
}

static json_t *cmd_status(struct client *cl, int argc, char **argv)
{
	struct daemon *d = cl->ctl->d;
	json_t *list = json_array();

	if (argc == 2) {
		struct tunnel_rt *t = registry_find(d->reg, argv[1]);

		if (!t) {
			json_decref(list);
			return unknown_tunnel(d, argv[1]);
		}
		json_array_append_new(list, control_tunnel_json(t));
	} else {
		for (const struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
			json_array_append_new(list, control_tunnel_json(t));
	}
	return json_pack("{s:b, s:o, s:o, s:o}", "ok", 1, "daemon", daemon_json(cl->ctl), "tunnels",
	                 list, "limiter", control_limiter_json(d));
}

/*
 * Parse the configuration file again into a fresh struct, exactly as a
 * start or reload would, and report every message; nothing is applied.
 */
static json_t *cmd_check_config(struct client *cl, int argc, char **argv)
{
	struct daemon *d = cl->ctl->d;
	struct config cfg;
	struct config_diag diag = {0};
	json_t *msgs = json_array(), *tunnels = json_array(), *r;
	size_t bad = 0;
	int rc;

	(void)argc;
	(void)argv;
	memset(&cfg, 0, sizeof(cfg));
	rc = config_load(&cfg, d->cfg.file, &diag);
	for (size_t i = 0; i < diag.count; i++)
		json_array_append_new(msgs, json_string(diag.msgs[i]));
	for (size_t i = 0; rc == 0 && i < cfg.ntunnels; i++) {
		const struct tunnel_entry *te = &cfg.tunnels[i];

		if (!te->valid)
			bad++;
		json_array_append_new(tunnels,
		                      json_pack("{s:s, s:s, s:b, s:s}", "name", te->conf.name,
		                                "file", te->conf.file, "valid", te->valid, "error",
		                                te->valid ? "" : te->error));
	}
	if (rc < 0)
		r = reply_error("config", "%s is not usable: aiccud would not start with it",
		                d->cfg.file);
	else if (bad)
		r = reply_error("config", "%zu of %zu tunnel file(s) in %s would not load", bad,
		                cfg.ntunnels, cfg.conf_dir);
	else if (diag.count)
		r = reply_error("config", "%s has %zu problem(s)", d->cfg.file, diag.count);
	else
		r = reply_ok();
	json_object_set_new(r, "file", json_string(d->cfg.file));
	json_object_set_new(r, "messages", msgs);
	json_object_set_new(r, "tunnels", tunnels);
	config_diag_free(&diag);
	config_free(&cfg);
	return r;
}

/* ---- reload ---- */

static json_t *cmd_reload(struct client *cl, int argc, char **argv)
{
	char msg[1024] = "";
	int err;

	(void)argc;
	(void)argv;
	err = daemon_reload(cl->ctl->d, msg, sizeof(msg));
	if (err < 0)
		return reply_error(
		    "config", "reload refused, still running on the previous configuration: %s",
		    msg[0] ? msg : strerror(-err));
	return json_pack("{s:b, s:s}", "ok", 1, "message", msg);
}

/* ---- start, stop, restart ---- */

static bool settled_state(enum change_op op, const struct tunnel_rt *t, bool *ok)
{
	switch (op) {
	case OP_STOP:
		*ok = !tunnel_running(t) && (t->state == TS_STOPPED || t->state == TS_FAILED);
		return *ok;
	case OP_START:
	case OP_RESTART:
		/* Stopped or failed with a start promised (restart): not yet. */
		if (tunnel_start_pending(t) || t->next_entry)
			return *ok = false;
		*ok = t->state == TS_UP;
		return t->state == TS_UP || t->state == TS_FAILED || t->state == TS_STOPPED;
	}
	return false;
}

static void send_progress(struct client *cl, struct waiter *w, const struct tunnel_rt *t)
{
	char text[512];

	snprintf(text, sizeof(text), "%s: %s%s%s", t->entry.conf.name, tunnel_state_name(t->state),
	         t->reason[0] ? ": " : "", t->reason);
	w->reported = t->state;
	snprintf(w->reported_reason, sizeof(w->reported_reason), "%s", t->reason);
	client_send(cl,
	            json_pack("{s:s, s:s, s:s}", "progress", text, "tunnel", t->entry.conf.name,
	                      "state", tunnel_state_name(t->state)),
	            false);
}

/* A TIC tunnel waiting for a limiter token: say when the next one is due. */
static void send_token_wait(struct client *cl, const struct tunnel_rt *t)
{
	struct limiter_now now;
	struct limiter_status st;
	char text[256];

	limiter_now_read(&now);
	limiter_status(&cl->ctl->d->limiter, &now, &st);
	if (st.penalty_active)
		snprintf(text, sizeof(text),
		         "%s: waiting: the TIC server refused us; no connection for %.0f s",
		         t->entry.conf.name, st.next_grant_s);
	else if (cl->ctl->d->fetch.pid > 0)
		snprintf(text, sizeof(text), "%s: waiting: another TIC fetch is under way",
		         t->entry.conf.name);
	else
		snprintf(text, sizeof(text),
		         "%s: waiting for a TIC connection token (next in %.0f s)",
		         t->entry.conf.name, st.next_grant_s);
	client_send(cl,
	            json_pack("{s:s, s:s, s:s, s:f}", "progress", text, "tunnel",
	                      t->entry.conf.name, "state", "waiting", "next_token_s",
	                      st.next_grant_s),
	            false);
}

/* Every waited-for tunnel settled: send the final line. */
static void client_finish_change(struct client *cl)
{
	struct daemon *d = cl->ctl->d;
	json_t *list = json_array(), *r;
	char failed[768] = "";
	size_t off = 0, nfailed = 0;

	(void)d;
	for (size_t i = 0; i < cl->nw; i++) {
		struct tunnel_rt *t = cl->w[i].t;

		if (t)
			json_array_append_new(list, control_tunnel_json(t));
		if (cl->w[i].ok)
			continue;
		nfailed++;
		if (off < sizeof(failed))
			off += (size_t)snprintf(failed + off, sizeof(failed) - off, "%s%s: %s",
			                        off ? "; " : "", cl->w[i].name,
			                        !t                  ? "removed by a reload"
			                        : t->state == TS_UP ? "still up"
			                        : t->reason[0]      ? t->reason
			                                            : tunnel_state_name(t->state));
	}
	if (nfailed)
		r = reply_error("failed", "%s", failed);
	else
		r = reply_ok();
	if (cl->nw == 1 && json_array_size(list) == 1)
		json_object_set(r, "tunnel", json_array_get(list, 0));
	json_object_set_new(r, "tunnels", list);
	client_send(cl, r, true);
}

/* Progress for w's tunnel if it changed, and whether it has settled now. */
static void waiter_check(struct client *cl, struct waiter *w, bool tick)
{
	struct tunnel_rt *t = w->t;

	if (w->settled)
		return;
	if (!t) {
		/* Removed by a reload: that is a stop, and no start. */
		w->settled = true;
		w->ok = cl->op == OP_STOP;
	} else {
		if (t->state != w->reported || strcmp(t->reason, w->reported_reason) != 0)
			send_progress(cl, w, t);
		else if (tick && t->state == TS_WAITING)
			send_token_wait(cl, t);
		w->settled = settled_state(cl->op, t, &w->ok);
	}
	if (w->settled)
		cl->unsettled--;
}

static void client_maybe_finish(struct client *cl)
{
	if (!cl->finished && cl->nw && !cl->unsettled)
		client_finish_change(cl);
}

static void on_tick(EV_P_ ev_timer *tm, int revents)
{
	struct client *cl = tm->data;

	(void)loop;
	(void)revents;
	for (size_t i = 0; i < cl->nw; i++)
		waiter_check(cl, &cl->w[i], true);
	client_maybe_finish(cl);
}

static bool may_change(const struct client *cl)
{
	return cl->privileged;
}

/* Begin the operation on t and fill in its waiter w. */
static void change_begin(struct client *cl, struct tunnel_rt *t, struct waiter *w)
{
	w->t = t;
	snprintf(w->name, sizeof(w->name), "%s", t->entry.conf.name);
	w->reported = t->state;
	snprintf(w->reported_reason, sizeof(w->reported_reason), "%s", t->reason);
	switch (cl->op) {
	case OP_START:
		tunnel_start(t);
		break;
	case OP_STOP:
		tunnel_stop(t);
		break;
	case OP_RESTART:
		tunnel_restart(t);
		break;
	}
}

static json_t *cmd_change(struct client *cl, int argc, char **argv)
{
	struct daemon *d = cl->ctl->d;
	const char *target = NULL;
	bool wait = true, all = false;

	cl->op = strcmp(argv[0], "start") == 0  ? OP_START
	         : strcmp(argv[0], "stop") == 0 ? OP_STOP
	                                        : OP_RESTART;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-wait") == 0)
			wait = false;
		else if (strcmp(argv[i], "--all") == 0)
			all = true;
		else if (argv[i][0] == '-')
			return reply_error("usage", "'%s': unknown option '%s' (--no-wait, --all)",
			                   argv[0], argv[i]);
		else if (target)
			return reply_error("usage", "'%s' takes one tunnel name", argv[0]);
		else
			target = argv[i];
	}
	if (!target == !all)
		return reply_error("usage", "'%s' needs a tunnel name or --all", argv[0]);
	if (target && !registry_find(d->reg, target))
		return unknown_tunnel(d, target);
	log_info("control: %s %s (uid %d, pid %d)", argv[0], all ? "--all" : target,
	         (int)cl->cred.uid, (int)cl->cred.pid);
	cl->nw = all ? registry_count(d->reg) : 1;
	cl->w = calloc(cl->nw ? cl->nw : 1, sizeof(*cl->w));
	if (!cl->w)
		fatalx("out of memory");
	if (all) {
		size_t i = 0;

		/* Tunnels on their way out of the configuration are not started or waited for. */
		for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
			if (!t->removing)
				change_begin(cl, t, &cl->w[i++]);
		cl->nw = i;
	} else {
		change_begin(cl, registry_find(d->reg, target), &cl->w[0]);
	}
	if (!wait) {
		json_t *list = json_array(), *r = reply_ok();

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
	/* Progress and settling come with the registry's events (control_on_change). */
	cl->unsettled = cl->nw;
	for (size_t i = 0; i < cl->nw; i++)
		waiter_check(cl, &cl->w[i], false);
	client_maybe_finish(cl);
	return NULL;
}

/* ---- dispatch ---- */

struct command {
	const char *name;
	bool mutating;
	int min_args, max_args; /* words after the command */
	json_t *(*run)(struct client *cl, int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
    {"version", false, 0, 0, cmd_version, "version"},
    {"status", false, 0, 1, cmd_status, "status [TUNNEL]"},
    {"limiter", false, 0, 0, cmd_limiter, "limiter"},
    {"check-config", false, 0, 0, cmd_check_config, "check-config"},
    {"reload", true, 0, 0, cmd_reload, "reload"},
    {"start", true, 1, 2, cmd_change, "start [--no-wait] TUNNEL|--all"},
    {"stop", true, 1, 2, cmd_change, "stop [--no-wait] TUNNEL|--all"},
    {"restart", true, 1, 2, cmd_change, "restart [--no-wait] TUNNEL|--all"},
};

static json_t *dispatch(struct client *cl, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *k = &commands[i];

		if (strcmp(argv[0], k->name) != 0)
			continue;
		if (argc - 1 < k->min_args || argc - 1 > k->max_args)
			return reply_error("usage", "usage: %s", k->usage);
		if (k->mutating && !may_change(cl)) {
			log_warnx("control: refused '%s' from uid %d gid %d (pid %d): not root "
			          "and not in control group%s%s",
			          k->name, (int)cl->cred.uid, (int)cl->cred.gid, (int)cl->cred.pid,
			          cl->ctl->have_group ? " " : "",
			          cl->ctl->have_group ? cl->ctl->d->cfg.control_group
			                              : " (none set)");
			return reply_error("permission",
			                   "'%s' needs root or membership of the control group%s%s "
			                   "(control_group in %s)",
			                   k->name, cl->ctl->have_group ? " " : "",
			                   cl->ctl->have_group ? cl->ctl->d->cfg.control_group
			                                       : " (none is configured)",
			                   cl->ctl->d->cfg.file);
		}
		return k->run(cl, argc, argv);
	}
	return reply_error("usage",
	                   "unknown command '%s' (commands: version, status, limiter, "
	                   "check-config, reload, start, stop, restart)",
	                   argv[0]);
}

static void client_request(struct client *cl)
{
	char *argv[CONTROL_ARGS_MAX + 1], *save = NULL, *word;
	int argc = 0;
	json_t *reply;

	for (word = strtok_r(cl->in, " \t\r", &save); word; word = strtok_r(NULL, " \t\r", &save)) {
		if (argc == CONTROL_ARGS_MAX) {
			client_send(cl, reply_error("usage", "too many words in the request"),
			            true);
			return;
		}
		argv[argc++] = word;
	}
	argv[argc] = NULL;
	reply = argc ? dispatch(cl, argc, argv) : reply_error("usage", "empty request");
	if (reply)
		client_send(cl, reply, true);
}

/* Reading: the request line; after it, anything more is discarded. */
static void on_client_read(EV_P_ ev_io *io, int revents)
{
	struct client *cl = io->data;
	char discard[256];
	ssize_t n;
	char *nl;

	(void)revents;
	if (cl->have_request) {
		/*
		 * EOF here may be a half-close (the client shut down its
		 * sending side and still reads): stop reading and keep going.
		 * A client that is really gone fails the next write (progress
		 * comes at least every CONTROL_TICK seconds while waiting).
		 */
		n = read(cl->fd, discard, sizeof(discard));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			ev_io_stop(EV_A_ io);
		return;
	}
	n = read(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - 1 - cl->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	cl->inlen += (size_t)n;
	cl->in[cl->inlen] = '\0';
	nl = strchr(cl->in, '\n');
	if (nl) {
		*nl = '\0';
		cl->have_request = true;
		client_request(cl);
	} else if (cl->inlen == sizeof(cl->in) - 1) {
		cl->have_request = true;
		client_send(
		    cl, reply_error("usage", "request longer than %d bytes", CONTROL_LINE_MAX - 1),
		    true);
	}
	(void)loop;
}

static void on_client_write(EV_P_ ev_io *io, int revents)
{
	struct client *cl = io->data;
	ssize_t n;

	(void)revents;
	n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	cl->outoff += (size_t)n;
	if (cl->outoff < cl->outlen)
		return;
	if (cl->finished) {
		client_free(cl);
		return;
	}
	cl->outoff = cl->outlen = 0;
	ev_io_stop(EV_A_ io);
}

static void on_client_idle(EV_P_ ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	client_free(t->data);
}

/* ---- access ---- */

static bool peer_in_group(int fd, gid_t group)
{
	gid_t small[CONTROL_PEER_GROUPS], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE)
			return false;
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == group)
			found = true;
	if (groups != small)
		free(groups);
	return found;
}

static void client_identify(struct client *cl)
{
	struct control *c = cl->ctl;
	socklen_t len = sizeof(cl->cred); /* set before the call: in and out */

	if (getsockopt(cl->fd, SOL_SOCKET, SO_PEERCRED, &cl->cred, &len) < 0 ||
	    len != sizeof(cl->cred)) {
		cl->cred.uid = (uid_t)-1; /* unknown peer: read-only */
		cl->cred.gid = (gid_t)-1;
		return;
	}
	cl->privileged =
	    cl->cred.uid == 0 ||
	    (c->have_group && (cl->cred.gid == c->group || peer_in_group(cl->fd, c->group)));
}

static void on_accept(EV_P_ ev_io *io, int revents)
{
	struct control *c = io->data;
	struct client *cl;
	int fd;

	(void)revents;
	fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (c->nclients >= CONTROL_MAX_CONNS) {
		log_warnx("control: %u connections open; refusing another", c->nclients);
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		fatalx("out of memory");
	cl->ctl = c;
	cl->fd = fd;
	client_identify(cl);
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	ev_io_init(&cl->rio, on_client_read, fd, EV_READ);
	ev_io_init(&cl->wio, on_client_write, fd, EV_WRITE);
	ev_init(&cl->idle, on_client_idle);
	cl->idle.repeat = CONTROL_IDLE;
	ev_init(&cl->tick, on_tick);
	cl->tick.repeat = CONTROL_TICK;
	cl->rio.data = cl->wio.data = cl->idle.data = cl->tick.data = cl;
	ev_io_start(EV_A_ & cl->rio);
	ev_timer_again(EV_A_ & cl->idle);
}

/* Registry events: the waiters of the tunnel that changed look again. */
static void control_on_change(void *arg, const struct registry_change *c)
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
				w->t = NULL;
			waiter_check(cl, w, false);
		}
		client_maybe_finish(cl);
	}
}

/* ---- socket set-up ---- */

static int take_lock(struct control *c, char *msg, size_t msglen)
{
	char lock[sizeof(c->path) + 8];

	snprintf(lock, sizeof(lock), "%s.lock", c->path);
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		int err = errno;

		snprintf(msg, msglen, "%s: %s", lock, strerror(err));
		return -err;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		snprintf(msg, msglen, "another aiccud is running on control socket %s", c->path);
		close(c->lock_fd);
		c->lock_fd = -1;
		return err == EWOULDBLOCK ? -EADDRINUSE : -err;
	}
	return 0;
}

static int bind_socket(struct control *c, char *msg, size_t msglen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *step = "socket";
	int err;

	memcpy(sun.sun_path, c->path, sizeof(sun.sun_path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	/* We hold the lock, so a socket file left here is stale. */
	unlink(c->path);
	step = "bind";
	if (bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	step = "chmod 0660";
	if (chmod(c->path, 0660) < 0)
		goto fail;
	step = "chown to the control group";
	if (c->have_group && chown(c->path, 0, c->group) < 0)
		goto fail;
	step = "listen";
	if (listen(c->fd, 16) < 0)
		goto fail;
	return 0;
fail:
	err = errno;
	snprintf(msg, msglen, "control socket %s: %s: %s", c->path, step, strerror(err));
	return -err;
}

/*
 * The socket's directory: created 0750 (root:control_group) when missing.
 * An existing directory is adopted (group set to control_group, g+rx)
 * only when it is clearly aiccud's own: named "aiccud", owned by root and
 * closed to others (as dist/aiccud.tmpfiles creates /run/aiccud).  Any
 * other directory is left alone, and a warning says when the group
 * cannot reach the socket through it.
 */
static void socket_dir(struct control *c)
{
	char dir[sizeof(c->path)];
	struct stat st;
	char *base;

	memcpy(dir, c->path, sizeof(dir));
	base = strrchr(dir, '/');
	if (!base || base == dir)
		return;
	*base = '\0';
	if (mkdir(dir, 0750) == 0) {
		if (c->have_group && chown(dir, 0, c->group) < 0)
			log_warn("control: chown %s to group %s", dir, c->d->cfg.control_group);
		return;
	}
	if (!c->have_group || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	base = strrchr(dir, '/');
	if (strcmp(base + 1, "aiccud") == 0 && st.st_uid == 0 && !(st.st_mode & 0007)) {
		if (chown(dir, 0, c->group) < 0 || chmod(dir, (st.st_mode & 07777) | 0050) < 0)
			log_warn("control: giving group %s access to %s", c->d->cfg.control_group,
			         dir);
	} else if (st.st_gid != c->group && !(st.st_mode & 0001))
		log_warnx("control: members of %s may not reach %s: its directory %s is not "
		          "open to them",
		          c->d->cfg.control_group, c->path, dir);
}

int control_open(struct daemon *d, struct control **out, char *msg, size_t msglen)
{
	const char *path = d->cfg.control_socket;
	struct control *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->d = d;
	c->fd = c->lock_fd = -1;
	c->started = time(NULL);
	if (strlen(path) >= sizeof(c->path)) {
		snprintf(msg, msglen, "control socket path too long (%zu bytes, at most %zu): %s",
		         strlen(path), sizeof(c->path) - 1, path);
		free(c);
		return -ENAMETOOLONG;
	}
	memcpy(c->path, path, strlen(path) + 1);
	if (d->cfg.control_group[0]) {
		struct group *g = getgrnam(d->cfg.control_group);

		if (g) {
			c->group = g->gr_gid;
			c->have_group = true;
		} else
			log_warnx(
			    "control group '%s' (%s) does not exist; aiccuctl is for root only",
			    d->cfg.control_group, d->cfg.file);
	}
	socket_dir(c);
	err = take_lock(c, msg, msglen);
	if (!err)
		err = bind_socket(c, msg, msglen);
	if (err) {
		control_close(c);
		return err;
	}
	err = registry_subscribe(d->reg, control_on_change, c);
	if (err < 0) {
		control_close(c);
		return err;
	}
	ev_io_init(&c->accept_w, on_accept, c->fd, EV_READ);
	c->accept_w.data = c;
	ev_io_start(d->loop, &c->accept_w);
	*out = c;
	return 0;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	registry_unsubscribe(c->d->reg, control_on_change, c);
	while (c->clients)
		client_free(c->clients);
	if (c->fd >= 0) {
		ev_io_stop(c->d->loop, &c->accept_w);
		close(c->fd);
		unlink(c->path);
	}
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c);
}
