/* Events for aiccuctl monitor (events.h). */
#include "events.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const kind_names[EVENTS_KIND_COUNT] = {
    [EVENTS_STATE] = "state",   [EVENTS_REPAIR] = "repair", [EVENTS_LIMITER] = "limiter",
    [EVENTS_POP] = "pop",       [EVENTS_RELOAD] = "reload", [EVENTS_ENDPOINT] = "endpoint",
    [EVENTS_DAEMON] = "daemon",
};

/* One sink for the one loop of the parent: set once by the control code. */
static events_sink_fn *sink_fn;
static void *sink_arg;

void events_set_sink(events_sink_fn *fn, void *arg)
{
	sink_fn = fn;
	sink_arg = arg;
}

bool events_wanted(void)
{
	return sink_fn != NULL;
}

const char *events_kind_name(enum events_kind kind)
{
	return (unsigned)kind < EVENTS_KIND_COUNT ? kind_names[kind] : NULL;
}

int events_kind_find(const char *name)
{
	for (int k = 0; name && k < EVENTS_KIND_COUNT; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return -1;
}

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, EVENTS_NAME_MAX, "%s", src ? src : "");
}

/* The text, cut with "..." when it does not fit. */
static void set_text(struct events_event *e, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void set_text(struct events_event *e, const char *fmt, va_list ap)
{
	int n = vsnprintf(e->text, sizeof(e->text), fmt, ap);

	if (n >= (int)sizeof(e->text))
		memcpy(e->text + sizeof(e->text) - 4, "...", 4);
}

static void deliver(struct events_event *e)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	e->time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	sink_fn(sink_arg, e);
}

void events_publish(enum events_kind kind, const char *tunnel, const char *fmt, ...)
{
	struct events_event e = {.kind = kind};
	va_list ap;

	if (!sink_fn || (unsigned)kind >= EVENTS_KIND_COUNT)
		return;
	copy_name(e.tunnel, tunnel);
	va_start(ap, fmt);
	set_text(&e, fmt, ap);
	va_end(ap);
	deliver(&e);
}

void events_publish_state(const char *tunnel, const char *from, const char *to, const char *fmt,
                          ...)
{
	struct events_event e = {.kind = EVENTS_STATE};
	va_list ap;

	if (!sink_fn)
		return;
	copy_name(e.tunnel, tunnel);
	copy_name(e.from, from);
	copy_name(e.to, to);
	va_start(ap, fmt);
	set_text(&e, fmt, ap);
	va_end(ap);
	deliver(&e);
}

int events_format(const struct events_event *e, char *out, size_t len)
{
	const char *kind = events_kind_name(e->kind);
	time_t sec = (time_t)e->time;
	int ms = (int)((e->time - (double)sec) * 1000.0);
	struct tm tm;
	char clock[16] = "--:--:--";

	if (ms < 0 || ms > 999)
		ms = 0;
	if (localtime_r(&sec, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (e->kind == EVENTS_STATE)
		return snprintf(out, len, "%s.%03d %s %s: %s -> %s%s%s", clock, ms, kind, e->tunnel,
		                e->from[0] ? e->from : "?", e->to[0] ? e->to : "?",
		                e->text[0] ? ": " : "", e->text);
	return snprintf(out, len, "%s.%03d %s%s%s: %s", clock, ms, kind ? kind : "?",
	                e->tunnel[0] ? " " : "", e->tunnel, e->text);
}
