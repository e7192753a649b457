/* Automatic routing tables (see tabmap.h). */
#include "tabmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool in_range(unsigned long long t)
{
	return t >= TABMAP_FIRST && t <= TABMAP_LAST;
}

static struct tabmap_entry *by_name(const struct tabmap *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	return NULL;
}

static struct tabmap_entry *by_table(const struct tabmap *m, uint32_t table)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].table == table)
			return &m->v[i];
	return NULL;
}

static int add(struct tabmap *m, const char *name, uint32_t table)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct tabmap_entry *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	snprintf(m->v[m->n].name, sizeof(m->v[m->n].name), "%s", name);
	m->v[m->n++].table = table;
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n < IFNAMSIZ && !strpbrk(s, "/:");
}

/*
 * One line: "name table", blanks around; anything else is skipped.  A
 * comment is a line whose first non-blank is '#', so no name begins with
 * one (the configuration refuses such interface names): what is read
 * formats back to lines that read the same.
 */
static int parse_line(struct tabmap *m, const char *line, unsigned *skipped)
{
	char name[64], tail[2];
	unsigned long long t;
	char first = line[strspn(line, " \t")];

	if (first == '#' || first == '\0')
		return 0;
	if (sscanf(line, " %63s %llu %1s", name, &t, tail) != 2 || !name_ok(name) || !in_range(t) ||
	    by_name(m, name) || by_table(m, (uint32_t)t)) {
		(*skipped)++;
		return 0;
	}
	return add(m, name, (uint32_t)t);
}

int tabmap_parse(struct tabmap *m, const char *text, size_t len, unsigned *skipped)
{
	unsigned dummy = 0;
	size_t pos = 0;

	if (!skipped)
		skipped = &dummy;
	while (pos < len) {
		size_t n = 0;
		char line[128];
		int err;

		while (pos + n < len && text[pos + n] != '\n')
			n++;
		if (n >= sizeof(line) || memchr(text + pos, '\0', n))
			(*skipped)++;
		else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			err = parse_line(m, line, skipped);
			if (err < 0)
				return err;
		}
		pos += n + 1;
	}
	return 0;
}

static bool named_by_a_file(const struct tabmap_want *w, size_t n, uint32_t table)
{
	for (size_t i = 0; i < n; i++)
		if (w[i].table == table)
			return true;
	return false;
}

/* An entry whose table a file now names: that assignment is void. */
static void drop_claimed(struct tabmap *m, const struct tabmap_want *w, size_t n, bool *changed)
{
	for (size_t i = 0; i < m->n;) {
		if (named_by_a_file(w, n, m->v[i].table)) {
			m->v[i] = m->v[--m->n];
			*changed = true;
		} else
			i++;
	}
}

#define RANGE (TABMAP_LAST - TABMAP_FIRST + 1)

/* used[t - TABMAP_FIRST]: table t is assigned or named by a file. */
static void mark(bool *used, uint32_t t)
{
	if (in_range(t))
		used[t - TABMAP_FIRST] = true;
}

static int lowest_free(bool *used, uint32_t *next, uint32_t *out)
{
	for (; *next < RANGE; (*next)++)
		if (!used[*next]) {
			used[*next] = true;
			*out = TABMAP_FIRST + *next;
			return 0;
		}
	return -ENOSPC;
}

int tabmap_assign(struct tabmap *m, struct tabmap_want *w, size_t n, bool *changed)
{
	bool dummy = false, *used = calloc(RANGE, sizeof(*used));
	uint32_t next = 0;
	int err = 0;

	if (!changed)
		changed = &dummy;
	*changed = false;
	if (!used)
		return -ENOMEM;
	drop_claimed(m, w, n, changed);
	for (size_t i = 0; i < m->n; i++)
		mark(used, m->v[i].table);
	for (size_t i = 0; i < n; i++)
		mark(used, w[i].table);
	for (size_t i = 0; i < n && !err; i++) {
		const struct tabmap_entry *e;
		uint32_t t;

		if (w[i].table)
			continue;
		e = by_name(m, w[i].name);
		if (e) {
			w[i].table = e->table;
			continue;
		}
		err = lowest_free(used, &next, &t);
		if (!err)
			err = add(m, w[i].name, t);
		if (!err) {
			w[i].table = t;
			*changed = true;
		}
	}
	free(used);
	return err;
}

static int by_table_cmp(const void *a, const void *b)
{
	const struct tabmap_entry *x = a, *y = b;

	return x->table < y->table ? -1 : x->table > y->table;
}

char *tabmap_format(const struct tabmap *m)
{
	struct tabmap_entry *v = malloc((m->n ? m->n : 1) * sizeof(*v));
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	if (!v)
		return NULL;
	if (m->n) { /* an empty map may have no array at all (memcpy's NULL is undefined) */
		memcpy(v, m->v, m->n * sizeof(*v));
		qsort(v, m->n, sizeof(*v), by_table_cmp);
	}
	f = open_memstream(&text, &size);
	if (f) {
		fprintf(f, "# aiccud's automatic routing tables (interface table); "
		           "written by aiccud\n");
		for (size_t i = 0; i < m->n; i++)
			fprintf(f, "%s %u\n", v[i].name, v[i].table);
		if (fclose(f) != 0) {
			free(text);
			text = NULL;
		}
	}
	free(v);
	return text;
}

void tabmap_free(struct tabmap *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
