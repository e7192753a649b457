/*
 * The parent's kept view of the host (hostcache.h) and the check against
 * a view (hostview.h), without a kernel: views are built by hand and the
 * monitor's notes are calls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "hostcache.h"

static struct tunnel_params params(const char *local, unsigned len, const char *pop4)
{
	struct tunnel_params p;

	memset(&p, 0, sizeof(p));
	inet_pton(AF_INET6, local, &p.ipv6_local);
	p.prefix_len = (uint8_t)len;
	inet_pton(AF_INET, pop4, &p.ipv4_pop);
	return p;
}

static void add6(struct hostview *hv, const char *a, unsigned len, int ifindex)
{
	struct in6_addr x;

	assert_int_equal(inet_pton(AF_INET6, a, &x), 1);
	assert_int_equal(hostview_add6(hv, &x, (uint8_t)len, ifindex), 0);
}

static int check(const struct hostview *hv, const struct tunnel_params *p, const int *own,
                 size_t nown, char *err)
{
	struct hostview_own sorted;
	int r;

	assert_int_equal(hostview_own_sort(own, nown, &sorted), 0);
	r = hostview_check_own(hv, p, NULL, 0, &sorted, TPOLICY_KEYS_TIC, err, 256);
	hostview_own_free(&sorted);
	return r;
}

/* hostcache_usable_own for own links in any order. */
static bool usable(const struct hostcache *hc, const int *own, size_t nown)
{
	struct hostview_own sorted;
	bool ok;

	assert_int_equal(hostview_own_sort(own, nown, &sorted), 0);
	ok = hostcache_usable_own(hc, &sorted);
	hostview_own_free(&sorted);
	return ok;
}

/* Entries on the check's own links are aiccud's: they never refuse. */
static void test_view_leaves_out_own_links(void **state)
{
	struct hostview hv = {0};
	struct tunnel_params p = params("2001:db8:5::2", 64, "192.0.2.1");
	struct in_addr v4;
	char err[256] = "";
	int own[20];

	(void)state;
	add6(&hv, "2001:db8:5::", 64, 7); /* another tunnel's (or a host's) prefix on link 7 */
	add6(&hv, "2001:db8:99::", 48, 2);
	assert_int_equal(check(&hv, &p, NULL, 0, err), -EADDRINUSE);
	assert_non_null(strstr(err, "2001:db8:5::/64"));
	own[0] = 7;
	assert_int_equal(check(&hv, &p, own, 1, err), 0);
	/* Many own links, in another order: the same answers. */
	for (int i = 0; i < 20; i++)
		own[i] = 100 - i;
	assert_int_equal(check(&hv, &p, own, 20, err), -EADDRINUSE);
	own[13] = 7;
	assert_int_equal(check(&hv, &p, own, 20, err), 0);
	/* The PoP must not be one of the host's IPv4 addresses, on any link. */
	inet_pton(AF_INET, "192.0.2.1", &v4);
	assert_int_equal(hostview_add4(&hv, v4, 7), 0);
	assert_int_equal(check(&hv, &p, own, 20, err), -EADDRINUSE);
	assert_non_null(strstr(err, "192.0.2.1"));
	hostview_free(&hv);
	/* nor its LAN's broadcast address (issue 20) */
	inet_pton(AF_INET, "192.0.2.1", &v4);
	assert_int_equal(hostview_add4_net(&hv, v4, 24, 7), 0);
	inet_pton(AF_INET, "192.0.2.255", &p.ipv4_pop);
	assert_int_equal(check(&hv, &p, own, 20, err), -EADDRINUSE);
	assert_non_null(strstr(err, "broadcast address of this host's network 192.0.2.0/24"));
	hostview_free(&hv);
}

static void test_unread_or_unmonitored_is_not_usable(void **state)
{
	struct hostcache hc;
	int own[] = {3};

	(void)state;
	hostcache_init(&hc);
	hc.monitored = true;
	assert_false(usable(&hc, own, 1)); /* never read */
	hc.valid = true;
	assert_true(usable(&hc, own, 1));
	hc.monitored = false; /* nobody tells it what changed */
	assert_false(usable(&hc, own, 1));
	hostcache_free(&hc);
}

/* Changes on the check's own links keep the view; any other change does not. */
static void test_notes_decide(void **state)
{
	struct hostcache hc;
	int own[] = {9, 4, 6};

	(void)state;
	hostcache_init(&hc);
	hc.monitored = hc.valid = true;
	hostcache_note(&hc, 4);
	hostcache_note(&hc, 9);
	hostcache_note(&hc, 4); /* noted once */
	assert_int_equal(hc.nnoted, 2);
	assert_true(usable(&hc, own, 3));
	assert_false(usable(&hc, own, 1)); /* 4 is not this check's own */
	hostcache_note(&hc, 5);
	assert_false(usable(&hc, own, 3));
	hostcache_free(&hc);

	hostcache_init(&hc);
	hc.monitored = hc.valid = true;
	hostcache_note(&hc, 0); /* a multipath route, or lost events */
	assert_false(usable(&hc, own, 3));
	hostcache_free(&hc);
}

/* A thousand tunnels: every one of their links noted, the view still serves. */
static void test_many_links(void **state)
{
	enum { N = 1000 };
	struct hostcache hc;
	int *own = malloc(N * sizeof(*own));

	(void)state;
	assert_non_null(own);
	hostcache_init(&hc);
	hc.monitored = hc.valid = true;
	for (int i = N - 1; i >= 0; i--)
		hostcache_note(&hc, 10 + 3 * i);
	assert_int_equal(hc.nnoted, N);
	for (size_t i = 1; i < hc.nnoted; i++)
		assert_true(hc.noted[i - 1] < hc.noted[i]);
	for (int i = 0; i < N; i++)
		own[i] = 10 + 3 * ((i * 7) % N); /* all of them, in another order */
	assert_true(usable(&hc, own, N));
	own[500] = 11; /* one noted link is no longer one of ours */
	assert_false(usable(&hc, own, N));
	free(own);
	hostcache_free(&hc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_view_leaves_out_own_links),
	    cmocka_unit_test(test_unread_or_unmonitored_is_not_usable),
	    cmocka_unit_test(test_notes_decide),
	    cmocka_unit_test(test_many_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
