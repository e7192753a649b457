/*
 * aiccuctl monitor: one line per event of aiccud (events.h) as it
 * happens, like ip monitor; --json prints each event's JSON object on
 * its line.  Ends with exit 0 when aiccud stops (its last event, or just
 * the end of the connection) or after -t seconds.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "ctl.h"
#include "events.h"

#define MONITOR_LINE_MAX (64 * 1024) /* an event line is far shorter */

static void copy_field(json_t *o, const char *key, char *dst, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	snprintf(dst, len, "%s", v ? v : "");
}

/* One event, for people: the line events_format makes in aiccud's own words. */
static void print_event(json_t *o)
{
	struct events_event e = {0};
	char line[EVENTS_LINE_MAX];
	int kind = events_kind_find(json_string_value(json_object_get(o, "event")));

	e.kind = kind < 0 ? EVENTS_KIND_COUNT : (enum events_kind)kind;
	e.time = json_number_value(json_object_get(o, "time"));
	copy_field(o, "tunnel", e.tunnel, sizeof(e.tunnel));
	copy_field(o, "from", e.from, sizeof(e.from));
	copy_field(o, "state", e.to, sizeof(e.to));
	copy_field(o, "text", e.text, sizeof(e.text));
	events_format(&e, line, sizeof(line));
	printf("%s\n", line);
}

/*
 * One line read from aiccud: 0 to go on, else 1 + the exit code (an
 * error reply ends the monitor, as does anything that is not JSON).
 */
static int take(const struct ctl *ctl, const char *text)
{
	json_error_t jerr;
	json_t *o = json_loads(text, 0, &jerr);
	int rc = 0;

	if (!o || !json_is_object(o)) {
		fprintf(stderr, "aiccuctl: unreadable line from aiccud: %s\n",
		        o ? "not a JSON object" : jerr.text);
		json_decref(o);
		return 1 + EX_PROTOCOL;
	}
	if (json_object_get(o, "ok")) {
		/* A refusal (permission, too many monitors), one line like the events. */
		rc = 1 + ctl_exit_for(o);
		if (ctl->json) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
		} else if (rc != 1 + EX_DONE)
			fprintf(stderr, "aiccuctl: %s\n", ctl_str(o, "error"));
	} else if (json_object_get(o, "event")) {
		if (ctl->json) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
		} else
			print_event(o);
		fflush(stdout);
	}
	json_decref(o);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read events until aiccud closes, an error line, or the deadline (0: none). */
static int follow(const struct ctl *ctl, int fd, long long deadline)
{
	static char buf[MONITOR_LINE_MAX];
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long long left = deadline ? deadline - now_ms() : -1;
		char *nl;
		ssize_t n;
		int r;

		if (deadline && left <= 0)
			return EX_DONE;
		r = poll(&pfd, 1, left < 0 ? -1 : (int)(left > 60000 ? 60000 : left));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return EX_DONE; /* aiccud stopped (or went away): the stream ends */
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			r = take(ctl, buf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			if (r)
				return r - 1;
		}
		if (len >= sizeof(buf) - 1) {
			fprintf(stderr, "aiccuctl: a line from aiccud longer than %d bytes\n",
			        MONITOR_LINE_MAX);
			return EX_PROTOCOL;
		}
	}
}

int cmd_monitor(struct ctl *ctl, int argc, char **argv)
{
	static const char req[] = "monitor\n";
	int rc, fd;

	(void)argv;
	if (argc != 1)
		return ctl_usage("monitor");
	fd = ctl_connect(ctl, &rc);
	if (fd < 0)
		return rc;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1) {
		fprintf(stderr, "aiccuctl: sending the request to %s: %s\n", ctl->socket,
		        strerror(errno));
		close(fd);
		return EX_PROTOCOL;
	}
	rc = follow(ctl, fd, ctl->timeout ? now_ms() + (long long)ctl->timeout * 1000 : 0);
	close(fd);
	return rc;
}
