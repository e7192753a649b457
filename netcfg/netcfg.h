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
#include <net/if.h> /* before any <linux/if*.h>: IFNAMSIZ, IFF_* */
#include <netinet/in.h>
#include <linux/netlink.h>

/* rtm_protocol / FRA_PROTOCOL value that marks aiccud's routes and rules. */
#define NETCFG_PROTO 157

/* Buffer large enough for any single request this module builds. */
#define NETCFG_MSG_MAX 512

struct netcfg;

struct netcfg_route {
	uint32_t table;
	int ifindex;         /* output device */
	struct in6_addr dst; /* :: for the default route */
	uint8_t dst_len;     /* 0 for the default route */
	uint32_t mtu;        /* RTAX_MTU metric; 0: none */
	uint32_t priority;   /* RTA_PRIORITY (metric); 0: kernel default */
	uint8_t protocol;    /* NETCFG_PROTO for ours */
};

/* Where any IPv6 route goes, whatever its kind: what the host already routes. */
struct netcfg_route_dst {
	uint32_t table;
	int ifindex; /* RTA_OIF; 0 for multipath and routes without a device */
	struct in6_addr dst;
	uint8_t dst_len;
	uint8_t protocol;
	uint8_t type; /* RTN_UNICAST, RTN_LOCAL, RTN_UNREACHABLE, ... */
};

struct netcfg_rule {
	struct in6_addr src;
	uint8_t src_len; /* 128 for a host address */
	uint32_t table;
	uint32_t priority; /* FRA_PRIORITY */
	uint8_t protocol;  /* FRA_PROTOCOL, NETCFG_PROTO for ours */
};

struct netcfg_addr {
	int ifindex;
	struct in6_addr addr;
	uint8_t prefix_len;
	bool nodad;         /* IFA_F_NODAD: usable at once */
	bool noprefixroute; /* IFA_F_NOPREFIXROUTE: no kernel prefix route in main */
};

/* An IPv4 address of the host (the overlap check's: is the PoP one of ours?). */
struct netcfg_addr4 {
	int ifindex;
	struct in_addr addr;
	uint8_t prefix_len;
};

struct netcfg_link {
	int ifindex;
	char name[IFNAMSIZ];
	bool up;       /* IFF_UP: administratively up */
	bool running;  /* IFF_RUNNING: operationally up */
	char kind[16]; /* IFLA_INFO_KIND ("tun", "sit", "veth"...), "" if the kernel names none */
	uint32_t mtu;  /* IFLA_MTU; 0 if the kernel names none */
};

/* What an IPv4 RTM_GETROUTE answer says about the path MTU toward its destination. */
struct netcfg_route_mtu {
	uint32_t mtu; /* the route's RTAX_MTU metric (locked or learned); 0: none */
	int oif;      /* RTA_OIF, the output link; 0: none */
};

/* The path MTU toward an IPv4 destination, as netcfg_route_mtu4 found it. */
struct netcfg_path_mtu {
	uint32_t mtu;
	bool from_route;     /* the route's MTU metric; else the output link's MTU */
	char link[IFNAMSIZ]; /* the output link's name, "" if unknown */
};

/* Parameters of a sit (6in4) link, as read back from the kernel. */
struct netcfg_sit {
	struct in_addr local; /* 0.0.0.0: any */
	struct in_addr remote;
	uint8_t ttl; /* 0: inherit from the inner packet */
};

/*
 * Request socket.  One per process; not for monitoring.  Every request
 * waits for the kernel's ACK, at most NETCFG_TIMEOUT_S seconds
 * (-ETIMEDOUT).  List callbacks run after the whole dump has been read, so
 * they may call other functions on the same handle; a callback returning
 * non-zero stops the list, which then returns that value.  A dump the
 * kernel flags as interrupted (the objects changed meanwhile) is redone a
 * few times, then the list gives up with -EAGAIN; partial or doubled
 * results are never passed on.
 */
#define NETCFG_TIMEOUT_S 5
int netcfg_open(struct netcfg **out);
void netcfg_close(struct netcfg *nc);
/* Kernel's extended-ACK message of the last failed request, or "". */
const char *netcfg_errmsg(const struct netcfg *nc);
/* Requests sent on nc since netcfg_open (dumps count once): a measure of the work done. */
uint64_t netcfg_requests(const struct netcfg *nc);

/*
 * TUN: create (or attach to) a non-persistent TUN device named ifname
 * (IFF_TUN | IFF_NO_PI).  Returns the fd (the link exists as long as it is
 * open) and stores the link's index.  qlen sets the TX queue length
 * (0: leave the kernel default).
 */
int netcfg_tun_open(const char *ifname, unsigned qlen, int *ifindex);

/* What a TUN opened by netcfg_tun_open_offload offers (bits of *offloads). */
#define NETCFG_TUN_VNET 0x1 /* a 10-byte virtio-net header on every read and write */
#define NETCFG_TUN_TSO  0x2 /* TUN_F_CSUM | TUN_F_TSO6: TCP super-packets both ways */
#define NETCFG_TUN_USO  0x4 /* TUN_F_USO4 | TUN_F_USO6: UDP super-packets from the kernel */
/*
 * The same with offloads: IFF_VNET_HDR and TUNSETOFFLOAD with checksum,
 * TSO6 and, where the kernel has it, USO.  A kernel without them gets the
 * plain TUN (*offloads 0), so the caller picks its path from *offloads.
 */
int netcfg_tun_open_offload(const char *ifname, unsigned qlen, int *ifindex, unsigned *offloads);

/*
 * One IPv6 setting of one link, /proc/sys/net/ipv6/conf/IFNAME/KEY (e.g.
 * accept_ra = "0").  Needs root (the files are root's).  0 or -errno;
 * -EINVAL for a name or key that is not a single path element.
 */
int netcfg_ipv6_conf_set(const char *ifname, const char *key, const char *value);
/*
 * The same under root (NETCFG_PROC_SYS, or a test's directory), for a
 * /proc/sys that may be read-only (a container): when the write is
 * refused (EROFS, EACCES, EPERM) but the file already holds value, 1 with
 * *write_err the refusal; 0 when written; else -errno (the write's).
 */
#define NETCFG_PROC_SYS "/proc/sys"
int netcfg_ipv6_conf_set_at(const char *root, const char *ifname, const char *key,
                            const char *value, int *write_err);

/* Links */
int netcfg_link_index(struct netcfg *nc, const char *ifname); /* >0 or -errno (-ENODEV) */
/* One link by index (ifindex_or_0 > 0) or else by name; -ENODEV if absent. */
int netcfg_link_get(struct netcfg *nc, int ifindex_or_0, const char *name_or_null,
                    struct netcfg_link *out);
int netcfg_link_set(struct netcfg *nc, int ifindex, bool up, uint32_t mtu); /* mtu 0: keep */
int netcfg_link_del(struct netcfg *nc, int ifindex);                        /* -ENOENT if absent */
/*
 * Link groups (IFLA_GROUP): put a link in a group, and delete every link
 * of a group at once.  The kernel unregisters a group's links in one
 * batch (one RCU grace period instead of one per link): a thousand links
 * go in tens of milliseconds instead of seconds.  Group 0 is everyone's
 * default and is refused.
 */
int netcfg_link_set_group(struct netcfg *nc, int ifindex, uint32_t group);
int netcfg_group_del(struct netcfg *nc, uint32_t group);

/*
 * sit (6in4) links.  netcfg_sit_add creates the link, or updates an
 * existing sit link of that name to these parameters (ttl 0: inherit;
 * mtu 0: kernel default), and returns its ifindex (>0).  A kernel without
 * sit support answers -EOPNOTSUPP, which is returned as is.
 * netcfg_sit_set_local changes only the local address of an existing sit
 * link (a heartbeat tunnel's IPv4 moved); netcfg_sit_get reads a sit
 * link's parameters.  Both: -EMEDIUMTYPE if the link is not a sit link.
 */
int netcfg_sit_add(struct netcfg *nc, const char *ifname, struct in_addr local,
                   struct in_addr remote, uint8_t ttl, uint32_t mtu);
int netcfg_sit_set_local(struct netcfg *nc, int ifindex, struct in_addr local);
int netcfg_sit_get(struct netcfg *nc, int ifindex, struct netcfg_sit *out);

/* IPv6 addresses */
int netcfg_addr_add(struct netcfg *nc, const struct netcfg_addr *a);
int netcfg_addr_del(struct netcfg *nc, const struct netcfg_addr *a);
typedef int (*netcfg_addr_cb)(const struct netcfg_addr *a, void *arg);
int netcfg_addr_list(struct netcfg *nc, int ifindex /* 0: all */, netcfg_addr_cb cb, void *arg);
/* Every IPv4 address of the host (a dump of IPv4 addresses only). */
typedef int (*netcfg_addr4_cb)(const struct netcfg_addr4 *a, void *arg);
int netcfg_addr4_list(struct netcfg *nc, netcfg_addr4_cb cb, void *arg);

/* IPv6 routes */
int netcfg_route_add(struct netcfg *nc, const struct netcfg_route *r);
/*
 * Create only: -EEXIST when the table has a route of that prefix and
 * metric already (netcfg_route_add would replace it, whoever's it is).
 */
int netcfg_route_add_excl(struct netcfg *nc, const struct netcfg_route *r);
int netcfg_route_del(struct netcfg *nc, const struct netcfg_route *r);
typedef int (*netcfg_route_cb)(const struct netcfg_route *r, void *arg);
/* table 0: every table; protocol 0: any protocol */
int netcfg_route_list(struct netcfg *nc, uint32_t table, uint8_t protocol, netcfg_route_cb cb,
                      void *arg);
/* Every IPv6 route of every table, of any kind (netcfg_parse_route_dst). */
typedef int (*netcfg_route_dst_cb)(const struct netcfg_route_dst *r, void *arg);
int netcfg_route_dst_list(struct netcfg *nc, netcfg_route_dst_cb cb, void *arg);
/*
 * The type (RTN_UNICAST, RTN_LOCAL, ...) of the route the kernel would use
 * toward dst (RTM_GETROUTE), or -errno.  RTN_LOCAL means dst is one of
 * this host's addresses with its local route in place.
 */
int netcfg_route_kind(struct netcfg *nc, const struct in6_addr *dst);

/*
 * IPv6 source rules ("from src/src_len lookup table", nothing else).
 * priority 0 lets the kernel choose one on add and matches any priority
 * when looking for an existing rule or deleting.  rule_del removes every
 * identical rule (duplicates left by older tools included); -ENOENT if
 * there was none.
 */
int netcfg_rule_add(struct netcfg *nc, const struct netcfg_rule *r);
int netcfg_rule_del(struct netcfg *nc, const struct netcfg_rule *r);
typedef int (*netcfg_rule_cb)(const struct netcfg_rule *r, void *arg);
int netcfg_rule_list(struct netcfg *nc, uint8_t protocol /* 0: any */, netcfg_rule_cb cb,
                     void *arg);

/*
 * Monitoring, for the parent's event loop.  A socket of its own (never
 * the request socket), non-blocking, subscribed to links, IPv6 addresses,
 * IPv6 routes, IPv6 rules, IPv4 addresses and IPv4 routes.  netcfg_monitor_read drains what is
 * queued (at most NETCFG_MONITOR_BATCH datagrams per call, so a flood cannot starve the loop; the
 * fd stays readable), calls the matching callback (NULL callbacks are skipped) and returns the
 * number of events passed on. -ENOBUFS means events were lost: the caller must resync from full
 * lists. Routes and rules the parsers below cannot describe are not passed on, except IPv6 local
 * routes (the kernel's, for each address of the host), which go to the local callback with their
 * address.
 */
#define NETCFG_MONITOR_BATCH 64
struct netcfg_monitor;
struct netcfg_monitor_ops {
	void (*link)(const struct netcfg_link *l, bool deleted, void *arg);
	void (*addr)(const struct netcfg_addr *a, bool deleted, void *arg);
	void (*route)(const struct netcfg_route *r, bool deleted, void *arg);
	void (*rule)(const struct netcfg_rule *r, bool deleted, void *arg);
	void (*local)(const struct in6_addr *addr, bool deleted, void *arg);
	/* Every link, address (IPv6 and IPv4) and route event, described by
	 * the parsers or not: the link it concerns, 0 when it names none
	 * (a multipath route).  For views of the host that must know when to
	 * look again. */
	void (*changed)(int ifindex, void *arg);
};
int netcfg_monitor_open(struct netcfg_monitor **out);
int netcfg_monitor_fd(const struct netcfg_monitor *m);
int netcfg_monitor_read(struct netcfg_monitor *m, const struct netcfg_monitor_ops *ops, void *arg);
void netcfg_monitor_close(struct netcfg_monitor *m);

/*
 * Pure message builders (no I/O), used by the functions above and by the
 * unit tests.  buf must hold NETCFG_MSG_MAX bytes.  type is RTM_NEW* or
 * RTM_DEL*; flags are added to NLM_F_REQUEST | NLM_F_ACK.  NULL when the
 * object is invalid (prefix length over 128, interface name too long).
 */
struct nlmsghdr *netcfg_build_link(void *buf, uint32_t seq, int ifindex, bool up, uint32_t mtu);
struct nlmsghdr *netcfg_build_link_del(void *buf, uint32_t seq, int ifindex);
struct nlmsghdr *netcfg_build_link_group(void *buf, uint32_t seq, int ifindex, uint32_t group);
struct nlmsghdr *netcfg_build_group_del(void *buf, uint32_t seq, uint32_t group);
struct nlmsghdr *netcfg_build_addr(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
                                   const struct netcfg_addr *a);
struct nlmsghdr *netcfg_build_route(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
                                    const struct netcfg_route *r);
struct nlmsghdr *netcfg_build_rule(void *buf, uint32_t seq, uint16_t type, uint16_t flags,
                                   const struct netcfg_rule *r);
/* RTM_NEWLINK, NLM_F_CREATE: creates the sit link or updates the existing one.
 * ifname must be shorter than IFNAMSIZ (NULL otherwise). */
struct nlmsghdr *netcfg_build_sit(void *buf, uint32_t seq, const char *ifname, struct in_addr local,
                                  struct in_addr remote, uint8_t ttl, uint32_t mtu);
/* RTM_NEWLINK on an existing sit link: every tunnel parameter is sent, as
 * the kernel resets the ones a change leaves out. */
struct nlmsghdr *netcfg_build_sit_change(void *buf, uint32_t seq, int ifindex,
                                         const struct netcfg_sit *s);

/* RTM_GETROUTE for dst (a host route lookup), with NLM_F_ACK. */
struct nlmsghdr *netcfg_build_route_get(void *buf, uint32_t seq, const struct in6_addr *dst);

/* RTM_GETROUTE for an IPv4 destination (which source the kernel would use). */
struct nlmsghdr *netcfg_build_route_get4(void *buf, uint32_t seq, struct in_addr dst);

/*
 * Pure parsers of kernel messages (dump replies and monitor events).
 * -EINVAL for a truncated or malformed message or attribute; -ENOENT for
 * a well-formed message the struct cannot describe.
 */
/* -ENOENT unless a plain IPv6 unicast route (no gateway, source, multipath, clone) */
int netcfg_parse_route(const struct nlmsghdr *nlh, struct netcfg_route *r);
/* Any IPv6 route's destination (gateway, multipath, local, unreachable...); -ENOENT: cloned */
int netcfg_parse_route_dst(const struct nlmsghdr *nlh, struct netcfg_route_dst *r);
/* -ENOENT unless IPv6, action "lookup table", and no selector but the source */
int netcfg_parse_rule(const struct nlmsghdr *nlh, struct netcfg_rule *r);
int netcfg_parse_addr(const struct nlmsghdr *nlh, struct netcfg_addr *a); /* -ENOENT if not IPv6 */
/* An IPv4 RTM_NEWADDR/RTM_DELADDR; -ENOENT for another family. */
int netcfg_parse_addr4(const struct nlmsghdr *nlh, struct netcfg_addr4 *a);
int netcfg_parse_link(const struct nlmsghdr *nlh, struct netcfg_link *l);
/* The link a link, address or route event concerns (0: none named, as for
 * a multipath route); -ENOENT for other messages, -EINVAL if malformed. */
int netcfg_event_ifindex(const struct nlmsghdr *nlh);
/* -EMEDIUMTYPE if the link is not a sit link */
int netcfg_parse_sit(const struct nlmsghdr *nlh, struct netcfg_sit *s);
/* The source address (RTA_PREFSRC) of an IPv4 RTM_GETROUTE answer; -ENOENT without one. */
int netcfg_parse_route_src4(const struct nlmsghdr *nlh, struct in_addr *src);
/*
 * The MTU metric (RTA_METRICS/RTAX_MTU) and output link (RTA_OIF) of an
 * IPv4 RTM_GETROUTE answer; -ENOENT for another family or an answer with
 * neither.
 */
int netcfg_parse_route_mtu4(const struct nlmsghdr *nlh, struct netcfg_route_mtu *out);

/*
 * NLMSG_ERROR: returns 0 for an ACK, else the (negative) errno; *msg gets
 * the kernel's extended-ACK text (NLMSGERR_ATTR_MSG) or NULL.  -EBADMSG if
 * the message is too short to be an error message.
 */
int netcfg_parse_ack(const struct nlmsghdr *nlh, const char **msg);

/*
 * Our IPv4 source address toward dst (port: any, for the route lookup), as
 * the routing table picks it now.  Needs no privilege.  0 or -errno.
 */
int netcfg_ipv4_source(struct in_addr dst, uint16_t port, struct in_addr *out);

/*
 * The same through rtnetlink (RTM_GETROUTE) on nc: no socket connected,
 * nothing sent but the query on nc's socket, so it works under a filter
 * that refuses connect() (a worker after its privilege drop; nc opened
 * before it, read-only without CAP_NET_ADMIN).  0 or -errno.
 */
int netcfg_route_source4(struct netcfg *nc, struct in_addr dst, struct in_addr *out);
/*
 * The path MTU toward dst: the MTU metric of the kernel's route to it if
 * set, else the MTU of the route's output link (RTM_GETLINK).  Queries
 * only, on nc's socket, as netcfg_route_source4.  0 or -errno.
 */
int netcfg_route_mtu4(struct netcfg *nc, struct in_addr dst, struct netcfg_path_mtu *out);

#endif
