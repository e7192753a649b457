/*
 * libFuzzer target: rtnetlink messages (dump replies and monitor events:
 * a kernel answer we must not trust blindly) through every parser of
 * netcfg/msg.c.  Input: a stream of nlmsghdr-framed messages.
 */
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "fuzz.h"
#include "netcfg.h"

static void parse_one(const struct nlmsghdr *nlh)
{
	struct netcfg_route r;
	struct netcfg_route_dst d;
	struct netcfg_rule u;
	struct netcfg_addr a;
	struct netcfg_addr4 a4;
	struct netcfg_link l;
	struct netcfg_sit s;
	struct netcfg_route_mtu rm;
	struct in_addr src4;
	const char *msg = NULL;
	int e;

	if (netcfg_parse_route(nlh, &r) == 0)
		FUZZ_CHECK(r.dst_len <= 128);
	if (netcfg_parse_route_dst(nlh, &d) == 0)
		FUZZ_CHECK(d.dst_len <= 128);
	if (netcfg_parse_rule(nlh, &u) == 0)
		FUZZ_CHECK(u.src_len <= 128);
	if (netcfg_parse_addr(nlh, &a) == 0)
		FUZZ_CHECK(a.prefix_len <= 128);
	/* the host's IPv4 addresses: the PoP policy computes their broadcast from it */
	if (netcfg_parse_addr4(nlh, &a4) == 0)
		FUZZ_CHECK(a4.prefix_len <= 32);
	if (netcfg_parse_link(nlh, &l) == 0)
		FUZZ_CHECK(memchr(l.name, '\0', sizeof(l.name)) != NULL);
	(void)netcfg_parse_sit(nlh, &s);
	/* the path MTU toward an AYIYA PoP: it sizes the tunnel's MTU */
	if (netcfg_parse_route_mtu4(nlh, &rm) == 0)
		FUZZ_CHECK(rm.oif >= 0 && (rm.mtu || rm.oif));
	(void)netcfg_parse_route_src4(nlh, &src4);
	e = netcfg_parse_ack(nlh, &msg);
	if (msg)
		FUZZ_CHECK(e <= 0 && strlen(msg) < nlh->nlmsg_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t buf[16384]; /* netlink messages are 4-byte aligned */
	const struct nlmsghdr *nlh;
	int len = (int)size;

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	/*
	 * libmnl's mnl_nlmsg_ok compares nlmsg_len as a signed int: a length
	 * over 2 GiB passes it.  Only the kernel can send to our rtnetlink
	 * sockets (no NL_CFG_F_NONROOT_SEND), so frame here the way it does.
	 */
	for (nlh = (const struct nlmsghdr *)buf;
	     mnl_nlmsg_ok(nlh, len) && nlh->nlmsg_len <= (uint32_t)len;
	     nlh = mnl_nlmsg_next(nlh, &len))
		parse_one(nlh);
	return 0;
}

/* An IPv4 RTM_NEWADDR as the kernel sends it (netcfg has no builder: it never adds one). */
static struct nlmsghdr *addr4_message(void *buf, uint32_t seq, struct in_addr a, uint8_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = len;
	ifa->ifa_index = 2;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(a), &a);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a), &a);
	mnl_attr_put_u32(nlh, IFA_FLAGS, 0);
	return nlh;
}

/* What a dump could answer: messages the builders make, as the kernel would send them. */
size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	static uint8_t msg[NETCFG_MSG_MAX];
	struct netcfg_route r = {.table = 200 + seed % 5,
	                         .ifindex = 3,
	                         .dst_len = (uint8_t)(seed % 129),
	                         .mtu = 1280,
	                         .protocol = NETCFG_PROTO};
	struct netcfg_rule u = {
	    .src_len = 128, .table = 200, .priority = 1000, .protocol = NETCFG_PROTO};
	struct netcfg_addr a = {.ifindex = 3, .prefix_len = 64};
	struct in_addr l4 = {0x0100a8c0}, r4 = {0x010200c0};
	struct nlmsghdr *nlh;

	r.dst.s6_addr[0] = 0x20;
	u.src.s6_addr[0] = 0x20;
	a.addr.s6_addr[0] = 0x20;
	switch (seed % 6) {
	case 0:
		nlh = netcfg_build_route(msg, seed, RTM_NEWROUTE, 0, &r);
		break;
	case 1:
		nlh = netcfg_build_rule(msg, seed, RTM_NEWRULE, 0, &u);
		break;
	case 2:
		nlh = netcfg_build_addr(msg, seed, RTM_NEWADDR, 0, &a);
		break;
	case 3:
		nlh = netcfg_build_sit(msg, seed, "sixxs0", l4, r4, 64, 1280);
		break;
	case 4:
		nlh = addr4_message(msg, seed, l4, (uint8_t)(seed % 33));
		break;
	default:
		nlh = netcfg_build_link(msg, seed, 3, true, 1280);
		break;
	}
	if (!nlh || nlh->nlmsg_len > cap)
		return 0;
	memcpy(buf, nlh, nlh->nlmsg_len);
	return nlh->nlmsg_len;
}
