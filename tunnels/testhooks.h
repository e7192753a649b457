/*
 * Test-only hooks (AICCUD_TEST_HOOKS builds, never a release): signals
 * that make a worker do what its seccomp filter forbids, so a test can
 * prove the filter kills it and the parent restarts it.
 *   SIGUSR1  execve("/bin/true")
 *   SIGUSR2  socket(AF_PACKET, SOCK_RAW, 0)
 * And a pause point in a worker's set-up, so a test can change the host
 * at a given moment of it (testhooks_pause).
 */
#ifndef AICCUD_TESTHOOKS_H
#define AICCUD_TESTHOOKS_H

#include <ev.h>

void testhooks_start(struct ev_loop *loop);

/* How long a worker stops at a pause point. */
#define TESTHOOKS_PAUSE_S 3

/*
 * While still root (before the privilege drop): when the file
 * STATE_DIR/test-pause-NAME holds the word `stage`, remove it (one pause
 * per file) and stop TESTHOOKS_PAUSE_S seconds.  Stages: "configured"
 * (link, address and data path set up, no ICMPv6 socket yet), "sockets"
 * (every socket open, the parent not yet told the link is up).
 */
void testhooks_pause(const char *state_dir, const char *name, const char *stage);

#endif
