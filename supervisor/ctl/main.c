/*
 * aiccuctl [-s SOCKET] [-t SECONDS] [--json] COMMAND [ARGS]
 *
 * Options may also follow the command.  Exit codes: see ctl.h and
 * aiccuctl(8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static const struct ctl_command commands[] = {
    {"status", cmd_status, "status [TUNNEL]", "show the tunnels (a table; details with TUNNEL)"},
    {"start", cmd_change, "start [--no-wait] TUNNEL|--all", "start, wait until up or failed"},
    {"stop", cmd_change, "stop [--no-wait] TUNNEL|--all", "stop, wait until stopped"},
    {"restart", cmd_change, "restart [--no-wait] TUNNEL|--all", "stop, then start"},
    {"refresh", cmd_change, "refresh [--no-wait] TUNNEL|--all",
     "fetch from TIC now (behind the limiter); restart only if the parameters changed"},
    {"wait", cmd_wait, "wait [--timeout S] [TUNNEL...|--all]",
     "wait until the tunnels are up (default: all, 120 s); 1: not up in time"},
    {"reload", cmd_reload, "reload", "re-read the configuration, apply what changed"},
    {"log-level", cmd_log_level, "log-level [debug|info|warning|error]",
     "show or change aiccud's log level"},
    {"limiter", cmd_limiter, "limiter", "show the TIC connection limiter"},
    {"check-config", cmd_check_config, "check-config",
     "have aiccud parse its configuration and report every problem"},
    {"import-aiccu", cmd_import_aiccu,
     "import-aiccu [-o FILE] [--table N] [--rule-priority N] [--interface NAME] AICCU.CONF\n"
     "       import-aiccu -d DIR [--rule-priority N] AICCU.CONF...",
     "convert AICCU configurations into tunnel files"},
    {"version", cmd_version, "version", "versions of aiccuctl, aiccud and the protocol"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

int ctl_usage(const char *name)
{
	if (!name)
		fprintf(stderr,
		        "usage: aiccuctl [-s SOCKET] [-t SECONDS] [--json] COMMAND [ARGS]\n\n"
		        "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (name && strcmp(name, commands[i].name) != 0)
			continue;
		if (name)
			fprintf(stderr, "usage: aiccuctl [-s SOCKET] [-t SECONDS] [--json] %s\n",
			        commands[i].usage);
		else
			fprintf(stderr, "  %-58s %s\n", commands[i].usage, commands[i].summary);
	}
	if (!name)
		fprintf(stderr, "\nexit codes: 0 done, 1 failed, 2 usage, 3 aiccud not running, "
		                "4 unknown tunnel,\n5 permission denied, 6 protocol error, 7 timed "
		                "out (see aiccuctl(8))\n");
	return EX_USAGE;
}

/* Take --json, -s, -t out of argv wherever they are; what stays is the command. */
static int global_options(struct ctl *ctl, int *argc, char **argv)
{
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
					return -1;
				}
				ctl->timeout = (int)t;
			}
		} else if (strcmp(a, "-s") == 0 || strcmp(a, "-t") == 0) {
			fprintf(stderr, "aiccuctl: %s needs a value\n", a);
			return -1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			return -1;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl ctl = {.socket = getenv("AICCUD_SOCKET")};

	if (!ctl.socket || !*ctl.socket)
		ctl.socket = CTL_DEFAULT_SOCKET;
	argc--;
	argv++;
	if (global_options(&ctl, &argc, argv) < 0 || argc < 1)
		return ctl_usage(NULL);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(&ctl, argc, argv);
	fprintf(stderr, "aiccuctl: unknown command '%s'\n", argv[0]);
	return ctl_usage(NULL);
}
