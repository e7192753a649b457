/*
 * Control socket server, on the parent's loop.  Each connection carries
 * one request line; the reply is one JSON line, preceded for start, stop
 * and restart by progress lines while the tunnels settle.  The protocol is
 * described in control.h and aiccuctl(8).  This file: the socket, the
 * connections and their output, dispatch and access; the commands are in
 * control_cmd.c and control_wait.c, the views in control_json.c.
 */
#include "control_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <malloc.h>

#include "control_req.h"
#include "ctlcmd.h"
#include "events.h"
#include "log.h"

/* ---- output queue ---- */

/* A reply this big (a status of hundreds of tunnels) built megabytes of
 * JSON on the heap: once it is sent, that goes back to the system instead
 * of staying in the parent's footprint for good. */
#define CONTROL_TRIM_AFTER (128 * 1024)

static void client_free(struct client *cl)
{
	struct control *c = cl->ctl;
	struct client **pp;
	bool big = cl->outcap >= CONTROL_TRIM_AFTER;

	for (pp = &c->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	c->nclients--;
	if (cl->monitor)
		c->nmonitors--;
	ev_io_stop(c->d->loop, &cl->rio);
	ev_io_stop(c->d->loop, &cl->wio);
	ev_timer_stop(c->d->loop, &cl->idle);
	ev_timer_stop(c->d->loop, &cl->tick);
	ev_timer_stop(c->d->loop, &cl->deadline);
	ev_check_stop(c->d->loop, &cl->fresh_w);
	ev_timer_stop(c->d->loop, &cl->fresh_t);
	close(cl->fd);
	free(cl->out);
	free(cl->w);
	free(cl);
	if (big)
		malloc_trim(0);
}

void control_drop(struct client *cl)
{
	client_free(cl);
}

static void queue_append(struct client *cl, const char *text, size_t len, bool newline)
{
	size_t need = len + (newline ? 1 : 0);

	if (cl->outlen + need > cl->outcap) {
		size_t cap = cl->outlen + need + 1024;
		char *p = realloc(cl->out, cap);

		if (!p)
			fatalx("out of memory");
		cl->out = p;
		cl->outcap = cap;
	}
	memcpy(cl->out + cl->outlen, text, len);
	if (newline)
		cl->out[cl->outlen + len] = '\n';
	cl->outlen += need;
}

void control_queue_raw(struct client *cl, const char *text, size_t len)
{
	if (cl->finished)
		return;
	queue_append(cl, text, len, false);
	ev_io_start(cl->ctl->d->loop, &cl->wio);
}

void control_send(struct client *cl, json_t *line, bool final)
{
	struct control *c = cl->ctl;
	char *text;
	size_t len;

	if (cl->finished) {
		json_decref(line);
		return;
	}
	json_object_set_new(line, "version", json_integer(CONTROL_VERSION));
	text = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (!text)
		fatalx("out of memory");
	len = strlen(text);
	if (!final && cl->outlen - cl->outoff + len > CONTROL_PROGRESS_MAX) {
		free(text);
		return;
	}
	queue_append(cl, text, len, true);
	free(text);
	if (final) {
		cl->finished = true;
		ev_timer_stop(c->d->loop, &cl->tick);
		ev_timer_stop(c->d->loop, &cl->deadline);
		/* A reader that stalls on the final line is dropped after the idle time. */
		ev_timer_again(c->d->loop, &cl->idle);
	}
	ev_io_start(c->d->loop, &cl->wio);
}

json_t *control_error(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "error", msg);
}

json_t *control_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* ---- dispatch ---- */

/* The groups' names for the refusals: "aiccud-ctl", or a note that none is set. */
static const char *group_text(bool have, const char *name)
{
	return have ? name : "(none is configured)";
}

/* A command the peer's tier does not allow: logged, and said why. */
static json_t *refuse(struct client *cl, const struct ctlcmd *k)
{
	const struct control *c = cl->ctl;
	const char *cg = group_text(c->have_group, c->d->cfg.control_group);
	char names[256];

	log_warnx("control: refused '%s' from uid %d gid %d (pid %d): not root and not in "
	          "control group %s%s%s",
	          k->name, (int)cl->cred.uid, (int)cl->cred.gid, (int)cl->cred.pid, cg,
	          cl->tier == CONTROL_TIER_NONE ? " or read-only group " : "",
	          cl->tier == CONTROL_TIER_NONE
	              ? group_text(c->have_ro_group, c->d->cfg.readonly_group)
	              : "");
	if (cl->tier == CONTROL_TIER_NONE)
		return control_error("permission",
		                     "permission denied: aiccud's control socket serves root, the "
		                     "control group %s and the read-only group %s "
		                     "(control_group, readonly_group in %s)",
		                     cg, group_text(c->have_ro_group, c->d->cfg.readonly_group),
		                     c->d->cfg.file);
	ctlcmd_names(CTLCMD_READONLY, names, sizeof(names));
	return control_error("permission",
	                     "'%s' needs root or the control group %s (control_group in %s); "
	                     "the read-only group may use %s",
	                     k->name, cg, c->d->cfg.file, names);
}

static bool allowed(const struct client *cl, const struct ctlcmd *k)
{
	if (cl->tier == CONTROL_TIER_CONTROL)
		return true;
	return cl->tier == CONTROL_TIER_READ && (k->flags & CTLCMD_READONLY);
}

/* The daemon's handler of each command of the table (ctlcmd.h) it serves. */
static json_t *(*const handlers[CTLCMD_COUNT])(struct client *cl, int argc, char **argv) = {
    [CTLCMD_STATUS] = control_cmd_status,       [CTLCMD_START] = control_cmd_change,
    [CTLCMD_STOP] = control_cmd_change,         [CTLCMD_RESTART] = control_cmd_change,
    [CTLCMD_REFRESH] = control_cmd_change,      [CTLCMD_RELOAD] = control_cmd_reload,
    [CTLCMD_LIMITER] = control_cmd_limiter,     [CTLCMD_CHECK_CONFIG] = control_cmd_check_config,
    [CTLCMD_VERSION] = control_cmd_version,     [CTLCMD_WAIT] = control_cmd_wait,
    [CTLCMD_LOG_LEVEL] = control_cmd_log_level, [CTLCMD_MONITOR] = control_cmd_monitor,
};

json_t *control_unknown_command(const char *name)
{
	char names[256];

	ctlcmd_names(CTLCMD_DAEMON, names, sizeof(names));
	return control_error("usage", "unknown command '%s' (commands: %s)", name, names);
}

static json_t *dispatch(struct client *cl, int argc, char **argv)
{
	const struct ctlcmd *k = ctlcmd_find(argv[0]);

	if (!k || !(k->flags & CTLCMD_DAEMON) || !handlers[k->id])
		return control_unknown_command(argv[0]);
	if (argc - 1 < k->min_args || argc - 1 > k->max_args)
		return control_error("usage", "usage: %s", k->usage);
	if (!allowed(cl, k))
		return refuse(cl, k);
	return handlers[k->id](cl, argc, argv);
}

static void client_request(struct client *cl)
{
	char *argv[CONTROL_ARGS_MAX + 1];
	int argc = creq_split(cl->in, argv, CONTROL_ARGS_MAX);
	json_t *reply;

	if (argc < 0) {
		control_send(cl, control_error("usage", "too many words in the request"), true);
		return;
	}
	reply = argc ? dispatch(cl, argc, argv) : control_error("usage", "empty request");
	if (reply)
		control_send(cl, reply, true);
}

/* Reading: the request line; after it, anything more is discarded. */
static void on_client_read(EV_P_ ev_io *io, int revents)
{
	struct client *cl = io->data;
	char discard[256];
	ssize_t n;
	size_t at;

	(void)revents;
	if (cl->have_request) {
		/*
		 * EOF here may be a half-close (the client shut down its
		 * sending side and still reads): stop reading and keep going.
		 * A client that is really gone fails the next write (progress
		 * comes at least every CONTROL_TICK seconds while waiting).
		 */
		n = read(cl->fd, discard, sizeof(discard));
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			/* A monitor never writes after its request: EOF means it is gone. */
			if (cl->monitor) {
				client_free(cl);
				return;
			}
			ev_io_stop(EV_A_ io);
		}
		return;
	}
	n = read(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - 1 - cl->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	cl->inlen += (size_t)n;
	cl->in[cl->inlen] = '\0';
	switch (creq_scan(cl->in, cl->inlen, sizeof(cl->in) - 1, &at)) {
	case CREQ_INCOMPLETE:
		break;
	case CREQ_LINE:
		cl->in[at] = '\0';
		cl->have_request = true;
		client_request(cl);
		break;
	case CREQ_BAD_BYTE:
		/* Never valid, whatever follows: say so now, not after the idle time. */
		cl->have_request = true;
		control_send(cl,
		             control_error("usage",
		                           "invalid byte 0x%02x at offset %zu of the request (only "
		                           "printable ASCII words, one line)",
		                           (unsigned char)cl->in[at], at),
		             true);
		break;
	case CREQ_TOO_LONG:
		cl->have_request = true;
		control_send(
		    cl,
		    control_error("usage", "request longer than %d bytes", CONTROL_LINE_MAX - 1),
		    true);
		break;
	}
	(void)loop;
}

static void on_client_write(EV_P_ ev_io *io, int revents)
{
	struct client *cl = io->data;
	ssize_t n;

	(void)revents;
	n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	cl->outoff += (size_t)n;
	if (cl->outoff < cl->outlen)
		return;
	if (cl->finished) {
		client_free(cl);
		return;
	}
	cl->outoff = cl->outlen = 0;
	ev_io_stop(EV_A_ io);
}

static void on_client_idle(EV_P_ ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	client_free(t->data);
}

/* ---- access ---- */

static bool peer_in_group(int fd, gid_t group)
{
	gid_t small[CONTROL_PEER_GROUPS], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE)
			return false;
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == group)
			found = true;
	if (groups != small)
		free(groups);
	return found;
}

static void client_identify(struct client *cl)
{
	struct control *c = cl->ctl;
	socklen_t len = sizeof(cl->cred); /* set before the call: in and out */

	if (getsockopt(cl->fd, SOL_SOCKET, SO_PEERCRED, &cl->cred, &len) < 0 ||
	    len != sizeof(cl->cred)) {
		cl->cred.uid = (uid_t)-1; /* unknown peer: read-only at most */
		cl->cred.gid = (gid_t)-1;
		cl->tier = c->have_ro_group ? CONTROL_TIER_NONE : CONTROL_TIER_READ;
		return;
	}
	if (cl->cred.uid == 0 ||
	    (c->have_group && (cl->cred.gid == c->group || peer_in_group(cl->fd, c->group))))
		cl->tier = CONTROL_TIER_CONTROL;
	else if (!c->have_ro_group || cl->cred.gid == c->ro_group ||
	         peer_in_group(cl->fd, c->ro_group))
		/* Without readonly_group, whoever can open the 0660 socket may read. */
		cl->tier = CONTROL_TIER_READ;
	else
		cl->tier = CONTROL_TIER_NONE;
}

static bool is_root(const struct client *cl)
{
	return cl->cred.uid == 0;
}

static void count_clients(const struct control *c, const struct client *nw, struct admit_counts *n)
{
	memset(n, 0, sizeof(*n));
	for (const struct client *o = c->clients; o; o = o->next) {
		bool idle = !o->have_request, same = o->cred.uid == nw->cred.uid;

		n->total++;
		n->nonroot += !is_root(o);
		n->of_uid += same;
		n->idle += idle;
		n->idle_nonroot += idle && !is_root(o);
		n->idle_of_uid += idle && same;
	}
}

/* The oldest idle connection of the scope (the list is newest first). */
static struct client *oldest_idle(const struct control *c, enum admit_scope scope)
{
	struct client *found = NULL;

	for (struct client *o = c->clients; o; o = o->next) {
		if (o->have_request || (scope == ADMIT_SCOPE_NONROOT && is_root(o)))
			continue;
		found = o;
	}
	return found;
}

/*
 * Per-uid shares, a reserve for root, idle connections closed to make
 * room (control_req.h).  Refusals and evictions are logged rate-limited:
 * a flood of connections must not become a flood of log lines.
 */
static bool client_admit(struct control *c, struct client *cl)
{
	static const struct admit_limits lim = {CONTROL_MAX_CONNS, CONTROL_ROOT_RESERVE,
	                                        CONTROL_PER_UID};
	struct admit_counts n;
	enum admit_scope scope;
	enum admit_verdict v;
	struct client *victim;

	count_clients(c, cl, &n);
	v = admit_decide(&lim, &n, is_root(cl), &scope);
	if (v == ADMIT_OK)
		return true;
	if (v == ADMIT_EVICT_IDLE && (victim = oldest_idle(c, scope))) {
		log_ratelimited_at(&c->evict_rl, ev_now(c->d->loop),
		                   "control: %u connections open; closed an idle one of uid %d "
		                   "for uid %d",
		                   n.total, (int)victim->cred.uid, (int)cl->cred.uid);
		client_free(victim);
		return true;
	}
	log_ratelimited_at(&c->conn_rl, ev_now(c->d->loop),
	                   "control: refused a connection from uid %d (pid %d): %s (%u open)",
	                   (int)cl->cred.uid, (int)cl->cred.pid, admit_verdict_text(v), n.total);
	return false;
}

static void on_accept(EV_P_ ev_io *io, int revents)
{
	struct control *c = io->data;
	struct client *cl;
	int fd;

	(void)revents;
	fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		fatalx("out of memory");
	cl->ctl = c;
	cl->fd = fd;
	client_identify(cl);
	if (!client_admit(c, cl)) {
		close(fd);
		free(cl);
		return;
	}
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	ev_io_init(&cl->rio, on_client_read, fd, EV_READ);
	ev_io_init(&cl->wio, on_client_write, fd, EV_WRITE);
	ev_init(&cl->idle, on_client_idle);
	/* A crowded table gets less patience with connections that say nothing. */
	cl->idle.repeat = c->nclients > CONTROL_MAX_CONNS / 2 ? CONTROL_IDLE_BUSY : CONTROL_IDLE;
	ev_init(&cl->tick, control_wait_tick);
	cl->tick.repeat = CONTROL_TICK;
	ev_init(&cl->deadline, control_wait_deadline);
	cl->rio.data = cl->wio.data = cl->idle.data = cl->tick.data = cl->deadline.data = cl;
	ev_check_init(&cl->fresh_w, control_status_check);
	/* After every other callback of the pass: the workers' answers are read by then. */
	ev_set_priority(&cl->fresh_w, EV_MINPRI);
	ev_init(&cl->fresh_t, control_status_late);
	cl->fresh_w.data = cl->fresh_t.data = cl;
	ev_io_start(EV_A_ & cl->rio);
	ev_timer_again(EV_A_ & cl->idle);
}

/* ---- socket set-up ---- */

/*
 * The lock file is removed at stop (control_close, still holding the
 * lock): an instance that opened it just before then locks a file that
 * is no longer there, so a lock counts only while the path still names
 * the locked file; otherwise take the new one.
 */
static int take_lock_once(struct control *c, const char *lock, char *msg, size_t msglen);

static bool lock_is_current(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int take_lock(struct control *c, char *msg, size_t msglen)
{
	char lock[sizeof(c->path) + 8];

	snprintf(lock, sizeof(lock), "%s.lock", c->path);
	for (int tries = 0; tries < 5; tries++) {
		int err = take_lock_once(c, lock, msg, msglen);

		if (err || lock_is_current(c->lock_fd, lock))
			return err;
		close(c->lock_fd);
		c->lock_fd = -1;
	}
	snprintf(msg, msglen, "%s: keeps being replaced", lock);
	return -EAGAIN;
}

static int take_lock_once(struct control *c, const char *lock, char *msg, size_t msglen)
{
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		int err = errno;

		snprintf(msg, msglen, "%s: %s", lock, strerror(err));
		return -err;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		snprintf(msg, msglen, "another aiccud is running on control socket %s", c->path);
		close(c->lock_fd);
		c->lock_fd = -1;
		return err == EWOULDBLOCK ? -EADDRINUSE : -err;
	}
	return 0;
}

static int bind_socket(struct control *c, char *msg, size_t msglen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	const char *step = "socket";
	int err;

	memcpy(sun.sun_path, c->path, sizeof(sun.sun_path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	/* We hold the lock, so a socket file left here is stale. */
	unlink(c->path);
	step = "bind";
	if (bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	/*
	 * With a read-only group the socket is open to every local user, and
	 * the tier of each peer (client_identify) decides what it may do:
	 * one socket cannot be group-owned by two groups.
	 */
	step = c->have_ro_group ? "chmod 0666" : "chmod 0660";
	if (chmod(c->path, c->have_ro_group ? 0666 : 0660) < 0)
		goto fail;
	step = "chown to the control group";
	if (c->have_group && chown(c->path, 0, c->group) < 0)
		goto fail;
	step = "listen";
	if (listen(c->fd, 16) < 0)
		goto fail;
	return 0;
fail:
	err = errno;
	snprintf(msg, msglen, "control socket %s: %s: %s", c->path, step, strerror(err));
	return -err;
}

/*
 * The socket's directory: created 0750 (root:control_group; 0751 with a
 * read-only group) when missing.
 * An existing directory is adopted (group set to control_group, g+rx)
 * only when it is clearly aiccud's own: named "aiccud", owned by root and
 * closed to others (as dist/aiccud.tmpfiles creates /run/aiccud).  Any
 * other directory is left alone, and a warning says when the group
 * cannot reach the socket through it.
 */
static void socket_dir(struct control *c)
{
	char dir[sizeof(c->path)];
	mode_t mode = c->have_ro_group ? 0751 : 0750;
	struct stat st;
	char *base;

	memcpy(dir, c->path, sizeof(dir));
	base = strrchr(dir, '/');
	if (!base || base == dir)
		return;
	*base = '\0';
	if (mkdir(dir, mode) == 0) {
		/* The unit's UMask=0077 would leave it 0700. */
		if (chmod(dir, mode) < 0)
			log_warn("control: chmod %s", dir);
		if (c->have_group && chown(dir, 0, c->group) < 0)
			log_warn("control: chown %s to group %s", dir, c->d->cfg.control_group);
		return;
	}
	if ((!c->have_group && !c->have_ro_group) || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	base = strrchr(dir, '/');
	if (c->have_ro_group) {
		/* Others may pass through (not list) to the 0666 socket; the tiers guard it. */
		if (strcmp(base + 1, "aiccud") == 0 && st.st_uid == 0 && !(st.st_mode & 0006)) {
			if (chmod(dir, (st.st_mode & 07777) | 0001) < 0)
				log_warn("control: letting the read-only group %s through %s",
				         c->d->cfg.readonly_group, dir);
			st.st_mode |= 0001;
		} else if (!(st.st_mode & 0001))
			log_warnx("control: members of %s may not reach %s: its directory %s is "
			          "not open to them",
			          c->d->cfg.readonly_group, c->path, dir);
		if (!c->have_group)
			return;
	}
	if (strcmp(base + 1, "aiccud") == 0 && st.st_uid == 0 && !(st.st_mode & 0007)) {
		if (chown(dir, 0, c->group) < 0 || chmod(dir, (st.st_mode & 07777) | 0050) < 0)
			log_warn("control: giving group %s access to %s", c->d->cfg.control_group,
			         dir);
	} else if (st.st_gid != c->group && !(st.st_mode & 0001))
		log_warnx("control: members of %s may not reach %s: its directory %s is not "
		          "open to them",
		          c->d->cfg.control_group, c->path, dir);
}

int control_open(struct daemon *d, struct control **out, char *msg, size_t msglen)
{
	const char *path = d->cfg.control_socket;
	struct control *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->d = d;
	c->fd = c->lock_fd = -1;
	c->conn_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60, 3);
	c->evict_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60, 3);
	c->started = time(NULL);
	if (strlen(path) >= sizeof(c->path)) {
		snprintf(msg, msglen, "control socket path too long (%zu bytes, at most %zu): %s",
		         strlen(path), sizeof(c->path) - 1, path);
		free(c);
		return -ENAMETOOLONG;
	}
	memcpy(c->path, path, strlen(path) + 1);
	if (d->cfg.control_group[0]) {
		struct group *g = getgrnam(d->cfg.control_group);

		if (g) {
			c->group = g->gr_gid;
			c->have_group = true;
		} else
			log_warnx(
			    "control group '%s' (%s) does not exist; aiccuctl is for root only",
			    d->cfg.control_group, d->cfg.file);
	}
	if (d->cfg.readonly_group[0]) {
		struct group *g = getgrnam(d->cfg.readonly_group);

		if (g) {
			c->ro_group = g->gr_gid;
			c->have_ro_group = true;
		} else
			log_warnx("read-only group '%s' (%s) does not exist; the socket stays 0660",
			          d->cfg.readonly_group, d->cfg.file);
	}
	socket_dir(c);
	err = take_lock(c, msg, msglen);
	if (!err)
		err = bind_socket(c, msg, msglen);
	if (err) {
		control_close(c);
		return err;
	}
	err = registry_subscribe(d->reg, control_wait_on_change, c);
	if (err < 0) {
		control_close(c);
		return err;
	}
	control_monitor_init(c);
	ev_io_init(&c->accept_w, on_accept, c->fd, EV_READ);
	c->accept_w.data = c;
	ev_io_start(d->loop, &c->accept_w);
	*out = c;
	return 0;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	registry_unsubscribe(c->d->reg, control_wait_on_change, c);
	events_publish(EVENTS_DAEMON, NULL, "aiccud stopped");
	control_monitor_close(c);
	while (c->clients) {
		struct client *cl = c->clients;

		/* Monitors get what is queued (aiccud's last event) if the socket takes it now. */
		if (cl->monitor && cl->outlen > cl->outoff)
			(void)!send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
			            MSG_NOSIGNAL | MSG_DONTWAIT);
		client_free(cl);
	}
	if (c->fd >= 0) {
		ev_io_stop(c->d->loop, &c->accept_w);
		close(c->fd);
		unlink(c->path);
	}
	if (c->lock_fd >= 0) {
		char lock[sizeof(c->path) + 8];

		/* Ours while we hold it: removed before it is let go (take_lock). */
		snprintf(lock, sizeof(lock), "%s.lock", c->path);
		if (c->fd >= 0 && lock_is_current(c->lock_fd, lock))
			unlink(lock);
		close(c->lock_fd);
	}
	free(c);
}
