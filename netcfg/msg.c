/*
 * Pure rtnetlink message builders and parsers: no sockets, no globals.
 * Attributes are packed and parsed with libmnl only.
 */
#include "netcfg.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/rtnetlink.h>

/*
 * Attribute policy: what a parser reads and how it must look.  Entries
 * left at MNL_TYPE_UNSPEC are attributes the parser does not use; they are
 * skipped unvalidated.  len is the exact payload length for binary data.
 */
struct attr_policy {
	enum mnl_attr_data_type type;
	uint16_t len;
};

struct attr_table {
	const struct nlattr **tb;
	const struct attr_policy *pol;
	uint16_t max;
};

static int attr_table_cb(const struct nlattr *attr, void *data)
{
	const struct attr_table *t = data;
	const struct attr_policy *p;
	uint16_t type = mnl_attr_get_type(attr);
	int ok;

	/* A newer kernel may send attributes this build does not know. */
	if (mnl_attr_type_valid(attr, t->max) < 0)
		return MNL_CB_OK;
	p = &t->pol[type];
	if (p->type == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (p->len)
		ok = mnl_attr_validate2(attr, p->type, p->len);
	else
		ok = mnl_attr_validate(attr, p->type);
	if (ok < 0)
		return MNL_CB_ERROR;
	t->tb[type] = attr;
	return MNL_CB_OK;
}

/*
 * libmnl's attribute walk stops silently at a truncated attribute; a
 * message whose attribute area is not used up exactly (save the alignment
 * padding of the last one) is malformed and must not be half-trusted.
 */
static bool attrs_fill_exactly(const void *start, size_t len)
{
	const struct nlattr *a = start;
	int rest = (int)len;

	while (mnl_attr_ok(a, rest)) {
		rest -= (int)MNL_ALIGN(a->nla_len);
		a = mnl_attr_next(a);
	}
	return rest <= 0;
}

static int attrs_parse(const struct nlmsghdr *nlh, size_t hdrlen, const struct attr_policy *pol,
                       uint16_t max, const struct nlattr **tb)
{
	struct attr_table t = {.tb = tb, .pol = pol, .max = max};
	size_t plen;

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	if (nlh->nlmsg_len < sizeof(*nlh))
		return -EINVAL;
	plen = mnl_nlmsg_get_payload_len(nlh);
	if (plen < MNL_ALIGN(hdrlen))
		return -EINVAL;
	if (!attrs_fill_exactly(mnl_nlmsg_get_payload_offset(nlh, hdrlen),
	                        plen - MNL_ALIGN(hdrlen)))
		return -EINVAL;
	if (mnl_attr_parse(nlh, hdrlen, attr_table_cb, &t) < 0)
		return -EINVAL;
	return 0;
}

static int attrs_parse_nested(const struct nlattr *nest, const struct attr_policy *pol,
                              uint16_t max, const struct nlattr **tb)
{
	struct attr_table t = {.tb = tb, .pol = pol, .max = max};

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	if (!attrs_fill_exactly(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest)))
		return -EINVAL;
	if (mnl_attr_parse_nested(nest, attr_table_cb, &t) < 0)
		return -EINVAL;
	return 0;
}

static bool prefix_len_ok(uint8_t len)
{
	return len <= 128;
}

/* The 8-bit table field cannot hold big table ids; RTA_TABLE/FRA_TABLE always do. */
static uint8_t table8(uint32_t table)
{
	return table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
}

static struct nlmsghdr *request_header(void *buf, uint32_t seq, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

/* ---- builders (every request fits NETCFG_MSG_MAX by construction) ---- */

/* An RTM_*LINK request for ifindex (0: none, e.g. a whole group). */
static struct nlmsghdr *link_request(void *buf, uint32_t seq, uint16_t type, int ifindex,
                                     struct ifinfomsg **ifi_out)
{
	struct nlmsghdr *nlh = request_header(buf, seq, type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (ifi_out)
		*ifi_out = ifi;
	return nlh;
}

struct nlmsghdr *netcfg_build_link(void *buf, uint32_t seq, int ifindex, bool up, uint32_t mtu)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = link_request(buf, seq, RTM_NEWLINK, ifindex, &ifi);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nlh;
}

struct nlmsghdr *netcfg_build_link_del(void *buf, uint32_t seq, int ifindex)
{
	return link_request(buf, seq, RTM_DELLINK, ifindex, NULL);
}

struct nlmsghdr *netcfg_build_link_group(void *buf, uint32_t seq, int ifindex, uint32_t group)
{
	struct nlmsghdr *nlh = link_request(buf, seq, RTM_NEWLINK, ifindex, NULL);

	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	return nlh;
}

/* No index and IFLA_GROUP: the kernel removes the whole group in one batch. */
struct nlmsghdr *netcfg_build_group_del(void *buf, uint32_t seq, uint32_t group)
{
	struct nlmsghdr *nlh = link_request(buf, seq, RTM_DELLINK, 0, NULL);

	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	return nlh;
}

struct nlmsghdr *netcfg_build_addr(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
                                   const struct netcfg_addr *a)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t aflags =
	    (a->nodad ? IFA_F_NODAD : 0) | (a->noprefixroute ? IFA_F_NOPREFIXROUTE : 0);

	if (!prefix_len_ok(a->prefix_len))
		return NULL;
	nlh = request_header(buf, seq, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = a->prefix_len;
	ifa->ifa_flags = (uint8_t)aflags;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE; /* IPv6 derives the scope from the address */
	ifa->ifa_index = (uint32_t)a->ifindex;
	/* Same value in both: a local address, not a point-to-point peer. */
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(a->addr), &a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a->addr), &a->addr);
	mnl_attr_put_u32(nlh, IFA_FLAGS, aflags);
	return nlh;
}

struct nlmsghdr *netcfg_build_route(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
                                    const struct netcfg_route *r)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct nlattr *metrics;

	if (!prefix_len_ok(r->dst_len))
		return NULL;
	nlh = request_header(buf, seq, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = r->dst_len;
	rtm->rtm_table = table8(r->table);
	rtm->rtm_protocol = r->protocol;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->ifindex > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->ifindex);
	if (r->dst_len > 0)
		mnl_attr_put(nlh, RTA_DST, sizeof(r->dst), &r->dst);
	if (r->priority)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->priority);
	if (r->mtu) {
		metrics = mnl_attr_nest_start(nlh, RTA_METRICS);
		mnl_attr_put_u32(nlh, RTAX_MTU, r->mtu);
		mnl_attr_nest_end(nlh, metrics);
	}
	return nlh;
}

struct nlmsghdr *netcfg_build_rule(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
                                   const struct netcfg_rule *r)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;

	if (!prefix_len_ok(r->src_len))
		return NULL;
	nlh = request_header(buf, seq, type, flags);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = AF_INET6;
	frh->src_len = r->src_len;
	frh->table = table8(r->table);
	frh->action = FR_ACT_TO_TBL;
	if (r->src_len > 0)
		mnl_attr_put(nlh, FRA_SRC, sizeof(r->src), &r->src);
	mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	/* Without FRA_PRIORITY the kernel picks one (add) or matches any (del). */
	if (r->priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, r->protocol);
	return nlh;
}

static void put_sit_data(struct nlmsghdr *nlh, const struct netcfg_sit *s)
{
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	struct nlattr *data;

	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "sit");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put(nlh, IFLA_IPTUN_LOCAL, sizeof(s->local), &s->local);
	mnl_attr_put(nlh, IFLA_IPTUN_REMOTE, sizeof(s->remote), &s->remote);
	mnl_attr_put_u8(nlh, IFLA_IPTUN_TTL, s->ttl);
	/* DF on the outer header: path MTU discovery instead of fragments. */
	mnl_attr_put_u8(nlh, IFLA_IPTUN_PMTUDISC, 1);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
}

struct nlmsghdr *netcfg_build_sit(void *buf, uint32_t seq, const char *ifname, struct in_addr local,
                                  struct in_addr remote, uint8_t ttl, uint32_t mtu)
{
	const struct netcfg_sit s = {.local = local, .remote = remote, .ttl = ttl};
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (!ifname || !ifname[0] || strnlen(ifname, IFNAMSIZ) >= IFNAMSIZ)
		return NULL;
	/* CREATE without EXCL: an existing sit link of that name is updated. */
	nlh = request_header(buf, seq, RTM_NEWLINK, NLM_F_CREATE);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	put_sit_data(nlh, &s);
	return nlh;
}

struct nlmsghdr *netcfg_build_sit_change(void *buf, uint32_t seq, int ifindex,
                                         const struct netcfg_sit *s)
{
	struct nlmsghdr *nlh = link_request(buf, seq, RTM_NEWLINK, ifindex, NULL);

	put_sit_data(nlh, s);
	return nlh;
}

/* ---- parsers ---- */

static const struct attr_policy route_policy[RTA_MAX + 1] = {
    [RTA_DST] = {MNL_TYPE_BINARY, sizeof(struct in6_addr)},
    [RTA_OIF] = {MNL_TYPE_U32, 0},
    [RTA_PRIORITY] = {MNL_TYPE_U32, 0},
    [RTA_TABLE] = {MNL_TYPE_U32, 0},
    [RTA_METRICS] = {MNL_TYPE_NESTED, 0},
    /* Present only to be refused: the struct cannot describe them. */
    [RTA_GATEWAY] = {MNL_TYPE_BINARY, 0},
    [RTA_MULTIPATH] = {MNL_TYPE_BINARY, 0},
    [RTA_SRC] = {MNL_TYPE_BINARY, 0},
};

static const struct attr_policy metrics_policy[RTAX_MAX + 1] = {
    [RTAX_MTU] = {MNL_TYPE_U32, 0},
};

static bool is_route_msg(uint16_t type)
{
	return type == RTM_NEWROUTE || type == RTM_DELROUTE;
}

int netcfg_parse_route(const struct nlmsghdr *nlh, struct netcfg_route *r)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct nlattr *mx[RTAX_MAX + 1];
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	int err;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) || !is_route_msg(nlh->nlmsg_type))
		return -EINVAL;
	if (rtm->rtm_family != AF_INET6 || rtm->rtm_type != RTN_UNICAST ||
	    (rtm->rtm_flags & RTM_F_CLONED) || rtm->rtm_src_len != 0)
		return -ENOENT;
	err = attrs_parse(nlh, sizeof(*rtm), route_policy, RTA_MAX, tb);
	if (err < 0)
		return err;
	if (!prefix_len_ok(rtm->rtm_dst_len) || (rtm->rtm_dst_len > 0 && !tb[RTA_DST]))
		return -EINVAL;
	if (tb[RTA_GATEWAY] || tb[RTA_MULTIPATH] || tb[RTA_SRC])
		return -ENOENT;
	memset(r, 0, sizeof(*r));
	r->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	r->protocol = rtm->rtm_protocol;
	r->dst_len = rtm->rtm_dst_len;
	if (tb[RTA_DST])
		memcpy(&r->dst, mnl_attr_get_payload(tb[RTA_DST]), sizeof(r->dst));
	if (tb[RTA_OIF])
		r->ifindex = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY])
		r->priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_METRICS]) {
		err = attrs_parse_nested(tb[RTA_METRICS], metrics_policy, RTAX_MAX, mx);
		if (err < 0)
			return err;
		if (mx[RTAX_MTU])
			r->mtu = mnl_attr_get_u32(mx[RTAX_MTU]);
	}
	return 0;
}

int netcfg_parse_route_dst(const struct nlmsghdr *nlh, struct netcfg_route_dst *r)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	int err;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) || !is_route_msg(nlh->nlmsg_type))
		return -EINVAL;
	if (rtm->rtm_family != AF_INET6 || (rtm->rtm_flags & RTM_F_CLONED))
		return -ENOENT;
	err = attrs_parse(nlh, sizeof(*rtm), route_policy, RTA_MAX, tb);
	if (err < 0)
		return err;
	if (!prefix_len_ok(rtm->rtm_dst_len) || (rtm->rtm_dst_len > 0 && !tb[RTA_DST]))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	r->protocol = rtm->rtm_protocol;
	r->type = rtm->rtm_type;
	r->dst_len = rtm->rtm_dst_len;
	if (tb[RTA_DST])
		memcpy(&r->dst, mnl_attr_get_payload(tb[RTA_DST]), sizeof(r->dst));
	if (tb[RTA_OIF])
		r->ifindex = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	return 0;
}

static const struct attr_policy rule_policy[FRA_MAX + 1] = {
    [FRA_SRC] = {MNL_TYPE_BINARY, sizeof(struct in6_addr)},
    [FRA_TABLE] = {MNL_TYPE_U32, 0},
    [FRA_PRIORITY] = {MNL_TYPE_U32, 0},
    [FRA_PROTOCOL] = {MNL_TYPE_U8, 0},
    [FRA_SUPPRESS_PREFIXLEN] = {MNL_TYPE_U32, 0},
    [FRA_FWMARK] = {MNL_TYPE_U32, 0},
    /* Other selectors: present only to be refused. */
    [FRA_DST] = {MNL_TYPE_BINARY, 0},
    [FRA_IIFNAME] = {MNL_TYPE_BINARY, 0},
    [FRA_OIFNAME] = {MNL_TYPE_BINARY, 0},
    [FRA_GOTO] = {MNL_TYPE_BINARY, 0},
    [FRA_FLOW] = {MNL_TYPE_BINARY, 0},
    [FRA_TUN_ID] = {MNL_TYPE_BINARY, 0},
    [FRA_SUPPRESS_IFGROUP] = {MNL_TYPE_BINARY, 0},
    [FRA_L3MDEV] = {MNL_TYPE_BINARY, 0},
    [FRA_UID_RANGE] = {MNL_TYPE_BINARY, 0},
    [FRA_IP_PROTO] = {MNL_TYPE_BINARY, 0},
    [FRA_SPORT_RANGE] = {MNL_TYPE_BINARY, 0},
    [FRA_DPORT_RANGE] = {MNL_TYPE_BINARY, 0},
};

/* A rule that selects on anything besides the source is not "ours-shaped". */
static bool rule_has_other_selectors(const struct fib_rule_hdr *frh, const struct nlattr **tb)
{
	static const uint16_t refused[] = {
	    FRA_DST,       FRA_IIFNAME,  FRA_OIFNAME,     FRA_GOTO,
	    FRA_FLOW,      FRA_TUN_ID,   FRA_L3MDEV,      FRA_SUPPRESS_IFGROUP,
	    FRA_UID_RANGE, FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE};
	size_t i;

	if (frh->dst_len || frh->tos || (frh->flags & FIB_RULE_INVERT))
		return true;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (tb[refused[i]])
			return true;
	/* The kernel always reports these two, with "unset" values. */
	if (tb[FRA_SUPPRESS_PREFIXLEN] &&
	    mnl_attr_get_u32(tb[FRA_SUPPRESS_PREFIXLEN]) != UINT32_MAX)
		return true;
	return tb[FRA_FWMARK] && mnl_attr_get_u32(tb[FRA_FWMARK]) != 0;
}

int netcfg_parse_rule(const struct nlmsghdr *nlh, struct netcfg_rule *r)
{
	const struct nlattr *tb[FRA_MAX + 1];
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
	int err;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)) ||
	    (nlh->nlmsg_type != RTM_NEWRULE && nlh->nlmsg_type != RTM_DELRULE))
		return -EINVAL;
	if (frh->family != AF_INET6 || frh->action != FR_ACT_TO_TBL)
		return -ENOENT;
	err = attrs_parse(nlh, sizeof(*frh), rule_policy, FRA_MAX, tb);
	if (err < 0)
		return err;
	if (!prefix_len_ok(frh->src_len) || (frh->src_len > 0 && !tb[FRA_SRC]))
		return -EINVAL;
	if (rule_has_other_selectors(frh, tb))
		return -ENOENT;
	memset(r, 0, sizeof(*r));
	r->src_len = frh->src_len;
	if (tb[FRA_SRC])
		memcpy(&r->src, mnl_attr_get_payload(tb[FRA_SRC]), sizeof(r->src));
	r->table = tb[FRA_TABLE] ? mnl_attr_get_u32(tb[FRA_TABLE]) : frh->table;
	if (tb[FRA_PRIORITY])
		r->priority = mnl_attr_get_u32(tb[FRA_PRIORITY]);
	if (tb[FRA_PROTOCOL])
		r->protocol = mnl_attr_get_u8(tb[FRA_PROTOCOL]);
	return 0;
}

static const struct attr_policy addr_policy[IFA_MAX + 1] = {
    [IFA_ADDRESS] = {MNL_TYPE_BINARY, sizeof(struct in6_addr)},
    [IFA_LOCAL] = {MNL_TYPE_BINARY, sizeof(struct in6_addr)},
    [IFA_FLAGS] = {MNL_TYPE_U32, 0},
};

static const struct attr_policy addr4_policy[IFA_MAX + 1] = {
    [IFA_ADDRESS] = {MNL_TYPE_BINARY, sizeof(struct in_addr)},
    [IFA_LOCAL] = {MNL_TYPE_BINARY, sizeof(struct in_addr)},
};

/*
 * What both address parsers share: an RTM_NEWADDR/RTM_DELADDR of family,
 * its attributes in tb, and the host's own address attribute of exactly
 * len bytes (with a peer, IFA_LOCAL is ours and IFA_ADDRESS the peer's).
 * 0, -ENOENT for another family, -EINVAL if malformed.
 */
static int addr_msg(const struct nlmsghdr *nlh, uint8_t family, const struct attr_policy *pol,
                    size_t len, const struct nlattr **tb, const struct ifaddrmsg **ifa_out,
                    const void **addr_out)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *addr;
	int err;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR))
		return -EINVAL;
	if (ifa->ifa_family != family)
		return -ENOENT;
	err = attrs_parse(nlh, sizeof(*ifa), pol, IFA_MAX, tb);
	if (err < 0)
		return err;
	addr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!addr || mnl_attr_get_payload_len(addr) != len || ifa->ifa_prefixlen > 8 * len)
		return -EINVAL;
	*ifa_out = ifa;
	*addr_out = mnl_attr_get_payload(addr);
	return 0;
}

int netcfg_parse_addr(const struct nlmsghdr *nlh, struct netcfg_addr *a)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa;
	const void *addr;
	uint32_t flags;
	int err = addr_msg(nlh, AF_INET6, addr_policy, sizeof(a->addr), tb, &ifa, &addr);

	if (err < 0)
		return err;
	flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	memset(a, 0, sizeof(*a));
	a->ifindex = (int)ifa->ifa_index;
	memcpy(&a->addr, addr, sizeof(a->addr));
	a->prefix_len = ifa->ifa_prefixlen;
	a->nodad = (flags & IFA_F_NODAD) != 0;
	a->noprefixroute = (flags & IFA_F_NOPREFIXROUTE) != 0;
	return 0;
}

int netcfg_parse_addr4(const struct nlmsghdr *nlh, struct netcfg_addr4 *a)
{
	const struct nlattr *tb[IFA_MAX + 1];
	const struct ifaddrmsg *ifa;
	const void *addr;
	int err = addr_msg(nlh, AF_INET, addr4_policy, sizeof(a->addr), tb, &ifa, &addr);

	if (err < 0)
		return err;
	memset(a, 0, sizeof(*a));
	a->ifindex = (int)ifa->ifa_index;
	memcpy(&a->addr, addr, sizeof(a->addr));
	a->prefix_len = ifa->ifa_prefixlen;
	return 0;
}

static const struct attr_policy link_policy[IFLA_MAX + 1] = {
    [IFLA_IFNAME] = {MNL_TYPE_NUL_STRING, 0},
    [IFLA_LINKINFO] = {MNL_TYPE_NESTED, 0},
    [IFLA_MTU] = {MNL_TYPE_U32, 0},
};

static int parse_link_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)) ||
	    (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK))
		return -EINVAL;
	/* Per-family link messages (AF_INET6 RA state, bridge ports) are not links. */
	if (ifi->ifi_family != AF_UNSPEC)
		return -ENOENT;
	return attrs_parse(nlh, sizeof(*ifi), link_policy, IFLA_MAX, tb);
}

static void link_kind(const struct nlattr *linkinfo, char *out, size_t len);

int netcfg_parse_link(const struct nlmsghdr *nlh, struct netcfg_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	int err = parse_link_attrs(nlh, tb);

	if (err < 0)
		return err;
	if (!tb[IFLA_IFNAME] || mnl_attr_get_payload_len(tb[IFLA_IFNAME]) > IFNAMSIZ ||
	    ifi->ifi_index <= 0)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	/* NUL-terminated within IFNAMSIZ bytes, checked above and by the policy. */
	strcpy(l->name, mnl_attr_get_str(tb[IFLA_IFNAME]));
	l->up = (ifi->ifi_flags & IFF_UP) != 0;
	l->running = (ifi->ifi_flags & IFF_RUNNING) != 0;
	l->mtu = tb[IFLA_MTU] ? mnl_attr_get_u32(tb[IFLA_MTU]) : 0;
	if (tb[IFLA_LINKINFO])
		link_kind(tb[IFLA_LINKINFO], l->kind, sizeof(l->kind));
	return 0;
}

static const struct attr_policy linkinfo_policy[IFLA_INFO_MAX + 1] = {
    [IFLA_INFO_KIND] = {MNL_TYPE_STRING, 0},
    [IFLA_INFO_DATA] = {MNL_TYPE_NESTED, 0},
};

static const struct attr_policy iptun_policy[IFLA_IPTUN_MAX + 1] = {
    [IFLA_IPTUN_LOCAL] = {MNL_TYPE_BINARY, sizeof(struct in_addr)},
    [IFLA_IPTUN_REMOTE] = {MNL_TYPE_BINARY, sizeof(struct in_addr)},
    [IFLA_IPTUN_TTL] = {MNL_TYPE_U8, 0},
};

/* IFLA_INFO_KIND is "sit" with or without its terminating NUL. */
static bool kind_is(const struct nlattr *kind, const char *want)
{
	size_t len = mnl_attr_get_payload_len(kind);
	const char *s = mnl_attr_get_payload(kind);

	if (len > 0 && s[len - 1] == '\0')
		len--;
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* The link's kind, "" when its link info is malformed or names none (too long: cut). */
static void link_kind(const struct nlattr *linkinfo, char *out, size_t len)
{
	const struct nlattr *info[IFLA_INFO_MAX + 1];
	size_t n;

	out[0] = '\0';
	if (attrs_parse_nested(linkinfo, linkinfo_policy, IFLA_INFO_MAX, info) < 0 ||
	    !info[IFLA_INFO_KIND])
		return;
	n = mnl_attr_get_payload_len(info[IFLA_INFO_KIND]);
	n = n < len ? n : len - 1;
	memcpy(out, mnl_attr_get_payload(info[IFLA_INFO_KIND]), n);
	out[n] = '\0';
}

int netcfg_parse_sit(const struct nlmsghdr *nlh, struct netcfg_sit *s)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct nlattr *info[IFLA_INFO_MAX + 1];
	const struct nlattr *data[IFLA_IPTUN_MAX + 1];
	int err = parse_link_attrs(nlh, tb);

	if (err < 0)
		return err;
	if (!tb[IFLA_LINKINFO])
		return -EMEDIUMTYPE;
	err = attrs_parse_nested(tb[IFLA_LINKINFO], linkinfo_policy, IFLA_INFO_MAX, info);
	if (err < 0)
		return err;
	if (!info[IFLA_INFO_KIND] || !kind_is(info[IFLA_INFO_KIND], "sit"))
		return -EMEDIUMTYPE;
	memset(s, 0, sizeof(*s));
	if (!info[IFLA_INFO_DATA])
		return 0;
	err = attrs_parse_nested(info[IFLA_INFO_DATA], iptun_policy, IFLA_IPTUN_MAX, data);
	if (err < 0)
		return err;
	if (data[IFLA_IPTUN_LOCAL])
		memcpy(&s->local, mnl_attr_get_payload(data[IFLA_IPTUN_LOCAL]), sizeof(s->local));
	if (data[IFLA_IPTUN_REMOTE])
		memcpy(&s->remote, mnl_attr_get_payload(data[IFLA_IPTUN_REMOTE]),
		       sizeof(s->remote));
	if (data[IFLA_IPTUN_TTL])
		s->ttl = mnl_attr_get_u8(data[IFLA_IPTUN_TTL]);
	return 0;
}

static const struct attr_policy ack_policy[NLMSGERR_ATTR_MAX + 1] = {
    [NLMSGERR_ATTR_MSG] = {MNL_TYPE_NUL_STRING, 0},
};

int netcfg_parse_ack(const struct nlmsghdr *nlh, const char **msg)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t tlv_off = sizeof(*e);
	int err;

	*msg = NULL;
	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	/* Netlink families disagree on the sign; errno values are positive. */
	err = e->error < 0 ? e->error : -e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return err;
	/* Without NETLINK_CAP_ACK the whole request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > sizeof(e->msg))
		tlv_off += e->msg.nlmsg_len - sizeof(e->msg);
	if (tlv_off > mnl_nlmsg_get_payload_len(nlh))
		return err;
	if (attrs_parse(nlh, tlv_off, ack_policy, NLMSGERR_ATTR_MAX, tb) == 0 &&
	    tb[NLMSGERR_ATTR_MSG])
		*msg = mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]);
	return err;
}

/* RTM_GETROUTE for one host address of family (len bytes at dst). */
static struct nlmsghdr *route_get(void *buf, uint32_t seq, uint8_t family, const void *dst,
                                  size_t len)
{
	struct nlmsghdr *nlh = request_header(buf, seq, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = family;
	rtm->rtm_dst_len = (unsigned char)(len * 8);
	mnl_attr_put(nlh, RTA_DST, len, dst);
	return nlh;
}

struct nlmsghdr *netcfg_build_route_get(void *buf, uint32_t seq, const struct in6_addr *dst)
{
	return route_get(buf, seq, AF_INET6, dst, sizeof(*dst));
}

struct nlmsghdr *netcfg_build_route_get4(void *buf, uint32_t seq, struct in_addr dst)
{
	return route_get(buf, seq, AF_INET, &dst, sizeof(dst));
}

/* Only the attribute looked at is checked; the kernel adds others (table, uid, cache info). */
static const struct attr_policy route4_policy[RTA_MAX + 1] = {
    [RTA_PREFSRC] = {MNL_TYPE_BINARY, sizeof(struct in_addr)},
};

int netcfg_parse_route_src4(const struct nlmsghdr *nlh, struct in_addr *src)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EINVAL;
	if (rtm->rtm_family != AF_INET)
		return -ENOENT;
	if (attrs_parse(nlh, sizeof(*rtm), route4_policy, RTA_MAX, tb) < 0)
		return -EINVAL;
	if (!tb[RTA_PREFSRC])
		return -ENOENT;
	if (mnl_attr_get_payload_len(tb[RTA_PREFSRC]) != sizeof(*src))
		return -EINVAL;
	memcpy(src, mnl_attr_get_payload(tb[RTA_PREFSRC]), sizeof(*src));
	return 0;
}

static const struct attr_policy route4_mtu_policy[RTA_MAX + 1] = {
    [RTA_OIF] = {MNL_TYPE_U32, 0},
    [RTA_METRICS] = {MNL_TYPE_NESTED, 0},
};

int netcfg_parse_route_mtu4(const struct nlmsghdr *nlh, struct netcfg_route_mtu *out)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct nlattr *mx[RTAX_MAX + 1];
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	uint32_t oif = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EINVAL;
	if (rtm->rtm_family != AF_INET)
		return -ENOENT;
	if (attrs_parse(nlh, sizeof(*rtm), route4_mtu_policy, RTA_MAX, tb) < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (tb[RTA_METRICS]) {
		if (attrs_parse_nested(tb[RTA_METRICS], metrics_policy, RTAX_MAX, mx) < 0)
			return -EINVAL;
		if (mx[RTAX_MTU])
			out->mtu = mnl_attr_get_u32(mx[RTAX_MTU]);
	}
	if (tb[RTA_OIF])
		oif = mnl_attr_get_u32(tb[RTA_OIF]);
	if (oif > INT32_MAX)
		return -EINVAL;
	out->oif = (int)oif;
	if (!out->mtu && !out->oif)
		return -ENOENT; /* nothing to learn the path MTU from */
	return 0;
}

int netcfg_event_ifindex(const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
			return -EINVAL;
		return ifi->ifi_index > 0 ? ifi->ifi_index : 0;
	}
	case RTM_NEWADDR:
	case RTM_DELADDR: {
		const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
			return -EINVAL;
		return ifa->ifa_index <= INT32_MAX ? (int)ifa->ifa_index : 0;
	}
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct rtmsg)))
			return -EINVAL;
		mnl_attr_for_each(attr, nlh, sizeof(struct rtmsg))
		{
			if (mnl_attr_get_type(attr) == RTA_OIF &&
			    mnl_attr_get_payload_len(attr) == sizeof(uint32_t)) {
				uint32_t oif = mnl_attr_get_u32(attr);

				return oif <= INT32_MAX ? (int)oif : 0;
			}
		}
		return 0;
	default:
		return -ENOENT;
	}
}
