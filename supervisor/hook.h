/*
 * A tunnel's setup script (setup_script in its file, like AICCU's
 * setupscript), run by the parent after the tunnel is up ("up") and after
 * it went down ("down").
 *
 * The script runs as root with a clean environment (no secrets) holding:
 *   AICCUD_EVENT          up | down
 *   AICCUD_TUNNEL         the tunnel's name (= AICCUD_INTERFACE)
 *   AICCUD_INTERFACE      its interface, AICCUD_IFINDEX its index (0 if gone)
 *   AICCUD_ID             the broker's TunnelId ("" when not set)
 *   AICCUD_TYPE           ayiya | 6in4-heartbeat | 6in4-static
 *   AICCUD_LOCAL6         our tunnel address, AICCUD_PREFIXLEN its prefix length
 *   AICCUD_POP6           the PoP's tunnel address
 *   AICCUD_POP4           the PoP's IPv4 address
 *   AICCUD_LOCAL4         our IPv4 address, "" when dynamic (heartbeat, AYIYA)
 *   AICCUD_MTU            the tunnel MTU
 *   AICCUD_TABLE          the tunnel's routing table, AICCUD_RULE_PRIORITY its rule's
 *   AICCUD_ROUTED         routed prefixes, blank-separated ("" when none)
 *   PATH                  /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
 * and arguments: $1 the event, $2 the tunnel.  stdin is /dev/null; each
 * line it prints is logged under the tunnel's name.  It must finish within
 * the timeout (default 30 s) or its process group is killed (SIGTERM, then
 * SIGKILL 3 s later).  Its exit status is logged.  Scripts of one tunnel
 * run one at a time, in order; those of different tunnels in parallel.
 * The parent never waits for a script: everything runs on its loop.
 */
#ifndef AICCUD_HOOK_H
#define AICCUD_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "tunnel.h"

#define HOOK_TIMEOUT    30.0 /* seconds, default */
#define HOOK_KILL_GRACE 3.0  /* SIGTERM -> SIGKILL */
#define HOOK_ENV_MAX    20
#define HOOK_OUTPUT_MAX 100 /* lines logged per run; the rest are counted */
#define HOOK_QUEUE_MAX  4   /* events waiting behind a running script, per tunnel */

enum hook_event { HOOK_UP, HOOK_DOWN };
const char *hook_event_name(enum hook_event e);

/* The environment of one run: NAME=value strings pointing into buf. */
struct hook_env {
	char *vars[HOOK_ENV_MAX + 1]; /* NULL-terminated */
	size_t n;
	char buf[2048];
};

/* Pure: fill env for tc's script at event ev.  0 or -ENOSPC. */
int hook_env_build(struct hook_env *env, const struct tunnel_conf *tc, enum hook_event ev,
                   int ifindex);

/*
 * Whether path may run as root: absolute, a regular file, executable,
 * owned by root (or by us), not writable by group or others.  0, or
 * -errno with *msg saying what is wrong.
 */
int hook_script_check(const char *path, char *msg, size_t len);

/* Called when a run has ended (wstatus as from waitpid); may be NULL. */
typedef void hook_done_fn(void *arg, const char *tunnel, enum hook_event ev, int wstatus,
                          bool timed_out);

struct hooks;

/* loop must be the default loop (ev_child).  timeout_s <= 0: HOOK_TIMEOUT. */
struct hooks *hooks_new(struct ev_loop *loop, double timeout_s);
/*
 * Run tc's setup script for ev (nothing when it has none: returns 0).
 * Returns at once; the script runs (or waits behind the tunnel's running
 * one) in the background.  -EPERM etc. from hook_script_check (logged),
 * -EBUSY when HOOK_QUEUE_MAX events already wait, -errno from fork/pipe.
 */
int hooks_run(struct hooks *h, const struct tunnel_conf *tc, enum hook_event ev, int ifindex,
              hook_done_fn *done, void *arg);
/* Scripts running or queued. */
unsigned hooks_pending(const struct hooks *h);
/* Kill what still runs (SIGKILL to each process group), reap it, free h. */
void hooks_free(struct hooks *h);

#endif
