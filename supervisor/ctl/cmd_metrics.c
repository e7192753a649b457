/*
 * aiccuctl metrics: the status reply in the Prometheus text format
 * (metrics.c), for node_exporter's textfile collector (dist/
 * aiccud-metrics.service).  When aiccud does not answer, the output still
 * says so (aiccud_daemon_up 0) and the exit code is the usual one.
 */
#include <stdio.h>

#include "ctl.h"
#include "metrics.h"

int cmd_metrics(struct ctl *ctl, int argc, char **argv)
{
	json_t *reply;
	int rc;

	(void)argv;
	if (argc != 1 || ctl->json)
		return ctl_usage("metrics");
	reply = ctl_request(ctl, "status", ctl->timeout ? ctl->timeout : 15, NULL, NULL, &rc);
	if (!reply) {
		metrics_render(NULL, stdout);
		return rc;
	}
	if (!json_is_true(json_object_get(reply, "ok")))
		return ctl_finish(ctl, reply);
	metrics_render(reply, stdout);
	json_decref(reply);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("aiccuctl: metrics: stdout");
		return EX_FAILED;
	}
	return EX_DONE;
}
