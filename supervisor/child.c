/*
 * Forking the parent's children: aiccud execs itself as a worker, or
 * aiccud-tic as the TIC fetcher, with its end of a socketpair on
 * IPC_WORKER_FD.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "daemon.h"
#include "ipc.h"
#include "log.h"

/*
 * In the fresh child: it dies with the parent (SIGKILL; checked against
 * the parent's pid, which may already be gone), and keeps only stdin,
 * stdout, stderr and its end of the socketpair: nothing the parent or the
 * shell that started it left open reaches an unprivileged child.
 */
static void child_fence(pid_t parent, int fd)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(127);
	/* dup2 onto itself would keep close-on-exec set */
	if (fd == IPC_WORKER_FD ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, IPC_WORKER_FD) < 0)
		_exit(127);
	if (close_range(IPC_WORKER_FD + 1, ~0U, 0) < 0)
		_exit(127);
}

/* In the fresh child: never returns. */
static void __attribute__((noreturn))
child_exec(const struct daemon *d, pid_t parent, const char *exe, int fd, const char *mode,
           const char *name)
{
	char *argv[7];
	const char *base;
	int argc = 0;
	sigset_t none;

	child_fence(parent, fd);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	unsetenv("NOTIFY_SOCKET"); /* only the parent speaks for the service */
	base = strrchr(exe, '/');
	argv[argc++] = (char *)(base ? base + 1 : exe); /* aiccud, aiccud-tic */
	argv[argc++] = d->foreground ? "-d" : "-s";
	/* The level of now (aiccuctl log-level may have changed it since the start). */
	if (log_level_get() >= LOG_DEBUG)
		argv[argc++] = "-v";
	argv[argc++] = (char *)mode;
	if (name)
		argv[argc++] = (char *)name;
	argv[argc] = NULL;
	execv(exe, argv);
	_exit(127);
}

pid_t child_spawn(const struct daemon *d, const char *exe, const char *mode, const char *name,
                  int *fd)
{
	pid_t parent = getpid(), pid;
	int sv[2];

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
		child_exec(d, parent, exe, sv[1], mode, name);
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	*fd = sv[0];
	return pid;
}

int child_find_fetcher(const char *self_exe, char *out, size_t len)
{
	const char *slash = strrchr(self_exe, '/');
	int n;

	/* Beside aiccud: a build tree, or a layout that keeps them together. */
	if (slash) {
		n = snprintf(out, len, "%.*s/aiccud-tic", (int)(slash - self_exe), self_exe);
		if (n > 0 && (size_t)n < len && access(out, X_OK) == 0)
			return 0;
	}
	n = snprintf(out, len, "%s/aiccud-tic", AICCUD_LIBEXECDIR);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return access(out, X_OK) == 0 ? 0 : -errno;
}
