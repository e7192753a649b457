#include "testhooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "log.h"

static ev_signal usr1_w, usr2_w;

static void on_usr1(EV_P_ ev_signal *s, int revents)
{
	char *argv[] = {"true", NULL}, *envp[] = {NULL};

	(void)loop;
	(void)s;
	(void)revents;
	log_warnx("test hook: calling execve, which the seccomp filter forbids");
	execve("/bin/true", argv, envp);
	log_warnx("test hook: execve returned: %s", strerror(errno));
}

static void on_usr2(EV_P_ ev_signal *s, int revents)
{
	int fd;

	(void)loop;
	(void)s;
	(void)revents;
	log_warnx("test hook: opening an AF_PACKET socket, which the seccomp filter forbids");
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	log_warnx("test hook: socket(AF_PACKET) returned %d: %s", fd, strerror(errno));
	if (fd >= 0)
		close(fd);
}

void testhooks_start(struct ev_loop *loop)
{
	ev_signal_init(&usr1_w, on_usr1, SIGUSR1);
	ev_signal_init(&usr2_w, on_usr2, SIGUSR2);
	ev_signal_start(loop, &usr1_w);
	ev_signal_start(loop, &usr2_w);
}

/* ---- the escapes of issue 20 (finding 4), for workers and the fetcher ---- */

static int escape_sock = -1, escape_dir = -1;
static char escape_path[256], escape_dotdot[256];
/* Where the connect and sendto escapes aim: AICCUD_TEST_ESCAPE_TO (IPv4:port). */
static struct sockaddr_in escape_to = {.sin_family = AF_INET};

/* Async-signal-safe: what the call did, as one line on stderr. */
static void escape_said(const char *what, int r, int err)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "test hook: %s: %s (%d)\n", what,
	                 r < 0 ? "refused" : "done", r < 0 ? err : 0);
	ssize_t w = write(STDERR_FILENO, line, n > 0 ? (size_t)n : 0);

	(void)w;
}

static void on_escape(int sig)
{
	int saved = errno, r = -1;
	const char *what = "?";

	if (sig == SIGRTMIN + 1) {
		what = "setsockopt(IP_HDRINCL)";
		r = setsockopt(escape_sock, IPPROTO_IP, IP_HDRINCL, &(int){1}, sizeof(int));
	} else if (sig == SIGRTMIN + 2) {
		what = "openat(cache dir, absolute path, O_CREAT)";
		r = openat(escape_dir, escape_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	} else if (sig == SIGRTMIN + 3) {
		what = "openat(cache dir, \"../\" path, O_CREAT)";
		r = openat(escape_dir, escape_dotdot, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	} else if (sig == SIGRTMIN + 4) {
		struct sockaddr_in sin = {.sin_family = AF_INET};

		/* The worker makes no new UDP socket after the drop: its own wire socket. */
		what = "bind(UDP socket)";
		r = bind(escape_sock, (struct sockaddr *)&sin, sizeof(sin));
	} else if (sig == SIGRTMIN + 5) {
		what = "connect(wire socket, another address)";
		r = connect(escape_sock, (struct sockaddr *)&escape_to, sizeof(escape_to));
	} else if (sig == SIGRTMIN + 6) {
		what = "sendto(wire socket, another address)";
		r = (int)sendto(escape_sock, "x", 1, 0, (struct sockaddr *)&escape_to,
		                sizeof(escape_to));
	}
	escape_said(what, r, errno);
	if (r >= 0 && (sig == SIGRTMIN + 2 || sig == SIGRTMIN + 3))
		close(r);
	errno = saved;
}

void testhooks_escapes(int sock, int dir)
{
	const char *path = getenv("AICCUD_TEST_ESCAPE_PATH");
	const char *dotdot = getenv("AICCUD_TEST_ESCAPE_DOTDOT");
	const char *to, *colon;
	char host[INET_ADDRSTRLEN];
	struct sigaction sa;

	escape_sock = sock;
	escape_dir = dir;
	snprintf(escape_path, sizeof(escape_path), "%s",
	         path && *path == '/' ? path : "/tmp/aiccud-testhook-escape");
	snprintf(escape_dotdot, sizeof(escape_dotdot), "%s",
	         dotdot && !strncmp(dotdot, "../", 3) ? dotdot : "../escaped");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_escape;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	to = getenv("AICCUD_TEST_ESCAPE_TO");
	colon = to ? strrchr(to, ':') : NULL;
	if (colon && (size_t)(colon - to) < sizeof(host)) {
		memcpy(host, to, (size_t)(colon - to));
		host[colon - to] = '\0';
		if (inet_pton(AF_INET, host, &escape_to.sin_addr) == 1)
			escape_to.sin_port = htons((uint16_t)atoi(colon + 1));
	}
	for (int i = 1; i <= 6; i++)
		sigaction(SIGRTMIN + i, &sa, NULL);
}

void testhooks_pause(const char *state_dir, const char *name, const char *stage)
{
	char path[4096], word[32] = "";
	struct timespec ts = {.tv_sec = TESTHOOKS_PAUSE_S};
	FILE *f;

	snprintf(path, sizeof(path), "%s/test-pause-%s", state_dir, name);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(word, sizeof(word), f))
		word[0] = '\0';
	fclose(f);
	word[strcspn(word, "\n")] = '\0';
	if (strcmp(word, stage) != 0)
		return;
	unlink(path);
	log_warnx("test hook: pausing %d s at stage %s", TESTHOOKS_PAUSE_S, stage);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	log_warnx("test hook: going on after stage %s", stage);
}
