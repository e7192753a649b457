/*
 * aiccuctl start|stop|restart|refresh [--no-wait] TUNNEL|--all
 *
 * Waits (unless --no-wait) until every named tunnel is up (start,
 * restart) or stopped (stop), or has failed, printing aiccud's progress
 * lines as they come.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define CHANGE_TIMEOUT 120 /* a TIC token can take a while (limiter refill) */

/* The last state shown per tunnel, so the result does not repeat it. */
struct shown {
	const struct ctl *ctl;
	json_t *last; /* name -> state */
};

static void show_progress(json_t *line, void *arg)
{
	struct shown *sh = arg;

	if (sh->ctl->json)
		return;
	printf("%s\n", ctl_str(line, "progress"));
	fflush(stdout);
	{
		/* Per tunnel, the progress line shown last: the result does not repeat it. */
		char key[64];

		snprintf(key, sizeof(key), "%s\tsaid", ctl_str(line, "tunnel"));
		json_object_set_new(sh->last, key, json_string(ctl_str(line, "progress")));
	}
	json_object_set_new(sh->last, ctl_str(line, "tunnel"), json_string(ctl_str(line, "state")));
}

static void print_result(json_t *reply, json_t *last, bool refresh)
{
	json_t *list = json_object_get(reply, "tunnels"), *t;
	size_t i;

	json_array_foreach(list, i, t)
	{
		const char *reason = ctl_str(t, "reason");
		const char *seen = json_string_value(json_object_get(last, ctl_str(t, "name")));

		char said[512], key[64];
		const char *shown;

		/* A refresh's outcome, unless it was that tunnel's last progress line. */
		snprintf(said, sizeof(said), "%s: %s", ctl_str(t, "name"), ctl_str(t, "refresh"));
		snprintf(key, sizeof(key), "%s\tsaid", ctl_str(t, "name"));
		shown = json_string_value(json_object_get(last, key));
		if (refresh && json_object_get(t, "refresh") &&
		    (!shown || strcmp(shown, said) != 0))
			printf("%s\n", said);
		if (seen && strcmp(seen, ctl_str(t, "state")) == 0)
			continue;
		printf("%s: %s%s%s\n", ctl_str(t, "name"), ctl_str(t, "state"),
		       strcmp(reason, "-") ? ": " : "", strcmp(reason, "-") ? reason : "");
	}
}

int cmd_change(struct ctl *ctl, int argc, char **argv)
{
	struct shown sh = {.ctl = ctl};
	const char *target = NULL;
	bool no_wait = false;
	char line[160];
	json_t *reply;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-wait") == 0)
			no_wait = true;
		else if (!target && (strcmp(argv[i], "--all") == 0 || argv[i][0] != '-'))
			target = argv[i];
		else
			return ctl_usage(argv[0]);
	}
	if (!target || !ctl_word_ok(target))
		return ctl_usage(argv[0]);
	snprintf(line, sizeof(line), "%s%s %s", argv[0], no_wait ? " --no-wait" : "", target);
	sh.last = json_object();
	reply = ctl_request(ctl, line, ctl->timeout ? ctl->timeout : CHANGE_TIMEOUT, show_progress,
	                    &sh, &rc);
	if (reply && !ctl->json && json_object_get(reply, "tunnels"))
		print_result(reply, sh.last, strcmp(argv[0], "refresh") == 0);
	json_decref(sh.last);
	return reply ? ctl_finish(ctl, reply) : rc;
}
