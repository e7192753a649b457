/*
 * aiccuctl check-config: aiccud parses its configuration file (and the
 * tunnel files) into a fresh copy, as a reload would, and reports every
 * message; nothing is applied.
 */
#include <stdio.h>

#include "ctl.h"

int cmd_check_config(struct ctl *ctl, int argc, char **argv)
{
	json_t *reply, *msgs, *tunnels, *v;
	size_t i;
	int rc;

	(void)argv;
	if (argc != 1)
		return ctl_usage("check-config");
	reply = ctl_request(ctl, "check-config", ctl->timeout ? ctl->timeout : 30, NULL, NULL, &rc);
	if (!reply)
		return rc;
	msgs = json_object_get(reply, "messages");
	tunnels = json_object_get(reply, "tunnels");
	if (!ctl->json) {
		json_array_foreach(msgs, i, v) printf("%s\n", json_string_value(v));
		json_array_foreach(tunnels, i, v)
		{
			printf("tunnel %s (%s): %s%s\n", ctl_str(v, "name"), ctl_str(v, "file"),
			       json_is_true(json_object_get(v, "valid")) ? "OK" : "not usable: ",
			       json_is_true(json_object_get(v, "valid")) ? ""
			                                                 : ctl_str(v, "error"));
		}
		if (json_is_true(json_object_get(reply, "ok")))
			printf("%s: OK\n", ctl_str(reply, "file"));
	}
	return ctl_finish(ctl, reply);
}
