/*
 * Configuration parser: the examples in conf.d/, every error message with
 * its file:line, checks across tunnel files, and config_print against
 * golden files (and its output loads again to the same configuration).
 *
 * Fixtures live in tests/data/config/ ($AICCUD_TEST_DATA/config); the
 * examples in conf.d/ ($AICCUD_EXAMPLES).  git does not keep file modes,
 * so every test copies what it needs into a fresh temporary directory and
 * sets the modes there.  In expected texts "@D@" stands for that directory
 * and "@F@" for the file under test.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "config.h"

/*
 * A usable tunnel of that name, else the first unusable one (whose error
 * status reports).  Usable names are unique: check_across sees to that.
 */
static const struct tunnel_entry *config_find(const struct config *cfg, const char *name)
{
	const struct tunnel_entry *found = NULL;

	for (size_t i = 0; i < cfg->ntunnels; i++) {
		if (strcmp(cfg->tunnels[i].conf.name, name) != 0)
			continue;
		if (cfg->tunnels[i].valid)
			return &cfg->tunnels[i];
		if (!found)
			found = &cfg->tunnels[i];
	}
	return found;
}

static char tmp[64]; /* mkdtemp under /tmp: short, so paths built from it fit */

/* ---- helpers ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/test_config.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *env_dir(const char *var)
{
	const char *d = getenv(var);

	if (!d) {
		fail_msg("%s is not set (run the test through ctest)", var);
		return "";
	}
	return d;
}

/* $AICCUD_TEST_DATA/config/rel */
static const char *fixture(const char *rel)
{
	static char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/config/%s", env_dir("AICCUD_TEST_DATA"), rel) >=
	    (int)sizeof(path))
		fail_msg("fixture path too long: %s", rel);
	return path;
}

/* tmp/rel */
static const char *in_tmp(const char *rel)
{
	static char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", tmp, rel) >= (int)sizeof(path))
		fail_msg("temporary path too long: %s", rel);
	return path;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	m = open_memstream(&buf, &len);
	assert_non_null(m);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Copy src to tmp/rel with the given mode; returns tmp/rel. */
static const char *copy_in(const char *src, const char *rel, mode_t mode)
{
	char *text = slurp(src);
	const char *dst = in_tmp(rel);

	put_file(dst, text, mode);
	free(text);
	return dst;
}

static void make_dir(const char *rel)
{
	assert_int_equal(mkdir(in_tmp(rel), 0755), 0);
}

/* Replace every "from" in s by "to" (new string). */
static char *replace(const char *s, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to);
	char *out = malloc(strlen(s) * (nt > nf ? nt / nf + 1 : 1) + 1), *o = out;

	assert_non_null(out);
	while (*s) {
		if (strncmp(s, from, nf) == 0) {
			memcpy(o, to, nt);
			o += nt;
			s += nf;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static char *expand(const char *pattern, const char *file)
{
	char *a = replace(pattern, "@F@", file ? file : "@F@");
	char *b = replace(a, "@D@", tmp);

	free(a);
	return b;
}

/* diag holds exactly the expected messages, in this order. */
static void expect_diag_v(const struct config_diag *d, const char *file, const char *const *want,
                          size_t n)
{
	bool ok = d->count == n;

	for (size_t i = 0; ok && i < n; i++) {
		char *w = expand(want[i], file);

		ok = strcmp(d->msgs[i], w) == 0;
		free(w);
	}
	if (ok)
		return;
	print_message("expected %zu message(s):\n", n);
	for (size_t i = 0; i < n; i++) {
		char *w = expand(want[i], file);

		print_message("  %s\n", w);
		free(w);
	}
	print_message("got %zu:\n", d->count);
	for (size_t i = 0; i < d->count; i++)
		print_message("  %s\n", d->msgs[i]);
	fail();
}

#define expect_diag(d, file, ...)                                                                  \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		expect_diag_v(d, file, want_, sizeof(want_) / sizeof(want_[0]));                   \
	} while (0)

/* Load tunnel/<name> (copied with mode) alone; te and diag for the caller. */
static const char *load_tunnel_fixture(const char *name, mode_t mode, struct tunnel_entry *te,
                                       struct config_diag *diag, int *rc)
{
	char rel[PATH_MAX];
	static char path[PATH_MAX];

	snprintf(rel, sizeof(rel), "tunnel/%s", name);
	snprintf(path, sizeof(path), "%s", copy_in(fixture(rel), name, mode));
	*rc = config_load_tunnel(path, te, diag);
	return path;
}

static struct in6_addr a6(const char *s)
{
	struct in6_addr a;

	assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

static struct in_addr a4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

#define assert_addr6(got, text)                                                                    \
	do {                                                                                       \
		struct in6_addr want_ = a6(text);                                                  \
		assert_memory_equal(&(got), &want_, sizeof(want_));                                \
	} while (0)

/* tmp/aiccud.conf and tmp/conf.d with the two examples (chmod 600 as the comments say). */
static const char *install_examples(mode_t tunnel_mode)
{
	char src[PATH_MAX];
	const char *ex = env_dir("AICCUD_EXAMPLES");

	snprintf(src, sizeof(src), "%s/aiccud.conf", ex);
	copy_in(src, "aiccud.conf", 0644);
	make_dir("conf.d");
	snprintf(src, sizeof(src), "%s/sixxs0.conf", ex);
	copy_in(src, "conf.d/sixxs0.conf", tunnel_mode);
	snprintf(src, sizeof(src), "%s/sixxs1.conf", ex);
	copy_in(src, "conf.d/sixxs1.conf", tunnel_mode);
	return in_tmp("aiccud.conf");
}

/* ---- the examples ---- */

static void test_examples_load(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};
	const struct tunnel_conf *t0, *t1;
	char dir[PATH_MAX];

	(void)state;
	assert_int_equal(config_load(&cfg, install_examples(0600), &diag), 0);
	expect_diag_v(&diag, NULL, NULL, 0);
	assert_string_equal(cfg.file, in_tmp("aiccud.conf"));
	snprintf(dir, sizeof(dir), "%s/conf.d", tmp);
	assert_string_equal(cfg.conf_dir, dir);
	assert_string_equal(cfg.control_socket, "/run/aiccud/aiccud.sock");
	assert_string_equal(cfg.state_dir, "/var/lib/aiccud");
	assert_string_equal(cfg.control_group, "");
	assert_string_equal(cfg.tic.server, "tic.sixxs.net");
	assert_true(cfg.tic.require_tls);
	assert_int_equal(cfg.cache_max_age, 604800);
	assert_int_equal(cfg.limiter_burst, 1);
	assert_int_equal(cfg.limiter_refill, 30);
	assert_int_equal(cfg.ntunnels, 2);
	assert_true(cfg.tunnels[0].valid);
	assert_true(cfg.tunnels[1].valid);

	t0 = &cfg.tunnels[0].conf;
	assert_string_equal(t0->name, "sixxs0");
	assert_string_equal(t0->id, "T10001");
	assert_false(t0->tic);
	assert_int_equal(t0->table, 200);
	assert_int_equal(t0->rule_priority, 1000);
	assert_int_equal(t0->datapath, DATAPATH_AUTO);
	assert_int_equal(t0->mtu_override, 0);
	assert_int_equal(t0->nrouted, 0);
	assert_int_equal(t0->heartbeat_ipv4, HEARTBEAT_IPV4_SENDER); /* the default */
	assert_int_equal(t0->liveness, LIVENESS_NONE);
	assert_int_equal(t0->params.type, TUNNEL_AYIYA);
	assert_addr6(t0->params.ipv6_local, "2001:db8:a::2");
	assert_addr6(t0->params.ipv6_pop, "2001:db8:a::1");
	assert_int_equal(t0->params.prefix_len, 64);
	assert_int_equal(t0->params.ipv4_pop.s_addr, a4("192.0.2.1").s_addr);
	assert_int_equal(t0->params.ipv4_local.s_addr, 0);
	assert_string_equal(t0->params.password, "demo-secret-sixxs0");
	assert_int_equal(t0->params.heartbeat_interval, 60);
	assert_int_equal(t0->params.mtu, 1280);

	t1 = &cfg.tunnels[1].conf;
	assert_string_equal(t1->name, "sixxs1");
	assert_string_equal(t1->id, "T10002");
	assert_int_equal(t1->table, 201);
	assert_int_equal(t1->rule_priority, 1001);
	assert_addr6(t1->params.ipv6_local, "2001:db8:b::2");
	assert_addr6(t1->params.ipv6_pop, "2001:db8:b::1");
	assert_string_equal(t1->params.password, "demo-secret-sixxs1");

	assert_ptr_equal(config_find(&cfg, "sixxs1"), &cfg.tunnels[1]);
	assert_null(config_find(&cfg, "sixxs9"));
	config_free(&cfg);
	config_diag_free(&diag);
}

/* As checked out by git (0644) the examples' passwords are refused. */
static void test_examples_refused_when_readable(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};

	(void)state;
	assert_int_equal(config_load(&cfg, install_examples(0644), &diag), 0);
	expect_diag(&diag, NULL,
	            "@D@/conf.d/sixxs0.conf: holds a password but is readable by group/others "
	            "(mode 0644); chmod 600 it",
	            "@D@/conf.d/sixxs1.conf: holds a password but is readable by group/others "
	            "(mode 0644); chmod 600 it");
	assert_int_equal(cfg.ntunnels, 2);
	assert_false(cfg.tunnels[0].valid);
	assert_string_equal(cfg.tunnels[0].error, diag.msgs[0]);
	assert_string_equal(cfg.tunnels[0].conf.name, "sixxs0");
	assert_false(cfg.tunnels[1].valid);
	config_free(&cfg);
	config_diag_free(&diag);
}

/* ---- one message per kind of error, exact text with file:line ---- */

#define TUNNEL_CASE(fixture_name, ...)                                                             \
	do {                                                                                       \
		struct tunnel_entry te;                                                            \
		struct config_diag diag = {0};                                                     \
		const char *path;                                                                  \
		int rc;                                                                            \
                                                                                                   \
		path = load_tunnel_fixture(fixture_name, 0600, &te, &diag, &rc);                   \
		expect_diag(&diag, path, __VA_ARGS__);                                             \
		assert_int_equal(rc, -1);                                                          \
		assert_false(te.valid);                                                            \
		assert_string_equal(te.error, diag.msgs[0]);                                       \
		config_diag_free(&diag);                                                           \
	} while (0)

static void test_unknown_key(void **state)
{
	(void)state;
	TUNNEL_CASE("unknown_key.conf", "@F@:6: unknown key 'tabel' in [tunnel]",
	            "@F@:7: unknown key 'type' in [tunnel] (it belongs in [params])",
	            "@F@:16: unknown key 'heartbeat' in [params]");
}

static void test_unknown_section(void **state)
{
	(void)state;
	TUNNEL_CASE("unknown_section.conf", "@F@:7: unknown section [param]");
}

static void test_key_outside_section(void **state)
{
	(void)state;
	TUNNEL_CASE("key_outside.conf", "@F@:1: key 'interface' comes before any [section]",
	            "@F@:1: no [tunnel] section");
}

static void test_bad_bool(void **state)
{
	(void)state;
	TUNNEL_CASE("bad_bool.conf",
	            "@F@:5: behind_nat: 'maybe' is not a boolean (yes/no/true/false/1/0)",
	            "@F@:10: require_tls: 'ja' is not a boolean (yes/no/true/false/1/0)");
}

static void test_bad_int(void **state)
{
	(void)state;
	TUNNEL_CASE("bad_int.conf", "@F@:4: table: 'two hundred' is not a number",
	            "@F@:5: rule_priority: '-5' is not a number",
	            "@F@:14: heartbeat_interval: '60s' is not a number");
}

static void test_out_of_range(void **state)
{
	(void)state;
	TUNNEL_CASE("out_of_range.conf",
	            "@F@:4: table: 254 is the kernel's main table; use 1..252 or 256..4294967295",
	            "@F@:5: rule_priority: 32766 is out of range 1..32765",
	            "@F@:6: mtu: 1000 is out of range (0 for the broker's, or 1280..65535)",
	            "@F@:7: liveness_misses: 0 is out of range 1..100",
	            "@F@:13: prefix_len: 129 is out of range 0..128",
	            "@F@:16: heartbeat_interval: 3601 is out of range 1..3600",
	            "@F@:17: mtu: 4294967296 is out of range 1280..65535");
}

static void test_bad_address(void **state)
{
	(void)state;
	TUNNEL_CASE(
	    "bad_address.conf", "@F@:8: ipv6_local: '2001:db8:a::2::3' is not an IPv6 address",
	    "@F@:9: ipv6_pop: '2001:db8:g::1' is not an IPv6 address",
	    "@F@:11: ipv4_pop: '192.0.2.256' is not an IPv4 address",
	    "@F@:12: ipv4_local: 'dynamic' is neither 'heartbeat', 'auto' nor an IPv4 address");
}

static void test_missing_required(void **state)
{
	(void)state;
	/* table is not required: aiccud assigns one (tabmap) */
	TUNNEL_CASE("missing_required.conf", "@F@:2: [tunnel] is missing required key 'interface'",
	            "@F@:5: [params] is missing required key 'ipv6_pop'",
	            "@F@:5: [params] is missing required key 'prefix_len'",
	            "@F@:5: [params] is missing required key 'password' (ayiya tunnels need it)");
}

static void test_params_with_tic(void **state)
{
	(void)state;
	TUNNEL_CASE("params_with_tic.conf",
	            "@F@:10: [params] is not allowed with tic = yes: the parameters come from TIC "
	            "(set tic = no to use them)");
}

static void test_anycast(void **state)
{
	(void)state;
	TUNNEL_CASE("anycast.conf", "@F@:8: 2001:db8:a:: is the subnet-router anycast address of "
	                            "2001:db8:a::/64; use 2001:db8:a::2");
}

static void test_other_prefix(void **state)
{
	(void)state;
	TUNNEL_CASE("other_prefix.conf",
	            "@F@:9: ipv6_pop 2001:db8:b::1 is not in ipv6_local's prefix 2001:db8:a::/64");
}

static void test_static_needs_ipv4_local(void **state)
{
	(void)state;
	TUNNEL_CASE("static.conf", "@F@:15: ipv4_local must be this end's IPv4 address or 'auto' "
	                           "for 6in4-static, not 'heartbeat'");
}

/* Everything wrong in one file comes out in one run, and nothing else. */
static void test_all_errors_in_one_run(void **state)
{
	struct tunnel_entry te;
	struct config_diag diag = {0};
	const char *path;
	int rc;

	(void)state;
	path = load_tunnel_fixture("many_errors.conf", 0600, &te, &diag, &rc);
	expect_diag(
	    &diag, path,
	    "@F@:3: interface: 'this-name-is-far-too-long' is not a valid interface name "
	    "(1..15 characters, no '/', ':' or blanks, no '#' first)",
	    "@F@:5: duplicate key 'table' in [tunnel] (first on line 4)",
	    "@F@:7: datapath: 'turbo' is not auto, kernel or userspace",
	    "@F@:8: routed: 2001:db8:100::1/48 has bits set after the prefix length; did "
	    "you mean 2001:db8:100::/48?",
	    "@F@:8: routed: 'nonsense' is not an IPv6 prefix (address/length)",
	    "@F@:9: liveness: 'tcp' is not none or icmp",
	    "@F@:10: setup_script: 'up.sh' is not an absolute path",
	    "@F@:11: expected 'key = value', got 'no equals sign here'",
	    "@F@:12: expected ']' to end the section name",
	    "@F@:17: type: 'l2tp' is not a tunnel type (ayiya, 6in4-heartbeat, 6in4-static)",
	    "@F@:22: line is too long (at most 197 characters)");
	assert_int_equal(rc, -1);
	/* no usable interface name: status names it after its file */
	assert_string_equal(te.conf.name, "many_errors");
	assert_int_equal(te.conf.table, 200);
	config_diag_free(&diag);
}

/* Issue 20: as sshd's StrictModes, files and conf_dir must be aiccud's own and only its own to
 * write. */
static const char plain_tunnel[] = "[tunnel]\ninterface = sixxs5\nid = T10005\ntic = no\n"
                                   "table = 205\nrule_priority = 1005\n[params]\n"
                                   "type = 6in4-static\nipv6_local = 2001:db8:5::2\n"
                                   "ipv6_pop = 2001:db8:5::1\nprefix_len = 64\n"
                                   "ipv4_pop = 192.0.2.1\nipv4_local = 192.0.2.2\n";

static void test_untrusted_tunnel_file(void **state)
{
	struct tunnel_entry te;
	struct config_diag diag = {0};
	const char *path = in_tmp("plain.conf");
	char want[256];

	(void)state;
	put_file(path, plain_tunnel, 0644);
	assert_int_equal(config_load_tunnel(path, &te, &diag), 0);
	expect_diag_v(&diag, path, NULL, 0);
	for (mode_t m = 0664; m; m = m == 0664 ? 0646 : 0) {
		assert_int_equal(chmod(path, m), 0);
		assert_int_equal(config_load_tunnel(path, &te, &diag), -1);
		snprintf(want, sizeof(want),
		         "@F@: is writable by group/others (mode %04o); chmod go-w it",
		         (unsigned)m);
		expect_diag(&diag, path, want);
		assert_false(te.valid);
		config_diag_free(&diag);
	}
	assert_int_equal(chmod(path, 0644), 0);
	if (geteuid() != 0) /* only root can give a file to another user */
		return;
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(config_load_tunnel(path, &te, &diag), -1);
	snprintf(want, sizeof(want),
	         "@F@: is owned by uid 65534 (%s), not by uid 0 (root) that aiccud runs as; "
	         "refused, as another user could change what aiccud does as root",
	         getpwuid(65534) ? getpwuid(65534)->pw_name : "no such user");
	expect_diag(&diag, path, want);
	config_diag_free(&diag);
}

static void test_untrusted_main_and_conf_dir(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};
	const char *main_path;
	char main_file[PATH_MAX], want[PATH_MAX + 128];

	(void)state;
	make_dir("conf.d");
	put_file(in_tmp("conf.d/plain.conf"), plain_tunnel, 0644);
	main_path = in_tmp("aiccud.conf");
	snprintf(main_file, sizeof(main_file), "%s", main_path);
	put_file(main_file, "[daemon]\nconf_dir = conf.d\n", 0644);
	assert_int_equal(config_load(&cfg, main_file, &diag), 0);
	assert_int_equal(cfg.ntunnels, 1);
	config_free(&cfg);
	/* a conf_dir anyone may write: anyone chooses the tunnels */
	assert_int_equal(chmod(in_tmp("conf.d"), 0777), 0);
	assert_int_equal(config_load(&cfg, main_file, &diag), -1);
	snprintf(want, sizeof(want),
	         "@F@:2: conf_dir %s/conf.d is writable by group/others (mode 0777); chmod go-w it",
	         tmp);
	expect_diag(&diag, main_file, want);
	config_diag_free(&diag);
	config_free(&cfg);
	assert_int_equal(chmod(in_tmp("conf.d"), 0755), 0);
	assert_int_equal(chmod(main_file, 0620), 0);
	assert_int_equal(config_load(&cfg, main_file, &diag), -1);
	expect_diag(&diag, main_file,
	            "@F@: is writable by group/others (mode 0620); chmod go-w it");
	config_diag_free(&diag);
	config_free(&cfg);
}

static void test_tunnel_password_readable(void **state)
{
	struct tunnel_entry te;
	struct config_diag diag = {0};
	const char *path;
	int rc;

	(void)state;
	path = load_tunnel_fixture("password_readable.conf", 0644, &te, &diag, &rc);
	expect_diag(&diag, path,
	            "@F@: holds a password but is readable by group/others (mode 0644); chmod 600 "
	            "it");
	assert_int_equal(rc, -1);
	config_diag_free(&diag);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(config_load_tunnel(path, &te, &diag), -1);
	expect_diag(&diag, path,
	            "@F@: holds a password but is readable by group/others (mode 0640); chmod 600 "
	            "it");
	config_diag_free(&diag);

	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(config_load_tunnel(path, &te, &diag), 0);
	expect_diag_v(&diag, path, NULL, 0);
	assert_true(te.valid);
	assert_string_equal(te.conf.account.username, "ABC1-SIXXS");
	assert_string_equal(te.conf.account.password, "secret");
	assert_string_equal(te.conf.account.server, "tic.sixxs.net");
	config_diag_free(&diag);
}

static void test_unreadable_tunnel_file(void **state)
{
	struct tunnel_entry te;
	struct config_diag diag = {0};

	(void)state;
	assert_int_equal(config_load_tunnel(in_tmp("absent.conf"), &te, &diag), -1);
	expect_diag(&diag, NULL, "@D@/absent.conf: cannot read: No such file or directory");
	assert_string_equal(te.conf.name, "absent");
	config_diag_free(&diag);

	make_dir("dir.conf");
	assert_int_equal(config_load_tunnel(in_tmp("dir.conf"), &te, &diag), -1);
	expect_diag(&diag, NULL, "@D@/dir.conf: cannot read: not a regular file");
	config_diag_free(&diag);
}

/* ---- syntax and value boundaries, from text written by the test ---- */

#define PARAMS_OK                                                                                  \
	"[params]\ntype = ayiya\nipv6_local = 2001:db8:a::2\nipv6_pop = 2001:db8:a::1\n"           \
	"prefix_len = 64\nipv4_pop = 192.0.2.1\npassword = secret\n"

/* Write text as tmp/t.conf (0600) and load it alone: 0 or -1. */
static int load_text(const char *text, struct tunnel_entry *te)
{
	struct config_diag diag = {0};
	int rc;

	put_file(in_tmp("t.conf"), text, 0600);
	rc = config_load_tunnel(in_tmp("t.conf"), te, &diag);
	/* a verdict and its messages agree */
	assert_int_equal(rc == 0, diag.count == 0);
	config_diag_free(&diag);
	return rc;
}

/* A tic = no tunnel with one extra line in [tunnel]. */
static int load_with(const char *line, struct tunnel_entry *te)
{
	char text[1024];

	snprintf(text, sizeof(text), "[tunnel]\ninterface = sixxs0\ntic = no\n%s\n%s", line,
	         PARAMS_OK);
	return load_text(text, te);
}

static void test_syntax_variants(void **state)
{
	struct tunnel_entry te;

	(void)state;
	/* BOM, CRLF, indentation (not a continuation), "key: value", inline comment,
	 * upper-case boolean, a ';' inside a value */
	assert_int_equal(load_text("\xEF\xBB\xBF[tunnel]\r\n"
	                           "  interface = sixxs0\r\n"
	                           "\ttable: 200 ; the comment\r\n"
	                           "    tic = NO\r\n"
	                           "# comment\r\n"
	                           "; comment\r\n"
	                           "[params]\r\n"
	                           "type=ayiya\r\n"
	                           " ipv6_local = 2001:db8:a::2\r\n"
	                           "ipv6_pop = 2001:db8:a::1\r\n"
	                           "prefix_len = 64\r\n"
	                           "ipv4_pop = 192.0.2.1\r\n"
	                           "password = pass;word",
	                           &te),
	                 0);
	assert_string_equal(te.conf.name, "sixxs0");
	assert_int_equal(te.conf.table, 200);
	assert_false(te.conf.tic);
	assert_string_equal(te.conf.params.password, "pass;word");
	assert_int_equal(te.conf.params.type, TUNNEL_AYIYA);
}

/* A name the kernel takes but the tables state file would read as a comment. */
static void test_ifname_hash(void **state)
{
	struct tunnel_entry te;

	(void)state;
	assert_int_equal(load_text("[tunnel]\ninterface = #x\ntic = no\n" PARAMS_OK, &te), -1);
	assert_int_equal(load_text("[tunnel]\ninterface = x#\ntic = no\n" PARAMS_OK, &te), 0);
	assert_string_equal(te.conf.name, "x#");
}

static void test_value_boundaries(void **state)
{
	static const struct {
		const char *line;
		int rc;
	} cases[] = {
	    {"table = 1", 0},
	    {"table = 252", 0},
	    {"table = 253", -1},
	    {"table = 255", -1},
	    {"table = 256", 0},
	    {"table = 4294967295", 0},
	    {"table = 0", -1},
	    {"table = 200\nrule_priority = 1", 0},
	    {"table = 200\nrule_priority = 32765", 0},
	    {"table = 200\nrule_priority = 0", -1},
	    {"table = 200\nmtu = 0", 0},
	    {"table = 200\nmtu = 1279", -1},
	    {"table = 200\nmtu = 1280", 0},
	    /* PARAMS_OK is AYIYA: at most 1500 - 72 (issue 22); 65535 is for other types */
	    {"table = 200\nmtu = 1428", 0},
	    {"table = 200\nmtu = 1429", -1},
	    {"table = 200\nmtu = 65535", -1},
	    {"table = 200\nmtu = 65536", -1},
	    {"table = 200\nmtu = +1280", -1},
	    {"table = 200\nmtu = 1280 ", 0},
	    {"table = 200\nbehind_nat = true", 0},
	    {"table = 200\nbehind_nat = 0", 0},
	    {"table = 200\nbehind_nat = FALSE", 0},
	    {"table = 200\nbehind_nat = on", -1},
	    {"table = 200\nheartbeat_ipv4 = sender", 0},
	    {"table = 200\nheartbeat_ipv4 = local", 0},
	    {"table = 200\nheartbeat_ipv4 = Sender", -1},
	    {"table = 200\nheartbeat_ipv4 = 192.0.2.2", -1},
	    {"table = 200\ndatapath = kernel", 0},
	    {"table = 200\ndatapath = Kernel", -1},
	    {"table = 200\ninterface = x", -1}, /* duplicate */
	    {"table = 200\nid = T-1_2.3", 0},
	    {"table = 200\nid = T 1", -1},
	    {"table = 200\nrouted =", 0},
	    {"table = 200\nrouted = 2001:db8::/32 2001:db8:1::/48", 0},
	    {"table = 200\nrouted = 2001:db8:1::/48, 2001:db8:2::/48, 2001:db8:3::/48, "
	     "2001:db8:4::/48, 2001:db8:5::/48, 2001:db8:6::/48, 2001:db8:7::/48, "
	     "2001:db8:8::/48",
	     0},
	    {"table = 200\nrouted = 2001:db8:1::/48, 2001:db8:2::/48, 2001:db8:3::/48, "
	     "2001:db8:4::/48, 2001:db8:5::/48, 2001:db8:6::/48, 2001:db8:7::/48, "
	     "2001:db8:8::/48, 2001:db8:9::/48",
	     -1},
	    {"table = 200\nrouted = 2001:db8::/129", -1},
	    {"table = 200\nrouted = 192.0.2.0/24", -1},
	    {"table = 200\nsetup_script =", 0},
	    {"table = 200\nliveness = icmp\nliveness_misses = 100", 0},
	    {"table = 200\nliveness_misses = 101", -1},
	};
	struct tunnel_entry te;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = load_with(cases[i].line, &te);

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].line, rc, cases[i].rc);
	}
	assert_int_equal(load_with("table = 4294967295", &te), 0);
	assert_int_equal(te.conf.table, 4294967295u);
	/* autostart (issue 22): yes by default; no loads the tunnel but leaves it stopped. */
	assert_int_equal(load_with("table = 200", &te), 0);
	assert_true(te.conf.autostart);
	assert_int_equal(load_with("table = 200\nautostart = no", &te), 0);
	assert_false(te.conf.autostart);
	assert_int_equal(load_with("table = 200\nautostart = yes", &te), 0);
	assert_true(te.conf.autostart);
	assert_int_equal(load_with("table = 200\nautostart = later", &te), -1);
	/* The AYIYA limit names the [tunnel] mtu line and the maximum. */
	assert_int_equal(load_with("table = 200\nmtu = 1500", &te), -1);
	if (!strstr(te.error, ".conf:5: mtu 1500 is above 1428"))
		fail_msg("'%s' does not name line 5 and 1428", te.error);
}

static void test_server_forms(void **state)
{
	static const struct {
		const char *server;
		int rc;
	} cases[] = {
	    {"tic.example.net", 0},
	    {"tic.example.net:3874", 0},
	    {"[2001:db8::1]:3874", 0},
	    {"2001:db8::1", 0},
	    {"192.0.2.1:3874", 0},
	    {"tic.example.net:0", -1},
	    {"tic example.net", -1},
	    {"[2001:db8::1]:", -1},
	    {"[tic.example.net]:1", -1},
	    {"tic.example.net:", -1},
	    {"", -1},
	};
	struct tunnel_entry te;
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
		         "[tunnel]\ninterface = sixxs0\nid = T1\ntable = 200\n"
		         "[tic]\nusername = U\npassword = P\nserver = %s\n",
		         cases[i].server);
		if (load_text(text, &te) != cases[i].rc)
			fail_msg("server '%s': want %d", cases[i].server, cases[i].rc);
	}
}

static void test_prefix_rules(void **state)
{
	static const struct {
		const char *local, *pop;
		int len, rc;
	} cases[] = {
	    {"2001:db8:a::2", "2001:db8:a::1", 64, 0},
	    {"2001:db8:a::", "2001:db8:a::1", 64, -1},   /* anycast */
	    {"2001:db8:a::", "2001:db8:a::1", 127, 0},   /* RFC 6164 */
	    {"2001:db8:a::2", "2001:db8:a::1", 127, -1}, /* ::2 is outside ::/127 */
	    {"2001:db8:a::1", "2001:db8:a::1", 128, -1}, /* same address */
	    {"2001:db8:a::5", "2001:db8:a::6", 126, 0},
	    {"2001:db8:a::4", "2001:db8:a::5", 126, -1}, /* anycast of ::4/126 */
	    {"2001:db8:a::4", "2001:db8:a::1", 127, -1},
	    /* shorter than /64 only with min_prefix_len (tpolicy.h, below) */
	    {"2001:db8:a:1::2", "2001:db8:a::1", 48, -1},
	};
	struct tunnel_entry te;
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
		         "[tunnel]\ninterface = sixxs0\ntic = no\ntable = 200\n[params]\n"
		         "type = ayiya\nipv6_local = %s\nipv6_pop = %s\nprefix_len = %d\n"
		         "ipv4_pop = 192.0.2.1\npassword = secret\n",
		         cases[i].local, cases[i].pop, cases[i].len);
		if (load_text(text, &te) != cases[i].rc)
			fail_msg("%s %s /%d: want %d", cases[i].local, cases[i].pop, cases[i].len,
			         cases[i].rc);
	}
	snprintf(text, sizeof(text),
	         "[tunnel]\ninterface = sixxs0\ntic = no\ntable = 200\n[params]\n"
	         "type = ayiya\nipv6_local = 2001:db8:a:1::2\nipv6_pop = 2001:db8:a::1\n"
	         "prefix_len = 48\nmin_prefix_len = 48\nipv4_pop = 192.0.2.1\npassword = s\n");
	assert_int_equal(load_text(text, &te), 0);
	assert_int_equal(te.conf.min_prefix_len, 48);
}

/* [params] goes through the tunnel-parameter policy, naming file:line and key (issue 12). */
static void test_params_policy(void **state)
{
	static const struct {
		const char *key, *says;
	} cases[] = {
	    {"ipv4_pop = 127.0.0.1", "ipv4_pop: 127.0.0.1 is a loopback address"},
	    {"ipv4_pop = 192.0.2.255", NULL},
	    {"ipv4_pop = 224.1.1.1", "ipv4_pop: 224.1.1.1 is a multicast address"},
	    {"mtu = 65535", "mtu: 65535 is outside 1280..1480"},
	    /* Issue 22: 1480 + AYIYA's 72 bytes do not cross a 1500-byte path. */
	    {"mtu = 1480", "mtu 1480 is above 1428, the most an AYIYA tunnel can carry over a "
	                   "1500-byte IPv4 path (1500 - 72 bytes"},
	    {"mtu = 1429", "mtu 1429 is above 1428"},
	    {"mtu = 1428", NULL},
	};
	struct tunnel_entry te;
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
		         "[tunnel]\ninterface = sixxs0\ntic = no\ntable = 200\n[params]\n"
		         "type = ayiya\nipv6_local = 2001:db8:a::2\nipv6_pop = 2001:db8:a::1\n"
		         "prefix_len = 64\npassword = s\n%s%s",
		         strncmp(cases[i].key, "ipv4_pop", 8) ? "ipv4_pop = 192.0.2.1\n" : "",
		         cases[i].key);
		assert_int_equal(load_text(text, &te), cases[i].says ? -1 : 0);
		if (cases[i].says && !strstr(te.error, cases[i].says))
			fail_msg("'%s': '%s' does not say '%s'", cases[i].key, te.error,
			         cases[i].says);
		if (cases[i].says && !strstr(te.error, ".conf:"))
			fail_msg("'%s': '%s' names no file:line", cases[i].key, te.error);
	}
}

/* conf_dir may be aiccud.conf's own directory: aiccud.conf is not a tunnel. */
static void test_conf_dir_is_main_dir(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};
	char src[PATH_MAX];

	(void)state;
	put_file(in_tmp("aiccud.conf"), "[daemon]\nconf_dir = .\n", 0644);
	snprintf(src, sizeof(src), "%s/sixxs0.conf", env_dir("AICCUD_EXAMPLES"));
	copy_in(src, "sixxs0.conf", 0600);
	assert_int_equal(config_load(&cfg, in_tmp("aiccud.conf"), &diag), 0);
	expect_diag_v(&diag, NULL, NULL, 0);
	assert_int_equal(cfg.ntunnels, 1);
	assert_string_equal(cfg.tunnels[0].conf.name, "sixxs0");
	config_free(&cfg);
}

/* ---- aiccud.conf ---- */

static int load_main_fixture(const char *name, mode_t mode, struct config *cfg,
                             struct config_diag *diag)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "main/%s", name);
	copy_in(fixture(rel), "aiccud.conf", mode);
	if (access(in_tmp("conf.d"), F_OK) < 0)
		make_dir("conf.d");
	return config_load(cfg, in_tmp("aiccud.conf"), diag);
}

static void test_limiter_arithmetic(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};

	(void)state;
	assert_int_equal(load_main_fixture("limiter.conf", 0644, &cfg, &diag), -1);
	expect_diag(&diag, NULL,
	            "@D@/aiccud.conf:4: limiter allows 1 + floor(60/10) = 7 connections in 60 s; "
	            "the broker blocks more than 4");
	assert_int_equal(cfg.ntunnels, 0);
	config_free(&cfg);
	config_diag_free(&diag);

	/* 2 + floor(60/30) = 4: exactly what the broker allows */
	assert_int_equal(load_main_fixture("limiter_ok.conf", 0644, &cfg, &diag), 0);
	expect_diag_v(&diag, NULL, NULL, 0);
	assert_int_equal(cfg.limiter_burst, 2);
	assert_int_equal(cfg.limiter_refill, 30);
	config_free(&cfg);
}

static void test_main_errors(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};

	(void)state;
	assert_int_equal(load_main_fixture("bad.conf", 0644, &cfg, &diag), -1);
	expect_diag(
	    &diag, "@D@/aiccud.conf",
	    "@F@:2: control_socket: 'run/aiccud.sock' is not an absolute path",
	    "@F@:3: control_group: 'wheel staff' may only contain letters, digits, '.', '_' "
	    "and '-'",
	    "@F@:4: state_dir must not be empty",
	    "@F@:6: server: 'tic.example.net:99999' is not host[:port] (IPv6: "
	    "[address]:port)",
	    "@F@:7: require_tls: 'maybe' is not a boolean (yes/no/true/false/1/0)",
	    "@F@:8: cache_max_age: 10 is out of range 60..31536000",
	    "@F@:9: unknown key 'interface' in [tic]",
	    "@F@:11: burst: 0 is out of range 1..4294967295",
	    "@F@:12: refill: 0 is out of range 1..86400", "@F@:13: unknown section [tunnel]");
	assert_int_equal(cfg.ntunnels, 0);
	config_free(&cfg);
	config_diag_free(&diag);
}

static void test_main_password_readable(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};

	(void)state;
	assert_int_equal(load_main_fixture("password.conf", 0644, &cfg, &diag), -1);
	expect_diag(&diag, NULL,
	            "@D@/aiccud.conf: holds a password but is readable by group/others (mode "
	            "0644); chmod 600 it");
	config_diag_free(&diag);

	assert_int_equal(load_main_fixture("password.conf", 0600, &cfg, &diag), 0);
	expect_diag_v(&diag, NULL, NULL, 0);
	assert_string_equal(cfg.tic.username, "ABC1-SIXXS");
	assert_string_equal(cfg.tic.password, "secret");
	config_free(&cfg);
}

static void test_main_missing(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};

	(void)state;
	assert_int_equal(config_load(&cfg, in_tmp("aiccud.conf"), &diag), -1);
	expect_diag(&diag, NULL, "@D@/aiccud.conf: cannot read: No such file or directory");
	assert_int_equal(cfg.ntunnels, 0);
	config_diag_free(&diag);

	assert_int_equal(load_main_fixture("no_conf_dir.conf", 0644, &cfg, &diag), -1);
	expect_diag(&diag, NULL,
	            "@D@/aiccud.conf:2: conf_dir @D@/nowhere: No such file or directory");
	config_diag_free(&diag);
}

/* ---- across tunnel files ---- */

static void install_dir(const char *src_rel, const char *dst_rel, const char *const *names,
                        size_t n)
{
	char src[PATH_MAX], dst[PATH_MAX];

	make_dir(dst_rel);
	for (size_t i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "%s/%s", src_rel, names[i]);
		snprintf(dst, sizeof(dst), "%s/%s", dst_rel, names[i]);
		copy_in(fixture(src), dst, 0600);
	}
}

static void test_duplicates(void **state)
{
	static const char *const files[] = {"a.conf",       "b.conf", "c.conf",
	                                    "d.conf",       "e.conf", "f.conf",
	                                    ".hidden.conf", "README", "a.conf.orig"};
	struct config cfg;
	struct config_diag diag = {0};
	const bool valid[] = {true, false, false, true, true, false};

	(void)state;
	install_dir("dup", "conf.d", files, sizeof(files) / sizeof(files[0]));
	/* tic = yes in e and f: they inherit this account */
	assert_int_equal(load_main_fixture("password.conf", 0600, &cfg, &diag), 0);
	expect_diag(&diag, NULL,
	            "@D@/conf.d/b.conf:2: interface sixxs0 is already used by @D@/conf.d/a.conf:2",
	            "@D@/conf.d/b.conf:4: table 200 is already used by @D@/conf.d/a.conf:4",
	            /* c.conf shares a's rule priority: allowed; its address is not */
	            "@D@/conf.d/c.conf:8: ipv6_local 2001:db8:a::2 is already used by "
	            "@D@/conf.d/a.conf:9",
	            "@D@/conf.d/f.conf:3: id T10004 on tic.sixxs.net is already used by "
	            "@D@/conf.d/e.conf:3");
	/* dotfiles and other names are ignored; the rest in name order */
	assert_int_equal(cfg.ntunnels, 6);
	for (size_t i = 0; i < 6; i++) {
		char want[16];

		snprintf(want, sizeof(want), "/%c.conf", (char)('a' + i));
		assert_non_null(strstr(cfg.tunnels[i].conf.file, want));
		assert_int_equal(cfg.tunnels[i].valid, valid[i]);
	}
	assert_string_equal(cfg.tunnels[1].error, diag.msgs[0]);
	assert_string_equal(cfg.tunnels[2].error, diag.msgs[2]);
	assert_string_equal(cfg.tunnels[5].error, diag.msgs[3]);
	/* the first file holding a name wins it */
	assert_ptr_equal(config_find(&cfg, "sixxs0"), &cfg.tunnels[0]);
	assert_string_equal(cfg.tunnels[4].conf.account.username, "ABC1-SIXXS");
	config_free(&cfg);
	config_diag_free(&diag);
}

/* Issue 20, finding 3: one file tunnel's prefix inside another's is refused at load. */
static void test_prefix_overlap(void **state)
{
	static const char *const files[] = {"a.conf", "g.conf"};
	struct config cfg;
	struct config_diag diag = {0};

	(void)state;
	install_dir("dup", "conf.d", files, 2);
	assert_int_equal(load_main_fixture("password.conf", 0600, &cfg, &diag), 0);
	expect_diag(&diag, NULL,
	            "@D@/conf.d/g.conf:10: tunnel sixxs6 claims prefixes that overlap those of "
	            "tunnel sixxs0 (@D@/conf.d/a.conf:9): 2001:db8:a::5/64 and 2001:db8:a::2/64");
	assert_int_equal(cfg.ntunnels, 2);
	assert_true(cfg.tunnels[0].valid);
	assert_false(cfg.tunnels[1].valid);
	config_free(&cfg);
	config_diag_free(&diag);
}

static char *print_normalized(const struct config *cfg, const char *dir);

/* No table: 0 (aiccud assigns one); priorities shared; default_route metrics unique. */
static void test_routes(void **state)
{
	static const char *const files[] = {"a.conf", "b.conf", "c.conf", "d.conf", "e.conf"};
	const bool valid[] = {true, false, true, true, false};
	struct config cfg;
	struct config_diag diag = {0};
	char *printed;

	(void)state;
	install_dir("routes", "conf.d", files, sizeof(files) / sizeof(files[0]));
	assert_int_equal(load_main_fixture("password.conf", 0600, &cfg, &diag), 0);
	expect_diag(&diag, NULL,
	            "@D@/conf.d/b.conf:4: default_route: @D@/conf.d/a.conf:4 already puts the main "
	            "table's default route at metric 1024 (the default); give each tunnel its own "
	            "default_route_metric",
	            "@D@/conf.d/e.conf:5: default_route: @D@/conf.d/c.conf:5 already puts the main "
	            "table's default route at metric 2000; give each tunnel its own "
	            "default_route_metric");
	assert_int_equal(cfg.ntunnels, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(cfg.tunnels[i].valid, valid[i]);
		assert_int_equal(cfg.tunnels[i].conf.table, 0);
		assert_int_equal(cfg.tunnels[i].conf.rule_priority, 1000);
	}
	assert_true(cfg.tunnels[0].conf.default_route);
	assert_int_equal(cfg.tunnels[0].conf.default_route_metric, 0);
	assert_int_equal(cfg.tunnels[2].conf.default_route_metric, 2000);
	assert_false(cfg.tunnels[3].conf.default_route);
	/* -nv: an automatic table is a comment, so the output parses again. */
	printed = print_normalized(&cfg, tmp);
	assert_non_null(strstr(printed, "# table: automatic\n"));
	assert_non_null(
	    strstr(printed, "default_route = yes\n# default_route_metric: automatic\n"));
	assert_non_null(strstr(printed, "default_route_metric = 2000\n"));
	assert_null(strstr(printed, "table = 0"));
	free(printed);
	config_free(&cfg);
	config_diag_free(&diag);
}

static void test_bad_file_does_not_stop_others(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};
	char src[PATH_MAX];

	(void)state;
	install_examples(0600);
	copy_in(fixture("tunnel/other_prefix.conf"), "conf.d/broken.conf", 0600);
	snprintf(src, sizeof(src), "%s/conf.d/broken.conf", tmp);
	assert_int_equal(config_load(&cfg, in_tmp("aiccud.conf"), &diag), 0);
	expect_diag(&diag, src,
	            "@F@:9: ipv6_pop 2001:db8:b::1 is not in ipv6_local's prefix 2001:db8:a::/64");
	assert_int_equal(cfg.ntunnels, 3);
	assert_false(cfg.tunnels[0].valid); /* broken.conf sorts first */
	assert_string_equal(cfg.tunnels[0].error, diag.msgs[0]);
	/* its interface name was fine: it keeps it; the usable sixxs0 is the one found */
	assert_string_equal(cfg.tunnels[0].conf.name, "sixxs0");
	assert_true(cfg.tunnels[1].valid);
	assert_true(cfg.tunnels[2].valid);
	assert_ptr_equal(config_find(&cfg, "sixxs0"), &cfg.tunnels[1]);
	config_free(&cfg);
	config_diag_free(&diag);
}

/* No limit on the count: 1000 usable files load, every one valid, in name order. */
static void test_many_tunnel_files(void **state)
{
	enum { N = 1000 };
	struct config cfg;
	struct config_diag diag = {0};
	char rel[64], body[512];

	(void)state;
	make_dir("conf.d");
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "conf.d/t%04d.conf", i);
		snprintf(body, sizeof(body),
		         "[tunnel]\ninterface = t%04d\ntic = no\ntable = %d\n"
		         "rule_priority = %d\n[params]\ntype = 6in4-static\n"
		         "ipv6_local = 2001:db8:%x::2\nipv6_pop = 2001:db8:%x::1\n"
		         "prefix_len = 64\nipv4_pop = 192.0.2.1\nipv4_local = 198.51.100.2\n",
		         i, 1000 + i, 2000 + i, i + 1, i + 1);
		put_file(in_tmp(rel), body, 0600);
	}
	put_file(in_tmp("aiccud.conf"), "", 0600);
	assert_int_equal(config_load(&cfg, in_tmp("aiccud.conf"), &diag), 0);
	assert_int_equal(diag.count, 0);
	assert_int_equal(cfg.ntunnels, N);
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "t%04d", i);
		assert_true(cfg.tunnels[i].valid);
		assert_string_equal(cfg.tunnels[i].conf.name, rel);
	}
	config_free(&cfg);
	config_diag_free(&diag);
}

/* ---- accounts: a tunnel's [tic] over aiccud.conf's ---- */

static const char *const full_files[] = {"a-tic.conf", "b-static.conf", "c-heartbeat.conf",
                                         "d-broken.conf"};

static const char *install_full(void)
{
	copy_in(fixture("full/aiccud.conf"), "aiccud.conf", 0600);
	install_dir("full/tunnels.d", "tunnels.d", full_files,
	            sizeof(full_files) / sizeof(full_files[0]));
	return in_tmp("aiccud.conf");
}

static void test_account_inherited(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};
	const struct tunnel_conf *t;

	(void)state;
	assert_int_equal(config_load(&cfg, install_full(), &diag), 0);
	expect_diag(&diag, NULL,
	            "@D@/tunnels.d/d-broken.conf:3: tic = no needs a [params] section with the "
	            "tunnel's parameters");
	assert_int_equal(cfg.ntunnels, 4);
	t = &config_find(&cfg, "tic0")->conf;
	assert_true(t->tic);
	assert_string_equal(t->account.server, "[2001:db8::3874]:3874"); /* inherited */
	assert_string_equal(t->account.username, "OTHER-SIXXS");         /* its own */
	assert_string_equal(t->account.password, "account-secret");      /* inherited */
	assert_true(t->account.require_tls);                             /* its own */
	assert_string_equal(t->account.ca_file, "/etc/ssl/certs/broker.pem");
	assert_int_equal(t->nrouted, 2);
	assert_addr6(t->routed[1].addr, "2001:db8:200:10::");
	assert_int_equal(t->routed[1].len, 60);
	assert_int_equal(t->liveness, LIVENESS_ICMP);
	assert_int_equal(t->datapath, DATAPATH_KERNEL);
	t = &config_find(&cfg, "static0")->conf;
	assert_int_equal(t->params.type, TUNNEL_6IN4_STATIC);
	assert_int_equal(t->params.ipv4_local.s_addr, a4("198.51.100.7").s_addr);
	config_free(&cfg);
	config_diag_free(&diag);

	/* Alone, a-tic.conf has only the built-in account: no password anywhere. */
	{
		struct tunnel_entry te;
		const char *path = in_tmp("tunnels.d/a-tic.conf");

		assert_int_equal(config_load_tunnel(path, &te, &diag), -1);
		expect_diag(&diag, path,
		            "@F@:5: tic = yes needs a TIC password: set it in [tic] here or in "
		            "aiccud.conf's [tic]");
		config_diag_free(&diag);
	}
}

/* ---- config_print ---- */

static char *print_normalized(const struct config *cfg, const char *dir)
{
	char *buf = NULL, *out;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(config_print(cfg, m), 0);
	fclose(m);
	out = replace(buf, dir, "@DIR@");
	free(buf);
	return out;
}

static void compare_golden(const char *got, const char *golden_rel)
{
	char *want = slurp(fixture(golden_rel));

	if (strcmp(got, want) != 0) {
		print_message("config_print differs from %s; got:\n%s", golden_rel, got);
		fail();
	}
	free(want);
}

/*
 * Write each "# file: PATH" block of printed (with @DIR@ = dir) to PATH,
 * mode 0600 (the blocks hold "********" passwords).
 */
static void write_blocks(const char *printed, const char *dir)
{
	char *text = replace(printed, "@DIR@", dir), *line, *save = NULL;
	FILE *f = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# file: ", 8) == 0) {
			if (f)
				assert_int_equal(fclose(f), 0);
			f = fopen(line + 8, "w");
			assert_non_null(f);
			assert_int_equal(chmod(line + 8, 0600), 0);
		}
		if (f)
			fprintf(f, "%s\n", line);
	}
	if (f)
		assert_int_equal(fclose(f), 0);
	free(text);
}

static char *drop_not_loaded(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	assert_non_null(out);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);

		if (strncmp(s, "# not loaded: ", 14) == 0) {
			s += n;
			if (*s == '\n')
				s++; /* and its blank line */
			continue;
		}
		memcpy(o, s, n);
		o += n;
		s += n;
	}
	*o = '\0';
	return out;
}

/* The printed form loads again, in a second directory, to the same print. */
static void check_round_trip(const char *printed, const char *confd_rel)
{
	char dir2[PATH_MAX], main2[PATH_MAX + 16], sub[PATH_MAX + 16];
	struct config cfg;
	struct config_diag diag = {0};
	char *again, *want;

	snprintf(dir2, sizeof(dir2), "%s/again", tmp);
	assert_int_equal(mkdir(dir2, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/%s", dir2, confd_rel);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_blocks(printed, dir2);
	snprintf(main2, sizeof(main2), "%s/aiccud.conf", dir2);
	assert_int_equal(config_load(&cfg, main2, &diag), 0);
	expect_diag_v(&diag, NULL, NULL, 0);
	again = print_normalized(&cfg, dir2);
	want = drop_not_loaded(printed);
	assert_string_equal(again, want);
	free(again);
	free(want);
	config_free(&cfg);
}

static void test_print_examples(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};
	char *printed;

	(void)state;
	assert_int_equal(config_load(&cfg, install_examples(0600), &diag), 0);
	printed = print_normalized(&cfg, tmp);
	compare_golden(printed, "golden/examples.out");
	check_round_trip(printed, "conf.d");
	free(printed);
	config_free(&cfg);
}

static void test_print_full(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};
	char *printed;

	(void)state;
	assert_int_equal(config_load(&cfg, install_full(), &diag), 0);
	config_diag_free(&diag);
	printed = print_normalized(&cfg, tmp);
	compare_golden(printed, "golden/full.out");
	check_round_trip(printed, "tunnels.d");
	free(printed);
	config_free(&cfg);
}

/* Issue 23: [update] and ipv4_local = auto, and what they refuse. */
static void test_update_refused(void **state)
{
	(void)state;
	TUNNEL_CASE("update_bad.conf",
	            "@F@:12: url: 'http://ipv4.tunnelbroker.net/nic/update' is not "
	            "https://host[:port]/path (no blanks, no user or query part)",
	            "@F@:13: hostname: '12 34' may only contain letters, digits, '.', '_' and '-'",
	            "@F@:11: [update] is missing required key 'username' (the broker's update "
	            "needs it)",
	            "@F@:11: [update] is missing required key 'key' (the broker's update needs it)",
	            "@F@:11: [update] needs tic = no: it is for 6in4 brokers without TIC, whose "
	            "parameters are given in [params]");
	TUNNEL_CASE("update_ayiya_auto.conf",
	            "@F@:7: ipv4_local = auto is for 6in4-static and 6in4-heartbeat tunnels; AYIYA "
	            "finds its way through NAT itself");
}

static const char *const update_files[] = {"he0.conf", "he1.conf", "hb0.conf"};

static const char *install_update(mode_t mode)
{
	copy_in(fixture("update/aiccud.conf"), "aiccud.conf", 0600);
	install_dir("update/tunnels.d", "tunnels.d", update_files,
	            sizeof(update_files) / sizeof(update_files[0]));
	for (size_t i = 0; i < sizeof(update_files) / sizeof(update_files[0]); i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "tunnels.d/%s", update_files[i]);
		assert_int_equal(chmod(in_tmp(path), mode), 0);
	}
	return in_tmp("aiccud.conf");
}

static void test_update_loaded(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};
	const struct tunnel_conf *t;
	char *printed;

	(void)state;
	assert_int_equal(config_load(&cfg, install_update(0600), &diag), 0);
	expect_diag_v(&diag, NULL, NULL, 0);
	t = &config_find(&cfg, "he0")->conf;
	assert_true(t->ipv4_auto);
	assert_true(t->has_update);
	assert_int_equal(t->params.ipv4_local.s_addr, 0);
	assert_string_equal(t->update.url, "https://ipv4.tunnelbroker.net/nic/update");
	assert_string_equal(t->update.username, "example-user");
	assert_string_equal(t->update.key, "the-update-key");
	assert_string_equal(t->update.hostname, "123456");
	assert_string_equal(t->update.ca_file, "");
	t = &config_find(&cfg, "he1")->conf;
	assert_false(t->ipv4_auto);
	assert_string_equal(t->update.ca_file, "/etc/aiccud/update-ca.pem");
	t = &config_find(&cfg, "hb0")->conf;
	assert_true(t->ipv4_auto);
	assert_false(t->has_update);
	printed = print_normalized(&cfg, tmp);
	compare_golden(printed, "golden/update.out");
	check_round_trip(printed, "tunnels.d");
	free(printed);
	config_free(&cfg);
}

/* The Update Key is a secret like a password: refused when others can read it. */
static void test_update_key_readable(void **state)
{
	struct config cfg;
	struct config_diag diag = {0};

	(void)state;
	assert_int_equal(config_load(&cfg, install_update(0644), &diag), 0);
	assert_false(config_find(&cfg, "he0")->valid);
	assert_non_null(strstr(config_find(&cfg, "he0")->error,
	                       "holds a password but is readable by group/others (mode 0644)"));
	/* no secret in it: loads */
	assert_true(config_find(&cfg, "hb0")->valid == false); /* its password */
	config_diag_free(&diag);
	config_free(&cfg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/*
 * Issue 14: heartbeats say "sender" unless heartbeat_ipv4 = local; the
 * AICCU-era behind_nat is accepted, has no effect and is not printed.
 */
static void test_heartbeat_ipv4(void **state)
{
	struct tunnel_entry te;
	char *text = NULL;
	size_t len = 0;
	struct config cfg = {0};
	FILE *f;

	(void)state;
	assert_int_equal(load_with("table = 200\nbehind_nat = no", &te), 0);
	assert_int_equal(te.conf.heartbeat_ipv4, HEARTBEAT_IPV4_SENDER);
	assert_int_equal(load_with("table = 200\nbehind_nat = yes", &te), 0);
	assert_int_equal(te.conf.heartbeat_ipv4, HEARTBEAT_IPV4_SENDER);
	assert_int_equal(load_with("table = 200\nbehind_nat = no\nheartbeat_ipv4 = local", &te), 0);
	assert_int_equal(te.conf.heartbeat_ipv4, HEARTBEAT_IPV4_LOCAL);
	/* printed normalized, it parses back the same */
	cfg.tunnels = &te;
	cfg.ntunnels = 1;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(config_print(&cfg, f), 0);
	fclose(f);
	assert_non_null(strstr(text, "\nheartbeat_ipv4 = local\n"));
	assert_null(strstr(text, "behind_nat"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_examples_load),
	    T(test_examples_refused_when_readable),
	    T(test_unknown_key),
	    T(test_unknown_section),
	    T(test_key_outside_section),
	    T(test_bad_bool),
	    T(test_bad_int),
	    T(test_out_of_range),
	    T(test_bad_address),
	    T(test_missing_required),
	    T(test_params_with_tic),
	    T(test_anycast),
	    T(test_other_prefix),
	    T(test_static_needs_ipv4_local),
	    T(test_heartbeat_ipv4),
	    T(test_all_errors_in_one_run),
	    T(test_tunnel_password_readable),
	    T(test_untrusted_tunnel_file),
	    T(test_untrusted_main_and_conf_dir),
	    T(test_unreadable_tunnel_file),
	    T(test_syntax_variants),
	    T(test_ifname_hash),
	    T(test_value_boundaries),
	    T(test_server_forms),
	    T(test_prefix_rules),
	    T(test_params_policy),
	    T(test_conf_dir_is_main_dir),
	    T(test_limiter_arithmetic),
	    T(test_main_errors),
	    T(test_main_password_readable),
	    T(test_main_missing),
	    T(test_duplicates),
	    T(test_prefix_overlap),
	    T(test_routes),
	    T(test_bad_file_does_not_stop_others),
	    T(test_many_tunnel_files),
	    T(test_account_inherited),
	    T(test_print_examples),
	    T(test_print_full),
	    T(test_update_refused),
	    T(test_update_loaded),
	    T(test_update_key_readable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
