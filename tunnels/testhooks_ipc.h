/*
 * Test-only forgeries of a worker's IPC (AICCUD_TEST_HOOKS builds, never
 * a release), so the namespace tests can play a compromised worker:
 * AICCUD_TEST_FORGE=NAME:WHAT in aiccud's environment makes the worker of
 * tunnel NAME
 *   up-ifindex=N   report link-up with ifindex N instead of its link's
 *   seccomp-flood  send 1000 seccomp reports before its link-up, and live on
 *   readd-flood=N  once its routing is in, send N privileged requests to
 *                  re-add its address (IPC_PRIV_REPAIR, READD), and live on
 */
#ifndef AICCUD_TESTHOOKS_IPC_H
#define AICCUD_TESTHOOKS_IPC_H

/* The ifindex to report in IPC_W_UP: the forged one, else real. */
int testhooks_up_ifindex(const char *name, int real);
/* Before IPC_W_UP: the forged messages asked for, if any. */
void testhooks_before_up(const char *name, int ipc_fd);
/* Once up (the parent takes privileged requests): the forged flood asked for, if any. */
struct ipc_priv_req;
/* req: a valid request to re-add the tunnel's address (privreq_check passes it). */
void testhooks_after_up(const char *name, int ipc_fd, const struct ipc_priv_req *req);

#endif
