/*
 * Routing tables for tunnels whose file gives no "table": each gets one
 * from TABMAP_FIRST..TABMAP_LAST, and keeps it across restarts and
 * reloads because the assignment is kept in the state directory
 * (state_dir/tables, one "interface table" per line).
 *
 * Pure: text in, text out; the caller reads and writes the file.  An
 * assignment, once made, stays with its interface name even while that
 * tunnel is not configured, so removing and re-adding a tunnel gives it
 * its old table back; only a table a file names explicitly takes a table
 * away from an automatic assignment.
 */
#ifndef AICCUD_TABMAP_H
#define AICCUD_TABMAP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TABMAP_FIRST 1570000u /* "157": aiccud's routing protocol number */
#define TABMAP_LAST  1579999u
#define TABMAP_FILE  "tables" /* in state_dir */

struct tabmap_entry {
	char name[IFNAMSIZ];
	uint32_t table;
};

struct tabmap {
	struct tabmap_entry *v;
	size_t n, cap;
};

/* One tunnel of the configuration: table 0 asks for an automatic one. */
struct tabmap_want {
	const char *name;
	uint32_t table; /* in: the file's table or 0; out: the table to use */
};

/*
 * Read a state file's text (need not be NUL-terminated).  Lines that are
 * not "name table" with a table in the range, and repeated names or
 * tables, are skipped (*skipped counts them, may be NULL): a damaged file
 * costs at most those assignments.  Returns 0 or -ENOMEM.
 */
int tabmap_parse(struct tabmap *m, const char *text, size_t len, unsigned *skipped);
/*
 * Give every want with table 0 its table: the one it had if no file
 * names that table, else the lowest free one.  *changed (may be NULL):
 * whether m changed, i.e. the state file must be written.  Returns 0,
 * -ENOSPC (the range is full) or -ENOMEM.
 */
int tabmap_assign(struct tabmap *m, struct tabmap_want *w, size_t n, bool *changed);
/* The state file's text, sorted by table; free() it.  NULL: out of memory. */
char *tabmap_format(const struct tabmap *m);
void tabmap_free(struct tabmap *m);

#endif
