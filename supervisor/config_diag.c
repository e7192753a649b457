/*
 * The configuration's diagnostics (config_int.h): every message of a
 * run collected in a config_diag, and the parse context of one file
 * that each part (config.c, config_kind.c, config_across.c) reports
 * through.  Calls nothing of the other config files.
 */
#include "config_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_diag_add(struct config_diag *d, const char *fmt, ...)
{
	char **msgs;
	char *msg;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	/* Out of memory: the message is lost; the caller's verdict is not. */
	if (n < 0)
		return;
	msgs = realloc(d->msgs, (d->count + 1) * sizeof(*msgs));
	if (!msgs) {
		free(msg);
		return;
	}
	msgs[d->count++] = msg;
	d->msgs = msgs;
}

void config_diag_free(struct config_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->count = 0;
}

/* ---- parse state of one file ---- */

void config_pctx_init(struct pctx *p, const char *file, const struct key *keys, size_t nkeys,
                      const char *const *sections, void *obj, struct config_diag *diag)
{
	memset(p, 0, sizeof(*p));
	p->file = file;
	p->keys = keys;
	p->nkeys = nkeys;
	p->sections = sections;
	p->obj = obj;
	p->diag = diag;
	p->sect = SECT_NONE;
}

/* Every error goes through here: "file:line: text" (no line: "file: text"). */
void config_perr(struct pctx *p, int line, const char *fmt, ...)
{
	char text[1024], msg[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(msg, sizeof(msg), "%s:%d: %s", p->file, line, text);
	else
		snprintf(msg, sizeof(msg), "%s: %s", p->file, text);
	config_diag_add(p->diag, "%s", msg);
	if (p->nerr++ == 0) {
		/* entry.error is bounded; the full text is in diag */
		size_t n = strnlen(msg, sizeof(p->first_err) - 1);

		memcpy(p->first_err, msg, n);
		p->first_err[n] = '\0';
	}
}

int config_key_index(const struct pctx *p, const char *section, const char *name)
{
	for (size_t i = 0; i < p->nkeys; i++)
		if (strcmp(p->keys[i].section, section) == 0 && strcmp(p->keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

int config_given(const struct pctx *p, const char *section, const char *name)
{
	int i = config_key_index(p, section, name);

	return i < 0 ? 0 : p->key_line[i];
}
