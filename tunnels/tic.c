/* TIC protocol code without I/O: see tic.h. */
#include "tic.h"
#include "tpolicy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <nettle/md5.h>

/* ---- reply lines ---- */

int tic_reply_parse(const char *line, struct tic_reply *r)
{
	if (line[0] < '1' || line[0] > '9' || !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return -EBADMSG;
	if (line[3] != '\0' && line[3] != ' ')
		return -EBADMSG;
	r->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	r->text = line[3] ? line + 4 : line + 3;
	return 0;
}

/* ---- line splitter ---- */

void tic_lines_init(struct tic_lines *l)
{
	l->start = 0;
	l->len = 0;
	l->error = 0;
	l->skip_long = false;
	l->skipping = false;
}

size_t tic_lines_room(struct tic_lines *l)
{
	if (l->start) {
		memmove(l->buf, l->buf + l->start, l->len - l->start);
		l->len -= l->start;
		l->start = 0;
	}
	return sizeof(l->buf) - l->len;
}

size_t tic_lines_push(struct tic_lines *l, const void *data, size_t len)
{
	size_t room = tic_lines_room(l);

	if (len > room)
		len = room;
	memcpy(l->buf + l->len, data, len);
	l->len += len;
	return len;
}

size_t tic_lines_pending(const struct tic_lines *l)
{
	return l->len - l->start;
}

/* An over-long line: fatal, or (skip_long) dropped up to its LF. */
static int lines_too_long(struct tic_lines *l, bool complete)
{
	if (!l->skip_long)
		return l->error = -EMSGSIZE;
	l->skipping = !complete;
	l->start = complete ? l->start : l->len;
	return -EMSGSIZE;
}

int tic_lines_pop(struct tic_lines *l, const char **line)
{
	char *p = l->buf + l->start, *nl;
	size_t avail = l->len - l->start, n;

	if (l->error)
		return l->error;
	nl = memchr(p, '\n', avail);
	if (l->skipping) {
		/* The rest of a line already reported too long: drop it. */
		l->start = nl ? (size_t)(nl + 1 - l->buf) : l->len;
		l->skipping = !nl;
		return nl ? tic_lines_pop(l, line) : 0;
	}
	if (!nl) {
		/* Room for TIC_LINE_MAX bytes and a CR, still no LF: too long. */
		if (avail > TIC_LINE_MAX + 1)
			return lines_too_long(l, false);
		return l->error;
	}
	n = (size_t)(nl - p);
	l->start += n + 1;
	*nl = '\0';
	if (n && p[n - 1] == '\r')
		p[--n] = '\0';
	if (n > TIC_LINE_MAX)
		return lines_too_long(l, true);
	else if (memchr(p, '\0', n))
		l->error = -EBADMSG;
	if (l->error)
		return l->error;
	*line = p;
	return 1;
}

/* ---- small parsers ---- */

static bool token_valid(const char *s, size_t max)
{
	size_t n = 0;

	if (!s[0] || s[0] == '.')
		return false;
	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != '.' && s[n] != '-')
			return false;
	return n < max;
}

/* The PoP id is a label: keep what is printable as a token, '_' for the rest. */
static void pop_id_clean(char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			*s = '_';
}

/* A label from the server: truncated and cleaned, never a reason to refuse. */
static void pop_id_copy(char *dst, const char *v)
{
	snprintf(dst, TIC_POP_ID_MAX, "%s", v);
	pop_id_clean(dst);
	if (dst[0] == '.')
		dst[0] = '_';
}

bool tic_id_valid(const char *id)
{
	return token_valid(id, TUNNEL_ID_MAX);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool has_space_or_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Messages quote the server's text; keep its control characters out of our logs. */
static void scrub(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Plain decimal only: no sign, no spaces, no trailing text. */
static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static int copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

/* ---- tunnel list ---- */

static int list_parse(const char *line, struct tic_list_entry *e, char *err, size_t errlen)
{
	char copy[TIC_LINE_MAX + 1], *save = NULL, *f[5];
	int n = 0;

	if (copy_str(copy, sizeof(copy), line) < 0) {
		snprintf(err, errlen, "line too long");
		return -EBADMSG;
	}
	for (char *tok = strtok_r(copy, " ", &save); tok && n < 5; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n != 4) {
		snprintf(err, errlen, "expected 4 fields (id, IPv6, IPv4, PoP), got %s",
		         n > 4 ? "more" : "fewer");
		return -EBADMSG;
	}
	memset(e, 0, sizeof(*e));
	if (!tic_id_valid(f[0])) {
		snprintf(err, errlen, "bad tunnel id '%.40s'", f[0]);
		return -EBADMSG;
	}
	strcpy(e->id, f[0]);
	if (inet_pton(AF_INET6, f[1], &e->ipv6_local) != 1) {
		snprintf(err, errlen, "%s: bad IPv6 address '%.64s'", e->id, f[1]);
		return -EBADMSG;
	}
	/*
	 * Informational: an address, or a word for dynamic tunnels ("heartbeat",
	 * "ayiya"); the real client kept it as text, so do we (PROTOCOLS.md 7.1).
	 */
	if (inet_pton(AF_INET, f[2], &e->ipv4_local) != 1)
		e->ipv4_local.s_addr = 0;
	pop_id_copy(e->pop_id, f[3]);
	return 0;
}

int tic_list_parse(const char *line, struct tic_list_entry *e, char *err, size_t errlen)
{
	int r = list_parse(line, e, err, errlen);

	if (r && errlen)
		scrub(err);
	return r;
}

/* ---- tunnel show ---- */

enum show_key {
	K_ID,
	K_TYPE,
	K_V6_LOCAL,
	K_V6_POP,
	K_PREFIX,
	K_POP_ID,
	K_V4_LOCAL,
	K_V4_POP,
	K_USER,
	K_ADMIN,
	K_PASSWORD,
	K_HEARTBEAT,
	K_MTU,
	K_COUNT,
};

static const char *const show_keys[K_COUNT] = {
    [K_ID] = "TunnelId",
    [K_TYPE] = "Type",
    [K_V6_LOCAL] = "IPv6 Endpoint",
    [K_V6_POP] = "IPv6 POP",
    [K_PREFIX] = "IPv6 PrefixLength",
    [K_POP_ID] = "POP Id",
    [K_V4_LOCAL] = "IPv4 Endpoint",
    [K_V4_POP] = "IPv4 POP",
    [K_USER] = "UserState",
    [K_ADMIN] = "AdminState",
    [K_PASSWORD] = "Password",
    [K_HEARTBEAT] = "Heartbeat_Interval",
    [K_MTU] = "Tunnel MTU",
};

#define SHOW_REQUIRED                                                                              \
	((1u << K_ID) | (1u << K_TYPE) | (1u << K_V6_LOCAL) | (1u << K_V6_POP) |                   \
	 (1u << K_PREFIX) | (1u << K_V4_LOCAL) | (1u << K_V4_POP) | (1u << K_USER) |               \
	 (1u << K_ADMIN))

void tic_show_begin(struct tic_show *p)
{
	memset(p, 0, sizeof(*p));
}

static int show_fail(struct tic_show *p, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int show_fail(struct tic_show *p, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	scrub(p->err);
	p->error = error;
	return error;
}

static int show_type(struct tic_show *p, const char *key, const char *v)
{
	if (!strcmp(v, "l2tp"))
		return show_fail(p, -ENOTSUP,
		                 "%s: l2tp tunnels are not supported (only ayiya, 6in4-heartbeat, "
		                 "6in4-static)",
		                 key);
	if (tunnel_type_parse(v, &p->t.params.type) < 0)
		return show_fail(p, -EINVAL, "%s: unknown tunnel type '%.40s'", key, v);
	return 0;
}

static int show_addr(struct tic_show *p, const char *key, const char *v, int af, void *dst)
{
	if (inet_pton(af, v, dst) != 1)
		return show_fail(p, -EINVAL, "%s: bad IPv%c address '%.64s'", key,
		                 af == AF_INET ? '4' : '6', v);
	return 0;
}

static int show_number(struct tic_show *p, const char *key, const char *v, uint32_t lo, uint32_t hi,
                       uint32_t *out)
{
	if (parse_u32(v, out) < 0 || *out < lo || *out > hi)
		return show_fail(p, -EINVAL, "%s: '%.40s' is not a number in %u..%u", key, v, lo,
		                 hi);
	return 0;
}

static int show_string(struct tic_show *p, const char *key, const char *v, char *dst, size_t size)
{
	if (copy_str(dst, size, v) < 0)
		return show_fail(p, -EINVAL, "%s: value longer than %zu bytes", key, size - 1);
	return 0;
}

static int show_value(struct tic_show *p, enum show_key k, const char *v)
{
	struct tic_tunnel *t = &p->t;
	const char *key = show_keys[k];
	uint32_t n = 0;
	int r;

	switch (k) {
	case K_ID:
		if (!tic_id_valid(v))
			return show_fail(p, -EINVAL, "%s: bad tunnel id '%.40s'", key, v);
		return show_string(p, key, v, t->id, sizeof(t->id));
	case K_TYPE:
		return show_type(p, key, v);
	case K_V6_LOCAL:
		return show_addr(p, key, v, AF_INET6, &t->params.ipv6_local);
	case K_V6_POP:
		return show_addr(p, key, v, AF_INET6, &t->params.ipv6_pop);
	case K_PREFIX:
		r = show_number(p, key, v, 1, 128, &n);
		if (!r)
			t->params.prefix_len = (uint8_t)n;
		return r;
	case K_POP_ID:
		if (!token_valid(v, TIC_POP_ID_MAX))
			return show_fail(p, -EINVAL, "%s: bad PoP id '%.40s'", key, v);
		return show_string(p, key, v, t->pop_id, sizeof(t->pop_id));
	case K_V4_LOCAL:
		/* Text until the type is known: show_check reads it (Type may come later). */
		return show_string(p, key, v, t->ipv4_endpoint, sizeof(t->ipv4_endpoint));
	case K_V4_POP:
		return show_addr(p, key, v, AF_INET, &t->params.ipv4_pop);
	case K_USER:
		t->user_enabled = !strcmp(v, "enabled");
		return show_string(p, key, v, t->user_state, sizeof(t->user_state));
	case K_ADMIN:
		t->admin_enabled = !strcmp(v, "enabled");
		return show_string(p, key, v, t->admin_state, sizeof(t->admin_state));
	case K_PASSWORD:
		return show_string(p, key, v, t->params.password, sizeof(t->params.password));
	case K_HEARTBEAT:
		return show_number(p, key, v, 0, UINT32_MAX, &t->params.heartbeat_interval);
	case K_MTU:
		return show_number(p, key, v, 1280, 65535, &t->params.mtu);
	case K_COUNT:
		break;
	}
	return 0;
}

/* Labels only: a control character there is replaced, not a reason to refuse the tunnel. */
static bool show_informational(enum show_key k)
{
	return k == K_POP_ID || k == K_USER || k == K_ADMIN;
}

static int show_known(struct tic_show *p, enum show_key k, const char *v)
{
	char clean[TIC_LINE_MAX + 1];

	if (!has_control(v) && k != K_POP_ID)
		return show_value(p, k, v);
	if (!show_informational(k))
		return show_fail(p, -EBADMSG, "%s: control character in the value", show_keys[k]);
	if (k == K_POP_ID)
		pop_id_copy(clean, v);
	else
		snprintf(clean, sizeof(clean), "%s", v);
	tpolicy_scrub(clean);
	return show_value(p, k, clean);
}

int tic_show_line(struct tic_show *p, const char *line)
{
	char key[64];
	const char *sep = strstr(line, ": "), *v;
	size_t klen;

	if (++p->nlines > TIC_SHOW_LINES_MAX) {
		/* Keep the first error's text, but the caller must learn of this one. */
		if (!p->error)
			show_fail(p, -E2BIG, "more than %d lines", TIC_SHOW_LINES_MAX);
		return -E2BIG;
	}
	if (p->error)
		return 0;
	if (sep) {
		klen = (size_t)(sep - line);
		v = sep + 2;
	} else {
		/* "Key:" with an empty value, its trailing space stripped by someone. */
		klen = strlen(line);
		if (!klen || line[klen - 1] != ':')
			return show_fail(p, -EBADMSG, "line %u: no 'Key: value' ('%.40s')",
			                 p->nlines, line);
		klen--;
		v = "";
	}
	if (klen >= sizeof(key))
		return 0; /* no key of ours is that long: unknown, ignored */
	memcpy(key, line, klen);
	key[klen] = '\0';
	for (int k = 0; k < K_COUNT; k++) {
		if (strcmp(key, show_keys[k]))
			continue;
		if (p->seen & (1u << k))
			return show_fail(p, -EBADMSG, "%s: given twice", key);
		p->seen |= 1u << k;
		return show_known(p, (enum show_key)k, v);
	}
	return 0; /* unknown keys (Tunnel Name, ...) are labels we do not use */
}

/* The one tunnel type whose IPv4 Endpoint is used: the sit link's local address. */
static int show_check_static(struct tic_show *p)
{
	struct in_addr *a = &p->t.params.ipv4_local;
	const char *v = p->t.ipv4_endpoint;

	if (inet_pton(AF_INET, v, a) != 1)
		return show_fail(p, -EINVAL,
		                 "IPv4 Endpoint: a 6in4-static tunnel needs our IPv4 address, "
		                 "not '%.64s'",
		                 v);
	if (a->s_addr == 0)
		return show_fail(p, -EINVAL,
		                 "IPv4 Endpoint: a 6in4-static tunnel needs our IPv4 address, "
		                 "not 0.0.0.0");
	return 0;
}

static int show_check(struct tic_show *p)
{
	const struct tunnel_params *par = &p->t.params;
	unsigned missing = SHOW_REQUIRED & ~p->seen;
	struct tpolicy_limits lim;
	char why[TIC_ERR_MAX];

	if (missing) {
		for (int k = 0; k < K_COUNT; k++)
			if (missing & (1u << k))
				return show_fail(p, -EBADMSG, "missing key '%s'", show_keys[k]);
	}
	tpolicy_default_limits(&lim);
	if (tpolicy_check_params(par, &lim, TPOLICY_KEYS_TIC, why, sizeof(why)) < 0)
		return show_fail(p, -EINVAL, "%s", why);
	if (par->type == TUNNEL_6IN4_STATIC)
		return show_check_static(p);
	/* Dynamic tunnels: the PoP learns our address; an address here is information. */
	if (inet_pton(AF_INET, p->t.ipv4_endpoint, &p->t.params.ipv4_local) != 1)
		p->t.params.ipv4_local.s_addr = 0;
	/* AYIYA and heartbeat tunnels sign with the password and beat on the interval. */
	if (!par->password[0])
		return show_fail(p, -EBADMSG, "missing key 'Password' (a %s tunnel needs it)",
		                 tunnel_type_name(par->type));
	if (!(p->seen & (1u << K_HEARTBEAT)))
		return show_fail(p, -EBADMSG, "missing key 'Heartbeat_Interval'");
	if (par->heartbeat_interval < TIC_HEARTBEAT_MIN ||
	    par->heartbeat_interval > TIC_HEARTBEAT_MAX)
		return show_fail(p, -EINVAL,
		                 "Heartbeat_Interval: %u s is outside %d..%d s (the PoP drops "
		                 "a tunnel 120 s after its last packet)",
		                 par->heartbeat_interval, TIC_HEARTBEAT_MIN, TIC_HEARTBEAT_MAX);
	return 0;
}

int tic_show_end(struct tic_show *p, struct tic_tunnel *out)
{
	int r = p->error ? p->error : show_check(p);

	if (r)
		return r;
	*out = p->t;
	out->fetch_err = 0;
	out->fetch_msg[0] = '\0';
	return 0;
}

struct outbuf {
	char *buf;
	size_t len, used;
	bool full;
};

static void out_printf(struct outbuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void out_printf(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used)
		o->full = true;
	else
		o->used += (size_t)n;
}

int tic_show_format(const struct tic_tunnel *t, char *buf, size_t len)
{
	const struct tunnel_params *par = &t->params;
	struct outbuf o = {buf, len, 0, len == 0};
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *v4 = a;

	out_printf(&o, "TunnelId: %s\nType: %s\n", t->id, tunnel_type_name(par->type));
	inet_ntop(AF_INET6, &par->ipv6_local, a, sizeof(a));
	inet_ntop(AF_INET6, &par->ipv6_pop, b, sizeof(b));
	out_printf(&o, "IPv6 Endpoint: %s\nIPv6 POP: %s\nIPv6 PrefixLength: %u\n", a, b,
	           par->prefix_len);
	if (t->pop_id[0])
		out_printf(&o, "POP Id: %s\n", t->pop_id);
	/* The broker's text when we have it (the cache must not turn "ayiya" into something else).
	 */
	if (t->ipv4_endpoint[0])
		v4 = t->ipv4_endpoint;
	else if (par->ipv4_local.s_addr)
		inet_ntop(AF_INET, &par->ipv4_local, a, sizeof(a));
	else
		v4 = par->type == TUNNEL_AYIYA ? "ayiya" : "heartbeat";
	inet_ntop(AF_INET, &par->ipv4_pop, b, sizeof(b));
	out_printf(&o, "IPv4 Endpoint: %s\nIPv4 POP: %s\n", v4, b);
	out_printf(&o, "UserState: %s\nAdminState: %s\n", t->user_state, t->admin_state);
	if (par->password[0])
		out_printf(&o, "Password: %s\n", par->password);
	out_printf(&o, "Heartbeat_Interval: %u\n", par->heartbeat_interval);
	if (par->mtu)
		out_printf(&o, "Tunnel MTU: %u\n", par->mtu);
	return o.full ? -ENOSPC : (int)o.used;
}

/* ---- the server's name ---- */

/* What a host name or an address literal (with an IPv6 zone) is made of. */
static bool host_chars_ok(const char *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_' || c == ':' || c == '%'))
			return false;
	}
	return true;
}

int tic_server_parse(const char *server, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *h = server, *p = NULL, *colon = strchr(server, ':');
	size_t hl;
	uint32_t n = TIC_PORT;

	if (server[0] == '[') {
		const char *close = strchr(server, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -EINVAL;
		h = server + 1;
		hl = (size_t)(close - h);
		p = close[1] ? close + 2 : NULL;
	} else if (colon && !strchr(colon + 1, ':')) {
		hl = (size_t)(colon - server);
		p = colon + 1;
	} else {
		hl = strlen(server); /* a name, or an IPv6 address without a port */
	}
	if (!hl || hl >= hostlen || has_space_or_control(server) || !host_chars_ok(h, hl))
		return -EINVAL;
	if (p && (parse_u32(p, &n) < 0 || n < 1 || n > 65535))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (snprintf(port, portlen, "%u", n) >= (int)portlen)
		return -EINVAL;
	return 0;
}

/* ---- crypto and clock ---- */

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int tic_md5_response(const char *challenge, const char *password, char out[33])
{
	unsigned char d[MD5_DIGEST_SIZE];
	char pwhex[33];
	struct md5_ctx h;

	md5_init(&h);
	md5_update(&h, strlen(password), (const uint8_t *)password);
	md5_digest(&h, sizeof(d), d);
	hex(d, sizeof(d), pwhex);
	md5_update(&h, strlen(challenge), (const uint8_t *)challenge);
	md5_update(&h, 32, (const uint8_t *)pwhex);
	md5_digest(&h, sizeof(d), d);
	hex(d, sizeof(d), out);
	explicit_bzero(pwhex, sizeof(pwhex));
	explicit_bzero(&h, sizeof(h));
	return 0;
}

long tic_clock_skew(time_t server, time_t local)
{
	return (long)(local - server);
}

int tic_clock_check(time_t server, time_t local, char *err, size_t errlen)
{
	long skew = tic_clock_skew(server, local);

	if (labs(skew) <= TIC_CLOCK_SKEW_MAX)
		return 0;
	snprintf(err, errlen, "clock is off by %ld s, use NTP (ours is %s the server's)",
	         labs(skew), skew > 0 ? "ahead of" : "behind");
	return -ERANGE;
}

/* ---- the session ---- */

static enum tic_action sess_fail(struct tic_session *s, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sess_verr(struct tic_session *s, int error, const char *prefix, const char *fmt,
                      va_list ap) __attribute__((format(printf, 4, 0)));

static void sess_verr(struct tic_session *s, int error, const char *prefix, const char *fmt,
                      va_list ap)
{
	int n = 0;

	if (prefix)
		n = snprintf(s->err, sizeof(s->err), "%s: ", prefix);
	vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	scrub(s->err);
	s->error = error;
	s->state = TIC_S_FAILED;
	/* Tunnels still waiting for their answer will not get it. */
	for (size_t i = 0; i < s->cfg.nids; i++) {
		struct tic_tunnel *t = &s->cfg.out[i];

		if (t->fetch_err == -EINPROGRESS || t->fetch_err == -ECANCELED) {
			t->fetch_err = -ECANCELED;
			snprintf(t->fetch_msg, sizeof(t->fetch_msg), "not fetched: %.230s", s->err);
		}
	}
}

static enum tic_action sess_fail(struct tic_session *s, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sess_verr(s, error, s->doing, fmt, ap);
	va_end(ap);
	return TIC_ACT_ERROR;
}

enum tic_action tic_session_fail(struct tic_session *s, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sess_verr(s, error, NULL, fmt, ap);
	va_end(ap);
	return TIC_ACT_ERROR;
}

static enum tic_action sess_send(struct tic_session *s, enum tic_state next, const char *doing,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum tic_action sess_send(struct tic_session *s, enum tic_state next, const char *doing,
                                 const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->out, sizeof(s->out) - 1, fmt, ap);
	va_end(ap);
	/* Inputs are validated in tic_session_init, so this cannot overflow. */
	if (n < 0 || (size_t)n >= sizeof(s->out) - 1)
		return sess_fail(s, -EINVAL, "line too long to send");
	s->out[n++] = '\n';
	s->out[n] = '\0';
	s->outlen = (size_t)n;
	snprintf(s->doing, sizeof(s->doing), "%s", doing);
	s->state = next;
	return TIC_ACT_SEND;
}

static bool word_ok(const char *s, size_t max)
{
	return s && s[0] && strlen(s) < max && !has_space_or_control(s);
}

int tic_session_init(struct tic_session *s, const struct tic_session_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	if (!word_ok(cfg->username, TUNNEL_USER_MAX) || !cfg->password ||
	    has_control(cfg->password) || !word_ok(cfg->client_version, 64) ||
	    !word_ok(cfg->os_release, 128) || cfg->nids > TIC_LIST_MAX ||
	    (cfg->nids && (!cfg->ids || !cfg->out)))
		return -EINVAL;
	for (size_t i = 0; i < cfg->nids; i++)
		if (!cfg->ids[i] || !tic_id_valid(cfg->ids[i]))
			return -EINVAL;
	s->cfg = *cfg;
	for (size_t i = 0; i < cfg->nids; i++) {
		struct tic_tunnel *t = &cfg->out[i];

		memset(t, 0, sizeof(*t));
		t->fetch_err = -ECANCELED;
		snprintf(t->fetch_msg, sizeof(t->fetch_msg), "not fetched");
	}
	s->state = TIC_S_WELCOME;
	snprintf(s->doing, sizeof(s->doing), "welcome");
	return 0;
}

static void tunnel_fail(struct tic_tunnel *t, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void tunnel_fail(struct tic_tunnel *t, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->fetch_msg, sizeof(t->fetch_msg), fmt, ap);
	va_end(ap);
	scrub(t->fetch_msg);
	t->fetch_err = error;
}

/* Ask for the next tunnel the list had, or say goodbye. */
static enum tic_action sess_next_show(struct tic_session *s)
{
	enum tic_action a;

	for (; s->cur < s->cfg.nids; s->cur++) {
		char doing[sizeof(s->doing)];

		if (s->cfg.out[s->cur].fetch_err != -EINPROGRESS)
			continue;
		snprintf(doing, sizeof(doing), "tunnel show %s", s->cfg.ids[s->cur]);
		return sess_send(s, TIC_S_SHOW_HEAD, doing, "tunnel show %s", s->cfg.ids[s->cur]);
	}
	a = sess_send(s, TIC_S_DONE, "QUIT", "QUIT aiccud is done");
	return a == TIC_ACT_SEND ? TIC_ACT_SEND_CLOSE : a;
}

static void list_match(struct tic_session *s, const struct tic_list_entry *e)
{
	for (size_t i = 0; i < s->cfg.nids; i++) {
		struct tic_tunnel *t = &s->cfg.out[i];

		if (strcmp(s->cfg.ids[i], e->id))
			continue;
		t->fetch_err = -EINPROGRESS;
		snprintf(t->pop_id, sizeof(t->pop_id), "%s", e->pop_id);
	}
}

static enum tic_action list_end(struct tic_session *s)
{
	for (size_t i = 0; i < s->cfg.nids; i++)
		if (s->cfg.out[i].fetch_err != -EINPROGRESS)
			tunnel_fail(&s->cfg.out[i], -ENOENT,
			            "tunnel list: the account has no tunnel %s", s->cfg.ids[i]);
	s->cur = 0;
	return sess_next_show(s);
}

static enum tic_action list_line(struct tic_session *s, const char *line)
{
	struct tic_list_entry e;
	char err[TIC_ERR_MAX / 2];

	if (++s->nlist > TIC_LIST_MAX)
		return sess_fail(s, -E2BIG, "more than %d tunnels", TIC_LIST_MAX);
	if (tic_list_parse(line, &e, err, sizeof(err)) < 0)
		return sess_fail(s, -EBADMSG, "line %zu: %s", s->nlist, err);
	list_match(s, &e);
	return TIC_ACT_READ;
}

static enum tic_action show_end(struct tic_session *s)
{
	struct tic_tunnel *out = &s->cfg.out[s->cur], t;
	const char *id = s->cfg.ids[s->cur];
	int r = tic_show_end(&s->show, &t);

	if (r)
		tunnel_fail(out, r, "tunnel show %s: %s", id, s->show.err);
	else if (strcmp(t.id, id))
		tunnel_fail(out, -EBADMSG, "tunnel show %s: the server answered for %s", id, t.id);
	else {
		/* The list named the PoP too; keep that when show does not. */
		if (!t.pop_id[0])
			memcpy(t.pop_id, out->pop_id, sizeof(t.pop_id));
		*out = t;
	}
	s->cur++;
	return sess_next_show(s);
}

static enum tic_action show_head(struct tic_session *s, const struct tic_reply *r, const char *line)
{
	struct tic_tunnel *out = &s->cfg.out[s->cur];

	if (r->code == TIC_CODE_MULTI_START) {
		tic_show_begin(&s->show);
		s->state = TIC_S_SHOW_BODY;
		return TIC_ACT_READ;
	}
	/* A one-line answer keeps us in step with the server: only this tunnel fails. */
	if (tic_code_ok(r->code))
		tunnel_fail(out, -EBADMSG, "%s: expected 201, got '%.80s'", s->doing, line);
	else
		tunnel_fail(out, -EPROTO, "%s: %.160s", s->doing, line);
	s->cur++;
	return sess_next_show(s);
}

static enum tic_action on_time(struct tic_session *s, const char *text, time_t now)
{
	uint32_t server;
	char err[TIC_ERR_MAX / 2];

	/* 32 bits of seconds last until 2106: enough for a server that answers today. */
	if (parse_u32(text, &server) < 0)
		return sess_fail(s, -EBADMSG, "not a time: '%.40s'", text);
	if (tic_clock_check((time_t)server, now, err, sizeof(err)) < 0)
		return sess_fail(s, -ERANGE, "%s", err);
	return sess_send(s, TIC_S_STARTTLS, "starttls", "starttls");
}

static enum tic_action on_starttls(struct tic_session *s, const struct tic_reply *r,
                                   const char *line)
{
	if (tic_code_ok(r->code)) {
		s->state = TIC_S_TLS;
		return TIC_ACT_STARTTLS;
	}
	if (s->cfg.require_tls)
		return sess_fail(s, -EPROTONOSUPPORT,
		                 "the server refused TLS ('%.80s') and require_tls is on", line);
	s->plain = true;
	snprintf(s->warning, sizeof(s->warning),
	         "the TIC server has no TLS ('%.80s'): continuing in plain text because "
	         "require_tls = no; tunnel passwords cross the network readable",
	         line);
	scrub(s->warning);
	return sess_send(s, TIC_S_USERNAME, "username", "username %s", s->cfg.username);
}

static enum tic_action on_challenge(struct tic_session *s, const char *text)
{
	char resp[33];

	if (!text[0] || has_space_or_control(text))
		return sess_fail(s, -EBADMSG, "bad challenge '%.40s'", text);
	if (tic_md5_response(text, s->cfg.password, resp) < 0)
		return sess_fail(s, -EIO, "MD5 is not available");
	return sess_send(s, TIC_S_AUTH, "authenticate", "authenticate md5 %s", resp);
}

/* States that expect one 2xx line and move on. */
static enum tic_action on_single(struct tic_session *s, const struct tic_reply *r, const char *line,
                                 time_t now)
{
	if (!tic_code_ok(r->code)) {
		int error =
		    s->state == TIC_S_USERNAME || s->state == TIC_S_AUTH ? -EACCES : -EPROTO;

		return sess_fail(s, error, "%.200s", line);
	}
	switch (s->state) {
	case TIC_S_CLIENT:
		return sess_send(s, TIC_S_TIME, "get unixtime", "get unixtime");
	case TIC_S_TIME:
		return on_time(s, r->text, now);
	case TIC_S_USERNAME:
		return sess_send(s, TIC_S_CHALLENGE, "challenge md5", "challenge md5");
	case TIC_S_CHALLENGE:
		return on_challenge(s, r->text);
	case TIC_S_AUTH:
		if (!s->cfg.nids)
			return sess_next_show(s);
		return sess_send(s, TIC_S_LIST_HEAD, "tunnel list", "tunnel list");
	case TIC_S_LIST_HEAD:
		if (r->code != TIC_CODE_MULTI_START)
			return sess_fail(s, -EBADMSG, "expected 201, got '%.80s'", line);
		s->state = TIC_S_LIST_BODY;
		s->nlist = 0;
		return TIC_ACT_READ;
	default:
		return sess_fail(s, -EPROTO, "internal: state %d", s->state);
	}
}

static bool is_multi_end(const char *line)
{
	struct tic_reply r;

	return tic_reply_parse(line, &r) == 0 && r.code == TIC_CODE_MULTI_END;
}

enum tic_action tic_session_feed(struct tic_session *s, const char *line, time_t now)
{
	struct tic_reply r;

	switch (s->state) {
	case TIC_S_FAILED:
		return TIC_ACT_ERROR;
	case TIC_S_DONE:
	case TIC_S_TLS:
		return sess_fail(s, -EPROTO, "unexpected line '%.80s'", line);
	case TIC_S_LIST_BODY:
		return is_multi_end(line) ? list_end(s) : list_line(s, line);
	case TIC_S_SHOW_BODY:
		if (is_multi_end(line))
			return show_end(s);
		if (tic_show_line(&s->show, line) == -E2BIG)
			return sess_fail(s, -E2BIG, "more than %d lines", TIC_SHOW_LINES_MAX);
		return TIC_ACT_READ;
	default:
		break;
	}
	if (tic_reply_parse(line, &r) < 0)
		return sess_fail(s, -EBADMSG, "not a reply line: '%.80s'", line);
	switch (s->state) {
	case TIC_S_WELCOME:
		if (!tic_code_ok(r.code))
			return sess_fail(s, -EBUSY, "the server turned us away: '%.160s'", line);
		return sess_send(s, TIC_S_CLIENT, "client",
		                 "client TIC/draft-00 aiccud/%s Linux/%s", s->cfg.client_version,
		                 s->cfg.os_release);
	case TIC_S_STARTTLS:
		return on_starttls(s, &r, line);
	case TIC_S_SHOW_HEAD:
		return show_head(s, &r, line);
	default:
		return on_single(s, &r, line, now);
	}
}

enum tic_action tic_session_line_too_long(struct tic_session *s)
{
	if (s->state != TIC_S_SHOW_BODY)
		return sess_fail(s, -EMSGSIZE, "a reply line longer than %d bytes", TIC_LINE_MAX);
	if (!s->show.error)
		show_fail(&s->show, -EMSGSIZE, "a line longer than %d bytes", TIC_LINE_MAX);
	return TIC_ACT_READ;
}

enum tic_action tic_session_tls_done(struct tic_session *s)
{
	if (s->state != TIC_S_TLS)
		return sess_fail(s, -EPROTO, "internal: TLS finished in state %d", s->state);
	s->tls = true;
	return sess_send(s, TIC_S_USERNAME, "username", "username %s", s->cfg.username);
}
