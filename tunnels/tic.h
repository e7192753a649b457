/*
 * TIC (Tunnel Information & Control, PROTOCOLS.md section 1): the protocol
 * without the sockets.  Reply-line parsing, a bounded line splitter, the
 * "tunnel list" and "tunnel show" parsers (the show parser also reads the
 * tunnel cache back), the MD5 challenge response, the clock check, and the
 * client's session as a state machine: feed it the server's lines, it says
 * what to send next.  No sockets, no clock reads, no globals: the I/O edge
 * (tic_io.c), the unit tests and the fuzzer all drive the same code.
 */
#ifndef AICCUD_TIC_H
#define AICCUD_TIC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "tunnel.h"

#define TIC_PORT 3874
/* Longest line (without its LF or CRLF) we accept from the server. */
#define TIC_LINE_MAX 1024
/* Most entries a "tunnel list" answer may have. */
#define TIC_LIST_MAX 1024
/* Most Key: value lines a "tunnel show" answer may have. */
#define TIC_SHOW_LINES_MAX 128
/* Largest clock difference to the server we accept, in seconds. */
#define TIC_CLOCK_SKEW_MAX 120
#define TIC_POP_ID_MAX     32
#define TIC_STATE_MAX      32
#define TIC_ERR_MAX        256
/* "IPv4 Endpoint" as text: an address, "heartbeat", "ayiya", ... */
#define TIC_ENDPOINT_MAX 64
/* Heartbeat interval bounds: the PoP drops a tunnel 120 s after its last packet. */
#define TIC_HEARTBEAT_MIN 10
#define TIC_HEARTBEAT_MAX 110

/* Reply codes with a meaning of their own. */
#define TIC_CODE_MULTI_START 201
#define TIC_CODE_MULTI_END   202

/* ---- reply lines ---- */

struct tic_reply {
	int code;         /* 100..999 */
	const char *text; /* the rest of the line after "NNN ", "" when absent */
};

/*
 * Parse a server reply line (without its line end): three digits, then a
 * space and free text, or the code alone.  0, or -EBADMSG when the line does
 * not start like that.  r->text points into line.
 */
int tic_reply_parse(const char *line, struct tic_reply *r);
static inline bool tic_code_ok(int code)
{
	return code >= 200 && code <= 299;
}

/* ---- line splitter ---- */

/*
 * Bytes in, complete lines out.  Room for two maximal lines so one push of
 * a full read always fits after the complete lines have been popped.
 */
struct tic_lines {
	char buf[2 * (TIC_LINE_MAX + 2)];
	size_t start;   /* first byte not yet popped */
	size_t len;     /* bytes in buf */
	int error;      /* sticky: once a line was bad, the stream is unusable */
	bool skip_long; /* set by the caller: an over-long line is skipped, not fatal */
	bool skipping;  /* inside a skipped line: drop bytes up to its LF */
};

void tic_lines_init(struct tic_lines *l);
/* Free space for the next push (after compaction). */
size_t tic_lines_room(struct tic_lines *l);
/*
 * Append bytes.  Returns how many were taken (at most tic_lines_room());
 * pop every complete line before pushing more.
 */
size_t tic_lines_push(struct tic_lines *l, const void *data, size_t len);
/*
 * Take the next complete line (LF or CRLF stripped, NUL-terminated, valid
 * until the next push).  1 with *line set, 0 when no complete line is
 * buffered yet, -EMSGSIZE when a line is longer than TIC_LINE_MAX, -EBADMSG
 * when a line holds a NUL byte.  Errors are sticky, except -EMSGSIZE while
 * skip_long is set: the long line is then dropped up to its LF (once that
 * arrives) and the lines after it come out as usual.
 */
int tic_lines_pop(struct tic_lines *l, const char **line);
/* Bytes buffered that are not yet part of a popped line. */
size_t tic_lines_pending(const struct tic_lines *l);

/* ---- tunnel list / tunnel show ---- */

/* A tunnel id is also a cache file name: 1..31 of [A-Za-z0-9_.-], no leading dot. */
bool tic_id_valid(const char *id);

/* One line of the "tunnel list" answer: <TunnelId> <IPv6 local> <IPv4 local> <PoPId>. */
struct tic_list_entry {
	char id[TUNNEL_ID_MAX];
	struct in6_addr ipv6_local;
	/*
	 * 0.0.0.0 unless the server gave an address.  The field is informational
	 * (PROTOCOLS.md 7.1): any word ("heartbeat", "ayiya", ...) is accepted.
	 */
	struct in_addr ipv4_local;
	char pop_id[TIC_POP_ID_MAX];
};

/* 0, or -EBADMSG with err saying which field is wrong. */
int tic_list_parse(const char *line, struct tic_list_entry *e, char *err, size_t errlen);

/* A tunnel as the broker describes it ("tunnel show", or the cache). */
struct tic_tunnel {
	char id[TUNNEL_ID_MAX];
	char pop_id[TIC_POP_ID_MAX];
	struct tunnel_params params;
	bool admin_enabled, user_enabled; /* bring the tunnel up only when both are set */
	char admin_state[TIC_STATE_MAX], user_state[TIC_STATE_MAX];
	/*
	 * "IPv4 Endpoint" as the broker gave it.  Like the real client we keep
	 * it as opaque text and read it as an address only for 6in4-static
	 * tunnels (into params.ipv4_local; for other types an address there is
	 * kept as information, a word such as "ayiya" or "heartbeat" gives
	 * 0.0.0.0).  The cache writes it back unchanged.
	 */
	char ipv4_endpoint[TIC_ENDPOINT_MAX];
	/*
	 * Set by the session (tic_fetch): 0 when the fields above are valid,
	 * else -errno with fetch_msg saying why (-ENOENT: the account has no
	 * such tunnel; -EBADMSG, -EINVAL, -ENOTSUP: its answer was refused;
	 * -EPROTO: the server answered with an error code).
	 */
	int fetch_err;
	char fetch_msg[TIC_ERR_MAX];
};

/* Key: value lines of one "tunnel show" answer (or one cache file). */
struct tic_show {
	struct tic_tunnel t;
	unsigned seen; /* bit per known key */
	unsigned nlines;
	int error; /* first error, kept so a caller can read to the end */
	char err[TIC_ERR_MAX];
};

void tic_show_begin(struct tic_show *p);
/*
 * One "Key: value" line; unknown keys are ignored.  0, or -errno with p->err
 * set (a line without ": ", a duplicate key, a value that does not parse,
 * too many lines).  After an error further lines are ignored.
 */
int tic_show_line(struct tic_show *p, const char *line);
/*
 * Validate (required keys, type, addresses, ranges) and copy the tunnel
 * out.  0, or -errno with p->err set: -ENOTSUP for an l2tp tunnel,
 * -EBADMSG/-EINVAL for missing or wrong values.
 */
int tic_show_end(struct tic_show *p, struct tic_tunnel *out);
/*
 * Print t as "Key: value" lines that tic_show_line reads back (the cache
 * format).  Length written (excluding the NUL), or -ENOSPC.
 */
int tic_show_format(const struct tic_tunnel *t, char *buf, size_t len);

/*
 * Split "host", "host:port", "[v6]:port", "[v6]" or a bare IPv6 address
 * into host and port (TIC_PORT when absent).  0 or -EINVAL.
 */
int tic_server_parse(const char *server, char *host, size_t hostlen, char *port, size_t portlen);

/* ---- crypto and clock ---- */

/* out = md5hex(challenge + md5hex(password)), lower case.  Returns 0. */
int tic_md5_response(const char *challenge, const char *password, char out[33]);
/* Our clock minus the server's, in seconds (positive: we are ahead). */
long tic_clock_skew(time_t server, time_t local);
/* 0 when |skew| <= TIC_CLOCK_SKEW_MAX, else -ERANGE with "clock is off by N s, use NTP". */
int tic_clock_check(time_t server, time_t local, char *err, size_t errlen);

/* ---- the session ---- */

struct tic_session_cfg {
	const char *username;
	const char *password;       /* the account password */
	const char *client_version; /* goes into "client TIC/draft-00 aiccud/<version> ..." */
	const char *os_release;     /* uname -r, into "... Linux/<release>" */
	bool require_tls;           /* refuse to go on when the server has no STARTTLS */
	const char *const *ids;     /* the tunnels to fetch */
	size_t nids;
	struct tic_tunnel *out; /* nids entries; out[i].fetch_err says how ids[i] went */
};

/* What the I/O edge must do next. */
enum tic_action {
	TIC_ACT_READ = 1,   /* read the next server line and feed it */
	TIC_ACT_SEND,       /* send s->out (one whole line, LF included), then read */
	TIC_ACT_STARTTLS,   /* run the TLS handshake now, then call tic_session_tls_done() */
	TIC_ACT_SEND_CLOSE, /* send s->out (QUIT) and close: the session is complete */
	TIC_ACT_ERROR,      /* stop: s->error and s->err say why */
};

enum tic_state {
	TIC_S_WELCOME = 1,
	TIC_S_CLIENT,
	TIC_S_TIME,
	TIC_S_STARTTLS,
	TIC_S_TLS,
	TIC_S_USERNAME,
	TIC_S_CHALLENGE,
	TIC_S_AUTH,
	TIC_S_LIST_HEAD,
	TIC_S_LIST_BODY,
	TIC_S_SHOW_HEAD,
	TIC_S_SHOW_BODY,
	TIC_S_DONE,
	TIC_S_FAILED,
};

struct tic_session {
	struct tic_session_cfg cfg;
	enum tic_state state;
	size_t cur;   /* index into cfg.ids of the tunnel being shown */
	size_t nlist; /* entries seen in the tunnel list */
	struct tic_show show;
	bool tls;                       /* TLS is on */
	bool plain;                     /* the server had no TLS and require_tls is off */
	int error;                      /* -errno once the session failed */
	char doing[TUNNEL_ID_MAX + 16]; /* the step: "welcome", "authenticate", "tunnel show T1" */
	char out[TIC_LINE_MAX + 2];     /* the line to send (LF-terminated) */
	size_t outlen;
	char err[TIC_ERR_MAX];     /* "<step>: <what went wrong>" */
	char warning[TIC_ERR_MAX]; /* set when the session continued in plain text */
};

/*
 * Set up a session; the next action is TIC_ACT_READ (the welcome line).
 * 0, or -EINVAL when a credential or id could not be sent on one line.
 * Every out[i] starts as -ENOENT "not in the account's tunnel list".
 */
int tic_session_init(struct tic_session *s, const struct tic_session_cfg *cfg);
/*
 * Feed one server line (line end stripped), received when our clock read
 * `now`.  Returns the next action.  Error codes (s->error):
 *   -EBUSY        the server turned the connection away (welcome not 2xx):
 *                 the caller must not reconnect for 5 minutes
 *   -ERANGE       our clock is more than TIC_CLOCK_SKEW_MAX off
 *   -EPROTONOSUPPORT  the server refused STARTTLS and require_tls is on
 *   -EACCES       username or authenticate refused
 *   -EPROTO       any other non-2xx answer where 2xx was needed
 *   -EBADMSG      a malformed reply line
 *   -E2BIG        a list or show answer longer than allowed
 * Per-tunnel problems do not stop the session; they land in out[i].
 */
enum tic_action tic_session_feed(struct tic_session *s, const char *line, time_t now);
/*
 * The line splitter dropped a line longer than TIC_LINE_MAX.  Inside a
 * "tunnel show" answer only that tunnel fails (a hostile tunnel's value
 * must not cost the account's other tunnels their fetch); anywhere else
 * the session does.
 */
enum tic_action tic_session_line_too_long(struct tic_session *s);
/* The TLS handshake succeeded: next action (send the username). */
enum tic_action tic_session_tls_done(struct tic_session *s);
/* Mark the session failed by the I/O edge (EOF, timeout, TLS error). */
enum tic_action tic_session_fail(struct tic_session *s, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
