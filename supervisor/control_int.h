/*
 * The control socket's parts (control.h), shared by its files:
 *   control.c       socket, connections, output queue, dispatch, access
 *   control_cmd.c   status (waits up to STATUS_FRESH_WAIT for counters), version,
 *                   limiter, check-config, reload
 *   control_wait.c  start, stop, restart, refresh, wait and their waiting (waiter.h)
 *   control_json.c  JSON views of tunnels, limiter and daemon
 *   control_monitor.c  monitor: the subscribers of events (events.h)
 */
#ifndef AICCUD_CONTROL_INT_H
#define AICCUD_CONTROL_INT_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <ev.h>
#include <jansson.h>

#include "control.h"
#include "ctlcmd.h"
#include "daemon.h"
#include "log.h"
#include "waiter.h"

#define CONTROL_LINE_MAX     512
#define CONTROL_IDLE         10.0 /* seconds to send the request line */
#define CONTROL_MAX_CONNS    64
#define CONTROL_ROOT_RESERVE 8               /* of them only for root: its status always answers */
#define CONTROL_PER_UID      16              /* most one non-root uid may hold */
#define CONTROL_IDLE_BUSY    1.0             /* the idle time once more than half are taken */
#define CONTROL_ARGS_MAX     CTLCMD_ARGS_MAX /* words in a request (ctlcmd.h) */
#define WAIT_DEFAULT_TIMEOUT 120.0           /* wait without --timeout */
#define CONTROL_TICK         5.0             /* seconds between "still waiting" lines */
#define CONTROL_PROGRESS_MAX (64 * 1024)     /* queued progress beyond this is dropped */
#define CONTROL_PEER_GROUPS  64              /* supplementary groups read without malloc */
#define STATUS_FRESH_WAIT    0.2             /* status waits this long for workers' counters */

/* aiccuctl monitor (control_monitor.c) */
#define CONTROL_MONITORS_MAX   16          /* monitor connections at once */
#define CONTROL_MONITORS_UID   4           /* of them, one non-root uid's */
#define CONTROL_MONITOR_BUF    (64 * 1024) /* unread events of one monitor before it is dropped */
#define CONTROL_MONITOR_SNDBUF (16 * 1024) /* the kernel's share (SO_SNDBUF) of a monitor */

/* What a peer may do (SO_PEERCRED, control.c's client_identify). */
enum control_tier {
	CONTROL_TIER_NONE,    /* nothing: not in either group while readonly_group is set */
	CONTROL_TIER_READ,    /* the commands flagged CTLCMD_READONLY (ctlcmd.h) */
	CONTROL_TIER_CONTROL, /* everything: root or a member of control_group */
};

struct client {
	struct control *ctl;
	struct client *next;
	int fd;
	ev_io rio, wio;
	ev_timer idle;
	char in[CONTROL_LINE_MAX];
	size_t inlen;
	bool have_request;
	char *out;
	size_t outlen, outoff, outcap;
	bool finished; /* the final line is queued: close once it is written */
	struct ucred cred;
	enum control_tier tier;
	bool monitor; /* a subscriber of events (aiccuctl monitor) */
	/* start/stop/restart waiting for tunnels */
	enum change_op op;
	struct waiter *w;
	size_t nw;
	size_t unsettled;  /* waiters not settled yet */
	ev_timer tick;     /* periodic progress while waiting */
	ev_timer deadline; /* wait --timeout: ends the waiting */
	double wait_timeout;
	/* status: waiting for the workers' counters (control_cmd.c) */
	ev_check fresh_w;           /* after each loop pass: all answered? */
	ev_timer fresh_t;           /* STATUS_FRESH_WAIT: answer with what there is */
	char status_name[IFNAMSIZ]; /* status TUNNEL; "" for all */
};

struct control {
	struct daemon *d;
	int fd;
	int lock_fd;
	gid_t group;
	bool have_group;
	gid_t ro_group; /* readonly_group */
	bool have_ro_group;
	unsigned nmonitors;
	time_t started;
	ev_io accept_w;
	struct client *clients;
	unsigned nclients;
	struct log_ratelimit conn_rl;  /* refused connections */
	struct log_ratelimit evict_rl; /* idle ones closed to make room */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/*
 * Queue one JSON line (takes the reference).  final: the line carrying
 * "ok" that ends the reply.  Progress lines are dropped, not queued, when
 * a slow reader already has CONTROL_PROGRESS_MAX bytes pending.
 */
void control_send(struct client *cl, json_t *line, bool final);
json_t *control_error(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
json_t *control_ok(void);
/* Queue text (a whole line, newline included) on a connection as it is. */
void control_queue_raw(struct client *cl, const char *text, size_t len);
/* Close a connection now (a monitor that does not read). */
void control_drop(struct client *cl);

/* The reply to a command name the daemon does not serve; lists those it does. */
json_t *control_unknown_command(const char *name);

/* control_json.c */
json_t *control_daemon_json(const struct control *c);

/* control_cmd.c: the commands; argv[0] is the command's name. */
json_t *control_unknown_tunnel(const struct daemon *d, const char *name);
json_t *control_cmd_version(struct client *cl, int argc, char **argv);
json_t *control_cmd_limiter(struct client *cl, int argc, char **argv);
json_t *control_cmd_status(struct client *cl, int argc, char **argv);
/* status: each loop pass (cl->fresh_w) and its time limit (cl->fresh_t). */
void control_status_check(EV_P_ ev_check *w, int revents);
void control_status_late(EV_P_ ev_timer *tm, int revents);
json_t *control_cmd_check_config(struct client *cl, int argc, char **argv);
json_t *control_cmd_reload(struct client *cl, int argc, char **argv);
json_t *control_cmd_log_level(struct client *cl, int argc, char **argv);

/* control_monitor.c: the connection becomes a subscriber (no final line until aiccud stops). */
json_t *control_cmd_monitor(struct client *cl, int argc, char **argv);
/* Start and stop fanning events (events.h) out to the subscribers. */
void control_monitor_init(struct control *c);
void control_monitor_close(struct control *c);

/* control_wait.c */
json_t *control_cmd_change(struct client *cl, int argc, char **argv);
json_t *control_cmd_wait(struct client *cl, int argc, char **argv);
/* wait --timeout is over: what is not up by now is reported so. */
void control_wait_deadline(EV_P_ ev_timer *tm, int revents);
/* The periodic progress of a waiting client (cl->tick). */
void control_wait_tick(EV_P_ ev_timer *tm, int revents);
/* Registry events: the waiters of the tunnel that changed look again. */
void control_wait_on_change(void *arg, const struct registry_change *c);

#endif
