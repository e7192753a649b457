/*
 * Events for aiccuctl monitor: the places that log a state change, a
 * repair, a limiter grant or wait, a silent PoP, a reload's outcome or an
 * endpoint update also publish it here, in one line.  This module knows
 * nothing of the control socket: the control code registers the one sink
 * that fans events out to its subscribers (control_monitor.c).  With no
 * sink, publishing costs a test of a pointer.  events_format (pure) makes
 * the human line; aiccuctl uses it on what it reads from the socket.
 */
#ifndef AICCUD_EVENTS_H
#define AICCUD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

enum events_kind {
	EVENTS_STATE,    /* a tunnel changed state: from, to, the reason */
	EVENTS_REPAIR,   /* something of a tunnel went missing and was restored (or not) */
	EVENTS_LIMITER,  /* the TIC limiter granted a connection or makes tunnels wait */
	EVENTS_POP,      /* the PoP went silent, or was heard again */
	EVENTS_RELOAD,   /* a reload's outcome, and what it did to each tunnel */
	EVENTS_ENDPOINT, /* an endpoint update told the broker our address */
	EVENTS_DAEMON,   /* the monitor started, aiccud stops */
	EVENTS_KIND_COUNT
};

#define EVENTS_NAME_MAX 64  /* a tunnel name (IFNAMSIZ fits) or a state name */
#define EVENTS_TEXT_MAX 512 /* longer texts are cut, ending in "..." */
#define EVENTS_LINE_MAX (EVENTS_TEXT_MAX + 3 * EVENTS_NAME_MAX + 64)

struct events_event {
	enum events_kind kind;
	double time;                  /* wall clock, seconds */
	char tunnel[EVENTS_NAME_MAX]; /* "" when the event is not about one tunnel */
	char from[EVENTS_NAME_MAX];   /* EVENTS_STATE: the state before, else "" */
	char to[EVENTS_NAME_MAX];     /* EVENTS_STATE: the new state, else "" */
	char text[EVENTS_TEXT_MAX];   /* what happened, or the reason of a state */
};

typedef void events_sink_fn(void *arg, const struct events_event *e);

/* The one receiver of events (NULL: none).  Called synchronously by events_publish. */
void events_set_sink(events_sink_fn *fn, void *arg);
/* Whether anyone listens (to skip building texts that nobody reads). */
bool events_wanted(void);

void events_publish(enum events_kind kind, const char *tunnel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void events_publish_state(const char *tunnel, const char *from, const char *to, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));

/* "state", "repair", ...; NULL for a kind out of range. */
const char *events_kind_name(enum events_kind kind);
/* The kind of that name; -1 when unknown. */
int events_kind_find(const char *name);
/*
 * Pure: the human line (no newline), e.g.
 *   "00:12:03.456 state sixxs0: starting -> up: heartbeat to 192.0.2.1"
 *   "00:12:04.001 repair sixxs0: rule from 2001:db8::2 lookup 100 ..."
 *   "00:12:09.100 reload: reloaded: 1 added, ..."
 * The clock is local time (localtime_r).  Returns the length it wanted, like snprintf.
 */
int events_format(const struct events_event *e, char *out, size_t len);

#endif
