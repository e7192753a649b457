/* The tunnel cache: round trip, atomic replace, modes, freshness, the failed marker. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cache.h"
#include "fileio.h"

/*
 * By path, as the tests use the cache (the product works through the
 * directory's fd: cache_dir_open, then the *_at functions).
 */
static int with_dir(const char *state_dir, bool create, int *dir)
{
	*dir = cache_dir_open(state_dir, create);
	return *dir < 0 ? *dir : 0;
}

static int cache_write(const char *state_dir, const struct tic_tunnel *t, time_t fetched)
{
	int dir, r = with_dir(state_dir, true, &dir);

	if (r)
		return r;
	r = cache_write_at(dir, t, fetched);
	close(dir);
	return r;
}

static int cache_read(const char *state_dir, const char *id, struct tic_tunnel *t, time_t *fetched)
{
	int dir, r = with_dir(state_dir, false, &dir);

	if (r)
		return r;
	r = cache_read_at(dir, id, t, fetched);
	close(dir);
	return r;
}

static int cache_read_why(const char *state_dir, const char *id, struct tic_tunnel *t,
                          time_t *fetched, char *why, size_t whylen)
{
	int dir, r = with_dir(state_dir, false, &dir);

	if (r)
		return r;
	r = cache_read_why_at(dir, id, t, fetched, why, whylen);
	close(dir);
	return r;
}

static int cache_mark_failed(const char *state_dir, const char *id)
{
	int dir, r = with_dir(state_dir, false, &dir);

	if (r)
		return r;
	r = cache_mark_failed_at(dir, id);
	close(dir);
	return r;
}

struct fixture {
	char dir[64];
	char path[128];
	struct tic_tunnel t;
};

static void make_tunnel(struct tic_tunnel *t)
{
	memset(t, 0, sizeof(*t));
	strcpy(t->id, "T4242");
	strcpy(t->pop_id, "nlams01");
	t->params.type = TUNNEL_AYIYA;
	inet_pton(AF_INET6, "2001:db8:42::2", &t->params.ipv6_local);
	inet_pton(AF_INET6, "2001:db8:42::1", &t->params.ipv6_pop);
	t->params.prefix_len = 64;
	inet_pton(AF_INET, "198.51.100.9", &t->params.ipv4_pop);
	strcpy(t->params.password, "pass: with colon ");
	t->params.heartbeat_interval = 60;
	t->params.mtu = 1280;
	t->admin_enabled = t->user_enabled = true;
	strcpy(t->admin_state, "enabled");
	strcpy(t->user_state, "enabled");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_cache_XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tunnels/T4242", f->dir);
	make_tunnel(&f->t);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void assert_same_tunnel(const struct tic_tunnel *a, const struct tic_tunnel *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->pop_id, b->pop_id);
	assert_int_equal(a->params.type, b->params.type);
	assert_memory_equal(&a->params.ipv6_local, &b->params.ipv6_local, 16);
	assert_memory_equal(&a->params.ipv6_pop, &b->params.ipv6_pop, 16);
	assert_int_equal(a->params.prefix_len, b->params.prefix_len);
	assert_int_equal(a->params.ipv4_local.s_addr, b->params.ipv4_local.s_addr);
	assert_int_equal(a->params.ipv4_pop.s_addr, b->params.ipv4_pop.s_addr);
	assert_string_equal(a->params.password, b->params.password);
	assert_int_equal(a->params.heartbeat_interval, b->params.heartbeat_interval);
	assert_int_equal(a->params.mtu, b->params.mtu);
	assert_int_equal(a->admin_enabled, b->admin_enabled);
	assert_int_equal(a->user_enabled, b->user_enabled);
	assert_string_equal(a->admin_state, b->admin_state);
	assert_string_equal(a->user_state, b->user_state);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct tic_tunnel back;
	time_t fetched = 0;
	struct stat st;

	assert_int_equal(cache_write(f->dir, &f->t, 1700000123), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), 0);
	assert_int_equal(fetched, 1700000123);
	assert_same_tunnel(&f->t, &back);
	assert_int_equal(back.fetch_err, 0);
	/* the directory holds secrets too */
	snprintf(f->path, sizeof(f->path), "%s/tunnels", f->dir);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* a static tunnel with a fixed IPv4 round-trips as well */
	f->t.params.type = TUNNEL_6IN4_STATIC;
	inet_pton(AF_INET, "192.0.2.5", &f->t.params.ipv4_local);
	f->t.params.password[0] = '\0';
	f->t.params.mtu = 0;
	f->t.pop_id[0] = '\0';
	strcpy(f->t.admin_state, "disabled by staff");
	f->t.admin_enabled = false;
	assert_int_equal(cache_write(f->dir, &f->t, 5), 0);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), 0);
	assert_same_tunnel(&f->t, &back);
	assert_int_equal(fetched, 5);
}

/* The broker's IPv4 Endpoint text survives the cache unchanged (PROTOCOLS.md 7.1). */
static void test_round_trip_endpoint_text(void **state)
{
	static const struct {
		enum tunnel_type type;
		const char *text;
	} cases[] = {
	    {TUNNEL_AYIYA, "ayiya"},
	    {TUNNEL_6IN4_HEARTBEAT, "heartbeat"},
	    {TUNNEL_AYIYA, "heartbeat"},
	    {TUNNEL_6IN4_HEARTBEAT, "192.0.2.44"},
	};
	struct fixture *f = *state;
	struct tic_tunnel back;
	time_t fetched = 0;
	char *file, want[80];
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->t.params.type = cases[i].type;
		snprintf(f->t.ipv4_endpoint, sizeof(f->t.ipv4_endpoint), "%s", cases[i].text);
		if (inet_pton(AF_INET, cases[i].text, &f->t.params.ipv4_local) != 1)
			f->t.params.ipv4_local.s_addr = 0;
		assert_int_equal(cache_write(f->dir, &f->t, 1700000000), 0);
		assert_int_equal(file_read_small(f->path, CACHE_FILE_MAX, 1, &file, &n), 0);
		snprintf(want, sizeof(want), "\nIPv4 Endpoint: %s\n", cases[i].text);
		if (!strstr(file, want))
			fail_msg("cache file lacks '%s':\n%s", want + 1, file);
		free(file);
		assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), 0);
		assert_same_tunnel(&f->t, &back);
		assert_string_equal(back.ipv4_endpoint, cases[i].text);
	}
	/* an address given for a dynamic tunnel is kept, as information */
	assert_int_equal(back.params.ipv4_local.s_addr, inet_addr("192.0.2.44"));
}

static void test_atomic_replace(void **state)
{
	struct fixture *f = *state;
	struct tic_tunnel back;
	time_t fetched;
	struct stat a, b;
	char tmp[160];

	assert_int_equal(cache_write(f->dir, &f->t, 100), 0);
	assert_int_equal(stat(f->path, &a), 0);
	f->t.params.mtu = 1480;
	assert_int_equal(cache_write(f->dir, &f->t, 200), 0);
	assert_int_equal(stat(f->path, &b), 0);
	/* a new file renamed over the old one, not the old one rewritten in place */
	assert_int_not_equal(a.st_ino, b.st_ino);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), 0);
	assert_int_equal(back.params.mtu, 1480);
	assert_int_equal(fetched, 200);
}

static void test_refuse_readable(void **state)
{
	struct fixture *f = *state;
	struct tic_tunnel back;
	time_t fetched;
	char why[TIC_ERR_MAX];

	assert_int_equal(cache_write(f->dir, &f->t, 100), 0);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -EPERM);
	/* issue 20: say what is wrong, not "Operation not permitted" */
	assert_int_equal(cache_read_why(f->dir, "T4242", &back, &fetched, why, sizeof(why)),
	                 -EPERM);
	assert_non_null(strstr(why, "readable by group/others (mode 0644)"));
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -EPERM);
	assert_int_equal(chmod(f->path, 0400), 0);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), 0);
	/* rewriting restores 0600 */
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(cache_write(f->dir, &f->t, 100), 0);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), 0);
}

static void write_raw(struct fixture *f, const char *text)
{
	assert_int_equal(file_write_atomic(f->path, text, strlen(text), 0600), 0);
}

static void test_bad_files(void **state)
{
	struct fixture *f = *state;
	struct tic_tunnel back;
	time_t fetched;
	char good[CACHE_FILE_MAX], *cut;
	int n;

	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -ENOENT);
	assert_int_equal(cache_write(f->dir, &f->t, 100), 0);
	assert_int_equal(cache_read(f->dir, "../T4242", &back, &fetched), -EINVAL);
	n = tic_show_format(&f->t, good, sizeof(good));
	assert_true(n > 0);
	/* no Fetched line */
	write_raw(f, good);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -EBADMSG);
	/* a bad Fetched line */
	snprintf(good + n, sizeof(good) - (size_t)n, "Fetched: soon\n");
	write_raw(f, good);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -EBADMSG);
	/* cut off mid-line */
	snprintf(good + n, sizeof(good) - (size_t)n, "Fetched: 100\n");
	cut = strstr(good, "IPv4 POP");
	cut[4] = '\0';
	write_raw(f, good);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -EBADMSG);
	/* another tunnel's file under this name */
	f->t.params.mtu = 1300;
	strcpy(f->t.id, "T1");
	assert_int_equal(cache_write(f->dir, &f->t, 100), 0);
	snprintf(good, sizeof(good), "%s/tunnels/T1", f->dir);
	assert_int_equal(rename(good, f->path), 0);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -EBADMSG);
	/* a tunnel whose fetch failed is not cached */
	f->t.fetch_err = -ENOENT;
	assert_int_equal(cache_write(f->dir, &f->t, 100), -EINVAL);
}

static void test_fresh(void **state)
{
	(void)state;
	assert_true(cache_fresh(1000, 1000, 3600));
	assert_true(cache_fresh(1000, 4600, 3600));
	assert_false(cache_fresh(1000, 4601, 3600));
	/* from the future: the clock jumped back, or the file is not to be trusted */
	assert_false(cache_fresh(1001, 1000, 3600));
	assert_false(cache_fresh(1000, 1001, 0));
	assert_true(cache_fresh(0, 86400 * 365, UINT32_MAX));
}

/* The worker's choice at start (issue 21.9: a directory error never means "use tt"). */
static void test_decide(void **state)
{
	(void)state;
	/* a good file */
	assert_int_equal(cache_decide(0, 0, true, false), CACHE_USE);
	assert_int_equal(cache_decide(0, 0, true, true), CACHE_USE);
	/* too old: TIC; right after a fetch it is the fetch's own file */
	assert_int_equal(cache_decide(0, 0, false, false), CACHE_ASK_TIC);
	assert_int_equal(cache_decide(0, 0, false, true), CACHE_USE);
	/* missing or not ours: TIC once, then a failure (no fetch loop) */
	assert_int_equal(cache_decide(0, -ENOENT, false, false), CACHE_ASK_TIC);
	assert_int_equal(cache_decide(0, -ENOENT, false, true), CACHE_FAIL);
	assert_int_equal(cache_decide(0, -EBADMSG, false, false), CACHE_ASK_TIC);
	assert_int_equal(cache_decide(0, -EBADMSG, false, true), CACHE_FAIL);
	assert_int_equal(cache_decide(-ENOENT, 0, false, false), CACHE_ASK_TIC);
	assert_int_equal(cache_decide(-ENOENT, 0, false, true), CACHE_FAIL);
	/* marked failed: TIC; after a fetch that kept them, they stand */
	assert_int_equal(cache_decide(0, -ESTALE, false, false), CACHE_ASK_TIC);
	assert_int_equal(cache_decide(0, -ESTALE, false, true), CACHE_USE);
	/* the directory cannot be opened: nothing was read, whatever the errno */
	for (int fresh_fetch = 0; fresh_fetch <= 1; fresh_fetch++) {
		assert_int_equal(cache_decide(-ESTALE, 0, false, fresh_fetch), CACHE_FAIL);
		assert_int_equal(cache_decide(-ESTALE, 0, true, fresh_fetch), CACHE_FAIL);
		assert_int_equal(cache_decide(-EACCES, 0, false, fresh_fetch), CACHE_FAIL);
		assert_int_equal(cache_decide(-ELOOP, 0, false, fresh_fetch), CACHE_FAIL);
		assert_int_equal(cache_decide(-ENOTDIR, -ESTALE, false, fresh_fetch), CACHE_FAIL);
	}
	/* other read errors (permissions of the file, I/O) */
	assert_int_equal(cache_decide(0, -EACCES, false, true), CACHE_FAIL);
	assert_int_equal(cache_decide(0, -EIO, false, false), CACHE_FAIL);
}

static void test_failed_marker(void **state)
{
	struct fixture *f = *state;
	struct tic_tunnel back;
	time_t fetched = 0;
	struct stat st;

	assert_int_equal(cache_mark_failed(f->dir, "T4242"), -ENOENT);
	assert_int_equal(cache_write(f->dir, &f->t, 777), 0);
	assert_int_equal(cache_mark_failed(f->dir, "T4242"), 0);
	/* still readable as a last resort, but says so */
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -ESTALE);
	assert_int_equal(fetched, 777);
	assert_same_tunnel(&f->t, &back);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* marking twice is fine */
	assert_int_equal(cache_mark_failed(f->dir, "T4242"), 0);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), -ESTALE);
	/* fresh parameters from TIC clear it */
	assert_int_equal(cache_write(f->dir, &f->t, 888), 0);
	assert_int_equal(cache_read(f->dir, "T4242", &back, &fetched), 0);
	assert_int_equal(fetched, 888);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip_endpoint_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_readable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	    cmocka_unit_test(test_fresh),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test_setup_teardown(test_failed_marker, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
