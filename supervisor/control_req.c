/* The control request line and connection admission (see control_req.h). */
#include "control_req.h"

#include <errno.h>
#include <string.h>

static bool allowed(unsigned char c)
{
	return (c >= 0x20 && c <= 0x7e) || c == '\t';
}

enum creq_status creq_scan(const char *buf, size_t len, size_t max, size_t *out)
{
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			*out = i && buf[i - 1] == '\r' ? i - 1 : i;
			return CREQ_LINE;
		}
		/* CR only right before the LF (checked when the LF comes) */
		if (c == '\r' && (i + 1 == len || buf[i + 1] == '\n'))
			continue;
		if (!allowed(c)) {
			*out = i;
			return CREQ_BAD_BYTE;
		}
	}
	*out = len;
	return len >= max ? CREQ_TOO_LONG : CREQ_INCOMPLETE;
}

int creq_split(char *line, char **argv, int max)
{
	char *save = NULL, *word;
	int argc = 0;

	for (word = strtok_r(line, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		if (argc == max)
			return -E2BIG;
		argv[argc++] = word;
	}
	argv[argc] = NULL;
	return argc;
}

enum admit_verdict admit_decide(const struct admit_limits *l, const struct admit_counts *c,
                                bool root, enum admit_scope *scope)
{
	unsigned shared = l->total_max > l->reserved_root ? l->total_max - l->reserved_root : 0;

	*scope = ADMIT_SCOPE_ANY;
	if (root) {
		/* The reserve is root's: it only runs out when every slot is taken. */
		if (c->total < l->total_max)
			return ADMIT_OK;
		return c->idle ? ADMIT_EVICT_IDLE : ADMIT_REFUSE_FULL;
	}
	/* A uid at its share is refused: its own idle ones time out soon enough. */
	if (c->of_uid >= l->per_uid)
		return ADMIT_REFUSE_UID;
	if (c->nonroot < shared && c->total < l->total_max)
		return ADMIT_OK;
	/* The shared part is full: only an idle non-root connection may make room. */
	*scope = ADMIT_SCOPE_NONROOT;
	return c->idle_nonroot ? ADMIT_EVICT_IDLE : ADMIT_REFUSE_FULL;
}

const char *admit_verdict_text(enum admit_verdict v)
{
	switch (v) {
	case ADMIT_OK:
		return "accepted";
	case ADMIT_EVICT_IDLE:
		return "accepted after closing an idle connection";
	case ADMIT_REFUSE_UID:
		return "this uid already holds its share of connections";
	case ADMIT_REFUSE_FULL:
		return "every connection is busy";
	}
	return "?";
}

enum monitor_verdict monitor_admit(const struct monitor_limits *l, unsigned total, unsigned of_uid,
                                   bool root)
{
	if (total >= l->total_max)
		return MONITOR_REFUSE_FULL;
	if (!root && of_uid >= l->per_uid)
		return MONITOR_REFUSE_UID;
	return MONITOR_OK;
}

bool monitor_overflows(const struct monitor_limits *l, size_t pending, size_t add)
{
	return add > l->buf_max || pending > l->buf_max - add;
}
