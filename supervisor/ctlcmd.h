/*
 * The control commands, listed once.  aiccud's control socket
 * (control.c) dispatches from this table and builds its usage and
 * unknown-command replies from it; aiccuctl (ctl/main.c) does the same
 * for its command line and its help text.  Each side binds its own
 * handler to a command by its id.  Pure: no I/O.
 */
#ifndef AICCUD_CTLCMD_H
#define AICCUD_CTLCMD_H

#include <stdbool.h>
#include <stddef.h>

/* Words in one request line, the command's name included. */
#define CTLCMD_ARGS_MAX 36 /* wait --timeout S and 33 tunnel names */

enum ctlcmd_id {
	CTLCMD_STATUS,
	CTLCMD_START,
	CTLCMD_STOP,
	CTLCMD_RESTART,
	CTLCMD_REFRESH,
	CTLCMD_WAIT,
	CTLCMD_RELOAD,
	CTLCMD_LOG_LEVEL,
	CTLCMD_LIMITER,
	CTLCMD_CHECK_CONFIG,
	CTLCMD_VERSION,
	CTLCMD_METRICS,
	CTLCMD_IMPORT_AICCU,
	CTLCMD_HELP,
	CTLCMD_MONITOR,
	CTLCMD_COUNT
};

enum {
	CTLCMD_DAEMON = 1 << 0,   /* a request aiccud serves (else aiccuctl alone) */
	CTLCMD_MUTATING = 1 << 1, /* root or the control group only */
	CTLCMD_READONLY = 1 << 2, /* also for the read-only group (readonly_group) */
};

struct ctlcmd {
	enum ctlcmd_id id;
	const char *name;
	unsigned flags;
	int min_args, max_args; /* words after the name in a request to aiccud */
	const char *usage;      /* after "aiccuctl [options] "; also the daemon's usage reply */
	const char *summary;    /* one line for aiccuctl help */
};

extern const struct ctlcmd ctlcmd_table[CTLCMD_COUNT];

/* The command of that name, or NULL. */
const struct ctlcmd *ctlcmd_find(const char *name);
/*
 * The names of the commands that have every flag of `flags`, comma
 * separated ("status, start, ..."), into out (truncated to fit).
 */
void ctlcmd_names(unsigned flags, char *out, size_t len);

#endif
