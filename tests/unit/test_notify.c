/*
 * sd_notify sender: datagrams received on a socket bound by the test (a
 * path and an abstract name), the MONOTONIC_USEC stamp compared with the
 * clock read around the call, and the no-systemd case.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "notify.h"

/* Bind a datagram socket at name (path or "@abstract") and point $NOTIFY_SOCKET at it. */
static int listener(const char *name)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	/* Built here by hand, not with notify_address, so the test checks it. */
	memcpy(sun.sun_path, name, strlen(name));
	if (name[0] == '@') {
		sun.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	} else {
		unlink(name);
		len = sizeof(sun);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	return fd;
}

static char *receive(int fd)
{
	static char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static unsigned long long mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

static void path_socket(void **state)
{
	char path[64];
	int fd;
	unsigned long long before, after, stamp;
	char *msg;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_notify.%d", (int)getpid());
	fd = listener(path);
	assert_int_equal(notify_ready(), 1);
	assert_string_equal(receive(fd), "READY=1");
	assert_int_equal(notify_stopping(), 1);
	assert_string_equal(receive(fd), "STOPPING=1");
	assert_int_equal(notify_status("%d of %d tunnels up", 2, 3), 1);
	assert_string_equal(receive(fd), "STATUS=2 of 3 tunnels up");
	assert_int_equal(notify_status("a\nREADY=1"), 1);
	assert_string_equal(receive(fd), "STATUS=a READY=1");
	before = mono_usec();
	assert_int_equal(notify_reloading(), 1);
	after = mono_usec();
	msg = receive(fd);
	assert_int_equal(strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	stamp = strtoull(msg + 27, NULL, 10);
	assert_true(stamp >= before && stamp <= after);
	close(fd);
	unlink(path);
	unsetenv("NOTIFY_SOCKET");
}

static void abstract_socket(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@test_notify.%d", (int)getpid());
	fd = listener(name);
	assert_int_equal(notify_ready(), 1);
	assert_string_equal(receive(fd), "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void without_systemd(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_ready(), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(notify_ready(), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_ready(), -EINVAL);
	setenv("NOTIFY_SOCKET", "/tmp/test_notify.nobody-listens", 1);
	assert_int_equal(notify_ready(), -ENOENT);
	unsetenv("NOTIFY_SOCKET");
}

static void address_forms(void **state)
{
	struct sockaddr_un sun;
	socklen_t len;
	char big[200];

	(void)state;
	assert_int_equal(notify_address("/run/systemd/notify", &sun, &len), 0);
	assert_string_equal(sun.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 20);
	assert_int_equal(notify_address("@abc", &sun, &len), 0);
	assert_int_equal(sun.sun_path[0], '\0');
	assert_memory_equal(sun.sun_path + 1, "abc", 3);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 4);
	assert_int_equal(notify_address("@", &sun, &len), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(notify_address(big, &sun, &len), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(path_socket),
	    cmocka_unit_test(abstract_socket),
	    cmocka_unit_test(without_systemd),
	    cmocka_unit_test(address_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
