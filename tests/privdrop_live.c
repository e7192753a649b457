/*
 * priv_drop for real, in forked children (root only: exits 77 otherwise).
 * Each child drops to "nobody" in a role, tells us, waits until we have
 * read its /proc status, then makes one call: allowed ones let it exit 0,
 * forbidden ones must kill it by SIGSYS (and, in trap mode, be reported
 * over its IPC socket by number).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ipc.h"
#include "privdrop.h"

static int failures;
static uid_t nobody_uid;
static gid_t nobody_gid;
static char tmpdir[] = "/tmp/privdrop-live.XXXXXX";

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

enum act {
	ACT_NOTHING,
	ACT_UDP,
	ACT_EXECVE,
	ACT_PACKET,
	ACT_RAW,
	ACT_SETUID,
	ACT_OPEN_READ,
	ACT_OPEN_WRITE,
	ACT_DIR_WRITE,
	ACT_MMAP_EXEC,
	ACT_EXIT, /* exit(), not _exit(): atexit handlers (and a sanitizer's leak check) run */
};

static void act(enum act a, int dir)
{
	char *argv[] = {"true", NULL}, *envp[] = {NULL};
	int fd = 0;

	switch (a) {
	case ACT_NOTHING:
		break;
	case ACT_EXIT:
		exit(0);
	case ACT_UDP:
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		break;
	case ACT_EXECVE:
		execve("/bin/true", argv, envp);
		break;
	case ACT_PACKET:
		fd = socket(AF_PACKET, SOCK_RAW, 0);
		break;
	case ACT_RAW:
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		break;
	case ACT_SETUID:
		fd = setresuid(0, 0, 0);
		break;
	case ACT_OPEN_READ:
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		break;
	case ACT_OPEN_WRITE:
		fd = open("/tmp/privdrop-live-forbidden", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		break;
	case ACT_DIR_WRITE:
		fd = openat(dir, "cache-file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		break;
	case ACT_MMAP_EXEC:
		fd = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
		             MAP_FAILED
		         ? -1
		         : 0;
		break;
	}
	_exit(fd < 0 ? 2 : 0);
}

static void status_check(pid_t pid, const char *what)
{
	char path[64], line[256], want_uid[64];
	FILE *f;
	int seen = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	snprintf(want_uid, sizeof(want_uid), "Uid:\t%u\t%u\t%u\t%u\n", (unsigned)nobody_uid,
	         (unsigned)nobody_uid, (unsigned)nobody_uid, (unsigned)nobody_uid);
	f = fopen(path, "r");
	CHECK(f, "%s: %s: %s", what, path, strerror(errno));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		bool zero = strstr(line, "0000000000000000") != NULL;

		if (!strncmp(line, "Uid:", 4)) {
			seen++;
			CHECK(!strcmp(line, want_uid), "%s: %s", what, line);
		} else if (!strncmp(line, "CapEff:", 7) || !strncmp(line, "CapPrm:", 7) ||
		           !strncmp(line, "CapBnd:", 7) || !strncmp(line, "CapAmb:", 7) ||
		           !strncmp(line, "CapInh:", 7)) {
			seen++;
			CHECK(zero, "%s: %s", what, line);
		} else if (!strncmp(line, "NoNewPrivs:", 11)) {
			seen++;
			CHECK(strstr(line, "1"), "%s: %s", what, line);
		} else if (!strncmp(line, "Seccomp:", 8)) {
			seen++;
			CHECK(strstr(line, "2"), "%s: %s", what, line);
		} else if (!strncmp(line, "Groups:", 7)) {
			seen++;
			/* no supplementary group: nothing but blanks after the colon */
			CHECK(strspn(line + 7, " \t\n") == strlen(line + 7), "%s: %s", what, line);
		}
	}
	fclose(f);
	CHECK(seen == 9, "%s: %d of 9 status lines seen", what, seen);
}

/*
 * Run a in a child of role; returns its wait status.  *reported gets the
 * system call number a trap-mode child sent (-1: none).
 */
static int run(enum priv_role role, bool trap, enum act a, int *reported)
{
	int sv[2], go[2], ready[2], status = 0, dir;
	char c = 0;
	pid_t pid;

	*reported = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe(go) < 0 ||
	    pipe(ready) < 0)
		exit(1);
	dir = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		struct priv_sandbox sb = {.role = role,
		                          .uid = nobody_uid,
		                          .gid = nobody_gid,
		                          .trap = trap,
		                          .ipc_fd = sv[1],
		                          .dir_fd = dir};
		char err[256];

		/* A child that hangs instead of dying is a failure too (SIGALRM). */
		alarm(20);
		if (priv_drop(&sb, err, sizeof(err)) < 0) {
			fprintf(stderr, "priv_drop: %s\n", err);
			_exit(3);
		}
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(4);
		act(a, dir);
	}
	close(sv[1]);
	close(go[0]);
	close(ready[1]);
	close(dir);
	if (read(ready[0], &c, 1) == 1)
		status_check(pid, role == PRIV_WORKER ? "worker" : "fetcher");
	if (write(go[1], &c, 1) != 1)
		CHECK(0, "child %d gone early", (int)pid);
	waitpid(pid, &status, 0);
	if (trap) {
		unsigned char buf[IPC_MSG_MAX];
		const void *p;

		if (ipc_recv(sv[0], buf, sizeof(buf), &p) == IPC_C_SECCOMP)
			*reported = ((const struct ipc_seccomp *)p)->nr;
	}
	close(sv[0]);
	close(go[1]);
	close(ready[0]);
	return status;
}

static bool killed(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static void expect(enum priv_role role, enum act a, bool allowed, const char *what)
{
	int rep, st = run(role, false, a, &rep);

	if (allowed)
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: allowed, but status 0x%x", what,
		      st);
	else
		CHECK(killed(st), "%s: forbidden, but status 0x%x", what, st);
}

int main(void)
{
	int rep, st;

	if (geteuid() != 0) {
		fprintf(stderr, "privdrop_live: needs root; skipped\n");
		return 77;
	}
	if (priv_user_lookup("nobody", &nobody_uid, &nobody_gid) < 0 || !mkdtemp(tmpdir)) {
		fprintf(stderr, "privdrop_live: no user nobody or no temporary directory\n");
		return 1;
	}
	if (chown(tmpdir, nobody_uid, nobody_gid) < 0) {
		perror("privdrop_live: chown of the temporary directory");
		return 1;
	}
	expect(PRIV_WORKER, ACT_NOTHING, true, "worker: nothing");
	expect(PRIV_WORKER, ACT_UDP, true, "worker: UDP socket");
	expect(PRIV_WORKER, ACT_EXIT, true, "worker: exit()");
	expect(PRIV_FETCHER, ACT_EXIT, true, "fetcher: exit()");
	st = run(PRIV_FETCHER, true, ACT_EXIT, &rep);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "trap mode, fetcher: exit(): status 0x%x, call %d", st, rep);
	expect(PRIV_WORKER, ACT_EXECVE, false, "worker: execve");
	expect(PRIV_WORKER, ACT_PACKET, false, "worker: AF_PACKET socket");
	expect(PRIV_WORKER, ACT_RAW, false, "worker: raw socket");
	expect(PRIV_WORKER, ACT_SETUID, false, "worker: setresuid");
	expect(PRIV_FETCHER, ACT_NOTHING, true, "fetcher: nothing");
	expect(PRIV_FETCHER, ACT_OPEN_READ, true, "fetcher: open for reading");
	expect(PRIV_FETCHER, ACT_DIR_WRITE, true, "fetcher: create in its directory");
	expect(PRIV_FETCHER, ACT_OPEN_WRITE, false, "fetcher: create elsewhere");
	expect(PRIV_FETCHER, ACT_EXECVE, false, "fetcher: execve");
	expect(PRIV_FETCHER, ACT_PACKET, false, "fetcher: AF_PACKET socket");
#ifndef AICCUD_SANITIZE
	/* The sanitizer runtime needs these (privdrop.c), so its build allows them. */
	expect(PRIV_WORKER, ACT_OPEN_READ, false, "worker: open");
	expect(PRIV_WORKER, ACT_MMAP_EXEC, false, "worker: executable mmap");
#endif
	/* Trap mode: the call is reported by number, and the child still dies. */
	st = run(PRIV_WORKER, true, ACT_EXECVE, &rep);
	CHECK(killed(st), "trap mode: status 0x%x", st);
	CHECK(rep == SYS_execve, "trap mode: reported %d, want %d", rep, SYS_execve);
	st = run(PRIV_FETCHER, true, ACT_PACKET, &rep);
	CHECK(killed(st) && rep == SYS_socket, "trap mode, fetcher: status 0x%x, reported %d", st,
	      rep);
	unlink("/tmp/privdrop-live-forbidden");
	{
		char f[sizeof(tmpdir) + 16];

		snprintf(f, sizeof(f), "%s/cache-file", tmpdir);
		unlink(f);
		rmdir(tmpdir);
	}
	printf("privdrop_live: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
