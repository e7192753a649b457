#include "lifecycle.h"

#include <errno.h>

static const char *const state_names[TS_COUNT] = {
    [TS_STOPPED] = "stopped",   [TS_WAITING] = "waiting", [TS_FETCHING] = "fetching",
    [TS_STARTING] = "starting", [TS_UP] = "up",           [TS_STOPPING] = "stopping",
    [TS_BACKOFF] = "backoff",   [TS_FAILED] = "failed",
};

static const char *const event_names[LC_COUNT] = {
    [LC_SPAWN] = "spawn",
    [LC_NEED_TIC] = "need-tic",
    [LC_FETCH] = "fetch",
    [LC_FETCH_FAIL] = "fetch-failed",
    [LC_UP] = "up",
    [LC_FAIL] = "fail",
    [LC_LOST] = "lost",
    [LC_STOP_WORKER] = "stop-worker",
    [LC_STOP_IDLE] = "stop-idle",
    [LC_EXITED] = "exited",
    [LC_INVALID] = "invalid",
    [LC_RETRY] = "retry",
};

/*
 * NEXT[event][from] = to + 1; 0 where the event is not expected.  Stored
 * as "+1" so that the zero of an omitted entry means "refused".
 */
#define T(s) ((unsigned char)((s) + 1))
static const unsigned char NEXT[LC_COUNT][TS_COUNT] = {
    /* A worker is forked: on start, after a fetch, when the back-off ends. */
    [LC_SPAWN] = {[TS_STOPPED] = T(TS_STARTING),
                  [TS_FAILED] = T(TS_STARTING),
                  [TS_FETCHING] = T(TS_STARTING),
                  [TS_BACKOFF] = T(TS_STARTING)},
    /* No usable cache (at start, or the worker said so): the limiter decides. */
    [LC_NEED_TIC] = {[TS_STOPPED] = T(TS_WAITING),
                     [TS_FAILED] = T(TS_WAITING),
                     [TS_BACKOFF] = T(TS_WAITING),
                     [TS_STARTING] = T(TS_WAITING),
                     [TS_FETCHING] = T(TS_WAITING),
                     [TS_WAITING] = T(TS_WAITING)},
    [LC_FETCH] = {[TS_WAITING] = T(TS_FETCHING)},
    [LC_FETCH_FAIL] = {[TS_FETCHING] = T(TS_FAILED)},
    [LC_UP] = {[TS_STARTING] = T(TS_UP)},
    /* Deliberate failures wait for an operator: no restart storm on bad parameters. */
    [LC_FAIL] =
        {[TS_STARTING] = T(TS_FAILED), [TS_UP] = T(TS_FAILED), [TS_STOPPING] = T(TS_FAILED)},
    /* Crashes, kills and a dead PoP are retried under back-off. */
    [LC_LOST] = {[TS_STARTING] = T(TS_BACKOFF), [TS_UP] = T(TS_BACKOFF)},
    [LC_STOP_WORKER] = {[TS_STARTING] = T(TS_STOPPING),
                        [TS_UP] = T(TS_STOPPING),
                        [TS_STOPPING] = T(TS_STOPPING),
                        [TS_FAILED] = T(TS_STOPPING)},
    [LC_STOP_IDLE] = {[TS_STOPPED] = T(TS_STOPPED),
                      [TS_WAITING] = T(TS_STOPPED),
                      [TS_FETCHING] = T(TS_STOPPED),
                      [TS_BACKOFF] = T(TS_STOPPED)},
    [LC_EXITED] = {[TS_STOPPING] = T(TS_STOPPED)},
    [LC_INVALID] = {[TS_STOPPED] = T(TS_FAILED),
                    [TS_FAILED] = T(TS_FAILED),
                    [TS_BACKOFF] = T(TS_FAILED),
                    [TS_WAITING] = T(TS_FAILED),
                    [TS_FETCHING] = T(TS_FAILED)},
    /* TIC unreachable for now: back-off, then wait for a token again. */
    [LC_RETRY] = {[TS_FETCHING] = T(TS_BACKOFF)},
};
#undef T

const char *lifecycle_state_name(enum tunnel_state s)
{
	return (unsigned)s < TS_COUNT ? state_names[s] : "?";
}

const char *lifecycle_event_name(enum lc_event e)
{
	return (unsigned)e < LC_COUNT ? event_names[e] : "?";
}

int lifecycle_next(enum tunnel_state from, enum lc_event e, enum tunnel_state *to)
{
	if ((unsigned)from >= TS_COUNT || (unsigned)e >= LC_COUNT)
		return -EINVAL;
	if (!NEXT[e][from])
		return -EPERM;
	*to = (enum tunnel_state)(NEXT[e][from] - 1);
	return 0;
}

bool lifecycle_allowed(enum tunnel_state from, enum tunnel_state to)
{
	if ((unsigned)from >= TS_COUNT || (unsigned)to >= TS_COUNT)
		return false;
	if (from == to)
		return true;
	for (int e = 0; e < LC_COUNT; e++)
		if (NEXT[e][from] == to + 1)
			return true;
	return false;
}
