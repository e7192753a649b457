/*
 * Configuration: aiccud.conf and one tunnel file per *.conf in conf_dir.
 *
 * Table-driven: every key has one row (section, name, kind, where its value
 * lives, range).  The same rows drive parsing and config_print, so the
 * printed form cannot drift from what the parser accepts.
 *
 * inih does the INI syntax.  Our own line reader feeds it through
 * ini_parse_stream because Debian's libinih is built without
 * INI_HANDLER_LINENO: the reader counts lines, so the handler knows where
 * it is, and it also reports malformed lines itself, because inih only
 * returns the first one and every error of a file must come out in one run.
 *
 * No globals, no printing: messages go to the caller's config_diag.  The
 * only I/O is reading the files and listing conf_dir.
 */
#include "config_int.h"
#include "tpolicy.h"
#include "ayiya.h"
#include "limiter.h"
#include "routing.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FILE_MAX         (64 * 1024)
#define DEFAULT_TIC_SERVER      "tic.sixxs.net"
#define DEFAULT_CACHE_MAX_AGE   (7 * 24 * 3600)
#define DEFAULT_RULE_PRIORITY   1000
#define DEFAULT_LIVENESS_MISSES 3
#define DEFAULT_HEARTBEAT       60
#define DEFAULT_PARAMS_MTU      1280
#define DEFAULT_UPDATE_URL      "https://ipv4.tunnelbroker.net/nic/update"
/* Nothing from the PoP this long: restart (well under AICCU's 15-minute horizon). */
#define DEFAULT_POP_SILENCE 300

/* Given and accepted: later checks that combine values skip refused ones. */
static bool usable(const struct pctx *p, const char *section, const char *name)
{
	int i = config_key_index(p, section, name);

	return i >= 0 && p->key_line[i] && !p->key_bad[i];
}

/* ---- feeding inih ---- */

/* inih's rule for where a value or name ends: a char of chars, or an inline ';' after a blank. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	for (; *s && !strchr(chars, *s); s++) {
		if (was_space && *s == ';')
			break;
		was_space = isspace((unsigned char)*s);
	}
	return s;
}

static int section_index(const struct pctx *p, const char *name, size_t n)
{
	for (int i = 0; p->sections[i]; i++)
		if (strlen(p->sections[i]) == n && strncmp(p->sections[i], name, n) == 0)
			return i;
	return -1;
}

/*
 * Look at a line before inih does: track the section (so that a section
 * without keys is still known, and an unknown one is reported once), and
 * report the lines inih would refuse without telling us.
 */
static void classify_line(struct pctx *p, const char *line)
{
	size_t n = strlen(line);
	const char *end;
	int idx;

	while (n && isspace((unsigned char)line[n - 1]))
		n--;
	if (n == 0 || *line == ';' || *line == '#')
		return;
	if (*line == '[') {
		end = find_chars_or_comment(line + 1, "]");
		if (*end != ']') {
			/* like inih: the previous section goes on */
			config_perr(p, p->lineno, "expected ']' to end the section name");
			return;
		}
		idx = section_index(p, line + 1, (size_t)(end - line - 1));
		if (idx < 0) {
			config_perr(p, p->lineno, "unknown section [%.*s]", (int)(end - line - 1),
			            line + 1);
			p->sect = SECT_UNKNOWN;
			return;
		}
		p->sect = idx;
		if (!p->sect_line[idx])
			p->sect_line[idx] = p->lineno;
		return;
	}
	end = find_chars_or_comment(line, "=:");
	if (*end != '=' && *end != ':')
		config_perr(p, p->lineno, "expected 'key = value', got '%.*s'", (int)n, line);
}

static char *read_line(char *str, int num, void *stream)
{
	struct pctx *p = stream;
	const char *s, *nl;
	size_t n, text;

	if (p->pos >= p->len || num < 3)
		return NULL;
	s = p->buf + p->pos;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - s) + 1 : p->len - p->pos;
	p->pos += n;
	p->lineno++;
	if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	/*
	 * Indentation means nothing in our files; inih would take an indented
	 * line for the continuation of the previous key's value.
	 */
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	text = n;
	if (text && s[text - 1] == '\n')
		text--;
	if (text && s[text - 1] == '\r')
		text--;
	/* inih's buffer needs room for "\r\n\0" after the text */
	if (text > (size_t)num - 3) {
		config_perr(p, p->lineno, "line is too long (at most %d characters)", num - 3);
		strcpy(str, "\n");
		return str;
	}
	memcpy(str, s, n);
	str[n] = '\0';
	classify_line(p, str);
	return str;
}

/* "[tic] or [params]": the sections of this file that do have the key. */
static bool key_elsewhere(const struct pctx *p, const char *name, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < p->nkeys; i++)
		if (strcmp(p->keys[i].name, name) == 0 && used < size)
			used += (size_t)snprintf(out + used, size - used, "%s[%s]",
			                         used ? " or " : "", p->keys[i].section);
	return used > 0;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
	struct pctx *p = user;
	char other[64];
	const char *sect;
	int i;

	(void)section; /* same as ours: classify_line follows inih's rules */
	if (p->sect == SECT_UNKNOWN)
		return 1; /* reported at the section header */
	if (p->sect == SECT_NONE) {
		config_perr(p, p->lineno, "key '%s' comes before any [section]", name);
		return 1;
	}
	sect = p->sections[p->sect];
	i = config_key_index(p, sect, name);
	if (i < 0) {
		if (key_elsewhere(p, name, other, sizeof(other)))
			config_perr(p, p->lineno, "unknown key '%s' in [%s] (it belongs in %s)",
			            name, sect, other);
		else if (strcmp(name, "cache_max_age") == 0)
			config_perr(p, p->lineno,
			            "unknown key '%s' in [%s] (only aiccud.conf has it)", name,
			            sect);
		else
			config_perr(p, p->lineno, "unknown key '%s' in [%s]", name, sect);
		return 1;
	}
	if (p->key_line[i]) {
		config_perr(p, p->lineno, "duplicate key '%s' in [%s] (first on line %d)", name,
		            sect, p->key_line[i]);
		return 1;
	}
	p->key_line[i] = p->lineno;
	if (config_kind_set(p, &p->keys[i], value) < 0)
		p->key_bad[i] = true;
	return 1; /* we collect our own errors; never make inih record one */
}

static void parse_buffer(struct pctx *p, const char *buf, size_t len)
{
	p->buf = buf;
	p->len = len;
	p->pos = 0;
	p->lineno = 0;
	/* Our handler never fails, and read_line reports every line inih refuses. */
	(void)ini_parse_stream(read_line, p, on_value, p);
}

/* ---- files ---- */

static int read_file(const char *path, char **out, size_t *len, struct stat *st)
{
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		err = -errno;
	else if (!S_ISREG(st->st_mode))
		err = -EISDIR;
	else if (!(buf = malloc(CONFIG_FILE_MAX + 1)))
		err = -ENOMEM;
	while (!err) {
		r = read(fd, buf + n, CONFIG_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = -errno;
		else if (r == 0)
			break;
		else if ((n += (size_t)r) > CONFIG_FILE_MAX)
			err = -EFBIG;
	}
	close(fd);
	if (!err && memchr(buf, '\0', n))
		err = -EILSEQ;
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static const char *read_error(int err)
{
	switch (err) {
	case -EISDIR:
		return "not a regular file";
	case -EFBIG:
		return "larger than 64 KiB";
	case -EILSEQ:
		return "contains a NUL byte";
	default:
		return strerror(-err);
	}
}

/* Secrets: refuse a file holding a password that others may read. */
static void check_secret(struct pctx *p, const struct stat *st, bool holds_password)
{
	if (holds_password && (st->st_mode & (S_IRGRP | S_IROTH)))
		config_perr(
		    p, 0,
		    "holds a password but is readable by group/others (mode %04o); chmod 600 it",
		    (unsigned)(st->st_mode & 07777));
}

/*
 * Trust, as sshd's StrictModes: a configuration file or directory that
 * another user owns, or that group or others may write, could make aiccud
 * (root) run another user's setup script or route another user's
 * prefixes.  The daemon's own uid (root) must own it, and only it may
 * write it.  "what" names the object in the message ("" for the file
 * the message is already about).
 */
static const char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	snprintf(buf, len, "%s", pw ? pw->pw_name : "no such user");
	return buf;
}

static void check_trusted(struct pctx *p, int line, const char *what, const struct stat *st)
{
	uid_t me = geteuid();
	char owner[64], self[64];

	if (st->st_uid != me)
		config_perr(p, line,
		            "%s%sowned by uid %u (%s), not by uid %u (%s) that aiccud runs as; "
		            "refused, as another user could change what aiccud does as root",
		            what, *what ? " is " : "is ", (unsigned)st->st_uid,
		            user_name(st->st_uid, owner, sizeof(owner)), (unsigned)me,
		            user_name(me, self, sizeof(self)));
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		config_perr(p, line, "%s%swritable by group/others (mode %04o); chmod go-w it",
		            what, *what ? " is " : "is ", (unsigned)(st->st_mode & 07777));
}

/* ---- tunnel files ---- */

static void tunnel_defaults(struct tunnel_conf *tc, const struct tic_account *inherit)
{
	memset(tc, 0, sizeof(*tc));
	if (inherit) {
		tc->account = *inherit;
	} else {
		snprintf(tc->account.server, sizeof(tc->account.server), "%s", DEFAULT_TIC_SERVER);
		tc->account.require_tls = true;
	}
	tc->tic = true;
	tc->rule_priority = DEFAULT_RULE_PRIORITY;
	tc->datapath = DATAPATH_AUTO;
	tc->autostart = true;
	tc->mss_clamp = true;
	tc->offload = true;
	tc->liveness = LIVENESS_NONE;
	tc->liveness_misses = DEFAULT_LIVENESS_MISSES;
	tc->pop_silence = DEFAULT_POP_SILENCE;
	tc->params.heartbeat_interval = DEFAULT_HEARTBEAT;
	tc->params.mtu = DEFAULT_PARAMS_MTU;
	tc->min_prefix_len = TPOLICY_PREFIX_MIN;
}

static void require(struct pctx *p, int sect, const char *name, const char *why)
{
	const char *s = p->sections[sect];

	if (!config_given(p, s, name))
		config_perr(p, p->sect_line[sect], "[%s] is missing required key '%s'%s", s, name,
		            why);
}

static void check_addresses(struct pctx *p, const struct tunnel_params *tp)
{
	struct in6_addr net = tp->ipv6_local, other = tp->ipv6_pop, hint;
	char local[INET6_ADDRSTRLEN], pop[INET6_ADDRSTRLEN], prefix[INET6_ADDRSTRLEN];
	char use[INET6_ADDRSTRLEN];
	unsigned len = tp->prefix_len;

	config_prefix_mask(&net, len);
	config_prefix_mask(&other, len);
	inet_ntop(AF_INET6, &tp->ipv6_local, local, sizeof(local));
	inet_ntop(AF_INET6, &tp->ipv6_pop, pop, sizeof(pop));
	inet_ntop(AF_INET6, &net, prefix, sizeof(prefix));
	/* The parent's own check (routing.h): one rule for the file and the worker's report. */
	if (routing_is_subnet_anycast(&tp->ipv6_local, len)) {
		hint = net;
		hint.s6_addr[15] |= 2;
		inet_ntop(AF_INET6, &hint, use, sizeof(use));
		config_perr(p, config_given(p, "params", "ipv6_local"),
		            "%s is the subnet-router anycast address of %s/%u; use %s", local,
		            prefix, len, use);
	}
	if (memcmp(&net, &other, sizeof(net)) != 0)
		config_perr(p, config_given(p, "params", "ipv6_pop"),
		            "ipv6_pop %s is not in ipv6_local's prefix %s/%u", pop, prefix, len);
	else if (memcmp(&tp->ipv6_local, &tp->ipv6_pop, sizeof(tp->ipv6_local)) == 0)
		config_perr(p, config_given(p, "params", "ipv6_pop"),
		            "ipv6_pop is the same address as ipv6_local");
}

/*
 * The tunnel-parameter policy every source goes through (tpolicy.h), with
 * the file's own min_prefix_len; the line is that of the key it names.
 */
/* Given, but its value was refused (an error already names it). */
static bool config_key_refused(const struct pctx *p, const char *section, const char *name)
{
	return config_given(p, section, name) && !usable(p, section, name);
}

static void check_policy(struct pctx *p, const struct tunnel_conf *tc)
{
	static const char *const keys[] = {"prefix_len", "ipv6_local", "ipv6_pop", "ipv4_pop",
	                                   "mtu"};
	struct tpolicy_limits lim;
	char err[256];
	int line = p->sect_line[SECT_PARAMS];

	tpolicy_conf_limits(tc, &lim);
	if (tpolicy_check_params(&tc->params, &lim, TPOLICY_KEYS_FILE, err, sizeof(err)) == 0)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strncmp(err, keys[i], strlen(keys[i])) && err[strlen(keys[i])] == ':' &&
		    config_given(p, "params", keys[i]))
			line = config_given(p, "params", keys[i]);
	if (!strncmp(err, "prefix_len:", 11))
		config_perr(p, line, "%s (set min_prefix_len to allow a shorter one)", err);
	else
		config_perr(p, line, "%s", err);
}

/*
 * An AYIYA tunnel's MTU plus AYIYA's overhead must fit the path toward the
 * PoP (1500 assumed), or every full-size packet is fragmented and the PoP
 * refuses the fragments.  Refused here, naming the key that asked for it.
 */
static void check_ayiya_mtu(struct pctx *p, const struct tunnel_conf *tc)
{
	uint32_t want = tunnel_mtu_wanted(tc), max = tunnel_mtu_max(tc);
	int line =
	    tc->mtu_override ? config_given(p, "tunnel", "mtu") : config_given(p, "params", "mtu");

	if (want <= max)
		return;
	config_perr(p, line ? line : p->sect_line[SECT_PARAMS],
	            "mtu %u is above %u, the most an AYIYA tunnel can carry over a %u-byte IPv4 "
	            "path (%u - %u bytes of IPv4, UDP and AYIYA header): set mtu to %u or less",
	            want, max, AYIYA_PATH_MTU, AYIYA_PATH_MTU, AYIYA_IPV4_OVERHEAD, max);
}

static void validate_params(struct pctx *p, const struct tunnel_conf *tc)
{
	const struct tunnel_params *tp = &tc->params;
	size_t nerr = p->nerr;

	static const char *const req[] = {"type", "ipv6_local", "ipv6_pop", "prefix_len",
	                                  "ipv4_pop"};
	const char *type = tunnel_type_name(tp->type);
	char why[64];

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		require(p, SECT_PARAMS, req[i], "");
	if (usable(p, "params", "type")) {
		snprintf(why, sizeof(why), " (%s tunnels need it)", type);
		if (tp->type != TUNNEL_6IN4_STATIC) {
			require(p, SECT_PARAMS, "password", why);
			if (config_given(p, "params", "password") && !tp->password[0])
				config_perr(p, config_given(p, "params", "password"),
				            "password must not be empty for %s tunnels", type);
		} else {
			require(p, SECT_PARAMS, "ipv4_local", why);
			if (usable(p, "params", "ipv4_local") && tp->ipv4_local.s_addr == 0 &&
			    !tc->ipv4_auto)
				config_perr(
				    p, config_given(p, "params", "ipv4_local"),
				    "ipv4_local must be this end's IPv4 address or 'auto' for "
				    "6in4-static, not 'heartbeat'");
		}
		if (tc->ipv4_auto && tp->type == TUNNEL_AYIYA)
			config_perr(
			    p, config_given(p, "params", "ipv4_local"),
			    "ipv4_local = auto is for 6in4-static and 6in4-heartbeat tunnels; "
			    "AYIYA finds its way through NAT itself");
	}
	if (usable(p, "params", "ipv6_local") && usable(p, "params", "ipv6_pop") &&
	    usable(p, "params", "prefix_len"))
		check_addresses(p, tp);
	/* One message per problem: the policy only on values that parsed and passed above. */
	if (p->nerr == nerr && usable(p, "params", "ipv6_local") &&
	    usable(p, "params", "ipv6_pop") && usable(p, "params", "prefix_len") &&
	    usable(p, "params", "ipv4_pop") && !config_key_refused(p, "params", "mtu") &&
	    !config_key_refused(p, "params", "min_prefix_len"))
		check_policy(p, tc);
	if (p->nerr == nerr && usable(p, "params", "type") && tp->type == TUNNEL_AYIYA &&
	    !config_key_refused(p, "tunnel", "mtu"))
		check_ayiya_mtu(p, tc);
}

static void validate_account(struct pctx *p, const struct tic_account *a, int line)
{
	static const char *const what[] = {"server", "username", "password"};
	const char *val[] = {a->server, a->username, a->password};

	for (size_t i = 0; i < 3; i++)
		if (!val[i][0])
			config_perr(
			    p, line,
			    "tic = yes needs a TIC %s: set it in [tic] here or in aiccud.conf's "
			    "[tic]",
			    what[i]);
}

/* [update]: every key but url and ca_file is needed; only for 6in4 tunnels in the file. */
static void validate_update(struct pctx *p, const struct tunnel_conf *tc)
{
	static const char *const req[] = {"username", "key", "hostname"};
	int line = p->sect_line[SECT_UPDATE];

	if (!line)
		return;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		require(p, SECT_UPDATE, req[i], " (the broker's update needs it)");
	if (tc->tic)
		config_perr(p, line,
		            "[update] needs tic = no: it is for 6in4 brokers without TIC, whose "
		            "parameters are given in [params]");
	else if (usable(p, "params", "type") && tc->params.type == TUNNEL_AYIYA)
		config_perr(p, line, "[update] is for 6in4 tunnels, not ayiya");
}

static void validate_tunnel(struct pctx *p, struct tunnel_conf *tc, const struct stat *st)
{
	int tsect = p->sect_line[SECT_TUNNEL], psect = p->sect_line[SECT_PARAMS];
	int tic_line = config_given(p, "tunnel", "tic") ? config_given(p, "tunnel", "tic") : tsect;

	if (!tsect) {
		config_perr(p, 1, "no [tunnel] section");
		return;
	}
	require(p, SECT_TUNNEL, "interface", "");
	if (config_given(p, "tunnel", "tic") && !usable(p, "tunnel", "tic")) {
		/* tic refused: which of [tic] and [params] applies is unknown */
	} else if (tc->tic) {
		if (!config_given(p, "tunnel", "id"))
			require(p, SECT_TUNNEL, "id", " (needed with tic = yes)");
		else if (usable(p, "tunnel", "id") && !tc->id[0])
			config_perr(p, config_given(p, "tunnel", "id"),
			            "id must not be empty with tic = yes");
		if (psect)
			config_perr(
			    p, psect,
			    "[params] is not allowed with tic = yes: the parameters come from "
			    "TIC (set tic = no to use them)");
		validate_account(p, &tc->account, tic_line);
	} else if (!psect) {
		config_perr(p, tic_line,
		            "tic = no needs a [params] section with the tunnel's parameters");
	} else {
		validate_params(p, tc);
	}
	check_trusted(p, 0, "", st);
	validate_update(p, tc);
	tc->has_update = p->sect_line[SECT_UPDATE] != 0;
	if (tc->has_update && !tc->update.url[0])
		snprintf(tc->update.url, sizeof(tc->update.url), "%s", DEFAULT_UPDATE_URL);
	check_secret(p, st,
	             (config_given(p, "tic", "password") && tc->account.password[0]) ||
	                 (config_given(p, "params", "password") && tc->params.password[0]) ||
	                 (config_given(p, "update", "key") && tc->update.key[0]));
}

/* An unusable file still needs a name for status: its file name without .conf. */
static void name_from_file(struct tunnel_conf *tc)
{
	const char *base = strrchr(tc->file, '/');
	size_t n;

	base = base ? base + 1 : tc->file;
	n = strcspn(base, ".");
	if (n >= sizeof(tc->name))
		n = sizeof(tc->name) - 1;
	memcpy(tc->name, base, n);
	tc->name[n] = '\0';
}

static int tunnel_parse(const char *path, const struct tic_account *inherit,
                        struct tunnel_entry *te, struct tunnel_lines *tl, struct config_diag *diag)
{
	struct pctx p;
	struct stat st;
	char *buf = NULL;
	size_t len;
	int err;

	memset(te, 0, sizeof(*te));
	tunnel_defaults(&te->conf, inherit);
	config_pctx_init(&p, te->conf.file, config_tunnel_keys, config_tunnel_nkeys,
	                 config_tunnel_sections, &te->conf, diag);
	if (snprintf(te->conf.file, sizeof(te->conf.file), "%s", path) >=
	    (int)sizeof(te->conf.file)) {
		config_perr(&p, 0, "path is too long (at most %d characters)", TUNNEL_PATH_MAX - 1);
	} else if ((err = read_file(path, &buf, &len, &st)) < 0) {
		config_perr(&p, 0, "cannot read: %s", read_error(err));
	} else {
		parse_buffer(&p, buf, len);
		validate_tunnel(&p, &te->conf, &st);
	}
	free(buf);
	if (tl) {
		tl->sect = p.sect_line[SECT_TUNNEL];
		tl->interface = config_given(&p, "tunnel", "interface");
		tl->id = config_given(&p, "tunnel", "id");
		tl->table = config_given(&p, "tunnel", "table");
		tl->rule_priority = config_given(&p, "tunnel", "rule_priority");
		tl->ipv6_local = config_given(&p, "params", "ipv6_local");
		tl->default_route = config_given(&p, "tunnel", "default_route");
		tl->default_route_metric = config_given(&p, "tunnel", "default_route_metric");
	}
	if (!te->conf.name[0] || !usable(&p, "tunnel", "interface"))
		name_from_file(&te->conf);
	te->valid = p.nerr == 0;
	if (!te->valid)
		snprintf(te->error, sizeof(te->error), "%s", p.first_err);
	return te->valid ? 0 : -1;
}

int config_load_tunnel(const char *path, struct tunnel_entry *te, struct config_diag *diag)
{
	return tunnel_parse(path, NULL, te, NULL, diag);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_tunnel_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The *.conf names in dir, sorted bytewise (not by locale: the order must not depend on it). */
static int list_tunnel_files(const char *dir, char ***out, size_t *count)
{
	char **names = NULL, **grown;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return -errno;
	while (!err && (errno = 0, de = readdir(d))) {
		if (!is_tunnel_file(de->d_name))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			err = -ENOMEM;
			break;
		}
		names = grown;
		n++;
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	if (err) {
		free_names(names, n);
		return err;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*count = n;
	return 0;
}

static bool same_file(const char *path, const struct stat *st)
{
	struct stat other;

	return stat(path, &other) == 0 && other.st_dev == st->st_dev && other.st_ino == st->st_ino;
}

static int load_tunnels(struct config *cfg, const struct stat *main_st, struct pctx *mp,
                        struct config_diag *diag)
{
	struct tunnel_lines *tl;
	char **names = NULL, path[TUNNEL_PATH_MAX + 256];
	size_t n = 0;
	int err = list_tunnel_files(cfg->conf_dir, &names, &n);

	if (err < 0) {
		config_perr(mp, config_given(mp, "daemon", "conf_dir"), "conf_dir %s: %s",
		            cfg->conf_dir, strerror(-err));
		return -1;
	}
	/* No limit: one entry per file (an unusable one too, so status shows why). */
	cfg->tunnels = calloc(n ? n : 1, sizeof(*cfg->tunnels));
	tl = calloc(n ? n : 1, sizeof(*tl));
	if (!cfg->tunnels || !tl) {
		free(tl);
		free_names(names, n);
		config_perr(mp, 0, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->conf_dir, names[i]);
		/* conf_dir may be aiccud.conf's own directory */
		if (same_file(path, main_st))
			continue;
		tunnel_parse(path, &cfg->tic, &cfg->tunnels[cfg->ntunnels], &tl[cfg->ntunnels],
		             diag);
		cfg->ntunnels++;
	}
	config_check_across(cfg, tl, diag);
	free(tl);
	free_names(names, n);
	return 0;
}

/* ---- aiccud.conf ---- */

static void main_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", CONFIG_DEFAULT_SOCKET);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", CONFIG_DEFAULT_STATE);
	snprintf(cfg->user, sizeof(cfg->user), "%s", CONFIG_DEFAULT_USER);
	snprintf(cfg->tic.server, sizeof(cfg->tic.server), "%s", DEFAULT_TIC_SERVER);
	cfg->tic.require_tls = true;
	cfg->tic.tls_min = TUNNEL_TLS_MIN;
	cfg->cache_max_age = DEFAULT_CACHE_MAX_AGE;
	cfg->limiter_burst = LIMITER_DEFAULT_BURST; /* the limiter's own defaults */
	cfg->limiter_refill = LIMITER_DEFAULT_REFILL;
}

/*
 * The limiter must never let through more TIC connections in 60 s than
 * the broker tolerates: a full bucket (burst) plus what refills meanwhile.
 */
static void check_limiter(struct pctx *p, const struct config *cfg)
{
	int lb = config_given(p, "limiter", "burst"), lr = config_given(p, "limiter", "refill");
	char msg[160];

	if (!usable(p, "limiter", "burst") && lb)
		return;
	if (!usable(p, "limiter", "refill") && lr)
		return;
	/* The limiter's own check: one piece of arithmetic for both. */
	if (limiter_check_params(cfg->limiter_burst, cfg->limiter_refill, msg, sizeof(msg)) < 0)
		config_perr(p, lb > lr ? lb : lr, "%s", msg);
}

/* conf_dir: default <dir>/conf.d; relative to aiccud.conf's directory. */
static void resolve_conf_dir(struct pctx *p, struct config *cfg, const char *dir)
{
	char given_dir[TUNNEL_PATH_MAX];

	snprintf(given_dir, sizeof(given_dir), "%s", cfg->conf_dir[0] ? cfg->conf_dir : "conf.d");
	if (given_dir[0] == '/')
		return;
	if (snprintf(cfg->conf_dir, sizeof(cfg->conf_dir), "%s/%s", dir, given_dir) >=
	    (int)sizeof(cfg->conf_dir))
		config_perr(p, config_given(p, "daemon", "conf_dir"), "conf_dir: %s/%s is too long",
		            dir, given_dir);
}

/* conf_dir: whoever may add or replace a file there chooses what aiccud runs. */
static void check_conf_dir(struct pctx *p, struct config *cfg)
{
	char what[TUNNEL_PATH_MAX + 16];
	struct stat st;

	if (stat(cfg->conf_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return; /* load_tunnels says why it cannot list it */
	snprintf(what, sizeof(what), "conf_dir %s", cfg->conf_dir);
	check_trusted(p, config_given(p, "daemon", "conf_dir"), what, &st);
}

/* aiccud.conf's absolute path: the daemon chdirs to / and reloads later. */
static int absolute_path(const char *path, char *out, size_t size)
{
	char cwd[TUNNEL_PATH_MAX];

	if (path[0] == '/')
		return snprintf(out, size, "%s", path) < (int)size ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(out, size, "%s/%s", cwd, path) < (int)size ? 0 : -ENAMETOOLONG;
}

int config_load(struct config *cfg, const char *path, struct config_diag *diag)
{
	char dir[TUNNEL_PATH_MAX], *slash, *buf = NULL;
	struct pctx p;
	struct stat st;
	size_t len;
	int err, main_errors;

	main_defaults(cfg);
	config_pctx_init(&p, cfg->file, config_main_keys, config_main_nkeys, config_main_sections,
	                 cfg, diag);
	err = absolute_path(path, cfg->file, sizeof(cfg->file));
	if (err < 0) {
		config_diag_add(diag, "%s: %s", path, strerror(-err));
		return -1;
	}
	err = read_file(cfg->file, &buf, &len, &st);
	if (err < 0) {
		config_perr(&p, 0, "cannot read: %s", read_error(err));
		return -1;
	}
	parse_buffer(&p, buf, len);
	free(buf);
	snprintf(dir, sizeof(dir), "%s", cfg->file);
	slash = strrchr(dir, '/');
	*(slash == dir ? slash + 1 : slash) = '\0';
	resolve_conf_dir(&p, cfg, dir);
	check_limiter(&p, cfg);
	check_trusted(&p, 0, "", &st);
	check_conf_dir(&p, cfg);
	check_secret(&p, &st, config_given(&p, "tic", "password") && cfg->tic.password[0]);
	/*
	 * The tunnel files are read even when aiccud.conf has errors, so that
	 * one run reports every file's problems; the verdict stays "not usable"
	 * and the tunnels are not kept.
	 */
	main_errors = p.nerr;
	if (load_tunnels(cfg, &st, &p, diag) < 0)
		return -1;
	if (main_errors) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

void config_free(struct config *cfg)
{
	free(cfg->tunnels);
	cfg->tunnels = NULL;
	cfg->ntunnels = 0;
}
