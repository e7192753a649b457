/*
 * The control socket's request line and who may connect: pure, no
 * sockets (control.c is the edge), unit-tested and fuzzed.
 *
 * A request is one line of printable ASCII words (blanks: space, tab; an
 * optional CR before the LF).  Any other byte (NUL, a control character,
 * DEL, anything above 0x7e) is answered at once with an error: nobody
 * waits for an idle timeout over a request that can never be valid.
 */
#ifndef AICCUD_CONTROL_REQ_H
#define AICCUD_CONTROL_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum creq_status {
	CREQ_INCOMPLETE = 0, /* no LF yet, and nothing wrong so far */
	CREQ_LINE,           /* a complete line of *len bytes (LF excluded) */
	CREQ_BAD_BYTE,       /* the byte at *len is not allowed */
	CREQ_TOO_LONG,       /* max bytes without an LF */
};

/* Look at what arrived so far (len bytes); max: the longest line allowed with its LF. */
enum creq_status creq_scan(const char *buf, size_t len, size_t max, size_t *out);

/*
 * Split a complete line (NUL-terminated, checked by creq_scan) into words
 * in place.  argc, 0 for an empty line, -E2BIG with more than max words.
 */
int creq_split(char *line, char **argv, int max);

/*
 * Admission of a new connection.  The table holds at most total_max
 * connections; reserved of them are only for root (so root's status
 * always answers); a non-root uid holds at most per_uid.  When the table
 * is full, a connection that has not sent its request yet (idle) is
 * closed to make room, the oldest first.
 */
struct admit_limits {
	unsigned total_max;
	unsigned reserved_root;
	unsigned per_uid;
};

enum admit_verdict {
	ADMIT_OK = 0,
	ADMIT_EVICT_IDLE,  /* accept after closing the oldest idle connection */
	ADMIT_REFUSE_UID,  /* this uid holds its share */
	ADMIT_REFUSE_FULL, /* full, and nothing idle to close */
};

struct admit_counts {
	unsigned total;        /* connections open */
	unsigned nonroot;      /* of them, from non-root peers */
	unsigned of_uid;       /* of them, from the new peer's uid */
	unsigned idle;         /* of them, still without a request */
	unsigned idle_nonroot; /* idle ones of non-root peers */
	unsigned idle_of_uid;  /* idle ones of the new peer's uid */
};

/* Which idle connection ADMIT_EVICT_IDLE closes: the oldest one of this kind. */
enum admit_scope {
	ADMIT_SCOPE_ANY = 0, /* root makes room from anyone idle */
	ADMIT_SCOPE_NONROOT, /* a non-root peer only from non-root idle ones */
};

enum admit_verdict admit_decide(const struct admit_limits *l, const struct admit_counts *c,
                                bool root, enum admit_scope *scope);
const char *admit_verdict_text(enum admit_verdict v);

/*
 * Subscribers of aiccuctl monitor.  At most total_max at once, of them
 * per_uid for one non-root uid (root: up to total_max), so one user's
 * monitors leave room for others'.  An event that would make a
 * subscriber's unsent output exceed buf_max drops that subscriber: the
 * parent never waits for a reader and holds at most buf_max for one.
 */
struct monitor_limits {
	unsigned total_max;
	unsigned per_uid;
	size_t buf_max;
};

enum monitor_verdict {
	MONITOR_OK = 0,
	MONITOR_REFUSE_UID,  /* this uid has per_uid monitors already */
	MONITOR_REFUSE_FULL, /* total_max monitors are connected */
};

enum monitor_verdict monitor_admit(const struct monitor_limits *l, unsigned total, unsigned of_uid,
                                   bool root);
/* pending: bytes queued and not sent yet; add: the event's line. */
bool monitor_overflows(const struct monitor_limits *l, size_t pending, size_t add);

#endif
