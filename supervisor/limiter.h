/*
 * The TIC connection limiter: a token bucket every TIC connection draws
 * from, whatever process makes it.  It lives in the parent.
 *
 * Why: the broker refuses a client that opens more than 4 TCP connections
 * to its TIC server in 60 s (for 5 minutes; twice in 24 h: for a week).
 *
 * The bucket holds at most `burst` tokens and mints one every `refill`
 * seconds.  Internally it is kept as one instant, full_at (the boot-clock
 * time at which the bucket will be full again); a grant at t is allowed when
 * full_at - t <= (burst - 1) * refill and moves full_at to
 * max(full_at, t) + refill.  Guarantee: any n grants g1 <= ... <= gn satisfy
 * gn - g1 >= (n - burst) * refill, so a closed 60-second window holds at
 * most burst + floor(60 / refill) grants (3 with the defaults 1 / 30).
 *
 * Clocks: tokens are minted only from differences of the boot clock
 * (CLOCK_BOOTTIME) within one boot (same boot id).  The wall clock never
 * mints; it only carries a hold (a penalty, the wait after new params)
 * across a reboot, and never for longer than what was left of it when the
 * state was last updated.  State that cannot be related to now (other boot,
 * unknown boot id, boot clock behind the state, missing, corrupt) becomes an
 * empty bucket starting now: no grant until one refill interval has passed.
 * Other burst/refill than the state's: empty, and no grant for one 60 s
 * window plus one refill interval.
 *
 * Limit: new params together with a lost (missing or corrupt) state cannot
 * be seen; the bucket then starts empty with the new params only.
 *
 * This file's functions are pure: no globals, no I/O, time is passed in.
 * The I/O helpers at the end live in limiter_io.c.
 *
 * The order a caller must follow for every TIC connection:
 *   1. limiter_take()          - grant and consume a token in memory;
 *   2. limiter_save()          - persist the consumed token atomically;
 *                                if saving fails, do NOT connect;
 *   3. connect to the TIC server.
 * Saving before connecting makes a crash (kill -9) at any point lose at most
 * an unused grant, never a used one, so restarting the daemon in a loop
 * cannot reset the budget.  After limiter_penalize() save again at once.
 */
#ifndef AICCUD_LIMITER_H
#define AICCUD_LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIMITER_DEFAULT_BURST  1
#define LIMITER_DEFAULT_REFILL 30          /* seconds per token */
#define LIMITER_WINDOW_S       60          /* the broker's window */
#define LIMITER_BROKER_MAX     4           /* connections per window the broker still accepts */
#define LIMITER_REFILL_MAX     86400       /* keeps the millisecond arithmetic small */
#define LIMITER_PENALTY_MIN    300         /* the broker's refusal lasts 5 minutes */
#define LIMITER_PENALTY_MAX    (8 * 86400) /* a week's block plus a day */
#define LIMITER_BOOT_ID_LEN    36          /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
#define LIMITER_STATE_MAX      512         /* a serialized state is always shorter */
#define LIMITER_BOOT_ID_PATH   "/proc/sys/kernel/random/boot_id"

/*
 * Where the boot id file cannot be read, the boot's start on the wall
 * clock stands in for it: "clock-<CLOCK_REALTIME - CLOCK_BOOTTIME, s>".
 * Two such ids within the slack count as one boot (the wall clock is
 * slewed by NTP while the boot clock is not; a step beyond the slack
 * only makes a new boot of it, which is the strict side).  Taking two
 * boots for one is never less strict either: the boot clock of the later
 * boot is behind the real time since the earlier boot's stamp, so the
 * bucket refills by less than the time that really passed.
 */
#define LIMITER_CLOCK_ID         "clock-"
#define LIMITER_CLOCK_ID_SLACK_S 600

/* limiter_parse / limiter_load results besides 0 and -errno. */
#define LIMITER_STATE_NEW_BOOT   1 /* saved in another boot (or unknown boot id) */
#define LIMITER_STATE_NEW_PARAMS 2 /* saved with another burst/refill (any boot) */

/* "Now", read once by the caller (limiter_now_read) and passed to every call. */
struct limiter_now {
	int64_t boot_ms; /* CLOCK_BOOTTIME, milliseconds; counts suspend too */
	int64_t wall_ms; /* CLOCK_REALTIME, milliseconds since the epoch */
	char boot_id[LIMITER_BOOT_ID_LEN + 1]; /* "" when unknown */
};

/* Treat as opaque; the fields are here so it can live on the stack. */
struct limiter {
	uint32_t burst;
	uint32_t refill; /* seconds */
	char boot_id[LIMITER_BOOT_ID_LEN + 1];
	int64_t stamp_boot_ms;         /* boot time of the last update */
	int64_t stamp_wall_ms;         /* the same instant by the wall clock */
	int64_t full_at_boot_ms;       /* bucket full again at this boot time */
	int64_t penalty_until_boot_ms; /* 0: no penalty */
	uint32_t penalty_len_s;        /* its length when imposed (a sanity bound) */
	int64_t last_grant_wall_ms;    /* 0: never */
	uint64_t grants;               /* grants so far, over restarts */
};

struct limiter_status {
	uint32_t burst;
	uint32_t refill;
	unsigned tokens;     /* tokens left now */
	double next_grant_s; /* seconds until a grant is possible (0: now) */
	double next_token_s; /* seconds until the next token is minted (0: full) */
	bool penalty_active;
	int64_t penalty_until_wall_ms; /* when penalty_active: its end by today's wall clock */
	uint64_t grants;
	int64_t last_grant_wall_ms; /* 0: never */
};

/*
 * 0 when burst/refill keep every 60 s window at or below the broker's
 * limit, else -EINVAL.  msg (may be NULL) gets the arithmetic in both
 * cases, e.g. "limiter allows 1 + floor(60/10) = 7 connections in 60 s;
 * the broker blocks more than 4".  The config parser and the limiter both
 * use this one check.
 */
int limiter_check_params(uint32_t burst, uint32_t refill, char *msg, size_t len);

/* An empty bucket starting at now.  -EINVAL (l untouched) for bad params. */
int limiter_init(struct limiter *l, uint32_t burst, uint32_t refill, const struct limiter_now *now);

/*
 * Grant and consume a token: true.  Otherwise false and *wait_s (may be
 * NULL) says how long until the next grant is possible; on a grant *wait_s
 * is 0.  Persist (limiter_save) before using the grant.
 */
bool limiter_take(struct limiter *l, const struct limiter_now *now, double *wait_s);

/*
 * Why the result of limiter_load (or limiter_parse) leaves the bucket
 * empty, as a sentence for status and the log: a fresh install (no
 * state), another boot, changed burst/refill, a corrupt or unreadable
 * state.  NULL when the loaded state counts (0).
 */
const char *limiter_empty_why(int load_result);

/*
 * The TIC server turned us away: 0 tokens and no grant before now + seconds
 * (raised to LIMITER_PENALTY_MIN, capped at LIMITER_PENALTY_MAX); one token
 * when it ends.  A longer penalty already running is kept.
 */
void limiter_penalize(struct limiter *l, const struct limiter_now *now, uint32_t seconds);

void limiter_status(const struct limiter *l, const struct limiter_now *now,
                    struct limiter_status *st);

/*
 * Text form of l (format in limiter.c), NUL-terminated.  Returns its length
 * without the NUL, or -ENOSPC when len is too small (LIMITER_STATE_MAX is
 * always enough).
 */
int limiter_serialize(const struct limiter *l, char *buf, size_t len);

/*
 * Restore l from buf.  l must have been set up by limiter_init with the
 * configured burst/refill; those stay.  Returns
 *   0                         restored;
 *   LIMITER_STATE_NEW_BOOT    empty bucket starting now, a running hold
 *                             (penalty, new-params wait) carried over by
 *                             the wall clock; save the state at once so a
 *                             crash does not rebase it again later;
 *   LIMITER_STATE_NEW_PARAMS  the state was saved with other burst/refill:
 *                             empty, and no grant before 60 s + one refill
 *                             interval, so no window mixes grants of the
 *                             old and the new params;
 *   -EBADMSG                  truncated, corrupt or inconsistent: empty
 *                             bucket starting now (as limiter_init).
 * Never a fuller bucket than the saved one.
 */
int limiter_parse(struct limiter *l, const char *buf, size_t len, const struct limiter_now *now);

/* A boot id as the limiter stores it: 1..36 of [0-9A-Za-z-]. */
bool limiter_boot_id_ok(const char *s, size_t n);
/* Whether two boot ids name one boot: equal, or clock ids within the slack. */
bool limiter_same_boot(const char *a, const char *b);
/* The clock id (LIMITER_CLOCK_ID) for these clocks into out; "" when the wall clock is before 1970.
 */
void limiter_clock_boot_id(int64_t boot_ms, int64_t wall_ms, char *out, size_t len);

/* ---- I/O helpers (limiter_io.c) ---- */

/*
 * limiter_parse of the file at path.  l must be initialized (limiter_init).
 * A missing or unreadable file leaves an empty bucket starting now and
 * returns -errno (-ENOENT when missing); otherwise limiter_parse's result.
 */
int limiter_load(struct limiter *l, const char *path, const struct limiter_now *now);

/* Write l to path atomically (temp file, fsync, rename), mode 0600.  0 or -errno. */
int limiter_save(const struct limiter *l, const char *path);

/* Read a boot id file (normally LIMITER_BOOT_ID_PATH) into out.  0 or -errno. */
int limiter_boot_id_read(const char *path, char *out, size_t len);

/*
 * CLOCK_BOOTTIME, CLOCK_REALTIME and the boot id.  -errno when the boot id
 * cannot be read (hidden, e.g. by systemd's ProcSubset=pid): boot_id is
 * then the clock id (limiter_clock_boot_id); the clocks are set anyway.
 */
int limiter_now_read(struct limiter_now *now);

#endif
