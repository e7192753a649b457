/*
 * The message table of each IPC boundary (worker -> parent, fetcher ->
 * parent, parent -> worker): which types each peer may send in which
 * state, decided by ipc_route_find; and what the parent checks a child's
 * words against (the link kind, the text of a reason).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fetch.h"
#include "ipc.h"
#include "lifecycle.h"
#include "privsep.h"
#include "tunnel.h"
#include "update.h"
#include "worker.h"
#include "workers.h"

static void noop(void *ctx, const void *p)
{
	(void)ctx;
	(void)p;
}

static void test_find(void **state)
{
	static const struct ipc_route tab[] = {
	    {IPC_W_UP, IPC_IN(1) | IPC_IN(3), noop},
	    {IPC_W_COUNTERS, IPC_IN(0), noop},
	};
	int why = 1;

	(void)state;
	assert_ptr_equal(ipc_route_find(tab, 2, IPC_W_UP, 3, &why), &tab[0]);
	assert_int_equal(why, 0);
	assert_ptr_equal(ipc_route_find(tab, 2, IPC_W_COUNTERS, 0, &why), &tab[1]);
	assert_null(ipc_route_find(tab, 2, IPC_W_UP, 2, &why));
	assert_int_equal(why, -EPERM);
	assert_null(ipc_route_find(tab, 2, IPC_P_CONF, 1, &why));
	assert_int_equal(why, -EPROTO);
	assert_null(ipc_route_find(tab, 2, 0, 1, &why));
	assert_int_equal(why, -EPROTO);
	assert_null(ipc_route_find(tab, 2, 9999, 1, &why));
	assert_int_equal(why, -EPROTO);
	/* A state beyond the mask's bits is in no set (no undefined shift). */
	assert_null(ipc_route_find(tab, 2, IPC_W_UP, 40, &why));
	assert_int_equal(why, -EPERM);
}

/* The decision for type in state: 0 allowed, -EPERM wrong state, -EPROTO never from this peer. */
static int decide(const struct ipc_route *tab, size_t n, int type, unsigned state)
{
	int why = 1;
	const struct ipc_route *r = ipc_route_find(tab, n, type, state, &why);

	if (r) {
		assert_int_equal(r->type, type);
		assert_non_null(r->handle);
	}
	return why;
}

#define IN(s) (1u << (s))

/* What the worker -> parent table must decide, state by state (bits of allowed states). */
static unsigned worker_expected(int type)
{
	const unsigned running = IN(TS_STARTING) | IN(TS_UP) | IN(TS_STOPPING) | IN(TS_FAILED);
	const unsigned loop = IN(TS_UP) | IN(TS_STOPPING) | IN(TS_FAILED);

	switch (type) {
	case IPC_W_UP:
	case IPC_W_CHECK:
	case IPC_W_NEED_TIC:
		return IN(TS_STARTING);
	case IPC_W_FAILED:
	case IPC_C_SECCOMP:
		return running;
	case IPC_W_COUNTERS:
	case IPC_W_PRIV:
	case IPC_W_REPAIRED:
		return loop;
	default:
		return 0;
	}
}

static void test_worker_to_parent(void **state)
{
	size_t n;
	const struct ipc_route *tab = workers_ipc_routes(&n);

	(void)state;
	for (int type = 0; type <= IPC_TYPE_MAX + 1; type++) {
		unsigned want = worker_expected(type);

		for (unsigned s = 0; s < TS_COUNT; s++) {
			int got = decide(tab, n, type, s);

			if (want & IN(s))
				assert_int_equal(got, 0);
			else if (want)
				assert_int_equal(got, -EPERM);
			else
				assert_int_equal(got, -EPROTO);
		}
	}
	/* No worker runs in these: nothing is taken from one there. */
	for (int type = 0; type < IPC_TYPE_MAX; type++) {
		assert_int_not_equal(decide(tab, n, type, TS_STOPPED), 0);
		assert_int_not_equal(decide(tab, n, type, TS_WAITING), 0);
		assert_int_not_equal(decide(tab, n, type, TS_FETCHING), 0);
		assert_int_not_equal(decide(tab, n, type, TS_BACKOFF), 0);
	}
	/* Finding 1's message: a link-up report once the tunnel is up is refused. */
	assert_int_equal(decide(tab, n, IPC_W_UP, TS_UP), -EPERM);
	/* The parent's own types never come from a worker. */
	assert_int_equal(decide(tab, n, IPC_P_PRIV, TS_UP), -EPROTO);
	assert_int_equal(decide(tab, n, IPC_F_RESULT, TS_STARTING), -EPROTO);
}

static void test_fetcher_to_parent(void **state)
{
	size_t n;
	const struct ipc_route *tab = fetch_ipc_routes(&n);

	(void)state;
	assert_int_equal(decide(tab, n, IPC_F_RESULT, FETCH_PHASE_RESULTS), 0);
	assert_int_equal(decide(tab, n, IPC_F_DONE, FETCH_PHASE_RESULTS), 0);
	assert_int_equal(decide(tab, n, IPC_C_SECCOMP, FETCH_PHASE_RESULTS), 0);
	/* Its outcome is its last word. */
	assert_int_equal(decide(tab, n, IPC_F_RESULT, FETCH_PHASE_DONE), -EPERM);
	assert_int_equal(decide(tab, n, IPC_F_DONE, FETCH_PHASE_DONE), -EPERM);
	assert_int_equal(decide(tab, n, IPC_C_SECCOMP, FETCH_PHASE_DONE), 0);
	for (int type = 0; type <= IPC_TYPE_MAX; type++) {
		if (type == IPC_F_RESULT || type == IPC_F_DONE || type == IPC_C_SECCOMP)
			continue;
		assert_int_equal(decide(tab, n, type, FETCH_PHASE_RESULTS), -EPROTO);
		assert_int_equal(decide(tab, n, type, FETCH_PHASE_DONE), -EPROTO);
	}
}

/* The endpoint-update child (aiccud-tic -U): one result, then only a seccomp report. */
static void test_update_to_parent(void **state)
{
	size_t n;
	const struct ipc_route *tab = update_ipc_routes(&n);

	(void)state;
	assert_int_equal(decide(tab, n, IPC_U_RESULT, UPDATE_PHASE_RESULT), 0);
	assert_int_equal(decide(tab, n, IPC_C_SECCOMP, UPDATE_PHASE_RESULT), 0);
	/* A second result is refused: the first one stands (or the child is killed). */
	assert_int_equal(decide(tab, n, IPC_U_RESULT, UPDATE_PHASE_DONE), -EPERM);
	assert_int_equal(decide(tab, n, IPC_C_SECCOMP, UPDATE_PHASE_DONE), 0);
	for (int type = 0; type <= IPC_TYPE_MAX + 1; type++) {
		if (type == IPC_U_RESULT || type == IPC_C_SECCOMP)
			continue;
		/* A fetcher's or a worker's words are not an update child's. */
		assert_int_equal(decide(tab, n, type, UPDATE_PHASE_RESULT), -EPROTO);
		assert_int_equal(decide(tab, n, type, UPDATE_PHASE_DONE), -EPROTO);
	}
}

/* Issue 20 (7): a worker's privileged requests, by a token bucket before any netlink work. */
static void test_request_bucket(void **state)
{
	struct privsep_bucket b;
	unsigned granted = 0;

	(void)state;
	memset(&b, 0, sizeof(b));
	/* 100k at once: the burst, nothing more. */
	for (int i = 0; i < 100000; i++)
		granted += privsep_bucket_take(&b, 50.0);
	assert_int_equal(granted, PRIVSEP_REQ_BURST);
	assert_int_equal(b.limited, 100000 - PRIVSEP_REQ_BURST);
	/* Then 1000 a second for 5 s: one more per period. */
	granted = 0;
	for (int i = 1; i <= 5000; i++)
		granted += privsep_bucket_take(&b, 50.0 + i / 1000.0);
	assert_int_equal(granted, (unsigned)(5.0 / PRIVSEP_REQ_PERIOD));
	/* A quiet worker gets its burst back, no more. */
	granted = 0;
	for (int i = 0; i < 100; i++)
		granted += privsep_bucket_take(&b, 1000.0);
	assert_int_equal(granted, PRIVSEP_REQ_BURST);
	/* A clock that went back refills nothing beyond the burst. */
	granted = 0;
	for (int i = 0; i < 100; i++)
		granted += privsep_bucket_take(&b, 10.0);
	assert_true(granted <= PRIVSEP_REQ_BURST);
}

static void test_parent_to_worker(void **state)
{
	size_t n;
	const struct ipc_route *tab = worker_ipc_routes(&n);

	(void)state;
	for (int type = 0; type <= IPC_TYPE_MAX; type++) {
		int want = type == IPC_P_COUNTERS_REQ || type == IPC_P_REPAIR || type == IPC_P_PRIV
		               ? 0
		               : -EPROTO;

		assert_int_equal(decide(tab, n, type, 0), want);
	}
}

static void test_link_kind(void **state)
{
	struct tunnel_conf tc;

	(void)state;
	memset(&tc, 0, sizeof(tc));
	tc.params.type = TUNNEL_AYIYA;
	tc.datapath = DATAPATH_AUTO;
	assert_true(tunnel_link_kind_ok(&tc, "tun"));
	assert_false(tunnel_link_kind_ok(&tc, "sit"));
	assert_false(tunnel_link_kind_ok(&tc, "veth"));
	assert_false(tunnel_link_kind_ok(&tc, ""));
	tc.params.type = TUNNEL_6IN4_HEARTBEAT;
	assert_true(tunnel_link_kind_ok(&tc, "tun"));
	assert_true(tunnel_link_kind_ok(&tc, "sit"));
	assert_false(tunnel_link_kind_ok(&tc, "dummy"));
	assert_false(tunnel_link_kind_ok(&tc, "sitx"));
	tc.datapath = DATAPATH_KERNEL;
	assert_true(tunnel_link_kind_ok(&tc, "sit"));
	assert_false(tunnel_link_kind_ok(&tc, "tun"));
	tc.datapath = DATAPATH_USERSPACE;
	assert_true(tunnel_link_kind_ok(&tc, "tun"));
	assert_false(tunnel_link_kind_ok(&tc, "sit"));
}

static void test_text(void **state)
{
	char out[8];
	const char in[6] = {'a', '\n', 'b', '\x1b', (char)0xc3, 'c'};

	(void)state;
	/* Not terminated in its field: cut at the field's end. */
	ipc_text(out, sizeof(out), in, sizeof(in));
	assert_string_equal(out, "a?b??c");
	ipc_text(out, 4, "abcdef", 6);
	assert_string_equal(out, "abc");
	ipc_text(out, sizeof(out), "ab\0cd", 5);
	assert_string_equal(out, "ab");
	assert_string_equal(ipc_type_name(IPC_W_UP), "IPC_W_UP");
	assert_string_equal(ipc_type_name(0), "unknown");
	assert_string_equal(ipc_type_name(IPC_TYPE_MAX), "unknown");
	assert_string_equal(ipc_type_name(-3), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_worker_to_parent),
	    cmocka_unit_test(test_fetcher_to_parent),
	    cmocka_unit_test(test_update_to_parent),
	    cmocka_unit_test(test_request_bucket),
	    cmocka_unit_test(test_parent_to_worker),
	    cmocka_unit_test(test_link_kind),
	    cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
