/*
 * Control socket server, on the parent's loop.  Each connection carries
 * one request line and gets one JSON reply; start/stop replies wait for
 * the tunnel to settle.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ev.h>

#include "daemon.h"
#include "log.h"

#define CONTROL_LINE_MAX  512
#define CONTROL_IDLE      10.0 /* seconds to send the request line */
#define CONTROL_MAX_CONNS 64

enum wait_for { WAIT_NONE, WAIT_UP, WAIT_STOPPED };

struct client {
	struct control *ctl;
	struct client *next;
	int fd;
	ev_io io;
	ev_timer idle;
	char in[CONTROL_LINE_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	struct ucred cred;
	struct tunnel_rt *waiting;
	enum wait_for want;
};

struct control {
	struct daemon *d;
	int fd;
	int lock_fd;
	gid_t group;
	bool have_group;
	ev_io accept_w;
	struct client *clients;
	unsigned nclients;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void client_free(struct client *cl)
{
	struct control *c = cl->ctl;
	struct client **pp;

	for (pp = &c->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	c->nclients--;
	ev_io_stop(c->d->loop, &cl->io);
	ev_timer_stop(c->d->loop, &cl->idle);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

static void on_client_write(EV_P_ ev_io *io, int revents);

/* Queue the reply (takes the reference) and switch to writing. */
static void client_reply(struct client *cl, json_t *reply)
{
	struct control *c = cl->ctl;
	char *text;

	json_object_set_new(reply, "version", json_integer(CONTROL_VERSION));
	text = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	if (!text)
		fatalx("out of memory");
	free(cl->out);
	cl->outlen = strlen(text) + 1;
	cl->out = text;
	cl->out[cl->outlen - 1] = '\n';
	cl->outoff = 0;
	cl->waiting = NULL;
	ev_io_stop(c->d->loop, &cl->io);
	ev_io_init(&cl->io, on_client_write, cl->fd, EV_WRITE);
	cl->io.data = cl;
	ev_io_start(c->d->loop, &cl->io);
	ev_timer_again(c->d->loop, &cl->idle);
}

static json_t *reply_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static json_t *reply_error(const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "error", msg);
}

static json_t *counters_json(const struct tunnel_counters *k)
{
	json_t *drops = json_object();

	for (int i = 0; i < DROP_REASON_COUNT; i++)
		json_object_set_new(drops, drop_reason_name(i),
		                    json_integer((json_int_t)k->drops[i]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "tx_packets",
	                 (json_int_t)k->tx_packets, "tx_bytes", (json_int_t)k->tx_bytes,
	                 "rx_packets", (json_int_t)k->rx_packets, "rx_bytes",
	                 (json_int_t)k->rx_bytes, "keepalives", (json_int_t)k->keepalives,
	                 "last_keepalive", (json_int_t)k->last_keepalive, "drops", drops);
}

json_t *control_tunnel_json(const struct tunnel_rt *t)
{
	const struct tunnel_conf *tc = &t->entry.conf;
	char local[INET6_ADDRSTRLEN], pop[INET6_ADDRSTRLEN], pop4[INET_ADDRSTRLEN];
	json_t *o;

	inet_ntop(AF_INET6, &tc->params.ipv6_local, local, sizeof(local));
	inet_ntop(AF_INET6, &tc->params.ipv6_pop, pop, sizeof(pop));
	inet_ntop(AF_INET, &tc->params.ipv4_pop, pop4, sizeof(pop4));
	o = json_pack(
	    "{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:s, s:s, s:i, s:I, s:I, s:I}", "name",
	    tc->name, "id", tc->id, "file", tc->file, "state", tunnel_state_name(t->state), "since",
	    (json_int_t)t->since, "reason", t->reason, "interface", tc->name, "ifindex", t->ifindex,
	    "type", tc->params.type ? tunnel_type_name(tc->params.type) : "", "datapath",
	    tunnel_datapath_name(tc->datapath), "pid", (int)t->pid, "table", (json_int_t)tc->table,
	    "rule_priority", (json_int_t)tc->rule_priority, "mtu", (json_int_t)tunnel_mtu(tc));
	if (!o)
		fatalx("out of memory");
	if (t->entry.valid) {
		json_object_set_new(o, "local",
		                    json_sprintf("%s/%u", local, tc->params.prefix_len));
		json_object_set_new(o, "pop", json_string(pop));
		json_object_set_new(o, "pop_ipv4", json_string(pop4));
	}
	if (t->counters.datapath)
		json_object_set_new(o, "datapath_in_use",
		                    json_string(tunnel_datapath_name(t->counters.datapath)));
	if (t->counters.local_ipv4.s_addr) {
		char me4[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &t->counters.local_ipv4, me4, sizeof(me4));
		json_object_set_new(o, "local_ipv4", json_string(me4));
	}
	/* The PoP has sent us something: it accepts our heartbeats / keep-alives. */
	json_object_set_new(o, "confirmed", json_boolean(t->counters.rx_packets > 0));
	json_object_set_new(o, "routing", json_boolean(t->policy_installed));
	json_object_set_new(o, "starts", json_integer(t->starts));
	if (t->up_latency >= 0 && t->state == TS_UP)
		json_object_set_new(o, "up_latency_ms", json_real(t->up_latency * 1000.0));
	json_object_set_new(o, "counters", counters_json(&t->counters));
	return o;
}

/* The TIC limiter: tokens left, when the next connection is allowed. */
json_t *control_limiter_json(const struct daemon *d)
{
	struct limiter_now now;
	struct limiter_status st;
	json_t *o;

	limiter_now_read(&now);
	limiter_status(&d->limiter, &now, &st);
	o = json_pack("{s:i, s:i, s:i, s:f, s:f, s:b, s:I, s:I}", "burst", (int)st.burst, "refill",
	              (int)st.refill, "tokens", (int)st.tokens, "next_grant_s", st.next_grant_s,
	              "next_token_s", st.next_token_s, "penalty", st.penalty_active, "grants",
	              (json_int_t)st.grants, "last_grant",
	              (json_int_t)(st.last_grant_wall_ms / 1000));
	if (!o)
		fatalx("out of memory");
	if (st.penalty_active)
		json_object_set_new(o, "penalty_until",
		                    json_integer((json_int_t)(st.penalty_until_wall_ms / 1000)));
	json_object_set_new(o, "state_file", json_string(d->limiter_path));
	json_object_set_new(o, "fetcher_pid", json_integer(d->fetch.pid));
	return o;
}

static json_t *cmd_limiter(struct client *cl)
{
	return json_pack("{s:b, s:o}", "ok", 1, "limiter", control_limiter_json(cl->ctl->d));
}

static json_t *cmd_status(struct client *cl, const char *arg)
{
	struct daemon *d = cl->ctl->d;
	json_t *list = json_array();

	if (arg) {
		struct tunnel_rt *t = daemon_find(d, arg);

		if (!t) {
			json_decref(list);
			return reply_error("unknown_tunnel", "no tunnel named '%s'", arg);
		}
		json_array_append_new(list, control_tunnel_json(t));
	} else {
		for (size_t i = 0; i < d->ntunnels; i++)
			json_array_append_new(list, control_tunnel_json(&d->tunnels[i]));
	}
	return json_pack("{s:b, s:o, s:o}", "ok", 1, "tunnels", list, "limiter",
	                 control_limiter_json(d));
}

static bool may_change(const struct client *cl)
{
	return cl->cred.uid == 0 || (cl->ctl->have_group && cl->cred.gid == cl->ctl->group);
}

/* Reply now if the tunnel has settled, else keep the client waiting. */
static json_t *settle(struct client *cl, struct tunnel_rt *t, enum wait_for want)
{
	enum tunnel_state s = t->state;

	if ((want == WAIT_UP && s == TS_UP) || (want == WAIT_STOPPED && s == TS_STOPPED))
		return json_pack("{s:b, s:o}", "ok", 1, "tunnel", control_tunnel_json(t));
	if (s == TS_FAILED) {
		json_t *r = reply_error("failed", "%s: %s", t->entry.conf.name, t->reason);

		json_object_set_new(r, "tunnel", control_tunnel_json(t));
		return r;
	}
	cl->waiting = t;
	cl->want = want;
	return NULL;
}

static json_t *cmd_change(struct client *cl, const char *cmd, const char *arg)
{
	struct tunnel_rt *t;

	if (!may_change(cl)) {
		log_warnx("control: refused '%s' from uid %d", cmd, (int)cl->cred.uid);
		return reply_error("permission", "'%s' needs root or the control group", cmd);
	}
	if (!arg)
		return reply_error("usage", "'%s' needs a tunnel name", cmd);
	t = daemon_find(cl->ctl->d, arg);
	if (!t)
		return reply_error("unknown_tunnel", "no tunnel named '%s'", arg);
	log_info("control: %s %s (uid %d)", cmd, arg, (int)cl->cred.uid);
	if (strcmp(cmd, "start") == 0) {
		tunnel_start(t);
		return settle(cl, t, WAIT_UP);
	}
	tunnel_stop(t);
	return settle(cl, t, WAIT_STOPPED);
}

static void client_request(struct client *cl)
{
	char *save = NULL;
	char *cmd = strtok_r(cl->in, " \t\r", &save);
	char *arg = cmd ? strtok_r(NULL, " \t\r", &save) : NULL;
	json_t *reply;

	if (cmd && strtok_r(NULL, " \t\r", &save))
		reply = reply_error("usage", "too many arguments");
	else if (!cmd)
		reply = reply_error("usage", "empty request");
	else if (strcmp(cmd, "status") == 0)
		reply = cmd_status(cl, arg);
	else if (strcmp(cmd, "limiter") == 0 && !arg)
		reply = cmd_limiter(cl);
	else if (strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0)
		reply = cmd_change(cl, cmd, arg);
	else
		reply = reply_error("usage",
		                    "unknown command '%s' (try status, start, stop, limiter)", cmd);
	if (reply)
		client_reply(cl, reply);
	else
		ev_timer_stop(cl->ctl->d->loop, &cl->idle); /* waiting on the tunnel */
}

static void on_client_read(EV_P_ ev_io *io, int revents)
{
	struct client *cl = io->data;
	ssize_t n;
	char *nl;

	(void)revents;
	(void)loop;
	n = read(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - 1 - cl->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	cl->inlen += (size_t)n;
	cl->in[cl->inlen] = '\0';
	nl = strchr(cl->in, '\n');
	if (nl) {
		*nl = '\0';
		ev_io_stop(EV_A_ io);
		client_request(cl);
	} else if (cl->inlen == sizeof(cl->in) - 1) {
		client_reply(
		    cl, reply_error("usage", "request longer than %d bytes", CONTROL_LINE_MAX - 1));
	}
}

static void on_client_write(EV_P_ ev_io *io, int revents)
{
	struct client *cl = io->data;
	ssize_t n;

	(void)revents;
	(void)loop;
	n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_free(cl);
		return;
	}
	cl->outoff += (size_t)n;
	if (cl->outoff == cl->outlen)
		client_free(cl);
}

static void on_client_idle(EV_P_ ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	client_free(t->data);
}

static void on_accept(EV_P_ ev_io *io, int revents)
{
	struct control *c = io->data;
	socklen_t len = sizeof(struct ucred);
	struct client *cl;
	int fd;

	(void)revents;
	fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (c->nclients >= CONTROL_MAX_CONNS) {
		log_warnx("control: %u connections open; refusing another", c->nclients);
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		fatalx("out of memory");
	cl->ctl = c;
	cl->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cl->cred, &len) < 0)
		cl->cred.uid = (uid_t)-1; /* unknown peer: read-only */
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	ev_io_init(&cl->io, on_client_read, fd, EV_READ);
	ev_init(&cl->idle, on_client_idle);
	cl->idle.repeat = CONTROL_IDLE;
	cl->io.data = cl->idle.data = cl;
	ev_io_start(EV_A_ & cl->io);
	ev_timer_again(EV_A_ & cl->idle);
}

void control_tunnel_changed(struct control *c, struct tunnel_rt *t)
{
	struct client *cl, *next;

	if (!c)
		return;
	for (cl = c->clients; cl; cl = next) {
		json_t *r;

		next = cl->next;
		if (cl->waiting != t)
			continue;
		r = settle(cl, t, cl->want);
		if (r)
			client_reply(cl, r);
	}
}

static int take_lock(struct control *c, char *msg, size_t msglen)
{
	char lock[sizeof(c->path) + 8];

	snprintf(lock, sizeof(lock), "%s.lock", c->path);
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		snprintf(msg, msglen, "%s: %s", lock, strerror(errno));
		return -errno;
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

	memcpy(sun.sun_path, c->path, sizeof(sun.sun_path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	/* We hold the lock, so a socket file left here is stale. */
	unlink(c->path);
	if (bind(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	if (chmod(c->path, 0660) < 0 || (c->have_group && chown(c->path, 0, c->group) < 0))
		goto fail;
	if (listen(c->fd, 16) < 0)
		goto fail;
	return 0;
fail:
	snprintf(msg, msglen, "control socket %s: %s", c->path, strerror(errno));
	return -errno;
}

int control_open(struct daemon *d, struct control **out, char *msg, size_t msglen)
{
	const char *path = d->cfg.control_socket;
	struct control *c;
	char dir[sizeof(c->path)];
	char *slash;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->d = d;
	c->fd = c->lock_fd = -1;
	if (strlen(path) >= sizeof(c->path)) {
		snprintf(msg, msglen, "control socket path too long: %s", path);
		free(c);
		return -ENAMETOOLONG;
	}
	memcpy(c->path, path, strlen(path) + 1);
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0750); /* an existing directory keeps its mode */
	}
	if (d->cfg.control_group[0]) {
		struct group *g = getgrnam(d->cfg.control_group);

		if (g) {
			c->group = g->gr_gid;
			c->have_group = true;
		} else
			log_warnx("control group '%s' does not exist; root only",
			          d->cfg.control_group);
	}
	err = take_lock(c, msg, msglen);
	if (!err)
		err = bind_socket(c, msg, msglen);
	if (err) {
		control_close(c);
		return err;
	}
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
	while (c->clients)
		client_free(c->clients);
	if (c->fd >= 0) {
		ev_io_stop(c->d->loop, &c->accept_w);
		close(c->fd);
		unlink(c->path);
	}
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c);
}
