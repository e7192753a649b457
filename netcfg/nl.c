/*
 * rtnetlink I/O: the request socket (ACKed requests, dumps) and the
 * monitor socket.  Messages are built and parsed in msg.c.
 */
#include "netcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

/* How often an interrupted dump (the table changed under it) is redone. */
#define DUMP_TRIES 8
/* Upper bound on identical rules removed by one netcfg_rule_del. */
#define RULE_DEL_MAX 64
/* Reader buffer: the kernel sizes dump datagrams to what the reader
 * offers, up to 32 KiB; link messages can exceed a page. */
#define RECV_BUF (32 * 1024)
/* Monitor receive buffer: events must not be lost during bursts. */
#define MONITOR_RCVBUF (8 * 1024 * 1024)

struct netcfg {
	struct mnl_socket *sk;
	uint32_t portid;
	uint32_t seq;
	uint64_t requests; /* sent by exchange: what the daemon asked the kernel */
	char errmsg[256];
	_Alignas(struct nlmsghdr) char rbuf[RECV_BUF];
};

struct netcfg_monitor {
	struct mnl_socket *sk;
	_Alignas(struct nlmsghdr) char rbuf[RECV_BUF];
};

static int set_errmsg(struct netcfg *nc, int err, const char *text)
{
	snprintf(nc->errmsg, sizeof(nc->errmsg), "%s", text);
	return err;
}

int netcfg_open(struct netcfg **out)
{
	struct netcfg *nc = calloc(1, sizeof(*nc));
	struct timeval tv = {.tv_sec = NETCFG_TIMEOUT_S};
	int one = 1;
	int err;

	if (!nc)
		return -ENOMEM;
	nc->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nc->sk)
		goto fail;
	if (mnl_socket_bind(nc->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* Extended ACKs carry the kernel's reason; capped ACKs skip the echo.
	 * Both are optional: an old kernel still answers, only less helpfully. */
	mnl_socket_setsockopt(nc->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nc->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	/* Dumps filtered by the kernel (one table, one link's addresses): with
	 * a thousand tunnels, the difference between a few and a few thousand
	 * objects per look.  Optional too: see struct dump_req. */
	mnl_socket_setsockopt(nc->sk, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	/* The kernel always answers, but a library must never block forever. */
	if (setsockopt(mnl_socket_get_fd(nc->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	nc->portid = mnl_socket_get_portid(nc->sk);
	nc->seq = (uint32_t)time(NULL);
	*out = nc;
	return 0;
fail:
	err = -errno;
	if (nc->sk)
		mnl_socket_close(nc->sk);
	free(nc);
	return err;
}

void netcfg_close(struct netcfg *nc)
{
	if (!nc)
		return;
	mnl_socket_close(nc->sk);
	free(nc);
}

uint64_t netcfg_requests(const struct netcfg *nc)
{
	return nc ? nc->requests : 0;
}

const char *netcfg_errmsg(const struct netcfg *nc)
{
	return nc->errmsg;
}

static uint32_t next_seq(struct netcfg *nc)
{
	return ++nc->seq;
}

/* ---- one request, its answers and its ACK (or a dump to NLMSG_DONE) ---- */

struct exchange {
	struct netcfg *nc;
	uint32_t seq;
	mnl_cb_t data_cb;
	void *data;
	int err;
	bool done;
	bool interrupted;
};

static int exchange_data(const struct nlmsghdr *nlh, void *arg)
{
	struct exchange *x = arg;

	if (x->data_cb)
		return x->data_cb(nlh, x->data);
	return MNL_CB_OK;
}

static int exchange_error(const struct nlmsghdr *nlh, void *arg)
{
	struct exchange *x = arg;
	const char *msg;

	x->err = netcfg_parse_ack(nlh, &msg);
	if (x->err < 0 && msg)
		set_errmsg(x->nc, x->err, msg);
	x->done = true;
	return MNL_CB_STOP;
}

static int exchange_done(const struct nlmsghdr *nlh, void *arg)
{
	struct exchange *x = arg;
	const int *status = mnl_nlmsg_get_payload(nlh);

	/* A dump that fails half-way says so in NLMSG_DONE's payload. */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*status) && *status < 0)
		x->err = *status;
	x->done = true;
	return MNL_CB_STOP;
}

/*
 * After NLM_F_DUMP_INTR libmnl stops at once; the rest of that dump is
 * read and dropped here (up to its NLMSG_DONE) so that the retry starts on
 * a clean socket.
 */
static void exchange_skip(struct exchange *x, const char *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int rest = (int)len;

	for (; mnl_nlmsg_ok(nlh, rest); nlh = mnl_nlmsg_next(nlh, &rest)) {
		if (nlh->nlmsg_seq != x->seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			x->done = true;
	}
}

static int exchange_process(struct exchange *x, const char *buf, size_t len)
{
	/* Not const only because libmnl's prototype lacks it. */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
	    [NLMSG_ERROR] = exchange_error,
	    [NLMSG_DONE] = exchange_done,
	};
	int ret;

	if (x->interrupted) {
		exchange_skip(x, buf, len);
		return 0;
	}
	ret = mnl_cb_run2(buf, len, x->seq, x->nc->portid, exchange_data, x, ctl, NLMSG_MIN_TYPE);
	if (ret >= 0)
		return 0;
	if (errno == EINTR) {
		x->interrupted = true;
		exchange_skip(x, buf, len);
		return 0;
	}
	return set_errmsg(x->nc, -errno, "unexpected rtnetlink message (sequence or port)");
}

/* Drop whatever an earlier, abandoned exchange left queued. */
static void flush_socket(struct netcfg *nc)
{
	int fd = mnl_socket_get_fd(nc->sk);

	while (recv(fd, nc->rbuf, sizeof(nc->rbuf), MSG_DONTWAIT) > 0)
		;
}

/*
 * Sends nlh and reads the answer: data messages go to data_cb, the
 * exchange ends with the ACK/error or NLMSG_DONE.  -EINTR: dump
 * interrupted, redo it.
 */
static int exchange(struct netcfg *nc, const struct nlmsghdr *nlh, mnl_cb_t data_cb, void *data)
{
	struct exchange x = {.nc = nc, .seq = nlh->nlmsg_seq, .data_cb = data_cb, .data = data};
	ssize_t n;
	int err;

	nc->errmsg[0] = '\0';
	flush_socket(nc);
	/* send(), not sendto(): no address (the kernel is the socket's default peer),
	 * so a worker's filter, which refuses sendto with an address, lets it pass. */
	if (send(mnl_socket_get_fd(nc->sk), nlh, nlh->nlmsg_len, 0) < 0)
		return set_errmsg(nc, -errno, "rtnetlink send failed");
	nc->requests++;
	while (!x.done) {
		n = mnl_socket_recvfrom(nc->sk, nc->rbuf, sizeof(nc->rbuf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return set_errmsg(nc, -ETIMEDOUT, "no rtnetlink answer within the timeout");
		if (n < 0)
			return set_errmsg(nc, -errno, "rtnetlink receive failed");
		err = exchange_process(&x, nc->rbuf, (size_t)n);
		if (err < 0)
			return err;
	}
	if (x.interrupted)
		return -EINTR;
	return x.err;
}

static int request(struct netcfg *nc, const struct nlmsghdr *nlh)
{
	if (!nlh)
		return set_errmsg(nc, -EINVAL, "invalid object (prefix length or name)");
	return exchange(nc, nlh, NULL, NULL);
}

static int route_kind_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWROUTE && nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*rtm)))
		*(int *)arg = rtm->rtm_type;
	return MNL_CB_OK;
}

static int route_src4_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct in_addr src;

	if (nlh->nlmsg_type == RTM_NEWROUTE && netcfg_parse_route_src4(nlh, &src) == 0)
		*(struct in_addr *)arg = src;
	return MNL_CB_OK;
}

int netcfg_route_source4(struct netcfg *nc, struct in_addr dst, struct in_addr *out)
{
	char buf[NETCFG_MSG_MAX];
	struct in_addr src = {0};
	int err;

	err = exchange(nc, netcfg_build_route_get4(buf, ++nc->seq, dst), route_src4_cb, &src);
	if (err < 0)
		return err;
	if (!src.s_addr)
		return set_errmsg(nc, -EADDRNOTAVAIL, "no source address in the kernel's route");
	*out = src;
	return 0;
}

struct route_mtu_answer {
	bool seen;
	struct netcfg_route_mtu rm;
};

static int route_mtu4_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct route_mtu_answer *a = arg;

	if (nlh->nlmsg_type == RTM_NEWROUTE && netcfg_parse_route_mtu4(nlh, &a->rm) == 0)
		a->seen = true;
	return MNL_CB_OK;
}

int netcfg_route_mtu4(struct netcfg *nc, struct in_addr dst, struct netcfg_path_mtu *out)
{
	char buf[NETCFG_MSG_MAX];
	struct route_mtu_answer a = {0};
	struct netcfg_link l;
	int err;

	err = exchange(nc, netcfg_build_route_get4(buf, ++nc->seq, dst), route_mtu4_cb, &a);
	if (err < 0)
		return err;
	if (!a.seen)
		return set_errmsg(nc, -EBADMSG, "no MTU or output link in the kernel's route");
	memset(out, 0, sizeof(*out));
	if (a.rm.oif > 0 && netcfg_link_get(nc, a.rm.oif, NULL, &l) == 0)
		snprintf(out->link, sizeof(out->link), "%s", l.name);
	else
		l.mtu = 0;
	if (a.rm.mtu) {
		out->mtu = a.rm.mtu;
		out->from_route = true;
	} else if (l.mtu) {
		out->mtu = l.mtu;
	} else {
		return set_errmsg(nc, -ENOENT, "neither the route nor its link has an MTU");
	}
	return 0;
}

int netcfg_route_kind(struct netcfg *nc, const struct in6_addr *dst)
{
	char buf[NETCFG_MSG_MAX];
	int kind = -1, err;

	err = exchange(nc, netcfg_build_route_get(buf, ++nc->seq, dst), route_kind_cb, &kind);
	if (err < 0)
		return err;
	return kind >= 0 ? kind : set_errmsg(nc, -EBADMSG, "no route in the kernel's answer");
}

/* ---- dumps, collected whole before any callback runs ---- */

struct collect {
	uint16_t type; /* RTM_NEW* message type of the items */
	size_t size;   /* bytes per item */
	int (*parse)(const struct nlmsghdr *nlh, void *item);
	bool (*keep)(const void *item, const void *filter);
	const void *filter;
	char *items;
	size_t n, cap;
	int err;
};

static int collect_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct collect *c = arg;
	char *grown;

	if (c->err || nlh->nlmsg_type != c->type)
		return MNL_CB_OK;
	if (c->n == c->cap) {
		grown = realloc(c->items, (c->cap ? c->cap * 2 : 16) * c->size);
		if (!grown) {
			/* Keep reading to NLMSG_DONE so the socket stays in step. */
			c->err = -ENOMEM;
			return MNL_CB_OK;
		}
		c->items = grown;
		c->cap = c->cap ? c->cap * 2 : 16;
	}
	/* Objects the parsers cannot describe are not listed. */
	if (c->parse(nlh, c->items + c->n * c->size) == 0 &&
	    (!c->keep || c->keep(c->items + c->n * c->size, c->filter)))
		c->n++;
	return MNL_CB_OK;
}

/*
 * What a dump asks for.  With strict checking (netcfg_open) the kernel
 * filters by these fields and sends only what matches; a kernel without it
 * ignores them and sends everything, which the collect's keep callback
 * then filters.  Either way the result is the same.
 */
struct dump_req {
	uint16_t type;    /* RTM_GETADDR, RTM_GETROUTE or RTM_GETRULE */
	uint8_t family;   /* AF_INET6 unless said otherwise */
	int ifindex;      /* addresses: of this link only (0: all) */
	uint32_t table;   /* routes: of this table only (0: all) */
	uint8_t protocol; /* routes: of this protocol only (0: all) */
};

static struct nlmsghdr *build_dump(void *buf, uint32_t seq, const struct dump_req *q)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = q->type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (q->type == RTM_GETADDR) {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = q->family;
		ifa->ifa_index = (uint32_t)(q->ifindex > 0 ? q->ifindex : 0);
	} else if (q->type == RTM_GETROUTE) {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = q->family;
		rtm->rtm_protocol = q->protocol;
		rtm->rtm_table = q->table < 256 ? (uint8_t)q->table : RT_TABLE_UNSPEC;
		if (q->table)
			mnl_attr_put_u32(nlh, RTA_TABLE, q->table);
	} else {
		struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));

		frh->family = q->family;
	}
	return nlh;
}

static int dump(struct netcfg *nc, const struct dump_req *q, struct collect *c)
{
	char buf[NETCFG_MSG_MAX];
	int err = 0;
	int i;

	for (i = 0; i < DUMP_TRIES; i++) {
		c->n = 0;
		c->err = 0;
		err = exchange(nc, build_dump(buf, next_seq(nc), q), collect_cb, c);
		/* A table that does not exist (yet) has no routes, a link that
		 * does not exist no addresses. */
		if ((err == -ENOENT && q->type == RTM_GETROUTE && q->table) ||
		    (err == -ENODEV && q->type == RTM_GETADDR && q->ifindex))
			return 0;
		if (err != -EINTR)
			return err < 0 ? err : c->err;
	}
	return set_errmsg(nc, -EAGAIN, "rtnetlink dump kept being interrupted by changes");
}

/*
 * The one collect-iterate-free loop of the *_list functions: dump q into c,
 * hand every item to call (which calls the caller's typed callback *cb;
 * an error stops it), free the items.
 */
typedef int visit_fn(const void *item, const void *cb, void *arg);

static int dump_each(struct netcfg *nc, const struct dump_req *q, struct collect *c, visit_fn *call,
                     const void *cb, void *arg)
{
	int err = dump(nc, q, c);

	for (size_t i = 0; err == 0 && i < c->n; i++)
		err = call(c->items + i * c->size, cb, arg);
	free(c->items);
	c->items = NULL;
	return err;
}

static int parse_route_item(const struct nlmsghdr *nlh, void *item)
{
	return netcfg_parse_route(nlh, item);
}

static int parse_rule_item(const struct nlmsghdr *nlh, void *item)
{
	return netcfg_parse_rule(nlh, item);
}

static int parse_addr_item(const struct nlmsghdr *nlh, void *item)
{
	return netcfg_parse_addr(nlh, item);
}

/* ---- links ---- */

struct link_reply {
	struct netcfg_link *out;
	bool found;
};

static int link_reply_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct link_reply *lr = arg;

	if (netcfg_parse_link(nlh, lr->out) == 0)
		lr->found = true;
	return MNL_CB_OK;
}

static struct nlmsghdr *build_link_get(void *buf, uint32_t seq, int ifindex, const char *name)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (ifindex <= 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* Statistics are not needed and make the answer big. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

static bool link_key_ok(int ifindex, const char *name)
{
	return ifindex > 0 || (name && name[0] && strnlen(name, IFNAMSIZ) < IFNAMSIZ);
}

int netcfg_link_get(struct netcfg *nc, int ifindex_or_0, const char *name_or_null,
                    struct netcfg_link *out)
{
	char buf[NETCFG_MSG_MAX];
	struct link_reply lr = {.out = out};
	int err;

	if (!link_key_ok(ifindex_or_0, name_or_null))
		return set_errmsg(nc, -EINVAL, "link: neither an index nor a valid name");
	err = exchange(nc, build_link_get(buf, next_seq(nc), ifindex_or_0, name_or_null),
	               link_reply_cb, &lr);
	if (err < 0)
		return err;
	return lr.found ? 0 : set_errmsg(nc, -ENODEV, "link: no such link in the answer");
}

int netcfg_link_index(struct netcfg *nc, const char *ifname)
{
	struct netcfg_link l;
	int err = netcfg_link_get(nc, 0, ifname, &l);

	return err < 0 ? err : l.ifindex;
}

int netcfg_link_set(struct netcfg *nc, int ifindex, bool up, uint32_t mtu)
{
	char buf[NETCFG_MSG_MAX];

	return request(nc, netcfg_build_link(buf, next_seq(nc), ifindex, up, mtu));
}

int netcfg_link_del(struct netcfg *nc, int ifindex)
{
	char buf[NETCFG_MSG_MAX];
	int err = request(nc, netcfg_build_link_del(buf, next_seq(nc), ifindex));

	return err == -ENODEV ? -ENOENT : err;
}

int netcfg_link_set_group(struct netcfg *nc, int ifindex, uint32_t group)
{
	char buf[NETCFG_MSG_MAX];

	if (!group)
		return -EINVAL;
	return request(nc, netcfg_build_link_group(buf, next_seq(nc), ifindex, group));
}

int netcfg_group_del(struct netcfg *nc, uint32_t group)
{
	char buf[NETCFG_MSG_MAX];

	int err;

	if (!group)
		return -EINVAL;
	err = request(nc, netcfg_build_group_del(buf, next_seq(nc), group));
	return err == -ENODEV ? 0 : err; /* an empty group */
}

/* ---- sit ---- */

int netcfg_sit_add(struct netcfg *nc, const char *ifname, struct in_addr local,
                   struct in_addr remote, uint8_t ttl, uint32_t mtu)
{
	char buf[NETCFG_MSG_MAX];
	int err;

	err = request(nc, netcfg_build_sit(buf, next_seq(nc), ifname, local, remote, ttl, mtu));
	if (err < 0)
		return err;
	return netcfg_link_index(nc, ifname);
}

struct sit_reply {
	struct netcfg_sit sit;
	int err;
};

static int sit_reply_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct sit_reply *sr = arg;

	if (nlh->nlmsg_type == RTM_NEWLINK)
		sr->err = netcfg_parse_sit(nlh, &sr->sit);
	return MNL_CB_OK;
}

int netcfg_sit_get(struct netcfg *nc, int ifindex, struct netcfg_sit *out)
{
	char buf[NETCFG_MSG_MAX];
	struct sit_reply sr = {.err = -ENODEV};
	int err;

	if (ifindex <= 0)
		return set_errmsg(nc, -EINVAL, "sit: invalid link index");
	err = exchange(nc, build_link_get(buf, next_seq(nc), ifindex, NULL), sit_reply_cb, &sr);
	if (err < 0)
		return err;
	if (sr.err == -EMEDIUMTYPE)
		return set_errmsg(nc, sr.err, "sit: the link is not a sit link");
	if (sr.err < 0)
		return set_errmsg(nc, sr.err, "sit: cannot read the link's parameters");
	*out = sr.sit;
	return 0;
}

int netcfg_sit_set_local(struct netcfg *nc, int ifindex, struct in_addr local)
{
	char buf[NETCFG_MSG_MAX];
	struct netcfg_sit s;
	/* A change resets every parameter it leaves out, so read them first. */
	int err = netcfg_sit_get(nc, ifindex, &s);

	if (err < 0)
		return err;
	s.local = local;
	return request(nc, netcfg_build_sit_change(buf, next_seq(nc), ifindex, &s));
}

/* ---- addresses ---- */

int netcfg_addr_add(struct netcfg *nc, const struct netcfg_addr *a)
{
	char buf[NETCFG_MSG_MAX];
	int err;

	/* REPLACE: an existing address is updated (flags), never doubled. */
	err = request(
	    nc, netcfg_build_addr(buf, next_seq(nc), RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, a));
	return err == -EEXIST ? 0 : err;
}

int netcfg_addr_del(struct netcfg *nc, const struct netcfg_addr *a)
{
	char buf[NETCFG_MSG_MAX];
	int err = request(nc, netcfg_build_addr(buf, next_seq(nc), RTM_DELADDR, 0, a));

	/* Not there, or its link is gone (and the address with it). */
	if (err == -EADDRNOTAVAIL || err == -ENODEV)
		return -ENOENT;
	return err;
}

static bool addr_keep(const void *item, const void *filter)
{
	const struct netcfg_addr *a = item;
	const int *ifindex = filter;

	return *ifindex == 0 || a->ifindex == *ifindex;
}

static int visit_addr(const void *item, const void *cb, void *arg)
{
	return (*(const netcfg_addr_cb *)cb)(item, arg);
}

int netcfg_addr_list(struct netcfg *nc, int ifindex, netcfg_addr_cb cb, void *arg)
{
	struct collect c = {.type = RTM_NEWADDR,
	                    .size = sizeof(struct netcfg_addr),
	                    .parse = parse_addr_item,
	                    .keep = addr_keep,
	                    .filter = &ifindex};
	const struct dump_req q = {.type = RTM_GETADDR, .family = AF_INET6, .ifindex = ifindex};

	return dump_each(nc, &q, &c, visit_addr, &cb, arg);
}

static int parse_addr4_item(const struct nlmsghdr *nlh, void *item)
{
	return netcfg_parse_addr4(nlh, item);
}

static int visit_addr4(const void *item, const void *cb, void *arg)
{
	return (*(const netcfg_addr4_cb *)cb)(item, arg);
}

int netcfg_addr4_list(struct netcfg *nc, netcfg_addr4_cb cb, void *arg)
{
	const struct dump_req q = {.type = RTM_GETADDR, .family = AF_INET};
	struct collect c = {
	    .type = RTM_NEWADDR, .size = sizeof(struct netcfg_addr4), .parse = parse_addr4_item};

	return dump_each(nc, &q, &c, visit_addr4, &cb, arg);
}

/* ---- routes ---- */

int netcfg_route_add(struct netcfg *nc, const struct netcfg_route *r)
{
	char buf[NETCFG_MSG_MAX];
	int err;

	/* REPLACE: a route with the same destination, table and metric is
	 * rewritten (so its MTU ends up right), never doubled. */
	err = request(nc, netcfg_build_route(buf, next_seq(nc), RTM_NEWROUTE,
	                                     NLM_F_CREATE | NLM_F_REPLACE, r));
	return err == -EEXIST ? 0 : err;
}

int netcfg_route_add_excl(struct netcfg *nc, const struct netcfg_route *r)
{
	char buf[NETCFG_MSG_MAX];

	return request(
	    nc, netcfg_build_route(buf, next_seq(nc), RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r));
}

int netcfg_route_del(struct netcfg *nc, const struct netcfg_route *r)
{
	char buf[NETCFG_MSG_MAX];
	int err = request(nc, netcfg_build_route(buf, next_seq(nc), RTM_DELROUTE, 0, r));

	return err == -ESRCH ? -ENOENT : err;
}

struct route_filter {
	uint32_t table;
	uint8_t protocol;
};

static bool route_keep(const void *item, const void *filter)
{
	const struct netcfg_route *r = item;
	const struct route_filter *f = filter;

	return (f->table == 0 || r->table == f->table) &&
	       (f->protocol == 0 || r->protocol == f->protocol);
}

static int visit_route(const void *item, const void *cb, void *arg)
{
	return (*(const netcfg_route_cb *)cb)(item, arg);
}

int netcfg_route_list(struct netcfg *nc, uint32_t table, uint8_t protocol, netcfg_route_cb cb,
                      void *arg)
{
	const struct route_filter f = {.table = table, .protocol = protocol};
	const struct dump_req q = {
	    .type = RTM_GETROUTE, .family = AF_INET6, .table = table, .protocol = protocol};
	struct collect c = {.type = RTM_NEWROUTE,
	                    .size = sizeof(struct netcfg_route),
	                    .parse = parse_route_item,
	                    .keep = route_keep,
	                    .filter = &f};

	return dump_each(nc, &q, &c, visit_route, &cb, arg);
}

static int parse_route_dst_item(const struct nlmsghdr *nlh, void *item)
{
	return netcfg_parse_route_dst(nlh, item);
}

static int visit_route_dst(const void *item, const void *cb, void *arg)
{
	return (*(const netcfg_route_dst_cb *)cb)(item, arg);
}

int netcfg_route_dst_list(struct netcfg *nc, netcfg_route_dst_cb cb, void *arg)
{
	struct collect c = {.type = RTM_NEWROUTE,
	                    .size = sizeof(struct netcfg_route_dst),
	                    .parse = parse_route_dst_item};
	const struct dump_req q = {.type = RTM_GETROUTE, .family = AF_INET6};

	return dump_each(nc, &q, &c, visit_route_dst, &cb, arg);
}

/* ---- rules ---- */

static const struct dump_req rule_dump = {.type = RTM_GETRULE, .family = AF_INET6};

static bool prefix_equal(const struct in6_addr *a, const struct in6_addr *b, unsigned len)
{
	unsigned bytes = len / 8, bits = len % 8;
	uint8_t mask;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (!bits)
		return true;
	mask = (uint8_t)(0xff << (8 - bits));
	return ((a->s6_addr[bytes] ^ b->s6_addr[bytes]) & mask) == 0;
}

/* Same source prefix, table and priority (0: any): the kernel would not
 * refuse a second copy of such a rule, so it is looked for first. */
static bool rule_same(const void *item, const void *filter)
{
	const struct netcfg_rule *have = item;
	const struct netcfg_rule *want = filter;

	return have->src_len == want->src_len && have->table == want->table &&
	       (want->priority == 0 || have->priority == want->priority) &&
	       prefix_equal(&have->src, &want->src, want->src_len);
}

static int rule_find(struct netcfg *nc, const struct netcfg_rule *r)
{
	struct collect c = {.type = RTM_NEWRULE,
	                    .size = sizeof(struct netcfg_rule),
	                    .parse = parse_rule_item,
	                    .keep = rule_same,
	                    .filter = r};
	int err = dump(nc, &rule_dump, &c);

	free(c.items);
	return err < 0 ? err : (int)(c.n > 0);
}

int netcfg_rule_add(struct netcfg *nc, const struct netcfg_rule *r)
{
	char buf[NETCFG_MSG_MAX];
	int err = rule_find(nc, r);

	if (err != 0)
		return err < 0 ? err : 0;
	/* EXCL as well: closes the race with another writer since the dump. */
	err = request(
	    nc, netcfg_build_rule(buf, next_seq(nc), RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r));
	return err == -EEXIST ? 0 : err;
}

int netcfg_rule_del(struct netcfg *nc, const struct netcfg_rule *r)
{
	char buf[NETCFG_MSG_MAX];
	int err;
	int i;

	for (i = 0; i < RULE_DEL_MAX; i++) {
		err = request(nc, netcfg_build_rule(buf, next_seq(nc), RTM_DELRULE, 0, r));
		if (err == -ENOENT && i > 0)
			return 0;
		if (err < 0)
			return err;
	}
	return 0;
}

static bool rule_protocol_keep(const void *item, const void *filter)
{
	const struct netcfg_rule *r = item;
	const uint8_t *protocol = filter;

	return *protocol == 0 || r->protocol == *protocol;
}

static int visit_rule(const void *item, const void *cb, void *arg)
{
	return (*(const netcfg_rule_cb *)cb)(item, arg);
}

int netcfg_rule_list(struct netcfg *nc, uint8_t protocol, netcfg_rule_cb cb, void *arg)
{
	struct collect c = {.type = RTM_NEWRULE,
	                    .size = sizeof(struct netcfg_rule),
	                    .parse = parse_rule_item,
	                    .keep = rule_protocol_keep,
	                    .filter = &protocol};

	return dump_each(nc, &rule_dump, &c, visit_rule, &cb, arg);
}

/* ---- monitor ---- */

int netcfg_monitor_open(struct netcfg_monitor **out)
{
	static const int groups[] = {RTNLGRP_LINK,      RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE,
	                             RTNLGRP_IPV6_RULE, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE};
	struct netcfg_monitor *m = calloc(1, sizeof(*m));
	int size = MONITOR_RCVBUF;
	int fd, err;
	size_t i;

	if (!m)
		return -ENOMEM;
	m->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!m->sk)
		goto fail;
	if (mnl_socket_bind(m->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(m->sk, NETLINK_ADD_MEMBERSHIP, (void *)&groups[i],
		                          sizeof(groups[i])) < 0)
			goto fail;
	/* FORCE passes rmem_max when we hold CAP_NET_ADMIN; else take what
	 * the limit allows. */
	fd = mnl_socket_get_fd(m->sk);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	err = -errno;
	if (m->sk)
		mnl_socket_close(m->sk);
	free(m);
	return err;
}

int netcfg_monitor_fd(const struct netcfg_monitor *m)
{
	return mnl_socket_get_fd(m->sk);
}

void netcfg_monitor_close(struct netcfg_monitor *m)
{
	if (!m)
		return;
	mnl_socket_close(m->sk);
	free(m);
}

struct dispatch {
	const struct netcfg_monitor_ops *ops;
	void *arg;
	int count;
};

static void dispatch_link(struct dispatch *d, const struct nlmsghdr *nlh)
{
	struct netcfg_link l;

	if (d->ops->link && netcfg_parse_link(nlh, &l) == 0) {
		d->ops->link(&l, nlh->nlmsg_type == RTM_DELLINK, d->arg);
		d->count++;
	}
}

static void dispatch_addr(struct dispatch *d, const struct nlmsghdr *nlh)
{
	struct netcfg_addr a;

	if (d->ops->addr && netcfg_parse_addr(nlh, &a) == 0) {
		d->ops->addr(&a, nlh->nlmsg_type == RTM_DELADDR, d->arg);
		d->count++;
	}
}

/* An IPv6 local route (RTN_LOCAL, a /128 in table local): its address, or -ENOENT. */
static int local_route_addr(const struct nlmsghdr *nlh, struct in6_addr *addr)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) || rtm->rtm_family != AF_INET6 ||
	    rtm->rtm_type != RTN_LOCAL || rtm->rtm_dst_len != 128)
		return -ENOENT;
	mnl_attr_for_each(attr, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(attr) == RTA_DST &&
		    mnl_attr_get_payload_len(attr) == sizeof(*addr)) {
			memcpy(addr, mnl_attr_get_payload(attr), sizeof(*addr));
			return 0;
		}
	}
	return -ENOENT;
}

static void dispatch_route(struct dispatch *d, const struct nlmsghdr *nlh)
{
	struct netcfg_route r;
	struct in6_addr local;

	if (d->ops->route && netcfg_parse_route(nlh, &r) == 0) {
		d->ops->route(&r, nlh->nlmsg_type == RTM_DELROUTE, d->arg);
		d->count++;
	} else if (d->ops->local && local_route_addr(nlh, &local) == 0) {
		d->ops->local(&local, nlh->nlmsg_type == RTM_DELROUTE, d->arg);
		d->count++;
	}
}

static void dispatch_rule(struct dispatch *d, const struct nlmsghdr *nlh)
{
	struct netcfg_rule r;

	if (d->ops->rule && netcfg_parse_rule(nlh, &r) == 0) {
		d->ops->rule(&r, nlh->nlmsg_type == RTM_DELRULE, d->arg);
		d->count++;
	}
}

static int dispatch_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dispatch *d = arg;
	int ifindex = netcfg_event_ifindex(nlh);

	if (d->ops->changed && ifindex >= 0) {
		d->ops->changed(ifindex, d->arg);
		d->count++;
	}
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		dispatch_link(d, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		dispatch_addr(d, nlh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		dispatch_route(d, nlh);
		break;
	case RTM_NEWRULE:
	case RTM_DELRULE:
		dispatch_rule(d, nlh);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

int netcfg_monitor_read(struct netcfg_monitor *m, const struct netcfg_monitor_ops *ops, void *arg)
{
	struct dispatch d = {.ops = ops, .arg = arg};
	ssize_t n;
	int i;

	for (i = 0; i < NETCFG_MONITOR_BATCH; i++) {
		n = mnl_socket_recvfrom(m->sk, m->rbuf, sizeof(m->rbuf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* A datagram too big for the buffer is an event lost, too. */
		if (n < 0 && errno == ENOSPC)
			return -ENOBUFS;
		if (n < 0)
			return -errno;
		/* Events carry the port and sequence of whoever caused them. */
		if (mnl_cb_run(m->rbuf, (size_t)n, 0, 0, dispatch_cb, &d) < 0)
			return -errno;
	}
	return d.count;
}
