/*
 * The kinds of value a configuration key can hold (config_int.h: enum
 * kind): how each one parses and how it prints, side by side in one table,
 * so that aiccud -nv prints exactly what the parser accepts again.
 * Parsers return 0, or -1 after reporting (config_perr).
 */
#include "config_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpolicy.h"

/* ---- value parsers: 0, or -1 after reporting ---- */

static bool printable(const char *s, bool blanks_ok)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (!blanks_ok && isspace(c)))
			return false;
	}
	return true;
}

static bool id_chars(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/*
 * What the kernel's dev_valid_name() accepts, less a leading '#': the
 * state directory's tables file would read such a name as a comment.
 */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || s[0] == '#' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) ||
		    !isprint((unsigned char)*s))
			return false;
	return true;
}

static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static bool port_ok(const char *s)
{
	uint32_t port;

	return parse_u32(s, &port) == 0 && port >= 1 && port <= 65535;
}

static bool hostname_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* host, host:port, an IPv6 literal, or [IPv6]:port */
static bool server_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	struct in6_addr a6;
	char host[INET6_ADDRSTRLEN];

	if (*s == '[') {
		const char *close = strchr(s, ']');
		size_t n = close ? (size_t)(close - s - 1) : 0;

		if (!close || n == 0 || n >= sizeof(host))
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return false;
		return close[1] == '\0' || (close[1] == ':' && port_ok(close + 2));
	}
	if (!colon)
		return hostname_ok(s, strlen(s));
	if (strchr(colon + 1, ':'))
		return inet_pton(AF_INET6, s, &a6) == 1;
	return hostname_ok(s, (size_t)(colon - s)) && port_ok(colon + 1);
}

/* https://host[:port]/path: what the update request (dyndns.h) can use. */
static bool url_ok(const char *s)
{
	char server[TUNNEL_HOST_MAX];
	const char *rest, *slash;
	size_t n;

	if (strncmp(s, "https://", 8) != 0 || !printable(s, false) || strpbrk(s, "?#@"))
		return false;
	rest = s + 8;
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n >= sizeof(server))
		return false;
	memcpy(server, rest, n);
	server[n] = '\0';
	return server_ok(server);
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

void config_prefix_mask(struct in6_addr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;

		a->s6_addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

static int parse_prefix(const char *s, struct tunnel_prefix *out, bool *host_bits)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in6_addr masked;
	uint32_t len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET6, addr, &out->addr) != 1 || parse_u32(slash + 1, &len) < 0 ||
	    len > 128)
		return -EINVAL;
	out->len = (uint8_t)len;
	masked = out->addr;
	config_prefix_mask(&masked, len);
	*host_bits = memcmp(&masked, &out->addr, sizeof(masked)) != 0;
	return 0;
}

/* "routed = 2001:db8:100::/48, 2001:db8:200::/48" (commas and/or blanks) */
static int set_routed(struct pctx *p, struct tunnel_conf *tc, const char *v)
{
	char *copy = strdup(v), *save = NULL, *tok;
	char fixed[INET6_ADDRSTRLEN];
	int rc = 0;

	if (!copy) {
		config_perr(p, p->lineno, "routed: out of memory");
		return -1;
	}
	tc->nrouted = 0;
	for (tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct tunnel_prefix pfx;
		bool host_bits;

		if (tc->nrouted == TUNNEL_ROUTED_MAX) {
			config_perr(p, p->lineno, "routed: more than %d prefixes",
			            TUNNEL_ROUTED_MAX);
			rc = -1;
			break;
		}
		if (parse_prefix(tok, &pfx, &host_bits) < 0) {
			config_perr(p, p->lineno,
			            "routed: '%s' is not an IPv6 prefix (address/length)", tok);
			rc = -1;
			continue;
		}
		if (host_bits) {
			config_prefix_mask(&pfx.addr, pfx.len);
			inet_ntop(AF_INET6, &pfx.addr, fixed, sizeof(fixed));
			config_perr(
			    p, p->lineno,
			    "routed: %s has bits set after the prefix length; did you mean %s/%u?",
			    tok, fixed, pfx.len);
			rc = -1;
			continue;
		}
		tc->routed[tc->nrouted++] = pfx;
	}
	free(copy);
	return rc;
}

static int set_string(struct pctx *p, const struct key *k, char *dst, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 && !(k->flags & F_EMPTY_OK)) {
		config_perr(p, p->lineno, "%s must not be empty", k->name);
		return -1;
	}
	if (n >= k->size) {
		config_perr(p, p->lineno, "%s: value is too long (at most %zu characters)", k->name,
		            k->size - 1);
		return -1;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

static int check_string(struct pctx *p, const struct key *k, const char *v)
{
	switch (k->kind) {
	case K_STR:
		if (!printable(v, false))
			break;
		return 0;
	case K_SECRET:
		if (!printable(v, true))
			break;
		return 0;
	case K_ID:
		if (!id_chars(v))
			break;
		return 0;
	case K_IFNAME:
		if (!ifname_ok(v)) {
			config_perr(
			    p, p->lineno,
			    "%s: '%s' is not a valid interface name (1..%d characters, no '/', ':' "
			    "or blanks, no '#' first)",
			    k->name, v, IFNAMSIZ - 1);
			return -1;
		}
		return 0;
	case K_SERVER:
		if (*v && !server_ok(v)) {
			config_perr(p, p->lineno,
			            "%s: '%s' is not host[:port] (IPv6: [address]:port)", k->name,
			            v);
			return -1;
		}
		return 0;
	case K_ABSPATH:
		if (*v && *v != '/') {
			config_perr(p, p->lineno, "%s: '%s' is not an absolute path", k->name, v);
			return -1;
		}
		return 0;
	case K_URL:
		if (!url_ok(v)) {
			config_perr(p, p->lineno,
			            "%s: '%s' is not https://host[:port]/path (no blanks, no user "
			            "or query part)",
			            k->name, v);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
	if (k->kind == K_ID)
		config_perr(p, p->lineno,
		            "%s: '%s' may only contain letters, digits, '.', '_' and '-'", k->name,
		            v);
	else if (k->kind == K_SECRET)
		config_perr(p, p->lineno, "%s: contains control characters", k->name);
	else
		config_perr(p, p->lineno, "%s: contains blanks or control characters", k->name);
	return -1;
}

static const char *reserved_table(uint32_t t)
{
	switch (t) {
	case 253:
		return "default";
	case 254:
		return "main";
	case 255:
		return "local";
	default:
		return NULL;
	}
}

static int set_number(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	uint32_t n;
	int err = parse_u32(v, &n);

	if (err == -EINVAL) {
		config_perr(p, p->lineno, "%s: '%s' is not a number", k->name, v);
		return -1;
	}
	if (k->kind == K_MTU_OVERRIDE && !err && (n == 0 || (n >= k->min && n <= k->max))) {
		*(uint32_t *)dst = n;
		return 0;
	}
	if (err || n < k->min || n > k->max) {
		if (k->kind == K_MTU_OVERRIDE)
			config_perr(p, p->lineno,
			            "%s: %s is out of range (0 for the broker's, or %u..%u)",
			            k->name, v, k->min, k->max);
		else
			config_perr(p, p->lineno, "%s: %s is out of range %u..%u", k->name, v,
			            k->min, k->max);
		return -1;
	}
	if (k->kind == K_TABLE && reserved_table(n)) {
		config_perr(p, p->lineno,
		            "%s: %u is the kernel's %s table; use 1..252 or 256..4294967295",
		            k->name, n, reserved_table(n));
		return -1;
	}
	if (k->kind == K_PREFIX_LEN)
		*(uint8_t *)dst = (uint8_t)n;
	else
		*(uint32_t *)dst = n;
	return 0;
}

/* ---- one parser and one printer per kind ---- */

static int parse_string(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (check_string(p, k, v) < 0)
		return -1;
	return set_string(p, k, dst, v);
}

static void print_string(FILE *out, const void *v)
{
	if (*(const char *)v)
		fprintf(out, " %s", (const char *)v);
}

static void print_secret(FILE *out, const void *v)
{
	if (*(const char *)v)
		fprintf(out, " %s", SECRET_MASK);
}

static int parse_bool_value(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (parse_bool(v, dst) == 0)
		return 0;
	config_perr(p, p->lineno, "%s: '%s' is not a boolean (yes/no/true/false/1/0)", k->name, v);
	return -1;
}

static void print_bool(FILE *out, const void *v)
{
	fprintf(out, " %s", *(const bool *)v ? "yes" : "no");
}

static void print_u32(FILE *out, const void *v)
{
	fprintf(out, " %u", *(const uint32_t *)v);
}

static void print_u8(FILE *out, const void *v)
{
	fprintf(out, " %u", *(const uint8_t *)v);
}

static int parse_ipv6(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (inet_pton(AF_INET6, v, dst) == 1)
		return 0;
	config_perr(p, p->lineno, "%s: '%s' is not an IPv6 address", k->name, v);
	return -1;
}

static void print_ipv6(FILE *out, const void *v)
{
	char a[INET6_ADDRSTRLEN];

	fprintf(out, " %s", inet_ntop(AF_INET6, v, a, sizeof(a)));
}

static int parse_ipv4(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (inet_pton(AF_INET, v, dst) == 1)
		return 0;
	config_perr(p, p->lineno, "%s: '%s' is not an IPv4 address", k->name, v);
	return -1;
}

static void print_ipv4(FILE *out, const void *v)
{
	char a[INET_ADDRSTRLEN];

	fprintf(out, " %s", inet_ntop(AF_INET, v, a, sizeof(a)));
}

/* Only the tunnel table has this kind: p->obj is a tunnel_conf ("auto" sets ipv4_auto). */
static int parse_ipv4_local(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	((struct tunnel_conf *)p->obj)->ipv4_auto = strcmp(v, "auto") == 0;
	if (strcmp(v, "heartbeat") == 0 || strcmp(v, "auto") == 0) {
		memset(dst, 0, sizeof(struct in_addr));
		return 0;
	}
	if (inet_pton(AF_INET, v, dst) == 1)
		return 0;
	config_perr(p, p->lineno, "%s: '%s' is neither 'heartbeat', 'auto' nor an IPv4 address",
	            k->name, v);
	return -1;
}

/* ipv4_local: the whole tunnel_conf (auto is a flag beside the address). */
static void print_ipv4_local(FILE *out, const void *obj)
{
	const struct tunnel_conf *tc = obj;

	if (tc->ipv4_auto)
		fprintf(out, " auto");
	else if (tc->params.ipv4_local.s_addr == 0)
		fprintf(out, " heartbeat");
	else
		print_ipv4(out, &tc->params.ipv4_local);
}

static int parse_type(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (tunnel_type_parse(v, dst) == 0)
		return 0;
	config_perr(p, p->lineno,
	            "%s: '%s' is not a tunnel type (ayiya, 6in4-heartbeat, 6in4-static)", k->name,
	            v);
	return -1;
}

static void print_type(FILE *out, const void *v)
{
	fprintf(out, " %s", tunnel_type_name(*(const enum tunnel_type *)v));
}

static int parse_datapath(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (tunnel_datapath_parse(v, dst) == 0)
		return 0;
	config_perr(p, p->lineno, "%s: '%s' is not auto, kernel or userspace", k->name, v);
	return -1;
}

static void print_datapath(FILE *out, const void *v)
{
	fprintf(out, " %s", tunnel_datapath_name(*(const enum tunnel_datapath *)v));
}

static int parse_liveness(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (strcmp(v, "none") == 0 || strcmp(v, "icmp") == 0) {
		*(enum tunnel_liveness *)dst = *v == 'n' ? LIVENESS_NONE : LIVENESS_ICMP;
		return 0;
	}
	config_perr(p, p->lineno, "%s: '%s' is not none or icmp", k->name, v);
	return -1;
}

static void print_liveness(FILE *out, const void *v)
{
	fprintf(out, " %s", *(const enum tunnel_liveness *)v == LIVENESS_ICMP ? "icmp" : "none");
}

static int parse_hb_ipv4(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (strcmp(v, "sender") == 0 || strcmp(v, "local") == 0) {
		*(enum tunnel_heartbeat_ipv4 *)dst =
		    *v == 's' ? HEARTBEAT_IPV4_SENDER : HEARTBEAT_IPV4_LOCAL;
		return 0;
	}
	config_perr(p, p->lineno, "%s: '%s' is not sender or local", k->name, v);
	return -1;
}

static void print_hb_ipv4(FILE *out, const void *v)
{
	fprintf(out, " %s",
	        *(const enum tunnel_heartbeat_ipv4 *)v == HEARTBEAT_IPV4_LOCAL ? "local"
	                                                                       : "sender");
}

/* tls_min: "1.0".."1.3", kept as 10..13 */
static int parse_tls_min(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	if (strlen(v) == 3 && v[0] == '1' && v[1] == '.' && v[2] >= '0' && v[2] <= '3') {
		*(uint8_t *)dst = (uint8_t)(10 + (v[2] - '0'));
		return 0;
	}
	config_perr(p, p->lineno, "%s: '%s' is not 1.0, 1.1, 1.2 or 1.3", k->name, v);
	return -1;
}

static void print_tls_min(FILE *out, const void *v)
{
	fprintf(out, " 1.%u", (unsigned)(*(const uint8_t *)v % 10));
}

/* routed: the whole tunnel_conf, not one field (the key's off is unused). */
static int parse_routed(struct pctx *p, const struct key *k, void *dst, const char *v)
{
	(void)k;
	(void)dst;
	return set_routed(p, p->obj, v);
}

static void print_routed(FILE *out, const void *obj)
{
	const struct tunnel_conf *tc = obj;
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < tc->nrouted; i++) {
		inet_ntop(AF_INET6, &tc->routed[i].addr, a, sizeof(a));
		fprintf(out, "%s%s/%u", i ? ", " : " ", a, tc->routed[i].len);
	}
}

/* ---- the table ---- */

struct kind_ops {
	int (*parse)(struct pctx *p, const struct key *k, void *dst, const char *v);
	/* v: the value; K_ROUTED and K_IPV4_LOCAL: the object */
	void (*print)(FILE *out, const void *v);
};

static const struct kind_ops kinds[] = {
    [K_STR] = {parse_string, print_string},
    [K_SECRET] = {parse_string, print_secret},
    [K_ID] = {parse_string, print_string},
    [K_IFNAME] = {parse_string, print_string},
    [K_SERVER] = {parse_string, print_string},
    [K_ABSPATH] = {parse_string, print_string},
    [K_DIR] = {parse_string, print_string},
    [K_URL] = {parse_string, print_string},
    [K_BOOL] = {parse_bool_value, print_bool},
    [K_U32] = {set_number, print_u32},
    [K_TABLE] = {set_number, print_u32},
    [K_MTU_OVERRIDE] = {set_number, print_u32},
    [K_PREFIX_LEN] = {set_number, print_u8},
    [K_IPV6] = {parse_ipv6, print_ipv6},
    [K_IPV4] = {parse_ipv4, print_ipv4},
    [K_IPV4_LOCAL] = {parse_ipv4_local, print_ipv4_local},
    [K_TYPE] = {parse_type, print_type},
    [K_DATAPATH] = {parse_datapath, print_datapath},
    [K_LIVENESS] = {parse_liveness, print_liveness},
    [K_HB_IPV4] = {parse_hb_ipv4, print_hb_ipv4},
    [K_TLS_MIN] = {parse_tls_min, print_tls_min},
    [K_ROUTED] = {parse_routed, print_routed},
};

_Static_assert(sizeof(kinds) / sizeof(kinds[0]) == K_COUNT, "a kind without handlers");

int config_kind_set(struct pctx *p, const struct key *k, const char *v)
{
	if ((unsigned)k->kind >= K_COUNT || !kinds[k->kind].parse)
		return -1;
	return kinds[k->kind].parse(p, k, (char *)p->obj + k->off, v);
}

void config_kind_print(FILE *out, const struct key *k, const void *obj)
{
	if ((unsigned)k->kind >= K_COUNT || !kinds[k->kind].print)
		return;
	kinds[k->kind].print(
	    out, k->kind == K_ROUTED || k->kind == K_IPV4_LOCAL ? obj : (const char *)obj + k->off);
}
