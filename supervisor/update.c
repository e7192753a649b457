/*
 * Endpoint updates (update.h): when to ask, the child that asks, what its
 * answer means for the tunnel.  The request and the answer's bytes live in
 * the child (tunnels/dyndns*.c); this file never sees them.
 */
#include "update.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "daemon.h"
#include "dyndns.h"
#include "fileio.h"
#include "ipc.h"
#include "limiter.h"
#include "log.h"
#include "netcfg.h"
#include "privsep.h"
#include "update_plan.h"
#include "events.h"

/* One URL's limiter bucket. */
struct bucket {
	struct bucket *next;
	char url[TUNNEL_URL_MAX];
	char path[TUNNEL_PATH_MAX + 32];
	struct limiter l;
	int save_err;
};

/* One tunnel's update state. */
struct upd {
	struct upd *next;
	struct updates *all;
	char name[IFNAMSIZ];
	struct update_saved s; /* what survives a restart */
	/* run time */
	struct in_addr current; /* the address to announce, as last seen */
	bool no_source;         /* no IPv4 route toward the PoP */
	unsigned retries;       /* back-off streak */
	ev_timer retry_w;       /* a back-off, or the limiter's next token */
	bool waiting_token;
	pid_t pid;
	int fd;
	ev_io io;
	ev_child child;
	ev_timer deadline;
	struct in_addr sent;
	bool got_result;
	struct ipc_update_result res;
	struct ipc_seccomp seccomp; /* its seccomp report, believed only if it died by SIGSYS */
	bool seccomp_said;
	struct log_ratelimit rl; /* the lines this update's children can cause */
};

struct updates {
	struct daemon *d;
	struct upd *list;
	struct bucket *buckets;
	ev_timer settle_w;
	ev_tstamp first_event; /* of the events the settle timer waits out; 0: none */
	char dir[TUNNEL_PATH_MAX + 16];
};

static void check(struct upd *u);

/* ---- small helpers ---- */

static const struct tunnel_conf *conf_of(const struct upd *u, struct tunnel_rt **out)
{
	struct tunnel_rt *t = registry_find(u->all->d->reg, u->name);

	if (out)
		*out = t;
	return t && t->entry.valid && t->entry.conf.has_update ? &t->entry.conf : NULL;
}

static void addr_text(struct in_addr a, char *buf, size_t len)
{
	if (!a.s_addr)
		snprintf(buf, len, "-");
	else
		inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

static void views_changed(struct upd *u)
{
	struct tunnel_rt *t = registry_find(u->all->d->reg, u->name);

	if (t)
		registry_changed(t);
}

/* ---- the state file: "key value" lines, written atomically ---- */

static void state_path(const struct upd *u, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", u->all->dir, u->name);
}

static void state_save(struct upd *u)
{
	char path[TUNNEL_PATH_MAX + 48], buf[UPDATE_STATE_MAX];
	int n = update_saved_format(&u->s, buf, sizeof(buf)), err;

	if (n < 0)
		return;
	state_path(u, path, sizeof(path));
	err = file_write_atomic(path, buf, (size_t)n, 0600);
	if (err < 0)
		log_warnx("%s: cannot save the update state %s: %s", u->name, path, strerror(-err));
}

/* A missing or unreadable state: no update known, so the next check asks. */
static void state_load(struct upd *u)
{
	char path[TUNNEL_PATH_MAX + 48], *buf = NULL;
	size_t len;
	int err;

	state_path(u, path, sizeof(path));
	err = file_read_small(path, UPDATE_STATE_MAX, 1, &buf, &len);
	if (err < 0) {
		if (err != -ENOENT)
			log_warnx("%s: update state %s: %s; asking the broker again", u->name, path,
			          strerror(-err));
		return;
	}
	update_saved_parse(buf, len, &u->s);
	free(buf);
}

/* ---- the per-URL limiter ---- */

static uint64_t fnv64(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct bucket *bucket_of(struct updates *all, const char *url)
{
	struct limiter_now now;
	struct bucket *b;
	int err;

	for (b = all->buckets; b; b = b->next)
		if (strcmp(b->url, url) == 0)
			return b;
	b = calloc(1, sizeof(*b));
	if (!b)
		fatalx("out of memory");
	snprintf(b->url, sizeof(b->url), "%s", url);
	snprintf(b->path, sizeof(b->path), "%s/update-limiter.%016llx", all->d->cfg.state_dir,
	         (unsigned long long)fnv64(url));
	limiter_now_read(&now);
	if (limiter_init(&b->l, UPDATE_LIMITER_BURST, UPDATE_LIMITER_REFILL, &now) < 0)
		fatalx("update limiter parameters");
	err = limiter_load(&b->l, b->path, &now);
	if (err != 0)
		log_info("update limiter for %s: %s (%s)", url,
		         limiter_empty_why(err) ? limiter_empty_why(err) : "new", b->path);
	b->next = all->buckets;
	all->buckets = b;
	return b;
}

/* A token for url, saved before use: true.  Else *wait_s says when to look again. */
static bool token_take(struct updates *all, const char *url, double *wait_s)
{
	struct bucket *b = bucket_of(all, url);
	struct limiter_now now;

	limiter_now_read(&now);
	if (!limiter_take(&b->l, &now, wait_s))
		return false;
	b->save_err = limiter_save(&b->l, b->path);
	if (b->save_err < 0) {
		log_warnx("update limiter: cannot save %s: %s; no request until it is saved",
		          b->path, strerror(-b->save_err));
		*wait_s = 5;
		return false;
	}
	return true;
}

/* ---- the child ---- */

static void retry_in(struct upd *u, double s)
{
	ev_timer_stop(u->all->d->loop, &u->retry_w);
	ev_timer_set(&u->retry_w, s, 0.);
	ev_timer_start(u->all->d->loop, &u->retry_w);
}

static void outcome(struct upd *u, const struct tunnel_conf *tc)
{
	struct ipc_update_result *r = &u->res;
	char a[INET_ADDRSTRLEN];

	addr_text(u->sent, a, sizeof(a));
	u->s.last_at = time(NULL);
	u->s.last_addr = u->sent;
	snprintf(u->s.last_word, sizeof(u->s.last_word), "%s", r->word[0] ? r->word : "error");
	snprintf(u->s.last_reason, sizeof(u->s.last_reason), "%s", r->reason);
	switch (r->verdict) {
	case DYNDNS_OK:
		u->s.ok_addr = u->sent;
		u->s.ok_at = u->s.last_at;
		snprintf(u->s.ok_word, sizeof(u->s.ok_word), "%s", r->word);
		u->retries = 0;
		u->s.retry_at = 0;
		log_info("%s: update: the broker has %s (%s)", u->name, a, r->word);
		events_publish(EVENTS_ENDPOINT, u->name, "the broker has %s (%s)", a, r->word);
		break;
	case DYNDNS_STOP:
		u->s.stopped = true;
		if (tc)
			update_fingerprint(&tc->update, u->s.stop_fp);
		log_warnx("%s: update for %s refused: %s; no more requests until its [update] "
		          "section changes or 'aiccuctl refresh %s'",
		          u->name, a, r->reason, u->name);
		events_publish(EVENTS_ENDPOINT, u->name, "update for %s refused: %s", a, r->reason);
		break;
	default:
		u->retries++;
		log_warnx("%s: update for %s failed: %s; again in %.0f s", u->name, a, r->reason,
		          update_backoff_s(u->retries));
		events_publish(EVENTS_ENDPOINT, u->name,
		               "update for %s failed: %s; again in %.0f s", a, r->reason,
		               update_backoff_s(u->retries));
		retry_in(u, update_backoff_s(u->retries));
		u->s.retry_at = u->s.last_at + (time_t)update_backoff_s(u->retries);
		break;
	}
	state_save(u);
}

static void on_msg(EV_P_ ev_io *io, int revents);

static void child_done(struct upd *u, int status)
{
	struct daemon *d = u->all->d;
	const struct tunnel_conf *tc = conf_of(u, NULL);

	/* The exit can be seen before the result it sent: read what is queued. */
	if (ev_is_active(&u->io))
		on_msg(d->loop, &u->io, EV_READ);
	ev_io_stop(d->loop, &u->io);
	ev_timer_stop(d->loop, &u->deadline);
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (!u->rl.interval)
		u->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60.0, 10);
	privsep_seccomp_verdict("update program", u->pid, u->seccomp_said ? &u->seccomp : NULL,
	                        status, &u->rl, ev_now(d->loop));
	u->seccomp_said = false;
	u->pid = 0;
	if (!u->got_result || !update_result_check(&u->res)) {
		memset(&u->res, 0, sizeof(u->res));
		u->res.err = -EPROTO;
		u->res.verdict = DYNDNS_RETRY;
		snprintf(u->res.reason, sizeof(u->res.reason),
		         "the update program %s %d without a result",
		         WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
		         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	if (d->shutting_down)
		return; /* cut short by us: nothing the broker said */
	outcome(u, tc);
	views_changed(u);
	if (u->res.verdict == DYNDNS_OK)
		check(u); /* the address may have moved again meanwhile */
}

static void on_child(EV_P_ ev_child *c, int revents)
{
	(void)revents;
	ev_child_stop(EV_A_ c);
	child_done(c->data, c->rstatus);
}

/* IPC_U_RESULT: the child's one outcome (checked in child_done). */
static void on_upd_result(void *ctx, const void *p)
{
	struct upd *u = ctx;

	memcpy(&u->res, p, sizeof(u->res));
	u->got_result = true;
}

/* Believed only if it dies by SIGSYS (child_done). */
static void on_upd_seccomp(void *ctx, const void *p)
{
	struct upd *u = ctx;

	memcpy(&u->seccomp, p, sizeof(u->seccomp));
	u->seccomp_said = true;
}

/* What an update child may send: one result, then nothing but a seccomp report. */
static const struct ipc_route upd_routes[] = {
    {IPC_U_RESULT, IPC_IN(UPDATE_PHASE_RESULT), on_upd_result},
    {IPC_C_SECCOMP, IPC_IN(UPDATE_PHASE_RESULT) | IPC_IN(UPDATE_PHASE_DONE), on_upd_seccomp},
};

const struct ipc_route *update_ipc_routes(size_t *n)
{
	*n = sizeof(upd_routes) / sizeof(upd_routes[0]);
	return upd_routes;
}

/*
 * A message outside the table (or a malformed one): said once (the
 * update's own rate limit), the child killed and its result forgotten, so
 * child_done retries after a back-off as for any child without a result.
 */
static void upd_refuse(struct upd *u, const char *what, int type, int why)
{
	if (!u->rl.interval)
		u->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(60.0, 10);
	log_ratelimited(&u->rl, "%s: update program %d sent %s (type %d) %s; killing it", u->name,
	                (int)u->pid, what, type,
	                why == -EPERM     ? "after its result"
	                : why == -EBADMSG ? "with a length that does not match its type"
	                                  : "which no update program sends");
	u->got_result = false;
	if (u->pid > 0)
		kill(u->pid, SIGKILL);
	ev_io_stop(u->all->d->loop, &u->io);
}

static void on_msg(EV_P_ ev_io *io, int revents)
{
	struct upd *u = io->data;
	unsigned char buf[IPC_MSG_MAX];
	const void *p;
	int type = -EAGAIN, why;

	(void)revents;
	while (ev_is_active(io) && (type = ipc_recv(u->fd, buf, sizeof(buf), &p)) > 0) {
		size_t n = 0;
		const struct ipc_route *tab = update_ipc_routes(&n);
		const struct ipc_route *r = ipc_route_find(
		    tab, n, type, u->got_result ? UPDATE_PHASE_DONE : UPDATE_PHASE_RESULT, &why);

		if (r)
			r->handle(u, p);
		else
			upd_refuse(u, ipc_type_name(type), type, why);
	}
	if (!ev_is_active(io))
		return;
	if (type == -EBADMSG)
		upd_refuse(u, "a malformed message", 0, -EBADMSG);
	else if (type == 0 || (type < 0 && type != -EAGAIN))
		ev_io_stop(EV_A_ io); /* EOF: ev_child reports the exit */
}

static void on_deadline(EV_P_ ev_timer *w, int revents)
{
	struct upd *u = w->data;

	(void)loop;
	(void)revents;
	if (u->pid > 0) {
		log_warnx("%s: update program %d still running after %.0f s; killing it", u->name,
		          (int)u->pid, UPDATE_DEADLINE_S);
		kill(u->pid, SIGKILL);
	}
}

static void spawn(struct upd *u, const struct tunnel_conf *tc)
{
	struct daemon *d = u->all->d;
	static struct ipc_update req;
	char a[INET_ADDRSTRLEN];
	pid_t pid = child_spawn(d, d->fetcher_exe, "-U", NULL, &u->fd);

	if (pid < 0) {
		log_warnx("%s: cannot start the update program: %s", u->name, strerror((int)-pid));
		retry_in(u, 5);
		return;
	}
	u->pid = pid;
	u->got_result = false;
	u->sent = u->current;
	ev_io_init(&u->io, on_msg, u->fd, EV_READ);
	ev_child_init(&u->child, on_child, pid, 0);
	ev_timer_init(&u->deadline, on_deadline, UPDATE_DEADLINE_S, 0.);
	u->io.data = u->child.data = u->deadline.data = u;
	ev_io_start(d->loop, &u->io);
	ev_child_start(d->loop, &u->child);
	ev_timer_start(d->loop, &u->deadline);
	memset(&req, 0, sizeof(req));
	snprintf(req.name, sizeof(req.name), "%s", u->name);
	req.update = tc->update;
	req.myip = u->current;
	/* A private address would tell the broker nothing: it takes the NAT's. */
	req.send_myip = dyndns_addr_public(u->current);
	privsep_fill(d, &req.drop);
	if (ipc_send(u->fd, IPC_P_UPDATE, &req, sizeof(req)) < 0)
		log_warn("%s: sending the update request to %d", u->name, (int)pid);
	explicit_bzero(&req, sizeof(req));
	addr_text(u->current, a, sizeof(a));
	log_info("%s: update: telling %s that our endpoint is %s%s", u->name, tc->update.url, a,
	         dyndns_addr_public(u->current) ? "" : " (private: myip left out)");
	views_changed(u);
}

/* ---- deciding ---- */

/* The address to announce now; false when there is none (no route). */
static bool address_now(struct upd *u, const struct tunnel_conf *tc)
{
	struct in_addr a = tc->params.ipv4_local;
	int err = 0;

	if (tc->ipv4_auto)
		err = netcfg_ipv4_source(tc->params.ipv4_pop, 0, &a);
	if (err < 0 || !a.s_addr) {
		if (!u->no_source)
			log_warnx("%s: update: no IPv4 route toward the PoP %s: %s", u->name,
			          inet_ntoa(tc->params.ipv4_pop),
			          err < 0 ? strerror(-err) : "no address");
		u->no_source = true;
		return false;
	}
	u->no_source = false;
	u->current = a;
	return true;
}

static void check(struct upd *u)
{
	const struct tunnel_conf *tc = conf_of(u, NULL);
	char fp[UPDATE_FP_HEX + 1];
	double wait_s = 0;
	struct in_addr before = u->current;

	if (!tc || u->pid > 0 || u->all->d->shutting_down)
		return;
	if (!address_now(u, tc))
		return;
	if (u->s.stopped) {
		update_fingerprint(&tc->update, fp);
		if (strcmp(fp, u->s.stop_fp) == 0)
			return;
		log_info("%s: its [update] section changed; updates resume", u->name);
		u->s.stopped = false;
		u->retries = 0;
		state_save(u);
	}
	if (u->current.s_addr == u->s.ok_addr.s_addr)
		return; /* the broker has it: a repeated nochg counts as abuse */
	/* A back-off runs for this address; a new address goes at once. */
	if (ev_is_active(&u->retry_w) && !u->waiting_token && u->current.s_addr == before.s_addr &&
	    u->retries)
		return;
	ev_timer_stop(u->all->d->loop, &u->retry_w);
	if (!token_take(u->all, tc->update.url, &wait_s)) {
		u->waiting_token = true;
		retry_in(u, wait_s > 0.05 ? wait_s : 0.05);
		views_changed(u);
		return;
	}
	u->waiting_token = false;
	spawn(u, tc);
}

static void on_retry(EV_P_ ev_timer *w, int revents)
{
	struct upd *u = w->data;

	(void)loop;
	(void)revents;
	check(u);
}

static void check_all(struct updates *all)
{
	for (struct upd *u = all->list; u; u = u->next)
		check(u);
}

static void on_settle(EV_P_ ev_timer *w, int revents)
{
	struct updates *all = w->data;

	(void)loop;
	(void)revents;
	all->first_event = 0;
	check_all(all);
}

void update_host_changed(struct daemon *d)
{
	struct updates *all = d->upd;
	ev_tstamp now;

	if (!all || !all->list)
		return;
	now = ev_now(d->loop);
	if (!all->first_event)
		all->first_event = now;
	/* Wait until the change has settled, but not forever under a stream of events. */
	if (now - all->first_event < UPDATE_SETTLE_MAX_S || !ev_is_active(&all->settle_w)) {
		ev_timer_stop(d->loop, &all->settle_w);
		ev_timer_set(&all->settle_w, UPDATE_SETTLE_S, 0.);
		ev_timer_start(d->loop, &all->settle_w);
	}
}

/* ---- tunnels coming and going ---- */

static struct upd *find(struct updates *all, const char *name)
{
	for (struct upd *u = all->list; u; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

static void add(struct updates *all, const struct tunnel_rt *t)
{
	struct upd *u;

	if (!t->entry.valid || !t->entry.conf.has_update || find(all, t->entry.conf.name))
		return;
	u = calloc(1, sizeof(*u));
	if (!u)
		fatalx("out of memory");
	u->all = all;
	u->fd = -1;
	snprintf(u->name, sizeof(u->name), "%s", t->entry.conf.name);
	ev_init(&u->retry_w, on_retry);
	u->retry_w.data = u;
	state_load(u);
	u->next = all->list;
	all->list = u;
	if (u->s.retry_at > time(NULL)) {
		/* A back-off from before a restart runs on for the address it was for. */
		const struct tunnel_conf *tc = conf_of(u, NULL);

		u->retries = 1;
		if (tc)
			address_now(u, tc); /* a new address after this one goes at once */
		retry_in(u, (double)(u->s.retry_at - time(NULL)));
	} else {
		retry_in(u, 0.);
	}
}

static void drop(struct updates *all, const char *name)
{
	for (struct upd **p = &all->list; *p; p = &(*p)->next) {
		struct upd *u = *p;

		if (strcmp(u->name, name) != 0)
			continue;
		if (u->pid > 0) {
			/* Its result has nobody to go to. */
			ev_child_stop(all->d->loop, &u->child);
			ev_io_stop(all->d->loop, &u->io);
			ev_timer_stop(all->d->loop, &u->deadline);
			kill(u->pid, SIGKILL);
			close(u->fd);
		}
		ev_timer_stop(all->d->loop, &u->retry_w);
		*p = u->next;
		free(u);
		return;
	}
}

static void on_registry(void *arg, const struct registry_change *c)
{
	struct updates *all = arg;
	struct upd *u;

	if (c->ev == REG_ADDED) {
		add(all, c->t);
	} else if (c->ev == REG_REMOVED) {
		if (!registry_find(all->d->reg, c->t->entry.conf.name))
			drop(all, c->t->entry.conf.name);
	} else if (c->ev == REG_STATE && c->to != c->from && (c->to == TS_STARTING)) {
		/* A (re)start, perhaps on a reloaded file: look again. */
		add(all, c->t);
		u = find(all, c->t->entry.conf.name);
		if (u)
			check(u);
	}
}

int update_init(struct daemon *d)
{
	struct updates *all = calloc(1, sizeof(*all));

	if (!all)
		return -ENOMEM;
	all->d = d;
	snprintf(all->dir, sizeof(all->dir), "%s/update", d->cfg.state_dir);
	if (mkdir(all->dir, 0700) < 0 && errno != EEXIST)
		log_warn("update state directory %s", all->dir);
	ev_init(&all->settle_w, on_settle);
	all->settle_w.data = all;
	d->upd = all;
	for (struct tunnel_rt *t = registry_first(d->reg); t; t = registry_next(t))
		add(all, t);
	return registry_subscribe(d->reg, on_registry, all);
}

void update_shutdown(struct daemon *d)
{
	struct updates *all = d->upd;

	if (!all)
		return;
	ev_timer_stop(d->loop, &all->settle_w);
	for (struct upd *u = all->list; u; u = u->next) {
		ev_timer_stop(d->loop, &u->retry_w);
		if (u->pid > 0)
			kill(u->pid, SIGTERM);
	}
}

void update_free(struct daemon *d)
{
	struct updates *all = d->upd;

	if (!all)
		return;
	registry_unsubscribe(d->reg, on_registry, all);
	while (all->list)
		drop(all, all->list->name);
	while (all->buckets) {
		struct bucket *b = all->buckets;

		all->buckets = b->next;
		free(b);
	}
	ev_timer_stop(d->loop, &all->settle_w);
	free(all);
	d->upd = NULL;
}

/* ---- control ---- */

int update_has(const struct tunnel_rt *t)
{
	return t->entry.valid && t->entry.conf.has_update;
}

void update_refresh(struct daemon *d, struct tunnel_rt *t)
{
	struct upd *u;

	if (!d->upd)
		return;
	add(d->upd, t);
	u = find(d->upd, t->entry.conf.name);
	if (!u)
		return;
	if (u->s.stopped)
		log_info("%s: aiccuctl refresh: updates resume after '%s'", u->name,
		         u->s.last_word);
	u->s.stopped = false;
	u->retries = 0;
	u->s.retry_at = 0;
	ev_timer_stop(d->loop, &u->retry_w);
	state_save(u);
	check(u);
	registry_set_refresh_msg(t, "refresh: endpoint update %s",
	                         u->pid > 0         ? "under way"
	                         : u->waiting_token ? "waiting for a token"
	                         : u->current.s_addr == u->s.ok_addr.s_addr
	                             ? "not needed: the broker has our address"
	                             : "not possible now (see status)");
	registry_changed(t);
}

static const char *state_text(const struct upd *u, const struct daemon *d, char *buf, size_t len)
{
	double left = ev_is_active(&u->retry_w)
	                  ? ev_timer_remaining((struct ev_loop *)d->loop, (ev_timer *)&u->retry_w)
	                  : 0;

	if (u->pid > 0)
		snprintf(buf, len, "updating");
	else if (u->s.stopped)
		snprintf(buf, len, "stopped: %s; edit [update] or run aiccuctl refresh",
		         u->s.last_reason);
	else if (u->no_source)
		snprintf(buf, len, "no IPv4 route toward the PoP");
	else if (u->waiting_token)
		snprintf(buf, len, "waiting for an update token (next in %.0f s)", left);
	else if (u->retries && left > 0)
		snprintf(buf, len, "retrying in %.0f s", left);
	else if (u->s.ok_addr.s_addr && u->s.ok_addr.s_addr == u->current.s_addr)
		snprintf(buf, len, "current");
	else
		snprintf(buf, len, "pending");
	return buf;
}

json_t *update_limiter_json(const struct daemon *d)
{
	json_t *list = json_array();

	if (!list)
		fatalx("out of memory");
	for (const struct bucket *b = d->upd ? d->upd->buckets : NULL; b; b = b->next) {
		struct limiter_now now;
		struct limiter_status st;
		json_t *o;

		limiter_now_read(&now);
		limiter_status(&b->l, &now, &st);
		o = json_pack("{s:s, s:i, s:i, s:i, s:f, s:I, s:I, s:s}", "url", b->url, "burst",
		              (int)st.burst, "refill", (int)st.refill, "tokens", (int)st.tokens,
		              "next_grant_s", st.next_grant_s, "grants", (json_int_t)st.grants,
		              "last_grant", (json_int_t)(st.last_grant_wall_ms / 1000),
		              "state_file", b->path);
		if (!o || json_array_append_new(list, o) < 0)
			fatalx("out of memory");
	}
	return list;
}

json_t *update_json(const struct daemon *d, const struct tunnel_rt *t)
{
	const struct tunnel_conf *tc = &t->entry.conf;
	const struct upd *u = d->upd ? find(d->upd, tc->name) : NULL;
	char cur[INET_ADDRSTRLEN], ok[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN], st[400];
	json_t *o;

	if (!u || !update_has(t))
		return NULL;
	addr_text(u->current, cur, sizeof(cur));
	addr_text(u->s.ok_addr, ok, sizeof(ok));
	addr_text(u->s.last_addr, last, sizeof(last));
	o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:I, s:s, s:I, s:s, s:s}", "url",
	              tc->update.url, "hostname", tc->update.hostname, "state",
	              state_text(u, d, st, sizeof(st)), "address", cur, "stopped", u->s.stopped,
	              "broker_address", ok, "broker_word", u->s.ok_word, "broker_at",
	              (json_int_t)u->s.ok_at, "last_address", last, "last_at",
	              (json_int_t)u->s.last_at, "last_answer", u->s.last_word, "last_reason",
	              u->s.last_reason);
	if (!o)
		fatalx("out of memory");
	return o;
}
