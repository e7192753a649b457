/*
 * netcfg: rtnetlink for aiccud (links, addresses, routes, rules).
 *
 * Mechanism only: no policy, no logging, no exit.  Every function returns
 * 0 (or a non-negative value where documented) on success and -errno on
 * failure; the kernel's extended-ACK text of the last failure is kept in
 * the handle (netcfg_errmsg).  Adding an object that already exists is
 * success, never a duplicate.  Objects aiccud installs carry the
 * NETCFG_PROTO protocol number so they can be found again.
 *
 * Every call that changes the kernel needs CAP_NET_ADMIN.
 */
#ifndef AICCUD_NETCFG_H
#define AICCUD_NETCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/netlink.h>

/* rtm_protocol / FRA_PROTOCOL value that marks aiccud's routes and rules. */
#define NETCFG_PROTO 157

/* Buffer large enough for any single request this module builds. */
#define NETCFG_MSG_MAX 512

struct netcfg;

struct netcfg_route {
	uint32_t table;
	int ifindex;           /* output device */
	struct in6_addr dst;   /* :: for the default route */
	uint8_t dst_len;       /* 0 for the default route */
	uint32_t mtu;          /* RTAX_MTU metric; 0: none */
	uint32_t priority;     /* RTA_PRIORITY (metric); 0: kernel default */
	uint8_t protocol;      /* NETCFG_PROTO for ours */
};

struct netcfg_rule {
	struct in6_addr src;
	uint8_t src_len;       /* 128 for a host address */
	uint32_t table;
	uint32_t priority;     /* FRA_PRIORITY */
	uint8_t protocol;      /* FRA_PROTOCOL, NETCFG_PROTO for ours */
};

struct netcfg_addr {
	int ifindex;
	struct in6_addr addr;
	uint8_t prefix_len;
	bool nodad;            /* IFA_F_NODAD: usable at once */
};

/* Request socket.  One per process; not for monitoring. */
int netcfg_open(struct netcfg **out);
void netcfg_close(struct netcfg *nc);
/* Kernel's extended-ACK message of the last failed request, or "". */
const char *netcfg_errmsg(const struct netcfg *nc);

/*
 * TUN: create (or attach to) a non-persistent TUN device named ifname
 * (IFF_TUN | IFF_NO_PI).  Returns the fd (the link exists as long as it is
 * open) and stores the link's index.  qlen sets the TX queue length
 * (0: leave the kernel default).
 */
int netcfg_tun_open(const char *ifname, unsigned qlen, int *ifindex);

/* Links */
int netcfg_link_index(struct netcfg *nc, const char *ifname); /* >0 or -errno */
int netcfg_link_set(struct netcfg *nc, int ifindex, bool up, uint32_t mtu); /* mtu 0: keep */
int netcfg_link_del(struct netcfg *nc, int ifindex);

/* IPv6 addresses */
int netcfg_addr_add(struct netcfg *nc, const struct netcfg_addr *a);
int netcfg_addr_del(struct netcfg *nc, const struct netcfg_addr *a);
typedef int (*netcfg_addr_cb)(const struct netcfg_addr *a, void *arg);
int netcfg_addr_list(struct netcfg *nc, int ifindex /* 0: all */, netcfg_addr_cb cb, void *arg);

/* IPv6 routes */
int netcfg_route_add(struct netcfg *nc, const struct netcfg_route *r);
int netcfg_route_del(struct netcfg *nc, const struct netcfg_route *r);
typedef int (*netcfg_route_cb)(const struct netcfg_route *r, void *arg);
/* table 0: every table; protocol 0: any protocol */
int netcfg_route_list(struct netcfg *nc, uint32_t table, uint8_t protocol, netcfg_route_cb cb,
		      void *arg);

/* IPv6 source rules */
int netcfg_rule_add(struct netcfg *nc, const struct netcfg_rule *r);
int netcfg_rule_del(struct netcfg *nc, const struct netcfg_rule *r);
typedef int (*netcfg_rule_cb)(const struct netcfg_rule *r, void *arg);
int netcfg_rule_list(struct netcfg *nc, uint8_t protocol /* 0: any */, netcfg_rule_cb cb,
		     void *arg);

/*
 * Pure message builders (no I/O), used by the functions above and by the
 * unit tests.  buf must hold NETCFG_MSG_MAX bytes.  type is RTM_NEW* or
 * RTM_DEL*; flags are added to NLM_F_REQUEST | NLM_F_ACK.
 */
struct nlmsghdr *netcfg_build_link(void *buf, uint32_t seq, int ifindex, bool up, uint32_t mtu);
struct nlmsghdr *netcfg_build_link_del(void *buf, uint32_t seq, int ifindex);
struct nlmsghdr *netcfg_build_addr(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
				   const struct netcfg_addr *a);
struct nlmsghdr *netcfg_build_route(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
				    const struct netcfg_route *r);
struct nlmsghdr *netcfg_build_rule(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
				   const struct netcfg_rule *r);

/* Pure parsers of kernel messages (dump replies and monitor events). */
int netcfg_parse_route(const struct nlmsghdr *nlh, struct netcfg_route *r); /* 0, or -ENOENT if not IPv6 unicast */
int netcfg_parse_rule(const struct nlmsghdr *nlh, struct netcfg_rule *r);
int netcfg_parse_addr(const struct nlmsghdr *nlh, struct netcfg_addr *a);

#endif
