/*
 * Least privilege (privdrop.h): identity and capability changes with
 * libcap-ng, syscall allow-lists with libseccomp.
 */
#include "privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <linux/landlock.h>
#include <linux/netlink.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "ipc.h"

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return e < 0 ? e : -EPERM;
}

void priv_fs_enter(uid_t uid, gid_t gid)
{
	setfsgid(gid);
	setfsuid(uid);
}

void priv_fs_leave(void)
{
	setfsuid(getuid());
	setfsgid(getgid());
}

void priv_syscall_name(int32_t nr, uint32_t arch, char *buf, size_t len)
{
	char *name = seccomp_syscall_resolve_num_arch(arch ? arch : SCMP_ARCH_NATIVE, nr);

	snprintf(buf, len, "%s (%d)", name ? name : "unknown", nr);
	free(name);
}

/* ---- seccomp ---- */

/* In trap mode: report the call to the parent, then die by SIGSYS anyway. */
static int trap_ipc_fd = -1;

static size_t fmt_uint(char *p, unsigned long v)
{
	char tmp[24];
	size_t n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(tmp));
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* Async-signal-safe: write(2), send(2), sigaction and tgkill only. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	static const char head[] = "seccomp: forbidden system call number ";
	struct ipc_seccomp m = {.nr = si->si_syscall, .arch = si->si_arch};
	char line[sizeof(head) + 32];
	size_t n = sizeof(head) - 1;
	ssize_t w;

	(void)ctx;
	memcpy(line, head, n);
	n += fmt_uint(line + n, (unsigned long)(unsigned)si->si_syscall);
	line[n++] = '\n';
	w = write(STDERR_FILENO, line, n);
	(void)w;
	if (trap_ipc_fd >= 0)
		ipc_send(trap_ipc_fd, IPC_C_SECCOMP, &m, sizeof(m));
	/* SA_RESETHAND made SIGSYS fatal again; SA_NODEFER leaves it unblocked. */
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
	_exit(128 + sig);
}

static int trap_install(int ipc_fd)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	trap_ipc_fd = ipc_fd;
	return sigaction(SIGSYS, &sa, NULL) < 0 ? -errno : 0;
}

/* Argument n equals v: SCMP_An(SCMP_CMP_EQ, v) with every field set (clang warns about
 * the library macro's missing datum_b). */
#define ARG_EQ(n, v)                                                                               \
	((struct scmp_arg_cmp){                                                                    \
	    .arg = (n), .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)(v), .datum_b = 0})
#define ALLOW(ctx, name)           seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), 0)
#define ALLOW1(ctx, name, a)       seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), 1, a)
#define ALLOW2(ctx, name, a, b)    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), 2, a, b)
#define ALLOW3(ctx, name, a, b, c) seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(name), 3, a, b, c)

/* What every child needs: memory, time, signals, its fds, exiting. */
static const int base_calls[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(close),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(lseek),
    SCMP_SYS(fcntl),
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(futex),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getrandom),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(eventfd2),
    SCMP_SYS(pipe2),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmmsg),
    SCMP_SYS(recvmmsg),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(connect), /* UDP source look-ups, TCP to TIC; sockets by family: allow_socket */
    SCMP_SYS(shutdown),
    SCMP_SYS(sched_yield),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(uname), /* libev checks the kernel version for its epoll backend */
};

#ifdef AICCUD_SANITIZE
/*
 * The ASan/UBSan runtime (sanitizer builds only; openat for reading is
 * allow_read_only_open): reading /proc/self/maps
 * and the binary for reports, its leak checker's stop-the-world thread
 * (clone, ptrace of its own threads, wait4), and the calls it makes on
 * exit and on a report.
 */
static const int sanitizer_calls[] = {
    SCMP_SYS(readlink),   SCMP_SYS(readlinkat),
    SCMP_SYS(getdents64), SCMP_SYS(getdents),
    SCMP_SYS(prctl),      SCMP_SYS(clone),
    SCMP_SYS(ptrace),     SCMP_SYS(wait4),
    SCMP_SYS(getppid),    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(prlimit64),  SCMP_SYS(getrlimit),
    SCMP_SYS(pread64),    SCMP_SYS(uname),
    SCMP_SYS(dup),        SCMP_SYS(dup2),
    SCMP_SYS(dup3),       SCMP_SYS(kill),
    SCMP_SYS(tgkill),     SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),       SCMP_SYS(statx),
};
#endif

static int add_list(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);

		if (r < 0)
			return r;
	}
	return 0;
}

/* mmap/mprotect: never executable memory (nothing is loaded after the drop). */
static int add_memory(scmp_filter_ctx ctx)
{
	int r = ALLOW1(ctx, mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	if (!r)
		r = ALLOW1(ctx, mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* abort() and raise() signal the process itself, nobody else. */
	if (!r)
		r = ALLOW1(ctx, tgkill, ARG_EQ(0, (scmp_datum_t)getpid()));
	if (!r)
		r = ALLOW1(ctx, kill, ARG_EQ(0, (scmp_datum_t)getpid()));
	/* FIONREAD only (the resolver asks how much a datagram holds). */
	if (!r)
		r = ALLOW1(ctx, ioctl, ARG_EQ(1, FIONREAD));
	return r;
}

/* socket(family, type) with any SOCK_NONBLOCK / SOCK_CLOEXEC flags. */
static int allow_socket(scmp_filter_ctx ctx, int family, int type)
{
	return ALLOW2(ctx, socket, ARG_EQ(0, (scmp_datum_t)family),
	              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)type));
}

/* A socket option as (level, name): setsockopt and getsockopt take only the listed ones. */
struct sockopt {
	int level, name;
};

static int allow_sockopts(scmp_filter_ctx ctx, int nr, const struct sockopt *o, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, ARG_EQ(1, o[i].level),
		                     ARG_EQ(2, o[i].name));
	return r;
}

#define ALLOW_SOCKOPTS(ctx, name, list)                                                            \
	allow_sockopts(ctx, SCMP_SYS(name), list, sizeof(list) / sizeof(list[0]))

/*
 * The cache directory: files are created, replaced and removed only
 * there (openat, renameat and unlinkat relative to its fd).
 */
static int allow_dir_writes(scmp_filter_ctx ctx, int dir_fd)
{
	scmp_datum_t fd = (scmp_datum_t)dir_fd;
	int r;

	if (dir_fd < 0)
		return 0;
	r = ALLOW1(ctx, openat, ARG_EQ(0, fd));
	if (!r)
		r = ALLOW2(ctx, renameat, ARG_EQ(0, fd), ARG_EQ(2, fd));
	if (!r)
		r = ALLOW2(ctx, renameat2, ARG_EQ(0, fd), ARG_EQ(2, fd));
	if (!r)
		r = ALLOW1(ctx, unlinkat, ARG_EQ(0, fd));
	if (!r)
		r = ALLOW(ctx, fchmod);
	return r;
}

/*
 * Worker: its TUN and wire sockets are open; it reads and writes them
 * (batched), sends heartbeats from fresh UDP sockets (and finds its
 * source address with a connected one), logs to syslog over AF_UNIX.
 */
/*
 * The socket options a worker sets after the drop: UDP GSO/GRO when its
 * AYIYA socket is opened again.  Nothing else: above all no IP_HDRINCL on
 * the raw proto-41 socket (it would send any IPv4 header) and no
 * IPV6_HDRINCL.  No bind either: its sockets are bound before the drop.
 */
static const struct sockopt worker_setsockopts[] = {
    {SOL_UDP, UDP_SEGMENT},
    {SOL_UDP, UDP_GRO},
    {SOL_SOCKET, SO_SNDBUF},
    {SOL_SOCKET, SO_RCVBUF},
};
static const struct sockopt worker_getsockopts[] = {
    {SOL_SOCKET, SO_ERROR},
};

static int worker_rules(scmp_filter_ctx ctx, const struct priv_sandbox *sb)
{
	int r = allow_socket(ctx, AF_INET, SOCK_DGRAM);

	if (!r)
		r = allow_socket(ctx, AF_UNIX, SOCK_DGRAM);
	if (!r)
		r = ALLOW_SOCKOPTS(ctx, setsockopt, worker_setsockopts);
	if (!r)
		r = ALLOW_SOCKOPTS(ctx, getsockopt, worker_getsockopts);
	if (!r)
		r = allow_dir_writes(ctx, sb->dir_fd);
	return r;
}

/* openat for reading only: never creating or writing a file. */
static int allow_read_only_open(scmp_filter_ctx ctx)
{
	int r = ALLOW1(ctx, openat, SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY));

#ifdef AICCUD_SANITIZE
	/* The sanitizer runtime's leak checker uses the old open(2) for /proc. */
	if (!r)
		r = ALLOW1(ctx, open, SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_RDONLY));
#endif
	return r;
}

/*
 * Fetcher: name resolution (files, DNS over UDP or TCP, a netlink query
 * of the local addresses), one TCP connection with TLS over it, and the
 * cache files in its directory.  Reading files is left to the file
 * permissions of the aiccud user (resolv.conf, hosts, nsswitch.conf).
 */
static const struct sockopt fetcher_setsockopts[] = {
    {IPPROTO_TCP, TCP_NODELAY}, /* the TIC connection (tic_io.c) */
    {SOL_IP, IP_RECVERR},       /* the resolver's UDP sockets (glibc res_send) */
    {SOL_IPV6, IPV6_RECVERR},   /* the same over IPv6 */
    {SOL_IPV6, IPV6_V6ONLY},    /* glibc's getaddrinfo source address sorting */
};
static const struct sockopt fetcher_getsockopts[] = {
    {SOL_SOCKET, SO_ERROR}, /* the outcome of a non-blocking connect */
};

static int fetcher_rules(scmp_filter_ctx ctx, const struct priv_sandbox *sb)
{
	int r = ALLOW_SOCKOPTS(ctx, setsockopt, fetcher_setsockopts);

	if (!r)
		r = ALLOW_SOCKOPTS(ctx, getsockopt, fetcher_getsockopts);
	/* bind: the resolver's netlink query of the local addresses */
	if (!r)
		r = ALLOW(ctx, bind);
	for (int fam = 0; fam < 2 && !r; fam++) {
		int family = fam ? AF_INET6 : AF_INET;

		r = allow_socket(ctx, family, SOCK_STREAM);
		if (!r)
			r = allow_socket(ctx, family, SOCK_DGRAM);
	}
	if (!r)
		r = allow_socket(ctx, AF_UNIX, SOCK_DGRAM);
	if (!r)
		r = allow_socket(ctx, AF_UNIX, SOCK_STREAM);
	if (!r)
		r = ALLOW3(ctx, socket, ARG_EQ(0, AF_NETLINK),
		           SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW), ARG_EQ(2, NETLINK_ROUTE));
	if (!r)
		r = allow_read_only_open(ctx);
	if (!r)
		r = allow_dir_writes(ctx, sb->dir_fd);
	return r;
}

static int seccomp_install(const struct priv_sandbox *sb, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(sb->trap ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	int r;

	if (!ctx)
		return fail(err, errlen, -ENOMEM, "seccomp_init failed");
	r = add_list(ctx, base_calls, sizeof(base_calls) / sizeof(base_calls[0]));
	if (!r)
		r = add_memory(ctx);
#ifdef AICCUD_SANITIZE
	if (!r)
		r = add_list(ctx, sanitizer_calls,
		             sizeof(sanitizer_calls) / sizeof(sanitizer_calls[0]));
	if (!r && sb->role != PRIV_FETCHER)
		r = allow_read_only_open(ctx);
	/*
	 * A report to log_path: the runtime creates its file when the report
	 * starts (O_WRONLY | O_CREAT | O_TRUNC); Landlock keeps that to the
	 * log's directory (landlock_sanitizer).  Without this the filter
	 * killed the child in the middle of its own report.
	 */
	if (!r)
		r = ALLOW1(ctx, openat,
		           SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
		                   O_WRONLY | O_CREAT | O_TRUNC));
	/* gcc's runtime uses the old open(2) for it */
	if (!r)
		r = ALLOW1(ctx, open,
		           SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
		                   O_WRONLY | O_CREAT | O_TRUNC));
#endif
	if (!r)
		r = sb->role == PRIV_FETCHER ? fetcher_rules(ctx, sb) : worker_rules(ctx, sb);
	if (!r && sb->trap)
		r = trap_install(sb->ipc_fd);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return fail(err, errlen, r, "cannot load the seccomp filter: %s", strerror(-r));
	return 0;
}

/* ---- the file system (Landlock) ---- */

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3, Linux 6.2 */
#endif

/* Every right of ABI 1 (Linux 5.13): what the ruleset forbids unless a rule grants it. */
#define FS_ABI1 ((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)
#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* The cache directory: its files are read, written, replaced and removed. */
#define FS_CACHE                                                                                   \
	(FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |                   \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

int priv_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

/* Grant access under the directory open on fd (O_PATH or O_DIRECTORY). */
static int landlock_allow_fd(int ruleset, int fd, uint64_t access)
{
	struct landlock_path_beneath_attr pb = {.allowed_access = access, .parent_fd = fd};

	return syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0
	           ? -errno
	           : 0;
}

/* The same for a path; one that does not exist is skipped. */
static int landlock_allow_path(int ruleset, const char *path, uint64_t access)
{
	int fd = open(path, O_PATH | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = landlock_allow_fd(ruleset, fd, access);
	close(fd);
	return r;
}

/*
 * What the fetcher reads while resolving the TIC server's name: /etc
 * (resolv.conf, hosts, nsswitch.conf, gai.conf, host.conf) and where
 * resolv.conf really lives when it is a link (systemd-resolved, resolvconf).
 */
static int landlock_fetcher_reads(int ruleset)
{
	char real[PATH_MAX];
	int r = landlock_allow_path(ruleset, "/etc", FS_READ);

	if (!r && realpath("/etc/resolv.conf", real)) {
		char *slash = strrchr(real, '/');

		if (slash && slash != real) {
			*slash = '\0';
			r = landlock_allow_path(ruleset, real, FS_READ);
		}
	}
	return r;
}

#ifdef AICCUD_SANITIZE
/*
 * Sanitizer builds only: the runtime reads /proc and the binaries for its
 * reports and writes them where log_path (ASAN_OPTIONS, UBSAN_OPTIONS)
 * says; a report that cannot be written would be lost with the child.
 */
static int landlock_sanitizer(int ruleset, uint64_t handled)
{
	static const char *const vars[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
	int r = landlock_allow_path(ruleset, "/", FS_READ);

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]) && !r; i++) {
		const char *o = getenv(vars[i]), *p = o ? strstr(o, "log_path=") : NULL;
		char dir[PATH_MAX];
		size_t n;
		char *slash;

		if (!p)
			continue;
		p += strlen("log_path=");
		n = strcspn(p, ":");
		if (n == 0 || n >= sizeof(dir) || *p != '/')
			continue;
		memcpy(dir, p, n);
		dir[n] = '\0';
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		r = landlock_allow_path(ruleset, dir, FS_CACHE & handled);
	}
	return r;
}
#endif

/*
 * Confine the child's file system to its cache directory (and, for the
 * fetcher, what name resolution reads): an absolute path or ".." given to
 * openat, renameat or unlinkat on the cache directory's fd cannot leave
 * it.  Landlock (Linux 5.13, ABI 1; needs no_new_privs, which is set)
 * checks the path itself, which seccomp cannot.  Files already open (the
 * TUN device, the sockets, the CA file read before the drop) are not
 * affected.  0 when confined, 1 when the kernel has no Landlock (the
 * seccomp rules on the directory fd then stay the only fence), -errno.
 */
static int fs_confine(const struct priv_sandbox *sb, char *err, size_t errlen)
{
	int abi = priv_landlock_abi(), ruleset, r = 0;
	struct landlock_ruleset_attr attr = {.handled_access_fs = FS_ABI1};

	if (abi < 1)
		return 1;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return fail(err, errlen, -errno, "landlock_create_ruleset: %s", strerror(errno));
	if (sb->dir_fd >= 0)
		r = landlock_allow_fd(ruleset, sb->dir_fd, FS_CACHE & attr.handled_access_fs);
	if (!r && sb->role == PRIV_FETCHER)
		r = landlock_fetcher_reads(ruleset);
#ifdef AICCUD_SANITIZE
	if (!r)
		r = landlock_sanitizer(ruleset, attr.handled_access_fs);
#endif
	if (!r && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		r = -errno;
	close(ruleset);
	if (r < 0)
		return fail(err, errlen, r, "cannot confine the file system (Landlock): %s",
		            strerror(-r));
	return 0;
}

/* ---- identity ---- */

static int become_user(const struct priv_sandbox *sb, char *err, size_t errlen)
{
	int r;

	if (sb->uid == 0 || sb->gid == 0)
		return fail(err, errlen, -EINVAL, "refusing to run as uid %u gid %u (root)",
		            (unsigned)sb->uid, (unsigned)sb->gid);
	capng_clear(CAPNG_SELECT_ALL);
	/* setgroups(none), setresgid, setresuid, then every set emptied. */
	r = capng_change_id((int)sb->uid, (int)sb->gid,
	                    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT);
	if (r < 0)
		return fail(err, errlen, -errno,
		            "cannot become uid %u gid %u (libcap-ng error %d: %s)",
		            (unsigned)sb->uid, (unsigned)sb->gid, r, strerror(errno));
	/* Paranoia as in OpenSSH: a way back would mean the drop failed. */
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0 || getuid() != sb->uid ||
	    geteuid() != sb->uid || getgid() != sb->gid || getegid() != sb->gid)
		return fail(err, errlen, -EPERM, "the drop to uid %u gid %u did not stick",
		            (unsigned)sb->uid, (unsigned)sb->gid);
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return fail(err, errlen, -EPERM, "capabilities left after the drop");
	return 0;
}

int priv_drop(const struct priv_sandbox *sb, char *err, size_t errlen)
{
	pid_t parent = getppid();
	int r;

	/* What libc reads lazily must be read now, while files can be opened. */
	tzset();
	r = become_user(sb, err, errlen);
	if (r < 0)
		return r;
	/*
	 * The new uid cleared the parent-death signal (child.c set it before
	 * the exec): set it again, and if the parent went in between, go too.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return fail(err, errlen, -errno, "parent-death signal: %s", strerror(errno));
	if (getppid() != parent)
		return fail(err, errlen, -ESRCH, "the parent (pid %d) is gone", (int)parent);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, -errno, "no-new-privs: %s", strerror(errno));
	r = fs_confine(sb, err, errlen);
	if (r < 0)
		return r;
	if (sb->fs_confined)
		*sb->fs_confined = r == 0;
	return seccomp_install(sb, err, errlen);
}
