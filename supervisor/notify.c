/* sd_notify over $NOTIFY_SOCKET (see notify.h). */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int notify_address(const char *value, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(value);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (n < 2 || (value[0] != '/' && value[0] != '@'))
		return -EINVAL;
	if (n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, value, n);
	if (value[0] == '@')
		sun->sun_path[0] = '\0'; /* abstract: no terminating NUL counted */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (value[0] == '/'));
	return 0;
}

int notify_send(const char *text)
{
	const char *value = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	ssize_t n;
	int fd, err;

	if (!value || !*value)
		return 0;
	err = notify_address(value, &sun, &len);
	if (err < 0)
		return err;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	err = n < 0 ? -errno : 1;
	close(fd);
	return err;
}

int notify_ready(void)
{
	return notify_send("READY=1");
}

int notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

int notify_reloading(void)
{
	struct timespec ts;
	char text[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(text, sizeof(text), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)ts.tv_sec * 1000000ULL +
	             (unsigned long long)ts.tv_nsec / 1000ULL);
	return notify_send(text);
}

int notify_status(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	memcpy(text, "STATUS=", 7);
	va_start(ap, fmt);
	n = vsnprintf(text + 7, sizeof(text) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	/* One line: a newline would start another KEY=value. */
	for (char *p = text; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return notify_send(text);
}
