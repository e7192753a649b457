#include "testhooks.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

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
