/*
 * The TIC connection limiter's arithmetic and its state file format.  Pure:
 * no globals, no I/O; the caller passes the time in (see limiter.h).
 *
 * State file (text, version 1, every line "key value\n" in exactly this
 * order, decimal integers without sign or leading zeros except where noted):
 *
 *   aiccud-limiter 1
 *   boot_id <boot id, or "unknown">
 *   burst <1..4>
 *   refill <seconds>
 *   stamp_boot_ms <boot time of the last update>
 *   stamp_wall_ms <wall time of the last update; may be negative>
 *   full_at_boot_ms <boot time at which the bucket is full again>
 *   penalty_until_boot_ms <0 or end of the broker's penalty, boot time>
 *   penalty_len_s <0 or the penalty's length>
 *   last_grant_wall_ms <0 or wall time of the last grant; may be negative>
 *   grants <grants so far>
 *   sha256 <64 lowercase hex digits: SHA-256 of every byte above this line>
 *
 * Anything else (a truncated file, a flipped bit, a missing or extra line,
 * values that contradict each other) is "corrupt": an empty bucket.
 */
#include "limiter.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nettle/sha2.h>

#define MAGIC_LINE   "aiccud-limiter 1\n"
#define SUM_KEY      "sha256 "
#define SUM_HEX      64
#define SUM_LINE_LEN (sizeof(SUM_KEY) - 1 + SUM_HEX + 1)
/* Bound for every stored instant: 2^52 ms is 142,000 years, so sums of a
 * few of them with burst * refill never overflow int64. */
#define MS_MAX ((int64_t)1 << 52)

int limiter_check_params(uint32_t burst, uint32_t refill, char *msg, size_t len)
{
	uint64_t allowed;
	char scratch[160]; /* the message is built even when nobody reads it */

	if (!msg) {
		msg = scratch;
		len = sizeof(scratch);
	}
	if (burst == 0) {
		snprintf(msg, len, "limiter burst must be at least 1 (got 0)");
		return -EINVAL;
	}
	if (refill == 0 || refill > LIMITER_REFILL_MAX) {
		snprintf(msg, len,
		         "limiter refill must be between 1 and %u seconds (got %" PRIu32 ")",
		         LIMITER_REFILL_MAX, refill);
		return -EINVAL;
	}
	allowed = (uint64_t)burst + LIMITER_WINDOW_S / refill;
	snprintf(msg, len,
	         "limiter allows %" PRIu32 " + floor(%u/%" PRIu32 ") = %" PRIu64
	         " connections in %u s; the broker blocks more than %u",
	         burst, LIMITER_WINDOW_S, refill, allowed, LIMITER_WINDOW_S, LIMITER_BROKER_MAX);
	return allowed > LIMITER_BROKER_MAX ? -EINVAL : 0;
}

static int64_t refill_ms(const struct limiter *l)
{
	return (int64_t)l->refill * 1000;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static bool penalty_set(const struct limiter *l)
{
	return l->penalty_until_boot_ms > 0;
}

static void penalty_clear(struct limiter *l)
{
	l->penalty_until_boot_ms = 0;
	l->penalty_len_s = 0;
}

/* No grant before the penalty's end, and then exactly one token. */
static void penalty_floor(struct limiter *l)
{
	if (penalty_set(l))
		l->full_at_boot_ms = max64(l->full_at_boot_ms, l->penalty_until_boot_ms +
		                                                   (l->burst - 1) * refill_ms(l));
}

/*
 * The state cannot be related to now by the boot clock: an empty bucket from
 * now.  That is at least as strict as any earlier bucket, because real time
 * since the last grant is >= 0: a last grant "now" is the worst case, and an
 * empty bucket is stricter still, so a last grant needs no carrying over.
 *
 * What a plain empty bucket would forget is a hold beyond it: a penalty, or
 * the wait after new params.  Those are carried over, shortened by the wall
 * clock time since the last update but never lengthened (old_span is the
 * burst * refill the state was written with): a clock set back cannot block
 * us for longer than was left then; a clock set forward can only shorten it.
 */
static void rebase(struct limiter *l, const struct limiter_now *now, int64_t old_span)
{
	int64_t t = now->boot_ms, elapsed, hold, left = 0;

	elapsed = max64(0, now->wall_ms - l->stamp_wall_ms);
	hold = max64(0, l->full_at_boot_ms - l->stamp_boot_ms - old_span - elapsed);
	if (penalty_set(l))
		left = max64(0, l->penalty_until_boot_ms - l->stamp_boot_ms - elapsed);
	snprintf(l->boot_id, sizeof(l->boot_id), "%s", now->boot_id);
	l->stamp_boot_ms = t;
	l->stamp_wall_ms = now->wall_ms;
	l->full_at_boot_ms = t + (int64_t)l->burst * refill_ms(l) + hold;
	if (left > 0 && t + left > 0) {
		l->penalty_until_boot_ms = t + left;
		penalty_floor(l);
	} else {
		penalty_clear(l);
	}
}

static int64_t span_ms(const struct limiter *l)
{
	return (int64_t)l->burst * refill_ms(l);
}

static bool parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out);

/* The seconds of a "clock-<seconds>" boot id, or -1 for any other id. */
static int64_t clock_boot_s(const char *id)
{
	uint64_t v;
	size_t n = strlen(id), k = sizeof(LIMITER_CLOCK_ID) - 1;

	if (n <= k || strncmp(id, LIMITER_CLOCK_ID, k) != 0 ||
	    !parse_u64(id + k, n - k, (uint64_t)MS_MAX, &v))
		return -1;
	return (int64_t)v;
}

bool limiter_same_boot(const char *a, const char *b)
{
	int64_t x = clock_boot_s(a), y = clock_boot_s(b);

	if (strcmp(a, b) == 0)
		return true;
	return x >= 0 && y >= 0 && x - y <= LIMITER_CLOCK_ID_SLACK_S &&
	       y - x <= LIMITER_CLOCK_ID_SLACK_S;
}

/* Another boot, or a boot clock behind the last update (impossible within one boot). */
static bool unrelated(const struct limiter *l, const struct limiter_now *now)
{
	return !limiter_same_boot(l->boot_id, now->boot_id) || now->boot_ms < l->stamp_boot_ms;
}

/*
 * Bring l to now; rebase it when its boot times mean nothing now.  The stamp
 * pairs the two clocks, so a wall clock step is followed and a reboot
 * carries the right remainders.
 */
static void sync_now(struct limiter *l, const struct limiter_now *now)
{
	int64_t t = now->boot_ms;

	if (unrelated(l, now)) {
		rebase(l, now, span_ms(l));
		return;
	}
	if (penalty_set(l) && l->penalty_until_boot_ms <= t)
		penalty_clear(l);
	l->stamp_boot_ms = t;
	l->stamp_wall_ms = now->wall_ms;
}

static unsigned tokens_at(const struct limiter *l, int64_t t)
{
	int64_t d = l->full_at_boot_ms - t, r = refill_ms(l), missing;

	if (d <= 0)
		return l->burst;
	missing = (d + r - 1) / r;
	return missing >= l->burst ? 0 : l->burst - (unsigned)missing;
}

static int64_t next_grant_ms(const struct limiter *l, int64_t t)
{
	return max64(0, l->full_at_boot_ms - (int64_t)(l->burst - 1) * refill_ms(l) - t);
}

int limiter_init(struct limiter *l, uint32_t burst, uint32_t refill, const struct limiter_now *now)
{
	if (limiter_check_params(burst, refill, NULL, 0) < 0)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->burst = burst;
	l->refill = refill;
	/* stamp = now: no hold to carry over, just the empty bucket */
	l->stamp_boot_ms = now->boot_ms;
	l->full_at_boot_ms = now->boot_ms;
	rebase(l, now, 0);
	return 0;
}

/*
 * Other params: tokens do not convert, and an empty bucket is not enough
 * either (4 grants under 4/61 followed by an empty 1/20 bucket would put 7
 * into one minute).  Waiting one whole window first keeps every window
 * under either the old or the new params alone.
 */
static void quarantine(struct limiter *l, const struct limiter_now *now)
{
	l->full_at_boot_ms =
	    now->boot_ms + (int64_t)LIMITER_WINDOW_S * 1000 + (int64_t)l->burst * refill_ms(l);
	penalty_floor(l);
}

bool limiter_take(struct limiter *l, const struct limiter_now *now, double *wait_s)
{
	int64_t t = now->boot_ms, wait;

	sync_now(l, now);
	wait = next_grant_ms(l, t);
	if (wait_s)
		*wait_s = (double)wait / 1000.0;
	if (wait > 0)
		return false;
	l->full_at_boot_ms = max64(l->full_at_boot_ms, t) + refill_ms(l);
	l->grants++;
	l->last_grant_wall_ms = now->wall_ms;
	return true;
}

void limiter_penalize(struct limiter *l, const struct limiter_now *now, uint32_t seconds)
{
	int64_t t = now->boot_ms, end;

	sync_now(l, now);
	if (seconds < LIMITER_PENALTY_MIN)
		seconds = LIMITER_PENALTY_MIN;
	if (seconds > LIMITER_PENALTY_MAX)
		seconds = LIMITER_PENALTY_MAX;
	end = t + (int64_t)seconds * 1000;
	if (end > 0 && end > l->penalty_until_boot_ms) {
		l->penalty_until_boot_ms = end;
		l->penalty_len_s = seconds;
	}
	/* Even a penalty the sentinel cannot record keeps the bucket empty. */
	l->full_at_boot_ms =
	    max64(l->full_at_boot_ms, end + (int64_t)(l->burst - 1) * refill_ms(l));
	penalty_floor(l);
}

void limiter_status(const struct limiter *l, const struct limiter_now *now,
                    struct limiter_status *st)
{
	struct limiter c = *l;
	int64_t t = now->boot_ms;
	unsigned tokens;

	sync_now(&c, now);
	tokens = tokens_at(&c, t);
	memset(st, 0, sizeof(*st));
	st->burst = c.burst;
	st->refill = c.refill;
	st->tokens = tokens;
	st->next_grant_s = (double)next_grant_ms(&c, t) / 1000.0;
	if (tokens < c.burst)
		st->next_token_s = (double)(c.full_at_boot_ms -
		                            (int64_t)(c.burst - tokens - 1) * refill_ms(&c) - t) /
		                   1000.0;
	st->penalty_active = penalty_set(&c) && c.penalty_until_boot_ms > t;
	if (st->penalty_active)
		st->penalty_until_wall_ms = now->wall_ms + (c.penalty_until_boot_ms - t);
	st->grants = c.grants;
	st->last_grant_wall_ms = c.last_grant_wall_ms;
}

/* ---- state file ---- */

static int sha256_hex(const char *data, size_t len, char hex[SUM_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;
	size_t i;

	sha256_init(&h);
	sha256_update(&h, len, (const uint8_t *)data);
	sha256_digest(&h, sizeof(md), md);
	for (i = 0; i < sizeof(md); i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[SUM_HEX] = '\0';
	return 0;
}

int limiter_serialize(const struct limiter *l, char *buf, size_t len)
{
	char hex[SUM_HEX + 1];
	int n, m;

	n = snprintf(buf, len,
	             MAGIC_LINE "boot_id %s\n"
	                        "burst %" PRIu32 "\n"
	                        "refill %" PRIu32 "\n"
	                        "stamp_boot_ms %" PRId64 "\n"
	                        "stamp_wall_ms %" PRId64 "\n"
	                        "full_at_boot_ms %" PRId64 "\n"
	                        "penalty_until_boot_ms %" PRId64 "\n"
	                        "penalty_len_s %" PRIu32 "\n"
	                        "last_grant_wall_ms %" PRId64 "\n"
	                        "grants %" PRIu64 "\n",
	             l->boot_id[0] ? l->boot_id : "unknown", l->burst, l->refill, l->stamp_boot_ms,
	             l->stamp_wall_ms, l->full_at_boot_ms, l->penalty_until_boot_ms,
	             l->penalty_len_s, l->last_grant_wall_ms, l->grants);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	if (sha256_hex(buf, (size_t)n, hex) < 0)
		return -EIO;
	m = snprintf(buf + n, len - (size_t)n, SUM_KEY "%s\n", hex);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -ENOSPC;
	return n + m;
}

/* A cursor over the checksummed body. */
struct cursor {
	const char *p, *end;
};

/* The next line must be "key value\n"; value is non-empty. */
static bool field(struct cursor *c, const char *key, const char **val, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *nl;

	if ((size_t)(c->end - c->p) < klen + 2 || memcmp(c->p, key, klen) != 0 || c->p[klen] != ' ')
		return false;
	*val = c->p + klen + 1;
	nl = memchr(*val, '\n', (size_t)(c->end - *val));
	if (!nl || nl == *val)
		return false;
	*vlen = (size_t)(nl - *val);
	c->p = nl + 1;
	return true;
}

/* Strict decimal: digits only, no leading zeros, at most max. */
static bool parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || d > max || x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

static bool field_u64(struct cursor *c, const char *key, uint64_t max, uint64_t *out)
{
	const char *v;
	size_t n;

	return field(c, key, &v, &n) && parse_u64(v, n, max, out);
}

static bool field_u32(struct cursor *c, const char *key, uint32_t max, uint32_t *out)
{
	uint64_t x;

	if (!field_u64(c, key, max, &x))
		return false;
	*out = (uint32_t)x;
	return true;
}

/* Non-negative instants (boot times). */
static bool field_ms(struct cursor *c, const char *key, int64_t *out)
{
	uint64_t x;

	if (!field_u64(c, key, (uint64_t)MS_MAX, &x))
		return false;
	*out = (int64_t)x;
	return true;
}

/* Wall times may be negative (a clock set before 1970); "-0" is refused. */
static bool field_wall_ms(struct cursor *c, const char *key, int64_t *out)
{
	const char *v;
	size_t n;
	uint64_t x;
	bool neg;

	if (!field(c, key, &v, &n))
		return false;
	neg = v[0] == '-';
	if (!parse_u64(v + neg, n - neg, (uint64_t)MS_MAX, &x) || (neg && x == 0))
		return false;
	*out = neg ? -(int64_t)x : (int64_t)x;
	return true;
}

bool limiter_boot_id_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > LIMITER_BOOT_ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
			return false;
	return true;
}

/* The last line is the checksum of everything before it. */
static bool checksum_ok(const char *buf, size_t len, size_t *body_len)
{
	char hex[SUM_HEX + 1];
	size_t body;

	if (len < SUM_LINE_LEN || buf[len - 1] != '\n')
		return false;
	body = len - SUM_LINE_LEN;
	if (body > 0 && buf[body - 1] != '\n')
		return false;
	if (memcmp(buf + body, SUM_KEY, sizeof(SUM_KEY) - 1) != 0)
		return false;
	if (sha256_hex(buf, body, hex) < 0 ||
	    memcmp(buf + body + sizeof(SUM_KEY) - 1, hex, SUM_HEX) != 0)
		return false;
	*body_len = body;
	return true;
}

/* Fields of a state file, before they are related to now. */
struct saved {
	char boot_id[LIMITER_BOOT_ID_LEN + 1];
	uint32_t burst, refill, penalty_len_s;
	int64_t stamp, stamp_wall, full_at, pen_boot, last_grant_wall;
	uint64_t grants;
};

static bool parse_fields(struct cursor *c, struct saved *s)
{
	const char *v;
	size_t n;

	if ((size_t)(c->end - c->p) < sizeof(MAGIC_LINE) - 1 ||
	    memcmp(c->p, MAGIC_LINE, sizeof(MAGIC_LINE) - 1) != 0)
		return false;
	c->p += sizeof(MAGIC_LINE) - 1;
	if (!field(c, "boot_id", &v, &n) || !limiter_boot_id_ok(v, n))
		return false;
	if (n == 7 && memcmp(v, "unknown", 7) == 0)
		s->boot_id[0] = '\0';
	else
		snprintf(s->boot_id, sizeof(s->boot_id), "%.*s", (int)n, v);
	return field_u32(c, "burst", LIMITER_BROKER_MAX, &s->burst) &&
	       field_u32(c, "refill", LIMITER_REFILL_MAX, &s->refill) &&
	       field_ms(c, "stamp_boot_ms", &s->stamp) &&
	       field_wall_ms(c, "stamp_wall_ms", &s->stamp_wall) &&
	       field_ms(c, "full_at_boot_ms", &s->full_at) &&
	       field_ms(c, "penalty_until_boot_ms", &s->pen_boot) &&
	       field_u32(c, "penalty_len_s", LIMITER_PENALTY_MAX, &s->penalty_len_s) &&
	       field_wall_ms(c, "last_grant_wall_ms", &s->last_grant_wall) &&
	       field_u64(c, "grants", UINT64_MAX, &s->grants) && c->p == c->end;
}

/* Values that a limiter of these params could never have written. */
static bool saved_consistent(const struct saved *s)
{
	/* the emptiest a bucket gets: after new params (LIMITER_STATE_NEW_PARAMS) */
	int64_t r = (int64_t)s->refill * 1000,
	        limit = s->stamp + (int64_t)LIMITER_WINDOW_S * 1000 + (int64_t)s->burst * r;

	if (limiter_check_params(s->burst, s->refill, NULL, 0) < 0)
		return false;
	if (s->pen_boot == 0)
		return s->penalty_len_s == 0 && s->full_at <= limit;
	if (s->penalty_len_s < LIMITER_PENALTY_MIN ||
	    s->pen_boot > s->stamp + (int64_t)s->penalty_len_s * 1000)
		return false;
	return s->full_at <= max64(limit, s->pen_boot + (int64_t)(s->burst - 1) * r);
}

int limiter_parse(struct limiter *l, const char *buf, size_t len, const struct limiter_now *now)
{
	struct saved s;
	struct cursor c;
	size_t body;
	bool new_boot;

	memset(&s, 0, sizeof(s));
	if (len > LIMITER_STATE_MAX || !checksum_ok(buf, len, &body))
		goto corrupt;
	c.p = buf;
	c.end = buf + body;
	if (!parse_fields(&c, &s) || !saved_consistent(&s))
		goto corrupt;

	memcpy(l->boot_id, s.boot_id, sizeof(l->boot_id));
	l->stamp_boot_ms = s.stamp;
	l->stamp_wall_ms = s.stamp_wall;
	l->full_at_boot_ms = s.full_at;
	l->penalty_until_boot_ms = s.pen_boot;
	l->penalty_len_s = s.penalty_len_s;
	l->last_grant_wall_ms = s.last_grant_wall;
	l->grants = s.grants;
	penalty_floor(l);
	/* An unknown boot id on either side can never prove "same boot". */
	new_boot = !s.boot_id[0] || !now->boot_id[0] || unrelated(l, now);
	if (new_boot)
		rebase(l, now, (int64_t)s.burst * s.refill * 1000);
	else
		sync_now(l, now);
	if (s.burst != l->burst || s.refill != l->refill) {
		quarantine(l, now);
		return LIMITER_STATE_NEW_PARAMS;
	}
	return new_boot ? LIMITER_STATE_NEW_BOOT : 0;

corrupt:
	limiter_init(l, l->burst, l->refill, now);
	return -EBADMSG;
}

const char *limiter_empty_why(int load_result)
{
	switch (load_result) {
	case 0:
		return NULL;
	case -ENOENT:
		return "a fresh install: the limiter has no saved state, so its bucket starts "
		       "empty (restarting aiccud in a loop can never connect more often than the "
		       "broker allows)";
	case LIMITER_STATE_NEW_BOOT:
		return "the limiter's state is from another boot (its clock cannot be compared): "
		       "the bucket starts empty";
	case LIMITER_STATE_NEW_PARAMS:
		return "burst/refill changed: the bucket starts empty for one 60 s window plus one "
		       "refill interval";
	case -EBADMSG:
		return "the limiter's saved state is corrupt: its bucket starts empty";
	default:
		return load_result < 0
		           ? "the limiter's saved state cannot be read: its bucket starts empty"
		           : NULL;
	}
}

void limiter_clock_boot_id(int64_t boot_ms, int64_t wall_ms, char *out, size_t len)
{
	int64_t start = (wall_ms - boot_ms) / 1000;

	if (start < 0 || wall_ms < boot_ms) {
		snprintf(out, len, "%s", "");
		return;
	}
	snprintf(out, len, LIMITER_CLOCK_ID "%" PRId64, start);
}
