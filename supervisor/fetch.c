/*
 * TIC fetches, on the parent's loop (parent.c owns it).
 *
 * Every TCP connection to a TIC server is made by a short-lived fetcher
 * child ("aiccud -F"), and every fetcher is started only after the limiter
 * granted a token and that grant was saved to disk: a crash at any point
 * loses at most an unused grant, so restarting aiccud in a loop cannot
 * reset the budget.  One fetcher runs at a time; it logs in once for an
 * account and fetches every waiting tunnel of that account.
 *
 * The parent never reads what TIC sent: the fetcher writes the tunnel
 * cache, the worker reads it, and the parent only looks at the cache
 * file's age (stat) and the fetcher's flat result messages.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fetch.h"
#include "fetch_plan.h"
#include "limiter.h"

#include "child.h"
#include "daemon.h"
#include "ipc.h"
#include "log.h"
#include "privsep.h"
#include "workers.h"
#include "events.h"

/* The fetcher bounds each step itself; this catches a stuck child. */
#define FETCH_DEADLINE 120.0
/* When saving the limiter state fails we must not connect: retry later. */
#define FETCH_SAVE_RETRY 5.0
/* The lines a fetcher can cause: at most this many per minute (workers.c's rule). */
#define FETCH_LOG_BURST 40

/* The one TIC fetcher child that may run at a time. */
struct fetch_rt {
	pid_t pid;
	int fd;
	ev_io io;
	ev_child child;
	ev_timer deadline;
	bool refused; /* the server turned the connection away */
	int err;      /* the session's -errno (IPC_F_DONE); -ECHILD: no outcome came */
	char server[TUNNEL_HOST_MAX];
	char reason[256];
	int phase;                  /* enum fetch_phase (fetch.h) */
	struct log_ratelimit rl;    /* every line the fetcher can cause */
	struct ipc_seccomp seccomp; /* its seccomp report, believed only if it died by SIGSYS */
	bool seccomp_said;
};

/* The scheduler's state: only this file reads or writes it (fetch.h has the views). */
struct fetch_state {
	struct fetch_rt rt;
	struct limiter limiter;
	char limiter_path[TUNNEL_PATH_MAX + 16];
	ev_timer token_w;      /* wakes the scheduler when the next token is due */
	ev_tstamp token_due;   /* when the scheduler wakes next (ev time); 0: never */
	const char *empty_why; /* why the bucket started empty; NULL after a grant */
	int save_err;          /* -errno of the last failed save; 0: saved */
};

static void limiter_persist(struct daemon *d, const char *why)
{
	int err = limiter_save(&d->fetch->limiter, d->fetch->limiter_path);

	d->fetch->save_err = err < 0 ? err : 0;
	if (err < 0)
		log_warnx("limiter: cannot save %s after %s: %s", d->fetch->limiter_path, why,
		          strerror(-err));
}

static void fetch_now(struct daemon *d);
static void fetch_kick(struct daemon *d);

static void on_stale_timer(EV_P_ ev_timer *w, int revents)
{
	struct tunnel_rt *t = w->data;

	(void)loop;
	(void)revents;
	if (t->on_stale && t->state == TS_UP && !t->refresh && !t->refreshing)
		fetch_refresh(t->d, t);
}

/* Running on a too old cache: ask TIC again after the delay of this streak. */
static void stale_schedule(struct daemon *d, struct tunnel_rt *t)
{
	double delay = fetch_plan_stale_delay(t->stale_streak + 1);

	ev_timer_stop(d->loop, &t->stale_w);
	ev_set_cb(&t->stale_w, on_stale_timer);
	ev_timer_set(&t->stale_w, delay, 0.);
	t->stale_w.data = t;
	ev_timer_start(d->loop, &t->stale_w);
}

/*
 * A tunnel that starts waiting for TIC (at start, or its worker asked)
 * wakes us; one that came up on a too old cache gets a fetch in the
 * background.
 */
static void on_registry(void *arg, const struct registry_change *c)
{
	struct daemon *d = arg;

	if (c->ev == REG_STATE && c->to == TS_WAITING && c->from != TS_WAITING)
		fetch_kick(d);
	if (c->ev == REG_STATE && c->to == TS_UP && c->from != TS_UP && c->t->on_stale)
		stale_schedule(d, c->t);
	if (c->ev == REG_STATE && c->to != TS_UP)
		ev_timer_stop(d->loop, &c->t->stale_w);
}

int fetch_init(struct daemon *d)
{
	struct limiter_now now;
	int err;

	/* Lives as long as the daemon: the fetcher's exit may come after fetch_shutdown. */
	d->fetch = calloc(1, sizeof(*d->fetch));
	if (!d->fetch)
		return -ENOMEM;
	d->fetch->rt.pid = 0;
	d->fetch->rt.fd = -1;
	d->fetch->rt.rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60.0, FETCH_LOG_BURST);
	ev_init(&d->fetch->token_w, NULL);
	snprintf(d->fetch->limiter_path, sizeof(d->fetch->limiter_path), "%s/limiter",
	         d->cfg.state_dir);
	if (mkdir(d->cfg.state_dir, 0700) < 0 && errno != EEXIST)
		log_warn("state directory %s", d->cfg.state_dir);
	limiter_now_read(&now);
	err = limiter_init(&d->fetch->limiter, d->cfg.limiter_burst, d->cfg.limiter_refill, &now);
	if (err < 0)
		return err;
	err = limiter_load(&d->fetch->limiter, d->fetch->limiter_path, &now);
	d->fetch->empty_why = limiter_empty_why(err);
	if (err == -ENOENT || err == LIMITER_STATE_NEW_BOOT || err == LIMITER_STATE_NEW_PARAMS)
		log_info("limiter: %s (no state in %s that counts)", d->fetch->empty_why,
		         d->fetch->limiter_path);
	else if (err == -EBADMSG)
		log_warnx("limiter: %s is corrupt; %s", d->fetch->limiter_path,
		          d->fetch->empty_why);
	else if (err < 0)
		log_warnx("limiter: cannot read %s: %s; %s", d->fetch->limiter_path, strerror(-err),
		          d->fetch->empty_why);
	/* Persist at once so that even a crash before the first grant keeps the clock. */
	limiter_persist(d, "start");
	return registry_subscribe(d->reg, on_registry, d);
}

static void fetch_now(struct daemon *d);

static void on_token(EV_P_ ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	fetch_now(w->data);
}

static void schedule(struct daemon *d, double after_s)
{
	d->fetch->token_due = ev_now(d->loop) + after_s;
	ev_timer_stop(d->loop, &d->fetch->token_w);
	ev_timer_init(&d->fetch->token_w, on_token, after_s, 0.);
	d->fetch->token_w.data = d;
	ev_timer_start(d->loop, &d->fetch->token_w);
}

double fetch_wait_reason(const struct daemon *d, char *buf, size_t len)
{
	struct limiter_now now;
	struct limiter_status st;
	double left;

	limiter_now_read(&now);
	limiter_status(&d->fetch->limiter, &now, &st);
	left = st.next_grant_s;
	if (d->fetch->save_err && d->fetch->token_due > 0)
		left = d->fetch->token_due - ev_now(d->loop);
	left = left < 1 ? 1 : left;
	if (st.penalty_active)
		snprintf(buf, len,
		         "the TIC server refused us; next connection in %.0f s (the broker blocks "
		         "clients that connect too often; aiccud waits out its penalty)",
		         left);
	else if (d->fetch->save_err)
		snprintf(buf, len,
		         "cannot write the limiter state %.200s: %s; no TIC connection until it is "
		         "saved (next try in %.0f s)",
		         d->fetch->limiter_path, strerror(-d->fetch->save_err), left);
	else if (d->fetch->empty_why)
		snprintf(buf, len, "waiting for a TIC connection token (next in %.0f s): %s", left,
		         d->fetch->empty_why);
	else
		snprintf(buf, len, "waiting for a TIC connection token (next in %.0f s)", left);
	return left;
}

/*
 * Every waiting tunnel of acct hears why and for how long (why NULL: the
 * limiter's reason, fetch_wait_reason); look again after wait_s.  The log
 * gets each new reason once, not once per tunnel.
 */
static void wait_for_token(struct daemon *d, double wait_s, const char *why,
                           const struct tic_account *acct)
{
	char text[sizeof(((struct tunnel_rt *)0)->reason)];
	bool logged = false;

	schedule(d, wait_s);
	if (!why) {
		fetch_wait_reason(d, text, sizeof(text));
		why = text;
	}
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t)) {
		if (t->state != TS_WAITING ||
		    !fetch_plan_same_account(&t->entry.conf.account, acct))
			continue;
		if (!logged && strcmp(t->reason, why) != 0) {
			log_info("%s: %s", t->entry.conf.name, why);
			events_publish(EVENTS_LIMITER, t->entry.conf.name, "waiting: %s", why);
			logged = true;
		}
		registry_set_state(t, TS_WAITING, "%s", why);
	}
}

/* Settle a refresh (fetch_refresh) once the fetcher has gone. */
static void refresh_finished(struct daemon *d, struct tunnel_rt *t)
{
	const struct fetch_rt *f = &d->fetch->rt;
	const char *name = t->entry.conf.name;
	bool running =
	    t->pid > 0 || t->state == TS_UP || t->state == TS_STARTING || t->state == TS_BACKOFF;

	t->refreshing = false;
	if (t->on_stale && !f->refused) {
		if (t->fetch_err) {
			t->stale_streak++;
			if (t->state == TS_UP)
				stale_schedule(d, t);
		} else {
			/* The cache is fresh again (changed or not). */
			workers_cache_renewed(t);
			t->stale_streak = 0;
			if (t->state == TS_UP)
				registry_set_state(t, TS_UP, "parameters fetched from TIC again");
		}
	}
	if (f->refused) {
		/* Again after the broker's penalty, which the limiter waits out. */
		t->refresh = true;
		registry_set_refresh_msg(
		    t, "refresh: TIC server %s refused us; asking again after its penalty",
		    f->server);
	} else if (t->fetch_err) {
		t->refresh_result = REFRESH_FAILED;
		char msg[sizeof(t->refresh_msg)];

		fetch_plan_refresh_failed(msg, sizeof(msg), f->server,
		                          t->fetch_reason[0] ? t->fetch_reason
		                          : f->reason[0]     ? f->reason
		                                             : "no answer for this tunnel");
		registry_set_refresh_msg(t, "%s", msg);
	} else if (!t->refresh_changed) {
		t->refresh_result = REFRESH_UNCHANGED;
		registry_set_refresh_msg(
		    t, "refresh: TIC has the parameters it runs on; left running");
	} else if (running) {
		t->refresh_result = REFRESH_RESTARTED;
		registry_set_refresh_msg(t, "refresh: TIC has new parameters; restarted on them");
	} else {
		t->refresh_result = REFRESH_CACHED;
		registry_set_refresh_msg(
		    t, "refresh: TIC has new parameters; its next start uses them");
	}
	log_info("%s: %s", name, t->refresh_msg);
	if (t->refresh_result == REFRESH_RESTARTED && !t->refresh)
		workers_restart(t); /* a restart reads the cache, which now holds them */
	registry_changed(t);
}

void fetch_refresh(struct daemon *d, struct tunnel_rt *t)
{
	t->refresh = true;
	t->refresh_result = REFRESH_NONE;
	registry_set_refresh_msg(t, "refresh: waiting for a TIC token");
	registry_changed(t);
	fetch_kick(d);
}

/*
 * One fetched tunnel: start it, start it on its too old cache, try again
 * later, or fail it with what a person should do.
 */
static void fetch_settle(struct daemon *d, struct tunnel_rt *t)
{
	const struct fetch_rt *f = &d->fetch->rt;
	char why[400];
	const char *hint;
	/* Held: fetched, not cached (the cache could not be written), given to the worker. */
	bool usable = !f->refused && (t->held || workers_cache_usable(d, t));

	snprintf(why, sizeof(why), "TIC %s: %s", f->server,
	         t->fetch_reason[0] && t->fetch_err != -ECANCELED ? t->fetch_reason
	         : f->reason[0]                                   ? f->reason
	         : t->fetch_reason[0]                             ? t->fetch_reason
	                                                          : "no answer for this tunnel");
	switch (fetch_plan_outcome(f->refused, f->err, t->fetch_err, usable, t->cache_stale)) {
	case FETCH_WAIT_AGAIN:
		registry_set_state(t, TS_WAITING, "TIC server %s refused us: %s", f->server,
		                   f->reason);
		break;
	case FETCH_START:
		workers_start_from(t, true, false);
		t->stale_streak = 0;
		workers_spawn(t);
		break;
	case FETCH_START_STALE:
		log_warnx("%s: %s; starting on the cached parameters although they are older "
		          "than cache_max_age",
		          t->entry.conf.name, why);
		workers_start_from(t, false, true);
		workers_spawn(t);
		break;
	case FETCH_RETRY:
		workers_retry_later(t, why);
		break;
	case FETCH_FAIL:
		hint = fetch_plan_hint(f->err, t->fetch_err);
		registry_feed(t, LC_FETCH_FAIL, "%s%s%s", why, hint[0] ? "; " : "", hint);
		break;
	}
}

/* The fetcher has gone: start what it fetched, fail what it could not. */
static void fetch_finished(struct daemon *d, int status)
{
	struct fetch_rt *f = &d->fetch->rt;

	ev_io_stop(d->loop, &f->io);
	ev_timer_stop(d->loop, &f->deadline);
	close(f->fd);
	f->fd = -1;
	privsep_seccomp_verdict("TIC fetcher", f->pid, f->seccomp_said ? &f->seccomp : NULL, status,
	                        &f->rl, ev_now(d->loop));
	f->seccomp_said = false;
	f->pid = 0;
	if (!f->reason[0] && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		snprintf(f->reason, sizeof(f->reason), "TIC fetcher %s %d",
		         WIFSIGNALED(status) ? "killed by signal" : "exited with status",
		         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t)) {
		if (t->refreshing) {
			refresh_finished(d, t);
			continue;
		}
		if (t->state != TS_FETCHING)
			continue;
		fetch_settle(d, t);
	}
	if (!d->shutting_down)
		fetch_kick(d);
}

static void on_fetch_child(EV_P_ ev_child *c, int revents)
{
	struct daemon *d = c->data;

	(void)revents;
	ev_child_stop(EV_A_ c);
	fetch_finished(d, c->rstatus);
}

static struct tunnel_rt *find_by_id(struct daemon *d, const char *id)
{
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
		if ((t->state == TS_FETCHING || t->refreshing) && strcmp(t->entry.conf.id, id) == 0)
			return t;
	return NULL;
}

/* The fetcher broke its boundary's rules: it is killed, and its session counts as failed. */
static void fetcher_refuse(struct daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fetcher_refuse(struct daemon *d, const char *fmt, ...)
{
	struct fetch_rt *f = &d->fetch->rt;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	log_ratelimited_at(&f->rl, ev_now(d->loop), "refused TIC fetcher %d: %s; killing it",
	                   (int)f->pid, f->reason);
	ev_io_stop(d->loop, &f->io);
	if (f->pid > 0)
		kill(f->pid, SIGKILL);
}

/* A fetcher's line through its rate limit (info unless warn). */
static void fetcher_log(struct daemon *d, bool warn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fetcher_log(struct daemon *d, bool warn, const char *fmt, ...)
{
	char line[512];
	uint64_t dropped;
	va_list ap;

	if (!log_ratelimit_allow(&d->fetch->rt.rl, ev_now(d->loop), &dropped))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (warn)
		log_warnx("%s%s", line, dropped ? " (after lines of the fetcher not logged)" : "");
	else
		log_info("%s%s", line, dropped ? " (after lines of the fetcher not logged)" : "");
}

static void on_fetch_result(void *ctx, const void *p)
{
	struct daemon *d = ctx;
	const struct ipc_fetch_result *r = p;
	char id[TUNNEL_ID_MAX];
	struct tunnel_rt *t;

	ipc_text(id, sizeof(id), r->id, sizeof(r->id));
	t = find_by_id(d, id);
	if (!t) {
		fetcher_refuse(d, "it sent a result for tunnel '%s', which it was not asked for",
		               id);
		return;
	}
	/* 0 or a negative errno; anything else is not an outcome. */
	t->fetch_err = r->err <= 0 && r->err > -4096 ? r->err : -EPROTO;
	t->refresh_changed = r->changed != 0;
	ipc_text(t->fetch_reason, sizeof(t->fetch_reason), r->reason, sizeof(r->reason));
	if (!t->fetch_err && r->cache_err) {
		if (r->cache_err >= 0 || r->held_len == 0 || r->held_len > sizeof(r->held)) {
			fetcher_refuse(d, "its result for %s holds no usable uncached parameters",
			               id);
			return;
		}
		workers_hold(t, r->held, r->held_len, r->cache_err);
		fetcher_log(d, true, "%s: %s; running on the fetched parameters from memory",
		            t->entry.conf.name, t->fetch_reason);
		return;
	}
	if (!t->fetch_err)
		workers_hold(t, NULL, 0, 0); /* the cache has them now */
	if (t->fetch_err)
		fetcher_log(d, true, "%s: TIC: %s", t->entry.conf.name, t->fetch_reason);
	else
		fetcher_log(d, false, "%s: parameters of %s fetched from TIC and cached",
		            t->entry.conf.name, id);
}

static void on_fetch_done(void *ctx, const void *p)
{
	struct daemon *d = ctx;
	const struct ipc_fetch_done *done = p;
	struct fetch_rt *f = &d->fetch->rt;
	struct limiter_now now;
	char warning[sizeof(done->warning)];

	f->phase = FETCH_PHASE_DONE;
	ipc_text(f->reason, sizeof(f->reason), done->reason, sizeof(done->reason));
	f->err = done->err;
	ipc_text(warning, sizeof(warning), done->warning, sizeof(done->warning));
	if (warning[0])
		log_warnx("TIC %s: %s", f->server, warning);
	if (done->err)
		log_warnx("TIC %s: %s", f->server, f->reason);
	if (done->refused) {
		f->refused = true;
		limiter_now_read(&now);
		limiter_penalize(&d->fetch->limiter, &now, LIMITER_PENALTY_MIN);
		limiter_persist(d, "a refusal");
		log_warnx("TIC %s turned us away; no TIC connection for %d s", f->server,
		          LIMITER_PENALTY_MIN);
	}
}

/* Believed only if the fetcher then dies by SIGSYS (fetch_finished). */
static void on_fetch_seccomp(void *ctx, const void *p)
{
	struct daemon *d = ctx;

	memcpy(&d->fetch->rt.seccomp, p, sizeof(d->fetch->rt.seccomp));
	d->fetch->rt.seccomp_said = true;
}

#define F_ANY (IPC_IN(FETCH_PHASE_RESULTS) | IPC_IN(FETCH_PHASE_DONE))

/* What a fetcher may send: results for the tunnels asked, one outcome, last. */
static const struct ipc_route fetch_routes[] = {
    {IPC_F_RESULT, IPC_IN(FETCH_PHASE_RESULTS), on_fetch_result},
    {IPC_F_DONE, IPC_IN(FETCH_PHASE_RESULTS), on_fetch_done},
    {IPC_C_SECCOMP, F_ANY, on_fetch_seccomp},
};

const struct ipc_route *fetch_ipc_routes(size_t *n)
{
	*n = sizeof(fetch_routes) / sizeof(fetch_routes[0]);
	return fetch_routes;
}

static void on_fetch_msg(EV_P_ ev_io *io, int revents)
{
	struct daemon *d = io->data;
	unsigned char buf[IPC_MSG_MAX];
	const void *p;
	int type = -EAGAIN, why;

	(void)revents;
	while (ev_is_active(io) && (type = ipc_recv(d->fetch->rt.fd, buf, sizeof(buf), &p)) > 0) {
		size_t n = 0;
		const struct ipc_route *tab = fetch_ipc_routes(&n);
		const struct ipc_route *r =
		    ipc_route_find(tab, n, type, (unsigned)d->fetch->rt.phase, &why);

		if (r)
			r->handle(d, p);
		else
			fetcher_refuse(d, "it sent %s (type %d) %s", ipc_type_name(type), type,
			               why == -EPERM ? "after its outcome"
			                             : "which no fetcher sends");
	}
	if (!ev_is_active(io))
		return;
	if (type == -EBADMSG)
		fetcher_refuse(d, "a malformed message (its length does not match its type)");
	else if (type == 0 || (type < 0 && type != -EAGAIN))
		ev_io_stop(EV_A_ io); /* EOF: ev_child reports the exit */
}

static void on_fetch_deadline(EV_P_ ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	if (d->fetch->rt.pid > 0) {
		log_warnx("TIC fetcher %d still running after %.0f s; killing it",
		          (int)d->fetch->rt.pid, FETCH_DEADLINE);
		snprintf(d->fetch->rt.reason, sizeof(d->fetch->rt.reason),
		         "no result within %.0f s", FETCH_DEADLINE);
		kill(d->fetch->rt.pid, SIGKILL);
	}
}

/* The batch's tunnels go into the request and start fetching. */
static void fetch_request(struct daemon *d, const struct fetch_batch *b, struct ipc_fetch *req)
{
	memset(req, 0, sizeof(*req));
	req->account = *b->account;
	snprintf(req->state_dir, sizeof(req->state_dir), "%s", d->cfg.state_dir);
	privsep_fill(d, &req->drop);
	for (size_t i = 0; i < b->n; i++) {
		struct tunnel_rt *t = b->tunnels[i];

		snprintf(req->ids[req->nids++], TUNNEL_ID_MAX, "%s", t->entry.conf.id);
		t->fetch_err = -EINPROGRESS;
		t->fetch_reason[0] = '\0';
		t->refresh_changed = false;
		if (t->state != TS_WAITING) {
			/* A refresh: the tunnel keeps running on its cache meanwhile. */
			t->refresh = false;
			t->refreshing = true;
			registry_set_refresh_msg(t, "refresh: fetching parameters from TIC %.100s",
			                         b->account->server);
			registry_changed(t);
			continue;
		}
		if (t->refresh) {
			/* It waited for TIC anyway: this fetch is its refresh. */
			t->refresh = false;
			t->refresh_result = REFRESH_RESTARTED;
			registry_set_refresh_msg(
			    t, "refresh: it was waiting for TIC; fetched and started");
		}
		registry_set_state(t, TS_FETCHING, "fetching parameters from TIC %s",
		                   b->account->server);
	}
}

static int fetch_spawn(struct daemon *d, const struct fetch_batch *b)
{
	const struct tic_account *acct = b->account;
	static struct ipc_fetch req;
	struct fetch_rt *f = &d->fetch->rt;
	pid_t pid = child_spawn(d, d->fetcher_exe, "-F", NULL, &f->fd);

	if (pid < 0)
		return (int)pid;
	f->pid = pid;
	f->refused = false;
	f->err = -ECHILD;
	f->reason[0] = '\0';
	f->phase = FETCH_PHASE_RESULTS;
	f->seccomp_said = false;
	snprintf(f->server, sizeof(f->server), "%s", acct->server);
	ev_io_init(&f->io, on_fetch_msg, f->fd, EV_READ);
	ev_child_init(&f->child, on_fetch_child, pid, 0);
	ev_timer_init(&f->deadline, on_fetch_deadline, FETCH_DEADLINE, 0.);
	f->io.data = f->child.data = f->deadline.data = d;
	ev_io_start(d->loop, &f->io);
	ev_child_start(d->loop, &f->child);
	ev_timer_start(d->loop, &f->deadline);
	fetch_request(d, b, &req);
	if (ipc_send(f->fd, IPC_P_FETCH, &req, sizeof(req)) < 0)
		log_warn("sending the fetch request to fetcher %d", (int)pid);
	explicit_bzero(&req.account.password, sizeof(req.account.password));
	log_info("TIC: fetcher %d asks %s for %u tunnel(s) of %s", (int)pid, acct->server, req.nids,
	         acct->username);
	events_publish(EVENTS_LIMITER, NULL, "granted a TIC connection: %s for %u tunnel(s) of %s",
	               acct->server, req.nids, acct->username);
	return 0;
}

/*
 * Deferred to the next loop iteration, so that every tunnel that starts
 * waiting now (all of them, at daemon start) joins the same TIC session.
 */
static void fetch_kick(struct daemon *d)
{
	if (d->fetch->rt.pid > 0 || d->shutting_down)
		return; /* fetch_finished kicks again */
	schedule(d, 0.);
}

static void fetch_now(struct daemon *d)
{
	struct tunnel_rt *batch[IPC_FETCH_MAX];
	struct fetch_batch b = {.tunnels = batch, .max = IPC_FETCH_MAX};
	struct limiter_now now;
	char why[128];
	double wait_s = 0;
	int err;

	if (d->fetch->rt.pid > 0 || d->shutting_down)
		return; /* fetch_finished kicks again */
	fetch_plan_batch(d->reg, &b);
	if (!b.account)
		return;
	limiter_now_read(&now);
	if (!fetch_plan_token(&d->fetch->limiter, &now, &wait_s, why, sizeof(why))) {
		events_publish(EVENTS_LIMITER, NULL, "%zu tunnel(s) of %s at %s: %s", b.n,
		               b.account->username, b.account->server, why);
		wait_for_token(d, wait_s, NULL, b.account);
		return;
	}
	/* The grant must be on disk before the connection is made. */
	err = limiter_save(&d->fetch->limiter, d->fetch->limiter_path);
	d->fetch->save_err = err < 0 ? err : 0;
	if (err < 0) {
		log_warnx("limiter: cannot save %s: %s; not connecting to TIC",
		          d->fetch->limiter_path, strerror(-err));
		wait_for_token(d, FETCH_SAVE_RETRY, NULL, b.account);
		return;
	}
	d->fetch->empty_why = NULL;
	err = fetch_spawn(d, &b);
	if (err < 0) {
		log_warnx("cannot start the TIC fetcher: %s", strerror(-err));
		wait_for_token(d, FETCH_SAVE_RETRY, "cannot start the TIC fetcher; retrying",
		               b.account);
	}
}

pid_t fetch_fetcher_pid(const struct daemon *d)
{
	return d->fetch ? d->fetch->rt.pid : 0;
}

bool fetch_token_awaited(const struct daemon *d)
{
	return d->fetch && d->fetch->rt.pid <= 0 && d->fetch->token_due > ev_now(d->loop);
}

const char *fetch_limiter_status(const struct daemon *d, struct limiter_status *st)
{
	struct limiter_now now;

	memset(st, 0, sizeof(*st));
	if (!d->fetch)
		return "";
	limiter_now_read(&now);
	limiter_status(&d->fetch->limiter, &now, st);
	return d->fetch->limiter_path;
}

void fetch_shutdown(struct daemon *d)
{
	if (!d->fetch)
		return;
	ev_timer_stop(d->loop, &d->fetch->token_w);
	if (d->fetch->rt.pid > 0)
		kill(d->fetch->rt.pid, SIGTERM);
}
