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
 *   SIGRTMIN+4  bind of a fresh UDP socket
 */
#ifndef AICCUD_TESTHOOKS_H
#define AICCUD_TESTHOOKS_H

#include <ev.h>

void testhooks_start(struct ev_loop *loop);

/* Install the escape hooks on the child's wire socket and cache directory. */
void testhooks_escapes(int sock, int dir);

#endif
