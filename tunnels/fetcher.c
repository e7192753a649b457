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
#include "tic.h"
#include "tic_io.h"

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
static bool cache_differs(const char *state_dir, const struct tic_tunnel *t)
{
	struct tic_tunnel old;
	time_t fetched;
	bool differs;
	int err = cache_read(state_dir, t->id, &old, &fetched);

	differs = (err != 0 && err != -ESTALE) || !tunnel_params_same(&old.params, &t->params) ||
	          old.admin_enabled != t->admin_enabled || old.user_enabled != t->user_enabled;
	explicit_bzero(&old, sizeof(old));
	return differs;
}

static void report(int fd, const struct ipc_fetch *req, const struct tic_tunnel *out)
{
	for (uint32_t i = 0; i < req->nids; i++) {
		struct ipc_fetch_result r;

		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "%s", req->ids[i]);
		if (out[i].fetch_err) {
			r.err = out[i].fetch_err;
			snprintf(r.reason, sizeof(r.reason), "%s", out[i].fetch_msg);
		} else {
			int werr;

			r.changed = cache_differs(req->state_dir, &out[i]);
			werr = cache_write(req->state_dir, &out[i], time(NULL));

			r.err = werr;
			if (werr)
				snprintf(r.reason, sizeof(r.reason),
				         "cannot write the tunnel cache in %.180s: %s",
				         req->state_dir, strerror(-werr));
		}
		if (ipc_send(fd, IPC_F_RESULT, &r, sizeof(r)) < 0)
			fatal("reporting to the parent");
	}
}

static void keep_warning(void *ctx, const char *msg)
{
	struct ipc_fetch_done *done = ctx;

	snprintf(done->warning, sizeof(done->warning), "%s", msg);
}

void fetcher_main(int ipc_fd)
{
	static struct ipc_fetch req;
	static struct tic_tunnel out[IPC_FETCH_MAX];
	const char *ids[IPC_FETCH_MAX];
	struct ipc_fetch_done done = {0};
	struct tic_io_opts opts;
	int err;

	log_set_tag("tic");
	request_receive(ipc_fd, &req);
	for (uint32_t i = 0; i < req.nids; i++)
		ids[i] = req.ids[i];
	memset(&opts, 0, sizeof(opts));
	opts.warn = keep_warning;
	opts.warn_ctx = &done;
	err = tic_fetch(&req.account, ids, req.nids, &opts, out, done.reason, sizeof(done.reason));
	explicit_bzero(&req.account.password, sizeof(req.account.password));
	done.err = err;
	done.refused = err == TIC_ERR_REFUSED;
	report(ipc_fd, &req, out);
	if (ipc_send(ipc_fd, IPC_F_DONE, &done, sizeof(done)) < 0)
		fatal("reporting to the parent");
	explicit_bzero(out, sizeof(out));
	exit(err ? 1 : 0);
}
