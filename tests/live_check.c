/* The shared part of the live kernel tests (live_check.h). */
#include "live_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int live_failures;

void live_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		live_failures++;
}

int live_ioctl_link(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	err = ioctl(fd, req, ifr) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	return err;
}

int live_finish(void)
{
	printf("%s: %d failure(s)\n", live_failures ? "FAILED" : "PASSED", live_failures);
	return live_failures ? 1 : 0;
}
