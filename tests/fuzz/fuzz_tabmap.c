/*
 * libFuzzer target: the automatic tables' state file (state_dir/tables),
 * which a damaged disk or a careless hand may have written.  tabmap_parse
 * keeps only well-formed, unique assignments in range; what it keeps
 * formats and parses back to the same; an assignment from it stays in
 * range and never gives two tunnels one table.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "tabmap.h"

static void check_map(const struct tabmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		FUZZ_CHECK(m->v[i].table >= TABMAP_FIRST && m->v[i].table <= TABMAP_LAST);
		FUZZ_CHECK(memchr(m->v[i].name, '\0', sizeof(m->v[i].name)) != NULL);
		FUZZ_CHECK(m->v[i].name[0] != '\0');
		for (size_t j = 0; j < i; j++) {
			FUZZ_CHECK(strcmp(m->v[i].name, m->v[j].name) != 0);
			FUZZ_CHECK(m->v[i].table != m->v[j].table);
		}
	}
}

static void check_round_trip(const struct tabmap *m)
{
	struct tabmap again = {0};
	unsigned skipped = 0;
	char *text = tabmap_format(m);

	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(tabmap_parse(&again, text, strlen(text), &skipped) == 0);
	FUZZ_CHECK(skipped == 0 && again.n == m->n);
	for (size_t i = 0; i < m->n; i++) {
		bool found = false;

		for (size_t j = 0; j < again.n && !found; j++)
			found = !strcmp(m->v[i].name, again.v[j].name) &&
			        m->v[i].table == again.v[j].table;
		FUZZ_CHECK(found);
	}
	free(text);
	tabmap_free(&again);
}

static void check_assign(struct tabmap *m)
{
	struct tabmap_want w[] = {
	    {"sixxs0", 0}, {"sixxs1", 0}, {"fixed", TABMAP_FIRST + 1}, {"sixxs2", 0}};
	size_t n = sizeof(w) / sizeof(w[0]);
	int r = tabmap_assign(m, w, n, NULL);

	FUZZ_CHECK(r == 0 || r == -ENOSPC);
	if (r)
		return;
	FUZZ_CHECK(w[2].table == TABMAP_FIRST + 1); /* a file's own table is kept */
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(i == 2 || (w[i].table >= TABMAP_FIRST && w[i].table <= TABMAP_LAST));
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(w[i].table != w[j].table);
	}
	check_map(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tabmap m = {0};
	unsigned skipped = 0;

	if (tabmap_parse(&m, (const char *)data, size, &skipped) == 0) {
		check_map(&m);
		check_round_trip(&m);
		check_assign(&m);
	}
	tabmap_free(&m);
	return 0;
}

size_t fuzz_make_valid(uint32_t seed, uint8_t *buf, size_t cap)
{
	uint32_t s = seed;
	size_t n = 0;
	unsigned lines = 1 + fuzz_rand(&s) % 6;

	for (unsigned i = 0; i < lines; i++) {
		int k = snprintf((char *)buf + n, cap - n, "sixxs%u %u\n", i,
		                 TABMAP_FIRST + fuzz_rand(&s) % 20);

		if (k < 0 || (size_t)k >= cap - n)
			break;
		n += (size_t)k;
	}
	return n;
}
