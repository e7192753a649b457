/*
 * A fast PoP endpoint for bench_datapath: one AYIYA or one proto-41 tunnel,
 * built from the project's own data path and codec (which the conformance
 * tests tie to the real PoP), with offloads, so that the PoP is not what
 * limits the benchmark.  Not a PoP simulator: no TIC, no heartbeats, one
 * tunnel, the client's address learnt from its first valid datagram.
 *
 *   bench_pop ayiya IFNAME LISTEN-IPV4 PASSWORD CLIENT-IPV6 POP-IPV6 MTU READYFILE
 *   bench_pop p41   IFNAME CLIENT-IPV4 POP-IPV6 MTU READYFILE
 *   bench_pop sha1  MTU    (the floor: AYIYA sealing speed on this CPU)
 *
 * With --sixxsd before the mode, the endpoint moves packets the way the
 * historic PoP does (PROTOCOLS.md 7.2): a plain TUN, one read and one
 * send() per packet toward the client, one recv() and one TUN write per
 * datagram from it; no segmentation offload, no UDP GRO, no batching.  The
 * client then receives one datagram per packet unless its own kernel
 * coalesces them.
 *
 * Creates the TUN IFNAME holding POP-IPV6/64, writes READYFILE, and moves
 * packets until SIGTERM.  Needs root (TUN, raw socket) in the PoP's
 * namespace.  Prints its counters on exit.
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ayiya.h"
#include "datapath.h"
#include "netcfg.h"
#include "proto41.h"

static volatile sig_atomic_t stop;
static bool sixxsd; /* --sixxsd: one datagram per system call */

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int die(const char *what, int err)
{
	fprintf(stderr, "bench_pop: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* The TUN with the PoP's address, up, at the tunnel MTU. */
static int pop_tun(const char *ifname, const char *pop6, uint32_t mtu, unsigned *offloads)
{
	struct netcfg *nc;
	struct netcfg_addr a = {.prefix_len = 64, .nodad = true};
	int ifindex, fd, err;

	*offloads = 0;
	fd = sixxsd ? netcfg_tun_open(ifname, 1000, &ifindex)
	            : netcfg_tun_open_offload(ifname, 1000, &ifindex, offloads);
	if (fd < 0)
		die("TUN", fd);
	if ((err = netcfg_open(&nc)) < 0)
		die("rtnetlink", err);
	a.ifindex = ifindex;
	inet_pton(AF_INET6, pop6, &a.addr);
	if ((err = netcfg_link_set(nc, ifindex, false, mtu)) < 0 ||
	    (err = netcfg_addr_add(nc, &a)) < 0 ||
	    (err = netcfg_link_set(nc, ifindex, true, 0)) < 0)
		die("configuring the TUN", err);
	netcfg_close(nc);
	return fd;
}

static void ready(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die(path, errno);
	fclose(f);
}

static void print_counters(const char *what, const struct tunnel_counters *c)
{
	char off[64], line[512];
	int n = snprintf(line, sizeof(line), "bench_pop %s (%s): tx %llu rx %llu packets", what,
	                 datapath_offload_name(c->offload, off, sizeof(off)),
	                 (unsigned long long)c->tx_packets, (unsigned long long)c->rx_packets);

	for (int r = 0; r < DROP_REASON_COUNT; r++)
		if (c->drops[r] && n > 0 && (size_t)n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", %s %llu",
			              drop_reason_name(r), (unsigned long long)c->drops[r]);
	/* One write: the two endpoints share the log. */
	fprintf(stderr, "%s\n", line);
}

/* Wait for the client's first datagram on a bound socket and connect to its sender. */
static void learn_client(int fd)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	uint8_t buf[2048];
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (!stop) {
		if (poll(&p, 1, 500) <= 0)
			continue;
		if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) >=
		    AYIYA_HDR_LEN)
			break;
		len = sizeof(from);
	}
	if (!stop && connect(fd, (struct sockaddr *)&from, sizeof(from)) < 0)
		die("connect to the client", errno);
}

/*
 * The historic PoP's AYIYA loop: per packet from the TUN one read and one
 * send(); per datagram from the client one recv() and one write().
 */
static void sixxsd_ayiya(struct ayiya *ay, int tun, int udp, const struct tunnel_params *p,
                         struct tunnel_counters *c)
{
	static uint8_t out[AYIYA_HDR_LEN + 65536], in[AYIYA_HDR_LEN + 65536];

	while (!stop) {
		struct pollfd fds[2] = {{.fd = tun, .events = POLLIN},
		                        {.fd = udp, .events = POLLIN}};
		uint32_t now = (uint32_t)time(NULL);

		if (poll(fds, 2, 500) <= 0)
			continue;
		/* As many as are waiting, one system call each, then the other way. */
		for (int i = 0; i < 64 && (fds[0].revents & POLLIN); i++) {
			ssize_t n = read(tun, out + AYIYA_HDR_LEN, sizeof(out) - AYIYA_HDR_LEN);
			size_t len;

			if (n < 0)
				break;
			len = ayiya_seal(ay, out, (size_t)n, AYIYA_OP_FORWARD, AYIYA_NH_IPV6,
			                 &p->ipv6_local, now);
			if (len && send(udp, out, len, 0) == (ssize_t)len)
				c->tx_packets++;
			else
				c->drops[DROP_SEND]++;
		}
		for (int i = 0; i < 64 && (fds[1].revents & POLLIN); i++) {
			ssize_t n = recv(udp, in, sizeof(in), MSG_DONTWAIT);
			struct ayiya_view v;
			enum ayiya_verdict r;

			if (n < 0)
				break;
			r = ayiya_open(ay, in, (size_t)n, &p->ipv6_pop, 128, now, &v);
			if (r != AYIYA_OK) {
				c->drops[DROP_SIGNATURE]++;
				continue;
			}
			if (v.opcode != AYIYA_OP_FORWARD || v.payload_len == 0)
				continue;
			if (write(tun, v.payload, v.payload_len) == (ssize_t)v.payload_len)
				c->rx_packets++;
			else
				c->drops[DROP_TUN_WRITE]++;
		}
	}
}

static int run_ayiya(char **argv)
{
	struct tunnel_params p = {.type = TUNNEL_AYIYA};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(AYIYA_PORT)};
	static struct tunnel_counters c;
	static struct datapath dp;
	uint32_t mtu = (uint32_t)atoi(argv[7]);
	unsigned offloads;
	int tun = pop_tun(argv[2], argv[6], mtu, &offloads), udp, err;

	inet_pton(AF_INET, argv[3], &sin.sin_addr);
	snprintf(p.password, sizeof(p.password), "%s", argv[4]);
	/* We seal as the PoP and accept only the client. */
	inet_pton(AF_INET6, argv[6], &p.ipv6_local);
	inet_pton(AF_INET6, argv[5], &p.ipv6_pop);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (udp < 0 || bind(udp, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("UDP socket", errno);
	datapath_sockbuf(udp);
	ready(argv[8]);
	learn_client(udp);
	if (sixxsd) {
		struct ayiya *ay = ayiya_new(p.password);

		if (!ay)
			die("AYIYA", ENOMEM);
		sixxsd_ayiya(ay, tun, udp, &p, &c);
		print_counters("ayiya, one datagram per call", &c);
		ayiya_free(ay);
		return 0;
	}
	err = datapath_init(&dp, tun, udp, &p, mtu, &c, offloads, true, false);
	if (err < 0)
		die("data path", err);
	while (!stop) {
		struct pollfd fds[2] = {{.fd = tun, .events = POLLIN},
		                        {.fd = udp, .events = POLLIN}};
		uint32_t now = (uint32_t)time(NULL);

		if (poll(fds, 2, 500) <= 0)
			continue;
		if (fds[0].revents & POLLIN)
			datapath_from_tun(&dp, now);
		if (fds[1].revents & POLLIN)
			datapath_from_udp(&dp, now);
	}
	print_counters("ayiya", &c);
	datapath_free(&dp);
	return 0;
}

/* The historic PoP's 6in4 loop: one read and one sendto() per packet, one recv() and write() per
 * datagram. */
static void sixxsd_p41(struct p41 *p, int tun, int raw, struct tunnel_counters *c)
{
	static uint8_t buf[65536];
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = p->pop};

	while (!stop) {
		struct pollfd fds[2] = {{.fd = tun, .events = POLLIN},
		                        {.fd = raw, .events = POLLIN}};

		if (poll(fds, 2, 500) <= 0)
			continue;
		for (int i = 0; i < 64 && (fds[0].revents & POLLIN); i++) {
			ssize_t n = read(tun, buf, sizeof(buf));

			if (n < 0)
				break;
			if (sendto(raw, buf, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) == n)
				c->tx_packets++;
			else
				c->drops[DROP_SEND]++;
		}
		for (int i = 0; i < 64 && (fds[1].revents & POLLIN); i++) {
			ssize_t n = recv(raw, buf, sizeof(buf), MSG_DONTWAIT);
			enum drop_reason why;
			size_t len;
			const uint8_t *inner;

			if (n < 0)
				break;
			inner = p41_decap(buf, (size_t)n, p->pop, &len, &why);
			if (!inner || !p41_ours(p, inner))
				continue;
			if (write(tun, inner, len) == (ssize_t)len)
				c->rx_packets++;
			else
				c->drops[DROP_TUN_WRITE]++;
		}
	}
}

static int run_p41(char **argv)
{
	static struct tunnel_conf tc;
	static struct tunnel_counters c;
	static struct p41 p;
	struct in6_addr ll = {{{0}}};
	uint32_t mtu = (uint32_t)atoi(argv[5]);
	unsigned offloads;
	int tun = pop_tun(argv[2], argv[4], mtu, &offloads), raw = p41_open_raw(), err;

	if (raw < 0)
		die("raw proto-41 socket", raw);
	/* Ours: the tunnel's /64 (the PoP's side of it); the peer: the client's IPv4. */
	inet_pton(AF_INET, argv[3], &tc.params.ipv4_pop);
	inet_pton(AF_INET6, argv[4], &tc.params.ipv6_local);
	tc.params.prefix_len = 64;
	tc.params.mtu = mtu;
	err = p41_init(&p, tun, raw, &tc, &ll, &c, offloads);
	if (err < 0)
		die("data path", err);
	ready(argv[6]);
	if (sixxsd) {
		sixxsd_p41(&p, tun, raw, &c);
		print_counters("proto-41, one datagram per call", &c);
		p41_free(&p);
		return 0;
	}
	while (!stop) {
		struct pollfd fds[2] = {{.fd = tun, .events = POLLIN},
		                        {.fd = raw, .events = POLLIN}};

		if (poll(fds, 2, 500) <= 0)
			continue;
		if (fds[0].revents & POLLIN)
			p41_from_tun(&p);
		if (fds[1].revents & POLLIN)
			p41_from_raw(&p);
	}
	print_counters("proto-41", &c);
	p41_free(&p);
	return 0;
}

/* What signing alone costs: ayiya_seal over full-size datagrams, in GB/s and CPU-s per GB. */
static int run_sha1(char **argv)
{
	size_t payload = (size_t)atoi(argv[2]);
	uint8_t *pkt = calloc(1, AYIYA_HDR_LEN + payload);
	struct ayiya *ay = ayiya_new("bench-password");
	struct in6_addr id = IN6ADDR_LOOPBACK_INIT;
	struct timespec t0, t1;
	long n = 0;
	double s;

	if (!pkt || !ay)
		die("allocating", ENOMEM);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	do {
		for (int i = 0; i < 1000; i++)
			ayiya_seal(ay, pkt, payload, AYIYA_OP_FORWARD, AYIYA_NH_IPV6, &id, 1);
		n += 1000;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while (s < 1.0);
	/* Per GB of IPv6 payload, as the data-path figures are. */
	printf("%.3f %.3f\n", (double)n * (double)payload / s / 1e9,
	       s / ((double)n * (double)payload / 1e9));
	ayiya_free(ay);
	free(pkt);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_term};

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (argc > 1 && strcmp(argv[1], "--sixxsd") == 0) {
		sixxsd = true;
		argv++;
		argc--;
	}
	if (argc == 9 && strcmp(argv[1], "ayiya") == 0)
		return run_ayiya(argv);
	if (argc == 7 && strcmp(argv[1], "p41") == 0)
		return run_p41(argv);
	if (argc == 3 && strcmp(argv[1], "sha1") == 0)
		return run_sha1(argv);
	fprintf(
	    stderr,
	    "usage: bench_pop [--sixxsd] ayiya IFNAME LISTEN-IPV4 PASSWORD CLIENT-IPV6 POP-IPV6 "
	    "MTU READYFILE\n       bench_pop [--sixxsd] p41 IFNAME CLIENT-IPV4 POP-IPV6 MTU "
	    "READYFILE\n       bench_pop sha1 MTU\n");
	return 2;
}
