#include "fetcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "ipc.h"
#include "log.h"
#include "privdrop.h"
#include "tic.h"
#include "tic_io.h"
#ifdef AICCUD_TEST_HOOKS
#include "testhooks.h"
#endif

static void request_receive(int fd, struct ipc_fetch *req)
{
	int type = ipc_recv_wait(fd, IPC_P_FETCH, req, sizeof(*req), 10000);

	if (type == -ETIMEDOUT)
		fatalx("no fetch request from the parent within 10 s");
	if (type != IPC_P_FETCH)
		fatalx("expected a fetch request from the parent, got %d", type);
	if (req->nids > IPC_FETCH_MAX)
		fatalx("fetch request for %u tunnels (at most %d)", req->nids, IPC_FETCH_MAX);
	req->state_dir[sizeof(req->state_dir) - 1] = '\0';
	for (uint32_t i = 0; i < req->nids; i++)
		req->ids[i][TUNNEL_ID_MAX - 1] = '\0';
}

/* What the worker would run on differs from what the cache held (or it held nothing). */
static bool cache_differs(int dir, const struct tic_tunnel *t)
{
	struct tic_tunnel old;
	time_t fetched;
	bool differs;
	int err = dir < 0 ? dir : cache_read_at(dir, t->id, &old, &fetched);

	differs = (err != 0 && err != -ESTALE) || !tunnel_params_same(&old.params, &t->params) ||
	          old.admin_enabled != t->admin_enabled || old.user_enabled != t->user_enabled;
	explicit_bzero(&old, sizeof(old));
	return differs;
}

_Static_assert(CACHE_FILE_MAX <= IPC_CACHE_TEXT_MAX, "a cache file fits in a fetch result");

/*
 * The cache could not be written (a full disk): the parameters are not
 * thrown away but go to the parent as the file's text, for the worker to
 * run on and to write once it can.  0, or the write's error when even
 * that is not possible.
 */
static int hold_uncached(struct ipc_fetch_result *r, const struct tic_tunnel *t, int werr)
{
	int n = cache_format(t, time(NULL), 0, r->held, sizeof(r->held));

	if (n <= 0)
		return werr;
	r->cache_err = werr;
	r->held_len = (uint32_t)n;
	return 0;
}

static void report(int fd, int dir, const struct ipc_fetch *req, const struct tic_tunnel *out)
{
	for (uint32_t i = 0; i < req->nids; i++) {
		static struct ipc_fetch_result r;

		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "%s", req->ids[i]);
		if (out[i].fetch_err) {
			r.err = out[i].fetch_err;
			snprintf(r.reason, sizeof(r.reason), "%s", out[i].fetch_msg);
		} else {
			int werr;

			r.changed = cache_differs(dir, &out[i]);
			werr = dir < 0 ? dir : cache_write_at(dir, &out[i], time(NULL));

			r.err = werr ? hold_uncached(&r, &out[i], werr) : 0;
			if (werr)
				snprintf(r.reason, sizeof(r.reason),
				         "cannot write the tunnel cache in %.180s: %s",
				         req->state_dir, strerror(-werr));
		}
		if (ipc_send(fd, IPC_F_RESULT, &r, sizeof(r)) < 0)
			fatal("reporting to the parent");
		explicit_bzero(&r, sizeof(r));
	}
}

static void keep_warning(void *ctx, const char *msg)
{
	struct ipc_fetch_done *done = ctx;

	snprintf(done->warning, sizeof(done->warning), "%s", msg);
}

/* Which of the server's addresses answered (the fetcher's log goes to aiccud's). */
static void log_progress(void *ctx, const char *msg)
{
	(void)ctx;
	log_info("%s", msg);
}

/* Refuse to go on: tell the parent why, as the session's outcome. */
static void __attribute__((noreturn)) give_up(int fd, const char *why)
{
	struct ipc_fetch_done done = {.err = -EPERM};

	snprintf(done.reason, sizeof(done.reason), "%s", why);
	log_warnx("%s", why);
	ipc_send(fd, IPC_F_DONE, &done, sizeof(done));
	exit(1);
}

/*
 * Still root: open what the aiccud user may not reach (the cache
 * directory, the CA file, the system trust store), then drop for good,
 * before the first byte from the network.
 */
static int privileges_drop(int ipc_fd, const struct ipc_fetch *req, struct tic_io_opts *opts,
                           char *cred_err, size_t errlen)
{
	struct priv_sandbox sb = {.role = PRIV_FETCHER,
	                          .uid = req->drop.uid,
	                          .gid = req->drop.gid,
	                          .trap = req->drop.trap,
	                          .ipc_fd = ipc_fd};
	char err[256];
	bool confined = false;

	sb.fs_confined = &confined;
	sb.dir_fd = cache_dir_open(req->state_dir, false);
	if (sb.dir_fd < 0) {
		snprintf(err, sizeof(err), "tunnel cache directory %.180s/" CACHE_DIR ": %s",
		         req->state_dir, strerror(-sb.dir_fd));
		give_up(ipc_fd, err);
	}
	/* A CA problem only matters if the server offers STARTTLS: keep the text. */
	cred_err[0] = '\0';
	tic_trust_load(&req->account, &opts->cred, cred_err, errlen);
	opts->cred_error = cred_err;
	if (priv_drop(&sb, err, sizeof(err)) < 0)
		give_up(ipc_fd, err);
	log_debug("running as uid %u gid %u, no capabilities, seccomp filter loaded, %s",
	          (unsigned)sb.uid, (unsigned)sb.gid,
	          confined ? "file system confined to the cache directory and /etc (Landlock)"
	                   : "no Landlock in this kernel: files fenced by seccomp only");
	return sb.dir_fd;
}

void fetcher_main(int ipc_fd)
{
	char cred_err[TIC_ERR_MAX];
	static struct ipc_fetch req;
	static struct tic_tunnel out[IPC_FETCH_MAX];
	const char *ids[IPC_FETCH_MAX];
	struct ipc_fetch_done done = {0};
	struct tic_io_opts opts;
	int err, dir;

	log_set_tag("tic");
	request_receive(ipc_fd, &req);
	for (uint32_t i = 0; i < req.nids; i++)
		ids[i] = req.ids[i];
	memset(&opts, 0, sizeof(opts));
	dir = privileges_drop(ipc_fd, &req, &opts, cred_err, sizeof(cred_err));
#ifdef AICCUD_TEST_HOOKS
	testhooks_escapes(ipc_fd, dir);
#endif
	opts.warn = keep_warning;
	opts.warn_ctx = &done;
	opts.info = log_progress;
	err = tic_fetch(&req.account, ids, req.nids, &opts, out, done.reason, sizeof(done.reason));
	explicit_bzero(&req.account.password, sizeof(req.account.password));
	done.err = err;
	done.refused = err == TIC_ERR_REFUSED;
	tic_trust_free(opts.cred);
	report(ipc_fd, dir, &req, out);
	if (ipc_send(ipc_fd, IPC_F_DONE, &done, sizeof(done)) < 0)
		fatal("reporting to the parent");
	explicit_bzero(out, sizeof(out));
	exit(err ? 1 : 0);
}
