/*
 * Setup-script runner: the environment a script gets, which scripts may
 * run as root, and real runs on a libev loop (exit status, output logged,
 * timeout kill, one run at a time per tunnel, the parent never blocked).
 * Scripts are written to a fresh temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "hook.h"
#include "log.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_hook.XXXXXX");
	signal(SIGPIPE, SIG_IGN); /* as in aiccud: the child must undo it */
	log_init("test", false, 0);
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void conf(struct tunnel_conf *tc, const char *script)
{
	memset(tc, 0, sizeof(*tc));
	snprintf(tc->name, sizeof(tc->name), "sixxs0");
	snprintf(tc->id, sizeof(tc->id), "T10001");
	tc->table = 200;
	tc->rule_priority = 1000;
	tc->params.type = TUNNEL_AYIYA;
	inet_pton(AF_INET6, "2001:db8:a::2", &tc->params.ipv6_local);
	inet_pton(AF_INET6, "2001:db8:a::1", &tc->params.ipv6_pop);
	inet_pton(AF_INET, "192.0.2.1", &tc->params.ipv4_pop);
	tc->params.prefix_len = 64;
	tc->params.mtu = 1280;
	snprintf(tc->params.password, sizeof(tc->params.password), "never-in-the-env");
	inet_pton(AF_INET6, "2001:db8:100::", &tc->routed[0].addr);
	tc->routed[0].len = 48;
	inet_pton(AF_INET6, "2001:db8:200::", &tc->routed[1].addr);
	tc->routed[1].len = 56;
	tc->nrouted = 2;
	if (script)
		snprintf(tc->setup_script, sizeof(tc->setup_script), "%s", script);
}

/* Write an executable script; returns its path (static buffer per call slot). */
static const char *script(const char *name, const char *body, mode_t mode)
{
	static char paths[8][128];
	static int slot;
	char *p = paths[slot++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static const char *env_get(const struct hook_env *env, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->vars[i], name, n) == 0 && env->vars[i][n] == '=')
			return env->vars[i] + n + 1;
	return NULL;
}

static void env_has_every_documented_variable(void **state)
{
	struct tunnel_conf tc;
	struct hook_env env;

	(void)state;
	conf(&tc, NULL);
	assert_int_equal(hook_env_build(&env, &tc, HOOK_UP, 7), 0);
	assert_null(env.vars[env.n]);
	assert_string_equal(env_get(&env, "AICCUD_EVENT"), "up");
	assert_string_equal(env_get(&env, "AICCUD_TUNNEL"), "sixxs0");
	assert_string_equal(env_get(&env, "AICCUD_INTERFACE"), "sixxs0");
	assert_string_equal(env_get(&env, "AICCUD_IFINDEX"), "7");
	assert_string_equal(env_get(&env, "AICCUD_ID"), "T10001");
	assert_string_equal(env_get(&env, "AICCUD_TYPE"), "ayiya");
	assert_string_equal(env_get(&env, "AICCUD_LOCAL6"), "2001:db8:a::2");
	assert_string_equal(env_get(&env, "AICCUD_PREFIXLEN"), "64");
	assert_string_equal(env_get(&env, "AICCUD_POP6"), "2001:db8:a::1");
	assert_string_equal(env_get(&env, "AICCUD_POP4"), "192.0.2.1");
	assert_string_equal(env_get(&env, "AICCUD_LOCAL4"), "");
	assert_string_equal(env_get(&env, "AICCUD_MTU"), "1280");
	assert_string_equal(env_get(&env, "AICCUD_TABLE"), "200");
	assert_string_equal(env_get(&env, "AICCUD_RULE_PRIORITY"), "1000");
	assert_string_equal(env_get(&env, "AICCUD_ROUTED"), "2001:db8:100::/48 2001:db8:200::/56");
	assert_non_null(env_get(&env, "PATH"));
	for (size_t i = 0; i < env.n; i++)
		assert_null(strstr(env.vars[i], "never-in-the-env"));
	assert_int_equal(hook_env_build(&env, &tc, HOOK_DOWN, 0), 0);
	assert_string_equal(env_get(&env, "AICCUD_EVENT"), "down");
	tc.mtu_override = 1400;
	inet_pton(AF_INET, "198.51.100.9", &tc.params.ipv4_local);
	assert_int_equal(hook_env_build(&env, &tc, HOOK_UP, 7), 0);
	assert_string_equal(env_get(&env, "AICCUD_MTU"), "1400");
	assert_string_equal(env_get(&env, "AICCUD_LOCAL4"), "198.51.100.9");
}

static void only_safe_scripts_run(void **state)
{
	char msg[256];
	const char *ok = script("ok.sh", "exit 0", 0700);

	(void)state;
	assert_int_equal(hook_script_check(ok, msg, sizeof(msg)), 0);
	assert_int_equal(hook_script_check("relative.sh", msg, sizeof(msg)), -EINVAL);
	assert_int_equal(hook_script_check(script("gw.sh", "exit 0", 0770), msg, sizeof(msg)),
	                 -EPERM);
	assert_non_null(strstr(msg, "group"));
	assert_int_equal(hook_script_check(script("ow.sh", "exit 0", 0702), msg, sizeof(msg)),
	                 -EPERM);
	assert_non_null(strstr(msg, "others"));
	assert_int_equal(hook_script_check(script("nx.sh", "exit 0", 0600), msg, sizeof(msg)),
	                 -EACCES);
	assert_int_equal(hook_script_check(dir, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(hook_script_check("/nonexistent/x.sh", msg, sizeof(msg)), -ENOENT);
}

struct result {
	int calls;
	int status;
	bool timed_out;
	enum hook_event ev;
	char tunnel[IFNAMSIZ];
};

static void on_done(void *arg, const char *tunnel, enum hook_event ev, int status, bool timed_out)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	r->timed_out = timed_out;
	r->ev = ev;
	snprintf(r->tunnel, sizeof(r->tunnel), "%s", tunnel);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run the loop until h has nothing pending or limit seconds passed. */
static void run_until_idle(struct ev_loop *loop, struct hooks *h, double limit)
{
	double end = now_s() + limit;

	while (hooks_pending(h) && now_s() < end)
		ev_run(loop, EVRUN_ONCE);
}

static char *read_file(const char *path);

static void fd_close_quietly(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A process that is gone, or a zombie not yet reaped by init. */
static bool process_gone(pid_t pid)
{
	char stat_path[64], *st;

	snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)pid);
	st = read_file(stat_path);
	return !st || strstr(st, ") Z ");
}

/* Poll (no sleep as synchronisation) until pid is gone or limit seconds passed. */
static bool wait_gone(pid_t pid, double limit)
{
	double end = now_s() + limit;

	while (!process_gone(pid)) {
		if (now_s() >= end)
			return false;
		usleep(10 * 1000);
	}
	return true;
}

static char *read_file(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void runs_with_env_args_status_and_output(void **state)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct hooks *h = hooks_new(loop, 10);
	struct tunnel_conf tc;
	struct result res = {0};
	char body[768], out[160], log[160], go[160];
	int saved, fd;

	(void)state;
	snprintf(out, sizeof(out), "%s/env.out", dir);
	snprintf(log, sizeof(log), "%s/stderr.out", dir);
	snprintf(go, sizeof(go), "%s/go", dir);
	unlink(go);
	/* The script waits (bounded) for the test's go: hooks_run must have returned first. */
	snprintf(body, sizeof(body),
	         "i=0; while [ ! -e '%s' ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done\n"
	         "env > '%s'\necho \"args $1 $2\"\necho 'to stderr' >&2\n"
	         "printf 'no newline at the end'\nread x && echo \"stdin gave $x\"\nexit 3",
	         go, out);
	conf(&tc, script("env.sh", body, 0755));
	/* The runner logs the script's output to stderr: capture it. */
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDERR_FILENO);
	assert_int_equal(hooks_run(h, &tc, HOOK_UP, 9, on_done, &res), 0);
	/* It returned without waiting for the script, which waits for us: no clock involved. */
	assert_int_equal(res.calls, 0);
	assert_int_equal(hooks_pending(h), 1);
	fd_close_quietly(open(go, O_WRONLY | O_CREAT, 0600));
	run_until_idle(loop, h, 10);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(hooks_pending(h), 0);
	assert_int_equal(res.calls, 1);
	assert_true(WIFEXITED(res.status));
	assert_int_equal(WEXITSTATUS(res.status), 3);
	assert_false(res.timed_out);
	assert_string_equal(res.tunnel, "sixxs0");
	assert_int_equal(res.ev, HOOK_UP);
	assert_non_null(strstr(read_file(out), "AICCUD_LOCAL6=2001:db8:a::2\n"));
	assert_non_null(strstr(read_file(out), "AICCUD_IFINDEX=9\n"));
	assert_null(strstr(read_file(out), "never-in-the-env"));
	/* Nothing of the test's own environment leaks into the script's. */
	assert_null(strstr(read_file(out), "AICCUD_TEST_DATA"));
	assert_null(strstr(read_file(out), "HOME="));
	{
		const char *l = read_file(log);

		assert_non_null(strstr(l, "test: sixxs0: setup script (up): args up sixxs0\n"));
		assert_non_null(strstr(l, "setup script (up): to stderr\n"));
		assert_non_null(strstr(l, "setup script (up): no newline at the end\n"));
		assert_null(strstr(l, "stdin gave"));
		assert_non_null(strstr(l, "failed with exit status 3"));
	}
	hooks_free(h);
}

static void timeout_kills_the_process_group(void **state)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct hooks *h = hooks_new(loop, 0.3);
	struct tunnel_conf tc;
	struct result res = {0};
	char body[512], pidfile[128];
	double t0;
	char *pid;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", dir);
	/* A child in the background too: the whole group goes. */
	snprintf(body, sizeof(body), "sleep 30 &\necho $! > '%s'\nsleep 30", pidfile);
	conf(&tc, script("slow.sh", body, 0700));
	t0 = now_s();
	assert_int_equal(hooks_run(h, &tc, HOOK_DOWN, 0, on_done, &res), 0);
	run_until_idle(loop, h, 10);
	assert_int_equal(res.calls, 1);
	assert_true(res.timed_out);
	assert_true(WIFSIGNALED(res.status));
	assert_int_equal(WTERMSIG(res.status), SIGTERM);
	/*
	 * Killed at the 0.3 s timeout, not after the script's 30 s: any bound
	 * far from both tells them apart.  8 s, not 1, so that a loaded shared
	 * 2-core machine cannot break it (timed_out above is the real proof).
	 */
	assert_true(now_s() - t0 < 8.0);
	pid = read_file(pidfile);
	assert_non_null(pid);
	/* The background child of the group goes too (polled, bounded). */
	assert_true(wait_gone((pid_t)atoi(pid), 5.0));
	hooks_free(h);
}

static void one_run_at_a_time_per_tunnel(void **state)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct hooks *h = hooks_new(loop, 10);
	struct tunnel_conf a, b;
	struct result ra = {0}, rb = {0};
	char body[512], trace[128];
	const char *path;

	(void)state;
	snprintf(trace, sizeof(trace), "%s/trace", dir);
	snprintf(body, sizeof(body),
	         "echo \"$2 $1 start\" >> '%s'\nsleep 0.3\necho \"$2 $1 end\" >> '%s'", trace,
	         trace);
	path = script("trace.sh", body, 0700);
	conf(&a, path);
	conf(&b, path);
	snprintf(b.name, sizeof(b.name), "sixxs1");
	assert_int_equal(hooks_run(h, &a, HOOK_UP, 1, on_done, &ra), 0);
	assert_int_equal(hooks_run(h, &a, HOOK_DOWN, 1, on_done, &ra), 0);
	assert_int_equal(hooks_run(h, &b, HOOK_UP, 2, on_done, &rb), 0);
	assert_int_equal(hooks_pending(h), 3);
	run_until_idle(loop, h, 10);
	assert_int_equal(ra.calls, 2);
	assert_int_equal(rb.calls, 1);
	/* sixxs0: up ran to its end before down began; sixxs1 ran alongside. */
	{
		const char *t = read_file(trace);
		const char *up_end = strstr(t, "sixxs0 up end"),
		           *down_start = strstr(t, "sixxs0 down start"),
		           *b_start = strstr(t, "sixxs1 up start");

		assert_non_null(up_end);
		assert_non_null(down_start);
		assert_non_null(b_start);
		assert_true(up_end < down_start);
		assert_true(b_start < up_end);
	}
	hooks_free(h);
}

static void refused_and_missing_scripts(void **state)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct hooks *h = hooks_new(loop, 10);
	struct tunnel_conf tc;
	struct result res = {0};

	(void)state;
	conf(&tc, NULL);
	assert_int_equal(hooks_run(h, &tc, HOOK_UP, 1, on_done, &res), 0); /* none set */
	assert_int_equal(hooks_pending(h), 0);
	conf(&tc, script("unsafe.sh", "exit 0", 0777));
	assert_int_equal(hooks_run(h, &tc, HOOK_UP, 1, on_done, &res), -EPERM);
	assert_int_equal(hooks_pending(h), 0);
	assert_int_equal(res.calls, 0);
	/* hooks_free kills a script still running. */
	conf(&tc, script("forever.sh", "exec sleep 30", 0700));
	assert_int_equal(hooks_run(h, &tc, HOOK_UP, 1, on_done, &res), 0);
	hooks_free(h);
	assert_int_equal(res.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(env_has_every_documented_variable),
	    cmocka_unit_test(only_safe_scripts_run),
	    cmocka_unit_test(runs_with_env_args_status_and_output),
	    cmocka_unit_test(timeout_kills_the_process_group),
	    cmocka_unit_test(one_run_at_a_time_per_tunnel),
	    cmocka_unit_test(refused_and_missing_scripts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
