/*
 * TIC over several addresses (PROTOCOLS.md 7.1), against a real kernel.
 * Runs as root inside network and mount namespaces of its own (ctest
 * starts it under `unshare --net --mount`): the test names resolve through
 * an /etc/hosts bind-mounted over the host's for this process only, and
 * the namespace's nftables drop SYNs to 192.0.2.8/30, a blackhole.
 *
 *   tic.aiccud.test   192.0.2.9 (blackholed), 192.0.2.1 (a TIC server)
 *   r.aiccud.test     192.0.2.3 (nothing listens: refused), 192.0.2.1
 *   dead.aiccud.test  192.0.2.9, 192.0.2.10, 192.0.2.11 (all blackholed)
 *
 * The server turns every connection away ("400 ..."): tic_fetch then says
 * "refused", which proves it reached the server, and the server counts the
 * connections it got (one per tic_fetch: one limiter token).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tic_io.h"

#define SERVER_ADDR "192.0.2.1"
#define PORT        3874

static const char hosts[] = "127.0.0.1 localhost\n"
                            "192.0.2.9 tic.aiccud.test\n"
                            "192.0.2.1 tic.aiccud.test\n"
                            "192.0.2.3 r.aiccud.test\n"
                            "192.0.2.1 r.aiccud.test\n"
                            "192.0.2.9 dead.aiccud.test\n"
                            "192.0.2.10 dead.aiccud.test\n"
                            "192.0.2.11 dead.aiccud.test\n";

static const char nft_rules[] = "table ip aiccud_test {\n"
                                "\tchain out {\n"
                                "\t\ttype filter hook output priority 0; policy accept;\n"
                                "\t\tip daddr 192.0.2.8/30 tcp flags syn drop\n"
                                "\t}\n"
                                "}\n";

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("set-up failed: %s", cmd);
}

/* The namespace: addresses on lo, the blackhole, the test names. */
static int setup(void **state)
{
	char hosts_path[] = "/tmp/tic_connect_live_hosts.XXXXXX";
	char cmd[512];
	FILE *f;
	int fd;

	(void)state;
	if (geteuid() != 0) {
		print_message("needs root in its own namespaces (ctest: unshare --net --mount)\n");
		return -1;
	}
	run("ip link set lo up");
	run("ip addr add 192.0.2.1/32 dev lo && ip addr add 192.0.2.3/32 dev lo && "
	    "ip addr add 192.0.2.9/32 dev lo && ip addr add 192.0.2.10/32 dev lo && "
	    "ip addr add 192.0.2.11/32 dev lo");
	f = popen("nft -f -", "w");
	assert_non_null(f);
	fputs(nft_rules, f);
	assert_int_equal(pclose(f), 0);
	fd = mkstemp(hosts_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, hosts, sizeof(hosts) - 1), (ssize_t)(sizeof(hosts) - 1));
	close(fd);
	/* Private to this mount namespace: the host's /etc/hosts is untouched. */
	if (mount(hosts_path, "/etc/hosts", NULL, MS_BIND, NULL) < 0) {
		snprintf(cmd, sizeof(cmd), "bind-mounting %s over /etc/hosts: %s", hosts_path,
		         strerror(errno));
		fail_msg("%s", cmd);
	}
	unlink(hosts_path);
	return 0;
}

/* The resolver keeps the file's order, or the test would not test the fallback. */
static void test_resolver_order(void **state)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	char a[INET_ADDRSTRLEN];

	(void)state;
	assert_int_equal(getaddrinfo("tic.aiccud.test", "3874", &hints, &res), 0);
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, a, sizeof(a));
	assert_string_equal(a, "192.0.2.9");
	assert_non_null(res->ai_next);
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_next->ai_addr)->sin_addr, a, sizeof(a));
	assert_string_equal(a, SERVER_ADDR);
	freeaddrinfo(res);
}

/* ---- a TIC server that turns everyone away and counts them ---- */

struct server {
	pid_t pid;
	int stop_fd; /* closing it ends the server */
};

static void serve(int lfd, int stop)
{
	static const char busy[] =
	    "400 Too many connections from your address, come back later\r\n";
	struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = stop, .events = POLLIN}};
	int count = 0;

	alarm(30); /* never outlive a broken test */
	while (poll(p, 2, -1) > 0 && !p[1].revents) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		count++;
		if (write(fd, busy, sizeof(busy) - 1) < 0)
			_exit(100);
		close(fd);
	}
	_exit(count);
}

static void server_start(struct server *s)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, pipefd[2];

	assert_true(lfd >= 0);
	inet_pton(AF_INET, SERVER_ADDR, &sin.sin_addr);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(pipe(pipefd), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		close(pipefd[1]);
		serve(lfd, pipefd[0]);
	}
	close(lfd);
	close(pipefd[0]);
	s->stop_fd = pipefd[1];
}

/* Stop the server; how many connections it accepted. */
static int server_stop(struct server *s)
{
	int st = 0;

	close(s->stop_fd);
	assert_int_equal(waitpid(s->pid, &st, 0), s->pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* ---- the client ---- */

static char progress[2048];

static void collect(void *ctx, const char *msg)
{
	size_t n = strlen(progress);

	(void)ctx;
	snprintf(progress + n, sizeof(progress) - n, "%s\n", msg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One tic_fetch of T1 from name; its result, error text and duration. */
static int fetch(const char *name, unsigned step_ms, unsigned total_ms, char *err, size_t errlen,
                 double *took)
{
	struct tic_io_opts opts = {
	    .step_timeout_ms = step_ms, .total_timeout_ms = total_ms, .info = collect};
	struct tic_account acct = {.require_tls = true};
	const char *ids[] = {"T1"};
	struct tic_tunnel out[1];
	double t0 = now_s();
	int r;

	progress[0] = '\0';
	snprintf(acct.server, sizeof(acct.server), "%s:%d", name, PORT);
	strcpy(acct.username, "alice");
	strcpy(acct.password, "wonderland");
	r = tic_fetch(&acct, ids, 1, &opts, out, err, errlen);
	*took = now_s() - t0;
	print_message("%s: %d (%s) in %.2f s\n%s", name, r, err, *took, progress);
	return r;
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay);
}

/* The first address never answers: the second one does, in the same call. */
static void test_blackhole_then_server(void **state)
{
	struct server s;
	char err[512];
	double took;

	(void)state;
	server_start(&s);
	assert_int_equal(fetch("tic.aiccud.test", 500, 10000, err, sizeof(err), &took),
	                 TIC_ERR_REFUSED);
	assert_int_equal(server_stop(&s), 1);
	assert_has(err, "the server turned us away");
	assert_has(progress, "connect to 192.0.2.9: timed out; trying the next address");
	assert_has(progress, "connected to 192.0.2.1 (address 2 of 2)");
	/* the first address had its step timeout, no more */
	assert_true(took >= 0.45 && took < 5);
}

static void test_refused_then_server(void **state)
{
	struct server s;
	char err[512];
	double took;

	(void)state;
	server_start(&s);
	assert_int_equal(fetch("r.aiccud.test", 2000, 10000, err, sizeof(err), &took),
	                 TIC_ERR_REFUSED);
	assert_int_equal(server_stop(&s), 1);
	assert_has(progress, "connect to 192.0.2.3: Connection refused; trying the next address");
	assert_has(progress, "connected to 192.0.2.1 (address 2 of 2)");
	assert_true(took < 1.5);
}

/* Nothing answers: every address is tried, each for the step, and the error lists them. */
static void test_all_blackholed(void **state)
{
	char err[512];
	double took;

	(void)state;
	assert_int_equal(fetch("dead.aiccud.test", 300, 10000, err, sizeof(err), &took),
	                 -ETIMEDOUT);
	assert_has(err, "connect: 192.0.2.9: timed out after 300 ms; 192.0.2.10: timed out after "
	                "300 ms; 192.0.2.11: timed out after 300 ms");
	assert_true(took >= 0.85 && took < 5);
}

/* ...and the session's limit bounds them all together. */
static void test_total_bound(void **state)
{
	char err[512];
	double took;

	(void)state;
	assert_int_equal(fetch("dead.aiccud.test", 800, 1000, err, sizeof(err), &took), -ETIMEDOUT);
	assert_has(err, "took longer than 1 s");
	assert_has(progress, "connect to 192.0.2.9: timed out; trying the next address");
	assert_true(took >= 0.95 && took < 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolver_order),
	    cmocka_unit_test(test_blackhole_then_server),
	    cmocka_unit_test(test_refused_then_server),
	    cmocka_unit_test(test_all_blackholed),
	    cmocka_unit_test(test_total_bound),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
