/*
 * aiccuctl [-s SOCKET] [-t SECONDS] [--json] COMMAND [ARGS]
 *
 * Options may also follow the command.  The commands, their usage and
 * summaries come from the table shared with aiccud (ctlcmd.h).  Exit
 * codes: see ctl.h and aiccuctl(8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctlcmd.h"

#ifndef AICCUD_VERSION
#define AICCUD_VERSION "unknown"
#endif

#define OPTIONS "[-s SOCKET] [-t SECONDS] [--json]"

static int cmd_help(struct ctl *ctl, int argc, char **argv);

/* aiccuctl's handler of each command of the table. */
static int (*const runs[CTLCMD_COUNT])(struct ctl *ctl, int argc, char **argv) = {
    [CTLCMD_STATUS] = cmd_status,       [CTLCMD_START] = cmd_change,
    [CTLCMD_STOP] = cmd_change,         [CTLCMD_RESTART] = cmd_change,
    [CTLCMD_REFRESH] = cmd_change,      [CTLCMD_RELOAD] = cmd_reload,
    [CTLCMD_LIMITER] = cmd_limiter,     [CTLCMD_CHECK_CONFIG] = cmd_check_config,
    [CTLCMD_VERSION] = cmd_version,     [CTLCMD_IMPORT_AICCU] = cmd_import_aiccu,
    [CTLCMD_HELP] = cmd_help,           [CTLCMD_WAIT] = cmd_wait,
    [CTLCMD_LOG_LEVEL] = cmd_log_level, [CTLCMD_METRICS] = cmd_metrics,
    [CTLCMD_MONITOR] = cmd_monitor,
};

/* The whole help text (to stdout when asked for, to stderr after a mistake). */
static void help_all(FILE *f)
{
	fprintf(f, "usage: aiccuctl " OPTIONS " COMMAND [ARGS]\n"
	           "       aiccuctl --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < CTLCMD_COUNT; i++)
		fprintf(f, "  %-58s %s\n", ctlcmd_table[i].usage, ctlcmd_table[i].summary);
	fprintf(f,
	        "\noptions:\n"
	        "  -s SOCKET   aiccud's control socket (default $AICCUD_SOCKET, else %s)\n"
	        "  -t SECONDS  how long to wait for the final answer\n"
	        "  --json      print aiccud's replies (and errors) as JSON on stdout\n"
	        "\nexit codes: 0 done (status: every tunnel up), 1 failed (status: some "
	        "tunnel not up),\n2 usage, 3 aiccud not running, 4 unknown tunnel, 5 "
	        "permission denied,\n6 protocol error, 7 timed out (see aiccuctl(8))\n",
	        CTL_DEFAULT_SOCKET);
}

static void help_one(FILE *f, const struct ctlcmd *k)
{
	fprintf(f, "usage: aiccuctl " OPTIONS " %s\n  %s\n", k->usage, k->summary);
}

int ctl_usage(const char *name)
{
	const struct ctlcmd *k = name ? ctlcmd_find(name) : NULL;

	if (k)
		help_one(stderr, k);
	else
		help_all(stderr);
	return EX_USAGE;
}

/* aiccuctl help [COMMAND]: asked for, so stdout and exit 0. */
static int cmd_help(struct ctl *ctl, int argc, char **argv)
{
	const struct ctlcmd *k;

	(void)ctl;
	if (argc == 1) {
		help_all(stdout);
		return EX_DONE;
	}
	k = argc == 2 ? ctlcmd_find(argv[1]) : NULL;
	if (!k) {
		if (argc == 2)
			fprintf(stderr, "aiccuctl: unknown command '%s'\n", argv[1]);
		return ctl_usage(argc == 2 ? NULL : "help");
	}
	help_one(stdout, k);
	return EX_DONE;
}

enum global_verdict {
	GLOBAL_RUN,
	GLOBAL_HELP,
	GLOBAL_VERSION,
	GLOBAL_BAD,
	GLOBAL_COMMANDS, /* --commands: the command names, for the shell's completion */
	GLOBAL_TUNNELS,  /* --tunnel-names: the daemon's tunnels, for the shell's completion */
};

/* Take --json, -s, -t, -h, --version out of argv wherever they are; what stays is the command. */
static enum global_verdict global_options(struct ctl *ctl, int *argc, char **argv)
{
	enum global_verdict v = GLOBAL_RUN;
	int out = 0;

	for (int i = 0; i < *argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			ctl->json = true;
		} else if ((strcmp(a, "-s") == 0 || strcmp(a, "-t") == 0) && i + 1 < *argc) {
			if (a[1] == 's') {
				ctl->socket = argv[++i];
			} else {
				char *end;
				long t = strtol(argv[++i], &end, 10);

				if (*end || t <= 0 || t > 86400) {
					fprintf(stderr, "aiccuctl: -t wants seconds (1..86400)\n");
					return GLOBAL_BAD;
				}
				ctl->timeout = (int)t;
			}
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "-t") == 0) {
			fprintf(stderr, "aiccuctl: %s needs a value\n", a);
			return GLOBAL_BAD;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			v = GLOBAL_HELP;
		} else if (strcmp(a, "--commands") == 0) {
			v = GLOBAL_COMMANDS;
		} else if (strcmp(a, "--tunnel-names") == 0) {
			v = GLOBAL_TUNNELS;
		} else if (strcmp(a, "--version") == 0) {
			if (v != GLOBAL_HELP)
				v = GLOBAL_VERSION;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	return v;
}

int main(int argc, char **argv)
{
	struct ctl ctl = {.socket = getenv("AICCUD_SOCKET")};
	const struct ctlcmd *k;

	if (!ctl.socket || !*ctl.socket)
		ctl.socket = CTL_DEFAULT_SOCKET;
	argc--;
	argv++;
	switch (global_options(&ctl, &argc, argv)) {
	case GLOBAL_BAD:
		return ctl_usage(NULL);
	case GLOBAL_HELP:
		k = argc ? ctlcmd_find(argv[0]) : NULL;
		if (k)
			help_one(stdout, k);
		else
			help_all(stdout);
		return EX_DONE;
	case GLOBAL_VERSION:
		printf("aiccuctl %s\n", AICCUD_VERSION);
		return EX_DONE;
	case GLOBAL_COMMANDS:
		return ctl_complete_commands();
	case GLOBAL_TUNNELS:
		return ctl_complete_tunnels(&ctl);
	case GLOBAL_RUN:
		break;
	}
	if (argc < 1)
		return ctl_usage(NULL);
	k = ctlcmd_find(argv[0]);
	if (!k || !runs[k->id]) {
		fprintf(stderr, "aiccuctl: unknown command '%s'\n", argv[0]);
		return ctl_usage(NULL);
	}
	return runs[k->id](&ctl, argc, argv);
}
