/*
 * The TIC connection limiter.  The property test drives the limiter with a
 * simulated world (real time, boot clock, wall clock, boot id, a disk) and
 * checks the broker's rule itself from the recorded grant times: it never
 * asks the limiter what it thinks it allowed.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "limiter.h"

#define BOOT_A "3f1c2b6e-8d4a-4c2e-9b1a-0a1b2c3d4e5f"
#define BOOT_B "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"
#define WALL0  1700000000000LL
#define MIN_MS 60000LL
#define SEC(x) ((int64_t)(x)*1000)

static struct limiter_now at(int64_t boot_ms, int64_t wall_ms, const char *id)
{
	struct limiter_now n;

	memset(&n, 0, sizeof(n));
	n.boot_ms = boot_ms;
	n.wall_ms = wall_ms;
	snprintf(n.boot_id, sizeof(n.boot_id), "%s", id);
	return n;
}

/* Boot A, wall clock in step with the boot clock. */
static struct limiter_now a(int64_t boot_ms)
{
	return at(boot_ms, WALL0 + boot_ms, BOOT_A);
}

/* The broker's arithmetic, written here again so the test does not trust the code. */
static unsigned spec_bound(uint32_t burst, uint32_t refill)
{
	return burst + 60 / refill;
}

/* ---- an independent SHA-256: sha256sum over a temp file ---- */

static void ext_sha256(const char *data, size_t len, char hex[65])
{
	char path[] = "/tmp/test_limiter_sumXXXXXX", cmd[128];
	FILE *p;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", hex), 1);
	pclose(p);
	unlink(path);
	assert_int_equal(strlen(hex), 64);
}

/* body + "sha256 <sum of body>\n", the sum from sha256sum. */
static size_t with_sum(const char *body, char *out, size_t cap)
{
	char hex[65];
	int n;

	ext_sha256(body, strlen(body), hex);
	n = snprintf(out, cap, "%ssha256 %s\n", body, hex);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* ---- limiter_check_params ---- */

static void test_check_params_edges(void **state)
{
	static const struct {
		uint32_t burst, refill;
		int ok;
	} cases[] = {
	    {1, 30, 1},    {2, 30, 1},    {1, 15, 0},          {4, 61, 1}, {4, 60, 0},
	    {1, 20, 1},    {1, 19, 1},    {1, 12, 0},          {3, 31, 1}, {3, 30, 0},
	    {5, 1, 0},     {5, 61, 0},    {5, 86400, 0},       {1, 0, 0},  {0, 30, 0},
	    {1, 86400, 1}, {1, 86401, 0}, {UINT32_MAX, 30, 0},
	};
	char msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = limiter_check_params(cases[i].burst, cases[i].refill, msg, sizeof(msg));

		if (rc != (cases[i].ok ? 0 : -EINVAL))
			fail_msg("%u/%u: got %d (%s)", cases[i].burst, cases[i].refill, rc, msg);
	}
	/* every pair agrees with the broker's arithmetic done here */
	for (uint32_t b = 0; b <= 6; b++)
		for (uint32_t r = 0; r <= 200; r++) {
			int ok = b >= 1 && r >= 1 && spec_bound(b, r) <= 4;

			assert_int_equal(limiter_check_params(b, r, NULL, 0), ok ? 0 : -EINVAL);
		}
	assert_int_equal(limiter_check_params(1, 10, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "limiter allows 1 + floor(60/10) = 7 connections in 60 s; "
	                         "the broker blocks more than 4");
	assert_int_equal(limiter_check_params(2, 30, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "2 + floor(60/30) = 4 connections"));
	assert_int_equal(limiter_check_params(1, 0, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "refill"));
	assert_int_equal(limiter_check_params(0, 30, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "burst"));
	/* a short buffer is cut, not overrun */
	assert_int_equal(limiter_check_params(1, 10, msg, 8), -EINVAL);
	assert_int_equal(strlen(msg), 7);
}

/* Tokens now and seconds until a grant, as the product reads them (limiter_status). */
static unsigned tokens_now(const struct limiter *l, const struct limiter_now *now)
{
	struct limiter_status st;

	limiter_status(l, now, &st);
	return st.tokens;
}

static double next_grant_s(const struct limiter *l, const struct limiter_now *now)
{
	struct limiter_status st;

	limiter_status(l, now, &st);
	return st.next_grant_s;
}

/*
 * New [limiter] params: what aiccud does with them (reload refuses them,
 * so it is a restart): the state saved with the old params, loaded with
 * the new.  1 changed, 0 the same, -EINVAL bad params (l untouched).
 */
static int new_params(struct limiter *l, uint32_t burst, uint32_t refill,
                      const struct limiter_now *now)
{
	char b[LIMITER_STATE_MAX];
	struct limiter n;
	int r;

	if (limiter_init(&n, burst, refill, now) < 0)
		return -EINVAL;
	assert_true(limiter_serialize(l, b, sizeof(b)) > 0);
	r = limiter_parse(&n, b, strlen(b), now);
	assert_true(r == 0 || r == LIMITER_STATE_NEW_PARAMS);
	*l = n;
	return r == LIMITER_STATE_NEW_PARAMS;
}

/* ---- basic behaviour ---- */

static void test_init_refuses_bad_params(void **state)
{
	struct limiter l;
	struct limiter_now n = a(SEC(10));

	(void)state;
	assert_int_equal(limiter_init(&l, 1, 15, &n), -EINVAL);
	assert_int_equal(limiter_init(&l, 0, 30, &n), -EINVAL);
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	assert_int_equal(new_params(&l, 1, 10, &n), -EINVAL);
	assert_int_equal(l.refill, 30);
}

static void test_empty_start_waits_one_interval(void **state)
{
	struct limiter l;
	struct limiter_now n = a(SEC(100));
	double w = -1;

	(void)state;
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	assert_int_equal(tokens_now(&l, &n), 0);
	assert_false(limiter_take(&l, &n, &w));
	assert_true(fabs(w - 30.0) < 1e-9);
	n = a(SEC(130) - 1);
	assert_false(limiter_take(&l, &n, &w));
	assert_true(fabs(w - 0.001) < 1e-9);
	n = a(SEC(130));
	assert_true(next_grant_s(&l, &n) == 0.0);
	assert_int_equal(tokens_now(&l, &n), 1);
	assert_true(limiter_take(&l, &n, &w));
	assert_true(w == 0.0);
	assert_int_equal(tokens_now(&l, &n), 0);
	assert_false(limiter_take(&l, &n, NULL));
}

/* Constant demand gets exactly one grant per refill interval: not too strict. */
static void test_steady_demand_gets_the_full_rate(void **state)
{
	struct limiter l;
	struct limiter_now n = a(0);
	int64_t last = -1;
	unsigned grants = 0;

	(void)state;
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	for (int64_t t = 0; t <= SEC(3600); t += 1000) {
		n = a(t);
		if (limiter_take(&l, &n, NULL)) {
			if (last >= 0)
				assert_int_equal(t - last, SEC(30));
			last = t;
			grants++;
		}
	}
	assert_int_equal(grants, 3600 / 30);
}

static void test_burst_refills_and_caps(void **state)
{
	struct limiter l;
	struct limiter_now n = a(SEC(5));
	double w;

	(void)state;
	assert_int_equal(limiter_init(&l, 2, 30, &n), 0);
	n = a(SEC(5 + 30));
	assert_int_equal(tokens_now(&l, &n), 1);
	n = a(SEC(5 + 60));
	assert_int_equal(tokens_now(&l, &n), 2);
	n = a(SEC(1000000));
	assert_int_equal(tokens_now(&l, &n), 2);
	assert_true(limiter_take(&l, &n, NULL));
	assert_true(limiter_take(&l, &n, NULL));
	assert_false(limiter_take(&l, &n, &w));
	assert_true(fabs(w - 30.0) < 1e-9);
	/* a partly minted token keeps its progress */
	n = a(SEC(1000000 + 45));
	assert_int_equal(tokens_now(&l, &n), 1);
	assert_true(limiter_take(&l, &n, NULL));
	assert_false(limiter_take(&l, &n, &w));
	assert_true(fabs(w - 15.0) < 1e-9);
}

static void test_penalty(void **state)
{
	struct limiter l, l2;
	struct limiter_now n = a(SEC(1000));
	struct limiter_status st;
	char buf[LIMITER_STATE_MAX];
	double w;

	(void)state;
	assert_int_equal(limiter_init(&l, 2, 30, &n), 0);
	n = a(SEC(2000));
	assert_int_equal(tokens_now(&l, &n), 2);
	limiter_penalize(&l, &n, 100); /* raised to 300 */
	assert_int_equal(tokens_now(&l, &n), 0);
	limiter_status(&l, &n, &st);
	assert_true(st.penalty_active);
	assert_int_equal(st.penalty_until_wall_ms, n.wall_ms + SEC(300));
	assert_true(fabs(st.next_grant_s - 300.0) < 1e-9);
	/* another refusal restarts the 5 minutes */
	n = a(SEC(2100));
	limiter_penalize(&l, &n, 0);
	assert_true(fabs(next_grant_s(&l, &n) - 300.0) < 1e-9);
	/* it survives a restart, even with the wall clock moved by a day */
	assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);
	n = at(SEC(2200), WALL0 + SEC(2200 + 86400), BOOT_A);
	assert_int_equal(limiter_init(&l2, 2, 30, &n), 0);
	assert_int_equal(limiter_parse(&l2, buf, strlen(buf), &n), 0);
	assert_int_equal(tokens_now(&l2, &n), 0);
	n = at(SEC(2400) - 1, WALL0 + SEC(2400 + 86400) - 1, BOOT_A);
	assert_false(limiter_take(&l2, &n, &w));
	assert_true(fabs(w - 0.001) < 1e-9);
	/* then exactly one token, then the normal rate */
	n = at(SEC(2400), WALL0 + SEC(2400 + 86400), BOOT_A);
	assert_int_equal(tokens_now(&l2, &n), 1);
	limiter_status(&l2, &n, &st);
	assert_false(st.penalty_active);
	assert_true(limiter_take(&l2, &n, NULL));
	assert_false(limiter_take(&l2, &n, &w));
	assert_true(fabs(w - 30.0) < 1e-9);
	/* a shorter penalty does not cut a longer one */
	limiter_penalize(&l2, &n, 3600);
	n = at(SEC(2500), WALL0 + SEC(2500 + 86400), BOOT_A);
	limiter_penalize(&l2, &n, 300);
	assert_true(fabs(next_grant_s(&l2, &n) - 3500.0) < 1e-9);
	/* the longest penalty is capped at LIMITER_PENALTY_MAX */
	limiter_penalize(&l2, &n, UINT32_MAX);
	assert_true(fabs(next_grant_s(&l2, &n) - LIMITER_PENALTY_MAX) < 1e-9);
}

static void test_wall_clock_jumps_mint_nothing(void **state)
{
	struct limiter l, l2;
	struct limiter_now n = a(SEC(100));
	char buf[LIMITER_STATE_MAX];
	const int64_t jumps[] = {SEC(86400 * 365), -SEC(86400 * 365), SEC(31), -WALL0};

	(void)state;
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	n = a(SEC(130));
	assert_true(limiter_take(&l, &n, NULL));
	for (size_t i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
		n = at(SEC(131), WALL0 + SEC(131) + jumps[i], BOOT_A);
		assert_int_equal(tokens_now(&l, &n), 0);
		assert_false(limiter_take(&l, &n, NULL));
		assert_true(fabs(next_grant_s(&l, &n) - 29.0) < 1e-9);
		assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);
		assert_int_equal(limiter_init(&l2, 1, 30, &n), 0);
		assert_int_equal(limiter_parse(&l2, buf, strlen(buf), &n), 0);
		assert_false(limiter_take(&l2, &n, NULL));
	}
}

static void test_reboot_empties_the_bucket(void **state)
{
	struct limiter l;
	struct limiter_now n = a(SEC(10));
	char buf[LIMITER_STATE_MAX];
	double w;

	(void)state;
	assert_int_equal(limiter_init(&l, 2, 30, &n), 0);
	n = a(SEC(5000));
	assert_int_equal(tokens_now(&l, &n), 2);
	assert_true(limiter_take(&l, &n, NULL));
	assert_int_equal(tokens_now(&l, &n), 1);
	assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);
	/* the new boot's clock is past the old state's: still nothing carries over */
	n = at(SEC(6000), WALL0 + SEC(9000), BOOT_B);
	assert_int_equal(limiter_init(&l, 2, 30, &n), 0);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_int_equal(tokens_now(&l, &n), 0);
	assert_false(limiter_take(&l, &n, &w));
	assert_true(fabs(w - 30.0) < 1e-9);
	/* same boot id, but the boot clock is behind the state: cannot be related */
	n = at(SEC(4000), WALL0 + SEC(9000), BOOT_A);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_int_equal(tokens_now(&l, &n), 0);
	/* unknown boot id on either side never proves "same boot" */
	n = at(SEC(6000), WALL0 + SEC(9000), "");
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_int_equal(tokens_now(&l, &n), 0);
	n = at(SEC(5000), WALL0, "");
	assert_int_equal(limiter_init(&l, 2, 30, &n), 0);
	n = at(SEC(6000), WALL0, "");
	assert_int_equal(tokens_now(&l, &n), 2); /* in one process "" is one boot */
	assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nboot_id unknown\n"));
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_int_equal(tokens_now(&l, &n), 0);
}

/* Boot ids where the boot id file is hidden (ProcSubset=pid): the boot's start by the wall clock.
 */
static void test_clock_boot_ids(void **state)
{
	char id[LIMITER_BOOT_ID_LEN + 1];

	(void)state;
	limiter_clock_boot_id(SEC(10), WALL0 + SEC(10), id, sizeof(id));
	assert_string_equal(id, "clock-1700000000");
	assert_true(limiter_boot_id_ok(id, strlen(id)));
	limiter_clock_boot_id(SEC(10), SEC(5), id, sizeof(id)); /* wall clock before 1970 */
	assert_string_equal(id, "");
	assert_true(limiter_same_boot(BOOT_A, BOOT_A));
	assert_false(limiter_same_boot(BOOT_A, BOOT_B));
	assert_true(limiter_same_boot("clock-1700000000", "clock-1700000000"));
	assert_true(limiter_same_boot("clock-1700000000", "clock-1700000600"));
	assert_true(limiter_same_boot("clock-1700000600", "clock-1700000000"));
	assert_false(limiter_same_boot("clock-1700000000", "clock-1700000601"));
	assert_false(limiter_same_boot("clock-1700000601", "clock-1700000000"));
	/* A real boot id and a clock id are never one boot; nor are malformed ones. */
	assert_false(limiter_same_boot(BOOT_A, "clock-1700000000"));
	assert_false(limiter_same_boot("clock-01700000000", "clock-1700000000"));
	assert_false(limiter_same_boot("clock-", "clock-1"));
	assert_false(limiter_same_boot("clock-x", "clock-1"));
	assert_false(limiter_same_boot("", "clock-1"));
}

/*
 * A restart of the unit with the boot id hidden keeps the bucket (the
 * clock ids agree), with the wall clock slewed a little meanwhile; a
 * clock id far off is another boot.
 */
static void test_clock_id_keeps_the_bucket_across_restarts(void **state)
{
	struct limiter l;
	struct limiter_now n;
	char buf[LIMITER_STATE_MAX], id[LIMITER_BOOT_ID_LEN + 1];

	(void)state;
	limiter_clock_boot_id(SEC(10), WALL0 + SEC(10), id, sizeof(id));
	n = at(SEC(10), WALL0 + SEC(10), id);
	assert_int_equal(limiter_init(&l, 2, 30, &n), 0);
	limiter_clock_boot_id(SEC(5000), WALL0 + SEC(5000), id, sizeof(id));
	n = at(SEC(5000), WALL0 + SEC(5000), id);
	assert_int_equal(tokens_now(&l, &n), 2);
	assert_true(limiter_take(&l, &n, NULL));
	assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nboot_id clock-1700000000\n"));
	/* Restarted 20 s later; the wall clock was slewed by 3 s meanwhile. */
	limiter_clock_boot_id(SEC(5020), WALL0 + SEC(5023), id, sizeof(id));
	assert_string_equal(id, "clock-1700000003");
	n = at(SEC(5020), WALL0 + SEC(5023), id);
	assert_int_equal(limiter_init(&l, 2, 30, &n), 0);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), 0);
	assert_int_equal(tokens_now(&l, &n), 1); /* the token left, nothing more */
	/* The same state read with a clock id an hour off: another boot, empty. */
	limiter_clock_boot_id(SEC(5020), WALL0 + SEC(5020 + 3600), id, sizeof(id));
	n = at(SEC(5020), WALL0 + SEC(5020 + 3600), id);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_int_equal(tokens_now(&l, &n), 0);
}

static void test_reboot_keeps_penalty_by_wall_clock(void **state)
{
	struct limiter l;
	struct limiter_now n = a(SEC(50));
	struct limiter_status st;
	char buf[LIMITER_STATE_MAX];

	(void)state;
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	n = a(SEC(1000));
	limiter_penalize(&l, &n, 600);
	assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);

	/* reboot 100 s later by an accurate wall clock: 500 s left */
	n = at(SEC(20), WALL0 + SEC(1100), BOOT_B);
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_true(fabs(next_grant_s(&l, &n) - 500.0) < 1e-9);
	limiter_status(&l, &n, &st);
	assert_true(st.penalty_active);
	assert_int_equal(st.penalty_until_wall_ms, WALL0 + SEC(1600));

	/* wall clock set back a year: never more than the penalty itself */
	n = at(SEC(20), WALL0 + SEC(1100) - SEC(86400 * 365), BOOT_B);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_true(fabs(next_grant_s(&l, &n) - 600.0) < 1e-9);

	/* wall clock far ahead: penalty over, but still an empty bucket */
	n = at(SEC(20), WALL0 + SEC(86400), BOOT_B);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_true(fabs(next_grant_s(&l, &n) - 30.0) < 1e-9);
	limiter_status(&l, &n, &st);
	assert_false(st.penalty_active);
}

/* A wall clock change within the boot moves the penalty's wall-clock end along. */
static void test_penalty_follows_wall_clock_changes(void **state)
{
	struct limiter l;
	struct limiter_now n = a(SEC(50));
	char buf[LIMITER_STATE_MAX];

	(void)state;
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	limiter_penalize(&l, &n, 300);
	/* NTP steps the clock an hour forward; the daemon saves after a denial */
	n = at(SEC(60), WALL0 + SEC(60 + 3600), BOOT_A);
	assert_false(limiter_take(&l, &n, NULL));
	assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);
	/* reboot at once: the 290 s left are still honoured */
	n = at(SEC(5), WALL0 + SEC(60 + 3600), BOOT_B);
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_BOOT);
	assert_true(fabs(next_grant_s(&l, &n) - 290.0) < 1e-9);
}

static void test_new_params_wait_a_whole_window(void **state)
{
	struct limiter l;
	struct limiter_now n = a(SEC(10));
	char buf[LIMITER_STATE_MAX];

	(void)state;
	/* 4 grants under 4/61, then 1/20: no window may see more than 4 */
	assert_int_equal(limiter_init(&l, 4, 61, &n), 0);
	n = a(SEC(1000));
	for (int i = 0; i < 4; i++)
		assert_true(limiter_take(&l, &n, NULL));
	assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);
	assert_int_equal(limiter_init(&l, 1, 20, &n), 0);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_PARAMS);
	assert_true(next_grant_s(&l, &n) > 60.0);
	/* across a reboot too */
	n = at(SEC(3), WALL0 + SEC(1001), BOOT_B);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), LIMITER_STATE_NEW_PARAMS);
	assert_true(next_grant_s(&l, &n) > 60.0);
	/* and on a reload in the running daemon */
	n = a(SEC(1000));
	assert_int_equal(limiter_init(&l, 4, 61, &n), 0);
	assert_int_equal(limiter_parse(&l, buf, strlen(buf), &n), 0);
	assert_int_equal(new_params(&l, 4, 61, &n), 0);
	assert_int_equal(new_params(&l, 1, 20, &n), 1);
	assert_true(next_grant_s(&l, &n) > 60.0);
	assert_int_equal(tokens_now(&l, &n), 0);
}

/* ---- the state file ---- */

static void test_format_and_checksum(void **state)
{
	static const char *const keys[] = {
	    "aiccud-limiter 1", "boot_id ",
	    "burst ",           "refill ",
	    "stamp_boot_ms ",   "stamp_wall_ms ",
	    "full_at_boot_ms ", "penalty_until_boot_ms ",
	    "penalty_len_s ",   "last_grant_wall_ms ",
	    "grants ",          "sha256 ",
	};
	struct limiter l;
	struct limiter_now n = a(SEC(10));
	char buf[LIMITER_STATE_MAX], hex[65], *line, *sum;
	int len;

	(void)state;
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	n = a(SEC(40));
	assert_true(limiter_take(&l, &n, NULL));
	limiter_penalize(&l, &n, 300);
	len = limiter_serialize(&l, buf, sizeof(buf));
	assert_true(len > 0 && len < LIMITER_STATE_MAX);
	assert_int_equal(strlen(buf), (size_t)len);
	assert_int_equal(limiter_serialize(&l, buf, (size_t)len), -ENOSPC);
	len = limiter_serialize(&l, buf, sizeof(buf));

	line = buf;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_memory_equal(line, keys[i], strlen(keys[i]));
		line = strchr(line, '\n');
		assert_non_null(line);
		line++;
	}
	assert_int_equal(*line, '\0');
	assert_non_null(strstr(buf, "\nboot_id " BOOT_A "\n"));
	assert_non_null(strstr(buf, "\ngrants 1\n"));
	assert_non_null(strstr(buf, "\npenalty_len_s 300\n"));

	/* the checksum line is sha256sum of everything above it */
	sum = strstr(buf, "sha256 ");
	ext_sha256(buf, (size_t)(sum - buf), hex);
	assert_memory_equal(sum + 7, hex, 64);
}

static void test_round_trip_same_boot(void **state)
{
	struct limiter l, l2;
	struct limiter_now n = a(SEC(10));
	struct limiter_status s1, s2;
	char buf[LIMITER_STATE_MAX];

	(void)state;
	assert_int_equal(limiter_init(&l, 2, 25, &n), 0);
	n = a(SEC(200));
	assert_true(limiter_take(&l, &n, NULL));
	n = a(SEC(210));
	assert_true(limiter_take(&l, &n, NULL));
	assert_true(limiter_serialize(&l, buf, sizeof(buf)) > 0);
	n = a(SEC(222));
	assert_int_equal(limiter_init(&l2, 2, 25, &n), 0);
	assert_int_equal(limiter_parse(&l2, buf, strlen(buf), &n), 0);
	limiter_status(&l, &n, &s1);
	limiter_status(&l2, &n, &s2);
	assert_int_equal(s1.tokens, s2.tokens);
	assert_true(s1.next_grant_s == s2.next_grant_s);
	assert_true(s1.next_token_s == s2.next_token_s);
	assert_int_equal(s2.grants, 2);
	assert_int_equal(s2.last_grant_wall_ms, WALL0 + SEC(210));
}

/* A state that would grant at once if it were read as valid. */
static int generous_state(char *buf, size_t cap, struct limiter_now *n)
{
	struct limiter l;

	*n = a(SEC(10));
	assert_int_equal(limiter_init(&l, 2, 30, n), 0);
	*n = a(SEC(100000));
	limiter_penalize(&l, n, 300);
	*n = a(SEC(200000));
	assert_int_equal(tokens_now(&l, n), 2);
	return limiter_serialize(&l, buf, cap);
}

static void assert_empty_now(const struct limiter *l, const struct limiter_now *n)
{
	struct limiter c = *l;

	assert_int_equal(tokens_now(l, n), 0);
	assert_true(fabs(next_grant_s(l, n) - l->refill) < 1e-9);
	assert_false(limiter_take(&c, n, NULL));
}

static void test_truncated_and_flipped_states_are_empty(void **state)
{
	char buf[LIMITER_STATE_MAX], bad[LIMITER_STATE_MAX * 2];
	struct limiter_now n;
	struct limiter l;
	int len = generous_state(buf, sizeof(buf), &n);

	(void)state;
	assert_true(len > 0);
	assert_int_equal(limiter_init(&l, 2, 30, &n), 0);
	assert_int_equal(limiter_parse(&l, buf, (size_t)len, &n), 0);
	assert_int_equal(tokens_now(&l, &n), 2);
	for (int cut = 0; cut < len; cut++) {
		assert_int_equal(limiter_parse(&l, buf, (size_t)cut, &n), -EBADMSG);
		assert_empty_now(&l, &n);
	}
	for (int i = 0; i < len; i++) {
		static const unsigned char masks[] = {0x01, 0x10, 0x80, 0x20};

		for (size_t m = 0; m < sizeof(masks); m++) {
			memcpy(bad, buf, (size_t)len);
			bad[i] = (char)(bad[i] ^ masks[m]);
			assert_int_equal(limiter_parse(&l, bad, (size_t)len, &n), -EBADMSG);
			assert_empty_now(&l, &n);
		}
	}
	/* anything after the checksum line */
	memcpy(bad, buf, (size_t)len);
	memcpy(bad + len, "x\n", 2);
	assert_int_equal(limiter_parse(&l, bad, (size_t)len + 2, &n), -EBADMSG);
	assert_empty_now(&l, &n);
	/* a line dropped or doubled */
	memset(bad, 'a', sizeof(bad));
	assert_int_equal(limiter_parse(&l, bad, sizeof(bad), &n), -EBADMSG);
	assert_int_equal(limiter_parse(&l, "", 0, &n), -EBADMSG);
	assert_empty_now(&l, &n);
}

/* Checksums right (from sha256sum), contents wrong: still corrupt. */
static void test_checksummed_nonsense_is_corrupt(void **state)
{
	static const char good_fmt[] = "aiccud-limiter 1\n"
	                               "boot_id " BOOT_A "\n"
	                               "burst %s\n"
	                               "refill %s\n"
	                               "stamp_boot_ms %s\n"
	                               "stamp_wall_ms 1700000001000\n"
	                               "full_at_boot_ms %s\n"
	                               "penalty_until_boot_ms %s\n"
	                               "penalty_len_s %s\n"
	                               "last_grant_wall_ms %s\n"
	                               "grants %s\n";
	/* burst refill stamp full_at pen_boot pen_len last_wall grants */
	static const char *const bad[][8] = {
	    {"01", "30", "1000", "31000", "0", "0", "0", "0"},
	    {"+1", "30", "1000", "31000", "0", "0", "0", "0"},
	    {"5", "61", "1000", "31000", "0", "0", "0", "0"},
	    {"1", "10", "1000", "31000", "0", "0", "0", "0"},
	    {"1", "0", "1000", "31000", "0", "0", "0", "0"},
	    {"0", "30", "1000", "31000", "0", "0", "0", "0"},
	    {"1", "30", "1000", "91001", "0", "0", "0", "0"}, /* emptier than possible */
	    {"1", "30", "-1000", "31000", "0", "0", "0", "0"},
	    {"1", "30", "1000", "31000", "0", "300", "0", "0"},       /* half a penalty */
	    {"1", "30", "1000", "31000", "2000", "100", "0", "0"},    /* too short */
	    {"1", "30", "1000", "400000", "400000", "300", "0", "0"}, /* outlasts its length */
	    {"1", "30", "1000", "400001", "301000", "300", "0", "0"}, /* emptier than the penalty */
	    {"1", "30", "1000", "31000", "0", "0", "-0", "0"},
	    {"1", "30", "1000", "31000", "0", "0", "0", "18446744073709551616"},
	    {"1", "30", "1000", "31000", "0", "0", "0", "1 "},
	    {"1", "30", "1000", "31000", "0", "0", "0", ""},
	    {"1", "30", "1000", "9999999999999999999", "0", "0", "0", "0"},
	    {"1", "30", "1000", "31000\nextra 1", "0", "0", "0", "0"},
	};
	char body[1024], file[1200];
	struct limiter_now n = a(SEC(2));
	struct limiter l;
	size_t len;

	(void)state;
	/* the template itself is valid, so the cases below test what they say */
	snprintf(body, sizeof(body), good_fmt, "1", "30", "1000", "31000", "301000", "300", "-7",
	         "18446744073709551615");
	len = with_sum(body, file, sizeof(file));
	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	assert_int_equal(limiter_parse(&l, file, len, &n), 0);
	assert_int_equal(l.grants, UINT64_MAX);
	assert_true(fabs(next_grant_s(&l, &n) - 299.0) < 1e-9);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const *v = bad[i];

		snprintf(body, sizeof(body), good_fmt, v[0], v[1], v[2], v[3], v[4], v[5], v[6],
		         v[7]);
		len = with_sum(body, file, sizeof(file));
		if (limiter_parse(&l, file, len, &n) != -EBADMSG)
			fail_msg("case %zu parsed:\n%s", i, file);
		assert_empty_now(&l, &n);
	}
	/* other version, uppercase hex, a line missing */
	len = with_sum("aiccud-limiter 2\n", file, sizeof(file));
	assert_int_equal(limiter_parse(&l, file, len, &n), -EBADMSG);
	snprintf(body, sizeof(body), good_fmt, "1", "30", "1000", "31000", "0", "0", "0", "0");
	len = with_sum(body, file, sizeof(file));
	for (char *p = strstr(file, "sha256 ") + 7; *p != '\n'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(limiter_parse(&l, file, len, &n), -EBADMSG);
	memcpy(strstr(body, "stamp_wall_ms ") + 14, "01", 2);
	len = with_sum(body, file, sizeof(file));
	assert_int_equal(limiter_parse(&l, file, len, &n), -EBADMSG);
	*strstr(body, "grants") = '\0';
	len = with_sum(body, file, sizeof(file));
	assert_int_equal(limiter_parse(&l, file, len, &n), -EBADMSG);
	assert_empty_now(&l, &n);
}

/* ---- I/O helpers ---- */

static void test_io(void **state)
{
	char dir[] = "/tmp/test_limiterXXXXXX", path[256], idpath[256];
	struct limiter l, l2;
	struct limiter_now n = a(SEC(10)), real;
	struct stat st;
	char id[LIMITER_BOOT_ID_LEN + 1];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/limiter.state", dir);
	snprintf(idpath, sizeof(idpath), "%s/boot_id", dir);

	assert_int_equal(limiter_init(&l, 1, 30, &n), 0);
	n = a(SEC(500));
	assert_int_equal(limiter_load(&l, path, &n), -ENOENT);
	assert_empty_now(&l, &n);
	n = a(SEC(530));
	assert_true(limiter_take(&l, &n, NULL));
	assert_int_equal(limiter_save(&l, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(limiter_init(&l2, 1, 30, &n), 0);
	assert_int_equal(limiter_load(&l2, path, &n), 0);
	assert_int_equal(l2.grants, 1);
	assert_false(limiter_take(&l2, &n, NULL));

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("aiccud-limiter 1\nburst 4\n", f);
	fclose(f);
	assert_int_equal(limiter_load(&l2, path, &n), -EBADMSG);
	assert_empty_now(&l2, &n);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 1000; i++)
		fputc('x', f);
	fclose(f);
	assert_int_equal(limiter_load(&l2, path, &n), -EFBIG);
	assert_empty_now(&l2, &n);

	f = fopen(idpath, "w");
	assert_non_null(f);
	fputs(BOOT_B "\n", f);
	fclose(f);
	assert_int_equal(limiter_boot_id_read(idpath, id, sizeof(id)), 0);
	assert_string_equal(id, BOOT_B);
	assert_int_equal(limiter_boot_id_read(idpath, id, 10), -EINVAL);
	f = fopen(idpath, "w");
	assert_non_null(f);
	fputs("not a/boot id\n", f);
	fclose(f);
	assert_int_equal(limiter_boot_id_read(idpath, id, sizeof(id)), -EINVAL);

	assert_int_equal(limiter_now_read(&real), 0);
	assert_int_equal(strlen(real.boot_id), 36);
	assert_true(real.boot_ms > 0);
	assert_true(real.wall_ms > WALL0);

	unlink(idpath);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- the property test ---- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t rnd_range(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

enum disk_kind { DISK_MISSING, DISK_GOOD, DISK_CORRUPT };

struct sim {
	uint64_t seed, rng;
	uint32_t burst, refill;
	unsigned bound; /* max grants per closed 60 s window, by spec_bound */
	/* the world */
	int64_t true_ms, boot_start, boot_ms0, wall_off;
	unsigned boot_no, jumps;
	char boot_id[LIMITER_BOOT_ID_LEN + 1];
	/* the daemon and its disk */
	bool running;
	struct limiter l;
	unsigned mem_jumps; /* wall jumps seen by the limiter's last update ... */
	int64_t mem_stamp;  /* ... and its time: both clocks were read then */
	char disk[LIMITER_STATE_MAX];
	size_t disk_len;
	enum disk_kind disk_kind;
	unsigned disk_boot_no, disk_jumps;
	uint32_t disk_burst, disk_refill;
	int64_t disk_full_left; /* most the saved bucket may take to be full */
	int64_t disk_no_grant_before, disk_quarantine_until; /* as when it was saved */
	/* what the checker knows, in real time */
	int64_t *grants;
	size_t ngrants, cap;
	uint32_t grant_burst, grant_refill; /* params of the last grant */
	int64_t no_grant_before;            /* after an empty-bucket start */
	int64_t quarantine_until;           /* after new params */
	int64_t pen_until;                  /* no grant before this, unless */
	bool pen_void;   /* the state was lost or only a stepped wall clock carried it */
	int64_t full_by; /* the bucket must be full again from here */
	unsigned long n_take, n_grant, n_deny, n_restart, n_crash, n_corrupt, n_reboot, n_jump,
	    n_penalty, n_liveness, n_reconfig, n_lost_grant, n_carried;
};

static bool tracing;

static void trace(const struct sim *s, const char *what)
{
	if (tracing)
		fprintf(stderr, "%10.3f boot#%u %-28s disk=%d run=%d pen_until=%.3f void=%d\n",
		        (double)s->true_ms / 1000.0, s->boot_no, what, (int)s->disk_kind,
		        s->running, (double)s->pen_until / 1000.0, s->pen_void);
}

/* Every failure names its seed: LIMITER_SEED=n replays just that one. */
#define sim_fail(s, fmt, ...) fail_msg("seed %" PRIu64 ": " fmt, (s)->seed, __VA_ARGS__)

static struct limiter_now sim_now(const struct sim *s)
{
	return at(s->true_ms - s->boot_start + s->boot_ms0, WALL0 + s->true_ms + s->wall_off,
	          s->boot_id);
}

static void new_boot_id(struct sim *s)
{
	snprintf(s->boot_id, sizeof(s->boot_id), "%08x-0000-4000-8000-%012" PRIx64, s->boot_no,
	         rnd(&s->rng) & (uint64_t)0xffffffffffff);
}

static void pick_params(struct sim *s)
{
	uint32_t b, r;

	do {
		b = (uint32_t)rnd_range(&s->rng, 1, 4);
		r = (uint32_t)rnd_range(&s->rng, 1, 300);
	} while (spec_bound(b, r) > 4);
	assert_int_equal(limiter_check_params(b, r, NULL, 0), 0);
	s->burst = b;
	s->refill = r;
	if (spec_bound(b, r) > s->bound)
		s->bound = spec_bound(b, r);
}

static int64_t R_ms(const struct sim *s)
{
	return SEC(s->refill);
}

static int64_t span(const struct sim *s)
{
	return s->burst * R_ms(s);
}

static void raise_full_by(struct sim *s, int64_t t)
{
	if (t > s->full_by)
		s->full_by = t;
}

/* The limiter starts (or restarts) with an empty bucket: nothing for one interval. */
static void empty_start(struct sim *s)
{
	if (s->true_ms + R_ms(s) > s->no_grant_before)
		s->no_grant_before = s->true_ms + R_ms(s);
	raise_full_by(s, s->true_ms + span(s));
}

/* New params: nothing for a whole window and one interval; this replaces older promises. */
static void params_changed(struct sim *s)
{
	s->no_grant_before = s->true_ms + R_ms(s);
	raise_full_by(s, s->true_ms + span(s));
	s->quarantine_until = s->true_ms + MIN_MS + R_ms(s); /* the latest change counts */
	raise_full_by(s, s->quarantine_until + span(s));
	if (s->pen_until > s->true_ms) /* a running penalty, now with the new refill */
		raise_full_by(s, s->pen_until + span(s));
}

/* Grants in the closed window [t - 60 s, t] among g[0..n), plus one at t. */
static size_t window_count(const int64_t *g, size_t n, int64_t t)
{
	size_t count = 1;

	for (size_t i = n; i > 0 && g[i - 1] >= t - MIN_MS; i--)
		count++;
	return count;
}

static void check_grant(struct sim *s)
{
	int64_t t = s->true_ms;
	size_t in_window;

	if (s->ngrants == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->grants = realloc(s->grants, s->cap * sizeof(*s->grants));
		assert_non_null(s->grants);
	}
	in_window = window_count(s->grants, s->ngrants, t);
	s->grants[s->ngrants++] = t;
	if (in_window > s->bound || in_window > 4)
		sim_fail(s,
		         "%zu grants in the 60 s up to %" PRId64 " ms (limit %u, burst %u refill "
		         "%u)",
		         in_window, t, s->bound, s->burst, s->refill);
	if (t < s->no_grant_before)
		sim_fail(s, "grant at %" PRId64 " before %" PRId64 " after an empty start", t,
		         s->no_grant_before);
	/* grants of other params are more than a window apart: no window mixes them */
	if (s->ngrants > 1 && (s->grant_burst != s->burst || s->grant_refill != s->refill) &&
	    t - s->grants[s->ngrants - 2] <= MIN_MS)
		sim_fail(s, "grant at %" PRId64 " under %u/%u within 60 s of one under %u/%u", t,
		         s->burst, s->refill, s->grant_burst, s->grant_refill);
	s->grant_burst = s->burst;
	s->grant_refill = s->refill;
	if (t < s->quarantine_until)
		sim_fail(s, "grant at %" PRId64 " before %" PRId64 " after new params", t,
		         s->quarantine_until);
	if (t < s->pen_until && !s->pen_void)
		sim_fail(s, "grant at %" PRId64 " inside a penalty until %" PRId64, t,
		         s->pen_until);
	raise_full_by(s, t + span(s));
}

/* The limiter just read both clocks (any call that updates it). */
static void synced(struct sim *s)
{
	s->mem_jumps = s->jumps;
	s->mem_stamp = s->true_ms;
}

static void save(struct sim *s)
{
	int n = limiter_serialize(&s->l, s->disk, sizeof(s->disk));

	assert_true(n > 0);
	s->disk_len = (size_t)n;
	s->disk_kind = DISK_GOOD;
	s->disk_boot_no = s->boot_no;
	s->disk_jumps = s->mem_jumps;
	s->disk_burst = s->burst;
	s->disk_refill = s->refill;
	/* a rebase measures from the stamp, and a stepped clock may measure nothing */
	s->disk_full_left = s->full_by > s->mem_stamp ? s->full_by - s->mem_stamp : 0;
	s->disk_no_grant_before = s->no_grant_before;
	s->disk_quarantine_until = s->quarantine_until;
}

static void start(struct sim *s)
{
	struct limiter_now n = sim_now(s);
	char what[64];
	bool rebased;
	int rc, want;

	assert_int_equal(limiter_init(&s->l, s->burst, s->refill, &n), 0);
	s->n_restart++;
	s->running = true;
	synced(s);
	/* a new limiter: it keeps what the last one promised only as far as it was saved */
	s->no_grant_before = 0;
	s->quarantine_until = 0;
	if (s->disk_kind == DISK_MISSING) {
		trace(s, "start, no state");
		empty_start(s);
		assert_int_equal(tokens_now(&s->l, &n), 0);
		return;
	}
	rc = limiter_parse(&s->l, s->disk, s->disk_len, &n);
	snprintf(what, sizeof(what), "start rc=%d", rc);
	trace(s, what);
	rebased = s->disk_kind == DISK_GOOD && s->disk_boot_no != s->boot_no;
	if (s->disk_kind == DISK_CORRUPT)
		want = -EBADMSG;
	else if (s->disk_burst != s->burst || s->disk_refill != s->refill)
		want = LIMITER_STATE_NEW_PARAMS;
	else if (rebased)
		want = LIMITER_STATE_NEW_BOOT;
	else
		want = 0;
	assert_int_equal(rc, want);
	if (want == 0)
		s->no_grant_before = s->disk_no_grant_before;
	if (want == 0 || want == LIMITER_STATE_NEW_BOOT)
		s->quarantine_until = s->disk_quarantine_until;
	if (rebased) {
		/* holds crossed the reboot by the wall clock: exact only if it did not step */
		if (s->jumps != s->disk_jumps)
			s->pen_void = true;
		else if (s->pen_until > s->true_ms)
			s->n_carried++;
		raise_full_by(s, s->true_ms + span(s) + s->disk_full_left);
	}
	if (want == LIMITER_STATE_NEW_PARAMS) {
		params_changed(s);
		raise_full_by(s, s->true_ms + MIN_MS + span(s) + s->disk_full_left);
	} else if (want != 0) {
		empty_start(s);
	}
	if (want != 0)
		assert_int_equal(tokens_now(&s->l, &n), 0);
	/* as limiter.h asks: anchor a rebased state in this boot at once */
	if (want != 0 && rnd(&s->rng) % 10 != 0)
		save(s);
}

static void advance(struct sim *s, int64_t ms)
{
	s->true_ms += ms;
}

static void advance_random(struct sim *s)
{
	int64_t r = rnd_range(&s->rng, 0, 99);

	if (r < 40)
		advance(s, rnd_range(&s->rng, 0, 999));
	else if (r < 70)
		advance(s, rnd_range(&s->rng, 1000, 10000));
	else if (r < 90)
		advance(s, rnd_range(&s->rng, 10000, 60000));
	else if (r < 98)
		advance(s, rnd_range(&s->rng, 60000, 600000));
	else
		advance(s, rnd_range(&s->rng, 600000, 3600000));
}

/* The TIC server turned us away. */
static void penalize(struct sim *s)
{
	static const uint32_t lens[] = {0, 100, 300, 301, 450, 900, 3600, 604800};
	struct limiter_now n = sim_now(s);
	uint32_t len = lens[rnd(&s->rng) % (sizeof(lens) / sizeof(lens[0]))];
	int64_t end = s->true_ms + SEC(len < 300 ? 300 : len);

	limiter_penalize(&s->l, &n, len);
	synced(s);
	s->n_penalty++;
	if (end > s->pen_until) {
		s->pen_until = end;
		s->pen_void = false;
	}
	/* one token at the penalty's end, then the normal rate */
	raise_full_by(s, end + (s->burst - 1) * R_ms(s));
	save(s);
	trace(s, "penalize");
	assert_int_equal(tokens_now(&s->l, &n), 0);
}

/* The daemon needs a TIC connection: take -> save -> connect. */
static void want_connection(struct sim *s)
{
	struct limiter_now n;
	double w;

	if (!s->running)
		start(s);
	n = sim_now(s);
	s->n_take++;
	synced(s);
	if (!limiter_take(&s->l, &n, &w)) {
		s->n_deny++;
		assert_true(w > 0);
		if (rnd(&s->rng) % 3 != 0)
			return;
		/* waiting as long as told must be enough */
		advance(s, (int64_t)ceil(w * 1000.0));
		n = sim_now(s);
		if (!limiter_take(&s->l, &n, &w))
			sim_fail(s, "told to wait, waited, still refused (%.3f s more)", w);
		s->n_liveness++;
	}
	if (rnd(&s->rng) % 20 == 0) {
		/* killed after the grant, before the save: the grant is never used */
		s->running = false;
		s->n_lost_grant++;
		trace(s, "grant lost in a crash");
		return;
	}
	save(s);
	s->n_grant++;
	trace(s, "grant");
	/* once saved, count it even if we die before connecting */
	check_grant(s);
	if (rnd(&s->rng) % 25 == 0)
		penalize(s);
}

/*
 * New params together with a lost state (or with a stepped wall clock
 * across a reboot) are double faults the limiter cannot see: not simulated
 * while new params are pending.
 */
static bool params_pending(const struct sim *s)
{
	return s->true_ms < s->quarantine_until ||
	       (s->disk_kind == DISK_GOOD &&
	        (s->disk_burst != s->burst || s->disk_refill != s->refill));
}

static void corrupt_disk(struct sim *s)
{
	unsigned kind = (unsigned)(rnd(&s->rng) % 4);

	if (params_pending(s))
		return;
	s->running = false; /* the state is read at the next start */
	s->n_corrupt++;
	if (s->pen_until > s->true_ms)
		s->pen_void = true; /* a lost state cannot know about a penalty */
	if (kind == 0 || s->disk_kind == DISK_MISSING) {
		s->disk_kind = DISK_MISSING;
		trace(s, "state deleted");
		return;
	}
	if (s->disk_len == 0)
		kind = 3;
	else if (s->disk_kind == DISK_CORRUPT && kind == 2)
		kind = 1; /* a second flip of the same byte would undo the first */
	if (kind == 1) {
		s->disk_len = (size_t)rnd_range(&s->rng, 0, (int64_t)s->disk_len - 1);
	} else if (kind == 2) {
		size_t i = (size_t)rnd(&s->rng) % s->disk_len;

		s->disk[i] = (char)(s->disk[i] ^ (1 + rnd(&s->rng) % 255));
	} else {
		s->disk_len = (size_t)rnd_range(&s->rng, 1, sizeof(s->disk));
		for (size_t i = 0; i < s->disk_len; i++)
			s->disk[i] = (char)rnd(&s->rng);
	}
	s->disk_kind = DISK_CORRUPT;
	trace(s, "state corrupted");
}

static void reboot(struct sim *s)
{
	s->running = false;
	s->n_reboot++;
	advance(s, rnd_range(&s->rng, 1000, 120000));
	s->boot_no++;
	new_boot_id(s);
	s->boot_start = s->true_ms;
	s->boot_ms0 = rnd_range(&s->rng, 500, 30000);
	trace(s, "reboot");
}

static void wall_jump(struct sim *s)
{
	int64_t j = rnd_range(&s->rng, 1000, SEC(40 * 86400));

	if (params_pending(s))
		return;
	s->wall_off += rnd(&s->rng) & 1 ? j : -j;
	s->jumps++;
	s->n_jump++;
	trace(s, "wall clock step");
}

static void reconfigure(struct sim *s)
{
	struct limiter_now n = sim_now(s);
	uint32_t ob = s->burst, orf = s->refill;
	bool changed;
	char what[64];

	/* the double fault again: a lost state cannot tell the next start the old params */
	if (!s->running && s->disk_kind != DISK_GOOD)
		return;
	pick_params(s);
	changed = ob != s->burst || orf != s->refill;
	s->n_reconfig++;
	snprintf(what, sizeof(what), "reconfig %u/%u -> %u/%u", ob, orf, s->burst, s->refill);
	trace(s, what);
	if (!s->running)
		return; /* the next start sees the state's other params */
	assert_int_equal(new_params(&s->l, s->burst, s->refill, &n), changed ? 1 : 0);
	if (!changed)
		return;
	synced(s);
	params_changed(s);
	save(s);
}

static void check_status(struct sim *s)
{
	struct limiter_now n = sim_now(s);
	struct limiter_status st;
	unsigned tokens;

	if (!s->running)
		return;
	tokens = tokens_now(&s->l, &n);
	limiter_status(&s->l, &n, &st);
	assert_true(tokens <= s->burst);
	assert_int_equal(st.tokens, tokens);
	assert_true(st.next_grant_s == next_grant_s(&s->l, &n));
	assert_int_equal(st.next_grant_s == 0.0, tokens > 0);
	if (tokens == s->burst)
		assert_true(st.next_token_s == 0.0);
	else
		assert_true(st.next_token_s > 0.0 &&
		            st.next_token_s <= st.next_grant_s + s->refill);
	if (s->pen_until > s->true_ms && !s->pen_void)
		assert_true(st.penalty_active && tokens == 0);
	/* and it is not stricter than it needs to be */
	if (s->true_ms >= s->full_by && tokens != s->burst)
		sim_fail(s, "%u tokens at %" PRId64 ", full by %" PRId64 " (next grant in %.3f s)",
		         tokens, s->true_ms, s->full_by, st.next_grant_s);
}

static void run_property(uint64_t seed, bool random_params, bool change_params, long steps)
{
	struct sim *s = calloc(1, sizeof(*s));

	tracing = getenv("LIMITER_TRACE") != NULL;
	assert_non_null(s);
	s->seed = seed;
	s->rng = seed;
	if (random_params) {
		pick_params(s);
	} else {
		s->burst = LIMITER_DEFAULT_BURST;
		s->refill = LIMITER_DEFAULT_REFILL;
		s->bound = spec_bound(s->burst, s->refill);
		assert_int_equal(s->bound, 3);
	}
	s->true_ms = 0;
	s->boot_ms0 = rnd_range(&s->rng, 500, 30000);
	new_boot_id(s);
	s->disk_kind = DISK_MISSING;

	for (long i = 0; i < steps; i++) {
		unsigned r = (unsigned)(rnd(&s->rng) % 1000);

		if (r < 450) {
			advance_random(s);
		} else if (r < 750) {
			want_connection(s);
		} else if (r < 790) {
			if (s->running)
				save(s); /* a clean stop writes the state */
			start(s);
		} else if (r < 830) {
			s->running = false;
			s->n_crash++;
			trace(s, "crash");
		} else if (r < 845) {
			corrupt_disk(s);
		} else if (r < 865) {
			reboot(s);
		} else if (r < 895) {
			wall_jump(s);
		} else if (r < 910) {
			if (s->running)
				penalize(s);
		} else if (r < 915) {
			if (change_params)
				reconfigure(s);
		} else {
			check_status(s);
		}
		check_status(s);
	}
	/* every kind of event actually happened */
	assert_true(s->n_grant > (unsigned long)steps / 200);
	assert_true(s->n_deny > 0 && s->n_liveness > 0 && s->n_restart > 0 && s->n_crash > 0);
	assert_true(s->n_corrupt > 0 && s->n_reboot > 0 && s->n_jump > 0 && s->n_penalty > 0);
	assert_true(s->n_lost_grant > 0 && s->n_carried > 0);
	if (change_params)
		assert_true(s->n_reconfig > 0);
	free(s->grants);
	free(s);
}

/* LIMITER_SEEDS=n runs n times as many seeds (for a long soak by hand). */
static uint64_t seeds(uint64_t n)
{
	const char *e = getenv("LIMITER_SEEDS");

	return e && atoi(e) > 0 ? n * (uint64_t)atoi(e) : n;
}

/* Runs run_property for seed(i) * mult, i = 1..n, or only LIMITER_SEED. */
static void run_seeds(uint64_t n, uint64_t mult, bool random_params, bool change_params, long steps)
{
	const char *one = getenv("LIMITER_SEED");

	if (one) {
		run_property(strtoull(one, NULL, 10), random_params, change_params, steps);
		return;
	}
	for (uint64_t i = 1; i <= seeds(n); i++)
		run_property(i * mult, random_params, change_params, steps);
}

static void test_property_defaults(void **state)
{
	(void)state;
	run_seeds(12, 7919, false, false, 20000);
}

static void test_property_random_params(void **state)
{
	(void)state;
	run_seeds(24, 104729, true, false, 10000);
}

static void test_property_params_changes(void **state)
{
	(void)state;
	run_seeds(12, 15485863, true, true, 10000);
}

/* The window checker itself: closed 60 s windows, counted from the grant times. */
static void test_window_checker(void **state)
{
	const int64_t g[] = {0, SEC(20), SEC(40), SEC(60)};

	(void)state;
	assert_int_equal(window_count(g, 0, 0), 1);
	assert_int_equal(window_count(g, 3, SEC(60)), 4);     /* 0, 20, 40, 60 */
	assert_int_equal(window_count(g, 3, SEC(60) + 1), 3); /* 0 has left */
	assert_int_equal(window_count(g, 4, SEC(80)), 4);     /* 20, 40, 60, 80 */
	assert_int_equal(window_count(g, 4, SEC(200)), 1);
}

/* Status and log say why a bucket starts empty, per load result. */
static void test_empty_why(void **state)
{
	(void)state;
	assert_null(limiter_empty_why(0));
	assert_non_null(strstr(limiter_empty_why(-ENOENT), "fresh install"));
	assert_non_null(strstr(limiter_empty_why(-ENOENT), "restarting aiccud in a loop"));
	assert_non_null(strstr(limiter_empty_why(LIMITER_STATE_NEW_BOOT), "another boot"));
	assert_non_null(strstr(limiter_empty_why(LIMITER_STATE_NEW_PARAMS), "burst/refill"));
	assert_non_null(strstr(limiter_empty_why(-EBADMSG), "corrupt"));
	assert_non_null(strstr(limiter_empty_why(-EACCES), "cannot be read"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_params_edges),
	    cmocka_unit_test(test_init_refuses_bad_params),
	    cmocka_unit_test(test_empty_start_waits_one_interval),
	    cmocka_unit_test(test_steady_demand_gets_the_full_rate),
	    cmocka_unit_test(test_burst_refills_and_caps),
	    cmocka_unit_test(test_penalty),
	    cmocka_unit_test(test_wall_clock_jumps_mint_nothing),
	    cmocka_unit_test(test_reboot_empties_the_bucket),
	    cmocka_unit_test(test_clock_boot_ids),
	    cmocka_unit_test(test_clock_id_keeps_the_bucket_across_restarts),
	    cmocka_unit_test(test_reboot_keeps_penalty_by_wall_clock),
	    cmocka_unit_test(test_penalty_follows_wall_clock_changes),
	    cmocka_unit_test(test_new_params_wait_a_whole_window),
	    cmocka_unit_test(test_format_and_checksum),
	    cmocka_unit_test(test_round_trip_same_boot),
	    cmocka_unit_test(test_truncated_and_flipped_states_are_empty),
	    cmocka_unit_test(test_checksummed_nonsense_is_corrupt),
	    cmocka_unit_test(test_io),
	    cmocka_unit_test(test_property_defaults),
	    cmocka_unit_test(test_property_random_params),
	    cmocka_unit_test(test_property_params_changes),
	    cmocka_unit_test(test_window_checker),
	    cmocka_unit_test(test_empty_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
