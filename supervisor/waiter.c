/* The pure decisions of a waiting start, stop or restart (waiter.h). */
#include "waiter.h"

#include <stdio.h>
#include <string.h>

bool waiter_settled(enum change_op op, const struct tunnel_rt *t, bool *ok)
{
	bool idle = t->pid <= 0;

	switch (op) {
	case OP_STOP:
		*ok = idle && (t->state == TS_STOPPED || t->state == TS_FAILED);
		return *ok;
	case OP_REFRESH:
		if (t->refresh || t->refreshing)
			return *ok = false;
		if (t->refresh_result == REFRESH_RESTARTED) /* on the new parameters */
			return waiter_settled(OP_RESTART, t, ok);
		*ok = t->refresh_result == REFRESH_UNCHANGED || t->refresh_result == REFRESH_CACHED;
		return true;
	case OP_WAIT:
		*ok = t->state == TS_UP;
		return *ok;
	case OP_START:
	case OP_RESTART:
		/* Stopped with a start promised (after the worker's exit): not yet. */
		if (t->start_pending || t->next_entry)
			return *ok = false;
		*ok = t->state == TS_UP;
		return t->state == TS_UP || t->state == TS_FAILED || t->state == TS_STOPPED;
	}
	return *ok = false;
}

void waiter_begin(struct waiter *w, struct tunnel_rt *t)
{
	memset(w, 0, sizeof(*w));
	w->t = t;
	snprintf(w->name, sizeof(w->name), "%s", t->entry.conf.name);
	/* Before the operation: the first look reports what it changed. */
	w->reported = t->state;
	snprintf(w->reported_reason, sizeof(w->reported_reason), "%s", t->reason);
	snprintf(w->reported_refresh, sizeof(w->reported_refresh), "%s", t->refresh_msg);
}

void waiter_gone(struct waiter *w)
{
	w->t = NULL;
}

enum waiter_note waiter_update(struct waiter *w, enum change_op op, bool tick, bool *settled_now)
{
	const struct tunnel_rt *t = w->t;
	enum waiter_note note = WAITER_QUIET;

	*settled_now = false;
	if (w->settled)
		return WAITER_QUIET;
	if (!t) {
		/* Removed by a reload: that is a stop, and no start. */
		w->settled = *settled_now = true;
		w->ok = op == OP_STOP;
		return WAITER_QUIET;
	}
	if (op == OP_REFRESH && strcmp(t->refresh_msg, w->reported_refresh) != 0) {
		snprintf(w->reported_refresh, sizeof(w->reported_refresh), "%s", t->refresh_msg);
		note = WAITER_REFRESH;
	} else if (t->state != w->reported || strcmp(t->reason, w->reported_reason) != 0) {
		w->reported = t->state;
		snprintf(w->reported_reason, sizeof(w->reported_reason), "%s", t->reason);
		note = WAITER_PROGRESS;
	} else if (tick &&
	           (t->state == TS_WAITING || (op == OP_REFRESH && t->refresh && !t->refreshing))) {
		note = WAITER_TOKEN;
	}
	w->settled = *settled_now = waiter_settled(op, t, &w->ok);
	return note;
}
