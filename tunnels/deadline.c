/* Network waits under a step and a total deadline (deadline.h). */
#include "deadline.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

int64_t deadline_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void deadline_start(struct deadline *d, unsigned total_ms)
{
	d->total = deadline_now_ms() + total_ms;
	d->step = d->total;
}

void deadline_step(struct deadline *d, unsigned step_ms)
{
	d->step = deadline_now_ms() + step_ms;
}

bool deadline_total_first(const struct deadline *d)
{
	return d->total <= d->step;
}

bool deadline_total_passed(const struct deadline *d)
{
	return deadline_now_ms() >= d->total;
}

int deadline_wait_fd(int fd, const struct deadline *d, short events)
{
	int64_t until = d->step < d->total ? d->step : d->total;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int64_t left = until - deadline_now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(left > INT32_MAX ? INT32_MAX : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return n == 0 ? -ETIMEDOUT : 0;
	}
}

int deadline_tls_handshake(gnutls_session_t session, int fd, const struct deadline *d, int *tls_err)
{
	*tls_err = 0;
	for (;;) {
		int r = gnutls_handshake(session);

		if (r == 0)
			return 0;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			r = deadline_wait_fd(
			    fd, d, gnutls_record_get_direction(session) ? POLLOUT : POLLIN);
			if (r < 0)
				return r;
			continue;
		}
		if (!gnutls_error_is_fatal(r))
			continue;
		*tls_err = r;
		return -EPROTO;
	}
}

int deadline_connect(const struct addrinfo *ai, const struct deadline *d)
{
	socklen_t len = sizeof(int);
	int fd, soerr = 0, r = 0;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		r = errno == EINPROGRESS ? deadline_wait_fd(fd, d, POLLOUT) : -errno;
		if (!r && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (!r && soerr)
			r = -soerr;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
