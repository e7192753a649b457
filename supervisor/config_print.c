/* The normalized print-out of a configuration (config.h: config_print). */
#include "config_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

/* ---- printing: the same key tables, so that the output parses again ---- */

static void print_routed(FILE *out, const struct tunnel_conf *tc)
{
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < tc->nrouted; i++) {
		inet_ntop(AF_INET6, &tc->routed[i].addr, a, sizeof(a));
		fprintf(out, "%s%s/%u", i ? ", " : " ", a, tc->routed[i].len);
	}
}

static void print_value(FILE *out, const struct key *k, const void *obj)
{
	const void *v = (const char *)obj + k->off;
	char a[INET6_ADDRSTRLEN];
	const char *s = NULL;

	switch (k->kind) {
	case K_SECRET:
		s = *(const char *)v ? SECRET_MASK : "";
		break;
	case K_STR:
	case K_ID:
	case K_IFNAME:
	case K_SERVER:
	case K_ABSPATH:
	case K_DIR:
	case K_URL:
		s = v;
		break;
	case K_BOOL:
		s = *(const bool *)v ? "yes" : "no";
		break;
	case K_U32:
	case K_TABLE:
	case K_MTU_OVERRIDE:
		fprintf(out, " %u", *(const uint32_t *)v);
		return;
	case K_PREFIX_LEN:
		fprintf(out, " %u", *(const uint8_t *)v);
		return;
	case K_IPV6:
		s = inet_ntop(AF_INET6, v, a, sizeof(a));
		break;
	case K_IPV4_LOCAL:
		/* Only the tunnel table has this kind: obj is a tunnel_conf. */
		if (((const struct tunnel_conf *)obj)->ipv4_auto) {
			s = "auto";
			break;
		}
		if (((const struct in_addr *)v)->s_addr == 0) {
			s = "heartbeat";
			break;
		}
		/* fall through */
	case K_IPV4:
		s = inet_ntop(AF_INET, v, a, sizeof(a));
		break;
	case K_TYPE:
		s = tunnel_type_name(*(const enum tunnel_type *)v);
		break;
	case K_DATAPATH:
		s = tunnel_datapath_name(*(const enum tunnel_datapath *)v);
		break;
	case K_LIVENESS:
		s = *(const enum tunnel_liveness *)v == LIVENESS_ICMP ? "icmp" : "none";
		break;
	case K_HB_IPV4:
		s = *(const enum tunnel_heartbeat_ipv4 *)v == HEARTBEAT_IPV4_LOCAL ? "local"
		                                                                   : "sender";
		break;
	case K_ROUTED:
		print_routed(out, obj);
		return;
	}
	if (s && *s)
		fprintf(out, " %s", s);
}

static void print_section(FILE *out, const struct key *keys, size_t nkeys, const char *sect,
                          const void *obj)
{
	fprintf(out, "[%s]\n", sect);
	for (size_t i = 0; i < nkeys; i++) {
		if (strcmp(keys[i].section, sect) != 0 || (keys[i].flags & F_COMPAT))
			continue;
		if ((keys[i].flags & F_ZERO_AUTO) &&
		    *(const uint32_t *)((const char *)obj + keys[i].off) == 0) {
			fprintf(out, "# %s: automatic\n", keys[i].name);
			continue;
		}
		fprintf(out, "%s =", keys[i].name);
		print_value(out, &keys[i], obj);
		fputc('\n', out);
	}
	fputc('\n', out);
}

static void print_tunnel(FILE *out, const struct tunnel_entry *te)
{
	const struct tunnel_conf *tc = &te->conf;

	if (!te->valid) {
		fprintf(out, "# not loaded: %s\n\n", te->error);
		return;
	}
	fprintf(out, "# file: %s\n", tc->file);
	print_section(out, config_tunnel_keys, config_tunnel_nkeys, "tunnel", tc);
	/* Only the part that is used: the account with tic, the parameters without. */
	print_section(out, config_tunnel_keys, config_tunnel_nkeys, tc->tic ? "tic" : "params", tc);
	if (tc->has_update)
		print_section(out, config_tunnel_keys, config_tunnel_nkeys, "update", tc);
}

int config_print(const struct config *cfg, FILE *out)
{
	fprintf(out, "# file: %s\n", cfg->file);
	for (size_t i = 0; config_main_sections[i]; i++)
		print_section(out, config_main_keys, config_main_nkeys, config_main_sections[i],
		              cfg);
	for (size_t i = 0; i < cfg->ntunnels; i++)
		print_tunnel(out, &cfg->tunnels[i]);
	return ferror(out) ? -EIO : 0;
}
