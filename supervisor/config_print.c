/* The normalized print-out of a configuration (config.h: config_print). */
#include "config_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- printing: the same key tables and kinds (config_kind.c), so that the output parses again
 * ---- */

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
		config_kind_print(out, &keys[i], obj);
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
