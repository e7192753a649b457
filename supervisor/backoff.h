/*
 * Restart delays for workers that die: exponential, with jitter, bounded,
 * and forgotten once a worker has run for a stable period.
 *
 * Pure: the caller passes how long the worker ran and a random number, so
 * tests drive it with a fake clock and fixed "random" values.
 */
#ifndef AICCUD_BACKOFF_H
#define AICCUD_BACKOFF_H

struct backoff_policy {
	double base_s;   /* delay after the first failure in a row */
	double max_s;    /* no delay is longer */
	double stable_s; /* a worker that ran this long starts a new series */
	double jitter;   /* 0..1: delays are drawn from [nominal * (1 - jitter), nominal] */
};

/* 1 s, doubling up to 5 minutes; a minute of running clears the series. */
#define BACKOFF_DEFAULT_POLICY                                                                     \
	{                                                                                          \
		1.0, 300.0, 60.0, 0.25                                                             \
	}

struct backoff {
	struct backoff_policy p;
	unsigned streak; /* failures in a row (a stable run resets it) */
};

void backoff_init(struct backoff *b, const struct backoff_policy *p);

/*
 * The nominal (jitter-free) delay after `streak` failures in a row
 * (streak >= 1): base * 2^(streak - 1), at most max.
 */
double backoff_nominal(const struct backoff_policy *p, unsigned streak);

/*
 * A worker that ran ran_s seconds has died: count the failure (starting a
 * new series if it ran at least stable_s) and return the delay before the
 * next start.  rnd is uniform in [0, 1); values outside are clamped.
 */
double backoff_failure(struct backoff *b, double ran_s, double rnd);

/* An operator's start or a reload: the next failure starts a new series. */
void backoff_reset(struct backoff *b);

#endif
