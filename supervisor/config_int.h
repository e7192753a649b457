/*
 * The configuration code's parts (config.h), shared by its files:
 *   config.c         inih, reading the files, validation
 *   config_keys.c    the key tables (data)
 *   config_diag.c    messages and the parse state of one file
 *   config_kind.c    each kind of value: its parser and its printer
 *   config_across.c  validation across tunnel files
 *   config_print.c   the normalized print-out (aiccud -nv)
 * Calls go one way: config.c -> across, kind, diag; across, kind,
 * print -> diag (and the tables); diag calls none of them.
 */
#ifndef AICCUD_CONFIG_INT_H
#define AICCUD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#include "config.h"

#define SECRET_MASK "********"
#define NKEYS(t)    (sizeof(t) / sizeof((t)[0]))
#define MAX_KEYS    48
#define MAX_SECT    4

enum kind {
	K_STR,          /* printable, no blanks (user names) */
	K_SECRET,       /* printable; printed as ******** */
	K_ID,           /* letters, digits, '.', '_', '-' */
	K_IFNAME,       /* a valid Linux interface name */
	K_SERVER,       /* host[:port] or [v6]:port */
	K_ABSPATH,      /* absolute path */
	K_DIR,          /* any path; relative to aiccud.conf's directory */
	K_BOOL,         /* bool */
	K_U32,          /* uint32_t in min..max */
	K_TABLE,        /* uint32_t, not 0 or the kernel's 253..255 */
	K_MTU_OVERRIDE, /* uint32_t, 0 or min..max */
	K_PREFIX_LEN,   /* uint8_t 0..128 */
	K_IPV6,         /* struct in6_addr */
	K_IPV4,         /* struct in_addr */
	K_IPV4_LOCAL,   /* struct in_addr, "heartbeat" = 0.0.0.0; "auto": tunnel_conf.ipv4_auto */
	K_URL,          /* https://host[:port]/path, no blanks */
	K_TYPE,         /* enum tunnel_type */
	K_DATAPATH,     /* enum tunnel_datapath */
	K_LIVENESS,     /* enum tunnel_liveness */
	K_HB_IPV4,      /* enum tunnel_heartbeat_ipv4: sender or local */
	K_TLS_MIN,      /* uint8_t 10..13 for TLS 1.0..1.3 */
	K_ROUTED,       /* tunnel_conf.routed[] and nrouted; off is unused */
	K_COUNT
};

#define F_EMPTY_OK  1u /* "" is a meaningful value */
#define F_COMPAT    2u /* accepted for old files, without effect: not printed */
#define F_ZERO_AUTO 4u /* 0 (not given) means "aiccud decides": not printed */

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t off;  /* of the value in the parsed struct */
	size_t size; /* of the value (string buffers: their capacity) */
	uint32_t min, max;
	unsigned flags;
};

extern const char *const config_main_sections[];
extern const struct key config_main_keys[];
extern const size_t config_main_nkeys;
extern const char *const config_tunnel_sections[];
extern const struct key config_tunnel_keys[];
extern const size_t config_tunnel_nkeys;
/*
 * A tunnel file's sections, by index in config_tunnel_sections (pctx.sect
 * holds one, or SECT_NONE / SECT_UNKNOWN below).  TS_* are the tunnel
 * states (lifecycle.h), not these.
 */
enum { SECT_TUNNEL = 0, SECT_TIC = 1, SECT_PARAMS = 2, SECT_UPDATE = 3 };

/* ---- parse state of one file ---- */

enum { SECT_NONE = -1, SECT_UNKNOWN = -2 };

struct pctx {
	const char *file; /* for messages */
	const char *buf;  /* the whole file */
	size_t len, pos;
	const struct key *keys;
	size_t nkeys;
	const char *const *sections;
	void *obj; /* struct config or struct tunnel_conf */
	struct config_diag *diag;

	int lineno;
	int sect;                /* index into sections, or SECT_* */
	int sect_line[MAX_SECT]; /* first header line of each section; 0: absent */
	int key_line[MAX_KEYS];  /* line of each key; 0: not given */
	bool key_bad[MAX_KEYS];  /* given, but its value was refused */

	size_t nerr;
	char first_err[CONFIG_ERR_MAX];
};

void config_pctx_init(struct pctx *p, const char *file, const struct key *keys, size_t nkeys,
                      const char *const *sections, void *obj, struct config_diag *diag);
/* Every error goes through here: "file:line: text" (no line: "file: text"). */
void config_perr(struct pctx *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Index of section.name in p->keys; -1 when there is no such key. */
int config_key_index(const struct pctx *p, const char *section, const char *name);
/* Line where section.name was given, 0 when it was not. */
int config_given(const struct pctx *p, const char *section, const char *name);

/* config_kind.c: parse v into the key's place in p->obj (0, or -1 after reporting). */
int config_kind_set(struct pctx *p, const struct key *k, const char *v);
/* Print the key's value in obj as " value" (nothing for an empty one), as it parses again. */
void config_kind_print(FILE *out, const struct key *k, const void *obj);
/* Clear the bits of a past len. */
void config_prefix_mask(struct in6_addr *a, unsigned len);

/* Where a tunnel file gave the keys that must differ between tunnels. */
struct tunnel_lines {
	int sect; /* [tunnel] header */
	int interface, id, table, rule_priority, ipv6_local, default_route, default_route_metric;
};

/*
 * Mark every usable tunnel that clashes with an earlier one (name, table,
 * rule priority, address, TIC id) as unusable, with messages naming both
 * files and lines.  tl[i] belongs to cfg->tunnels[i].
 */
void config_check_across(struct config *cfg, const struct tunnel_lines *tl,
                         struct config_diag *diag);

#endif
