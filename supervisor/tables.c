/* Automatic routing tables, kept in state_dir/tables (see tables.h). */
#include "tables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "tabmap.h"

#define TABLES_FILE_MAX (1024 * 1024)

static void tables_read(struct tabmap *m, const char *path)
{
	unsigned skipped = 0;
	char *buf = NULL;
	size_t len = 0;
	int err = file_read_small(path, TABLES_FILE_MAX, 0, &buf, &len);

	if (err == -ENOENT)
		return;
	if (err < 0) {
		log_warnx("%s: cannot read (%s); automatic tables are assigned anew", path,
		          strerror(-err));
		return;
	}
	if (tabmap_parse(m, buf, len, &skipped) < 0)
		fatalx("out of memory");
	if (skipped)
		log_warnx("%s: %u line(s) skipped (not 'interface table' with a table in "
		          "%u..%u, or repeated)",
		          path, skipped, TABMAP_FIRST, TABMAP_LAST);
	free(buf);
}

static int tables_write(const struct tabmap *m, const char *dir, const char *path)
{
	char *text = tabmap_format(m);
	int err;

	if (!text)
		fatalx("out of memory");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		err = -errno;
	else
		err = file_write_atomic(path, text, strlen(text), 0600);
	free(text);
	return err;
}

size_t tables_assign(struct config *cfg, int *write_err)
{
	struct tabmap_want *w = calloc(cfg->ntunnels ? cfg->ntunnels : 1, sizeof(*w));
	struct tabmap m = {0};
	char path[TUNNEL_PATH_MAX + 16];
	size_t n = 0, autos = 0;
	bool changed = false;
	int err;

	if (write_err)
		*write_err = 0;
	if (!w)
		fatalx("out of memory");
	snprintf(path, sizeof(path), "%s/" TABMAP_FILE, cfg->state_dir);
	for (size_t i = 0; i < cfg->ntunnels; i++)
		if (cfg->tunnels[i].valid) {
			w[n].name = cfg->tunnels[i].conf.name;
			w[n++].table = cfg->tunnels[i].conf.table;
			autos += cfg->tunnels[i].conf.table == 0;
		}
	if (autos == 0) {
		free(w);
		return 0;
	}
	tables_read(&m, path);
	err = tabmap_assign(&m, w, n, &changed);
	if (err == -ENOMEM)
		fatalx("out of memory");
	n = 0;
	for (size_t i = 0; i < cfg->ntunnels; i++) {
		struct tunnel_entry *te = &cfg->tunnels[i];

		if (!te->valid)
			continue;
		te->conf.table = w[n++].table;
		if (te->conf.table == 0) { /* -ENOSPC: none left for this one */
			te->valid = false;
			snprintf(te->error, sizeof(te->error),
			         "%s: no automatic routing table left in %u..%u; set table",
			         te->conf.file, TABMAP_FIRST, TABMAP_LAST);
			log_warnx("%s", te->error);
		}
	}
	if (changed) {
		err = tables_write(&m, cfg->state_dir, path);
		if (err < 0)
			log_warnx(
			    "%s: cannot write (%s): the automatic tables hold while this aiccud "
			    "runs, but may differ after a restart",
			    path, strerror(-err));
		if (write_err)
			*write_err = err < 0 ? err : 0;
	}
	tabmap_free(&m);
	free(w);
	return autos;
}
