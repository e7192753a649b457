#include "testhooks_ipc.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "log.h"

/* WHAT of AICCUD_TEST_FORGE when it names this tunnel, else NULL. */
static const char *forge_for(const char *name)
{
	const char *v = getenv("AICCUD_TEST_FORGE");
	size_t n = strlen(name);

	if (!v || strncmp(v, name, n) != 0 || v[n] != ':')
		return NULL;
	return v + n + 1;
}

int testhooks_up_ifindex(const char *name, int real)
{
	const char *what = forge_for(name);

	if (!what || strncmp(what, "up-ifindex=", 11) != 0)
		return real;
	log_warnx("test hook: reporting link-up with ifindex %s instead of %d", what + 11, real);
	return atoi(what + 11);
}

void testhooks_after_up(const char *name, int ipc_fd, const struct ipc_priv_req *req)
{
	const char *what = forge_for(name);
	long n, sent = 0;

	if (!what || strncmp(what, "readd-flood=", 12) != 0)
		return;
	n = atol(what + 12);
	log_warnx("test hook: sending %ld requests to re-add the address", n);
	while (sent < n) {
		struct pollfd p = {.fd = ipc_fd, .events = POLLOUT};
		int err = ipc_send(ipc_fd, IPC_W_PRIV, req, sizeof(*req));

		if (err == 0) {
			sent++;
			continue;
		}
		/* The parent reads them in its own time: wait (bounded) until it has. */
		if ((err != -EAGAIN && err != -ENOBUFS) || poll(&p, 1, 10000) <= 0)
			break;
	}
	log_warnx("test hook: sent %ld of %ld requests to re-add the address", sent, n);
}

void testhooks_before_up(const char *name, int ipc_fd)
{
	const char *what = forge_for(name);
	struct ipc_seccomp m = {.nr = 59, .arch = 0};

	if (!what || strcmp(what, "seccomp-flood") != 0)
		return;
	log_warnx("test hook: sending 1000 seccomp reports without dying");
	for (int i = 0; i < 1000; i++)
		ipc_send(ipc_fd, IPC_C_SECCOMP, &m, sizeof(m));
}
