/*
 * Setup-script runner (see hook.h).  Runs in the parent, on its loop:
 * fork + exec, the script's output read through a pipe, its exit seen by
 * ev_child, a timer for the timeout.  Needs root only in that the script
 * then runs as root; the checks in hook_script_check keep a script that
 * others could change from running.
 */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "log.h"

#define HOOK_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct hook_run {
	struct hooks *h;
	struct hook_run *next;
	char tunnel[IFNAMSIZ];
	char script[TUNNEL_PATH_MAX];
	enum hook_event ev;
	struct hook_env env;
	hook_done_fn *done;
	void *arg;
	/* while running */
	pid_t pid;
	int out_fd;
	ev_child child_w;
	ev_io out_w;
	ev_timer timer_w;
	ev_tstamp started;
	bool timed_out;
	char line[512];
	size_t linelen;
	unsigned lines, lines_dropped;
};

struct hooks {
	struct ev_loop *loop;
	double timeout;
	struct hook_run *runs; /* running first per tunnel, then its queue, in order */
};

const char *hook_event_name(enum hook_event e)
{
	return e == HOOK_UP ? "up" : "down";
}

/* ---- environment (pure) ---- */

static int env_add(struct hook_env *env, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int env_add(struct hook_env *env, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (env->n >= HOOK_ENV_MAX)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(env->buf + *off, sizeof(env->buf) - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(env->buf) - *off)
		return -ENOSPC;
	env->vars[env->n++] = env->buf + *off;
	env->vars[env->n] = NULL;
	*off += (size_t)n + 1;
	return 0;
}

static void routed_list(const struct tunnel_conf *tc, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < tc->nrouted && off < len; i++) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &tc->routed[i].addr, a, sizeof(a));
		off += (size_t)snprintf(out + off, len - off, "%s%s/%u", i ? " " : "", a,
		                        tc->routed[i].len);
	}
}

int hook_env_build(struct hook_env *env, const struct tunnel_conf *tc, enum hook_event ev,
                   int ifindex)
{
	const struct tunnel_params *p = &tc->params;
	char l6[INET6_ADDRSTRLEN], p6[INET6_ADDRSTRLEN],
	    p4[INET_ADDRSTRLEN] = "", l4[INET_ADDRSTRLEN] = "", routed[TUNNEL_ROUTED_MAX * 48];
	size_t off = 0;
	int err = 0;

	memset(env, 0, sizeof(*env));
	inet_ntop(AF_INET6, &p->ipv6_local, l6, sizeof(l6));
	inet_ntop(AF_INET6, &p->ipv6_pop, p6, sizeof(p6));
	if (p->ipv4_pop.s_addr)
		inet_ntop(AF_INET, &p->ipv4_pop, p4, sizeof(p4));
	if (p->ipv4_local.s_addr)
		inet_ntop(AF_INET, &p->ipv4_local, l4, sizeof(l4));
	routed_list(tc, routed, sizeof(routed));
	err |= env_add(env, &off, "PATH=%s", HOOK_PATH);
	err |= env_add(env, &off, "AICCUD_EVENT=%s", hook_event_name(ev));
	err |= env_add(env, &off, "AICCUD_TUNNEL=%s", tc->name);
	err |= env_add(env, &off, "AICCUD_INTERFACE=%s", tc->name);
	err |= env_add(env, &off, "AICCUD_IFINDEX=%d", ifindex);
	err |= env_add(env, &off, "AICCUD_ID=%s", tc->id);
	err |= env_add(env, &off, "AICCUD_TYPE=%s", p->type ? tunnel_type_name(p->type) : "");
	err |= env_add(env, &off, "AICCUD_LOCAL6=%s", l6);
	err |= env_add(env, &off, "AICCUD_PREFIXLEN=%u", p->prefix_len);
	err |= env_add(env, &off, "AICCUD_POP6=%s", p6);
	err |= env_add(env, &off, "AICCUD_POP4=%s", p4);
	err |= env_add(env, &off, "AICCUD_LOCAL4=%s", l4);
	err |= env_add(env, &off, "AICCUD_MTU=%u", tunnel_mtu(tc));
	err |= env_add(env, &off, "AICCUD_TABLE=%u", tc->table);
	err |= env_add(env, &off, "AICCUD_RULE_PRIORITY=%u", tc->rule_priority);
	err |= env_add(env, &off, "AICCUD_ROUTED=%s", routed);
	return err ? -ENOSPC : 0;
}

int hook_script_check(const char *path, char *msg, size_t len)
{
	struct stat st;

	if (path[0] != '/') {
		snprintf(msg, len, "setup script '%s' is not an absolute path", path);
		return -EINVAL;
	}
	if (stat(path, &st) < 0) {
		int err = errno;

		snprintf(msg, len, "setup script %s: %s", path, strerror(err));
		return -err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, len, "setup script %s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(msg, len, "setup script %s is owned by uid %d, not root: not run as root",
		         path, (int)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(msg, len,
		         "setup script %s is writable by %s: not run as root (chmod go-w)", path,
		         st.st_mode & S_IWOTH ? "others" : "its group");
		return -EPERM;
	}
	if (!(st.st_mode & S_IXUSR)) {
		snprintf(msg, len, "setup script %s is not executable (chmod u+x)", path);
		return -EACCES;
	}
	return 0;
}

/* ---- running ---- */

static void run_unlink(struct hook_run *r)
{
	struct hook_run **pp;

	for (pp = &r->h->runs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

static bool tunnel_busy(const struct hooks *h, const char *tunnel)
{
	for (const struct hook_run *r = h->runs; r; r = r->next)
		if (r->pid > 0 && strcmp(r->tunnel, tunnel) == 0)
			return true;
	return false;
}

static void log_line(struct hook_run *r)
{
	r->line[r->linelen] = '\0';
	r->linelen = 0;
	if (r->lines++ < HOOK_OUTPUT_MAX)
		log_info("%s: setup script (%s): %s", r->tunnel, hook_event_name(r->ev), r->line);
	else
		r->lines_dropped++;
}

/* Read what the script printed; log it line by line.  false at EOF or error. */
static bool drain_output(struct hook_run *r)
{
	char buf[1024];
	ssize_t n;

	while ((n = read(r->out_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || r->linelen == sizeof(r->line) - 1)
				log_line(r);
			if (buf[i] != '\n')
				r->line[r->linelen++] = (unsigned char)buf[i] < ' ' ? '?' : buf[i];
		}
	}
	return n < 0 && (errno == EAGAIN || errno == EINTR);
}

static void on_output(EV_P_ ev_io *w, int revents)
{
	struct hook_run *r = w->data;

	(void)revents;
	if (!drain_output(r))
		ev_io_stop(EV_A_ w); /* EOF: the exit comes through ev_child */
}

static void on_timeout(EV_P_ ev_timer *w, int revents)
{
	struct hook_run *r = w->data;

	(void)revents;
	if (!r->timed_out) {
		log_warnx("%s: setup script %s (%s) still running after %g s: killing it",
		          r->tunnel, r->script, hook_event_name(r->ev), r->h->timeout);
		r->timed_out = true;
		kill(-r->pid, SIGTERM);
		ev_timer_set(w, HOOK_KILL_GRACE, 0.);
	} else {
		kill(-r->pid, SIGKILL);
		ev_timer_set(w, HOOK_KILL_GRACE, 0.);
	}
	ev_timer_start(EV_A_ w);
}

static void start_next(struct hooks *h, const char *tunnel);

static void report_exit(struct hook_run *r, int status, double took)
{
	const char *ev = hook_event_name(r->ev);

	if (r->linelen)
		log_line(r);
	if (r->lines_dropped)
		log_info("%s: setup script (%s): %u more line(s) of output not logged", r->tunnel,
		         ev, r->lines_dropped);
	if (r->timed_out)
		log_warnx("%s: setup script %s (%s) timed out after %g s and was killed", r->tunnel,
		          r->script, ev, r->h->timeout);
	else if (WIFSIGNALED(status))
		log_warnx("%s: setup script %s (%s) killed by signal %d after %.1f s", r->tunnel,
		          r->script, ev, WTERMSIG(status), took);
	else if (WEXITSTATUS(status))
		log_warnx("%s: setup script %s (%s) failed with exit status %d after %.1f s",
		          r->tunnel, r->script, ev, WEXITSTATUS(status), took);
	else
		log_info("%s: setup script %s (%s) done in %.1f s", r->tunnel, r->script, ev, took);
}

static void run_finish(struct hook_run *r, int status)
{
	struct hooks *h = r->h;
	char tunnel[IFNAMSIZ];

	ev_child_stop(h->loop, &r->child_w);
	ev_io_stop(h->loop, &r->out_w);
	ev_timer_stop(h->loop, &r->timer_w);
	drain_output(r); /* what is left; a background child may hold the pipe: no waiting */
	close(r->out_fd);
	ev_now_update(h->loop);
	report_exit(r, status, ev_now(h->loop) - r->started);
	if (r->done)
		r->done(r->arg, r->tunnel, r->ev, status, r->timed_out);
	memcpy(tunnel, r->tunnel, sizeof(tunnel));
	run_unlink(r);
	free(r);
	start_next(h, tunnel);
}

static void on_child(EV_P_ ev_child *w, int revents)
{
	(void)loop;
	(void)revents;
	run_finish(w->data, w->rstatus);
}

/* In the child: a clean process for the script.  Never returns. */
static void __attribute__((noreturn)) child(const struct hook_run *r, int out)
{
	char *argv[] = {(char *)r->script, (char *)hook_event_name(r->ev), (char *)r->tunnel, NULL};
	sigset_t none;
	int null;

	setpgid(0, 0); /* its own group: a timeout kills what it started too */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL); /* the parent ignores SIGPIPE; exec would keep that */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	closefrom(STDERR_FILENO + 1);
	execve(r->script, argv, r->env.vars);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", r->script, strerror(errno));
	_exit(127);
}

static int run_start(struct hook_run *r)
{
	struct hooks *h = r->h;
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return -err;
	}
	if (pid == 0)
		child(r, pipefd[1]);
	close(pipefd[1]);
	setpgid(pid, pid); /* also here: no race with a timeout before the child ran */
	r->pid = pid;
	r->out_fd = pipefd[0];
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	ev_now_update(h->loop);
	r->started = ev_now(h->loop);
	ev_child_init(&r->child_w, on_child, pid, 0);
	ev_io_init(&r->out_w, on_output, r->out_fd, EV_READ);
	ev_timer_init(&r->timer_w, on_timeout, h->timeout, 0.);
	r->child_w.data = r->out_w.data = r->timer_w.data = r;
	ev_child_start(h->loop, &r->child_w);
	ev_io_start(h->loop, &r->out_w);
	ev_timer_start(h->loop, &r->timer_w);
	log_info("%s: setup script %s (%s) started, pid %d", r->tunnel, r->script,
	         hook_event_name(r->ev), (int)pid);
	return 0;
}

/* The oldest queued run of tunnel, if none of its runs is under way. */
static void start_next(struct hooks *h, const char *tunnel)
{
	struct hook_run *r;

	if (tunnel_busy(h, tunnel))
		return;
	for (r = h->runs; r; r = r->next) {
		int err;

		if (strcmp(r->tunnel, tunnel) != 0)
			continue;
		err = run_start(r);
		if (err == 0)
			return;
		log_warnx("%s: cannot start setup script %s (%s): %s", r->tunnel, r->script,
		          hook_event_name(r->ev), strerror(-err));
		run_unlink(r);
		free(r);
		start_next(h, tunnel);
		return;
	}
}

struct hooks *hooks_new(struct ev_loop *loop, double timeout_s)
{
	struct hooks *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = loop;
	h->timeout = timeout_s > 0 ? timeout_s : HOOK_TIMEOUT;
	return h;
}

int hooks_run(struct hooks *h, const struct tunnel_conf *tc, enum hook_event ev, int ifindex,
              hook_done_fn *done, void *arg)
{
	struct hook_run *r, **tail;
	unsigned queued = 0;
	char msg[TUNNEL_PATH_MAX + 128];
	int err;

	if (!tc->setup_script[0])
		return 0;
	err = hook_script_check(tc->setup_script, msg, sizeof(msg));
	if (err < 0) {
		log_warnx("%s: %s (%s): not run", tc->name, msg, hook_event_name(ev));
		return err;
	}
	for (r = h->runs; r; r = r->next)
		if (strcmp(r->tunnel, tc->name) == 0 && r->pid <= 0)
			queued++;
	if (queued >= HOOK_QUEUE_MAX) {
		log_warnx("%s: %u setup script runs already wait: %s event not run", tc->name,
		          queued, hook_event_name(ev));
		return -EBUSY;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->h = h;
	r->ev = ev;
	r->done = done;
	r->arg = arg;
	r->out_fd = -1;
	snprintf(r->tunnel, sizeof(r->tunnel), "%s", tc->name);
	snprintf(r->script, sizeof(r->script), "%s", tc->setup_script);
	if (hook_env_build(&r->env, tc, ev, ifindex) < 0) {
		free(r);
		return -ENOSPC;
	}
	for (tail = &h->runs; *tail; tail = &(*tail)->next)
		;
	*tail = r; /* runs of one tunnel start in the order they were asked for */
	start_next(h, tc->name);
	return 0;
}

unsigned hooks_pending(const struct hooks *h)
{
	unsigned n = 0;

	for (const struct hook_run *r = h->runs; r; r = r->next)
		n++;
	return n;
}

void hooks_free(struct hooks *h)
{
	if (!h)
		return;
	while (h->runs) {
		struct hook_run *r = h->runs;

		if (r->pid > 0) {
			int status = 0;

			kill(-r->pid, SIGKILL);
			waitpid(r->pid, &status, 0);
			ev_child_stop(h->loop, &r->child_w);
			ev_io_stop(h->loop, &r->out_w);
			ev_timer_stop(h->loop, &r->timer_w);
			close(r->out_fd);
			log_warnx("%s: setup script %s (%s) killed: aiccud is stopping", r->tunnel,
			          r->script, hook_event_name(r->ev));
		}
		h->runs = r->next;
		free(r);
	}
	free(h);
}
