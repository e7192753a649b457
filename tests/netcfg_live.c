/*
 * netcfg against a real kernel.  Runs as root inside a network namespace
 * of its own (ctest starts it under `unshare --net`), so nothing it does
 * reaches the host; the namespace vanishes with the process.
 *
 * What the kernel reports is cross-checked through independent paths
 * where one exists (ioctl for MTU and queue length), and every step says
 * what it checked.
 */
#include "netcfg.h"
#include "live_check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/rtnetlink.h>

#define TUN_NAME  "aiccutest0"
#define TABLE     200
#define BIG_TABLE 1000
#define RULE_PRIO 1000

static void must(int err, struct netcfg *nc, const char *what)
{
	live_check(err >= 0, "%s: %s %s", what, err < 0 ? strerror(-err) : "done",
	           err < 0 && nc ? netcfg_errmsg(nc) : "");
	if (err < 0) {
		printf("cannot go on\n");
		exit(1);
	}
}

static struct in6_addr addr6(const char *text)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, text, &a) != 1)
		abort();
	return a;
}

/* ---- list collectors ---- */

struct addr_seen {
	struct in6_addr want;
	int count;
	struct netcfg_addr last;
};

static int addr_cb(const struct netcfg_addr *a, void *arg)
{
	struct addr_seen *s = arg;

	if (memcmp(&a->addr, &s->want, sizeof(a->addr)) == 0) {
		s->count++;
		s->last = *a;
	}
	return 0;
}

struct route_seen {
	int count;
	int ours;  /* protocol NETCFG_PROTO */
	int other; /* any other protocol */
	int default_routes;
	struct netcfg_route last_default;
};

static int route_cb(const struct netcfg_route *r, void *arg)
{
	struct route_seen *s = arg;

	s->count++;
	if (r->protocol == NETCFG_PROTO)
		s->ours++;
	else
		s->other++;
	if (r->dst_len == 0) {
		s->default_routes++;
		s->last_default = *r;
	}
	return 0;
}

struct rule_seen {
	struct netcfg_rule want;
	int count;   /* rules identical to want */
	int total;   /* every rule listed */
	int foreign; /* protocol other than NETCFG_PROTO */
};

static int rule_cb(const struct netcfg_rule *r, void *arg)
{
	struct rule_seen *s = arg;

	s->total++;
	if (r->protocol != NETCFG_PROTO)
		s->foreign++;
	if (r->src_len == s->want.src_len && r->table == s->want.table &&
	    r->priority == s->want.priority && r->protocol == s->want.protocol &&
	    memcmp(&r->src, &s->want.src, sizeof(r->src)) == 0)
		s->count++;
	return 0;
}

static int stop_cb(const struct netcfg_rule *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return -ECANCELED;
}

/* ---- monitor ---- */

struct events {
	int ifindex;
	int link_new, link_del;
	bool link_up_seen;
	int addr_new, addr_del;
	int route_new, route_del;
	int rule_new, rule_del;
	struct netcfg_rule rule_want;
};

static void ev_link(const struct netcfg_link *l, bool deleted, void *arg)
{
	struct events *e = arg;

	if (l->ifindex != e->ifindex || strcmp(l->name, TUN_NAME) != 0)
		return;
	if (deleted)
		e->link_del++;
	else
		e->link_new++;
	if (!deleted && l->up)
		e->link_up_seen = true;
}

static void ev_addr(const struct netcfg_addr *a, bool deleted, void *arg)
{
	struct events *e = arg;

	if (a->ifindex != e->ifindex)
		return;
	if (deleted)
		e->addr_del++;
	else
		e->addr_new++;
}

static void ev_route(const struct netcfg_route *r, bool deleted, void *arg)
{
	struct events *e = arg;

	if (r->table != TABLE || r->protocol != NETCFG_PROTO)
		return;
	if (deleted)
		e->route_del++;
	else
		e->route_new++;
}

static void ev_rule(const struct netcfg_rule *r, bool deleted, void *arg)
{
	struct events *e = arg;

	if (r->table != e->rule_want.table || r->priority != e->rule_want.priority ||
	    r->src_len != e->rule_want.src_len ||
	    memcmp(&r->src, &e->rule_want.src, sizeof(r->src)) != 0)
		return;
	if (deleted)
		e->rule_del++;
	else
		e->rule_new++;
}

static const struct netcfg_monitor_ops ev_ops = {
    .link = ev_link, .addr = ev_addr, .route = ev_route, .rule = ev_rule};

/* Notifications are queued before the ACK, but wait a little anyway. */
static int monitor_drain(struct netcfg_monitor *m, struct events *e)
{
	struct pollfd p = {.fd = netcfg_monitor_fd(m), .events = POLLIN};
	int total = 0, n;

	while (poll(&p, 1, 200) > 0) {
		n = netcfg_monitor_read(m, &ev_ops, e);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

/* ---- steps ---- */

/* netcfg_route_kind sees an address's local route come and go. */
static void step_route_kind(struct netcfg *nc)
{
	struct netcfg_addr a = {.prefix_len = 64, .nodad = true};
	int fd = netcfg_tun_open("acdkind0", 0, &a.ifindex), kind;

	if (fd < 0) {
		live_check(false, "TUN for the route lookup: %s", strerror(-fd));
		return;
	}
	a.addr = addr6("2001:db8:c::2");
	must(netcfg_link_set(nc, a.ifindex, true, 1280), nc, "lookup link up");
	must(netcfg_addr_add(nc, &a), nc, "lookup address added");
	/* The kernel inserts the local route from a work item, moments later. */
	for (int i = 0; i < 100 && (kind = netcfg_route_kind(nc, &a.addr)) != RTN_LOCAL; i++)
		usleep(10000);
	live_check(kind == RTN_LOCAL, "the kernel routes 2001:db8:c::2 as local (type %d)", kind);
	must(netcfg_addr_del(nc, &a), nc, "lookup address deleted");
	kind = netcfg_route_kind(nc, &a.addr);
	live_check(kind != RTN_LOCAL, "without the address it is not local (type %d)", kind);
	close(fd);
}

/*
 * Issue 20: a worker finds its IPv4 source with RTM_GETROUTE (it may not
 * connect a UDP socket after its drop): the same answer as the connect,
 * and a failure where there is no route.
 */
static void step_route_source4(struct netcfg *nc)
{
	struct in_addr dst, by_nl = {0}, by_udp = {0};
	int lo = netcfg_link_index(nc, "lo"), r1, r2;

	if (lo > 0)
		must(netcfg_link_set(nc, lo, true, 0), nc, "lo up");
	inet_pton(AF_INET, "127.0.0.2", &dst);
	r1 = netcfg_route_source4(nc, dst, &by_nl);
	r2 = netcfg_ipv4_source(dst, 9, &by_udp);
	live_check(r1 == 0 && r2 == 0 && by_nl.s_addr == by_udp.s_addr &&
	               by_nl.s_addr == htonl(INADDR_LOOPBACK),
	           "source toward 127.0.0.2: rtnetlink %s, UDP connect %s (%d, %d)",
	           inet_ntoa(by_nl), r2 == 0 ? "agrees" : "failed", r1, r2);
	inet_pton(AF_INET, "192.0.2.1", &dst);
	r1 = netcfg_route_source4(nc, dst, &by_nl);
	r2 = netcfg_ipv4_source(dst, 9, &by_udp);
	live_check(r1 < 0 && r2 < 0, "no route to 192.0.2.1 in this namespace: both fail (%s, %s)",
	           strerror(-r1), strerror(-r2));
}

/* Three TUN links in a group go with one deletion; a link outside it stays. */
static void step_group(struct netcfg *nc, int outside)
{
	int fd[3], idx[3];
	char name[IFNAMSIZ];

	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "acdgrp%d", i);
		fd[i] = netcfg_tun_open(name, 0, &idx[i]);
		must(fd[i], NULL, "TUN for the group");
		must(netcfg_link_set_group(nc, idx[i], 0x61696363u), nc, "link put in group");
	}
	live_check(netcfg_link_set_group(nc, idx[0], 0) == -EINVAL, "group 0 refused");
	must(netcfg_group_del(nc, 0x61696363u), nc, "group deleted");
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "acdgrp%d", i);
		live_check(if_nametoindex(name) == 0, "%s went with its group", name);
		close(fd[i]);
	}
	live_check((int)if_nametoindex(TUN_NAME) == outside, "the link outside the group stays");
	must(netcfg_group_del(nc, 0x61696363u), nc, "an empty group deleted (nothing to do)");
}

static void step_link(struct netcfg *nc, int ifindex)
{
	struct netcfg_link l;
	struct ifreq ifr;
	int err;

	must(netcfg_link_set(nc, ifindex, true, 1280), nc, "link up, MTU 1280");
	err = live_ioctl_link(TUN_NAME, SIOCGIFMTU, &ifr);
	live_check(err == 0 && ifr.ifr_mtu == 1280, "SIOCGIFMTU says MTU %d (want 1280)",
	           ifr.ifr_mtu);
	err = live_ioctl_link(TUN_NAME, SIOCGIFFLAGS, &ifr);
	live_check(err == 0 && (ifr.ifr_flags & IFF_UP), "SIOCGIFFLAGS says the link is up");
	err = netcfg_link_get(nc, ifindex, NULL, &l);
	live_check(err == 0 && l.ifindex == ifindex && strcmp(l.name, TUN_NAME) == 0 && l.up,
	           "link_get by index: %d %s up=%d running=%d", l.ifindex, l.name, l.up, l.running);
	memset(&l, 0, sizeof(l));
	err = netcfg_link_get(nc, 0, TUN_NAME, &l);
	live_check(err == 0 && l.ifindex == ifindex, "link_get by name: index %d", l.ifindex);
	live_check(netcfg_link_index(nc, TUN_NAME) == ifindex, "link_index(%s) = %d", TUN_NAME,
	           ifindex);
	err = netcfg_link_index(nc, "nosuchlink0");
	live_check(err == -ENODEV,
	           "link_index of a missing link: %s (want ENODEV), kernel says \"%s\"",
	           strerror(-err), netcfg_errmsg(nc));
	err = netcfg_link_set(nc, 999999, true, 0);
	live_check(err == -ENODEV, "link_set on a missing index: %s", strerror(-err));
	err = netcfg_link_del(nc, 999999);
	live_check(err == -ENOENT, "link_del on a missing index: %s (want ENOENT)", strerror(-err));
	/* The kernel explains this refusal in its extended ACK. */
	err = netcfg_link_set(nc, ifindex, true, 10);
	live_check(err == -EINVAL && netcfg_errmsg(nc)[0] != '\0',
	           "MTU 10 refused: %s, kernel says \"%s\"", strerror(-err), netcfg_errmsg(nc));
	must(netcfg_link_set(nc, ifindex, true, 0), nc, "a good request clears the message");
	live_check(netcfg_errmsg(nc)[0] == '\0', "message after success: \"%s\"",
	           netcfg_errmsg(nc));
}

static void step_addr(struct netcfg *nc, int ifindex, bool add)
{
	struct netcfg_addr a = {.ifindex = ifindex, .prefix_len = 64, .nodad = true};
	struct addr_seen seen = {0};
	int err;

	a.addr = addr6("2001:db8:a::2");
	seen.want = a.addr;
	if (add) {
		must(netcfg_addr_add(nc, &a), nc, "address 2001:db8:a::2/64 added");
		must(netcfg_addr_add(nc, &a), nc, "same address added again");
		must(netcfg_addr_list(nc, ifindex, addr_cb, &seen), nc, "address list");
		live_check(seen.count == 1, "address listed %d time(s) (want 1)", seen.count);
		live_check(seen.last.prefix_len == 64 && seen.last.nodad &&
		               seen.last.ifindex == ifindex,
		           "listed as /%u nodad=%d on %d", seen.last.prefix_len, seen.last.nodad,
		           seen.last.ifindex);
		seen.count = 0;
		must(netcfg_addr_list(nc, ifindex + 1000, addr_cb, &seen), nc,
		     "address list, other link");
		live_check(seen.count == 0, "filtered by link: %d listed (want 0)", seen.count);
		return;
	}
	must(netcfg_addr_del(nc, &a), nc, "address deleted");
	err = netcfg_addr_del(nc, &a);
	live_check(err == -ENOENT, "address deleted again: %s (want ENOENT)", strerror(-err));
	must(netcfg_addr_list(nc, 0, addr_cb, &seen), nc, "address list");
	live_check(seen.count == 0, "address listed %d time(s) after delete (want 0)", seen.count);
}

static struct netcfg_route our_route(int ifindex, uint32_t table, uint32_t mtu)
{
	struct netcfg_route r = {.table = table, .ifindex = ifindex, .mtu = mtu};

	r.protocol = NETCFG_PROTO;
	return r;
}

static void step_route_add(struct netcfg *nc, int ifindex)
{
	struct netcfg_route r = our_route(ifindex, TABLE, 1280);
	struct netcfg_route big = our_route(ifindex, BIG_TABLE, 0);
	struct route_seen s = {0};

	must(netcfg_route_add(nc, &r), nc, "default route, table 200, MTU 1280");
	must(netcfg_route_add(nc, &r), nc, "same route again");
	must(netcfg_route_list(nc, TABLE, NETCFG_PROTO, route_cb, &s), nc, "route list 200/157");
	live_check(s.default_routes == 1 && s.count == 1, "%d default route(s) listed (want 1)",
	           s.default_routes);
	live_check(s.last_default.mtu == 1280 && s.last_default.ifindex == ifindex &&
	               s.last_default.table == TABLE,
	           "listed with MTU %u, dev %d, table %u", s.last_default.mtu,
	           s.last_default.ifindex, s.last_default.table);

	r.mtu = 1400;
	must(netcfg_route_add(nc, &r), nc, "same route with MTU 1400");
	memset(&s, 0, sizeof(s));
	must(netcfg_route_list(nc, TABLE, 0, route_cb, &s), nc, "route list 200/any");
	live_check(s.count == 1 && s.last_default.mtu == 1400, "%d route(s), MTU %u (want 1, 1400)",
	           s.count, s.last_default.mtu);
	r.mtu = 1280;
	must(netcfg_route_add(nc, &r), nc, "back to MTU 1280");
	memset(&s, 0, sizeof(s));
	must(netcfg_route_list(nc, TABLE, 0, route_cb, &s), nc, "route list 200/any");
	live_check(s.count == 1 && s.last_default.mtu == 1280, "%d route(s), MTU %u (want 1, 1280)",
	           s.count, s.last_default.mtu);

	/* Table ids above 255 only fit in RTA_TABLE. */
	must(netcfg_route_add(nc, &big), nc, "default route in table 1000");
	memset(&s, 0, sizeof(s));
	must(netcfg_route_list(nc, BIG_TABLE, 0, route_cb, &s), nc, "route list 1000");
	live_check(s.count == 1 && s.last_default.table == BIG_TABLE, "table 1000: %d route(s)",
	           s.count);

	/* Filters: the kernel's own prefix route for the address is in main. */
	memset(&s, 0, sizeof(s));
	must(netcfg_route_list(nc, 0, NETCFG_PROTO, route_cb, &s), nc, "route list any/157");
	live_check(s.count == 2 && s.other == 0,
	           "protocol 157 in all tables: %d (want 2), others %d", s.count, s.other);
	memset(&s, 0, sizeof(s));
	must(netcfg_route_list(nc, 0, 0, route_cb, &s), nc, "route list any/any");
	live_check(s.ours == 2 && s.other >= 1, "all routes: ours %d, kernel's %d (want 2, >=1)",
	           s.ours, s.other);
	memset(&s, 0, sizeof(s));
	must(netcfg_route_list(nc, 0, RTPROT_KERNEL, route_cb, &s), nc, "route list any/kernel");
	live_check(s.ours == 0 && s.other >= 1, "protocol kernel: %d route(s), none of ours",
	           s.other);
}

static void step_route_del(struct netcfg *nc, int ifindex)
{
	struct netcfg_route r = our_route(ifindex, TABLE, 1280);
	struct netcfg_route big = our_route(ifindex, BIG_TABLE, 0);
	struct route_seen s = {0};
	int err;

	must(netcfg_route_del(nc, &r), nc, "route in table 200 deleted");
	err = netcfg_route_del(nc, &r);
	live_check(err == -ENOENT, "deleted again: %s (want ENOENT)", strerror(-err));
	must(netcfg_route_del(nc, &big), nc, "route in table 1000 deleted");
	must(netcfg_route_list(nc, 0, NETCFG_PROTO, route_cb, &s), nc, "route list any/157");
	live_check(s.count == 0, "%d of our routes left (want 0)", s.count);
}

static struct netcfg_rule our_rule(void)
{
	struct netcfg_rule r = {.src_len = 128, .table = TABLE, .priority = RULE_PRIO};

	r.src = addr6("2001:db8:a::2");
	r.protocol = NETCFG_PROTO;
	return r;
}

static void step_rule_add(struct netcfg *nc)
{
	struct rule_seen s = {.want = our_rule()};
	int visited = 0, err;

	must(netcfg_rule_add(nc, &s.want), nc, "rule from 2001:db8:a::2/128 table 200 prio 1000");
	must(netcfg_rule_add(nc, &s.want), nc, "same rule again");
	must(netcfg_rule_list(nc, NETCFG_PROTO, rule_cb, &s), nc, "rule list 157");
	live_check(s.count == 1 && s.total == 1, "rule listed %d time(s) (want exactly 1)",
	           s.count);
	s.count = s.total = s.foreign = 0;
	must(netcfg_rule_list(nc, 0, rule_cb, &s), nc, "rule list any");
	live_check(s.count == 1 && s.foreign >= 2, "all rules: ours %d, kernel's %d (local, main)",
	           s.count, s.foreign);
	err = netcfg_rule_list(nc, 0, stop_cb, &visited);
	live_check(err == -ECANCELED && visited == 1,
	           "a callback's error stops the list (%d visited)", visited);
}

static void step_rule_del(struct netcfg *nc)
{
	struct rule_seen s = {.want = our_rule()};
	int err;

	must(netcfg_rule_del(nc, &s.want), nc, "rule deleted");
	err = netcfg_rule_del(nc, &s.want);
	live_check(err == -ENOENT, "deleted again: %s (want ENOENT)", strerror(-err));
	must(netcfg_rule_list(nc, 0, rule_cb, &s), nc, "rule list any");
	live_check(s.count == 0 && s.total >= 2, "our rule gone (%d), the kernel's stay (%d)",
	           s.count, s.total);
}

static void step_monitor(struct netcfg_monitor *m, struct events *e, const char *when)
{
	int n = monitor_drain(m, e);

	live_check(n >= 0, "monitor read %s: %d event(s)", when, n);
}

/* Lost events must be reported, so that the parent resyncs in full. */
static void step_overrun(struct netcfg *nc, int ifindex)
{
	struct netcfg_monitor *m;
	struct events e = {.ifindex = ifindex};
	int tiny = 1, err = 0, n, i;

	must(netcfg_monitor_open(&m), NULL, "second monitor");
	/* The kernel rounds this up to its minimum: a few messages. */
	setsockopt(netcfg_monitor_fd(m), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny));
	for (i = 0; i < 50 && err == 0; i++)
		err = netcfg_link_set(nc, ifindex, i % 2 == 1, 0);
	live_check(err == 0, "link flapped %d times, ends up", i);
	n = netcfg_monitor_read(m, &ev_ops, &e);
	live_check(n == -ENOBUFS, "tiny monitor buffer: read says %s (want ENOBUFS)",
	           n < 0 ? strerror(-n) : "no loss");
	n = netcfg_monitor_read(m, &ev_ops, &e);
	live_check(n >= 0, "next read works again: %d event(s)", n);
	netcfg_monitor_close(m);
}

/* Counts the numbered addresses (2001:db8:1::/112), not the link-local
 * or the flapper's. */
static int count_addr(const struct netcfg_addr *a, void *arg)
{
	struct in6_addr base = addr6("2001:db8:1::");

	if (memcmp(&a->addr, &base, 14) == 0)
		(*(int *)arg)++;
	return 0;
}

static struct netcfg_addr numbered_addr(int ifindex, int i)
{
	struct netcfg_addr a = {.ifindex = ifindex, .prefix_len = 128, .nodad = true};

	a.addr = addr6("2001:db8:1::");
	a.addr.s6_addr[14] = (uint8_t)(i >> 8);
	a.addr.s6_addr[15] = (uint8_t)i;
	return a;
}

/* Keeps changing the link's addresses until killed. */
static void flapper(int ifindex)
{
	struct netcfg_addr a = numbered_addr(ifindex, 0);
	struct netcfg *c;

	a.addr = addr6("2001:db8:2::1");
	if (netcfg_open(&c) < 0)
		_exit(1);
	/* Often enough to interrupt many dumps, not all of them. */
	for (;;) {
		netcfg_addr_add(c, &a);
		usleep(300);
		netcfg_addr_del(c, &a);
		usleep(300);
	}
}

/*
 * Address dumps that span several datagrams are flagged NLM_F_DUMP_INTR
 * when the addresses change meanwhile.  netcfg must redo such dumps and
 * give up only with -EAGAIN, never mix the answers of two requests up.
 * The kernel does not flag every inconsistent dump (seen here: an address
 * skipped or listed twice in an unflagged dump), so those are reported,
 * not failed: no reader can detect them.
 */
#define MANY_ADDRS 1500
static void step_dump_under_change(struct netcfg *nc)
{
	int ifindex, tun, i, n, err, ok = 0, gave_up = 0, uncaught = 0, failed = 0;
	pid_t pid;

	tun = netcfg_tun_open("aiccutest1", 0, &ifindex);
	must(tun, NULL, "second TUN");
	must(netcfg_link_set(nc, ifindex, true, 1280), nc, "second TUN up");
	for (i = 0, err = 0; i < MANY_ADDRS && err == 0; i++) {
		struct netcfg_addr a = numbered_addr(ifindex, i);

		err = netcfg_addr_add(nc, &a);
	}
	must(err, nc, "1500 addresses added");
	pid = fork();
	if (pid == 0)
		flapper(ifindex);
	must(pid, NULL, "address flapper started");
	for (i = 0; i < 100; i++) {
		n = 0;
		err = netcfg_addr_list(nc, ifindex, count_addr, &n);
		if (err == 0 && n == MANY_ADDRS)
			ok++;
		else if (err == 0)
			uncaught++;
		else if (err == -EAGAIN)
			gave_up++;
		else if (++failed < 5)
			printf("     list %d: %s \"%s\"\n", i, strerror(-err), netcfg_errmsg(nc));
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	live_check(failed == 0 && ok > 0,
	           "100 lists while addresses change: %d complete, %d gave up (EAGAIN), %d failed",
	           ok, gave_up, failed);
	printf("note %d list(s) had an address skipped or doubled in a dump the kernel did not "
	       "flag as interrupted\n",
	       uncaught);
	n = 0;
	err = netcfg_addr_list(nc, ifindex, count_addr, &n);
	live_check(err == 0 && n == MANY_ADDRS, "quiet again: %d addresses listed", n);
	close(tun);
}

static const char *kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "unknown");
	return u.release;
}

static bool kernel_at_least(unsigned major, unsigned minor)
{
	unsigned ma = 0, mi = 0;

	if (sscanf(kernel_release(), "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * A TUN with offloads: this kernel (4.x and later) takes IFF_VNET_HDR and
 * TSO6; each read starts with a virtio-net header (an empty TUN: EAGAIN).
 */
static void step_tun_offload(void)
{
	unsigned offloads = 0;
	int idx = 0, fd = netcfg_tun_open_offload("acdoff0", 0, &idx, &offloads);
	int hdr = 0, err;

	must(fd, NULL, "offloaded TUN acdoff0 opened");
	live_check((offloads & (NETCFG_TUN_VNET | NETCFG_TUN_TSO)) ==
	               (NETCFG_TUN_VNET | NETCFG_TUN_TSO),
	           "offloads 0x%x include the virtio-net header and TSO", offloads);
	/* TUN USO came with Linux 6.2: Debian 12's 6.1 grants TSO only. */
	if (kernel_at_least(6, 2))
		live_check(offloads & NETCFG_TUN_USO, "kernel %s (6.2 or later) grants USO (0x%x)",
		           kernel_release(), offloads);
	else
		live_check(!(offloads & NETCFG_TUN_USO),
		           "kernel %s (before 6.2) grants no USO (0x%x)", kernel_release(),
		           offloads);
	err = ioctl(fd, TUNGETVNETHDRSZ, &hdr);
	live_check(err == 0 && hdr == 10, "virtio-net header of %d bytes", hdr);
	live_check(idx > 0 && (int)if_nametoindex("acdoff0") == idx, "offloaded TUN ifindex %d",
	           idx);
	close(fd);
}

int main(void)
{
	struct netcfg *nc;
	struct netcfg_monitor *m;
	struct events ev = {.rule_want = our_rule()};
	struct netcfg_sit sit;
	struct ifreq ifr;
	int ifindex = 0, tun, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	must(netcfg_open(&nc), NULL, "request socket");
	must(netcfg_monitor_open(&m), NULL, "monitor socket");
	live_check(netcfg_monitor_read(m, &ev_ops, &ev) == 0, "monitor: nothing queued yet");

	tun = netcfg_tun_open(TUN_NAME, 1000, &ifindex);
	must(tun, NULL, "TUN " TUN_NAME " opened");
	ev.ifindex = ifindex;
	live_check(ifindex > 0 && (int)if_nametoindex(TUN_NAME) == ifindex, "TUN ifindex %d",
	           ifindex);
	err = live_ioctl_link(TUN_NAME, SIOCGIFTXQLEN, &ifr);
	live_check(err == 0 && ifr.ifr_qlen == 1000, "SIOCGIFTXQLEN says %d (want 1000)",
	           ifr.ifr_qlen);
	live_check(netcfg_tun_open("name-too-long-for-linux", 0, &ifindex) == -EINVAL,
	           "TUN with a too long name refused");
	step_tun_offload();

	step_link(nc, ifindex);
	step_route_kind(nc);
	step_route_source4(nc);
	step_group(nc, ifindex);
	step_monitor(m, &ev, "after link up");
	live_check(ev.link_new >= 1 && ev.link_up_seen, "monitor saw %d link event(s), up seen: %d",
	           ev.link_new, ev.link_up_seen);

	err = netcfg_sit_get(nc, ifindex, &sit);
	live_check(err == -EMEDIUMTYPE, "sit_get on a TUN: %s (want EMEDIUMTYPE)", strerror(-err));
	err = netcfg_sit_set_local(nc, ifindex, (struct in_addr){htonl(0xc0000201)});
	live_check(err == -EMEDIUMTYPE, "sit_set_local on a TUN: %s (want EMEDIUMTYPE)",
	           strerror(-err));

	step_addr(nc, ifindex, true);
	step_route_add(nc, ifindex);
	step_rule_add(nc);
	step_monitor(m, &ev, "after adds");
	live_check(ev.addr_new >= 1, "monitor saw %d address event(s)", ev.addr_new);
	live_check(ev.route_new >= 1, "monitor saw %d route event(s) for table 200", ev.route_new);
	live_check(ev.rule_new == 1, "monitor saw %d rule addition(s) (want 1)", ev.rule_new);

	step_rule_del(nc);
	step_route_del(nc, ifindex);
	step_addr(nc, ifindex, false);
	step_monitor(m, &ev, "after deletes");
	live_check(ev.rule_del == 1, "monitor saw %d rule deletion(s) (want 1)", ev.rule_del);
	live_check(ev.route_del >= 1, "monitor saw %d route deletion(s)", ev.route_del);
	live_check(ev.addr_del >= 1, "monitor saw %d address deletion(s)", ev.addr_del);

	step_overrun(nc, ifindex);

	/* A TUN that is not persistent goes away with its last fd. */
	close(tun);
	step_monitor(m, &ev, "after closing the TUN");
	live_check(ev.link_del == 1, "monitor saw the link's deletion (%d)", ev.link_del);
	err = netcfg_link_index(nc, TUN_NAME);
	live_check(err == -ENODEV, "link gone: %s", strerror(-err));

	netcfg_monitor_close(m);
	step_dump_under_change(nc);
	netcfg_close(nc);
	return live_finish();
}
