#include "backoff.h"

void backoff_init(struct backoff *b, const struct backoff_policy *p)
{
	b->p = *p;
	b->streak = 0;
}

double backoff_nominal(const struct backoff_policy *p, unsigned streak)
{
	double d = p->base_s;

	/* Doubling stops at the bound, so a long crash loop cannot overflow. */
	for (unsigned i = 1; i < streak && d < p->max_s; i++)
		d *= 2;
	return d < p->max_s ? d : p->max_s;
}

double backoff_failure(struct backoff *b, double ran_s, double rnd)
{
	double nominal, j = b->p.jitter;

	if (ran_s >= b->p.stable_s)
		b->streak = 0;
	if (b->streak < 1000000)
		b->streak++;
	nominal = backoff_nominal(&b->p, b->streak);
	if (!(rnd >= 0))
		rnd = 0; /* also NaN */
	if (rnd > 1)
		rnd = 1;
	if (!(j >= 0))
		j = 0;
	if (j > 1)
		j = 1;
	/* Jitter only shortens: the bound holds, and restarts of many tunnels
	 * killed together (an OOM, a PoP outage) spread out. */
	return nominal * (1.0 - j * rnd);
}

void backoff_reset(struct backoff *b)
{
	b->streak = 0;
}
