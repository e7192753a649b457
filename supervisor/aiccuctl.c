/*
 * aiccuctl: control client of aiccud.
 *
 *   aiccuctl [-s socket] status [TUNNEL] [--json]
 *   aiccuctl [-s socket] start|stop TUNNEL [--json]
 *   aiccuctl [-s socket] limiter [--json]
 *
 * Exit codes: 0 done, 1 the tunnel failed, 2 usage, 3 aiccud not running,
 * 4 unknown tunnel, 5 permission denied, 6 protocol error.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>

#define DEFAULT_SOCKET "/run/aiccud/aiccud.sock"
#define REPLY_MAX      (1024 * 1024)

enum exit_code {
	EX_DONE = 0,
	EX_FAILED = 1,
	EX_USAGE = 2,
	EX_NOT_RUNNING = 3,
	EX_UNKNOWN_TUNNEL = 4,
	EX_PERMISSION = 5,
	EX_PROTOCOL = 6,
};

static void usage(void)
{
	fprintf(stderr, "usage: aiccuctl [-s socket] [-t seconds] status [TUNNEL] [--json]\n"
	                "       aiccuctl [-s socket] [-t seconds] start|stop TUNNEL [--json]\n"
	                "       aiccuctl [-s socket] [-t seconds] limiter [--json]\n");
	exit(EX_USAGE);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "aiccuctl: socket path too long: %s\n", path);
		exit(EX_USAGE);
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = errno;

		fprintf(stderr, "aiccuctl: cannot reach aiccud at %s: %s\n", path, strerror(err));
		exit(err == EACCES ? EX_PERMISSION : EX_NOT_RUNNING);
	}
	return fd;
}

/* Send one request and read the whole reply (bounded in size and time). */
static json_t *ctl_request(const char *path, const char *line, int timeout_s)
{
	int fd = ctl_connect(path);
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	time_t deadline = time(NULL) + timeout_s;
	json_error_t jerr;
	json_t *reply;

	if (!buf || dprintf(fd, "%s\n", line) < 0) {
		perror("aiccuctl: sending request");
		exit(EX_PROTOCOL);
	}
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int left = (int)(deadline - time(NULL));
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left * 1000) == 0) {
			fprintf(stderr, "aiccuctl: no answer from aiccud within %d s\n", timeout_s);
			exit(EX_FAILED);
		}
		if (len + 1 >= cap) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, "aiccuctl: reply larger than %d bytes\n",
				        REPLY_MAX);
				exit(EX_PROTOCOL);
			}
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				exit(EX_PROTOCOL);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	reply = json_loads(buf, 0, &jerr);
	if (!reply || !json_is_object(reply)) {
		fprintf(stderr, "aiccuctl: unreadable reply from aiccud: %s\n", jerr.text);
		exit(EX_PROTOCOL);
	}
	free(buf);
	return reply;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static json_int_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void print_time(json_int_t when, char *out, size_t len)
{
	time_t t = (time_t)when;
	struct tm tm;

	if (!when) {
		snprintf(out, len, "never");
		return;
	}
	localtime_r(&t, &tm);
	strftime(out, len, "%H:%M:%S", &tm);
}

static void print_since(json_t *t, char *out, size_t len)
{
	print_time(jint(t, "since"), out, len);
}

static void print_tunnel(json_t *t)
{
	json_t *k = json_object_get(t, "counters");
	json_t *drops = json_object_get(k, "drops");
	char since[16];
	const char *reason = jstr(t, "reason");
	const char *key;
	json_t *v;
	bool any = false;

	print_since(t, since, sizeof(since));
	printf("%s (%s %s, %s)\n", jstr(t, "name"), jstr(t, "type"), jstr(t, "id"),
	       jstr(t, "file"));
	printf("  state      %s since %s%s%s\n", jstr(t, "state"), since, *reason ? ": " : "",
	       reason);
	printf("  interface  %s  mtu %lld  datapath %s (%s)\n", jstr(t, "interface"),
	       (long long)jint(t, "mtu"), jstr(t, "datapath_in_use"), jstr(t, "datapath"));
	printf("  addresses  %s  PoP %s via %s from %s\n", jstr(t, "local"), jstr(t, "pop"),
	       jstr(t, "pop_ipv4"), jstr(t, "local_ipv4"));
	print_time(jint(k, "last_keepalive"), since, sizeof(since));
	printf("  heartbeat  last sent %s\n", since);
	printf("  routing    table %lld, rule priority %lld, %s\n", (long long)jint(t, "table"),
	       (long long)jint(t, "rule_priority"),
	       json_is_true(json_object_get(t, "routing")) ? "installed" : "not installed");
	printf("  packets    tx %lld (%lld bytes), rx %lld (%lld bytes), keep-alives %lld\n",
	       (long long)jint(k, "tx_packets"), (long long)jint(k, "tx_bytes"),
	       (long long)jint(k, "rx_packets"), (long long)jint(k, "rx_bytes"),
	       (long long)jint(k, "keepalives"));
	printf("  drops     ");
	json_object_foreach(drops, key, v)
	{
		if (json_integer_value(v)) {
			printf(" %s %lld", key, (long long)json_integer_value(v));
			any = true;
		}
	}
	printf("%s\n", any ? "" : " none");
}

static void print_limiter(json_t *l)
{
	char when[16];

	if (!l)
		return;
	printf("TIC limiter: %lld of %lld token(s), one every %lld s; ",
	       (long long)jint(l, "tokens"), (long long)jint(l, "burst"),
	       (long long)jint(l, "refill"));
	if (json_is_true(json_object_get(l, "penalty"))) {
		print_time(jint(l, "penalty_until"), when, sizeof(when));
		printf("the TIC server refused us: no connection before %s\n", when);
	} else if (json_real_value(json_object_get(l, "next_grant_s")) > 0)
		printf("next connection allowed in %.0f s\n",
		       json_real_value(json_object_get(l, "next_grant_s")));
	else
		printf("a connection is allowed now\n");
	print_time(jint(l, "last_grant"), when, sizeof(when));
	printf("             %lld connection(s) granted so far, the last at %s\n",
	       (long long)jint(l, "grants"), when);
}

static int exit_for(json_t *reply)
{
	const char *code = json_string_value(json_object_get(reply, "code"));

	if (json_is_true(json_object_get(reply, "ok")))
		return EX_DONE;
	if (!code)
		return EX_PROTOCOL;
	if (strcmp(code, "unknown_tunnel") == 0)
		return EX_UNKNOWN_TUNNEL;
	if (strcmp(code, "permission") == 0)
		return EX_PERMISSION;
	if (strcmp(code, "usage") == 0)
		return EX_USAGE;
	return EX_FAILED;
}

static int show(json_t *reply, bool as_json)
{
	json_t *list = json_object_get(reply, "tunnels");
	json_t *one = json_object_get(reply, "tunnel");
	size_t i;
	json_t *t;

	if (as_json) {
		json_dumpf(reply, stdout, JSON_INDENT(2));
		putchar('\n');
		return exit_for(reply);
	}
	if (!json_is_true(json_object_get(reply, "ok")))
		fprintf(stderr, "aiccuctl: %s\n", jstr(reply, "error"));
	if (one)
		print_tunnel(one);
	json_array_foreach(list, i, t) print_tunnel(t);
	if (list && json_array_size(list) == 0)
		printf("no tunnels configured\n");
	print_limiter(json_object_get(reply, "limiter"));
	return exit_for(reply);
}

int main(int argc, char **argv)
{
	const char *path = getenv("AICCUD_SOCKET");
	int timeout = 30, ch, rc;
	bool as_json = false;
	char line[256];
	json_t *reply;

	if (!path)
		path = DEFAULT_SOCKET;
	while ((ch = getopt(argc, argv, "+s:t:")) != -1) {
		if (ch == 's')
			path = optarg;
		else if (ch == 't')
			timeout = atoi(optarg);
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && strcmp(argv[argc - 1], "--json") == 0) {
		as_json = true;
		argc--;
	}
	if (argc < 1 || timeout <= 0)
		usage();
	if (strcmp(argv[0], "status") == 0 && argc <= 2)
		snprintf(line, sizeof(line), "status%s%s", argc == 2 ? " " : "",
		         argc == 2 ? argv[1] : "");
	else if (strcmp(argv[0], "limiter") == 0 && argc == 1)
		snprintf(line, sizeof(line), "limiter");
	else if ((strcmp(argv[0], "start") == 0 || strcmp(argv[0], "stop") == 0) && argc == 2)
		snprintf(line, sizeof(line), "%s %s", argv[0], argv[1]);
	else
		usage();
	if (strpbrk(line, "\n\r"))
		usage();
	reply = ctl_request(path, line, timeout);
	rc = show(reply, as_json);
	json_decref(reply);
	return rc;
}
