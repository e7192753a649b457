/*
 * priv_drop for real, in forked children (root only: exits 77 otherwise).
 * Each child drops to "nobody" in a role, tells us, waits until we have
 * read its /proc status, then makes one call: allowed ones let it exit 0,
 * forbidden ones must kill it by SIGSYS (and, in trap mode, be reported
 * over its IPC socket by number).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "ipc.h"
#include "privdrop.h"

#ifdef AICCUD_SANITIZE
#include <sanitizer/common_interface_defs.h>

/* Where ACT_SAN_REPORT's child writes its report (a directory of its own). */
static char san_dir[] = "/tmp/privdrop-live-log.XXXXXX";
static char san_path[sizeof(san_dir) + 8];
#endif

static int failures;
static bool fs_confined; /* the kernel has Landlock: priv_drop confines the file system */
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
	/* issue 20: the escapes of a compromised child */
	ACT_HDRINCL,     /* IP_HDRINCL on a raw socket opened before the drop */
	ACT_HDRINCL6,    /* IPV6_HDRINCL on a raw IPv6 socket opened before the drop */
	ACT_SOCKOPT_ANY, /* an option no child uses: SO_BROADCAST */
	ACT_ABS_WRITE,   /* openat(cache dir, "/tmp/...", O_CREAT) */
	ACT_DOTDOT,      /* openat(cache dir, "../...", O_CREAT) */
	ACT_RENAME_OUT,  /* renameat of a cache file to an absolute path */
	ACT_UDP_BIND,    /* bind a fresh UDP socket */
	ACT_SOCKOPT_OK,  /* TCP_NODELAY on a TCP socket: what the fetcher does */
	ACT_SAN_REPORT,  /* sanitizer builds: a report to log_path after the drop */
};

static int raw4 = -1, raw6 = -1; /* opened as root before the fork */
static char abs_path[64];        /* ACT_ABS_WRITE and ACT_RENAME_OUT's target */

/* The target of ACT_DOTDOT: beside the cache directory, outside it. */
#define DOTDOT_NAME "privdrop-live-dotdot"

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
	case ACT_HDRINCL:
		fd = setsockopt(raw4, IPPROTO_IP, IP_HDRINCL, &(int){1}, sizeof(int));
		break;
	case ACT_HDRINCL6:
		fd = setsockopt(raw6, IPPROTO_IPV6, IPV6_HDRINCL, &(int){1}, sizeof(int));
		break;
	case ACT_SOCKOPT_ANY:
		fd = setsockopt(raw4, SOL_SOCKET, SO_BROADCAST, &(int){1}, sizeof(int));
		break;
	case ACT_SOCKOPT_OK:
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0)
			fd = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
		break;
	case ACT_ABS_WRITE:
		fd = openat(dir, abs_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		break;
	case ACT_DOTDOT:
		fd = openat(dir, "../" DOTDOT_NAME, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		break;
	case ACT_RENAME_OUT:
		fd = openat(dir, "to-move", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			fd = renameat(dir, "to-move", dir, abs_path);
		break;
	case ACT_UDP_BIND: {
		struct sockaddr_in sin = {.sin_family = AF_INET};

		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			fd = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		break;
	}
	case ACT_SAN_REPORT:
#ifdef AICCUD_SANITIZE
		__sanitizer_report_error_summary("privdrop-live: a report after the drop");
#endif
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
#ifdef AICCUD_SANITIZE
		if (a == ACT_SAN_REPORT) {
			char opts[sizeof(san_path) + 32];

			/* as ASAN_OPTIONS=log_path=... would at start-up */
			snprintf(opts, sizeof(opts), "log_path=%s", san_path);
			setenv("UBSAN_OPTIONS", opts, 1);
			__sanitizer_set_report_path(san_path);
		}
#endif
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

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Refused (the call failed) or killed (SIGSYS), either way without effect. */
static void expect_refused(enum priv_role role, enum act a, const char *what)
{
	int rep, st = run(role, false, a, &rep);

	CHECK(killed(st) || (WIFEXITED(st) && WEXITSTATUS(st) == 2),
	      "%s: must be refused or killed, but status 0x%x", what, st);
}

/* The escapes of issue 20, finding 4, in a worker and in the fetcher. */
static void escapes(enum priv_role role, const char *who)
{
	char what[128], dotdot[sizeof(tmpdir) + 32], *slash;

	snprintf(abs_path, sizeof(abs_path), "/tmp/privdrop-live-abs.%d", (int)getpid());
	snprintf(dotdot, sizeof(dotdot), "%s", tmpdir);
	slash = strrchr(dotdot, '/');
	snprintf(slash + 1, sizeof(dotdot) - (size_t)(slash + 1 - dotdot), "%s", DOTDOT_NAME);
#define ESCAPE(act, text)                                                                          \
	do {                                                                                       \
		snprintf(what, sizeof(what), "%s: %s", who, text);                                 \
		expect_refused(role, act, what);                                                   \
	} while (0)
	ESCAPE(ACT_HDRINCL, "setsockopt(IP_HDRINCL) on a raw socket");
	ESCAPE(ACT_HDRINCL6, "setsockopt(IPV6_HDRINCL) on a raw socket");
	ESCAPE(ACT_SOCKOPT_ANY, "setsockopt(SO_BROADCAST)");
	if (!fs_confined) {
		printf("SKIP %s: the kernel has no Landlock: absolute and .. paths not tested\n",
		       who);
	} else {
		ESCAPE(ACT_ABS_WRITE, "openat(cache dir, absolute path, O_CREAT)");
		CHECK(!exists(abs_path), "%s: %s was created", who, abs_path);
		ESCAPE(ACT_DOTDOT, "openat(cache dir, \"../\", O_CREAT)");
		CHECK(!exists(dotdot), "%s: %s was created", who, dotdot);
		ESCAPE(ACT_RENAME_OUT, "renameat of a cache file to an absolute path");
		CHECK(!exists(abs_path), "%s: %s was created by a rename", who, abs_path);
	}
	if (role == PRIV_WORKER)
		ESCAPE(ACT_UDP_BIND, "bind of a UDP socket");
#undef ESCAPE
	unlink(abs_path);
	unlink(dotdot);
}

#ifdef AICCUD_SANITIZE
/* Issue 20: with log_path set, a child's sanitizer report survives its filter. */
static void sanitizer_report(void)
{
	enum priv_role roles[] = {PRIV_WORKER, PRIV_FETCHER};

	if (!mkdtemp(san_dir) || chown(san_dir, nobody_uid, nobody_gid) < 0) {
		CHECK(0, "sanitizer log directory: %s", strerror(errno));
		return;
	}
	snprintf(san_path, sizeof(san_path), "%s/san", san_dir);
	for (int i = 0; i < 2; i++) {
		char cmd[sizeof(san_dir) + 64];
		int rep, st = run(roles[i], false, ACT_SAN_REPORT, &rep);

		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "%s: a sanitizer report after the drop: status 0x%x",
		      i ? "fetcher" : "worker", st);
		snprintf(cmd, sizeof(cmd), "grep -qs 'privdrop-live: a report' %s/san.*", san_dir);
		CHECK(system(cmd) == 0, "%s: the report is not in %s/san.PID",
		      i ? "fetcher" : "worker", san_dir);
		snprintf(cmd, sizeof(cmd), "rm -f %s/san.*", san_dir);
		if (system(cmd) != 0)
			CHECK(0, "cannot clean %s", san_dir);
	}
	rmdir(san_dir);
}
#endif

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
	struct passwd *nobody;
	int rep, st;

	if (geteuid() != 0) {
		fprintf(stderr, "privdrop_live: needs root; skipped\n");
		return 77;
	}
	nobody = getpwnam("nobody");
	if (!nobody || !mkdtemp(tmpdir)) {
		fprintf(stderr, "privdrop_live: no user nobody or no temporary directory\n");
		return 1;
	}
	nobody_uid = nobody->pw_uid;
	nobody_gid = nobody->pw_gid;
	if (chown(tmpdir, nobody_uid, nobody_gid) < 0) {
		perror("privdrop_live: chown of the temporary directory");
		return 1;
	}
	raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IPV6);
	raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw4 < 0 || raw6 < 0) {
		perror("privdrop_live: raw sockets");
		return 1;
	}
	/* Landlock where the kernel has it (Linux 5.13+, enabled); said either way. */
	fs_confined = priv_landlock_abi() > 0;
	printf("privdrop_live: Landlock ABI %d\n", priv_landlock_abi());
	fflush(stdout);
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
	expect(PRIV_WORKER, ACT_DIR_WRITE, true, "worker: create in its directory");
	expect(PRIV_FETCHER, ACT_SOCKOPT_OK, true, "fetcher: TCP_NODELAY");
	escapes(PRIV_WORKER, "worker");
	escapes(PRIV_FETCHER, "fetcher");
#ifdef AICCUD_SANITIZE
	sanitizer_report();
#endif
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
		snprintf(f, sizeof(f), "%s/to-move", tmpdir);
		unlink(f);
		rmdir(tmpdir);
	}
	printf("privdrop_live: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
