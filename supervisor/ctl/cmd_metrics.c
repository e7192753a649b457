/*
 * aiccuctl metrics [-o FILE]: the status reply in the Prometheus text
 * format (metrics.c), on stdout or, with -o, replacing FILE atomically
 * (FILE.tmp, fsync, rename: node_exporter's textfile collector never reads
 * half a file; dist/aiccud-metrics.service).  When aiccud does not answer,
 * the output still says so (aiccud_daemon_up 0), so an old file cannot go
 * on saying "up", and the exit code is the usual one (3: not running).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fileio.h"
#include "metrics.h"

/* status NULL: aiccud did not answer.  0, or EX_FAILED after saying why. */
static int emit(json_t *status, const char *file)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (!file) {
		metrics_render(status, stdout);
		if (fflush(stdout) == 0 && !ferror(stdout))
			return EX_DONE;
		fprintf(stderr, "aiccuctl: metrics: cannot write stdout: %s\n", strerror(errno));
		return EX_FAILED;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		perror("aiccuctl: metrics");
		return EX_FAILED;
	}
	metrics_render(status, f);
	if (fclose(f) != 0) {
		perror("aiccuctl: metrics");
		free(buf);
		return EX_FAILED;
	}
	/* 0644: node_exporter reads it as its own user */
	err = file_write_atomic(file, buf, len, 0644);
	free(buf);
	if (err < 0) {
		fprintf(stderr, "aiccuctl: metrics: cannot write %s: %s\n", file, strerror(-err));
		return EX_FAILED;
	}
	return EX_DONE;
}

int cmd_metrics(struct ctl *ctl, int argc, char **argv)
{
	const char *file = NULL;
	json_t *reply;
	int rc, wrote;

	if (argc == 3 && strcmp(argv[1], "-o") == 0 && argv[2][0])
		file = argv[2];
	else if (argc != 1)
		return ctl_usage("metrics");
	if (ctl->json) {
		fprintf(stderr, "aiccuctl: metrics prints the Prometheus text format, not JSON "
		                "(status --json has the same values)\n");
		return ctl_usage("metrics");
	}
	reply = ctl_request(ctl, "status", ctl->timeout ? ctl->timeout : 15, NULL, NULL, &rc);
	if (!reply) {
		wrote = emit(NULL, file);
		return wrote == EX_DONE ? rc : wrote;
	}
	if (!json_is_true(json_object_get(reply, "ok")))
		return ctl_finish(ctl, reply);
	rc = emit(reply, file);
	json_decref(reply);
	return rc;
}
