/*
 * aiccuctl monitor: a connection that asked for "monitor" stays open and
 * gets one JSON line per event (events.h) until aiccud stops.  At most
 * CONTROL_MONITORS_MAX of them; one that does not read is dropped once
 * CONTROL_MONITOR_BUF bytes wait for it, so the parent never blocks on a
 * subscriber and never holds more than that for one.
 */
#include "control_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "control_req.h"
#include "events.h"
#include "registry.h"

static const struct monitor_limits limits = {CONTROL_MONITORS_MAX, CONTROL_MONITORS_UID,
                                             CONTROL_MONITOR_BUF};

/* The line of an event, as every subscriber gets it (malloc'd, newline included). */
static char *event_line(const struct events_event *e, size_t *len)
{
	json_t *o = json_pack("{s:s, s:f}", "event", events_kind_name(e->kind), "time", e->time);
	char *text, *line;

	if (!o)
		fatalx("out of memory");
	if (e->tunnel[0])
		json_object_set_new(o, "tunnel", json_string(e->tunnel));
	if (e->kind == EVENTS_STATE) {
		json_object_set_new(o, "from", json_string(e->from));
		json_object_set_new(o, "state", json_string(e->to));
	}
	json_object_set_new(o, "text", json_string(e->text));
	json_object_set_new(o, "version", json_integer(CONTROL_VERSION));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text || asprintf(&line, "%s\n", text) < 0)
		fatalx("out of memory");
	free(text);
	*len = strlen(line);
	return line;
}

static void on_event(void *arg, const struct events_event *e)
{
	struct control *c = arg;
	struct client *cl, *next;
	char *line = NULL;
	size_t len = 0;

	for (cl = c->clients; cl; cl = next) {
		next = cl->next;
		if (!cl->monitor)
			continue;
		if (!line)
			line = event_line(e, &len);
		if (monitor_overflows(&limits, cl->outlen - cl->outoff, len)) {
			log_warnx("control: aiccuctl monitor of uid %d (pid %d) does not read its "
			          "events (%d KiB waiting); closed it",
			          (int)cl->cred.uid, (int)cl->cred.pid, CONTROL_MONITOR_BUF / 1024);
			control_drop(cl);
			continue;
		}
		control_queue_raw(cl, line, len);
	}
	free(line);
}

json_t *control_cmd_monitor(struct client *cl, int argc, char **argv)
{
	struct control *c = cl->ctl;
	struct events_event hello = {.kind = EVENTS_DAEMON};
	size_t len;
	char *line;

	unsigned of_uid = 0;
	int sndbuf = CONTROL_MONITOR_SNDBUF;

	(void)argc;
	(void)argv;
	for (const struct client *o = c->clients; o; o = o->next)
		of_uid += o->monitor && o->cred.uid == cl->cred.uid;
	switch (monitor_admit(&limits, c->nmonitors, of_uid, cl->cred.uid == 0)) {
	case MONITOR_REFUSE_FULL:
		return control_error("failed", "%u monitors are connected already (at most %d)",
		                     c->nmonitors, CONTROL_MONITORS_MAX);
	case MONITOR_REFUSE_UID:
		return control_error("failed",
		                     "uid %d has %u monitors connected already (at most %d each)",
		                     (int)cl->cred.uid, of_uid, CONTROL_MONITORS_UID);
	case MONITOR_OK:
		break;
	}
	/* What the kernel holds for a reader that stalls is bounded too. */
	if (setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)
		log_warn("control: SO_SNDBUF of a monitor");
	cl->monitor = true;
	c->nmonitors++;
	/* It waits for events, not for a reply: no idle limit, no final line. */
	ev_timer_stop(c->d->loop, &cl->idle);
	/* The first line says it is subscribed: what happens from now on is seen. */
	snprintf(hello.text, sizeof(hello.text), "monitoring aiccud %s: %zu tunnel(s), %zu up",
	         AICCUD_VERSION, registry_count(c->d->reg), registry_count_state(c->d->reg, TS_UP));
	hello.time = ev_time();
	line = event_line(&hello, &len);
	control_queue_raw(cl, line, len);
	free(line);
	return NULL;
}

void control_monitor_init(struct control *c)
{
	events_set_sink(on_event, c);
}

void control_monitor_close(struct control *c)
{
	(void)c;
	events_set_sink(NULL, NULL);
}
