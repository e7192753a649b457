/*
 * The network waits of the TIC client and the endpoint update (deadline.h):
 * a wait ends at the nearer of the step's and the whole's deadline, a
 * connect within them.  Local only: a pipe and an AF_UNIX socket.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "deadline.h"

static void test_wait_ends_at_the_nearer(void **state)
{
	struct deadline d;
	int p[2];
	int64_t t0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	/* The step ends first: 30 ms, never less. */
	deadline_start(&d, 60000);
	deadline_step(&d, 30);
	assert_false(deadline_total_first(&d));
	t0 = deadline_now_ms();
	assert_int_equal(deadline_wait_fd(p[0], &d, POLLIN), -ETIMEDOUT);
	assert_true(deadline_now_ms() - t0 >= 30);
	/* The whole ends first: it is what the time-out names. */
	deadline_start(&d, 20);
	deadline_step(&d, 60000);
	assert_true(deadline_total_first(&d));
	t0 = deadline_now_ms();
	assert_int_equal(deadline_wait_fd(p[0], &d, POLLIN), -ETIMEDOUT);
	assert_true(deadline_now_ms() - t0 >= 20);
	assert_true(deadline_total_passed(&d));
	/* Ready: at once, whatever is left. */
	deadline_start(&d, 60000);
	deadline_step(&d, 60000);
	assert_false(deadline_total_passed(&d));
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(deadline_wait_fd(p[0], &d, POLLIN), 0);
	/* A deadline already past: no wait at all. */
	d.step = deadline_now_ms() - 1;
	assert_int_equal(deadline_wait_fd(p[0], &d, POLLIN), -ETIMEDOUT);
	close(p[0]);
	close(p[1]);
}

static void test_connect(void **state)
{
	char dir[] = "/tmp/deadline-test.XXXXXX";
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct addrinfo ai = {.ai_family = AF_UNIX,
	                      .ai_socktype = SOCK_STREAM,
	                      .ai_addr = (struct sockaddr *)&sun,
	                      .ai_addrlen = sizeof(sun)};
	struct deadline d;
	int lfd, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);
	deadline_start(&d, 5000);
	deadline_step(&d, 5000);
	/* Nobody there: the kernel's answer. */
	assert_int_equal(deadline_connect(&ai, &d), -ENOENT);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	fd = deadline_connect(&ai, &d);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	close(lfd);
	unlink(sun.sun_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wait_ends_at_the_nearer),
	    cmocka_unit_test(test_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
