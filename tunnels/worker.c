/* The worker process's event loop: the only file in tunnels/ that owns one. */
#include "worker.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>

#include <ev.h>

#include "ayiya.h"
#include "beat.h"
#include "cache.h"
#include "fileio.h"
#include "datapath.h"
#include "heartbeat.h"
#include "ipc.h"
#include "log.h"
#include "netcfg.h"
#include "privdrop.h"
#include "proto41.h"
#ifdef AICCUD_TEST_HOOKS
#include "testhooks.h"
#include "testhooks_ipc.h"
#endif

/* The TUN queue: the real client's 500 packets lost bursts. */
#define WORKER_TUN_QLEN       1000
#define WORKER_COUNTER_PERIOD 1.0
/* How often the worker tries to write parameters the fetcher could not cache. */
#define WORKER_CACHE_RETRY 5.0
#define SIT_TTL            64
#define WORKER_HB_SOCKETS  2 /* heartbeat sockets taking turns (heartbeat_send_one) */
#define WORKER_FD_SCAN     1024
/* The path MTU an AYIYA packet carrying IPv6's minimum MTU needs. */
#define WORKER_AYIYA_PATH_MIN                                                                      \
	(1280 + AYIYA_IPV4_OVERHEAD) /* fds looked at for the connect bound (lowest_net_socket) */

struct worker {
	const struct tunnel_conf *tc;
	int cache_dirfd;             /* TIC tunnels: the tunnel cache directory; -1 otherwise */
	const struct ipc_drop *drop; /* who we become once the link is set up */
	const char *state_dir;       /* the parent's state directory (test hooks) */
	bool dropped;                /* no privileges left: the parent changes the link */
	struct netcfg *nc;
	struct netcfg_path_mtu pmtu; /* AYIYA: the path MTU toward the PoP (pmtu.mtu 0: unknown) */
	int ipc_fd;
	int tun_fd;                   /* AYIYA and user-space 6in4; -1 with kernel sit */
	int wire_fd;                  /* AYIYA: UDP to the PoP; user-space 6in4: raw proto-41 */
	int hb_fd[WORKER_HB_SOCKETS]; /* heartbeat tunnels: the UDP sockets beats leave from */
	unsigned hb_next;             /* the one the next beat takes */
	int ifindex;
	unsigned tun_offloads; /* NETCFG_TUN_* the TUN got (offload = yes) */
	bool kernel_sit;
	bool started; /* the start-up burst of beats has gone out */
	struct datapath dp;
	struct p41 p41;
	struct tunnel_counters *c;
	struct tunnel_counters counters;
	struct tunnel_counters counters_sent;   /* as last reported by the periodic timer */
	uint64_t rx_seen;                       /* rx_packets when last_rx was last set */
	uint64_t drops_seen[DROP_REASON_COUNT]; /* already reported */
	uint64_t sig_seen;                      /* signature drops already hinted at */
	/* Warnings triggered by network input, rate-limited. */
	struct log_ratelimit rx_rl, drop_rl, ipc_rl, sig_rl;
	ev_io tun_w, wire_w, ipc_w;
	ev_timer keepalive_w, counters_w;
	/* TIC parameters the fetcher could not cache (ipc.h): written when the disk lets us. */
	const char *held;
	size_t held_len;
	ev_timer held_w;
	struct log_ratelimit held_rl;
	ev_prepare activity_w; /* before the loop waits: restarts counters_w if something changed */
	struct dp_pace pace;   /* the receive hold-off under load (datapath.h) */
	double collect;        /* the io collect interval set from it */
	/*
	 * Heartbeat tunnels: the PoP's confirmation (beat.h).  An ICMPv6 socket
	 * on our link sends the first packet (an echo to the PoP's tunnel
	 * address) and hears its answer; until one comes back (or any packet
	 * arrives through the tunnel) the heartbeat and the echo are repeated.
	 */
	int confirm_fd;
	uint16_t confirm_id, confirm_seq;
	unsigned confirm_tries;
	ev_io confirm_w;
	ev_timer confirm_t;
	ev_timer source_w; /* ipv4_local = auto: our IPv4 source toward the PoP, looked at */
	struct ev_loop *loop;
	/* liveness = icmp: an echo to the PoP's tunnel address every interval */
	int probe_fd;
	uint16_t probe_id, probe_seq;
	bool probe_outstanding; /* the last probe has no answer yet */
	unsigned probe_misses;  /* unanswered probes in a row */
	ev_io probe_w;
	ev_timer probe_t;
	ev_timer quiet_t; /* an echo to the PoP when it has sent nothing for an interval */
	ev_signal term_w, int_w;
	int exit_code;
};

void worker_link_local(const struct in6_addr *tunnel_addr, struct in6_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->s6_addr[0] = 0xfe;
	out->s6_addr[1] = 0x80;
	/* Interface ID: bytes 2..7 of the tunnel address, then bytes 14..15. */
	memcpy(&out->s6_addr[8], &tunnel_addr->s6_addr[2], 6);
	out->s6_addr[8] &= 0xfc;
	memcpy(&out->s6_addr[14], &tunnel_addr->s6_addr[14], 2);
}

static void worker_cleanup(struct worker *w)
{
	if (w->kernel_sit && w->ifindex > 0 && w->nc && !w->dropped)
		netcfg_link_del(w->nc, w->ifindex);
	/* Closing the TUN fd removes the link and with it its addresses. */
	if (w->tun_fd >= 0)
		close(w->tun_fd);
	w->tun_fd = -1;
	w->ifindex = 0;
}

static void worker_vfail(struct worker *w, enum ipc_fail_kind kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0), noreturn));

static void worker_vfail(struct worker *w, enum ipc_fail_kind kind, const char *fmt, va_list ap)
{
	struct ipc_failed f = {.kind = (uint8_t)kind};

	vsnprintf(f.reason, sizeof(f.reason), fmt, ap);
	log_warnx("%s%s", f.reason, kind == IPC_FAIL_TRANSIENT ? "; the parent retries" : "");
	/* Parameters that cannot bring the tunnel up: ask TIC again next time. */
	if (w->cache_dirfd >= 0 && kind == IPC_FAIL_FINAL) {
		int err;

		/* The cache belongs to the unprivileged user (the fetcher wrote it). */
		if (!w->dropped)
			priv_fs_enter(w->drop->uid, w->drop->gid);
		err = cache_mark_failed_at(w->cache_dirfd, w->tc->id);
		if (!w->dropped)
			priv_fs_leave();
		if (err < 0)
			log_warnx("cannot mark the cached parameters of %s as failed: %s",
			          w->tc->id, strerror(-err));
	}
	ipc_send(w->ipc_fd, IPC_W_FAILED, &f, sizeof(f));
	worker_cleanup(w);
	exit(1);
}

/* The tunnel cannot come up with what it has: a person must change something. */
static void worker_fail(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void worker_fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	worker_vfail(w, IPC_FAIL_FINAL, fmt, ap);
}

/*
 * A set-up step failed for a reason that can go away (the link name busy,
 * no route to the PoP yet, our address deleted meanwhile): the parent
 * starts a new worker after a back-off delay, as after a crash.  The
 * cached parameters are not to blame.
 */
static void worker_retry(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void worker_retry(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	worker_vfail(w, IPC_FAIL_TRANSIENT, fmt, ap);
}

static uint32_t now_epoch(void)
{
	return (uint32_t)time(NULL);
}

static void send_counters(struct worker *w)
{
	if (ipc_send(w->ipc_fd, IPC_W_COUNTERS, w->c, sizeof(*w->c)) < 0 && errno != EAGAIN)
		log_debug("counters not sent");
}

/*
 * One ICMPv6 echo to the PoP's tunnel address through the tunnel: a
 * heartbeat PoP sends proto-41 to us only after it has seen one from us,
 * a static one learns of us from it.  Heartbeat tunnels send it on their
 * confirmation socket, which hears the answer; without one (static
 * tunnels, or it could not be opened) a one-shot socket.
 */
static void probe_pop(struct worker *w)
{
	const struct tunnel_params *p = &w->tc->params;
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_addr = p->ipv6_pop};
	struct icmp6_hdr echo = {.icmp6_type = ICMP6_ECHO_REQUEST};
	/* Raw ICMPv6 sockets, bound to our link, were opened before the privilege
	 * drop (privileges_drop); the kernel fills in the checksum. */
	int fd = w->confirm_fd >= 0 ? w->confirm_fd : w->probe_fd;

	echo.icmp6_id = htons(w->confirm_id);
	echo.icmp6_seq = htons(++w->confirm_seq);
	if (fd < 0 || sendto(fd, &echo, sizeof(echo), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		log_warn("first packet through %s to the PoP", w->tc->name);
}

/* Ask the parent for a change to our link that needs privilege we gave up. */
static void ask_parent(struct worker *w, uint32_t op, struct in_addr local4)
{
	struct ipc_priv_req r = {.op = op, .ifindex = w->ifindex, .local4 = local4};
	int err = ipc_send(w->ipc_fd, IPC_W_PRIV, &r, sizeof(r));

	if (err < 0)
		log_warnx("cannot ask the parent to %s: %s", ipc_priv_op_name(op), strerror(-err));
}

static void pop_state_set(struct worker *w, enum beat_pop_state st)
{
	if (w->c->pop_state == st)
		return;
	w->c->pop_state = (uint8_t)st;
	send_counters(w); /* status shows it at once, not at the next tick */
}

static void confirm_arm(struct worker *w);

/* Our address is (again) unknown to the PoP's proto-41 side: wait for it anew. */
static void confirm_restart(struct worker *w)
{
	if (!beat_needs_confirm(w->tc->params.type))
		return;
	w->confirm_tries = 0;
	pop_state_set(w, BEAT_POP_WAITING);
	confirm_arm(w);
}

static void confirmed(struct worker *w, const char *how)
{
	if (w->c->pop_state != BEAT_POP_WAITING)
		return;
	log_info("the PoP forwards through %s (%s)", w->tc->name, how);
	if (w->loop)
		ev_timer_stop(w->loop, &w->confirm_t);
	pop_state_set(w, BEAT_POP_CONFIRMED);
}

static void local_ipv4_changed(struct worker *w, struct in_addr now)
{
	char was[INET_ADDRSTRLEN], is[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &w->c->local_ipv4, was, sizeof(was));
	inet_ntop(AF_INET, &now, is, sizeof(is));
	if (w->c->local_ipv4.s_addr)
		log_info("our IPv4 toward the PoP changed from %s to %s", was, is);
	w->c->local_ipv4 = now;
	/* A heartbeat PoP holds proto-41 for a new address until it sees one from us. */
	if (w->started)
		confirm_restart(w);
	if (w->kernel_sit && w->dropped) {
		ask_parent(w, IPC_PRIV_SIT_LOCAL, now);
	} else if (w->kernel_sit) {
		int err = netcfg_sit_set_local(w->nc, w->ifindex, now);

		if (err < 0)
			log_warnx("cannot move %s's local address to %s: %s %s", w->tc->name, is,
			          strerror(-err), netcfg_errmsg(w->nc));
	}
}

/*
 * ipv4_local = auto (issue 23): the tunnel's local address follows the
 * host's IPv4 source toward the PoP.  A sit link's is moved (by the parent,
 * on our request, once privileges are gone); the user-space path's raw
 * socket is not bound, so its packets leave from the new source anyway.
 */
#define WORKER_SOURCE_PERIOD 1.0

static void on_source(EV_P_ ev_timer *t, int revents)
{
	struct worker *w = t->data;
	struct in_addr now;

	(void)loop;
	(void)revents;
	if (netcfg_route_source4(w->nc, w->tc->params.ipv4_pop, &now) == 0 &&
	    now.s_addr != w->c->local_ipv4.s_addr)
		local_ipv4_changed(w, now);
}

/*
 * PROTOCOLS.md section 2: the real client sent each beat from a fresh
 * port.  After the privilege drop the filter allows no new UDP socket, no
 * connect, and sendmsg only on these sockets and the wire socket, so
 * WORKER_HB_SOCKETS sockets opened before it take turns: each beat leaves
 * from another port than the one before (the start-up pair too).  Not
 * connected: each beat leaves from the source the routing picks now, so a
 * change of the host's IPv4 address needs no new socket.
 */
static int heartbeat_send_one(struct worker *w, const char *text, size_t len)
{
	struct sockaddr_in pop = {.sin_family = AF_INET,
	                          .sin_port = htons(TUNNEL_HEARTBEAT_PORT),
	                          .sin_addr = w->tc->params.ipv4_pop};
	struct iovec iov = {.iov_base = (void *)text, .iov_len = len};
	struct msghdr m = {
	    .msg_name = &pop, .msg_namelen = sizeof(pop), .msg_iov = &iov, .msg_iovlen = 1};
	int err;

	int fd = w->hb_fd[w->hb_next++ % WORKER_HB_SOCKETS];

	err = fd < 0 ? -EBADF : sendmsg(fd, &m, 0) < 0 ? -errno : 0;
	if (err < 0) {
		w->c->drops[DROP_SEND]++;
		return err;
	}
	w->c->keepalives++;
	w->c->last_keepalive = time(NULL);
	return 0;
}

/*
 * `copies` identical beats (the same text, each from its own port), as the
 * real client sent 2 at start-up.  The word "sender" (PROTOCOLS.md 7.1: the
 * PoP takes the datagram's source, so it works behind NAT) unless the
 * tunnel file says heartbeat_ipv4 = local.
 */
static int heartbeat_send(struct worker *w, unsigned copies)
{
	const struct tunnel_params *p = &w->tc->params;
	struct in_addr local;
	char text[256];
	int len, err;

	err = netcfg_route_source4(w->nc, p->ipv4_pop, &local);
	if (err < 0)
		return err;
	if (local.s_addr != w->c->local_ipv4.s_addr)
		local_ipv4_changed(w, local);
	len = heartbeat_format(text, sizeof(text), &p->ipv6_local,
	                       w->tc->heartbeat_ipv4 == HEARTBEAT_IPV4_LOCAL ? &local : NULL,
	                       (uint64_t)time(NULL), p->password);
	if (len < 0)
		return len;
	for (unsigned i = 0; i < copies && !err; i++)
		err = heartbeat_send_one(w, text, (size_t)len);
	return err;
}

/* AYIYA: `copies` no-op beats back to back. */
static int ayiya_keepalive(struct worker *w, unsigned copies)
{
	int err = 0;

	for (unsigned i = 0; i < copies && !err; i++)
		err = datapath_keepalive(&w->dp, now_epoch());
	if (!err)
		w->c->last_keepalive = time(NULL);
	return err;
}

static void on_tun(EV_P_ ev_io *io, int revents)
{
	struct worker *w = io->data;
	int n;

	(void)revents;
	if (w->tc->params.type == TUNNEL_AYIYA)
		n = datapath_from_tun(&w->dp, now_epoch());
	else
		n = p41_from_tun(&w->p41);
	if (n == -EBADFD) {
		/* The link was removed (the parent removes them all at shutdown). */
		log_info("link %s is gone; stopping", w->tc->name);
		w->exit_code = 1;
		ev_break(EV_A_ EVBREAK_ALL);
	} else if (n < 0) {
		errno = -n;
		log_warn("reading from %s", w->tc->name);
		w->exit_code = 1;
		ev_break(EV_A_ EVBREAK_ALL);
	}
}

static void on_wire(EV_P_ ev_io *io, int revents)
{
	struct worker *w = io->data;
	int n;

	(void)revents;
	(void)loop;
	if (w->tc->params.type == TUNNEL_AYIYA)
		n = datapath_from_udp(&w->dp, now_epoch());
	else
		n = p41_from_raw(&w->p41);
	if (n < 0) {
		log_ratelimited(&w->rx_rl, "receiving from PoP %s: %s",
		                inet_ntoa(w->tc->params.ipv4_pop), strerror(-n));
	}
}

/* One beat, or at start the burst the real client sent (beat.h). */
static int beat_send(struct worker *w, unsigned copies)
{
	if (w->tc->params.type == TUNNEL_AYIYA)
		return ayiya_keepalive(w, copies);
	return heartbeat_send(w, copies);
}

static void beat_warn(struct worker *w, int err)
{
	errno = -err;
	log_warn("%s to PoP %s", w->tc->params.type == TUNNEL_AYIYA ? "keep-alive" : "heartbeat",
	         inet_ntoa(w->tc->params.ipv4_pop));
}

static void on_keepalive(EV_P_ ev_timer *t, int revents)
{
	struct worker *w = t->data;
	unsigned copies = w->started ? 1 : beat_startup_count(w->tc->params.type);
	int err;

	(void)revents;
	(void)loop;
	err = beat_send(w, copies ? copies : 1);
	if (!w->started) {
		w->started = true;
		confirm_restart(w);
	}
	if (err < 0)
		beat_warn(w, err);
	else if (w->c->pop_state == BEAT_POP_WAITING)
		probe_pop(w); /* right after the heartbeat, PROTOCOLS.md 7 */
}

/* A repeat while nothing came back: the heartbeat and the first packet again. */
static void on_confirm_timer(EV_P_ ev_timer *t, int revents)
{
	struct worker *w = t->data;
	int err;

	(void)loop;
	(void)revents;
	if (w->c->pop_state != BEAT_POP_WAITING)
		return;
	w->confirm_tries++;
	log_info("waiting for the PoP to forward through %s: heartbeat and first packet again "
	         "(repeat %u)",
	         w->tc->name, w->confirm_tries);
	err = heartbeat_send(w, 1);
	if (err < 0)
		beat_warn(w, err);
	else
		probe_pop(w);
	confirm_arm(w);
}

static void confirm_arm(struct worker *w)
{
	double interval = w->tc->params.heartbeat_interval ? w->tc->params.heartbeat_interval : 60;
	double d = beat_confirm_delay(w->confirm_tries, interval);

	if (!w->loop)
		return;
	ev_timer_stop(w->loop, &w->confirm_t);
	/* 0: from now on every regular heartbeat carries the packet. */
	if (d > 0) {
		ev_timer_set(&w->confirm_t, d, 0.);
		ev_timer_start(w->loop, &w->confirm_t);
	}
}

/*
 * Drain fd; true if an echo reply with our id came from the PoP's tunnel
 * address among what was queued (a late one counts too).
 */
static bool pop_echo_replied(const struct worker *w, int fd, uint16_t id)
{
	struct sockaddr_in6 from;
	socklen_t len = sizeof(from);
	struct icmp6_hdr reply;
	bool seen = false;
	ssize_t n;

	while ((n = recvfrom(fd, &reply, sizeof(reply), 0, (struct sockaddr *)&from, &len)) >= 0) {
		if ((size_t)n >= sizeof(reply) && reply.icmp6_type == ICMP6_ECHO_REPLY &&
		    ntohs(reply.icmp6_id) == id &&
		    memcmp(&from.sin6_addr, &w->tc->params.ipv6_pop, sizeof(from.sin6_addr)) == 0)
			seen = true;
		len = sizeof(from);
	}
	return seen;
}

/* The PoP answered our echo: it forwards proto-41 to us. */
static void on_confirm_reply(EV_P_ ev_io *io, int revents)
{
	struct worker *w = io->data;

	(void)loop;
	(void)revents;
	if (pop_echo_replied(w, w->confirm_fd, w->confirm_id))
		confirmed(w, "it answered our echo");
}

/*
 * Liveness (PROTOCOLS.md 7: the PoP never answers AYIYA echo requests, so
 * ping its tunnel address through the tunnel).  A raw ICMPv6 socket bound
 * to our link and address, filtered to echo replies.
 */
/* A raw ICMPv6 socket on our link; echo replies queue on it only if someone reads them. */
static int probe_open(struct worker *w, bool replies)
{
	const struct tunnel_params *p = &w->tc->params;
	struct sockaddr_in6 src = {.sin6_family = AF_INET6, .sin6_addr = p->ipv6_local};
	struct icmp6_filter filter;
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);

	if (fd < 0)
		return -errno;
	ICMP6_FILTER_SETBLOCKALL(&filter);
	if (replies)
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, w->tc->name, strlen(w->tc->name)) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void probe_send(struct worker *w)
{
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_addr = w->tc->params.ipv6_pop};
	struct icmp6_hdr echo = {.icmp6_type = ICMP6_ECHO_REQUEST};

	echo.icmp6_id = htons(w->probe_id);
	echo.icmp6_seq = htons(++w->probe_seq);
	w->probe_outstanding = true;
	/* A failed send is a miss like a lost reply: the link may be gone. */
	if (sendto(w->probe_fd, &echo, sizeof(echo), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		log_debug("liveness probe to the PoP: %s", strerror(errno));
}

static void on_probe_timer(EV_P_ ev_timer *t, int revents)
{
	struct worker *w = t->data;
	char pop[INET6_ADDRSTRLEN];

	(void)revents;
	if (w->probe_outstanding) {
		w->probe_misses++;
		inet_ntop(AF_INET6, &w->tc->params.ipv6_pop, pop, sizeof(pop));
		log_info("liveness: no answer from the PoP %s (%u of %u)", pop, w->probe_misses,
		         w->tc->liveness_misses);
		if (w->probe_misses >= w->tc->liveness_misses) {
			log_warnx("liveness: the PoP %s did not answer %u probe(s) in a row; the "
			          "tunnel is down, exiting so that the parent restarts it",
			          pop, w->probe_misses);
			w->exit_code = IPC_EXIT_PEER_DEAD;
			ev_break(EV_A_ EVBREAK_ALL);
			return;
		}
	}
	probe_send(w);
}

static void on_probe_reply(EV_P_ ev_io *io, int revents)
{
	struct worker *w = io->data;

	(void)loop;
	(void)revents;
	if (!pop_echo_replied(w, w->probe_fd, w->probe_id))
		return;
	/* A kernel sit link's traffic passes us by: the PoP's answer is what we hear. */
	w->c->last_rx = time(NULL);
	if (w->tc->liveness != LIVENESS_ICMP)
		return;
	if (w->probe_misses)
		log_info("liveness: the PoP answers again");
	w->probe_outstanding = false;
	w->probe_misses = 0;
}

/*
 * The parent judges the PoP silent when nothing came from it for
 * pop_silence seconds; a PoP that is there answers an echo to its tunnel
 * address (PROTOCOLS.md 7), so one goes out each interval in which it sent
 * nothing.  Its answer counts as a packet from the PoP.
 */
static void on_quiet_timer(EV_P_ ev_timer *t, int revents)
{
	struct worker *w = t->data;
	struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_addr = w->tc->params.ipv6_pop};
	struct icmp6_hdr echo = {.icmp6_type = ICMP6_ECHO_REQUEST};

	(void)loop;
	(void)revents;
	if (w->c->last_rx && (double)(time(NULL) - w->c->last_rx) < t->repeat)
		return;
	echo.icmp6_id = htons(w->probe_id);
	echo.icmp6_seq = htons(++w->probe_seq);
	if (sendto(w->probe_fd, &echo, sizeof(echo), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		log_debug("echo to the PoP: %s", strerror(errno));
}

/* The ICMPv6 socket hears the PoP's echo replies; pop_silence's echoes go out on it. */
static void probe_watch(struct worker *w, struct ev_loop *loop, double interval)
{
	w->probe_id = (uint16_t)(getpid() ^ (time(NULL) << 4));
	ev_io_init(&w->probe_w, on_probe_reply, w->probe_fd, EV_READ);
	w->probe_w.data = w;
	ev_io_start(loop, &w->probe_w);
	if (!w->tc->pop_silence)
		return;
	ev_timer_init(&w->quiet_t, on_quiet_timer, interval, interval);
	w->quiet_t.data = w;
	ev_timer_start(loop, &w->quiet_t);
}

static void probe_start(struct worker *w, struct ev_loop *loop, double interval)
{
	/* The first probe goes out at once: the next tick judges it. */
	ev_timer_init(&w->probe_t, on_probe_timer, 0., interval);
	w->probe_t.data = w;
	ev_timer_start(loop, &w->probe_t);
	log_info("liveness: pinging the PoP every %.0f s; down after %u unanswered", interval,
	         w->tc->liveness_misses);
}

/*
 * What the PoP sent that we dropped (a wrong password shows up here as
 * "signature"), logged at most a few times a minute however hard it floods.
 */
static void report_drops(struct worker *w)
{
	char what[256];
	size_t len = 0;
	uint64_t total = 0;

	what[0] = '\0';
	for (int r = 0; r < DROP_REASON_COUNT; r++) {
		uint64_t d = w->c->drops[r] - w->drops_seen[r];

		w->drops_seen[r] = w->c->drops[r];
		if (!d)
			continue;
		total += d;
		if (len < sizeof(what))
			len += (size_t)snprintf(what + len, sizeof(what) - len, " %s %llu",
			                        drop_reason_name(r), (unsigned long long)d);
	}
	if (total)
		log_ratelimited(&w->drop_rl, "dropped %llu packet(s):%s", (unsigned long long)total,
		                what);
	/* PROTOCOLS.md 7.2: a password changed at the broker shows only as this. */
	if (w->c->drops[DROP_SIGNATURE] > w->sig_seen) {
		w->sig_seen = w->c->drops[DROP_SIGNATURE];
		log_ratelimited(&w->sig_rl, "%s", TUNNEL_SIGNATURE_HINT);
	}
	log_ratelimit_flush(&w->drop_rl, "drop reports");
	log_ratelimit_flush(&w->rx_rl, "receive errors from the PoP");
}

static bool counters_changed(const struct worker *w)
{
	return memcmp(w->c, &w->counters_sent, sizeof(w->counters_sent)) != 0;
}

static bool reports_pending(const struct worker *w)
{
	return w->drop_rl.suppressed || w->rx_rl.suppressed;
}

/*
 * Report to the parent once a second while something changes, and not at
 * all while nothing does: a thousand idle tunnels must neither wake the
 * parent a thousand times a second nor wake themselves (the tick stops;
 * on_activity starts it again).  The parent's IPC_P_COUNTERS_REQ is
 * always answered.
 */
static void on_counters(EV_P_ ev_timer *t, int revents)
{
	struct worker *w = t->data;

	(void)revents;
	/* Anything from the PoP through the tunnel (user-space data path) confirms it. */
	if (w->c->rx_packets)
		confirmed(w, "a packet came through");
	report_drops(w);
	if (counters_changed(w)) {
		w->counters_sent = *w->c;
		send_counters(w);
	} else if (!reports_pending(w)) {
		ev_timer_stop(EV_A_ t);
	}
}

/* Before the loop waits, after every event: if one changed a counter, the tick reports it within a
 * second. */
static void on_activity(EV_P_ ev_prepare *c, int revents)
{
	struct worker *w = c->data;

	(void)revents;
	if (!w->kernel_sit) {
		/* Both directions count: a download's ACKs come from the TUN. */
		struct dp_tun *t = w->tc->params.type == TUNNEL_AYIYA ? &w->dp.tun : &w->p41.tun;
		double ci = dp_pace(&w->pace, w->c->rx_datagrams + w->c->tx_packets, t->more);

		t->more = false;

		if (ci != w->collect) {
			w->collect = ci;
			ev_set_io_collect_interval(EV_A_ ci);
		}
	}
	if (w->c->rx_packets != w->rx_seen) {
		w->rx_seen = w->c->rx_packets;
		w->c->last_rx = time(NULL);
	}
	if (!ev_is_active(&w->counters_w) && (counters_changed(w) || reports_pending(w))) {
		ev_timer_set(&w->counters_w, WORKER_COUNTER_PERIOD, WORKER_COUNTER_PERIOD);
		ev_timer_start(EV_A_ & w->counters_w);
	}
}

/*
 * The parent saw part of our link vanish (someone ran "ip addr del" or
 * "ip link set down").  We own the link but have no privilege left: ask
 * the parent to restore it as link_configure made it (it checks that the
 * request stays inside this tunnel), and pass its answer on as ours.
 */
static void worker_repair(struct worker *w, const struct ipc_repair *rq)
{
	struct ipc_priv_req r = {.op = IPC_PRIV_REPAIR,
	                         .what = rq->what,
	                         .ifindex = w->ifindex,
	                         .addr = w->tc->params.ipv6_local,
	                         .prefix_len = w->tc->params.prefix_len};
	struct ipc_repaired done = {.what = rq->what, .err = -EINVAL};
	int err;

	if (rq->what & ~IPC_REPAIR_ALL) {
		log_warnx("repair request with unknown bits 0x%x from the parent", rq->what);
		snprintf(done.reason, sizeof(done.reason), "unknown repair bits 0x%x", rq->what);
		ipc_send(w->ipc_fd, IPC_W_REPAIRED, &done, sizeof(done));
		return;
	}
	err = ipc_send(w->ipc_fd, IPC_W_PRIV, &r, sizeof(r));
	if (err < 0)
		log_warnx("cannot ask the parent to repair %s: %s", w->tc->name, strerror(-err));
}

static void priv_answer(struct worker *w, const struct ipc_priv_res *r)
{
	struct ipc_repaired done = {.what = r->what, .err = r->err};

	if (r->err)
		log_warnx("the parent did not %s: %s: %.*s", ipc_priv_op_name(r->op),
		          strerror(-r->err), (int)sizeof(r->reason), r->reason);
	else
		log_debug("the parent did %s", ipc_priv_op_name(r->op));
	if (r->op != IPC_PRIV_REPAIR)
		return;
	memcpy(done.reason, r->reason, sizeof(done.reason));
	done.reason[sizeof(done.reason) - 1] = '\0';
	if (ipc_send(w->ipc_fd, IPC_W_REPAIRED, &done, sizeof(done)) < 0)
		log_warn("sending the repair result");
}

/*
 * The parent -> worker boundary.  Setting up, the worker waits for exactly
 * one type at a time (IPC_P_CONF, then IPC_P_CHECKED: ipc_recv_wait);
 * in its loop (its only state here) the parent may send these.
 */
enum { WORKER_IN_LOOP = 0 };

/* Answered at once, counted: the parent tells this answer from a periodic report. */
static void on_p_counters_req(void *ctx, const void *p)
{
	struct worker *w = ctx;

	(void)p;
	w->c->answered++;
	send_counters(w);
}

static void on_p_repair(void *ctx, const void *p)
{
	worker_repair(ctx, p);
}

static void on_p_priv(void *ctx, const void *p)
{
	priv_answer(ctx, p);
}

static const struct ipc_route parent_routes[] = {
    {IPC_P_COUNTERS_REQ, IPC_IN(WORKER_IN_LOOP), on_p_counters_req},
    {IPC_P_REPAIR, IPC_IN(WORKER_IN_LOOP), on_p_repair},
    {IPC_P_PRIV, IPC_IN(WORKER_IN_LOOP), on_p_priv},
};

const struct ipc_route *worker_ipc_routes(size_t *n)
{
	*n = sizeof(parent_routes) / sizeof(parent_routes[0]);
	return parent_routes;
}

static void on_ipc(EV_P_ ev_io *io, int revents)
{
	struct worker *w = io->data;
	unsigned char buf[IPC_MSG_MAX];
	const void *payload;
	int type, why;

	(void)revents;
	while ((type = ipc_recv(w->ipc_fd, buf, sizeof(buf), &payload)) != -EAGAIN) {
		size_t n = 0;
		const struct ipc_route *tab, *r;

		if (type == 0 || (type < 0 && type != -EBADMSG)) {
			/* The parent is gone: nobody owns our routing any more. */
			log_warnx("lost the parent; stopping");
			ev_break(EV_A_ EVBREAK_ALL);
			return;
		}
		tab = worker_ipc_routes(&n);
		r = type < 0 ? NULL : ipc_route_find(tab, n, type, WORKER_IN_LOOP, &why);
		/* The parent is trusted: its mistake is a bug, logged, not a reason to go. */
		if (r)
			r->handle(w, payload);
		else
			log_ratelimited(&w->ipc_rl, "unexpected message %s (%d) from the parent",
			                ipc_type_name(type), type);
	}
}

static void on_term(EV_P_ ev_signal *s, int revents)
{
	(void)s;
	(void)revents;
	ev_break(EV_A_ EVBREAK_ALL);
}

static bool sit_missing(int err)
{
	/* What RTM_NEWLINK answers for an unknown link kind. */
	return err == -EOPNOTSUPP || err == -ENODEV || err == -EINVAL || err == -EAFNOSUPPORT;
}

enum worker_sit_use worker_sit_decide(int sit_add_ret, enum tunnel_datapath want)
{
	/* netcfg_sit_add answers the new link's index (> 0) on success. */
	if (sit_add_ret > 0)
		return WORKER_SIT_USE;
	if (sit_add_ret < 0 && want == DATAPATH_AUTO && sit_missing(sit_add_ret))
		return WORKER_SIT_FALLBACK;
	return WORKER_SIT_FAIL; /* including 0, which names no link */
}

/* The TUN of a user-space data path, with offloads unless the tunnel says no. */
static void tun_open(struct worker *w)
{
	const struct tunnel_conf *tc = w->tc;

	w->tun_offloads = 0;
	if (tc->offload)
		w->tun_fd = netcfg_tun_open_offload(tc->name, WORKER_TUN_QLEN, &w->ifindex,
		                                    &w->tun_offloads);
	else
		w->tun_fd = netcfg_tun_open(tc->name, WORKER_TUN_QLEN, &w->ifindex);
	if (w->tun_fd < 0)
		worker_retry(w, "cannot create TUN link %s: %s", tc->name, strerror(-w->tun_fd));
}

/* 6in4: a kernel sit link, or (no sit, or asked for) a TUN for user space. */
static void link_create_6in4(struct worker *w)
{
	const struct tunnel_conf *tc = w->tc;
	const struct tunnel_params *p = &tc->params;
	struct in_addr local = p->ipv4_local;
	int err;

	if (tc->datapath != DATAPATH_USERSPACE) {
		if (!local.s_addr && netcfg_route_source4(w->nc, p->ipv4_pop, &local) < 0)
			worker_retry(w, "no IPv4 route to the PoP %s", inet_ntoa(p->ipv4_pop));
		err = netcfg_sit_add(w->nc, tc->name, local, p->ipv4_pop, SIT_TTL, tunnel_mtu(tc));
		switch (worker_sit_decide(err, tc->datapath)) {
		case WORKER_SIT_USE:
			/* From here on the clean-up deletes the link, whatever fails next. */
			w->kernel_sit = true;
			w->ifindex = err;
			w->c->datapath = DATAPATH_KERNEL;
			w->c->local_ipv4 = local;
			return;
		case WORKER_SIT_FAIL:
			if (err == 0)
				err = -EPROTO;
			/* datapath = kernel on a kernel without sit: a person must choose. */
			if (sit_missing(err))
				worker_fail(
				    w,
				    "cannot create sit link %s: %s %s (this kernel has no sit "
				    "support; use datapath = userspace or auto)",
				    tc->name, strerror(-err), netcfg_errmsg(w->nc));
			worker_retry(w, "cannot create sit link %s: %s %s", tc->name,
			             strerror(-err), netcfg_errmsg(w->nc));
		case WORKER_SIT_FALLBACK:
			break;
		}
		log_info("kernel has no sit support (%s); using user-space proto-41",
		         strerror(-err));
	}
	w->c->datapath = DATAPATH_USERSPACE;
	w->c->local_ipv4 = p->ipv4_local; /* static: the address the broker has */
	tun_open(w);
}

/*
 * A tunnel link is point-to-point to the PoP: nothing arriving on it may
 * configure the host.  No router advertisements (the default route and
 * SLAAC addresses a spoofed one installs), no redirects, no autoconfigured
 * addresses, no router solicitations, and no duplicate address detection
 * (the tunnel address is added nodad; DAD would let a forged neighbour
 * advertisement take it away).  The worker sets them: it owns the link and
 * is still root here, before the link has an address or is up, so no
 * packet can arrive first; the parent would need a round trip in the
 * middle of the link's set-up and could only do it after the link exists
 * anyway.
 */
static const struct {
	const char *key, *value;
} link_ipv6_settings[] = {
    {"accept_ra", "0"},  {"accept_redirects", "0"},     {"autoconf", "0"},
    {"accept_dad", "0"}, {"router_solicitations", "0"},
};

static void link_isolate(struct worker *w)
{
	for (size_t i = 0; i < sizeof(link_ipv6_settings) / sizeof(link_ipv6_settings[0]); i++) {
		const char *key = link_ipv6_settings[i].key, *value = link_ipv6_settings[i].value;
		int werr,
		    err = netcfg_ipv6_conf_set_at(NETCFG_PROC_SYS, w->tc->name, key, value, &werr);

		/* Only a value we cannot make right fails the tunnel. */
		if (err == 1)
			log_debug("%s/net/ipv6/conf/%s/%s cannot be written (%s) but is already %s",
			          NETCFG_PROC_SYS, w->tc->name, key, strerror(-werr), value);
		else if (err < 0)
			worker_fail(w, "cannot set %s/net/ipv6/conf/%s/%s to %s: %s",
			            NETCFG_PROC_SYS, w->tc->name, key, value, strerror(-err));
	}
}

/* The path MTU as the warnings name it, and where it came from. */
static void path_mtu_text(const struct worker *w, char *buf, size_t len)
{
	char pop[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &w->tc->params.ipv4_pop, pop, sizeof(pop));
	if (!w->tc->path_mtu)
		snprintf(buf, len, "the path MTU to the PoP %s is unknown, %u assumed", pop,
		         AYIYA_PATH_MTU);
	else if (w->pmtu.from_route)
		snprintf(buf, len, "the route to the PoP %s has MTU %u (link %s)", pop,
		         w->tc->path_mtu, w->pmtu.link[0] ? w->pmtu.link : "unknown");
	else
		snprintf(buf, len, "the route to the PoP %s leaves by link %s, MTU %u", pop,
		         w->pmtu.link, w->tc->path_mtu);
}

/*
 * AYIYA: the path MTU toward the PoP sizes the tunnel's MTU (tunnel_mtu);
 * it goes to the parent with the link-up report so that both compute the
 * same.  Unknown (0) if the kernel cannot say: 1500 assumed.
 */
static void path_mtu_learn(struct worker *w, struct tunnel_conf *tc)
{
	char pop[INET_ADDRSTRLEN];
	int err;

	tc->path_mtu = 0;
	memset(&w->pmtu, 0, sizeof(w->pmtu));
	if (tc->params.type != TUNNEL_AYIYA)
		return;
	inet_ntop(AF_INET, &tc->params.ipv4_pop, pop, sizeof(pop));
	err = netcfg_route_mtu4(w->nc, tc->params.ipv4_pop, &w->pmtu);
	if (err == 0 && (!w->pmtu.mtu || !tunnel_path_mtu_ok(w->pmtu.mtu)))
		err = -ERANGE;
	if (err < 0) {
		log_debug("%s: no path MTU toward the PoP %s (%s %s): %u assumed", tc->name, pop,
		          strerror(-err), netcfg_errmsg(w->nc), AYIYA_PATH_MTU);
		memset(&w->pmtu, 0, sizeof(w->pmtu));
		return;
	}
	tc->path_mtu = w->pmtu.mtu;
	log_debug("%s: path MTU %u toward the PoP %s (%s, link %s)", tc->name, tc->path_mtu, pop,
	          w->pmtu.from_route ? "the route's MTU" : "the link's MTU", w->pmtu.link);
}

static void link_configure(struct worker *w)
{
	const struct tunnel_conf *tc = w->tc;
	/* No prefix route in main: the tunnel's table routes its prefix (workers.c). */
	struct netcfg_addr a = {
	    .prefix_len = tc->params.prefix_len, .nodad = true, .noprefixroute = true};
	uint32_t mtu = tunnel_mtu(tc);
	char path_text[160];
	int err;

	path_mtu_text(w, path_text, sizeof(path_text));
	if (tunnel_path_too_small(tc))
		log_warnx(
		    "%s: the underlay is too small: %s, less than the %u bytes an AYIYA packet "
		    "carrying IPv6's minimum MTU needs (%u bytes of IPv4, UDP and AYIYA "
		    "header): using %u, and the client's IPv4 will fragment",
		    tc->name, path_text, WORKER_AYIYA_PATH_MIN, AYIYA_IPV4_OVERHEAD, mtu);
	else if (mtu < tunnel_mtu_wanted(tc))
		log_warnx("%s: MTU %u (%s) is above %u, the most an AYIYA packet can carry over a "
		          "%u-byte IPv4 path to the PoP (%s; %u bytes of IPv4, UDP and AYIYA "
		          "header): using %u",
		          tc->name, tunnel_mtu_wanted(tc),
		          tc->mtu_override ? "[tunnel] mtu"
		          : tc->tic        ? "from TIC"
		                           : "[params] mtu",
		          mtu, tunnel_path_mtu(tc), path_text, AYIYA_IPV4_OVERHEAD, mtu);
	if (tc->params.type == TUNNEL_AYIYA) {
		w->c->datapath = DATAPATH_USERSPACE;
		tun_open(w);
	} else {
		link_create_6in4(w);
	}
	a.ifindex = w->ifindex;
	link_isolate(w);
	err = netcfg_link_set(w->nc, w->ifindex, false, mtu);
	if (err < 0)
		worker_retry(w, "cannot set MTU %u on %s: %s %s", mtu, tc->name, strerror(-err),
		             netcfg_errmsg(w->nc));
	a.addr = tc->params.ipv6_local;
	err = netcfg_addr_add(w->nc, &a);
	if (err >= 0 && w->tun_fd >= 0) {
		/* TUN links have no link-local address of their own. */
		worker_link_local(&tc->params.ipv6_local, &a.addr);
		a.prefix_len = 64;
		a.noprefixroute = false; /* fe80::/64 on this link only */
		err = netcfg_addr_add(w->nc, &a);
	}
	if (err < 0)
		worker_retry(w, "cannot add addresses to %s: %s %s", tc->name, strerror(-err),
		             netcfg_errmsg(w->nc));
	err = netcfg_link_set(w->nc, w->ifindex, true, 0);
	if (err < 0)
		worker_retry(w, "cannot bring %s up: %s %s", tc->name, strerror(-err),
		             netcfg_errmsg(w->nc));
}

/* AYIYA: our IPv4 toward the PoP is the connected UDP socket's source. */
static void udp_local_ipv4(struct worker *w)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(w->wire_fd, (struct sockaddr *)&sin, &len) == 0)
		w->c->local_ipv4 = sin.sin_addr;
}

static void datapath_start(struct worker *w)
{
	const struct tunnel_params *p = &w->tc->params;
	int err, fe;

	if (w->kernel_sit)
		return; /* the kernel moves the packets */
	if (p->type == TUNNEL_AYIYA) {
		w->wire_fd = datapath_udp_open(&p->ipv4_pop, AYIYA_PORT);
		if (w->wire_fd < 0)
			worker_retry(w, "cannot open UDP socket to PoP %s: %s",
			             inet_ntoa(p->ipv4_pop), strerror(-w->wire_fd));
		err = datapath_init(&w->dp, w->tun_fd, w->wire_fd, p, tunnel_mtu(w->tc), w->c,
		                    w->tun_offloads, w->tc->offload, w->tc->mss_clamp);
		if (!err)
			udp_local_ipv4(w);
	} else {
		w->wire_fd = p41_open_raw();
		if (w->wire_fd < 0)
			worker_retry(w, "cannot open a raw proto-41 socket: %s",
			             strerror(-w->wire_fd));
		struct in6_addr ll;

		worker_link_local(&p->ipv6_local, &ll);
		err = p41_init(&w->p41, w->tun_fd, w->wire_fd, w->tc, &ll, w->c, w->tun_offloads);
		if (!err && (fe = p41_filter_attach(&w->p41)) < 0)
			log_warnx(
			    "%s: no socket filter on the raw proto-41 socket (%s): other "
			    "tunnels' packets to this PoP reach it too (counted as other_tunnel)",
			    w->tc->name, strerror(-fe));
	}
	if (err < 0)
		worker_retry(w, "cannot set up the data path: %s", strerror(-err));
}

/*
 * The confirmation socket: like a liveness probe's, with its own echo id.
 * Opened while still privileged (privileges_drop), watched once the loop runs.
 */
static void confirm_open(struct worker *w)
{
	w->confirm_fd = probe_open(w, true);
	/* Most likely our address went away since we added it: not up without it. */
	if (w->confirm_fd < 0)
		worker_retry(w, "cannot open an ICMPv6 socket on %s for the PoP's confirmation: %s",
		             w->tc->name, strerror(-w->confirm_fd));
}

static void confirm_watch(struct worker *w, struct ev_loop *loop)
{
	if (w->confirm_fd < 0)
		return;
	ev_io_init(&w->confirm_w, on_confirm_reply, w->confirm_fd, EV_READ);
	w->confirm_w.data = w;
	ev_io_start(loop, &w->confirm_w);
}

/* Write the parameters the fetcher could not cache, until the disk takes them. */
static void on_held_retry(EV_P_ ev_timer *t, int revents)
{
	struct worker *w = t->data;
	int err = file_write_atomic_at(w->cache_dirfd, w->tc->id, w->held, w->held_len, 0600);

	(void)revents;
	if (err < 0) {
		log_ratelimited(&w->held_rl,
		                "cannot write the fetched parameters to the tunnel "
		                "cache yet: %s; trying again every %.0f s",
		                strerror(-err), WORKER_CACHE_RETRY);
		return;
	}
	log_info("the fetched parameters of %s are in the tunnel cache now", w->tc->id);
	w->held_len = 0;
	ev_timer_stop(EV_A_ t);
}

static void loop_run(struct worker *w)
{
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	double interval = w->tc->params.heartbeat_interval ? w->tc->params.heartbeat_interval : 60;

	ev_io_init(&w->tun_w, on_tun, w->tun_fd, EV_READ);
	ev_io_init(&w->wire_w, on_wire, w->wire_fd, EV_READ);
	ev_io_init(&w->ipc_w, on_ipc, w->ipc_fd, EV_READ);
	/* First keep-alive / heartbeat at once: the PoP learns our address from it. */
	ev_timer_init(&w->keepalive_w, on_keepalive, 0., interval);
	/* First report at once, so status shows the data path from the start. */
	ev_timer_init(&w->counters_w, on_counters, 0., WORKER_COUNTER_PERIOD);
	ev_signal_init(&w->term_w, on_term, SIGTERM);
	ev_signal_init(&w->int_w, on_term, SIGINT);
	ev_timer_init(&w->confirm_t, on_confirm_timer, 0., 0.);
	ev_timer_init(&w->source_w, on_source, 0., WORKER_SOURCE_PERIOD);
	w->source_w.data = w;
	if (w->tc->ipv4_auto)
		ev_timer_start(loop, &w->source_w);
	w->tun_w.data = w->wire_w.data = w->ipc_w.data = w;
	w->keepalive_w.data = w->counters_w.data = w->confirm_t.data = w;
	w->loop = loop;
	w->confirm_id = (uint16_t)(getpid() ^ 0x5a5a);
	confirm_watch(w, loop);
	if (!w->kernel_sit) {
		ev_io_start(loop, &w->tun_w);
		ev_io_start(loop, &w->wire_w);
	}
	ev_io_start(loop, &w->ipc_w);
	if (w->tc->params.type == TUNNEL_6IN4_STATIC)
		probe_pop(w); /* no heartbeats: one packet so the PoP sees us */
	else
		ev_timer_start(loop, &w->keepalive_w);
	ev_timer_start(loop, &w->counters_w);
	ev_prepare_init(&w->activity_w, on_activity);
	w->activity_w.data = w;
	ev_prepare_start(loop, &w->activity_w);
	probe_watch(w, loop, interval);
	if (w->tc->liveness == LIVENESS_ICMP && w->tc->liveness_misses > 0)
		probe_start(w, loop, interval);
	if (w->held_len && w->cache_dirfd >= 0) {
		ev_timer_init(&w->held_w, on_held_retry, 0., WORKER_CACHE_RETRY);
		w->held_w.data = w;
		ev_timer_start(loop, &w->held_w);
	}
	ev_signal_start(loop, &w->term_w);
	ev_signal_start(loop, &w->int_w);
#ifdef AICCUD_TEST_HOOKS
	testhooks_start(loop);
	testhooks_escapes(w->wire_fd, w->cache_dirfd);
#endif
	ev_run(loop, 0);
}

/* Wait (bounded) for the parent to send the tunnel to run. */
static void conf_receive(struct worker *w, struct ipc_conf *ic)
{
	int type = ipc_recv_wait(w->ipc_fd, IPC_P_CONF, ic, sizeof(*ic), 10000);

	if (type == -ETIMEDOUT)
		fatalx("no configuration from the parent within 10 s");
	if (type != IPC_P_CONF)
		fatalx("expected the tunnel configuration from the parent, got %d", type);
	ic->conf.name[sizeof(ic->conf.name) - 1] = '\0';
	ic->state_dir[sizeof(ic->state_dir) - 1] = '\0';
}

/*
 * The cache cannot be used for this start: the parent asks TIC, then
 * restarts us.  kind IPC_NEED_TIC_STALE: the parameters are only too old,
 * usable (ipc_conf.stale_ok) while TIC cannot be reached.
 */
static void need_tic(struct worker *w, enum ipc_fail_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

static void need_tic(struct worker *w, enum ipc_fail_kind kind, const char *fmt, ...)
{
	struct ipc_failed f = {.kind = (uint8_t)kind};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f.reason, sizeof(f.reason), fmt, ap);
	va_end(ap);
	log_info("%s; asking the parent for a TIC fetch", f.reason);
	ipc_send(w->ipc_fd, IPC_W_NEED_TIC, &f, sizeof(f));
	exit(0);
}

/*
 * A TIC tunnel's parameters come from the tunnel cache the fetcher wrote.
 * Missing, stale or marked failed: TIC must be asked (unless it just was,
 * which then is a failure: no fetch loop).  Stale ones still serve when
 * the parent says TIC cannot be reached (stale_ok).
 */
/*
 * The parameters the fetcher could not cache, from the text the file would
 * have held: parsed and checked exactly as the file would be.
 */
static int held_read(const struct ipc_conf *ic, struct tic_tunnel *tt, time_t *fetched, char *msg,
                     size_t len)
{
	static char buf[IPC_CACHE_TEXT_MAX + 1];
	time_t failed = 0;
	int r;

	if (ic->held_len == 0 || ic->held_len > sizeof(ic->held))
		return -EINVAL;
	memcpy(buf, ic->held, ic->held_len);
	buf[ic->held_len] = '\0';
	r = cache_parse(buf, ic->held_len, tt, fetched, &failed, msg, len);
	explicit_bzero(buf, sizeof(buf));
	if (!r && strcmp(tt->id, ic->conf.id) != 0) {
		snprintf(msg, len, "they are for tunnel %s", tt->id);
		r = -EBADMSG;
	}
	return r;
}

static void params_from_cache(struct worker *w, struct tunnel_conf *tc, const struct ipc_conf *ic)
{
	struct tic_tunnel tt = {0};
	time_t fetched = 0;
	char bad[512], msg[TIC_ERR_MAX] = "";
	/* The fetcher's directory and files: root reads them with CAP_DAC_READ_SEARCH. */
	int dir = cache_dir_open(ic->state_dir, false);
	/* Parameters the fetcher could not cache come with the configuration (ipc.h). */
	int src = ic->held_len ? 0 : dir;
	int err = ic->held_len ? held_read(ic, &tt, &fetched, msg, sizeof(msg))
	          : dir < 0    ? 0
	                       : cache_read_why_at(dir, tc->id, &tt, &fetched, msg, sizeof(msg));
	bool fresh = src >= 0 && err == 0 && cache_fresh(fetched, time(NULL), ic->cache_max_age);
	/* Only too old: what serves while TIC cannot be reached (stale_ok). */
	bool stale = src >= 0 && err == 0 && !fresh;
	const char *why;

	if (ic->held_len && err == 0) {
		w->held = ic->held;
		w->held_len = ic->held_len;
		log_info("%s: running on parameters fetched from TIC that could not be cached; "
		         "writing them once the disk lets us",
		         tc->id);
	}

	/* Name the cache file and what in it was refused (the policy's key, a bad line). */
	snprintf(bad, sizeof(bad), "cache file %.100s/" CACHE_DIR "/%.31s refused: %.160s",
	         ic->state_dir, tc->id, msg);
	why = src == -ENOENT            ? "no cached parameters (no cache directory)"
	      : src < 0                 ? strerror(-src)
	      : err == -ENOENT          ? "no cached parameters"
	      : err == -ESTALE          ? "the cached parameters failed before"
	      : err == -EBADMSG         ? bad
	      : err == 0 && !fresh      ? "the cached parameters are too old"
	      : err == -EPERM && msg[0] ? msg /* readable by others: say so, with its mode */
	                                : strerror(-err);
	if (stale && ic->stale_ok)
		log_warnx("%s: the cached parameters are older than cache_max_age (%u s); using "
		          "them while TIC cannot be reached",
		          tc->id, (unsigned)ic->cache_max_age);
	switch (cache_decide(src < 0 ? src : 0, err, fresh || (stale && ic->stale_ok),
	                     ic->fresh_fetch)) {
	case CACHE_ASK_TIC:
		need_tic(w, stale ? IPC_NEED_TIC_STALE : IPC_FAIL_FINAL, "%s: %s", tc->id, why);
	case CACHE_FAIL:
		if (ic->fresh_fetch &&
		    (src == -ENOENT || (src >= 0 && (err == -ENOENT || err == -EBADMSG))))
			worker_fail(w, "%s: %s even right after a TIC fetch", tc->id, why);
		worker_fail(
		    w, "cannot use the cached parameters of %s: cache file %s/" CACHE_DIR "/%s: %s",
		    tc->id, ic->state_dir, tc->id, why);
	case CACHE_USE:
		break;
	}
	if (!tt.admin_enabled || !tt.user_enabled)
		worker_fail(w, "the broker has %s disabled (AdminState '%s', UserState '%s')",
		            tc->id, tt.admin_state, tt.user_state);
	tc->params = tt.params;
	explicit_bzero(&tt, sizeof(tt));
	/* From here on a failure is the parameters' fault: mark them (worker_fail). */
	w->cache_dirfd = dir >= 0 ? dir : -1;
}

/*
 * Everything that needs privilege is open: the link, its sockets, the raw
 * ICMPv6 socket of the probes.  From here on the worker is the aiccud
 * user with no capabilities under its seccomp filter; what it still needs
 * done to its link it asks the parent for (ask_parent).
 */
/*
 * connect() after the drop: only glibc's syslog re-opening its AF_UNIX
 * socket needs it.  Every network socket is open by now and none can be
 * made later (the filter allows AF_UNIX datagram sockets only, and no dup),
 * so the lowest fd of a non-AF_UNIX socket bounds where a connect may go:
 * the syslog socket opened at start-up lies below it, and a re-opened one
 * takes the lowest free fd, which does too.
 */
static int lowest_net_socket(void)
{
	for (int fd = 0; fd < WORKER_FD_SCAN; fd++) {
		int domain;
		socklen_t len = sizeof(domain);

		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain != AF_UNIX)
			return fd;
	}
	return WORKER_FD_SCAN;
}

/* The heartbeat sockets (heartbeat_send_one): before the drop, since no UDP socket is made after.
 */
static void heartbeat_open(struct worker *w)
{
	if (w->tc->params.type != TUNNEL_6IN4_HEARTBEAT)
		return;
	for (int i = 0; i < WORKER_HB_SOCKETS; i++) {
		w->hb_fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (w->hb_fd[i] < 0)
			worker_retry(w, "cannot open a heartbeat socket: %s", strerror(errno));
	}
}

static void privileges_drop(struct worker *w)
{
	struct priv_sandbox sb = {.role = PRIV_WORKER,
	                          .uid = w->drop->uid,
	                          .gid = w->drop->gid,
	                          .trap = w->drop->trap,
	                          .ipc_fd = w->ipc_fd,
	                          .dir_fd = w->cache_dirfd,
	                          .msg_fds = {w->wire_fd, -1, -1}};
	char err[256];
	bool confined = false;
	int fd;

	sb.fs_confined = &confined;
	/* Echo replies: liveness = icmp's probes and pop_silence's echoes. */
	w->probe_fd = probe_open(w, true);
	/* EADDRNOTAVAIL: our address was deleted since link_configure added it. */
	if (w->probe_fd < 0)
		worker_retry(w, "cannot open an ICMPv6 socket on %s: %s", w->tc->name,
		             strerror(-w->probe_fd));
	if (beat_needs_confirm(w->tc->params.type))
		confirm_open(w);
	heartbeat_open(w);
	/* The ICMPv6 sockets name the PoP in each echo: bound to our link and address,
	 * and unconnected (no route to the PoP before the parent's table is in). */
	for (int i = 0; i < WORKER_HB_SOCKETS; i++)
		sb.msg_fds[1 + i] = w->hb_fd[i];
	sb.addr_fds[0] = w->probe_fd;
	sb.addr_fds[1] = w->confirm_fd;
#ifdef AICCUD_TEST_HOOKS
	testhooks_pause(w->state_dir, w->tc->name, "sockets");
#endif
	/*
	 * The rtnetlink socket stays: without CAP_NET_ADMIN it can only read,
	 * which is what the source look-ups (netcfg_route_source4) need.
	 */
	sb.connect_below = lowest_net_socket();
	if (priv_drop(&sb, err, sizeof(err)) < 0) {
		fd = w->cache_dirfd;
		w->cache_dirfd = -1; /* the parameters are not to blame */
		if (fd >= 0)
			close(fd);
		worker_fail(w, "%s: cannot drop privileges: %s", w->tc->name, err);
	}
	w->dropped = true;
	log_debug("running as uid %u gid %u, no capabilities, seccomp filter loaded, %s",
	          (unsigned)w->drop->uid, (unsigned)w->drop->gid,
	          confined ? "file system confined to the cache directory (Landlock)"
	                   : "no Landlock in this kernel: files fenced by seccomp only");
}

/*
 * Before the link gets an address: the parameters must not take over
 * anything the host already routes (tpolicy.h).  The parent, which keeps
 * a view of the host's routes (hostcache.h), checks them: a refused
 * prefix never gets even the link's own prefix route.  The parent checks
 * again before it installs routing.
 */
#define PARAMS_CHECK_WAIT_MS 10000

static void params_check_host(struct worker *w, const struct tunnel_conf *tc,
                              const struct ipc_conf *ic)
{
	struct ipc_up q = {0};
	struct ipc_verdict v = {0};
	int type;

	q.ifindex = (int)if_nametoindex(tc->name); /* a sit link left from our last run */
	snprintf(q.ifname, sizeof(q.ifname), "%s", tc->name);
	q.params = tc->params;
	explicit_bzero(q.params.password, sizeof(q.params.password));
	type = ipc_send(w->ipc_fd, IPC_W_CHECK, &q, sizeof(q));
	if (type == 0)
		type = ipc_recv_wait(w->ipc_fd, IPC_P_CHECKED, &v, sizeof(v), PARAMS_CHECK_WAIT_MS);
	v.reason[sizeof(v.reason) - 1] = '\0';
	if (type != IPC_P_CHECKED || (v.err < 0 && v.err != -EADDRINUSE && v.err != -EINVAL)) {
		if (w->cache_dirfd >= 0)
			close(w->cache_dirfd);
		w->cache_dirfd = -1; /* not the parameters' fault: keep the cache */
		if (type == -ETIMEDOUT)
			worker_retry(
			    w, "%s: no answer from the parent to the parameter check within %d s",
			    tc->name, PARAMS_CHECK_WAIT_MS / 1000);
		if (type != IPC_P_CHECKED)
			worker_fail(w, "%s: the parent did not answer the parameter check (%s)",
			            tc->name, type < 0 ? strerror(-type) : "another message");
		/* It could not read the host's routes: that can go away. */
		worker_retry(w, "%s", v.reason);
	}
	/* Say where the values were read: a fetch just now, or the cache file from before. */
	if (v.err < 0 && tc->tic && ic->fresh_fetch)
		worker_fail(w,
		            "refused the parameters of %s from TIC server %s (cache file "
		            "%s/" CACHE_DIR "/%s): %s",
		            tc->id, tc->account.server, ic->state_dir, tc->id, v.reason);
	if (v.err < 0 && tc->tic)
		worker_fail(
		    w, "refused the parameters of %s from the cache file %s/" CACHE_DIR "/%s: %s",
		    tc->id, ic->state_dir, tc->id, v.reason);
	if (v.err < 0)
		worker_fail(w, "refused the parameters of %s: %s", tc->file, v.reason);
}

/*
 * The tunnel's prefix has no route in the main table (its address is added
 * without one): packets from the tunnel's address reach the link only
 * through the tunnel's table and rule, which the parent installs on our
 * link-up.  No keep-alive, probe or forwarded packet before that.
 */
#define ROUTING_WAIT_MS 10000

static void routing_wait(struct worker *w)
{
	char none;
	int type = ipc_recv_wait(w->ipc_fd, IPC_P_ROUTED, &none, 0, ROUTING_WAIT_MS);

	if (type == IPC_P_ROUTED)
		return;
	if (w->cache_dirfd >= 0)
		close(w->cache_dirfd);
	w->cache_dirfd = -1; /* not the parameters' fault: keep the cache */
	if (type == -ETIMEDOUT)
		worker_fail(w, "%s: the parent did not install the tunnel's routing within %d s",
		            w->tc->name, ROUTING_WAIT_MS / 1000);
	worker_fail(w, "%s: the parent did not confirm the tunnel's routing (%s)", w->tc->name,
	            type < 0 ? strerror(-type) : ipc_type_name(type));
}

void worker_main(const char *name, int ipc_fd)
{
	static struct ipc_conf ic;
	struct tunnel_conf *tc = &ic.conf;
	struct worker w = {.tc = tc,
	                   .drop = &ic.drop,
	                   .state_dir = ic.state_dir,
	                   .cache_dirfd = -1,
	                   .ipc_fd = ipc_fd,
	                   .tun_fd = -1,
	                   .wire_fd = -1,
	                   .hb_fd = {-1, -1},
	                   .probe_fd = -1,
	                   .confirm_fd = -1,
	                   .rx_rl = LOG_RATELIMIT_INIT(60, 3),
	                   .ipc_rl = LOG_RATELIMIT_INIT(60, 3),
	                   .held_rl = LOG_RATELIMIT_INIT(600, 1),
	                   .drop_rl = LOG_RATELIMIT_INIT(60, 3),
	                   .sig_rl = LOG_RATELIMIT_INIT(600, 1)};
	struct ipc_up up = {0};
	char offs[64];
	int err;

	w.c = &w.counters;
	log_set_tag(name);
	/* SIGHUP is the parent's (reload); a hangup of our group must not end us. */
	signal(SIGHUP, SIG_IGN);
	conf_receive(&w, &ic);
	if (strcmp(tc->name, name) != 0)
		fatalx("parent sent tunnel %s to the worker of %s", tc->name, name);
	if (tc->tic)
		params_from_cache(&w, tc, &ic);
	params_check_host(&w, tc, &ic);
	err = netcfg_open(&w.nc);
	if (err < 0)
		worker_retry(&w, "rtnetlink: %s", strerror(-err));
	path_mtu_learn(&w, tc);
	link_configure(&w);
	datapath_start(&w);
#ifdef AICCUD_TEST_HOOKS
	testhooks_pause(w.state_dir, tc->name, "configured");
#endif
	privileges_drop(&w);
	up.ifindex = w.ifindex;
#ifdef AICCUD_TEST_HOOKS
	up.ifindex = testhooks_up_ifindex(tc->name, up.ifindex);
	testhooks_before_up(tc->name, ipc_fd);
#endif
	snprintf(up.ifname, sizeof(up.ifname), "%s", tc->name);
	up.params = tc->params;
	up.path_mtu = tc->path_mtu;
	explicit_bzero(up.params.password, sizeof(up.params.password));
	if (ipc_send(ipc_fd, IPC_W_UP, &up, sizeof(up)) < 0)
		fatal("telling the parent the link is up");
	routing_wait(&w);
#ifdef AICCUD_TEST_HOOKS
	{
		struct ipc_priv_req readd = {.op = IPC_PRIV_REPAIR,
		                             .what = IPC_REPAIR_READD,
		                             .ifindex = w.ifindex,
		                             .addr = tc->params.ipv6_local,
		                             .prefix_len = tc->params.prefix_len};

		testhooks_after_up(tc->name, ipc_fd, &readd);
	}
#endif
	/* What setting up needed (the seccomp filter's build, netlink buffers)
	 * is freed: give it back, a thousand workers each keep only their own. */
	malloc_trim(0);
	log_info("link %s up (ifindex %d), %s to %s, %s data path%s%s", tc->name, w.ifindex,
	         tunnel_type_name(tc->params.type), inet_ntoa(tc->params.ipv4_pop),
	         tunnel_datapath_name(w.c->datapath), w.kernel_sit ? "" : ", offloads ",
	         w.kernel_sit ? "" : datapath_offload_name(w.c->offload, offs, sizeof(offs)));
	loop_run(&w);
	send_counters(&w);
	datapath_free(&w.dp);
	p41_free(&w.p41);
	if (w.probe_fd >= 0)
		close(w.probe_fd);
	if (w.confirm_fd >= 0)
		close(w.confirm_fd);
	for (int i = 0; i < WORKER_HB_SOCKETS; i++)
		if (w.hb_fd[i] >= 0)
			close(w.hb_fd[i]);
	if (w.cache_dirfd >= 0)
		close(w.cache_dirfd);
	explicit_bzero(tc->params.password, sizeof(tc->params.password));
	worker_cleanup(&w);
	netcfg_close(w.nc);
	exit(w.exit_code);
}
