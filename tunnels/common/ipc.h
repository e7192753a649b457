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

/*
 * A worker's exit status when its liveness probe (liveness = icmp) went
 * unanswered liveness_misses times in a row: the parent restarts it under
 * back-off, like a crash, and unlike a failure (exit 1 after IPC_W_FAILED).
 */
#define IPC_EXIT_PEER_DEAD 3

enum ipc_type {
	IPC_W_UP = 1,       /* worker: link configured and up (struct ipc_up) */
	IPC_W_FAILED,       /* worker: tunnel cannot come up (struct ipc_failed) */
	IPC_W_COUNTERS,     /* worker: counters snapshot (struct tunnel_counters) */
	IPC_P_COUNTERS_REQ, /* parent: send counters now (no payload) */
	IPC_P_CONF,         /* parent: the tunnel to run (struct ipc_conf), first message */
	IPC_P_FETCH,        /* parent -> fetcher: what to fetch (struct ipc_fetch) */
	IPC_F_RESULT,       /* fetcher: one tunnel's outcome (struct ipc_fetch_result) */
	IPC_F_DONE,         /* fetcher: the session's outcome (struct ipc_fetch_done), last */
	IPC_W_NEED_TIC,     /* worker: cache missing/stale/failed, ask TIC (struct ipc_failed) */
	IPC_C_SECCOMP,  /* worker or fetcher: a forbidden system call, dying (struct ipc_seccomp) */
	IPC_W_PRIV,     /* worker: a change to its own link it may not make (struct ipc_priv_req) */
	IPC_P_PRIV,     /* parent: what became of it (struct ipc_priv_res) */
	IPC_P_REPAIR,   /* parent: restore your link's address or state (struct ipc_repair) */
	IPC_W_REPAIRED, /* worker: what it restored, or why not (struct ipc_repaired) */
	IPC_W_CHECK,    /* worker: may my link get these parameters? (struct ipc_up) */
	IPC_P_CHECKED,  /* parent: the answer (struct ipc_verdict) */
	IPC_P_UPDATE,   /* parent -> aiccud-tic -U: one endpoint update (struct ipc_update) */
	IPC_U_RESULT,   /* aiccud-tic -U: its outcome (struct ipc_update_result), last */
	IPC_P_ROUTED,   /* parent: link-up accepted, the tunnel's table and rule are in (no payload)
	                 */
	IPC_TYPE_MAX
};

struct ipc_hdr {
	uint16_t type;
	uint16_t len; /* payload bytes after the header */
};

/*
 * Parameters fetched from TIC that the fetcher could not cache (a full
 * disk): the cache file's text it could not write (cache.h's format,
 * CACHE_FILE_MAX bytes at most), carried to the worker through the parent,
 * which never reads it.  The worker parses it as it would the file and
 * writes it when the disk lets it.
 */
#define IPC_CACHE_TEXT_MAX 4096

/*
 * Who a child becomes once its privileged set-up is done (privdrop.h):
 * resolved by the parent from [daemon] user.
 */
struct ipc_drop {
	uint32_t uid, gid;
	uint8_t trap; /* aiccud -v or a test build: name a forbidden call, then die */
	uint8_t pad[3];
};

/* The tunnel to run and where its cached TIC parameters live. */
struct ipc_conf {
	struct tunnel_conf conf;
	char state_dir[TUNNEL_PATH_MAX];
	uint32_t cache_max_age; /* seconds */
	uint8_t fresh_fetch;    /* the cache was just written: never ask for TIC again */
	uint8_t stale_ok;       /* TIC is unreachable: cached parameters too old still serve */
	uint8_t pad[2];
	struct ipc_drop drop;
	uint32_t held_len; /* >0: run on held (fetched, not cached), and cache it */
	char held[IPC_CACHE_TEXT_MAX];
};

/*
 * Link up.  params are what the worker runs with (from the file or the
 * tunnel cache), password cleared: the parent installs routing from them
 * without ever parsing TIC data itself.
 */
struct ipc_up {
	int32_t ifindex;
	char ifname[IFNAMSIZ];
	struct tunnel_params params;
	uint32_t path_mtu; /* AYIYA: the path MTU toward the PoP the link's MTU used; 0: unknown */
};

#define IPC_FETCH_MAX 32 /* tunnel ids per TIC session */

struct ipc_fetch {
	struct tic_account account;
	char state_dir[TUNNEL_PATH_MAX];
	uint32_t nids;
	char ids[IPC_FETCH_MAX][TUNNEL_ID_MAX];
	struct ipc_drop drop;
};

struct ipc_fetch_result {
	char id[TUNNEL_ID_MAX];
	int32_t err; /* 0: cached; else -errno */
	char reason[256];
	uint8_t changed; /* err 0: the cache held other parameters (or none) before */
	uint8_t pad[3];
	int32_t cache_err; /* err 0: -errno of the cache write, 0 if cached */
	uint32_t held_len; /* cache_err: bytes of held, 1..IPC_CACHE_TEXT_MAX */
	char held[IPC_CACHE_TEXT_MAX];
};

struct ipc_fetch_done {
	int32_t err;     /* 0: the session completed */
	uint8_t refused; /* the TIC server turned the connection away (rate limit) */
	uint8_t pad[3];
	char reason[256];
	char warning[256]; /* e.g. plain-text TIC; "" if none */
};

/*
 * An endpoint update (dyndns2, PROTOCOLS.md 8), made by the fetcher's
 * program in its update mode: one request, one result, exit.
 */
struct ipc_update {
	char name[IFNAMSIZ]; /* the tunnel, for the log */
	struct tunnel_update update;
	struct in_addr myip; /* sent as myip when send_myip */
	uint8_t send_myip;
	uint8_t pad[3];
	struct ipc_drop drop;
};

/* What the fetcher made of the answer; the parent checks every field. */
struct ipc_update_result {
	int32_t err;         /* 0: the server answered (verdict says how); -errno: no answer */
	int32_t verdict;     /* enum dyndns_verdict (err 0); DYNDNS_RETRY or _STOP otherwise */
	int32_t http_status; /* 0: none */
	char word[64];       /* the broker's word ("good", "badauth"); "" when none */
	struct in_addr addr; /* the address after good/nochg; 0.0.0.0 if none */
	char reason[256];    /* what went wrong, naming the server */
};

/*
 * IPC_W_FAILED and IPC_W_NEED_TIC.  kind says whether the parent may try
 * again by itself: a set-up step that failed for a reason that can go
 * away (the link name busy, no route to the PoP yet, the address gone
 * while the worker started) is retried with back-off like a crash; a
 * final failure waits for a person.  For IPC_W_NEED_TIC, STALE says the
 * cache holds parameters that are only too old: usable while TIC cannot
 * be reached.
 */
enum ipc_fail_kind {
	IPC_FAIL_FINAL = 0,
	IPC_FAIL_TRANSIENT,
	IPC_NEED_TIC_STALE,
};

struct ipc_failed {
	char reason[256];
	uint8_t kind; /* enum ipc_fail_kind */
	uint8_t pad[3];
};

/*
 * Before a worker gives its link an address, the parent checks the
 * parameters against the host's routes (it keeps the view: hostcache.h).
 * IPC_W_CHECK's ifindex is a link of the tunnel's name already there (a
 * sit link from the last run), else 0.
 */
struct ipc_verdict {
	int32_t err; /* 0: go on; -EADDRINUSE: refused; other -errno: could not check */
	char reason[256];
};

/*
 * Self-healing: the parent sees (over rtnetlink) what went missing on a
 * tunnel's link; the worker, which owns the link, restores it (once it
 * has dropped its privileges, through an IPC_W_PRIV request back to the
 * parent, which checks it against the tunnel first).
 */
#define IPC_REPAIR_ADDR    0x1u /* add the tunnel address again */
#define IPC_REPAIR_READD   0x2u /* delete and add it: the kernel's local route comes back */
#define IPC_REPAIR_LINK_UP 0x4u /* set the link up */
#define IPC_REPAIR_ALL     0x7u

struct ipc_repair {
	uint32_t what; /* IPC_REPAIR_* */
};

struct ipc_repaired {
	uint32_t what; /* as asked */
	int32_t err;   /* 0: restored; else -errno */
	char reason[128];
};

/* The system call a child's seccomp filter trapped (siginfo's si_syscall, si_arch). */
struct ipc_seccomp {
	int32_t nr;
	uint32_t arch;
};

/*
 * What an unprivileged worker asks the parent to do to its own link; the
 * parent checks it against that tunnel's parameters (supervisor/privreq.h)
 * first.
 */
enum ipc_priv_op {
	IPC_PRIV_SIT_LOCAL = 1, /* move the sit link's local IPv4 to local4 */
	IPC_PRIV_REPAIR,        /* an IPC_P_REPAIR the worker cannot do itself: what, addr */
};

/* "repair the link", for both sides' messages; "unknown request" for another op. */
const char *ipc_priv_op_name(uint32_t op);

struct ipc_priv_req {
	uint32_t op;   /* enum ipc_priv_op */
	uint32_t what; /* IPC_PRIV_REPAIR: IPC_REPAIR_* bits */
	int32_t ifindex;
	struct in6_addr addr;
	uint8_t prefix_len;
	uint8_t pad[3];
	struct in_addr local4;
};

struct ipc_priv_res {
	uint32_t op;
	uint32_t what; /* as asked */
	int32_t err;   /* 0 or -errno */
	char reason[128];
};

#define IPC_MAX_(a, b) ((a) > (b) ? (a) : (b))
#define IPC_MSG_MAX                                                                                \
	(sizeof(struct ipc_hdr) +                                                                  \
	 IPC_MAX_(IPC_MAX_(sizeof(struct ipc_conf), sizeof(struct ipc_fetch)),                     \
	          IPC_MAX_(sizeof(struct ipc_fetch_result), sizeof(struct ipc_update))))
/* The worker is exec()ed with its end of the socketpair on this fd. */
#define IPC_WORKER_FD 3

/*
 * One boundary's message table (worker -> parent, parent -> worker,
 * fetcher <-> parent): each type its peer may send, the receiver's states
 * in which it may (a bit per state: IPC_IN(state)), and its handler (ctx:
 * the receiver's object for that peer).  A type not in the table, or not
 * in its states, is the peer's bug or an attack: the receiver logs it
 * (rate-limited) and ends the peer.  Lengths are not the table's business:
 * ipc_parse has checked them before.
 */
#define IPC_IN(state) (1u << (state))
struct ipc_route {
	uint16_t type;
	uint32_t states;
	void (*handle)(void *ctx, const void *payload);
};

/*
 * Pure: the entry of tab (n entries) for type, received in state.  NULL
 * when refused, with *why -EPROTO (a type this peer never sends) or -EPERM
 * (not in this state).
 */
const struct ipc_route *ipc_route_find(const struct ipc_route *tab, size_t n, int type,
                                       unsigned state, int *why);
/* The type's name for log lines ("IPC_W_UP"), "unknown" for others. */
const char *ipc_type_name(int type);

/*
 * A child's text field (a reason) made fit for a log line: at most srclen
 * bytes up to its first NUL, anything but printable ASCII as '?', always
 * terminated within dstlen (> 0).
 */
void ipc_text(char *dst, size_t dstlen, const char *src, size_t srclen);

/* Expected payload length of a type, or -1 for an unknown type. */
ssize_t ipc_payload_len(uint16_t type);
/*
 * Pure: check one received datagram (n bytes at buf): a header and
 * exactly the payload its type has.  Returns the type with *payload
 * pointing after the header, or -EBADMSG.
 */
int ipc_parse(const void *buf, size_t n, const void **payload);
/* Send one message; returns 0 or -errno. */
int ipc_send(int fd, uint16_t type, const void *payload, size_t len);
/*
 * Receive one message into buf (IPC_MSG_MAX bytes).  Returns the type,
 * 0 on EOF, -EAGAIN when nothing is waiting, -EBADMSG when the length does
 * not match the type, other -errno on error.
 */
int ipc_recv(int fd, void *buf, size_t buflen, const void **payload);
/*
 * A child's first message: wait up to timeout_ms for one, receive it, and
 * when it is of type `want` copy its payload (exactly len bytes) to out.
 * The receive buffer is wiped (it may hold passwords).  Returns the type
 * received (compare with want), -ETIMEDOUT, or another -errno.
 */
int ipc_recv_wait(int fd, uint16_t want, void *out, size_t len, int timeout_ms);

#endif
