/*
 * The worker: one process per tunnel, forked and exec()ed by the parent
 * so that it starts with a clean event loop.  It creates the tunnel's link
 * (a TUN device for AYIYA), sets its MTU and addresses, brings it up, tells
 * the parent (IPC_W_UP) and then runs the data path and keep-alives in its
 * own libev loop until SIGTERM or until the parent goes away.
 *
 * Needs CAP_NET_ADMIN for the link; the routing policy is the parent's.
 */
#ifndef AICCUD_WORKER_H
#define AICCUD_WORKER_H

#include <stddef.h>

#include "ipc.h"

#include "tunnel.h"

/*
 * Entry of the exec()ed worker ("aiccud -W NAME"): reads its tunnel from
 * the parent (IPC_P_CONF on ipc_fd) and runs it.  Does not return: exits
 * 0 after SIGTERM, 1 when the tunnel failed, IPC_EXIT_PEER_DEAD when
 * the PoP stopped answering.
 */
void worker_main(const char *name, int ipc_fd) __attribute__((noreturn));
/* The parent -> worker message table (n entries) of a worker in its loop, for the tests. */
const struct ipc_route *worker_ipc_routes(size_t *n);

/*
 * What the worker does with netcfg_sit_add's answer (pure): use the sit
 * link (the answer is its ifindex, > 0), fall back to the user-space
 * proto-41 path (datapath = auto on a kernel without sit), or fail (any
 * other error; datapath = kernel without sit; 0, which names no link).
 */
enum worker_sit_use {
	WORKER_SIT_USE,
	WORKER_SIT_FALLBACK,
	WORKER_SIT_FAIL,
};
enum worker_sit_use worker_sit_decide(int sit_add_ret, enum tunnel_datapath want);

/* fe80::/64 link-local address for a TUN link, derived as AICCU did. */
void worker_link_local(const struct in6_addr *tunnel_addr, struct in6_addr *out);

#endif
