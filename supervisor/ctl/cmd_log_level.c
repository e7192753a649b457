/* aiccuctl log-level [debug|info|warning|error]: show or change aiccud's log level. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

int cmd_log_level(struct ctl *ctl, int argc, char **argv)
{
	char line[64];
	json_t *reply;
	int rc;

	if (argc > 2 || (argc == 2 && !ctl_word_ok(argv[1])))
		return ctl_usage("log-level");
	snprintf(line, sizeof(line), "log-level%s%s", argc == 2 ? " " : "",
	         argc == 2 ? argv[1] : "");
	reply = ctl_request(ctl, line, ctl->timeout ? ctl->timeout : 10, NULL, NULL, &rc);
	if (!reply)
		return rc;
	if (!ctl->json && json_is_true(json_object_get(reply, "ok"))) {
		if (json_object_get(reply, "previous"))
			printf("log level %s (was %s)\n", ctl_str(reply, "level"),
			       ctl_str(reply, "previous"));
		else
			printf("log level %s\n", ctl_str(reply, "level"));
	}
	return ctl_finish(ctl, reply);
}
