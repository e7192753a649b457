/*
 * aiccuctl: the control client of aiccud.  One file per subcommand
 * (cmd_*.c), dispatched in main.c from the command table shared with
 * aiccud (ctlcmd.h); client.c talks to the
 * socket, output.c holds the shared formatting.  Only the subcommands
 * print; helpers return values.
 */
#ifndef AICCUCTL_CTL_H
#define AICCUCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define CTL_DEFAULT_SOCKET "/run/aiccud/aiccud.sock"

/* Exit codes, documented in aiccuctl(8). */
enum ctl_exit {
	EX_DONE = 0,           /* done */
	EX_FAILED = 1,         /* a tunnel failed, reload refused, configuration has errors */
	EX_USAGE = 2,          /* bad command line or request */
	EX_NOT_RUNNING = 3,    /* aiccud is not running (no socket, nobody listening) */
	EX_UNKNOWN_TUNNEL = 4, /* no such tunnel */
	EX_PERMISSION = 5,     /* not root and not in the control group */
	EX_PROTOCOL = 6,       /* unreadable or unexpected reply */
	EX_TIMEOUT = 7,        /* no final answer in time; the daemon carries on */
};

struct ctl {
	const char *socket;
	int timeout; /* seconds; 0: the subcommand's default */
	bool json;
};

/* Called for each progress line of a reply (may be NULL). */
typedef void ctl_progress_fn(json_t *line, void *arg);

/*
 * Send one request line and return the final reply line (an object with
 * "ok").  On a connection or protocol failure it prints why and returns
 * NULL with *exit_code set (EX_NOT_RUNNING, EX_PERMISSION, EX_PROTOCOL,
 * EX_TIMEOUT).
 */
json_t *ctl_request(const struct ctl *ctl, const char *line, int timeout_s,
                    ctl_progress_fn *progress, void *arg, int *exit_code);

/*
 * Connect to aiccud's socket: the descriptor, or -1 after saying why
 * (*exit_code EX_NOT_RUNNING, EX_PERMISSION or EX_USAGE).
 */
int ctl_connect(const struct ctl *ctl, int *exit_code);
/* The exit code for a final reply: EX_DONE when "ok", else by its "code". */
int ctl_exit_for(json_t *reply);
/*
 * One line of a reply (from the daemon: parsed, never trusted): a JSON
 * object, final when it has "ok".  Returns 1 with *final set, 0 for a
 * progress line (passed to progress), -1 when it is not a JSON object.
 */
int ctl_take_line(const char *line, ctl_progress_fn *progress, void *arg, json_t **final);
/* cmd_status.c: print a status reply for people (detail: one tunnel in full). */
void ctl_status_print(json_t *reply, bool detail);
/* cmd_status.c: the exit code of a successful status reply (aiccuctl(8)). */
int ctl_status_exit(json_t *reply);
/*
 * The common end of a subcommand: with --json print the reply, else print
 * its error (if any) to stderr.  Returns ctl_exit_for(reply); frees it.
 */
int ctl_finish(const struct ctl *ctl, json_t *reply);
void ctl_print_json(json_t *v);

/* output.c: reading and formatting reply fields ("-" when absent). */
const char *ctl_str(json_t *o, const char *key);
bool ctl_has_int(json_t *o, const char *key);
long long ctl_int(json_t *o, const char *key);
/* "3m12s", "2h05m", "4d03h" for an age in seconds; "-" for < 0. */
void ctl_fmt_age(long long seconds, char *out, size_t len);
/* The age of a wall-clock stamp (0: "never"), e.g. "12s ago" when ago. */
void ctl_fmt_since(long long stamp, bool ago, char *out, size_t len);
/* 1536 -> "1.5K" (powers of 1024). */
void ctl_fmt_bytes(long long n, char *out, size_t len);
void ctl_fmt_clock(long long stamp, char *out, size_t len);
/* A word that can go into a request line: 1..64 bytes, no blanks or controls. */
bool ctl_word_ok(const char *s);

/* The subcommands. */
int cmd_status(struct ctl *ctl, int argc, char **argv);
int cmd_change(struct ctl *ctl, int argc, char **argv);
int cmd_reload(struct ctl *ctl, int argc, char **argv);
int cmd_limiter(struct ctl *ctl, int argc, char **argv);
int cmd_check_config(struct ctl *ctl, int argc, char **argv);
int cmd_version(struct ctl *ctl, int argc, char **argv);
int cmd_wait(struct ctl *ctl, int argc, char **argv);
int cmd_log_level(struct ctl *ctl, int argc, char **argv);
int cmd_import_aiccu(struct ctl *ctl, int argc, char **argv);
int cmd_metrics(struct ctl *ctl, int argc, char **argv);
int cmd_monitor(struct ctl *ctl, int argc, char **argv);
/* cmd_complete.c, for the shell's completion: command names; tunnel names (silent on errors). */
int ctl_complete_commands(void);
int ctl_complete_tunnels(struct ctl *ctl);

/* After a mistake: the usage of one subcommand (or all with NULL) to stderr; returns EX_USAGE. */
int ctl_usage(const char *name);

#endif
