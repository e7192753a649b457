/* aiccuctl version: this client's version, the daemon's and the protocol's. */
#include <stdio.h>

#include "ctl.h"

#ifndef AICCUD_VERSION
#define AICCUD_VERSION "unknown"
#endif

int cmd_version(struct ctl *ctl, int argc, char **argv)
{
	json_t *reply, *d;
	int rc;

	(void)argv;
	if (argc != 1)
		return ctl_usage("version");
	reply = ctl_request(ctl, "version", ctl->timeout ? ctl->timeout : 15, NULL, NULL, &rc);
	if (!reply) {
		if (!ctl->json)
			printf("aiccuctl %s\n", AICCUD_VERSION);
		return rc;
	}
	d = json_object_get(reply, "daemon");
	json_object_set_new(reply, "aiccuctl", json_string(AICCUD_VERSION));
	if (!ctl->json)
		printf("aiccuctl %s\naiccud %s (pid %lld, %s), control protocol %lld\n",
		       AICCUD_VERSION, ctl_str(d, "aiccud"), ctl_int(d, "pid"),
		       ctl_str(d, "config"), ctl_int(reply, "version"));
	return ctl_finish(ctl, reply);
}
