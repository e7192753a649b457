/*
 * aiccud-tic -U: one endpoint update for the parent (fetcher.h's program in
 * its update mode).  Reads one IPC_P_UPDATE, loads the trust while still
 * root, drops to the aiccud user under the fetcher's seccomp allow-list,
 * makes the request (dyndns_io.h), reports one IPC_U_RESULT and exits.
 */
#include "fetcher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dyndns.h"
#include "dyndns_io.h"
#include "ipc.h"
#include "log.h"
#include "privdrop.h"

#ifndef AICCUD_VERSION
#define AICCUD_VERSION "0"
#endif

static void request_receive(int fd, struct ipc_update *req)
{
	int type = ipc_recv_wait(fd, IPC_P_UPDATE, req, sizeof(*req), 10000);

	if (type == -ETIMEDOUT)
		fatalx("no update request from the parent within 10 s");
	if (type != IPC_P_UPDATE)
		fatalx("expected an update request from the parent, got %d", type);
	req->name[sizeof(req->name) - 1] = '\0';
	req->update.url[sizeof(req->update.url) - 1] = '\0';
	req->update.username[sizeof(req->update.username) - 1] = '\0';
	req->update.key[sizeof(req->update.key) - 1] = '\0';
	req->update.hostname[sizeof(req->update.hostname) - 1] = '\0';
	req->update.ca_file[sizeof(req->update.ca_file) - 1] = '\0';
}

static void __attribute__((noreturn)) report(int fd, const struct ipc_update_result *res)
{
	if (ipc_send(fd, IPC_U_RESULT, res, sizeof(*res)) < 0)
		fatal("reporting to the parent");
	exit(res->err ? 1 : 0);
}

void updater_main(int ipc_fd)
{
	static struct ipc_update req;
	struct ipc_update_result res;
	struct priv_sandbox sb = {.role = PRIV_FETCHER, .ipc_fd = ipc_fd, .dir_fd = -1};
	char trust_err[200], err[256];
	void *cred = NULL;

	log_set_tag("update");
	request_receive(ipc_fd, &req);
	/* Root still: the CA file may be readable by root only. */
	dyndns_trust_load(&req.update, &cred, trust_err, sizeof(trust_err));
	sb.uid = req.drop.uid;
	sb.gid = req.drop.gid;
	sb.trap = req.drop.trap;
	if (priv_drop(&sb, err, sizeof(err)) < 0) {
		memset(&res, 0, sizeof(res));
		res.err = -EPERM;
		res.verdict = DYNDNS_RETRY;
		snprintf(res.reason, sizeof(res.reason), "%s", err);
		report(ipc_fd, &res);
	}
	dyndns_update(&req, cred, trust_err, AICCUD_VERSION, &res);
	explicit_bzero(&req.update.key, sizeof(req.update.key));
	dyndns_trust_free(cred);
	if (res.err || res.verdict != DYNDNS_OK)
		log_warnx("%s: %s", req.name, res.reason);
	report(ipc_fd, &res);
}
