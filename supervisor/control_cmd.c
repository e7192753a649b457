/* The control socket's commands that wait for nothing, or (status) briefly (control_int.h). */
#include "control_int.h"

#include <stdio.h>
#include <string.h>

#include "reload.h"
#include "workers.h"

/* ---- read-only commands ---- */

json_t *control_cmd_version(struct client *cl, int argc, char **argv)
{
	json_t *r = control_ok();

	(void)argc;
	(void)argv;
	json_object_set_new(r, "daemon", control_daemon_json(cl->ctl));
	return r;
}

json_t *control_cmd_limiter(struct client *cl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return json_pack("{s:b, s:o}", "ok", 1, "limiter", control_limiter_json(cl->ctl->d));
}

json_t *control_unknown_tunnel(const struct daemon *d, const char *name)
{
	char names[256] = "";
	size_t off = 0;

	for (const struct tunnel_rt *t = registry_first(d->reg); t && off < sizeof(names);
	     t = registry_next(t))
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", off ? ", " : "",
		                        t->entry.conf.name);
	if (!registry_count(d->reg))
		return control_error("unknown_tunnel",
		                     "no tunnel named '%s': no tunnel is configured (%s)", name,
		                     d->cfg.conf_dir);
	return control_error("unknown_tunnel", "no tunnel named '%s' (configured: %s)", name,
	                     names);
}

static json_t *status_reply(struct client *cl)
{
	struct daemon *d = cl->ctl->d;
	json_t *list = json_array();

	if (cl->status_name[0]) {
		struct tunnel_rt *t = registry_find(d->reg, cl->status_name);

		if (!t) { /* a reload took it away while we waited */
			json_decref(list);
			return control_unknown_tunnel(d, cl->status_name);
		}
		json_array_append_new(list, control_tunnel_json(t));
	} else {
		for (const struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
			json_array_append_new(list, control_tunnel_json(t));
	}
	return json_pack("{s:b, s:o, s:o, s:o}", "ok", 1, "daemon", control_daemon_json(cl->ctl),
	                 "tunnels", list, "limiter", control_limiter_json(d));
}

static bool status_settled(const struct client *cl)
{
	const struct registry *reg = cl->ctl->d->reg;

	if (cl->status_name[0]) {
		const struct tunnel_rt *t = registry_find(reg, cl->status_name);

		return !t || workers_counters_fresh(t);
	}
	for (const struct tunnel_rt *t = registry_first(reg); t; t = registry_next(t))
		if (!workers_counters_fresh(t))
			return false;
	return true;
}

static void status_finish(struct client *cl)
{
	ev_check_stop(cl->ctl->d->loop, &cl->fresh_w);
	ev_timer_stop(cl->ctl->d->loop, &cl->fresh_t);
	control_send(cl, status_reply(cl), true);
}

void control_status_check(EV_P_ ev_check *w, int revents)
{
	(void)revents;
	(void)loop;
	if (status_settled(w->data))
		status_finish(w->data);
}

/* A worker slow to answer (busy, or hung until the watchdog sees it) delays no one long. */
void control_status_late(EV_P_ ev_timer *tm, int revents)
{
	(void)revents;
	(void)loop;
	status_finish(tm->data);
}

/*
 * Workers report their counters once a second while they change: status
 * asks every up worker for them first and answers once all have answered
 * (or after STATUS_FRESH_WAIT), so what it shows is as of the request.
 * The loop goes on meanwhile.
 */
json_t *control_cmd_status(struct client *cl, int argc, char **argv)
{
	struct daemon *d = cl->ctl->d;
	bool asked = false;

	if (argc == 2) {
		struct tunnel_rt *t = registry_find(d->reg, argv[1]);

		if (!t)
			return control_unknown_tunnel(d, argv[1]);
		snprintf(cl->status_name, sizeof(cl->status_name), "%s", argv[1]);
		asked = workers_counters_ask(t);
	} else {
		for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
			asked |= workers_counters_ask(t);
	}
	if (!asked)
		return status_reply(cl);
	ev_check_start(d->loop, &cl->fresh_w);
	ev_timer_set(&cl->fresh_t, STATUS_FRESH_WAIT, 0.);
	ev_timer_start(d->loop, &cl->fresh_t);
	return NULL;
}

/*
 * Parse the configuration file again into a fresh struct, exactly as a
 * start or reload would, and report every message; nothing is applied.
 */
json_t *control_cmd_check_config(struct client *cl, int argc, char **argv)
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
		r = control_error("config", "%s is not usable: aiccud would not start with it",
		                  d->cfg.file);
	else if (bad)
		r = control_error("config", "%zu of %zu tunnel file(s) in %s would not load", bad,
		                  cfg.ntunnels, cfg.conf_dir);
	else if (diag.count)
		r = control_error("config", "%s has %zu problem(s)", d->cfg.file, diag.count);
	else
		r = control_ok();
	json_object_set_new(r, "file", json_string(d->cfg.file));
	json_object_set_new(r, "messages", msgs);
	json_object_set_new(r, "tunnels", tunnels);
	config_diag_free(&diag);
	config_free(&cfg);
	return r;
}

/* ---- reload ---- */

json_t *control_cmd_reload(struct client *cl, int argc, char **argv)
{
	char msg[1024] = "";
	int err;

	(void)argc;
	(void)argv;
	err = daemon_reload(cl->ctl->d, msg, sizeof(msg));
	if (err < 0)
		return control_error(
		    "config", "reload refused, still running on the previous configuration: %s",
		    msg[0] ? msg : strerror(-err));
	if (err > 0) {
		/* Applied, but not all of it: the exit status must say so (systemctl reload). */
		json_t *r = control_error("config", "reload incomplete: %s", msg);

		json_object_set_new(r, "message", json_string(msg));
		return r;
	}
	return json_pack("{s:b, s:s}", "ok", 1, "message", msg);
}

/* ---- log level ---- */

json_t *control_cmd_log_level(struct client *cl, int argc, char **argv)
{
	int old = log_level_get(), level;
	char by[64];

	if (argc < 2)
		return json_pack("{s:b, s:s}", "ok", 1, "level", log_level_name(old));
	level = log_level_parse(argv[1]);
	if (level < 0)
		return control_error("usage",
		                     "log-level: '%s' is not a level (debug, info, "
		                     "warning, error)",
		                     argv[1]);
	snprintf(by, sizeof(by), "control, uid %d, pid %d", (int)cl->cred.uid, (int)cl->cred.pid);
	log_level_change(level, by);
	return json_pack("{s:b, s:s, s:s}", "ok", 1, "level", log_level_name(level), "previous",
	                 log_level_name(old));
}
