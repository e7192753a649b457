/*
 * aiccuctl wait [--timeout S] [TUNNEL...|--all]
 *
 * Blocks until every named tunnel (no name: every one) is up: exit 0; or,
 * after S seconds (default 120), exit 1 naming the tunnels not up.  For
 * units and scripts that need the tunnels (aiccud-wait-online.service).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define WAIT_TIMEOUT 120

static void show_progress(json_t *line, void *arg)
{
	const struct ctl *ctl = arg;

	if (ctl->json)
		return;
	printf("%s\n", ctl_str(line, "progress"));
	fflush(stdout);
}

/* Append " word" to line; false when it does not fit or is no word. */
static bool line_add(char *line, size_t len, const char *word)
{
	size_t used = strlen(line);
	int n;

	if (!ctl_word_ok(word))
		return false;
	n = snprintf(line + used, len - used, " %s", word);
	return n > 0 && (size_t)n < len - used;
}

int cmd_wait(struct ctl *ctl, int argc, char **argv)
{
	char line[500] = "wait", *end;
	long timeout = WAIT_TIMEOUT;
	json_t *reply;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout = strtol(argv[++i], &end, 10);
			if (*end || !*argv[i] || timeout < 1 || timeout > 86400)
				return ctl_usage("wait");
		} else if (argv[i][0] == '-' && strcmp(argv[i], "--all") != 0) {
			return ctl_usage("wait");
		} else if (!line_add(line, sizeof(line), argv[i])) {
			return ctl_usage("wait");
		}
	}
	snprintf(line + strlen(line), sizeof(line) - strlen(line), " --timeout %ld", timeout);
	/* aiccud ends the wait itself at the timeout; a little more for its answer. */
	reply = ctl_request(ctl, line, (int)timeout + (ctl->timeout ? ctl->timeout : 10),
	                    show_progress, ctl, &rc);
	if (!reply)
		return rc;
	if (!ctl->json && json_is_true(json_object_get(reply, "ok"))) {
		json_t *list = json_object_get(reply, "tunnels"), *t;
		size_t i;

		json_array_foreach(list, i, t) printf("%s: up\n", ctl_str(t, "name"));
	}
	return ctl_finish(ctl, reply);
}
