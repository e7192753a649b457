/*
 * Test-only hooks (AICCUD_TEST_HOOKS builds, never a release): signals
 * that make a worker do what its seccomp filter forbids, so a test can
 * prove the filter kills it and the parent restarts it.
 *   SIGUSR1  execve("/bin/true")
 *   SIGUSR2  socket(AF_PACKET, SOCK_RAW, 0)
 * and (testhooks_escapes, workers and the fetcher) the escapes a
 * compromised child would try; each says on stderr whether it was refused:
 *   SIGRTMIN+1  setsockopt(sock, IP_HDRINCL)
 *   SIGRTMIN+2  openat(dir, $AICCUD_TEST_ESCAPE_PATH, O_CREAT), an absolute path
 *   SIGRTMIN+3  openat(dir, $AICCUD_TEST_ESCAPE_DOTDOT (default "../escaped"), O_CREAT)
 *   SIGRTMIN+4  bind(sock) (workers make no UDP socket after the drop)
 *   SIGRTMIN+5  connect(sock, $AICCUD_TEST_ESCAPE_TO (IPv4:port))
 *   SIGRTMIN+6  sendto(sock, one byte, 0, $AICCUD_TEST_ESCAPE_TO)
 * And a pause point in a worker's set-up, so a test can change the host
 * at a given moment of it (testhooks_pause).
 */
#ifndef AICCUD_TESTHOOKS_H
#define AICCUD_TESTHOOKS_H

#include <ev.h>

void testhooks_start(struct ev_loop *loop);

/* Install the escape hooks on the child's wire socket and cache directory. */
void testhooks_escapes(int sock, int dir);

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
