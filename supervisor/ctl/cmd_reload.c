/* aiccuctl reload: aiccud parses its configuration again and applies what changed. */
#include <stdio.h>

#include "ctl.h"

int cmd_reload(struct ctl *ctl, int argc, char **argv)
{
	json_t *reply;
	int rc;

	(void)argv;
	if (argc != 1)
		return ctl_usage("reload");
	reply = ctl_request(ctl, "reload", ctl->timeout ? ctl->timeout : 30, NULL, NULL, &rc);
	if (!reply)
		return rc;
	if (!ctl->json && json_is_true(json_object_get(reply, "ok")))
		printf("%s\n", ctl_str(reply, "message")); /* "reloaded: N added, ..." */
	return ctl_finish(ctl, reply);
}
