/*
 * TIC fetches, each behind a limiter token (fetch.c).  The scheduler
 * subscribes to the registry: a tunnel that starts waiting for TIC wakes it.
 */
#ifndef AICCUD_FETCH_H
#define AICCUD_FETCH_H

struct daemon;

/* Limiter state, and the registry subscription.  0 or -errno. */
int fetch_init(struct daemon *d);
void fetch_shutdown(struct daemon *d);

#endif
