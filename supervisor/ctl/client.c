/* aiccuctl's side of the control socket: one request, JSON lines back. */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ctl.h"

#define LINE_MAX_BYTES (4 * 1024 * 1024) /* one reply line; status of 256 tunnels fits */

/* The "code" of a JSON error object for an exit code of aiccuctl's own. */
static const char *code_of(int exit_code)
{
	switch (exit_code) {
	case EX_USAGE:
		return "usage";
	case EX_NOT_RUNNING:
		return "not_running";
	case EX_PERMISSION:
		return "permission";
	case EX_TIMEOUT:
		return "timeout";
	default:
		return "protocol";
	}
}

/*
 * A request that got no final reply: say why on stderr and, with --json,
 * as an error object on stdout (scripts read stdout only), in the shape
 * of aiccud's own errors.  Sets *exit_code.
 */
static void __attribute__((format(printf, 4, 5)))
fail(const struct ctl *ctl, int *exit_code, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "aiccuctl: %s\n", msg);
	*exit_code = code;
	if (ctl->json) {
		json_t *o = json_pack("{s:b, s:s, s:s, s:s}", "ok", 0, "code", code_of(code),
		                      "error", msg, "socket", ctl->socket);

		if (o)
			ctl_print_json(o);
		json_decref(o);
	}
}

int ctl_connect(const struct ctl *ctl, int *exit_code)
{
	const char *path = ctl->socket;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fail(ctl, exit_code, EX_USAGE, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	err = errno;
	if (fd >= 0)
		close(fd);
	if (err == EACCES || err == EPERM) {
		fail(ctl, exit_code, EX_PERMISSION,
		     "no permission to use %s: aiccuctl needs root or membership of aiccud's "
		     "control group (control_group in aiccud.conf; for reading only: "
		     "readonly_group)",
		     path);
	} else {
		fail(ctl, exit_code, EX_NOT_RUNNING,
		     "aiccud is not running (cannot connect to %s: %s); start it with "
		     "/etc/init.d/aiccud start or systemctl start aiccud",
		     path, strerror(err));
	}
	return -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_take_line(const char *line, ctl_progress_fn *progress, void *arg, json_t **final)
{
	json_error_t jerr;
	json_t *o = json_loads(line, 0, &jerr);

	if (!o || !json_is_object(o)) {
		fprintf(stderr, "aiccuctl: unreadable reply from aiccud: %s\n",
		        o ? "not a JSON object" : jerr.text);
		json_decref(o);
		return -1;
	}
	if (json_object_get(o, "ok")) {
		*final = o;
		return 1;
	}
	if (progress && json_object_get(o, "progress"))
		progress(o, arg);
	json_decref(o);
	return 0;
}

json_t *ctl_request(const struct ctl *ctl, const char *line, int timeout_s,
                    ctl_progress_fn *progress, void *arg, int *exit_code)
{
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	size_t len = 0, cap = 4096;
	char *buf, *req;
	json_t *final = NULL;
	int fd;

	*exit_code = EX_PROTOCOL;
	fd = ctl_connect(ctl, exit_code);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf || asprintf(&req, "%s\n", line) < 0) {
		fprintf(stderr, "aiccuctl: out of memory\n");
		exit(EX_PROTOCOL);
	}
	if (send_all(fd, req, strlen(req)) < 0) {
		fail(ctl, exit_code, EX_PROTOCOL, "sending the request to %s: %s", ctl->socket,
		     strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long long left = deadline - now_ms();
		char *nl;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)(left > 60000 ? 60000 : left)) == 0) {
			if (now_ms() < deadline)
				continue;
			fail(ctl, exit_code, EX_TIMEOUT,
			     "no final answer from aiccud within %d s (-t); the request goes on in "
			     "aiccud: see aiccuctl status",
			     timeout_s);
			goto out;
		}
		if (cap - len < 2048) {
			if (cap >= LINE_MAX_BYTES) {
				fail(ctl, exit_code, EX_PROTOCOL, "reply line longer than %d bytes",
				     LINE_MAX_BYTES);
				goto out;
			}
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				exit(EX_PROTOCOL);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(ctl, exit_code, EX_PROTOCOL,
			     "aiccud closed the connection without a %s",
			     len ? "complete reply" : "reply");
			goto out;
		}
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = memchr(buf, '\n', len))) {
			int got;

			*nl = '\0';
			got = ctl_take_line(buf, progress, arg, &final);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			buf[len] = '\0';
			if (got < 0)
				fail(ctl, exit_code, EX_PROTOCOL, "unreadable reply from aiccud");
			if (got != 0)
				goto out;
		}
	}
out:
	free(req);
	free(buf);
	close(fd);
	return final;
}

int ctl_exit_for(json_t *reply)
{
	static const struct {
		const char *code;
		int exit_code;
	} map[] = {
	    {"unknown_tunnel", EX_UNKNOWN_TUNNEL},
	    {"permission", EX_PERMISSION},
	    {"usage", EX_USAGE},
	    {"failed", EX_FAILED},
	    {"config", EX_FAILED},
	};
	const char *code = json_string_value(json_object_get(reply, "code"));

	if (json_is_true(json_object_get(reply, "ok")))
		return EX_DONE;
	for (size_t i = 0; code && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].exit_code;
	return code ? EX_FAILED : EX_PROTOCOL;
}

void ctl_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	putchar('\n');
}

int ctl_finish(const struct ctl *ctl, json_t *reply)
{
	int rc = ctl_exit_for(reply);

	if (ctl->json)
		ctl_print_json(reply);
	else if (rc != EX_DONE)
		fprintf(stderr, "aiccuctl: %s\n", ctl_str(reply, "error"));
	json_decref(reply);
	return rc;
}
