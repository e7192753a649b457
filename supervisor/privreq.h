/*
 * What an unprivileged worker may ask the parent to do (IPC_W_PRIV):
 * only changes to its own link, with its own tunnel's address and
 * prefix.  Pure: the parent calls it before touching the kernel
 * (privsep.c); the operations' names are ipc_priv_op_name's (ipc.h).
 */
#ifndef AICCUD_PRIVREQ_H
#define AICCUD_PRIVREQ_H

#include "ipc.h"
#include "tunnel.h"

/*
 * 0 when request r from the worker of tunnel tc, whose link is ifindex,
 * stays inside that tunnel; otherwise -EPERM (or -EINVAL for an unknown
 * operation or repair) with *why saying what was wrong.  An IPC_PRIV_SIT_LOCAL
 * request also needs the parent's own look at the route to the PoP.
 */
int privreq_check(const struct tunnel_conf *tc, int ifindex, const struct ipc_priv_req *r,
                  const char **why);

#endif
