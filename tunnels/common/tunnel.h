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
#define TUNNEL_HOST_MAX     128
#define TUNNEL_USER_MAX     64
#define TUNNEL_ROUTED_MAX   8
#define TUNNEL_URL_MAX      256

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
	struct in6_addr ipv6_local; /* IPv6 Endpoint */
	struct in6_addr ipv6_pop;   /* IPv6 POP */
	uint8_t prefix_len;         /* IPv6 PrefixLength */
	struct in_addr ipv4_pop;    /* IPv4 POP */
	struct in_addr ipv4_local;  /* IPv4 Endpoint; 0.0.0.0 for "heartbeat" (dynamic) */
	char password[TUNNEL_PASSWORD_MAX];
	uint32_t heartbeat_interval; /* seconds */
	uint32_t mtu;                /* Tunnel MTU */
};

/* A TIC account: the broker's TIC server and our credentials there. */
struct tic_account {
	char server[TUNNEL_HOST_MAX]; /* host[:port], port 3874 by default */
	char username[TUNNEL_USER_MAX];
	char password[TUNNEL_PASSWORD_MAX];
	bool require_tls;              /* default yes; plain text only when "no" */
	char ca_file[TUNNEL_PATH_MAX]; /* "": the system trust store */
	uint8_t tls_min;               /* lowest TLS version 1.x as 10 + x; 0: TUNNEL_TLS_MIN */
};

/* The lowest TLS version of a TIC session unless [tic] tls_min says otherwise: 1.2. */
#define TUNNEL_TLS_MIN 12

struct tunnel_prefix {
	struct in6_addr addr;
	uint8_t len;
};

/*
 * The PoP's heartbeat port (PROTOCOLS.md): the worker sends there, the
 * parent asks the kernel which source address reaches it (privsep.c).
 */
#define TUNNEL_HEARTBEAT_PORT 3740

/* What a heartbeat names as our IPv4 address (PROTOCOLS.md 2, 7.1). */
enum tunnel_heartbeat_ipv4 {
	HEARTBEAT_IPV4_SENDER = 0, /* the word "sender": the PoP takes the datagram's source */
	HEARTBEAT_IPV4_LOCAL,      /* our own IPv4 toward the PoP: only right when it is public */
};

/*
 * [update]: how a 6in4 broker is told our IPv4 endpoint (dyndns2, as
 * Hurricane Electric's tunnelbroker; PROTOCOLS.md 8).  url[0] == '\0': none.
 */
struct tunnel_update {
	char url[TUNNEL_URL_MAX];       /* https://host[:port]/path */
	char username[TUNNEL_USER_MAX]; /* the broker account's name */
	char key[TUNNEL_PASSWORD_MAX];  /* the tunnel's Update Key */
	char hostname[TUNNEL_HOST_MAX]; /* the broker's tunnel id */
	char ca_file[TUNNEL_PATH_MAX];  /* "": the system trust store */
};

enum tunnel_liveness {
	LIVENESS_NONE = 0,
	LIVENESS_ICMP,
};

/* Logged (worker) and shown in status (parent) when PoP packets fail the signature check. */
#define TUNNEL_SIGNATURE_HINT                                                                      \
	"the PoP refuses our signature or we refuse its: password changed? try aiccuctl refresh"

/* One tunnel file in conf.d/. */
struct tunnel_conf {
	char name[IFNAMSIZ];        /* the interface name, also the tunnel's name */
	char id[TUNNEL_ID_MAX];     /* broker's TunnelId, e.g. T12345 */
	char file[TUNNEL_PATH_MAX]; /* where it came from, for messages */
	uint32_t table;             /* routing table for its source rule */
	uint32_t rule_priority;
	uint32_t mtu_override; /* 0: use params.mtu */
	/*
	 * The IPv4 path MTU toward the PoP (AYIYA), as the worker found it
	 * (netcfg_route_mtu4) and reported with its link-up; 0: unknown, and
	 * AYIYA_PATH_MTU assumed.  Never from a file.
	 */
	uint32_t path_mtu;
	uint8_t min_prefix_len; /* [params] min_prefix_len: a file's shorter prefix (0: /64) */
	enum tunnel_datapath datapath;
	bool tic;                    /* parameters come from TIC ([tunnel] tic, default yes) */
	struct tic_account account;  /* [tic] of the tunnel file over aiccud.conf's [tic] */
	struct tunnel_params params; /* [params] when !tic; filled from TIC/cache otherwise */
	/*
	 * AICCU-era key, accepted and ignored as AICCU ignored "behindnat": the
	 * real client always sent "sender".  heartbeat_ipv4 decides.
	 */
	bool behind_nat;
	enum tunnel_heartbeat_ipv4 heartbeat_ipv4;
	bool mss_clamp; /* user-space data paths: clamp SYNs' MSS to MTU - 60 */
	bool offload;   /* user-space data paths: TUN and UDP offloads if offered */
	enum tunnel_liveness liveness;
	uint32_t liveness_misses; /* ICMP probes missed before the tunnel is restarted */
	uint32_t pop_silence; /* seconds without a packet from the PoP before a restart; 0: off */
	char setup_script[TUNNEL_PATH_MAX]; /* "": none */
	struct tunnel_prefix routed[TUNNEL_ROUTED_MAX];
	uint8_t nrouted;
	bool autostart;                /* started with the daemon and on reload (default yes) */
	bool default_route;            /* also the main table's default route via the tunnel */
	uint32_t default_route_metric; /* its metric; 0: the kernel's default, 1024 */
	/* ipv4_local = auto: follow the host's IPv4 source toward ipv4_pop
	 * (params.ipv4_local is then 0.0.0.0) */
	bool ipv4_auto;
	bool has_update;             /* the file has an [update] section */
	struct tunnel_update update; /* [update]; the key never goes to a worker */
};

const char *tunnel_type_name(enum tunnel_type t);
int tunnel_type_parse(const char *s, enum tunnel_type *out);
const char *tunnel_datapath_name(enum tunnel_datapath d);
/*
 * Whether a link of this kind (IFLA_INFO_KIND) can be the tunnel's link:
 * "tun" for AYIYA and user-space 6in4, "sit" for kernel 6in4, either with
 * datapath auto (the worker falls back to a TUN without sit support).
 */
bool tunnel_link_kind_ok(const struct tunnel_conf *tc, const char *kind);
int tunnel_datapath_parse(const char *s, enum tunnel_datapath *out);
/* The MTU asked for: the file's override, else the broker's, else 1280. */
uint32_t tunnel_mtu_wanted(const struct tunnel_conf *tc);
/* A path MTU that can be believed: 0 (unknown) or 68 (IPv4's minimum) to 65535. */
bool tunnel_path_mtu_ok(uint32_t path_mtu);
/* The path MTU toward the PoP used: tc->path_mtu, or AYIYA_PATH_MTU if unknown. */
uint32_t tunnel_path_mtu(const struct tunnel_conf *tc);
/*
 * The largest MTU the tunnel's packets can have: for AYIYA the path MTU
 * toward the PoP (tunnel_path_mtu: 1500 assumed, 1428) minus
 * AYIYA_IPV4_OVERHEAD, but never below TUNNEL_DEFAULT_MTU, IPv6's minimum
 * (tunnel_path_too_small says when the path cannot carry even that); else
 * no limit (UINT32_MAX).  A tunnel file asking for more than the 1500-byte
 * path allows is refused at load; TIC's MTU (or an override on a TIC
 * tunnel), or any MTU above what the path found allows, is clamped, and
 * the worker says so.
 */
uint32_t tunnel_mtu_max(const struct tunnel_conf *tc);
/* AYIYA whose path toward the PoP cannot carry a TUNNEL_DEFAULT_MTU packet unfragmented. */
bool tunnel_path_too_small(const struct tunnel_conf *tc);
/* The MTU to use (link, routes, setup script): tunnel_mtu_wanted clamped to tunnel_mtu_max. */
uint32_t tunnel_mtu(const struct tunnel_conf *tc);
/* Field by field (not memcmp: padding, and the password's bytes after its NUL). */
bool tunnel_params_same(const struct tunnel_params *a, const struct tunnel_params *b);
/* a lies inside net/len; false for a len over 128. */
bool tunnel_prefix_contains(const struct in6_addr *net, unsigned len, const struct in6_addr *a);
/*
 * Whether what two tunnels claim overlaps: the tunnel prefix of each one's
 * address (ipv6_local/prefix_len) and each one's routed prefixes.  On
 * overlap, what says which two prefixes ("2001:db8:a::/64 and
 * 2001:db8:a::/64").  Pure.
 */
bool tunnel_claims_overlap(const struct tunnel_params *pa, const struct tunnel_prefix *ra,
                           size_t na, const struct tunnel_params *pb,
                           const struct tunnel_prefix *rb, size_t nb, char *what, size_t len);

#endif
