/*
 * Tunnel parameters (what TIC's "tunnel show" hands out, or what a tunnel
 * file gives with tic = no) and a tunnel's local configuration.
 * Plain data shared by the parent and the worker; no functions with I/O.
 */
#ifndef AICCUD_TUNNEL_H
#define AICCUD_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <netinet/in.h>

#define TUNNEL_ID_MAX       32
#define TUNNEL_PASSWORD_MAX 128
#define TUNNEL_PATH_MAX     256

enum tunnel_type {
	TUNNEL_AYIYA = 1,
	TUNNEL_6IN4_HEARTBEAT,
	TUNNEL_6IN4_STATIC,
};

enum tunnel_datapath {
	DATAPATH_AUTO = 0,
	DATAPATH_KERNEL,
	DATAPATH_USERSPACE,
};

/* The broker's view of a tunnel (TIC "tunnel show" keys). */
struct tunnel_params {
	enum tunnel_type type;
	struct in6_addr ipv6_local;  /* IPv6 Endpoint */
	struct in6_addr ipv6_pop;    /* IPv6 POP */
	uint8_t prefix_len;          /* IPv6 PrefixLength */
	struct in_addr ipv4_pop;     /* IPv4 POP */
	char password[TUNNEL_PASSWORD_MAX];
	uint32_t heartbeat_interval; /* seconds */
	uint32_t mtu;                /* Tunnel MTU */
};

/* One tunnel file in conf.d/. */
struct tunnel_conf {
	char name[IFNAMSIZ];         /* the interface name, also the tunnel's name */
	char id[TUNNEL_ID_MAX];      /* broker's TunnelId, e.g. T12345 */
	char file[TUNNEL_PATH_MAX];  /* where it came from, for messages */
	uint32_t table;              /* routing table for its source rule */
	uint32_t rule_priority;
	uint32_t mtu_override;       /* 0: use params.mtu */
	enum tunnel_datapath datapath;
	bool tic;                    /* parameters come from TIC (not in this slice) */
	struct tunnel_params params; /* valid when !tic */
};

const char *tunnel_type_name(enum tunnel_type t);
int tunnel_type_parse(const char *s, enum tunnel_type *out);
const char *tunnel_datapath_name(enum tunnel_datapath d);
uint32_t tunnel_mtu(const struct tunnel_conf *tc);

#endif
