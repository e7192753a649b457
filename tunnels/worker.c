/* The worker process's event loop: the only file in tunnels/ that owns one. */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <ev.h>

#include "ayiya.h"
#include "datapath.h"
#include "ipc.h"
#include "log.h"
#include "netcfg.h"

/* The TUN queue: the real client's 500 packets lost bursts. */
#define WORKER_TUN_QLEN       1000
#define WORKER_COUNTER_PERIOD 1.0

struct worker {
	const struct tunnel_conf *tc;
	int ipc_fd;
	int tun_fd;
	int ifindex;
	struct datapath dp;
	ev_io tun_w, udp_w, ipc_w;
	ev_timer keepalive_w, counters_w;
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

static void worker_fail(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void worker_fail(struct worker *w, const char *fmt, ...)
{
	struct ipc_failed f = {{0}};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f.reason, sizeof(f.reason), fmt, ap);
	va_end(ap);
	log_warnx("%s", f.reason);
	ipc_send(w->ipc_fd, IPC_W_FAILED, &f, sizeof(f));
	exit(1);
}

static uint32_t now_epoch(void)
{
	return (uint32_t)time(NULL);
}

static void send_counters(struct worker *w)
{
	if (ipc_send(w->ipc_fd, IPC_W_COUNTERS, &w->dp.c, sizeof(w->dp.c)) < 0 && errno != EAGAIN)
		log_debug("counters not sent");
}

static void on_tun(EV_P_ ev_io *io, int revents)
{
	struct worker *w = io->data;
	int n;

	(void)revents;
	n = datapath_from_tun(&w->dp, now_epoch());
	if (n < 0) {
		errno = -n;
		log_warn("reading from %s", w->tc->name);
		w->exit_code = 1;
		ev_break(EV_A_ EVBREAK_ALL);
	}
}

static void on_udp(EV_P_ ev_io *io, int revents)
{
	struct worker *w = io->data;
	int n;

	(void)revents;
	n = datapath_from_udp(&w->dp, now_epoch());
	if (n < 0) {
		errno = -n;
		log_warn("receiving from PoP %s", inet_ntoa(w->tc->params.ipv4_pop));
	}
}

static void on_keepalive(EV_P_ ev_timer *t, int revents)
{
	struct worker *w = t->data;
	int err;

	(void)revents;
	(void)loop;
	err = datapath_keepalive(&w->dp, now_epoch());
	if (err < 0) {
		errno = -err;
		log_warn("keep-alive to PoP %s", inet_ntoa(w->tc->params.ipv4_pop));
	}
}

static void on_counters(EV_P_ ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	send_counters(t->data);
}

static void on_ipc(EV_P_ ev_io *io, int revents)
{
	struct worker *w = io->data;
	unsigned char buf[IPC_MSG_MAX];
	const void *payload;
	int type;

	(void)revents;
	while ((type = ipc_recv(w->ipc_fd, buf, sizeof(buf), &payload)) != -EAGAIN) {
		if (type == 0 || (type < 0 && type != -EBADMSG)) {
			/* The parent is gone: nobody owns our routing any more. */
			log_warnx("lost the parent; stopping");
			ev_break(EV_A_ EVBREAK_ALL);
			return;
		}
		if (type == IPC_P_COUNTERS_REQ)
			send_counters(w);
		else
			log_warnx("unexpected message %d from the parent", type);
	}
}

static void on_term(EV_P_ ev_signal *s, int revents)
{
	(void)s;
	(void)revents;
	ev_break(EV_A_ EVBREAK_ALL);
}

static void link_configure(struct worker *w)
{
	const struct tunnel_conf *tc = w->tc;
	struct netcfg_addr a = {.prefix_len = tc->params.prefix_len, .nodad = true};
	struct netcfg *nc;
	uint32_t mtu = tunnel_mtu(tc);
	int err;

	err = netcfg_open(&nc);
	if (err < 0)
		worker_fail(w, "rtnetlink: %s", strerror(-err));
	w->tun_fd = netcfg_tun_open(tc->name, WORKER_TUN_QLEN, &w->ifindex);
	if (w->tun_fd < 0)
		worker_fail(w, "cannot create TUN link %s: %s", tc->name, strerror(-w->tun_fd));
	a.ifindex = w->ifindex;
	err = netcfg_link_set(nc, w->ifindex, false, mtu);
	if (err < 0)
		worker_fail(w, "cannot set MTU %u on %s: %s %s", mtu, tc->name, strerror(-err),
		            netcfg_errmsg(nc));
	a.addr = tc->params.ipv6_local;
	err = netcfg_addr_add(nc, &a);
	if (err >= 0) {
		worker_link_local(&tc->params.ipv6_local, &a.addr);
		a.prefix_len = 64;
		err = netcfg_addr_add(nc, &a);
	}
	if (err < 0)
		worker_fail(w, "cannot add addresses to %s: %s %s", tc->name, strerror(-err),
		            netcfg_errmsg(nc));
	err = netcfg_link_set(nc, w->ifindex, true, 0);
	if (err < 0)
		worker_fail(w, "cannot bring %s up: %s %s", tc->name, strerror(-err),
		            netcfg_errmsg(nc));
	netcfg_close(nc);
}

static void datapath_start(struct worker *w)
{
	const struct tunnel_params *p = &w->tc->params;
	int udp = datapath_udp_open(&p->ipv4_pop, AYIYA_PORT);
	int err;

	if (udp < 0)
		worker_fail(w, "cannot open UDP socket to PoP %s: %s", inet_ntoa(p->ipv4_pop),
		            strerror(-udp));
	err = datapath_init(&w->dp, w->tun_fd, udp, p, tunnel_mtu(w->tc));
	if (err < 0)
		worker_fail(w, "cannot set up the AYIYA data path: %s", strerror(-err));
}

static void loop_run(struct worker *w)
{
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	double interval = w->tc->params.heartbeat_interval;

	ev_io_init(&w->tun_w, on_tun, w->tun_fd, EV_READ);
	ev_io_init(&w->udp_w, on_udp, w->dp.udp_fd, EV_READ);
	ev_io_init(&w->ipc_w, on_ipc, w->ipc_fd, EV_READ);
	/* First keep-alive at once: the PoP learns our address from it. */
	ev_timer_init(&w->keepalive_w, on_keepalive, 0., interval);
	ev_timer_init(&w->counters_w, on_counters, WORKER_COUNTER_PERIOD, WORKER_COUNTER_PERIOD);
	ev_signal_init(&w->term_w, on_term, SIGTERM);
	ev_signal_init(&w->int_w, on_term, SIGINT);
	w->tun_w.data = w->udp_w.data = w->ipc_w.data = w;
	w->keepalive_w.data = w->counters_w.data = w;
	ev_io_start(loop, &w->tun_w);
	ev_io_start(loop, &w->udp_w);
	ev_io_start(loop, &w->ipc_w);
	ev_timer_start(loop, &w->keepalive_w);
	ev_timer_start(loop, &w->counters_w);
	ev_signal_start(loop, &w->term_w);
	ev_signal_start(loop, &w->int_w);
	ev_run(loop, 0);
}

/* Wait (bounded) for the parent to send the tunnel to run. */
static void conf_receive(struct worker *w, struct tunnel_conf *tc)
{
	unsigned char buf[IPC_MSG_MAX];
	struct pollfd pfd = {.fd = w->ipc_fd, .events = POLLIN};
	const void *payload;
	int type;

	if (poll(&pfd, 1, 10000) != 1)
		fatalx("no configuration from the parent within 10 s");
	type = ipc_recv(w->ipc_fd, buf, sizeof(buf), &payload);
	if (type != IPC_P_CONF)
		fatalx("expected the tunnel configuration from the parent, got %d", type);
	memcpy(tc, payload, sizeof(*tc));
	tc->name[sizeof(tc->name) - 1] = '\0';
}

void worker_main(const char *name, int ipc_fd)
{
	static struct tunnel_conf conf;
	struct worker w = {.tc = &conf, .ipc_fd = ipc_fd, .tun_fd = -1};
	const struct tunnel_conf *tc = &conf;
	struct ipc_up up = {0};

	log_set_tag(name);
	conf_receive(&w, &conf);
	if (strcmp(conf.name, name) != 0)
		fatalx("parent sent tunnel %s to the worker of %s", conf.name, name);
	if (tc->params.type != TUNNEL_AYIYA)
		worker_fail(&w, "tunnel type %s is not supported yet",
		            tunnel_type_name(tc->params.type));
	link_configure(&w);
	datapath_start(&w);
	up.ifindex = w.ifindex;
	snprintf(up.ifname, sizeof(up.ifname), "%s", tc->name);
	if (ipc_send(ipc_fd, IPC_W_UP, &up, sizeof(up)) < 0)
		fatal("telling the parent the link is up");
	log_info("link %s up (ifindex %d), AYIYA to %s", tc->name, w.ifindex,
	         inet_ntoa(tc->params.ipv4_pop));
	loop_run(&w);
	send_counters(&w);
	datapath_free(&w.dp);
	explicit_bzero(&conf.params.password, sizeof(conf.params.password));
	/* Closing the TUN fd removes the link and with it its addresses. */
	close(w.tun_fd);
	exit(w.exit_code);
}
