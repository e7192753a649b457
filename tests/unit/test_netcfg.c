/*
 * netcfg's pure message code.  Builders are checked by taking their output
 * apart with libmnl here, attribute by attribute; parsers are fed messages
 * put together here by hand, including broken ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "netcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/rtnetlink.h>

#define TB_MAX 64

static _Alignas(struct nlmsghdr) char buf[NETCFG_MSG_MAX];

/* ---- helpers: an independent attribute table ---- */

struct tb {
	const struct nlattr *a[TB_MAX];
	int count;
};

static int tb_cb(const struct nlattr *attr, void *data)
{
	struct tb *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	assert_true(type < TB_MAX);
	assert_null(t->a[type]); /* no attribute twice */
	t->a[type] = attr;
	t->count++;
	return MNL_CB_OK;
}

/* Parses the message's attributes and checks they fill it exactly. */
static void tb_parse(const struct nlmsghdr *nlh, size_t hdrlen, struct tb *t)
{
	const struct nlattr *attr;
	size_t used = 0;

	memset(t, 0, sizeof(*t));
	assert_true(nlh->nlmsg_len <= NETCFG_MSG_MAX);
	assert_int_equal(mnl_attr_parse(nlh, hdrlen, tb_cb, t), MNL_CB_OK);
	mnl_attr_for_each(attr, nlh, hdrlen) used += MNL_ALIGN(attr->nla_len);
	assert_int_equal(MNL_ALIGN(hdrlen) + used, mnl_nlmsg_get_payload_len(nlh));
}

static void tb_parse_nested(const struct nlattr *nest, struct tb *t)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(mnl_attr_parse_nested(nest, tb_cb, t), MNL_CB_OK);
}

static void assert_u32_attr(const struct nlattr *a, uint32_t want)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), 4);
	assert_int_equal(mnl_attr_get_u32(a), want);
}

static void assert_u8_attr(const struct nlattr *a, uint8_t want)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), 1);
	assert_int_equal(mnl_attr_get_u8(a), want);
}

static void assert_bin_attr(const struct nlattr *a, const void *want, size_t len)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), len);
	assert_memory_equal(mnl_attr_get_payload(a), want, len);
}

static void assert_request(const struct nlmsghdr *nlh, uint16_t type, uint16_t flags, uint32_t seq)
{
	assert_non_null(nlh);
	assert_ptr_equal(nlh, buf);
	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | flags);
	assert_int_equal(nlh->nlmsg_seq, seq);
	assert_int_equal(nlh->nlmsg_pid, 0);
}

static struct in6_addr addr6(const char *text)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, text, &a), 1);
	return a;
}

static struct in_addr addr4(const char *text)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, text, &a), 1);
	return a;
}

/* Starts a kernel-style message in buf (what a dump or event carries). */
static struct nlmsghdr *kernel_msg(uint16_t type, size_t hdrlen, void **hdr)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	*hdr = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	return nlh;
}

/* ---- builders ---- */

static void test_build_route_get(void **state)
{
	struct in6_addr dst = addr6("2001:db8:a::2");
	struct nlmsghdr *nlh = netcfg_build_route_get(buf, 7, &dst);
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct tb t;

	(void)state;
	assert_request(nlh, RTM_GETROUTE, 0, 7);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 128);
	tb_parse(nlh, sizeof(*rtm), &t);
	assert_int_equal(t.count, 1);
	assert_bin_attr(t.a[RTA_DST], &dst, sizeof(dst));
}

static void test_build_route(void **state)
{
	struct netcfg_route r = {.table = 200, .ifindex = 7, .mtu = 1280, .priority = 1024};
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct tb t, mx;

	(void)state;
	r.protocol = NETCFG_PROTO;
	nlh = netcfg_build_route(buf, 42, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &r);
	assert_request(nlh, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, 42);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_int_equal(rtm->rtm_src_len, 0);
	assert_int_equal(rtm->rtm_table, 200);
	assert_int_equal(rtm->rtm_protocol, NETCFG_PROTO);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	tb_parse(nlh, sizeof(*rtm), &t);
	assert_u32_attr(t.a[RTA_TABLE], 200);
	assert_u32_attr(t.a[RTA_OIF], 7);
	assert_u32_attr(t.a[RTA_PRIORITY], 1024);
	assert_null(t.a[RTA_DST]); /* default route: no destination */
	assert_non_null(t.a[RTA_METRICS]);
	assert_int_equal(t.count, 4);
	tb_parse_nested(t.a[RTA_METRICS], &mx);
	assert_u32_attr(mx.a[RTAX_MTU], 1280);
	assert_int_equal(mx.count, 1);
}

static void test_build_route_prefix_big_table_no_options(void **state)
{
	struct netcfg_route r = {.table = 1000, .dst_len = 48};
	struct in6_addr dst = addr6("2001:db8:1::");
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct tb t;

	(void)state;
	r.dst = dst;
	nlh = netcfg_build_route(buf, 1, RTM_DELROUTE, 0, &r);
	assert_request(nlh, RTM_DELROUTE, 0, 1);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_dst_len, 48);
	/* 1000 does not fit the 8-bit field: only RTA_TABLE carries it. */
	assert_int_equal(rtm->rtm_table, RT_TABLE_UNSPEC);
	assert_int_equal(rtm->rtm_protocol, 0);
	tb_parse(nlh, sizeof(*rtm), &t);
	assert_u32_attr(t.a[RTA_TABLE], 1000);
	assert_bin_attr(t.a[RTA_DST], &dst, sizeof(dst));
	/* No device, no metric, no MTU: none of those attributes. */
	assert_null(t.a[RTA_OIF]);
	assert_null(t.a[RTA_PRIORITY]);
	assert_null(t.a[RTA_METRICS]);
	assert_int_equal(t.count, 2);

	r.dst_len = 129;
	assert_null(netcfg_build_route(buf, 1, RTM_NEWROUTE, 0, &r));
}

static void test_build_rule(void **state)
{
	struct netcfg_rule r = {.src_len = 128, .table = 200, .priority = 1000};
	struct in6_addr src = addr6("2001:db8:a::2");
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;
	struct tb t;

	(void)state;
	r.src = src;
	r.protocol = NETCFG_PROTO;
	nlh = netcfg_build_rule(buf, 9, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, &r);
	assert_request(nlh, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, 9);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->family, AF_INET6);
	assert_int_equal(frh->src_len, 128);
	assert_int_equal(frh->dst_len, 0);
	assert_int_equal(frh->tos, 0);
	assert_int_equal(frh->table, 200);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	assert_int_equal(frh->flags, 0);
	tb_parse(nlh, sizeof(*frh), &t);
	assert_bin_attr(t.a[FRA_SRC], &src, sizeof(src));
	assert_u32_attr(t.a[FRA_TABLE], 200);
	assert_u32_attr(t.a[FRA_PRIORITY], 1000);
	assert_u8_attr(t.a[FRA_PROTOCOL], NETCFG_PROTO);
	assert_int_equal(t.count, 4);
}

static void test_build_rule_defaults(void **state)
{
	struct netcfg_rule r = {.table = 70000};
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;
	struct tb t;

	(void)state;
	nlh = netcfg_build_rule(buf, 3, RTM_DELRULE, 0, &r);
	assert_request(nlh, RTM_DELRULE, 0, 3);
	frh = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(frh->table, RT_TABLE_UNSPEC);
	tb_parse(nlh, sizeof(*frh), &t);
	assert_u32_attr(t.a[FRA_TABLE], 70000);
	/* From all, any priority: neither attribute is sent. */
	assert_null(t.a[FRA_SRC]);
	assert_null(t.a[FRA_PRIORITY]);
	assert_u8_attr(t.a[FRA_PROTOCOL], 0);
	assert_int_equal(t.count, 2);
}

static void test_build_addr(void **state)
{
	struct netcfg_addr a = {.ifindex = 5, .prefix_len = 64, .nodad = true};
	struct in6_addr ip = addr6("2001:db8:a::2");
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	struct tb t;

	(void)state;
	a.addr = ip;
	nlh = netcfg_build_addr(buf, 77, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &a);
	assert_request(nlh, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, 77);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	assert_int_equal(ifa->ifa_prefixlen, 64);
	assert_int_equal(ifa->ifa_index, 5);
	assert_int_equal(ifa->ifa_flags, IFA_F_NODAD);
	tb_parse(nlh, sizeof(*ifa), &t);
	assert_bin_attr(t.a[IFA_LOCAL], &ip, sizeof(ip));
	assert_bin_attr(t.a[IFA_ADDRESS], &ip, sizeof(ip));
	assert_u32_attr(t.a[IFA_FLAGS], IFA_F_NODAD);
	assert_int_equal(t.count, 3);

	a.nodad = false;
	nlh = netcfg_build_addr(buf, 78, RTM_DELADDR, 0, &a);
	assert_request(nlh, RTM_DELADDR, 0, 78);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_flags, 0);
	tb_parse(nlh, sizeof(*ifa), &t);
	assert_u32_attr(t.a[IFA_FLAGS], 0);

	a.prefix_len = 200;
	assert_null(netcfg_build_addr(buf, 1, RTM_NEWADDR, 0, &a));
}

static void test_build_link(void **state)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct tb t;

	(void)state;
	nlh = netcfg_build_link(buf, 5, 12, true, 1280);
	assert_request(nlh, RTM_NEWLINK, 0, 5);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, 12);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	tb_parse(nlh, sizeof(*ifi), &t);
	assert_u32_attr(t.a[IFLA_MTU], 1280);
	assert_int_equal(t.count, 1);

	/* Down, MTU kept: only the flag changes. */
	nlh = netcfg_build_link(buf, 6, 12, false, 0);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(ifi->ifi_flags, 0);
	tb_parse(nlh, sizeof(*ifi), &t);
	assert_int_equal(t.count, 0);

	nlh = netcfg_build_link_del(buf, 7, 12);
	assert_request(nlh, RTM_DELLINK, 0, 7);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 12);
	tb_parse(nlh, sizeof(*ifi), &t);
	assert_int_equal(t.count, 0);

	/* A link into a group; a whole group removed (no index: the group is the key). */
	nlh = netcfg_build_link_group(buf, 8, 12, 0x61696363u);
	assert_request(nlh, RTM_NEWLINK, 0, 8);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 12);
	assert_int_equal(ifi->ifi_change, 0);
	tb_parse(nlh, sizeof(*ifi), &t);
	assert_u32_attr(t.a[IFLA_GROUP], 0x61696363u);
	assert_int_equal(t.count, 1);
	nlh = netcfg_build_group_del(buf, 9, 0x61696363u);
	assert_request(nlh, RTM_DELLINK, 0, 9);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 0);
	tb_parse(nlh, sizeof(*ifi), &t);
	assert_u32_attr(t.a[IFLA_GROUP], 0x61696363u);
	assert_int_equal(t.count, 1);
}

/* The sit nest: kind "sit", then the tunnel data. */
static void assert_sit_info(const struct nlattr *linkinfo, struct in_addr local,
                            struct in_addr remote, uint8_t ttl)
{
	struct tb info, data;

	assert_non_null(linkinfo);
	tb_parse_nested(linkinfo, &info);
	assert_int_equal(info.count, 2);
	assert_non_null(info.a[IFLA_INFO_KIND]);
	assert_string_equal(mnl_attr_get_str(info.a[IFLA_INFO_KIND]), "sit");
	assert_non_null(info.a[IFLA_INFO_DATA]);
	tb_parse_nested(info.a[IFLA_INFO_DATA], &data);
	assert_bin_attr(data.a[IFLA_IPTUN_LOCAL], &local, 4);
	assert_bin_attr(data.a[IFLA_IPTUN_REMOTE], &remote, 4);
	assert_u8_attr(data.a[IFLA_IPTUN_TTL], ttl);
	assert_u8_attr(data.a[IFLA_IPTUN_PMTUDISC], 1);
	assert_int_equal(data.count, 4);
}

static void test_build_sit(void **state)
{
	struct in_addr local = addr4("192.0.2.1"), remote = addr4("198.51.100.1");
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct tb t;

	(void)state;
	nlh = netcfg_build_sit(buf, 11, "sixxs0", local, remote, 64, 1280);
	assert_request(nlh, RTM_NEWLINK, NLM_F_CREATE, 11);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_family, AF_UNSPEC);
	assert_int_equal(ifi->ifi_index, 0);
	tb_parse(nlh, sizeof(*ifi), &t);
	assert_non_null(t.a[IFLA_IFNAME]);
	assert_int_equal(mnl_attr_validate(t.a[IFLA_IFNAME], MNL_TYPE_NUL_STRING), 0);
	assert_string_equal(mnl_attr_get_str(t.a[IFLA_IFNAME]), "sixxs0");
	assert_u32_attr(t.a[IFLA_MTU], 1280);
	assert_sit_info(t.a[IFLA_LINKINFO], local, remote, 64);
	assert_int_equal(t.count, 3);

	/* MTU 0: the kernel's default, no IFLA_MTU. */
	nlh = netcfg_build_sit(buf, 12, "sixxs0", local, remote, 0, 0);
	tb_parse(nlh, sizeof(*ifi), &t);
	assert_null(t.a[IFLA_MTU]);
	assert_sit_info(t.a[IFLA_LINKINFO], local, remote, 0);

	assert_null(netcfg_build_sit(buf, 1, "0123456789abcdef", local, remote, 64, 0));
	assert_null(netcfg_build_sit(buf, 1, "", local, remote, 64, 0));
	assert_null(netcfg_build_sit(buf, 1, NULL, local, remote, 64, 0));
}

static void test_build_sit_change(void **state)
{
	struct netcfg_sit s = {.local = addr4("192.0.2.9"), .remote = addr4("203.0.113.5")};
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;
	struct tb t;

	(void)state;
	s.ttl = 255;
	nlh = netcfg_build_sit_change(buf, 13, 21, &s);
	/* Not CREATE: it must only ever change an existing link. */
	assert_request(nlh, RTM_NEWLINK, 0, 13);
	ifi = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifi->ifi_index, 21);
	assert_int_equal(ifi->ifi_change, 0);
	tb_parse(nlh, sizeof(*ifi), &t);
	assert_null(t.a[IFLA_IFNAME]);
	assert_sit_info(t.a[IFLA_LINKINFO], s.local, s.remote, 255);
	assert_int_equal(t.count, 1);
}

/* ---- parsers: routes ---- */

static struct nlmsghdr *kernel_route(uint8_t family, uint8_t type, struct rtmsg **out)
{
	struct rtmsg *rtm;
	struct nlmsghdr *nlh = kernel_msg(RTM_NEWROUTE, sizeof(*rtm), (void **)&rtm);

	rtm->rtm_family = family;
	rtm->rtm_type = type;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = NETCFG_PROTO;
	*out = rtm;
	return nlh;
}

/* Issue 20: a worker finds its IPv4 source with RTM_GETROUTE, not a UDP connect. */
static void test_build_route_get4(void **state)
{
	struct in_addr dst = addr4("192.0.2.1");
	struct nlmsghdr *nlh = netcfg_build_route_get4(buf, 9, dst);
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct tb t;

	(void)state;
	assert_request(nlh, RTM_GETROUTE, 0, 9);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, 32);
	tb_parse(nlh, sizeof(*rtm), &t);
	assert_int_equal(t.count, 1);
	assert_bin_attr(t.a[RTA_DST], &dst, sizeof(dst));
}

static void test_parse_route_src4(void **state)
{
	struct in_addr dst = addr4("192.0.2.1"), src = addr4("198.51.100.2"), got = {0};
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	(void)state;
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	rtm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mnl_attr_put(nlh, RTA_PREFSRC, sizeof(src), &src);
	mnl_attr_put_u32(nlh, RTA_MAX + 5, 1); /* from a newer kernel: ignored */
	assert_int_equal(netcfg_parse_route_src4(nlh, &got), 0);
	assert_memory_equal(&got, &src, sizeof(src));
	/* No source in the answer */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	assert_int_equal(netcfg_parse_route_src4(nlh, &got), -ENOENT);
	/* A source of the wrong size */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	mnl_attr_put_u16(nlh, RTA_PREFSRC, 1);
	assert_int_equal(netcfg_parse_route_src4(nlh, &got), -EINVAL);
	/* IPv6 */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	assert_int_equal(netcfg_parse_route_src4(nlh, &got), -ENOENT);
	/* Truncated */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	nlh->nlmsg_len = sizeof(*nlh) + 2;
	assert_int_equal(netcfg_parse_route_src4(nlh, &got), -EINVAL);
}

/* Issue 22 (10): the path MTU toward an AYIYA PoP, from the route's metric or its link. */
static void test_parse_route_mtu4(void **state)
{
	struct in_addr dst = addr4("192.0.2.1"), src = addr4("198.51.100.2");
	struct netcfg_route_mtu got;
	struct nlattr *mx;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	(void)state;
	/* A route with an MTU metric (ip route add ... mtu 1400, or a learned PMTU) */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	rtm->rtm_dst_len = 32;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	mnl_attr_put(nlh, RTA_PREFSRC, sizeof(src), &src);
	mx = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u32(nlh, RTAX_LOCK, 1u << RTAX_MTU);
	mnl_attr_put_u32(nlh, RTAX_MTU, 1400);
	mnl_attr_nest_end(nlh, mx);
	mnl_attr_put_u32(nlh, RTA_MAX + 5, 1); /* from a newer kernel: ignored */
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), 0);
	assert_int_equal(got.mtu, 1400);
	assert_int_equal(got.oif, 3);
	/* No metric: the link decides (the caller asks for its MTU) */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), 0);
	assert_int_equal(got.mtu, 0);
	assert_int_equal(got.oif, 2);
	/* Metrics without an MTU */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mx = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u32(nlh, RTAX_HOPLIMIT, 64);
	mnl_attr_nest_end(nlh, mx);
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), 0);
	assert_int_equal(got.mtu, 0);
	/* Neither a metric nor a link: nothing to learn */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), -ENOENT);
	/* An MTU metric of the wrong size */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mx = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u16(nlh, RTAX_MTU, 1400);
	mnl_attr_nest_end(nlh, mx);
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), -EINVAL);
	/* An output link of the wrong size, or past INT32_MAX */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	mnl_attr_put_u16(nlh, RTA_OIF, 2);
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), -EINVAL);
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	mnl_attr_put_u32(nlh, RTA_OIF, 0x80000000u);
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), -EINVAL);
	/* IPv6 */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), -ENOENT);
	/* Truncated */
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	nlh->nlmsg_len = sizeof(*nlh) + 2;
	assert_int_equal(netcfg_parse_route_mtu4(nlh, &got), -EINVAL);
}

/*
 * Issue 20 (5): a read-only /proc/sys (a container) is fine where the value
 * is already right; only a value that cannot be made right fails, and the
 * file is named.  A fake tree, made read-only by a bind mount in a mount
 * namespace of this test's own (root only: root writes through file modes).
 */
static char conf_root[64];

static void conf_file(const char *key, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/ipv6/conf/tun0/%s", conf_root, key);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_ipv6_conf_read_only(void **state)
{
	char path[256];
	int werr = 0;

	(void)state;
	snprintf(conf_root, sizeof(conf_root), "/tmp/netcfg-conf.XXXXXX");
	assert_non_null(mkdtemp(conf_root));
	snprintf(path, sizeof(path), "%s/net", conf_root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/ipv6", conf_root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/ipv6/conf", conf_root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/ipv6/conf/tun0", conf_root);
	assert_int_equal(mkdir(path, 0755), 0);
	conf_file("accept_ra", "1\n");
	conf_file("autoconf", "0\n");
	/* Writable: written. */
	assert_int_equal(netcfg_ipv6_conf_set_at(conf_root, "tun0", "accept_ra", "0", &werr), 0);
	assert_int_equal(werr, 0);
	conf_file("accept_ra", "1\n");
	assert_int_equal(netcfg_ipv6_conf_set_at(conf_root, "tun0", "nokey", "0", &werr), -ENOENT);
	assert_int_equal(netcfg_ipv6_conf_set_at(conf_root, "../x", "accept_ra", "0", &werr),
	                 -EINVAL);
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(conf_root, conf_root, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, conf_root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
		fprintf(stderr, "read-only case needs root and a mount namespace: %s\n",
		        strerror(errno));
		snprintf(path, sizeof(path), "rm -rf '%s'", conf_root);
		if (system(path) != 0)
			fprintf(stderr, "cannot remove %s\n", conf_root);
		skip();
	}
	/* Read-only, already right: 1, and the refusal is said. */
	assert_int_equal(netcfg_ipv6_conf_set_at(conf_root, "tun0", "autoconf", "0", &werr), 1);
	assert_int_equal(werr, -EROFS);
	/* Read-only and wrong: the write's error. */
	assert_int_equal(netcfg_ipv6_conf_set_at(conf_root, "tun0", "accept_ra", "0", &werr),
	                 -EROFS);
	/* The whole value must match: "" is not "1" */
	assert_int_equal(netcfg_ipv6_conf_set_at(conf_root, "tun0", "accept_ra", "", &werr),
	                 -EROFS);
	assert_int_equal(umount(conf_root), 0);
	snprintf(path, sizeof(path), "rm -rf '%s'", conf_root);
	assert_int_equal(system(path), 0);
}

static void test_parse_route(void **state)
{
	struct in6_addr dst = addr6("2001:db8:5::");
	struct netcfg_route r;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct rtmsg *rtm;

	(void)state;
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	rtm->rtm_dst_len = 48;
	rtm->rtm_table = RT_TABLE_COMPAT; /* what the kernel says for big ids */
	mnl_attr_put_u32(nlh, RTA_TABLE, 4242);
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 1024);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	mnl_attr_put_u32(nlh, RTA_MAX + 5, 1); /* from a newer kernel: ignored */
	nest = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u32(nlh, RTAX_HOPLIMIT, 64);
	mnl_attr_put_u32(nlh, RTAX_MTU, 1480);
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u8(nlh, RTA_PREF, 0);
	assert_int_equal(netcfg_parse_route(nlh, &r), 0);
	assert_int_equal(r.table, 4242);
	assert_int_equal(r.dst_len, 48);
	assert_memory_equal(&r.dst, &dst, sizeof(dst));
	assert_int_equal(r.ifindex, 3);
	assert_int_equal(r.priority, 1024);
	assert_int_equal(r.mtu, 1480);
	assert_int_equal(r.protocol, NETCFG_PROTO);

	/* Without RTA_TABLE the header's table counts; no metrics, no MTU. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	nlh->nlmsg_type = RTM_DELROUTE;
	mnl_attr_put_u32(nlh, RTA_OIF, 9);
	assert_int_equal(netcfg_parse_route(nlh, &r), 0);
	assert_int_equal(r.table, RT_TABLE_MAIN);
	assert_int_equal(r.dst_len, 0);
	assert_int_equal(r.mtu, 0);
	assert_int_equal(r.priority, 0);
	assert_int_equal(r.ifindex, 9);
}

static void test_parse_route_rejects_what_it_cannot_describe(void **state)
{
	struct in_addr v4 = addr4("192.0.2.0");
	struct in6_addr gw = addr6("fe80::1");
	struct netcfg_route r;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	(void)state;
	nlh = kernel_route(AF_INET, RTN_UNICAST, &rtm);
	rtm->rtm_dst_len = 24;
	mnl_attr_put(nlh, RTA_DST, sizeof(v4), &v4);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	assert_int_equal(netcfg_parse_route(nlh, &r), -ENOENT);

	nlh = kernel_route(AF_INET6, RTN_LOCAL, &rtm);
	assert_int_equal(netcfg_parse_route(nlh, &r), -ENOENT);
	nlh = kernel_route(AF_INET6, RTN_MULTICAST, &rtm);
	assert_int_equal(netcfg_parse_route(nlh, &r), -ENOENT);

	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	rtm->rtm_flags = RTM_F_CLONED;
	assert_int_equal(netcfg_parse_route(nlh, &r), -ENOENT);

	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
	assert_int_equal(netcfg_parse_route(nlh, &r), -ENOENT);

	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	rtm->rtm_src_len = 64;
	assert_int_equal(netcfg_parse_route(nlh, &r), -ENOENT);
}

static void test_parse_route_malformed(void **state)
{
	struct in6_addr dst = addr6("2001:db8::");
	struct netcfg_route r;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct rtmsg *rtm;
	uint16_t two = 2;

	(void)state;
	/* RTA_OIF with a 2-byte payload. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	mnl_attr_put(nlh, RTA_OIF, sizeof(two), &two);
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);

	/* RTA_DST of 4 bytes in an IPv6 route. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	rtm->rtm_dst_len = 32;
	mnl_attr_put(nlh, RTA_DST, 4, &dst);
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);

	/* dst_len set, no RTA_DST. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	rtm->rtm_dst_len = 32;
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);

	/* dst_len out of range. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	rtm->rtm_dst_len = 129;
	mnl_attr_put(nlh, RTA_DST, sizeof(dst), &dst);
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);

	/* Last attribute claims more bytes than the message has. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 5);
	nlh->nlmsg_len -= 4;
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);

	/* Trailing bytes that are no attribute at all. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	nlh->nlmsg_len += 4;
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);

	/* Broken attribute inside the metrics nest. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	nest = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put(nlh, RTAX_MTU, sizeof(two), &two);
	mnl_attr_nest_end(nlh, nest);
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);

	/* Shorter than struct rtmsg; and not a route message at all. */
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	nlh->nlmsg_len = mnl_nlmsg_size(4);
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	nlh->nlmsg_type = RTM_NEWADDR;
	assert_int_equal(netcfg_parse_route(nlh, &r), -EINVAL);
}

static void test_route_round_trip(void **state)
{
	struct netcfg_route in = {.table = 300, .ifindex = 4, .dst_len = 64, .mtu = 1280};
	struct netcfg_route out;

	(void)state;
	in.dst = addr6("2001:db8:77::");
	in.priority = 10;
	in.protocol = NETCFG_PROTO;
	assert_int_equal(netcfg_parse_route(netcfg_build_route(buf, 1, RTM_NEWROUTE, 0, &in), &out),
	                 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

/* ---- parsers: rules ---- */

static struct nlmsghdr *kernel_rule(uint8_t family, uint8_t action, struct fib_rule_hdr **out)
{
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh = kernel_msg(RTM_NEWRULE, sizeof(*frh), (void **)&frh);

	frh->family = family;
	frh->action = action;
	frh->table = 200;
	/* As the kernel reports every rule. */
	mnl_attr_put_u32(nlh, FRA_TABLE, 200);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, UINT32_MAX);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, NETCFG_PROTO);
	*out = frh;
	return nlh;
}

static void test_parse_rule(void **state)
{
	struct in6_addr src = addr6("2001:db8:a::2");
	struct fib_rule_hdr *frh;
	struct netcfg_rule r;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	frh->src_len = 128;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, 1000);
	mnl_attr_put(nlh, FRA_SRC, sizeof(src), &src);
	assert_int_equal(netcfg_parse_rule(nlh, &r), 0);
	assert_memory_equal(&r.src, &src, sizeof(src));
	assert_int_equal(r.src_len, 128);
	assert_int_equal(r.table, 200);
	assert_int_equal(r.priority, 1000);
	assert_int_equal(r.protocol, NETCFG_PROTO);

	/* "0: from all lookup local": no priority attribute, no source. */
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	nlh->nlmsg_type = RTM_DELRULE;
	assert_int_equal(netcfg_parse_rule(nlh, &r), 0);
	assert_int_equal(r.src_len, 0);
	assert_int_equal(r.priority, 0);
}

static void test_parse_rule_rejects(void **state)
{
	struct in6_addr src = addr6("2001:db8:a::2");
	struct fib_rule_hdr *frh;
	struct netcfg_rule r;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = kernel_rule(AF_INET, FR_ACT_TO_TBL, &frh);
	assert_int_equal(netcfg_parse_rule(nlh, &r), -ENOENT);
	nlh = kernel_rule(AF_INET6, FR_ACT_BLACKHOLE, &frh);
	assert_int_equal(netcfg_parse_rule(nlh, &r), -ENOENT);
	/* Same source but only for one input device: a different rule. */
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	mnl_attr_put_strz(nlh, FRA_IIFNAME, "eth0");
	assert_int_equal(netcfg_parse_rule(nlh, &r), -ENOENT);
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	mnl_attr_put_u32(nlh, FRA_FWMARK, 1);
	assert_int_equal(netcfg_parse_rule(nlh, &r), -ENOENT);
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	frh->flags = FIB_RULE_INVERT;
	assert_int_equal(netcfg_parse_rule(nlh, &r), -ENOENT);
	/* "suppress_prefixlength 0": not the kernel's "unset" value. */
	nlh = kernel_msg(RTM_NEWRULE, sizeof(*frh), (void **)&frh);
	frh->family = AF_INET6;
	frh->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_TABLE, 200);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, 0);
	assert_int_equal(netcfg_parse_rule(nlh, &r), -ENOENT);
	/* ...while the same message with the unset value is a plain rule. */
	nlh = kernel_msg(RTM_NEWRULE, sizeof(*frh), (void **)&frh);
	frh->family = AF_INET6;
	frh->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_TABLE, 200);
	mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, UINT32_MAX);
	assert_int_equal(netcfg_parse_rule(nlh, &r), 0);
	assert_int_equal(r.protocol, 0);

	/* Malformed: source length without source, short source, bad u8. */
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	frh->src_len = 128;
	assert_int_equal(netcfg_parse_rule(nlh, &r), -EINVAL);
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	frh->src_len = 32;
	mnl_attr_put(nlh, FRA_SRC, 4, &src);
	assert_int_equal(netcfg_parse_rule(nlh, &r), -EINVAL);
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	mnl_attr_put(nlh, FRA_PRIORITY, 2, &src);
	assert_int_equal(netcfg_parse_rule(nlh, &r), -EINVAL);
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &frh);
	nlh->nlmsg_len -= 2; /* only FRA_PROTOCOL's padding: still whole */
	assert_int_equal(netcfg_parse_rule(nlh, &r), 0);
	nlh->nlmsg_len -= 2; /* now into its payload */
	assert_int_equal(netcfg_parse_rule(nlh, &r), -EINVAL);
}

static void test_rule_round_trip(void **state)
{
	struct netcfg_rule in = {.src_len = 56, .table = 65000, .priority = 20000};
	struct netcfg_rule out;

	(void)state;
	in.src = addr6("2001:db8:ab:cd00::");
	in.protocol = NETCFG_PROTO;
	assert_int_equal(netcfg_parse_rule(netcfg_build_rule(buf, 1, RTM_NEWRULE, 0, &in), &out),
	                 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

/* ---- parsers: addresses ---- */

static struct nlmsghdr *kernel_addr(uint8_t family, struct ifaddrmsg **out)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh = kernel_msg(RTM_NEWADDR, sizeof(*ifa), (void **)&ifa);

	ifa->ifa_family = family;
	ifa->ifa_prefixlen = 64;
	ifa->ifa_index = 6;
	*out = ifa;
	return nlh;
}

static void test_parse_addr(void **state)
{
	struct in6_addr ip = addr6("2001:db8:a::2"), peer = addr6("2001:db8:a::1");
	struct in_addr v4 = addr4("192.0.2.1");
	struct ifaddrmsg *ifa;
	struct netcfg_addr a;
	struct nlmsghdr *nlh;

	(void)state;
	/* A plain address comes as IFA_ADDRESS only. */
	nlh = kernel_addr(AF_INET6, &ifa);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(ip), &ip);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	assert_int_equal(netcfg_parse_addr(nlh, &a), 0);
	assert_int_equal(a.ifindex, 6);
	assert_int_equal(a.prefix_len, 64);
	assert_memory_equal(&a.addr, &ip, sizeof(ip));
	assert_true(a.nodad);

	/* Point-to-point: IFA_LOCAL is ours, IFA_ADDRESS the peer's. */
	nlh = kernel_addr(AF_INET6, &ifa);
	nlh->nlmsg_type = RTM_DELADDR;
	ifa->ifa_flags = IFA_F_PERMANENT;
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(peer), &peer);
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(ip), &ip);
	assert_int_equal(netcfg_parse_addr(nlh, &a), 0);
	assert_memory_equal(&a.addr, &ip, sizeof(ip));
	assert_false(a.nodad);

	/* Old kernels: the flag only in the header. */
	nlh = kernel_addr(AF_INET6, &ifa);
	ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(ip), &ip);
	assert_int_equal(netcfg_parse_addr(nlh, &a), 0);
	assert_true(a.nodad);

	nlh = kernel_addr(AF_INET, &ifa);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(v4), &v4);
	assert_int_equal(netcfg_parse_addr(nlh, &a), -ENOENT);
	nlh = kernel_addr(AF_INET6, &ifa);
	assert_int_equal(netcfg_parse_addr(nlh, &a), -EINVAL); /* no address */
	nlh = kernel_addr(AF_INET6, &ifa);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(v4), &v4);
	assert_int_equal(netcfg_parse_addr(nlh, &a), -EINVAL); /* 4 bytes */
}

static void test_parse_addr4(void **state)
{
	struct in_addr v4 = addr4("192.0.2.1"), peer = addr4("192.0.2.2");
	struct in6_addr ip = addr6("2001:db8:a::2");
	struct ifaddrmsg *ifa;
	struct netcfg_addr4 a;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = kernel_addr(AF_INET, &ifa);
	ifa->ifa_prefixlen = 24;
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(peer), &peer);
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(v4), &v4);
	assert_int_equal(netcfg_parse_addr4(nlh, &a), 0);
	assert_int_equal(a.ifindex, 6);
	assert_int_equal(a.prefix_len, 24);
	assert_int_equal(a.addr.s_addr, v4.s_addr); /* IFA_LOCAL is ours */

	nlh = kernel_addr(AF_INET6, &ifa);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(ip), &ip);
	assert_int_equal(netcfg_parse_addr4(nlh, &a), -ENOENT);
	nlh = kernel_addr(AF_INET, &ifa);
	assert_int_equal(netcfg_parse_addr4(nlh, &a), -EINVAL); /* no address */
	nlh = kernel_addr(AF_INET, &ifa);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(ip), &ip);
	assert_int_equal(netcfg_parse_addr4(nlh, &a), -EINVAL); /* 16 bytes */
	nlh = kernel_addr(AF_INET, &ifa);
	ifa->ifa_prefixlen = 33;
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(v4), &v4);
	assert_int_equal(netcfg_parse_addr4(nlh, &a), -EINVAL);
}

static void test_addr_round_trip(void **state)
{
	struct netcfg_addr in = {.ifindex = 3, .prefix_len = 128, .nodad = true};
	struct netcfg_addr out;

	(void)state;
	in.addr = addr6("fe80::cb8:1233:4455:ccdd");
	assert_int_equal(netcfg_parse_addr(netcfg_build_addr(buf, 1, RTM_NEWADDR, 0, &in), &out),
	                 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

/* ---- parsers: links, sit ---- */

static struct nlmsghdr *kernel_link(uint16_t type, struct ifinfomsg **out)
{
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = kernel_msg(type, sizeof(*ifi), (void **)&ifi);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 8;
	*out = ifi;
	return nlh;
}

/* The link an event concerns, for the parent's view of the host (hostcache.h). */
static void test_event_ifindex(void **state)
{
	struct in6_addr ip = addr6("2001:db8:a::2");
	struct ifinfomsg *ifi;
	struct ifaddrmsg *ifa;
	struct rtmsg *rtm;
	struct nlmsghdr *nlh;

	(void)state;
	assert_int_equal(netcfg_event_ifindex(kernel_link(RTM_DELLINK, &ifi)), 8);
	nlh = kernel_addr(AF_INET, &ifa);
	assert_int_equal(netcfg_event_ifindex(nlh), 6);
	nlh = kernel_addr(AF_INET6, &ifa);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(ip), &ip);
	assert_int_equal(netcfg_event_ifindex(nlh), 6);
	nlh = kernel_route(AF_INET6, RTN_UNICAST, &rtm);
	mnl_attr_put(nlh, RTA_DST, sizeof(ip), &ip);
	assert_int_equal(netcfg_event_ifindex(nlh), 0); /* no device: could be anywhere */
	mnl_attr_put_u32(nlh, RTA_OIF, 42);
	assert_int_equal(netcfg_event_ifindex(nlh), 42);
	nlh = kernel_rule(AF_INET6, FR_ACT_TO_TBL, &(struct fib_rule_hdr *){NULL});
	assert_int_equal(netcfg_event_ifindex(nlh), -ENOENT);
	nlh = kernel_link(RTM_NEWLINK, &ifi);
	nlh->nlmsg_len = sizeof(*nlh) + 2; /* shorter than its header */
	assert_int_equal(netcfg_event_ifindex(nlh), -EINVAL);
}

static void test_parse_link(void **state)
{
	struct ifinfomsg *ifi;
	struct netcfg_link l;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = kernel_link(RTM_NEWLINK, &ifi);
	ifi->ifi_flags = IFF_UP | IFF_RUNNING | IFF_POINTOPOINT;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1280);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "sixxs0");
	assert_int_equal(netcfg_parse_link(nlh, &l), 0);
	assert_int_equal(l.ifindex, 8);
	assert_string_equal(l.name, "sixxs0");
	assert_true(l.up);
	assert_true(l.running);
	assert_int_equal(l.mtu, 1280);

	nlh = kernel_link(RTM_DELLINK, &ifi);
	ifi->ifi_flags = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "0123456789abcde"); /* 15: the longest */
	assert_int_equal(netcfg_parse_link(nlh, &l), 0);
	assert_string_equal(l.name, "0123456789abcde");
	assert_true(l.up);
	assert_false(l.running);
	assert_int_equal(l.mtu, 0); /* none named */

	nlh = kernel_link(RTM_NEWLINK, &ifi);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "0123456789abcdef"); /* 16 + NUL */
	assert_int_equal(netcfg_parse_link(nlh, &l), -EINVAL);
	nlh = kernel_link(RTM_NEWLINK, &ifi);
	mnl_attr_put(nlh, IFLA_IFNAME, 3, "abc"); /* no NUL */
	assert_int_equal(netcfg_parse_link(nlh, &l), -EINVAL);
	nlh = kernel_link(RTM_NEWLINK, &ifi);
	assert_int_equal(netcfg_parse_link(nlh, &l), -EINVAL); /* no name */
	nlh = kernel_link(RTM_NEWLINK, &ifi);
	ifi->ifi_family = AF_INET6; /* IPv6's per-link state, not a link */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "sixxs0");
	assert_int_equal(netcfg_parse_link(nlh, &l), -ENOENT);
}

static struct nlmsghdr *kernel_sit(const char *kind, bool with_nul)
{
	struct in_addr local = addr4("192.0.2.1"), remote = addr4("198.51.100.1");
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh = kernel_link(RTM_NEWLINK, &ifi);
	struct nlattr *info, *data;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, "sixxs0");
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	if (with_nul)
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	else
		mnl_attr_put_str(nlh, IFLA_INFO_KIND, kind);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_IPTUN_LINK, 0);
	mnl_attr_put(nlh, IFLA_IPTUN_LOCAL, 4, &local);
	mnl_attr_put(nlh, IFLA_IPTUN_REMOTE, 4, &remote);
	mnl_attr_put_u8(nlh, IFLA_IPTUN_TTL, 64);
	mnl_attr_put_u8(nlh, IFLA_IPTUN_PMTUDISC, 1);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

static void test_parse_sit(void **state)
{
	struct netcfg_sit s;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	(void)state;
	assert_int_equal(netcfg_parse_sit(kernel_sit("sit", true), &s), 0);
	assert_int_equal(s.local.s_addr, addr4("192.0.2.1").s_addr);
	assert_int_equal(s.remote.s_addr, addr4("198.51.100.1").s_addr);
	assert_int_equal(s.ttl, 64);
	memset(&s, 0, sizeof(s));
	assert_int_equal(netcfg_parse_sit(kernel_sit("sit", false), &s), 0);
	assert_int_equal(s.ttl, 64);

	assert_int_equal(netcfg_parse_sit(kernel_sit("tun", true), &s), -EMEDIUMTYPE);
	assert_int_equal(netcfg_parse_sit(kernel_sit("sitx", true), &s), -EMEDIUMTYPE);
	/* The link's kind (the parent's check of a worker's link, issue 20). */
	{
		struct netcfg_link l;

		assert_int_equal(netcfg_parse_link(kernel_sit("sit", false), &l), 0);
		assert_string_equal(l.kind, "sit");
		assert_int_equal(netcfg_parse_link(kernel_sit("tun", true), &l), 0);
		assert_string_equal(l.kind, "tun");
		assert_int_equal(netcfg_parse_link(kernel_sit("a-very-long-kind-name", true), &l),
		                 0);
		assert_string_equal(l.kind, "a-very-long-kin"); /* cut, terminated */
		nlh = kernel_link(RTM_NEWLINK, &ifi);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, "net0");
		assert_int_equal(netcfg_parse_link(nlh, &l), 0);
		assert_string_equal(l.kind, "");
	}
	nlh = kernel_link(RTM_NEWLINK, &ifi);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");
	assert_int_equal(netcfg_parse_sit(nlh, &s), -EMEDIUMTYPE);

	/* Truncated message: the outer nest claims more than there is. */
	nlh = kernel_sit("sit", true);
	nlh->nlmsg_len -= 8;
	assert_int_equal(netcfg_parse_sit(nlh, &s), -EINVAL);

	/* A 3-byte IPv4 address deep inside the nest. */
	{
		struct nlattr *info, *data;

		nlh = kernel_link(RTM_NEWLINK, &ifi);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, "sixxs0");
		info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "sit");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put(nlh, IFLA_IPTUN_LOCAL, 3, "abc");
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, info);
		assert_int_equal(netcfg_parse_sit(nlh, &s), -EINVAL);
	}
}

static void test_sit_round_trip(void **state)
{
	struct netcfg_sit in, out;

	(void)state;
	/* memcmp below: the padding after ttl must be zero too (clang leaves it as is) */
	memset(&in, 0, sizeof(in));
	in.local = addr4("203.0.113.9");
	in.remote = addr4("198.51.100.2");
	in.ttl = 32;
	assert_int_equal(netcfg_parse_sit(netcfg_build_sit_change(buf, 1, 4, &in), &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_int_equal(
	    netcfg_parse_sit(netcfg_build_sit(buf, 1, "t0", in.local, in.remote, in.ttl, 1400),
	                     &out),
	    0);
	assert_memory_equal(&in, &out, sizeof(in));
}

/* ---- parsers: ACKs ---- */

static struct nlmsghdr *kernel_ack(int error, uint16_t flags, const char *text, size_t echo)
{
	struct nlmsgerr *e;
	struct nlmsghdr *nlh = kernel_msg(NLMSG_ERROR, sizeof(*e) + echo, (void **)&e);

	nlh->nlmsg_flags = flags;
	e->error = error;
	e->msg.nlmsg_len = (uint32_t)(sizeof(e->msg) + echo);
	e->msg.nlmsg_type = RTM_NEWROUTE;
	if (text)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	return nlh;
}

static void test_parse_ack(void **state)
{
	const char *msg = "x";

	(void)state;
	assert_int_equal(netcfg_parse_ack(kernel_ack(0, 0, NULL, 0), &msg), 0);
	assert_null(msg);
	assert_int_equal(netcfg_parse_ack(kernel_ack(-EEXIST, 0, NULL, 0), &msg), -EEXIST);
	assert_null(msg);
	/* Some families send positive error numbers. */
	assert_int_equal(netcfg_parse_ack(kernel_ack(ENODEV, 0, NULL, 0), &msg), -ENODEV);

	/* Capped: the TLVs follow the request's header. */
	assert_int_equal(netcfg_parse_ack(kernel_ack(-EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS,
	                                             "mtu less than device minimum", 0),
	                                  &msg),
	                 -EINVAL);
	assert_non_null(msg);
	assert_string_equal(msg, "mtu less than device minimum");

	/* Not capped: the whole request (here 12 bytes of payload) comes first. */
	assert_int_equal(
	    netcfg_parse_ack(kernel_ack(-ENOENT, NLM_F_ACK_TLVS, "no such rule", 12), &msg),
	    -ENOENT);
	assert_non_null(msg);
	assert_string_equal(msg, "no such rule");

	/* TLV flag without TLVs, or with a cut one: the error stands, no text. */
	assert_int_equal(
	    netcfg_parse_ack(kernel_ack(-EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS, NULL, 0), &msg),
	    -EPERM);
	assert_null(msg);
	{
		struct nlmsghdr *nlh =
		    kernel_ack(-EPERM, NLM_F_CAPPED | NLM_F_ACK_TLVS, "not permitted", 0);
		nlh->nlmsg_len -= 8; /* cut the string's attribute short */
		assert_int_equal(netcfg_parse_ack(nlh, &msg), -EPERM);
		assert_null(msg);
	}

	/* Too short to hold struct nlmsgerr, or not an error message. */
	{
		struct nlmsghdr *nlh = kernel_ack(-EPERM, 0, NULL, 0);

		nlh->nlmsg_len = mnl_nlmsg_size(4);
		assert_int_equal(netcfg_parse_ack(nlh, &msg), -EBADMSG);
		nlh = kernel_ack(0, 0, NULL, 0);
		nlh->nlmsg_type = NLMSG_DONE;
		assert_int_equal(netcfg_parse_ack(nlh, &msg), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_route),
	    cmocka_unit_test(test_build_route_get),
	    cmocka_unit_test(test_build_route_get4),
	    cmocka_unit_test(test_parse_route_mtu4),
	    cmocka_unit_test(test_parse_route_src4),
	    cmocka_unit_test(test_ipv6_conf_read_only),
	    cmocka_unit_test(test_build_route_prefix_big_table_no_options),
	    cmocka_unit_test(test_build_rule),
	    cmocka_unit_test(test_build_rule_defaults),
	    cmocka_unit_test(test_build_addr),
	    cmocka_unit_test(test_build_link),
	    cmocka_unit_test(test_build_sit),
	    cmocka_unit_test(test_build_sit_change),
	    cmocka_unit_test(test_parse_route),
	    cmocka_unit_test(test_parse_route_rejects_what_it_cannot_describe),
	    cmocka_unit_test(test_parse_route_malformed),
	    cmocka_unit_test(test_route_round_trip),
	    cmocka_unit_test(test_parse_rule),
	    cmocka_unit_test(test_parse_rule_rejects),
	    cmocka_unit_test(test_rule_round_trip),
	    cmocka_unit_test(test_parse_addr),
	    cmocka_unit_test(test_parse_addr4),
	    cmocka_unit_test(test_event_ifindex),
	    cmocka_unit_test(test_addr_round_trip),
	    cmocka_unit_test(test_parse_link),
	    cmocka_unit_test(test_parse_sit),
	    cmocka_unit_test(test_sit_round_trip),
	    cmocka_unit_test(test_parse_ack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
