/*
 * The configuration's key tables (config_int.h): one row per key of
 * aiccud.conf and of a tunnel file, which drive parsing (config.c),
 * each kind's parser and printer (config_kind.c), the checks across
 * files (config_across.c) and the print-out (config_print.c).  Data only.
 */
#include "config_int.h"

#include <stddef.h>
#include <stdint.h>

/* ---- the key tables ---- */

#define FIELD_SIZE(type, field) sizeof(((type *)0)->field)
#define KEY(sect, name, kind, type, field, lo, hi, fl)                                             \
	{                                                                                          \
		sect, name, kind, offsetof(type, field), FIELD_SIZE(type, field), lo, hi, fl       \
	}

/* [tic] is the same in aiccud.conf (struct config.tic) and tunnel files (.account). */
#define TIC_KEYS(type, m)                                                                          \
	KEY("tic", "server", K_SERVER, type, m.server, 0, 0, 0),                                   \
	    KEY("tic", "username", K_STR, type, m.username, 0, 0, F_EMPTY_OK),                     \
	    KEY("tic", "password", K_SECRET, type, m.password, 0, 0, F_EMPTY_OK),                  \
	    KEY("tic", "require_tls", K_BOOL, type, m.require_tls, 0, 0, 0),                       \
	    KEY("tic", "ca_file", K_ABSPATH, type, m.ca_file, 0, 0, F_EMPTY_OK),                   \
	    KEY("tic", "tls_min", K_TLS_MIN, type, m.tls_min, 0, 0, 0)

const char *const config_main_sections[] = {"daemon", "tic", "limiter", NULL};

const struct key config_main_keys[] = {
    KEY("daemon", "control_socket", K_ABSPATH, struct config, control_socket, 0, 0, 0),
    KEY("daemon", "control_group", K_ID, struct config, control_group, 0, 0, F_EMPTY_OK),
    KEY("daemon", "readonly_group", K_ID, struct config, readonly_group, 0, 0, F_EMPTY_OK),
    KEY("daemon", "state_dir", K_ABSPATH, struct config, state_dir, 0, 0, 0),
    KEY("daemon", "user", K_ID, struct config, user, 0, 0, 0),
    KEY("daemon", "conf_dir", K_DIR, struct config, conf_dir, 0, 0, F_EMPTY_OK),
    TIC_KEYS(struct config, tic),
    KEY("tic", "cache_max_age", K_U32, struct config, cache_max_age, 60, 31536000, 0),
    KEY("limiter", "burst", K_U32, struct config, limiter_burst, 1, UINT32_MAX, 0),
    KEY("limiter", "refill", K_U32, struct config, limiter_refill, 1, 86400, 0),
};

const char *const config_tunnel_sections[] = {"tunnel", "tic", "params", "update", NULL};

const struct key config_tunnel_keys[] = {
    KEY("tunnel", "interface", K_IFNAME, struct tunnel_conf, name, 0, 0, 0),
    KEY("tunnel", "id", K_ID, struct tunnel_conf, id, 0, 0, F_EMPTY_OK),
    KEY("tunnel", "tic", K_BOOL, struct tunnel_conf, tic, 0, 0, 0),
    KEY("tunnel", "table", K_TABLE, struct tunnel_conf, table, 1, UINT32_MAX, F_ZERO_AUTO),
    KEY("tunnel", "rule_priority", K_U32, struct tunnel_conf, rule_priority, 1, 32765, 0),
    KEY("tunnel", "datapath", K_DATAPATH, struct tunnel_conf, datapath, 0, 0, 0),
    KEY("tunnel", "mtu", K_MTU_OVERRIDE, struct tunnel_conf, mtu_override, 1280, 65535, 0),
    KEY("tunnel", "routed", K_ROUTED, struct tunnel_conf, routed, 0, 0, F_EMPTY_OK),
    KEY("tunnel", "setup_script", K_ABSPATH, struct tunnel_conf, setup_script, 0, 0, F_EMPTY_OK),
    KEY("tunnel", "heartbeat_ipv4", K_HB_IPV4, struct tunnel_conf, heartbeat_ipv4, 0, 0, 0),
    KEY("tunnel", "behind_nat", K_BOOL, struct tunnel_conf, behind_nat, 0, 0, F_COMPAT),
    KEY("tunnel", "mss_clamp", K_BOOL, struct tunnel_conf, mss_clamp, 0, 0, 0),
    KEY("tunnel", "offload", K_BOOL, struct tunnel_conf, offload, 0, 0, 0),
    KEY("tunnel", "liveness", K_LIVENESS, struct tunnel_conf, liveness, 0, 0, 0),
    KEY("tunnel", "liveness_misses", K_U32, struct tunnel_conf, liveness_misses, 1, 100, 0),
    KEY("tunnel", "pop_silence", K_U32, struct tunnel_conf, pop_silence, 0, 86400, 0),
    KEY("tunnel", "autostart", K_BOOL, struct tunnel_conf, autostart, 0, 0, 0),
    KEY("tunnel", "default_route", K_BOOL, struct tunnel_conf, default_route, 0, 0, 0),
    KEY("tunnel", "default_route_metric", K_U32, struct tunnel_conf, default_route_metric, 1,
        UINT32_MAX, F_ZERO_AUTO),
    TIC_KEYS(struct tunnel_conf, account),
    KEY("params", "type", K_TYPE, struct tunnel_conf, params.type, 0, 0, 0),
    KEY("params", "ipv6_local", K_IPV6, struct tunnel_conf, params.ipv6_local, 0, 0, 0),
    KEY("params", "ipv6_pop", K_IPV6, struct tunnel_conf, params.ipv6_pop, 0, 0, 0),
    KEY("params", "prefix_len", K_PREFIX_LEN, struct tunnel_conf, params.prefix_len, 0, 128, 0),
    KEY("params", "ipv4_pop", K_IPV4, struct tunnel_conf, params.ipv4_pop, 0, 0, 0),
    KEY("params", "ipv4_local", K_IPV4_LOCAL, struct tunnel_conf, params.ipv4_local, 0, 0, 0),
    KEY("params", "password", K_SECRET, struct tunnel_conf, params.password, 0, 0, F_EMPTY_OK),
    KEY("params", "heartbeat_interval", K_U32, struct tunnel_conf, params.heartbeat_interval, 1,
        3600, 0),
    KEY("params", "mtu", K_U32, struct tunnel_conf, params.mtu, 1280, 65535, 0),
    /* The explicit key that lets a file's tunnel prefix be shorter than /64 (tpolicy.h). */
    KEY("params", "min_prefix_len", K_PREFIX_LEN, struct tunnel_conf, min_prefix_len, 1, 128, 0),
    KEY("update", "url", K_URL, struct tunnel_conf, update.url, 0, 0, 0),
    KEY("update", "username", K_STR, struct tunnel_conf, update.username, 0, 0, 0),
    KEY("update", "key", K_SECRET, struct tunnel_conf, update.key, 0, 0, 0),
    KEY("update", "hostname", K_ID, struct tunnel_conf, update.hostname, 0, 0, 0),
    KEY("update", "ca_file", K_ABSPATH, struct tunnel_conf, update.ca_file, 0, 0, F_EMPTY_OK),
};

const size_t config_main_nkeys = NKEYS(config_main_keys);
const size_t config_tunnel_nkeys = NKEYS(config_tunnel_keys);

_Static_assert(NKEYS(config_main_keys) <= MAX_KEYS, "raise MAX_KEYS");
_Static_assert(NKEYS(config_tunnel_keys) <= MAX_KEYS, "raise MAX_KEYS");
