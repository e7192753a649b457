/* The control commands, listed once (ctlcmd.h). */
#include "ctlcmd.h"

#include <stdio.h>
#include <string.h>

#define CHANGE_USAGE(cmd) cmd " [--no-wait] TUNNEL|--all"

const struct ctlcmd ctlcmd_table[CTLCMD_COUNT] = {
    {CTLCMD_STATUS, "status", CTLCMD_DAEMON | CTLCMD_READONLY, 0, 1, "status [TUNNEL]",
     "show the tunnels (a table; details with TUNNEL); exit 0 only when all are up"},
    {CTLCMD_START, "start", CTLCMD_DAEMON | CTLCMD_MUTATING, 1, 2, CHANGE_USAGE("start"),
     "start, wait until up or failed"},
    {CTLCMD_STOP, "stop", CTLCMD_DAEMON | CTLCMD_MUTATING, 1, 2, CHANGE_USAGE("stop"),
     "stop, wait until stopped"},
    {CTLCMD_RESTART, "restart", CTLCMD_DAEMON | CTLCMD_MUTATING, 1, 2, CHANGE_USAGE("restart"),
     "stop, then start"},
    {CTLCMD_REFRESH, "refresh", CTLCMD_DAEMON | CTLCMD_MUTATING, 1, 2, CHANGE_USAGE("refresh"),
     "fetch from TIC now (behind the limiter); restart only if the parameters changed"},
    {CTLCMD_WAIT, "wait", CTLCMD_DAEMON | CTLCMD_READONLY, 0, CTLCMD_ARGS_MAX - 1,
     "wait [--timeout S] [TUNNEL...|--all]",
     "wait until the tunnels are up (default: all, 120 s); 1: not up in time"},
    {CTLCMD_RELOAD, "reload", CTLCMD_DAEMON | CTLCMD_MUTATING, 0, 0, "reload",
     "re-read the configuration, apply what changed"},
    {CTLCMD_LOG_LEVEL, "log-level", CTLCMD_DAEMON | CTLCMD_MUTATING, 0, 1,
     "log-level [debug|info|warning|error]", "show or change aiccud's log level"},
    {CTLCMD_LIMITER, "limiter", CTLCMD_DAEMON | CTLCMD_READONLY, 0, 0, "limiter",
     "show the TIC connection limiter"},
    {CTLCMD_CHECK_CONFIG, "check-config", CTLCMD_DAEMON | CTLCMD_READONLY, 0, 0, "check-config",
     "have aiccud parse its configuration and report every problem"},
    {CTLCMD_VERSION, "version", CTLCMD_DAEMON | CTLCMD_READONLY, 0, 0, "version",
     "versions of aiccuctl, aiccud and the protocol"},
    /* aiccuctl renders it from the status reply: read-only, no request of its own */
    {CTLCMD_METRICS, "metrics", CTLCMD_READONLY, 0, 0, "metrics [-o FILE]",
     "the tunnels, limiters and updates in the Prometheus text format (-o: replace FILE "
     "atomically)"},
    {CTLCMD_IMPORT_AICCU, "import-aiccu", 0, 0, 0,
     "import-aiccu [-o FILE] [--table N] [--rule-priority N] [--interface NAME] AICCU.CONF\n"
     "       import-aiccu -d DIR [--rule-priority N] AICCU.CONF...",
     "convert AICCU configurations into tunnel files"},
    {CTLCMD_HELP, "help", 0, 0, 0, "help [COMMAND]", "this text, or one command's usage"},
    {CTLCMD_MONITOR, "monitor", CTLCMD_DAEMON | CTLCMD_READONLY, 0, 0, "monitor [-t S]",
     "print aiccud's events as they happen (state, repair, limiter, pop, reload), until it stops"},
};

const struct ctlcmd *ctlcmd_find(const char *name)
{
	for (size_t i = 0; i < CTLCMD_COUNT; i++)
		if (strcmp(ctlcmd_table[i].name, name) == 0)
			return &ctlcmd_table[i];
	return NULL;
}

void ctlcmd_names(unsigned flags, char *out, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < CTLCMD_COUNT && off < len; i++) {
		if ((ctlcmd_table[i].flags & flags) != flags)
			continue;
		off += (size_t)snprintf(out + off, len - off, "%s%s", off ? ", " : "",
		                        ctlcmd_table[i].name);
	}
}
