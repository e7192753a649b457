/*
 * Test-only hooks (AICCUD_TEST_HOOKS builds, never a release): signals
 * that make a worker do what its seccomp filter forbids, so a test can
 * prove the filter kills it and the parent restarts it.
 *   SIGUSR1  execve("/bin/true")
 *   SIGUSR2  socket(AF_PACKET, SOCK_RAW, 0)
 */
#ifndef AICCUD_TESTHOOKS_H
#define AICCUD_TESTHOOKS_H

#include <ev.h>

void testhooks_start(struct ev_loop *loop);

#endif
