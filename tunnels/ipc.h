/*
 * Parent <-> worker messages over a SOCK_SEQPACKET socketpair.
 * One message per datagram: a header followed by a flat payload whose
 * length is checked exactly against the type (ipc_payload_len).
 */
#ifndef AICCUD_IPC_H
#define AICCUD_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <net/if.h>

#include "counters.h"
#include "tunnel.h"

enum ipc_type {
	IPC_W_UP = 1,       /* worker: link configured and up (struct ipc_up) */
	IPC_W_FAILED,       /* worker: tunnel cannot come up (struct ipc_failed) */
	IPC_W_COUNTERS,     /* worker: counters snapshot (struct tunnel_counters) */
	IPC_P_COUNTERS_REQ, /* parent: send counters now (no payload) */
	IPC_P_CONF,         /* parent: the tunnel to run (struct tunnel_conf), first message */
	IPC_TYPE_MAX
};

struct ipc_hdr {
	uint16_t type;
	uint16_t len; /* payload bytes after the header */
};

struct ipc_up {
	int32_t ifindex;
	char ifname[IFNAMSIZ];
};

struct ipc_failed {
	char reason[256];
};

#define IPC_MSG_MAX (sizeof(struct ipc_hdr) + sizeof(struct tunnel_conf))
/* The worker is exec()ed with its end of the socketpair on this fd. */
#define IPC_WORKER_FD 3

/* Expected payload length of a type, or -1 for an unknown type. */
ssize_t ipc_payload_len(uint16_t type);
/* Send one message; returns 0 or -errno. */
int ipc_send(int fd, uint16_t type, const void *payload, size_t len);
/*
 * Receive one message into buf (IPC_MSG_MAX bytes).  Returns the type,
 * 0 on EOF, -EAGAIN when nothing is waiting, -EBADMSG when the length does
 * not match the type, other -errno on error.
 */
int ipc_recv(int fd, void *buf, size_t buflen, const void **payload);

#endif
