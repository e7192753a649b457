/*
 * AICCU configuration -> aiccud tunnel file (see aiccu_import.h).
 *
 * Facts about AICCU's file used here: keys are lower-case words followed
 * by blanks and a value; booleans are "true"/"false"; requiretls defaults
 * to false, makebeats and defaultroute to true, ipv6_interface to "aiccu";
 * "defaultroute true" makes AICCU add a default route via the tunnel to
 * the main table (metric 1024, the kernel's default);
 * protocol is tic, tsp or l2tp; AICCU picks the account's only tunnel when
 * tunnel_id is missing; "automatic false" leaves the tunnel down until
 * started by hand; AICCU never verified the TIC server's certificate.
 */
#include "aiccu_import.h"

#include <errno.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 160 /* keeps "key = value" within inih's line length */

enum field {
	F_USERNAME,
	F_PASSWORD,
	F_PROTOCOL,
	F_SERVER,
	F_INTERFACE,
	F_TUNNEL_ID,
	F_REQUIRETLS,
	F_BEHINDNAT,
	F_SETUPSCRIPT,
	F_DEFAULTROUTE,
	F_AUTOMATIC,
	NFIELDS
};

struct conv {
	const struct aiccu_import_opts *o;
	struct aiccu_import *out;
	char value[NFIELDS][VALUE_MAX + 1];
	int line[NFIELDS]; /* 0: not given */
	int err;
};

static void note(struct conv *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(struct conv *c, int line, const char *fmt, ...)
{
	char text[512], *full = NULL;
	char **notes;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if ((line > 0 ? asprintf(&full, "%s:%d: %s", c->o->source, line, text)
	              : asprintf(&full, "%s: %s", c->o->source, text)) < 0)
		full = NULL;
	notes = full ? realloc(c->out->notes, (c->out->nnotes + 1) * sizeof(*notes)) : NULL;
	if (!notes) {
		free(full);
		c->err = -ENOMEM;
		return;
	}
	notes[c->out->nnotes++] = full;
	c->out->notes = notes;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
	                                                                            "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Whether inih reads the value back unchanged in "key = value": no
 * controls, no comment start, no " ;" (an inline comment), no blanks at
 * either end (inih strips them).
 */
static bool ini_safe(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > VALUE_MAX || v[0] == ';' || v[0] == '#' || v[0] == ' ' ||
	    v[n - 1] == ' ' || strstr(v, " ;") || strstr(v, "\t;"))
		return false;
	for (; *v; v++)
		if ((unsigned char)*v < ' ' || *v == 0x7f)
			return false;
	return true;
}

static bool ifname_ok(const char *v)
{
	size_t n = strlen(v);

	return n >= 1 && n <= 15 && !strpbrk(v, "/: \t");
}

/* Daemon-wide AICCU settings: what aiccud does instead. */
static const struct {
	const char *key;
	const char *advice;
} daemon_wide[] = {
    {"daemonize", "aiccud always detaches unless run with -d (systemd runs it with -d)"},
    {"verbose", "daemon-wide in aiccud: start it with -v"},
    {"pidfile", "the init script keeps aiccud's PID file (/run/aiccud/aiccud.pid)"},
    {"ipv4_interface", "aiccud uses the route the kernel picks toward the PoP"},
};

static const struct {
	const char *key;
	enum field f;
} mapped[] = {
    {"username", F_USERNAME},        {"password", F_PASSWORD},
    {"protocol", F_PROTOCOL},        {"server", F_SERVER},
    {"ipv6_interface", F_INTERFACE}, {"tunnel_id", F_TUNNEL_ID},
    {"requiretls", F_REQUIRETLS},    {"behindnat", F_BEHINDNAT},
    {"setupscript", F_SETUPSCRIPT},  {"defaultroute", F_DEFAULTROUTE},
    {"automatic", F_AUTOMATIC},
};

/* Settings aiccud has no equivalent for, judged by their value. */
static void behaviour_key(struct conv *c, int line, const char *key, const char *v)
{
	bool b = false;
	bool is_bool = parse_bool(v, &b) == 0;

	if (strcmp(key, "makebeats") == 0) {
		if (is_bool && !b)
			note(
			    c, line,
			    "makebeats false: not carried over; aiccud always sends the heartbeats "
			    "the PoP needs to keep the tunnel up");
	} else if (strcmp(key, "noconfigure") == 0) {
		if (is_bool && b)
			note(c, line,
			     "noconfigure true: not carried over; aiccud always configures the "
			     "tunnel's link, addresses and routing");
	} else if (strcmp(key, "local_ipv4_override") == 0) {
		note(c, line,
		     "local_ipv4_override %s: not carried over; with TIC aiccud uses the IPv4 "
		     "address the kernel picks toward the PoP (for a tunnel without TIC set "
		     "ipv4_local in [params])",
		     v);
	}
}

static bool is_behaviour_key(const char *key)
{
	return strcmp(key, "makebeats") == 0 || strcmp(key, "noconfigure") == 0 ||
	       strcmp(key, "local_ipv4_override") == 0;
}

static void take_key(struct conv *c, int line, const char *key, const char *v)
{
	for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
		enum field f = mapped[i].f;

		if (strcmp(key, mapped[i].key) != 0)
			continue;
		if (c->line[f])
			note(c, line, "%s given again (first on line %d): the later value is used",
			     key, c->line[f]);
		if (strlen(v) > VALUE_MAX) {
			note(c, line, "%s: value longer than %d bytes: not carried over", key,
			     VALUE_MAX);
			return;
		}
		snprintf(c->value[f], sizeof(c->value[f]), "%s", v);
		c->line[f] = line;
		return;
	}
	for (size_t i = 0; i < sizeof(daemon_wide) / sizeof(daemon_wide[0]); i++)
		if (strcmp(key, daemon_wide[i].key) == 0) {
			note(c, line, "%s: not carried over: %s", key, daemon_wide[i].advice);
			return;
		}
	if (is_behaviour_key(key)) {
		behaviour_key(c, line, key, v);
		return;
	}
	note(c, line, "unknown AICCU key '%s': ignored", key);
}

/* Split one line into key and value (quotes around the value removed). */
static void take_line(struct conv *c, int line, char *s)
{
	char *key, *v, *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (!*s || *s == '#')
		return;
	key = s;
	v = s + strcspn(s, " \t");
	if (*v)
		*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	if (v[0] == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
		v[strlen(v) - 1] = '\0';
		v++;
	}
	take_key(c, line, key, v);
}

static void parse(struct conv *c, const char *src, size_t len)
{
	size_t pos = 0;
	int line = 0;

	while (pos < len && !c->err) {
		size_t n = 0;
		char buf[1024];

		while (pos + n < len && src[pos + n] != '\n')
			n++;
		line++;
		if (n >= sizeof(buf))
			note(c, line, "line longer than %zu bytes: ignored", sizeof(buf) - 1);
		else {
			memcpy(buf, src + pos, n);
			buf[n] = '\0';
			if (memchr(buf, '\0', n))
				note(c, line, "NUL byte in the line: ignored");
			else
				take_line(c, line, buf);
		}
		pos += n + 1;
	}
}

/* A value for the tunnel file, or "" (with a note) when inih could not read it back. */
static const char *value_for_ini(struct conv *c, enum field f, const char *key)
{
	if (!c->line[f] || !c->value[f][0])
		return "";
	if (ini_safe(c->value[f]))
		return c->value[f];
	note(c, c->line[f],
	     "%s: the value cannot be written to an INI file as it is (blank at either end, "
	     "\" ;\", a leading ';' or '#', or a control character): set it by hand",
	     key);
	c->out->complete = false;
	return "";
}

static void check_required(struct conv *c)
{
	static const struct {
		enum field f;
		const char *key, *why;
	} req[] = {
	    {F_USERNAME, "username", "the TIC account's handle"},
	    {F_PASSWORD, "password", "the TIC password"},
	    {F_TUNNEL_ID, "tunnel_id",
	     "AICCU picks the account's only tunnel when it is missing; aiccud needs the "
	     "TunnelId (T...) named: set id in [tunnel] (see the tunnel list on the broker's "
	     "site)"},
	};

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!c->value[req[i].f][0]) {
			note(c, 0, "%s missing: %s", req[i].key, req[i].why);
			c->out->complete = false;
		}
}

/*
 * A note as comment lines of at most about 100 bytes (inih refuses lines
 * over 197, comments included); words longer than that stay whole.
 */
static void comment_wrapped(FILE *f, const char *text)
{
	const char *prefix = "#   ";

	while (*text) {
		size_t n = strlen(text), cut = n;

		if (n > 92) {
			cut = 92;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = strcspn(text, " ");
		}
		fprintf(f, "%s%.*s\n", prefix, (int)cut, text);
		text += cut;
		while (*text == ' ')
			text++;
		prefix = "#     ";
	}
}

static void write_file(struct conv *c, FILE *f, const char *ifname, bool require_tls,
                       const char *script, bool autostart, bool cert_fails)
{
	const char *server = value_for_ini(c, F_SERVER, "server");
	const char *user = value_for_ini(c, F_USERNAME, "username");
	const char *pass = value_for_ini(c, F_PASSWORD, "password");
	const char *id = value_for_ini(c, F_TUNNEL_ID, "tunnel_id");

	fprintf(f,
	        "# Tunnel file converted by aiccuctl import-aiccu from %s.\n"
	        "# It holds a password: install it in /etc/aiccud/conf.d/ with mode 0600,\n"
	        "# then check it with \"aiccuctl check-config\" (or aiccud -n).\n",
	        c->o->source);
	if (c->out->nnotes)
		fprintf(f, "# Notes from the conversion (import-aiccu printed them too):\n");
	for (size_t i = 0; i < c->out->nnotes; i++)
		comment_wrapped(f, c->out->notes[i]);
	fprintf(f, "\n[tunnel]\ninterface = %s\nid = %s\ntic = yes\n", ifname, id);
	if (c->o->table)
		fprintf(f, "table = %u\n", c->o->table);
	else
		fprintf(f, "# table: none given, aiccud picks one and keeps it (aiccud.conf(5))\n");
	if (c->o->rule_priority)
		fprintf(f, "rule_priority = %u\n", c->o->rule_priority);
	if (!autostart)
		fprintf(f,
		        "# AICCU's \"automatic false\": aiccud leaves it stopped until "
		        "\"aiccuctl start %s\".\nautostart = no\n",
		        ifname);
	fprintf(f, "default_route = %s\n", c->out->default_route ? "yes" : "no");
	if (c->out->default_route && c->o->default_route_metric)
		fprintf(f, "default_route_metric = %u\n", c->o->default_route_metric);
	/* AICCU's heartbeats said "sender" whatever behindnat was (PROTOCOLS.md 7.1). */
	fprintf(f, "# \"sender\" works behind NAT too; \"local\" only for a public IPv4 address.\n"
	           "heartbeat_ipv4 = sender\n");
	fprintf(f, "setup_script = %s\n", script);
	fprintf(f, "\n[tic]\n");
	if (cert_fails)
		fprintf(
		    f,
		    "# CERTIFICATE VERIFICATION WILL FAIL with this server (see the notes above):\n"
		    "# set server to the host name the TIC server's certificate names and,\n"
		    "# unless the system trust store holds its CA, ca_file to that CA's PEM file:\n"
		    "# ca_file = /etc/aiccud/tic-ca.pem\n");
	if (*server)
		fprintf(f, "server = %s\n", server);
	fprintf(f, "username = %s\npassword = %s\nrequire_tls = %s\n", user, pass,
	        require_tls ? "yes" : "no");
}

static const char *pick_ifname(struct conv *c)
{
	const char *v = c->o->interface ? c->o->interface : c->value[F_INTERFACE];

	if (!c->o->interface && !c->line[F_INTERFACE]) {
		note(c, 0, "ipv6_interface not given: AICCU's default '%s' is used",
		     AICCU_IMPORT_IFNAME);
		return AICCU_IMPORT_IFNAME;
	}
	if (!ifname_ok(v)) {
		note(c, c->o->interface ? 0 : c->line[F_INTERFACE],
		     "interface '%s' is not a Linux interface name (1..15 characters, no '/', ':' "
		     "or blanks): '%s' is used instead",
		     v, AICCU_IMPORT_IFNAME);
		return AICCU_IMPORT_IFNAME;
	}
	return v;
}

static bool pick_bool(struct conv *c, enum field f, const char *key, bool dflt)
{
	bool b = dflt;

	if (c->line[f] && parse_bool(c->value[f], &b) < 0) {
		note(c, c->line[f], "%s '%s' is not true or false: %s is used", key, c->value[f],
		     dflt ? "yes" : "no");
		b = dflt;
	}
	return b;
}

/*
 * behindnat: AICCU sent "sender" in every heartbeat whatever it said, so
 * the file says heartbeat_ipv4 = sender either way.  Our own IPv4 in the
 * beat from behind a NAT makes the PoP drop the tunnel ("HB Sender
 * Mismatch"), so "false" is not carried over as "local"; say why.
 */
static void pick_behindnat(struct conv *c)
{
	if (!pick_bool(c, F_BEHINDNAT, "behindnat", false) && c->line[F_BEHINDNAT])
		note(c, c->line[F_BEHINDNAT],
		     "behindnat false: AICCU's heartbeats said \"sender\" anyway, and so do "
		     "aiccud's (heartbeat_ipv4 = sender, which works behind NAT too); set "
		     "heartbeat_ipv4 = local only if this host's IPv4 address is public");
}

static const char *pick_script(struct conv *c)
{
	const char *v = c->value[F_SETUPSCRIPT];

	if (!v[0])
		return "";
	if (v[0] != '/') {
		note(c, c->line[F_SETUPSCRIPT],
		     "setupscript '%s' is not an absolute path: not carried over", v);
		return "";
	}
	note(c, c->line[F_SETUPSCRIPT],
	     "setupscript: carried over as setup_script; aiccud runs it after the tunnel is up "
	     "and after it went down, with the tunnel's details in AICCUD_* environment "
	     "variables (AICCUD_EVENT=up|down, see aiccud.conf(5)): check that the script "
	     "works that way");
	return value_for_ini(c, F_SETUPSCRIPT, "setupscript");
}

/* AICCU's default is true: a missing line means the default route too. */
static bool pick_default_route(struct conv *c)
{
	bool b = pick_bool(c, F_DEFAULTROUTE, "defaultroute", true);

	if (!c->line[F_DEFAULTROUTE])
		note(c, 0,
		     "defaultroute not given (AICCU's default: true): default_route = yes is "
		     "written, a default route via the tunnel in the main table");
	else if (b)
		note(c, c->line[F_DEFAULTROUTE],
		     "defaultroute true: carried over as default_route = yes (a default route via "
		     "the tunnel in the main table, removed when the tunnel stops; a foreign "
		     "default route of the same metric is never replaced)");
	return b;
}

/* automatic false: the tunnel file says autostart = no. */
static bool pick_autostart(struct conv *c, const char *ifname)
{
	bool b = pick_bool(c, F_AUTOMATIC, "automatic", true);

	if (c->line[F_AUTOMATIC] && !b)
		note(c, c->line[F_AUTOMATIC],
		     "automatic false: carried over as autostart = no (aiccud loads the tunnel but "
		     "starts it only on \"aiccuctl start %s\")",
		     ifname);
	return b;
}

/*
 * The host part of a TIC server value, host[:port] or [v6]:port, into buf
 * (as the TIC client takes it apart).
 */
static void server_host(const char *v, char *buf, size_t len)
{
	size_t n;

	if (v[0] == '[') {
		n = strcspn(v + 1, "]");
		snprintf(buf, len, "%.*s", (int)n, v + 1);
		return;
	}
	n = strchr(v, ':') == strrchr(v, ':') ? strcspn(v, ":") : strlen(v);
	snprintf(buf, len, "%.*s", (int)n, v);
}

/*
 * Whether TLS certificate verification cannot pass with this server: the
 * TIC client checks that the certificate names the server as written in
 * the file, and public CAs certify host names with a dot, not IP
 * addresses or single labels (AICCU never checked, so such files worked).
 */
static bool pick_server(struct conv *c, bool tls)
{
	char host[VALUE_MAX + 1];
	struct in6_addr a;
	const char *what;

	if (!c->line[F_SERVER] || !c->value[F_SERVER][0])
		return false;
	server_host(c->value[F_SERVER], host, sizeof(host));
	if (inet_pton(AF_INET, host, &a) == 1 || inet_pton(AF_INET6, host, &a) == 1)
		what = "is an IP address, which no certificate of a public CA names";
	else if (!strchr(host, '.'))
		what =
		    "is not a full host name (no dot), which no certificate of a public CA names";
	else
		return false;
	note(c, c->line[F_SERVER],
	     "server %s %s: aiccud verifies the TIC server's certificate (AICCU did not), so "
	     "%s will fail; set server to the host name in the server's certificate (e.g. "
	     "tic.sixxs.net) and, if the system trust store does not hold the CA that signed "
	     "it, ca_file in [tic] to that CA's PEM file (aiccud.conf(5))",
	     c->value[F_SERVER], what, tls ? "the TLS handshake" : "STARTTLS, if offered,");
	return true;
}

static bool pick_tls(struct conv *c)
{
	if (!c->line[F_REQUIRETLS]) {
		note(c, 0,
		     "requiretls not given (AICCU's default: false): require_tls = yes is "
		     "written; set it to no only for a TIC server without STARTTLS");
		return true;
	}
	return pick_bool(c, F_REQUIRETLS, "requiretls", true);
}

int aiccu_import(const char *src, size_t len, const struct aiccu_import_opts *opts,
                 struct aiccu_import *out)
{
	struct conv *c = calloc(1, sizeof(*c));
	const char *ifname, *script;
	bool tls, autostart, cert_fails;
	size_t size = 0;
	FILE *f;
	int err;

	memset(out, 0, sizeof(*out));
	if (!c)
		return -ENOMEM;
	c->o = opts;
	c->out = out;
	out->complete = true;
	parse(c, src, len);
	if (!c->err && c->line[F_PROTOCOL] && strcasecmp(c->value[F_PROTOCOL], "tic") != 0) {
		note(c, c->line[F_PROTOCOL],
		     "protocol %s: aiccud speaks only TIC (AYIYA, 6in4-heartbeat and 6in4-static "
		     "tunnels); nothing was converted",
		     c->value[F_PROTOCOL]);
		out->complete = false;
		goto done;
	}
	check_required(c);
	ifname = pick_ifname(c);
	tls = pick_tls(c);
	cert_fails = pick_server(c, tls);
	autostart = pick_autostart(c, ifname);
	pick_behindnat(c);
	script = pick_script(c);
	out->default_route = pick_default_route(c);
	/* Each line of opts->note is one note. */
	for (const char *n = opts->note; n && *n; n += strcspn(n, "\n"), n += *n == '\n')
		note(c, 0, "%.*s", (int)strcspn(n, "\n"), n);
	snprintf(out->interface, sizeof(out->interface), "%s", ifname);
	snprintf(out->id, sizeof(out->id), "%s", c->value[F_TUNNEL_ID]);
	if (c->err)
		goto done;
	f = open_memstream(&out->text, &size);
	if (!f) {
		c->err = -ENOMEM;
		goto done;
	}
	write_file(c, f, ifname, tls, script, autostart, cert_fails);
	if (fclose(f) != 0)
		c->err = -ENOMEM;
done:
	err = c->err;
	explicit_bzero(c, sizeof(*c)); /* it held the password */
	free(c);
	return err;
}

void aiccu_import_free(struct aiccu_import *out)
{
	if (out->text) {
		explicit_bzero(out->text, strlen(out->text));
		free(out->text);
	}
	for (size_t i = 0; i < out->nnotes; i++)
		free(out->notes[i]);
	free(out->notes);
	memset(out, 0, sizeof(*out));
}

/* Earlier results (0..i-1) that have this interface name / TunnelId. */
static long earlier_with(const struct aiccu_import *out, size_t i, bool by_id, const char *v)
{
	for (size_t j = 0; j < i; j++)
		if (out[j].text && strcmp(by_id ? out[j].id : out[j].interface, v) == 0)
			return (long)j;
	return -1;
}

/* "name<k>" for the smallest k that no earlier result uses; fits IFNAMSIZ. */
static void unique_ifname(const struct aiccu_import *out, size_t i, const char *name, char *buf,
                          size_t len)
{
	for (unsigned k = 1;; k++) {
		char suffix[12];
		int n = snprintf(suffix, sizeof(suffix), "%u", k);
		int keep = (int)strlen(name);

		if (keep + n > 15)
			keep = 15 - n;
		snprintf(buf, len, "%.*s%s", keep, name, suffix);
		if (earlier_with(out, i, false, buf) < 0)
			return;
	}
}

/*
 * Convert in again with o, one more note (fmt) added to those an earlier
 * call of this set gave it (notes: a buffer of len bytes kept by the
 * caller, one note per line).
 */
static int convert_again(const struct aiccu_import_in *in, struct aiccu_import_opts *o,
                         struct aiccu_import *out, char *notes, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int convert_again(const struct aiccu_import_in *in, struct aiccu_import_opts *o,
                         struct aiccu_import *out, char *notes, size_t len, const char *fmt, ...)
{
	size_t used = strlen(notes);
	va_list ap;

	if (used && used + 1 < len) {
		memcpy(notes + used, "\n", 2);
		used++;
	}
	va_start(ap, fmt);
	vsnprintf(notes + used, len - used, fmt, ap);
	va_end(ap);
	o->note = notes;
	aiccu_import_free(out);
	return aiccu_import(in->text, in->len, o, out);
}

int aiccu_import_many(const struct aiccu_import_in *in, size_t n,
                      const struct aiccu_import_opts *base, struct aiccu_import *out)
{
	unsigned default_routes = 0;
	int err = 0;

	for (size_t i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	for (size_t i = 0; i < n && !err; i++) {
		struct aiccu_import_opts o = *base;
		char ifname[16], notes[1024] = "";
		long j;

		o.source = in[i].source;
		if (n > 1) {
			o.interface = NULL;
			o.table = 0;
			o.note = NULL;
		}
		err = aiccu_import(in[i].text, in[i].len, &o, &out[i]);
		if (err || !out[i].text)
			continue;
		j = earlier_with(out, i, false, out[i].interface);
		if (j >= 0) {
			unique_ifname(out, i, out[i].interface, ifname, sizeof(ifname));
			o.interface = ifname;
			err = convert_again(&in[i], &o, &out[i], notes, sizeof(notes),
			                    "interface '%s' is %s's too: this tunnel is '%s'",
			                    out[j].interface, in[j].source, ifname);
			if (err)
				continue;
		}
		if (out[i].default_route && default_routes++ > 0) {
			o.default_route_metric = AICCU_IMPORT_METRIC + default_routes - 1;
			err = convert_again(
			    &in[i], &o, &out[i], notes, sizeof(notes),
			    "default_route_metric = %u: an earlier file of this import has the "
			    "default route at a lower metric; this tunnel's takes over while "
			    "that one is down",
			    o.default_route_metric);
			if (err)
				continue;
		}
		j = out[i].id[0] ? earlier_with(out, i, true, out[i].id) : -1;
		if (j >= 0) {
			err = convert_again(&in[i], &o, &out[i], notes, sizeof(notes),
			                    "tunnel_id %s is %s's too: aiccud runs a tunnel once; "
			                    "remove one of the two files",
			                    out[i].id, in[j].source);
			out[i].complete = false;
		}
	}
	return err;
}
