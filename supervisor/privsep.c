/*
 * Least privilege, the parent's part (privsep.h).  Runs on the parent's
 * loop; every kernel change here needs CAP_NET_ADMIN, which it keeps.
 */
#include "privsep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cache.h"
#include "daemon.h"
#include "log.h"
#include "netcfg.h"
#include "privdrop.h"
#include "privparent.h"
#include "privreq.h"

/*
 * One cache file to the user: only a regular file with no other name.  The
 * directory is the user's, so a name in it may be a hard link to any file
 * of the host (/etc/shadow): the file is opened (never following a
 * symlink), its own inode checked and changed through that descriptor, so
 * a name swapped meanwhile changes nothing else.
 */
static void cache_file_chown(int dir, const char *name, uid_t uid, gid_t gid)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		log_warn("tunnel cache file %s", name);
		return;
	}
	if (fstat(fd, &st) < 0)
		log_warn("tunnel cache file %s", name);
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		log_warnx("tunnel cache file %s is not a regular file with one name (%lu links); "
		          "not handing it to uid %u",
		          name, (unsigned long)st.st_nlink, (unsigned)uid);
	else if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
		log_warn("cannot hand the tunnel cache file %s to uid %u", name, (unsigned)uid);
	close(fd);
}

/*
 * Existing cache files (an older aiccud wrote them as root) go to the
 * user too, so the fetcher may replace them and a worker mark them.
 */
static void cache_files_chown(int dir, uid_t uid, gid_t gid)
{
	int fd = dup(dir);
	DIR *dp = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;

	if (!dp) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(dp)))
		if (e->d_type == DT_REG)
			cache_file_chown(dir, e->d_name, uid, gid);
	closedir(dp);
}

/*
 * <state_dir>/tunnels: 0700, owned by the user (needs CAP_CHOWN, at start
 * only).  A state directory that is full or read-only does not stop the
 * daemon: file tunnels run, and TIC tunnels wait with the reason in status
 * (the limiter state cannot be saved; the fetcher names the directory).
 */
static void cache_dir_prepare(const struct daemon *d)
{
	int dir = cache_dir_open(d->cfg.state_dir, true);

	if (dir < 0) {
		log_warnx("tunnel cache directory %s/" CACHE_DIR ": %s", d->cfg.state_dir,
		          strerror(-dir));
		return;
	}
	if (fchmod(dir, 0700) < 0 || fchown(dir, d->run_uid, d->run_gid) < 0)
		log_warn("cannot give the tunnel cache directory %s/" CACHE_DIR " to %s",
		         d->cfg.state_dir, d->cfg.user);
	else
		cache_files_chown(dir, d->run_uid, d->run_gid);
	close(dir);
}

int privsep_init(struct daemon *d)
{
	char missing[256];
	bool no_net_admin;
	int err;

	/* Before READY: a daemon that cannot make a link must not claim to be ready. */
	privparent_missing(missing, sizeof(missing), &no_net_admin);
	if (no_net_admin) {
		log_errx("missing capability CAP_NET_ADMIN (effective set lacks %s): aiccud cannot "
		         "create tunnel links or routing; not starting.  Run it as root with "
		         "CAP_NET_ADMIN (systemd: CapabilityBoundingSet of aiccud.service; a "
		         "container must be given that capability)",
		         missing);
		return -1;
	}
	err = privparent_user_lookup(d->cfg.user, &d->run_uid, &d->run_gid);

	if (err == -ENOENT) {
		log_warnx(
		    "%s: [daemon] user = %s: no such user; the workers and the TIC fetcher "
		    "run as it.  Create it (Debian: adduser --system --group --no-create-home "
		    "%s; elsewhere: useradd --system --user-group --no-create-home --shell "
		    "/usr/sbin/nologin %s) or name another one in [daemon] user",
		    d->cfg.file, d->cfg.user, d->cfg.user, d->cfg.user);
		return -1;
	}
	if (err < 0) {
		log_warnx("%s: [daemon] user = %s: cannot look it up: %s", d->cfg.file, d->cfg.user,
		          strerror(-err));
		return -1;
	}
	if (d->run_uid == 0 || d->run_gid == 0) {
		log_warnx("%s: [daemon] user = %s is root (uid %u gid %u); the children must run "
		          "unprivileged: name a system user of their own",
		          d->cfg.file, d->cfg.user, (unsigned)d->run_uid, (unsigned)d->run_gid);
		return -1;
	}
	if (getuid() != 0) {
		log_warnx("not started as root: the tunnels cannot be set up");
		return 0;
	}
	cache_dir_prepare(d);
	return 0;
}

void privsep_limit(struct daemon *d)
{
	char err[256];

	(void)d;
	char missing[256];
	bool no_net_admin;

	if (getuid() != 0)
		return;
	/* Read before the limit: CHOWN and FOWNER go with it, and are not asked for. */
	privparent_missing(missing, sizeof(missing), &no_net_admin);
	if (privparent_limit(err, sizeof(err)) < 0)
		log_warnx("%s; going on with more privilege than needed", err);
	else if (missing[0])
		log_warnx("running as root without %s (not in the capability bounding set); "
		          "what needs it will fail.  Kept: the rest of %s; workers and the TIC "
		          "fetcher run as %s (uid %u)",
		          missing, privparent_caps_text(), d->cfg.user, (unsigned)d->run_uid);
	else
		log_info("running as root with only %s; workers and the TIC fetcher run as %s "
		         "(uid %u)",
		         privparent_caps_text(), d->cfg.user, (unsigned)d->run_uid);
}

void privsep_fill(const struct daemon *d, struct ipc_drop *out)
{
	memset(out, 0, sizeof(*out));
	out->uid = (uint32_t)d->run_uid;
	out->gid = (uint32_t)d->run_gid;
	/* -v: a forbidden call is named before the child dies (RET_TRAP). */
	out->trap = d->verbosity > 0;
}

void privsep_seccomp_verdict(const char *who, pid_t pid, const struct ipc_seccomp *m, int status,
                             struct log_ratelimit *rl, double now)
{
	char name[64];

	if (!m)
		return;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS) {
		log_ratelimited_at(
		    rl, now,
		    "%s: process %d reported a forbidden system call but did not die "
		    "by SIGSYS; report not believed",
		    who, (int)pid);
		return;
	}
	priv_syscall_name(m->nr, m->arch, name, sizeof(name));
	log_warnx("%s: process %d made a forbidden system call: %s; its seccomp filter killed it",
	          who, (int)pid, name);
}

/* What link_configure made, again: the address (its local route with it), the link up. */
static int repair_do(struct netcfg *nc, int ifindex, const struct netcfg_addr *a, uint32_t what)
{
	int err = 0;

	if (what & IPC_REPAIR_READD) {
		/* The kernel makes the local route when an address is added, and only then. */
		err = netcfg_addr_del(nc, a);
		if (err == -ENOENT || err == -EADDRNOTAVAIL)
			err = 0;
	}
	if (!err && (what & (IPC_REPAIR_ADDR | IPC_REPAIR_READD)))
		err = netcfg_addr_add(nc, a);
	if (!err && (what & IPC_REPAIR_LINK_UP))
		err = netcfg_link_set(nc, ifindex, true, 0);
	return err;
}

static int request_do(struct tunnel_rt *t, const struct ipc_priv_req *r, const char **why)
{
	struct netcfg *nc = t->d->nc;
	struct netcfg_link l;
	/* The parent's own copy of the tunnel's address, not the worker's. */
	struct netcfg_addr a = {.ifindex = t->ifindex,
	                        .addr = t->entry.conf.params.ipv6_local,
	                        .prefix_len = t->entry.conf.params.prefix_len,
	                        .nodad = true,
	                        .noprefixroute = true};
	struct in_addr src = {0};
	int err = netcfg_link_get(nc, t->ifindex, NULL, &l);

	if (err < 0 || strcmp(l.name, t->entry.conf.name) != 0) {
		*why = "the link is not the tunnel's any more";
		return err < 0 ? err : -EPERM;
	}
	switch (r->op) {
	case IPC_PRIV_SIT_LOCAL:
		err =
		    netcfg_ipv4_source(t->entry.conf.params.ipv4_pop, TUNNEL_HEARTBEAT_PORT, &src);
		if (err < 0 || src.s_addr != r->local4.s_addr) {
			*why = "not this host's source address toward the tunnel's PoP";
			return err < 0 ? err : -EPERM;
		}
		err = netcfg_sit_set_local(nc, t->ifindex, r->local4);
		break;
	case IPC_PRIV_REPAIR:
		err = repair_do(nc, t->ifindex, &a, r->what);
		break;
	default:
		err = -EINVAL;
	}
	if (err < 0)
		*why = netcfg_errmsg(nc)[0] ? netcfg_errmsg(nc) : strerror(-err);
	return err;
}

int privsep_request(struct tunnel_rt *t, const struct ipc_priv_req *r, const char **why)
{
	struct ipc_priv_res res = {.op = r->op, .what = r->what};
	int err;

	*why = "";
	err = privreq_check(&t->entry.conf, t->ifindex, r, why);
	if (!err)
		err = request_do(t, r, why);
	res.err = err;
	snprintf(res.reason, sizeof(res.reason), "%s", *why);
	if (t->ipc_fd >= 0 && ipc_send(t->ipc_fd, IPC_P_PRIV, &res, sizeof(res)) < 0)
		log_debug("%s: the answer to the worker was not sent", t->entry.conf.name);
	return err;
}

void privsep_refuse(struct tunnel_rt *t, const struct ipc_priv_req *r, const char *why)
{
	struct ipc_priv_res res = {.op = r->op, .what = r->what, .err = -ESRCH};

	snprintf(res.reason, sizeof(res.reason), "%s", why);
	if (t->ipc_fd >= 0 && ipc_send(t->ipc_fd, IPC_P_PRIV, &res, sizeof(res)) < 0)
		log_debug("%s: the answer to the worker was not sent", t->entry.conf.name);
}

void privsep_link_reaped(struct tunnel_rt *t)
{
	const struct tunnel_conf *tc = &t->entry.conf;
	struct netcfg *nc = t->d->nc;
	struct netcfg_link l;
	struct netcfg_sit s;
	int ifindex = t->ifindex, err;

	/*
	 * A worker that died before it reported its link up (a failure after
	 * creating it, SIGTERM during set-up) left no index: look the link up
	 * by the tunnel's name, for a tunnel whose worker makes a sit link of
	 * that name (it takes over any sit link so named at start anyway).
	 */
	if (ifindex <= 0 && tc->params.type != TUNNEL_AYIYA && tc->datapath != DATAPATH_USERSPACE)
		ifindex = netcfg_link_index(nc, tc->name);
	/* Only a sit link of this tunnel's name at its index: nothing else is ours. */
	if (ifindex <= 0 || netcfg_link_get(nc, ifindex, NULL, &l) < 0 ||
	    strcmp(l.name, tc->name) != 0 || netcfg_sit_get(nc, ifindex, &s) < 0)
		return;
	err = netcfg_link_del(nc, ifindex);
	if (err < 0 && err != -ENOENT)
		log_warnx("%s: cannot remove the sit link: %s", tc->name, netcfg_errmsg(nc));
}
