/*
 * Worker management in the parent: spawn (fork + exec), messages from the
 * worker, exit, stop.  Runs on the parent's loop (parent.c owns it).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "control.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "policy.h"

/* A worker that ignores SIGTERM this long gets SIGKILL. */
#define WORKER_STOP_TIMEOUT 5.0

static const char *const state_names[] = {
    [TS_STOPPED] = "stopped",   [TS_WAITING] = "waiting", [TS_FETCHING] = "fetching",
    [TS_STARTING] = "starting", [TS_UP] = "up",           [TS_STOPPING] = "stopping",
    [TS_FAILED] = "failed",
};

const char *tunnel_state_name(enum tunnel_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

struct tunnel_rt *daemon_find(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->ntunnels; i++)
		if (strcmp(d->tunnels[i].entry.conf.name, name) == 0)
			return &d->tunnels[i];
	return NULL;
}

void tunnel_set_state(struct tunnel_rt *t, enum tunnel_state s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
	if (t->state != s)
		log_info("%s: %s -> %s%s%s", t->entry.conf.name, tunnel_state_name(t->state),
		         tunnel_state_name(s), t->reason[0] ? ": " : "", t->reason);
	t->state = s;
	t->since = time(NULL);
	control_tunnel_changed(t->d->ctl, t);
}

bool tunnel_running(const struct tunnel_rt *t)
{
	return t->pid > 0;
}

static void policy_drop(struct tunnel_rt *t)
{
	const char *what = "";
	int err;

	if (!t->policy_installed)
		return;
	err = policy_remove(t->d->nc, &t->entry.conf, t->ifindex, &what);
	if (err < 0)
		log_warnx("%s: cannot remove %s: %s %s", t->entry.conf.name, what, strerror(-err),
		          netcfg_errmsg(t->d->nc));
	t->policy_installed = false;
}

/*
 * The parent installs routing only for what belongs to this tunnel: a file
 * tunnel must report exactly its file's address; a TIC tunnel a global
 * unicast address (never link-local, multicast, loopback or unspecified).
 */
static bool params_acceptable(const struct tunnel_rt *t, const struct tunnel_params *p,
                              const char **why)
{
	const struct in6_addr *a = &p->ipv6_local;

	if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_MULTICAST(a) ||
	    IN6_IS_ADDR_LINKLOCAL(a)) {
		*why = "local address is not a global unicast address";
		return false;
	}
	if (p->prefix_len > 128) {
		*why = "prefix length above 128";
		return false;
	}
	if (!t->entry.conf.tic && memcmp(a, &t->entry.conf.params.ipv6_local, sizeof(*a)) != 0) {
		*why = "local address differs from the tunnel file's";
		return false;
	}
	return true;
}

static void on_link_up(struct tunnel_rt *t, const struct ipc_up *up)
{
	char saved_password[TUNNEL_PASSWORD_MAX];
	const char *what = "";
	int err;

	t->ifindex = up->ifindex;
	if (!params_acceptable(t, &up->params, &what)) {
		log_warnx("%s: worker reported unusable parameters: %s", t->entry.conf.name, what);
		tunnel_stop(t);
		tunnel_set_state(t, TS_FAILED, "unusable tunnel parameters: %s", what);
		return;
	}
	/* Keep a file tunnel's password: the worker's report carries none. */
	memcpy(saved_password, t->entry.conf.params.password, sizeof(saved_password));
	t->entry.conf.params = up->params;
	memcpy(t->entry.conf.params.password, saved_password, sizeof(saved_password));
	explicit_bzero(saved_password, sizeof(saved_password));
	err = policy_install(t->d->nc, &t->entry.conf, t->ifindex, &what);
	if (err < 0) {
		log_warnx("%s: cannot install %s in table %u: %s %s", t->entry.conf.name, what,
		          t->entry.conf.table, strerror(-err), netcfg_errmsg(t->d->nc));
		tunnel_stop(t);
		tunnel_set_state(t, TS_FAILED, "cannot install %s: %s", what, strerror(-err));
		return;
	}
	t->policy_installed = true;
	ev_now_update(t->d->loop);
	t->up_latency = ev_now(t->d->loop) - t->spawned_at;
	log_info("%s: table %u and rule priority %u installed %.1f ms after start",
	         t->entry.conf.name, t->entry.conf.table, t->entry.conf.rule_priority,
	         t->up_latency * 1000.0);
	tunnel_set_state(t, TS_UP, "%s", "");
}

static void need_tic(struct tunnel_rt *t, const struct ipc_failed *why)
{
	t->need_tic = true;
	snprintf(t->reason, sizeof(t->reason), "%.*s", (int)sizeof(why->reason), why->reason);
}

static void on_worker_msg(EV_P_ ev_io *io, int revents)
{
	struct tunnel_rt *t = io->data;
	unsigned char buf[IPC_MSG_MAX];
	const void *p;
	int type;

	(void)revents;
	while ((type = ipc_recv(t->ipc_fd, buf, sizeof(buf), &p)) > 0) {
		if (type == IPC_W_UP && t->state == TS_STARTING)
			on_link_up(t, p);
		else if (type == IPC_W_FAILED)
			tunnel_set_state(t, TS_FAILED, "%.*s",
			                 (int)sizeof(((struct ipc_failed *)0)->reason),
			                 ((const struct ipc_failed *)p)->reason);
		else if (type == IPC_W_NEED_TIC && t->state == TS_STARTING)
			need_tic(t, p);
		else if (type == IPC_W_COUNTERS)
			memcpy(&t->counters, p, sizeof(t->counters));
	}
	if (type == 0 || (type < 0 && type != -EAGAIN)) {
		if (type == -EBADMSG)
			log_warnx("%s: malformed message from the worker", t->entry.conf.name);
		/* EOF: the worker is exiting; ev_child reports how. */
		ev_io_stop(EV_A_ io);
	}
}

static void worker_reaped(struct tunnel_rt *t, int status)
{
	ev_io_stop(t->d->loop, &t->ipc_w);
	ev_timer_stop(t->d->loop, &t->kill_w);
	close(t->ipc_fd);
	t->ipc_fd = -1;
	t->pid = 0;
	policy_drop(t);
	t->ifindex = 0;
	if (t->need_tic && t->state == TS_STARTING) {
		t->need_tic = false;
		tunnel_set_state(t, TS_WAITING, "%s; waiting for a TIC connection token",
		                 t->reason);
		fetch_kick(t->d);
	} else if (t->state == TS_STOPPING)
		tunnel_set_state(t, TS_STOPPED, "stopped on request");
	else if (t->state != TS_FAILED) {
		if (WIFSIGNALED(status))
			tunnel_set_state(t, TS_FAILED, "worker killed by signal %d",
			                 WTERMSIG(status));
		else
			tunnel_set_state(t, TS_FAILED, "worker exited with status %d",
			                 WEXITSTATUS(status));
	} else
		control_tunnel_changed(t->d->ctl, t);
}

static void on_child(EV_P_ ev_child *c, int revents)
{
	struct tunnel_rt *t = c->data;

	(void)revents;
	ev_child_stop(EV_A_ c);
	worker_reaped(t, c->rstatus);
}

static void on_kill_timeout(EV_P_ ev_timer *w, int revents)
{
	struct tunnel_rt *t = w->data;

	(void)loop;
	(void)revents;
	if (t->pid > 0) {
		log_warnx("%s: worker %d ignored SIGTERM for %.0f s; killing it",
		          t->entry.conf.name, (int)t->pid, WORKER_STOP_TIMEOUT);
		kill(t->pid, SIGKILL);
	}
}

void child_exec(const struct daemon *d, int fd, const char *mode, const char *name)
{
	char *argv[7];
	int argc = 0;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(fd, IPC_WORKER_FD) < 0)
		_exit(127);
	argv[argc++] = "aiccud";
	argv[argc++] = d->foreground ? "-d" : "-s";
	if (d->verbosity > 0)
		argv[argc++] = "-v";
	argv[argc++] = (char *)mode;
	if (name)
		argv[argc++] = (char *)name;
	argv[argc] = NULL;
	execv(d->self_exe, argv);
	_exit(127);
}

static const struct ipc_conf *worker_conf(const struct tunnel_rt *t)
{
	static struct ipc_conf ic;

	memset(&ic, 0, sizeof(ic));
	ic.conf = t->entry.conf;
	snprintf(ic.state_dir, sizeof(ic.state_dir), "%s", t->d->cfg.state_dir);
	ic.cache_max_age = t->d->cfg.cache_max_age;
	ic.fresh_fetch = t->fresh_fetch;
	return &ic;
}

static int worker_spawn(struct tunnel_rt *t)
{
	struct daemon *d = t->d;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0)
		child_exec(t->d, sv[1], "-W", t->entry.conf.name);
	close(sv[1]);
	t->pid = pid;
	t->ipc_fd = sv[0];
	fcntl(t->ipc_fd, F_SETFL, O_NONBLOCK);
	ev_io_init(&t->ipc_w, on_worker_msg, t->ipc_fd, EV_READ);
	ev_child_init(&t->child_w, on_child, pid, 0);
	t->ipc_w.data = t->child_w.data = t;
	ev_io_start(d->loop, &t->ipc_w);
	ev_child_start(d->loop, &t->child_w);
	if (ipc_send(t->ipc_fd, IPC_P_CONF, worker_conf(t), sizeof(struct ipc_conf)) < 0)
		log_warn("%s: sending the configuration to worker %d", t->entry.conf.name,
		         (int)pid);
	return 0;
}

int tunnel_spawn(struct tunnel_rt *t)
{
	int err;

	ev_now_update(t->d->loop);
	t->spawned_at = ev_now(t->d->loop);
	t->up_latency = -1;
	t->starts++;
	t->need_tic = false;
	memset(&t->counters, 0, sizeof(t->counters));
	err = worker_spawn(t);
	t->fresh_fetch = false;
	if (err < 0) {
		tunnel_set_state(t, TS_FAILED, "cannot start worker: %s", strerror(-err));
		return err;
	}
	tunnel_set_state(t, TS_STARTING, "worker %d started", (int)t->pid);
	return 0;
}

int tunnel_start(struct tunnel_rt *t)
{
	if (!t->entry.valid) {
		tunnel_set_state(t, TS_FAILED, "%s", t->entry.error);
		return -EINVAL;
	}
	if (tunnel_running(t) || t->state == TS_WAITING || t->state == TS_FETCHING)
		return 0;
	if (t->entry.conf.tic && !fetch_cache_usable(t->d, t)) {
		/* The limiter decides when TIC may be asked; fetch.c spawns us after. */
		tunnel_set_state(t, TS_WAITING, "waiting for a TIC connection token");
		fetch_kick(t->d);
		return 0;
	}
	return tunnel_spawn(t);
}

void tunnel_stop(struct tunnel_rt *t)
{
	if (t->state == TS_WAITING || t->state == TS_FETCHING) {
		/* A fetch under way still completes and fills the cache. */
		tunnel_set_state(t, TS_STOPPED, "stopped on request");
		return;
	}
	if (!tunnel_running(t)) {
		if (t->state != TS_FAILED)
			tunnel_set_state(t, TS_STOPPED, "stopped on request");
		return;
	}
	/* Routing first, so nothing is routed into a link that is going away. */
	policy_drop(t);
	if (t->state != TS_STOPPING) {
		kill(t->pid, SIGTERM);
		ev_timer_init(&t->kill_w, on_kill_timeout, WORKER_STOP_TIMEOUT, 0.);
		t->kill_w.data = t;
		ev_timer_start(t->d->loop, &t->kill_w);
	}
	tunnel_set_state(t, TS_STOPPING, "worker %d told to stop", (int)t->pid);
}
