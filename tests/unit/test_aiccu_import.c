/*
 * import-aiccu: AICCU sample files in tests/data/aiccu/ converted, and the
 * resulting tunnel files loaded by aiccud's own parser (config_load_tunnel)
 * to check what was carried over; the notes checked for what was not.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "aiccu_import.h"
#include "config.h"

static char *slurp(const char *name, size_t *len)
{
	const char *dir = getenv("AICCUD_TEST_DATA");
	char path[512];
	FILE *f;
	char *buf = calloc(1, 65536);

	if (!dir)
		fail_msg("AICCUD_TEST_DATA is not set (run the test through ctest)");
	snprintf(path, sizeof(path), "%s/aiccu/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

/* The 1-based line of the fixture where text first occurs at a line start. */
static int line_of(const char *buf, const char *text)
{
	int line = 1;

	for (const char *p = buf; *p; p++) {
		if ((p == buf || p[-1] == '\n') && strncmp(p, text, strlen(text)) == 0)
			return line;
		if (*p == '\n')
			line++;
	}
	fail_msg("'%s' not in the fixture", text);
	return 0;
}

static void convert(const char *name, const struct aiccu_import_opts *given, struct aiccu_import *r,
                    char **src)
{
	struct aiccu_import_opts o = {.source = name};
	size_t len;

	if (given)
		o = *given;
	*src = slurp(name, &len);
	assert_int_equal(aiccu_import(*src, len, &o, r), 0);
	for (size_t i = 0; i < r->nnotes; i++)
		assert_int_equal(strncmp(r->notes[i], o.source, strlen(o.source)), 0);
}

/* Load the converted text with aiccud's parser; 0 or -1 like config_load_tunnel. */
static int load(const char *text, struct tunnel_entry *te, struct config_diag *diag)
{
	char dir[] = "/tmp/test_aiccu_import.XXXXXX", path[64];
	FILE *f;
	int rc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	memset(te, 0, sizeof(*te));
	rc = config_load_tunnel(path, te, diag);
	unlink(path);
	rmdir(dir);
	return rc;
}

/* The note about key (text after "file:line: "), or NULL. */
static const char *note_on(const struct aiccu_import *r, const char *key)
{
	for (size_t i = 0; i < r->nnotes; i++) {
		const char *p = strstr(r->notes[i], ": ");

		while (p && strncmp(p + 2, key, strlen(key)) != 0)
			p = strstr(p + 1, ": ");
		if (p)
			return r->notes[i];
	}
	return NULL;
}

static void assert_note_at(const struct aiccu_import *r, const char *key, const char *file,
                           int line)
{
	const char *n = note_on(r, key);
	char want[128];

	if (!n)
		fail_msg("no note about %s", key);
	snprintf(want, sizeof(want), "%s:%d: ", file, line);
	if (strncmp(n, want, strlen(want)) != 0)
		fail_msg("note '%s' does not start with '%s'", n, want);
}

static void full_file(void **state)
{
	struct aiccu_import r;
	struct tunnel_entry te;
	struct config_diag diag = {0};
	char *src;

	(void)state;
	convert("full.conf", NULL, &r, &src);
	assert_true(r.complete);
	assert_non_null(r.text);
	assert_int_equal(load(r.text, &te, &diag), 0);
	assert_true(te.valid);
	assert_int_equal(diag.count, 0);
	assert_string_equal(te.conf.name, "sixxs");
	assert_string_equal(te.conf.id, "T12345");
	assert_true(te.conf.tic);
	/* No table, no priority: aiccud picks the table, the priority is its default. */
	assert_int_equal(te.conf.table, 0);
	assert_null(strstr(r.text, "\ntable ="));
	assert_null(strstr(r.text, "\nrule_priority ="));
	assert_int_equal(te.conf.rule_priority, 1000);
	/* defaultroute true: the main table's default route, at the kernel's metric. */
	assert_true(te.conf.default_route);
	assert_int_equal(te.conf.default_route_metric, 0);
	/* behindnat true: "sender", as AICCU sent it, and nothing to note */
	assert_int_equal(te.conf.heartbeat_ipv4, HEARTBEAT_IPV4_SENDER);
	assert_null(note_on(&r, "behindnat"));
	assert_string_equal(te.conf.setup_script, "/usr/local/etc/aiccu-subnets.sh");
	assert_string_equal(te.conf.account.server, "tic.example.net");
	assert_string_equal(te.conf.account.username, "EXMP1-SIXXS");
	assert_string_equal(te.conf.account.password, "s3cret pass");
	assert_true(te.conf.account.require_tls);
	/* Not carried over, each noted at its line. */
	assert_note_at(&r, "ipv4_interface", "full.conf", line_of(src, "ipv4_interface"));
	assert_note_at(&r, "verbose", "full.conf", line_of(src, "verbose"));
	assert_note_at(&r, "daemonize", "full.conf", line_of(src, "daemonize"));
	/* automatic true: aiccud's default, nothing to say. */
	assert_true(te.conf.autostart);
	assert_null(note_on(&r, "automatic"));
	assert_null(strstr(r.text, "autostart"));
	/* A host name with a dot: nothing about certificates either. */
	assert_null(note_on(&r, "server"));
	assert_null(strstr(r.text, "CERTIFICATE"));
	assert_note_at(&r, "pidfile", "full.conf", line_of(src, "pidfile"));
	assert_note_at(&r, "defaultroute true: carried over as default_route = yes", "full.conf",
	               line_of(src, "defaultroute"));
	assert_note_at(&r, "local_ipv4_override", "full.conf", line_of(src, "local_ipv4_override"));
	assert_note_at(&r, "setupscript", "full.conf", line_of(src, "setupscript"));
	assert_non_null(strstr(note_on(&r, "setupscript"), "AICCUD_EVENT"));
	/* Values AICCU and aiccud agree on need no note. */
	assert_null(note_on(&r, "makebeats"));
	assert_null(note_on(&r, "noconfigure"));
	assert_null(note_on(&r, "requiretls"));
	/* The notes are in the file as comments too, the password nowhere else. */
	assert_non_null(strstr(r.text, "#   full.conf:"));
	for (size_t i = 0; i < r.nnotes; i++)
		assert_null(strstr(r.notes[i], "s3cret"));
	config_diag_free(&diag);
	aiccu_import_free(&r);
	free(src);
}

static void options_override(void **state)
{
	struct aiccu_import_opts o = {
	    .source = "full.conf", .interface = "tun6", .table = 4242, .rule_priority = 1234};
	struct aiccu_import r;
	struct tunnel_entry te;
	struct config_diag diag = {0};
	char *src;

	(void)state;
	convert("full.conf", &o, &r, &src);
	assert_int_equal(load(r.text, &te, &diag), 0);
	assert_string_equal(te.conf.name, "tun6");
	assert_int_equal(te.conf.table, 4242);
	assert_int_equal(te.conf.rule_priority, 1234);
	config_diag_free(&diag);
	aiccu_import_free(&r);
	free(src);
}

/*
 * Issue 14: AICCU's "behindnat false" must not become our own (private)
 * IPv4 in the heartbeat, or the PoP drops the tunnel behind a NAT.
 */
static void behindnat_false_sends_sender(void **state)
{
	struct aiccu_import r;
	struct tunnel_entry te;
	struct config_diag diag = {0};
	const char *n;
	char *src;

	(void)state;
	convert("behindnat_false.conf", NULL, &r, &src);
	assert_true(r.complete);
	assert_int_equal(load(r.text, &te, &diag), 0);
	assert_true(te.valid);
	assert_int_equal(diag.count, 0);
	assert_int_equal(te.conf.heartbeat_ipv4, HEARTBEAT_IPV4_SENDER);
	assert_non_null(strstr(r.text, "\nheartbeat_ipv4 = sender\n"));
	assert_null(strstr(r.text, "behind_nat"));
	n = note_on(&r, "behindnat");
	assert_non_null(n);
	assert_note_at(&r, "behindnat", "behindnat_false.conf", line_of(src, "behindnat"));
	assert_non_null(strstr(n, "sender"));
	assert_non_null(strstr(n, "heartbeat_ipv4 = local"));
	config_diag_free(&diag);
	aiccu_import_free(&r);
	free(src);
}

static void minimal_file(void **state)
{
	struct aiccu_import r;
	struct tunnel_entry te, dflt;
	struct config_diag diag = {0};
	char *src;

	(void)state;
	convert("minimal.conf", NULL, &r, &src);
	assert_true(r.complete);
	assert_int_equal(load(r.text, &te, &diag), 0);
	assert_string_equal(te.conf.name, "gif0x");
	assert_string_equal(te.conf.id, "T777");
	assert_int_equal(te.conf.heartbeat_ipv4, HEARTBEAT_IPV4_SENDER);
	assert_string_equal(te.conf.setup_script, "");
	/* No server line: aiccud's default server, the same a bare tunnel file gets. */
	assert_int_equal(load("[tunnel]\ninterface = x\nid = T1\ntable = 9\n[tic]\n"
	                      "username = u\npassword = p\n",
	                      &dflt, &diag),
	                 0);
	assert_string_equal(te.conf.account.server, dflt.conf.account.server);
	/* AICCU did not require TLS by default; the import does, and says so. */
	assert_true(te.conf.account.require_tls);
	assert_non_null(note_on(&r, "requiretls not given"));
	/* defaultroute false: no default route, nothing to say. */
	assert_false(te.conf.default_route);
	assert_null(note_on(&r, "defaultroute"));
	config_diag_free(&diag);
	aiccu_import_free(&r);
	free(src);
}

/*
 * Issue 22: a server given as an IP address gets a note (stderr and the
 * file) that certificate verification will fail and what to set;
 * "automatic false" becomes autostart = no.
 */
static void ip_server_and_manual_start(void **state)
{
	struct aiccu_import r;
	struct tunnel_entry te;
	struct config_diag diag = {0};
	const char *n;
	char *src;

	(void)state;
	convert("ip_server.conf", NULL, &r, &src);
	assert_true(r.complete);
	assert_int_equal(load(r.text, &te, &diag), 0);
	assert_true(te.valid);
	assert_string_equal(te.conf.account.server, "192.0.2.10");
	assert_note_at(&r, "server 192.0.2.10 is an IP address", "ip_server.conf",
	               line_of(src, "server"));
	n = note_on(&r, "server");
	assert_non_null(strstr(n, "ca_file"));
	assert_non_null(strstr(n, "will fail"));
	/* The file says so right above the server line, with a ca_file to fill in. */
	assert_non_null(strstr(r.text, "# CERTIFICATE VERIFICATION WILL FAIL"));
	assert_non_null(
	    strstr(r.text, "# ca_file = /etc/aiccud/tic-ca.pem\nserver = 192.0.2.10\n"));
	/* automatic false: loaded, not started by the daemon. */
	assert_false(te.conf.autostart);
	assert_non_null(strstr(r.text, "\nautostart = no\n"));
	assert_note_at(&r, "automatic false", "ip_server.conf", line_of(src, "automatic"));
	assert_non_null(strstr(note_on(&r, "automatic"), "aiccuctl start sixxs"));
	config_diag_free(&diag);
	aiccu_import_free(&r);
	free(src);
}

/* Addresses with a port, IPv6 literals and single labels: each noted; full names not. */
static void server_names(void **state)
{
	static const struct {
		const char *server;
		bool noted;
	} cases[] = {
	    {"192.0.2.10:3874", true},
	    {"[2001:db8::10]:3874", true},
	    {"2001:db8::10", true},
	    {"tic", true},
	    {"tic:3874", true},
	    {"tic.example.net", false},
	    {"tic.example.net:3874", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aiccu_import_opts o = {.source = "s.conf"};
		struct aiccu_import r;
		char text[256];

		snprintf(text, sizeof(text),
		         "username U\npassword P\ntunnel_id T1\nserver %s\ndefaultroute false\n",
		         cases[i].server);
		assert_int_equal(aiccu_import(text, strlen(text), &o, &r), 0);
		if ((note_on(&r, "server") != NULL) != cases[i].noted)
			fail_msg("server %s: noted %d, want %d", cases[i].server, !cases[i].noted,
			         cases[i].noted);
		assert_int_equal(strstr(r.text, "CERTIFICATE VERIFICATION") != NULL,
		                 cases[i].noted);
		aiccu_import_free(&r);
	}
}

static void missing_tunnel_id(void **state)
{
	struct aiccu_import r;
	struct tunnel_entry te;
	struct config_diag diag = {0};
	char *src;

	(void)state;
	convert("no_tunnel_id.conf", NULL, &r, &src);
	assert_false(r.complete);
	assert_non_null(r.text);
	assert_non_null(note_on(&r, "tunnel_id missing"));
	assert_non_null(note_on(&r, "ipv6_interface not given"));
	/* AICCU's default for a missing defaultroute line is true. */
	assert_non_null(note_on(&r, "defaultroute not given (AICCU's default: true)"));
	assert_non_null(strstr(r.text, "\ndefault_route = yes\n"));
	/* As written, aiccud refuses it for that very reason. */
	assert_int_equal(load(r.text, &te, &diag), -1);
	assert_false(te.valid);
	assert_non_null(strstr(te.error, "id"));
	config_diag_free(&diag);
	aiccu_import_free(&r);
	free(src);
}

static void other_protocol(void **state)
{
	struct aiccu_import r;
	char *src;

	(void)state;
	convert("tsp.conf", NULL, &r, &src);
	assert_false(r.complete);
	assert_null(r.text);
	assert_note_at(&r, "protocol tsp", "tsp.conf", line_of(src, "protocol"));
	aiccu_import_free(&r);
	free(src);
}

static void odd_values(void **state)
{
	struct aiccu_import r;
	struct tunnel_entry te;
	struct config_diag diag = {0};
	char *src;

	(void)state;
	convert("odd.conf", NULL, &r, &src);
	/* "abc ;def" would be cut at " ;" by inih: left out, file incomplete. */
	assert_false(r.complete);
	assert_null(strstr(r.text, "abc ;def"));
	assert_non_null(note_on(&r, "password: the value cannot be written"));
	assert_note_at(&r, "tunnel_id given again", "odd.conf", line_of(src, "tunnel_id T43"));
	assert_non_null(strstr(r.text, "id = T43\n"));
	assert_non_null(note_on(&r, "interface 'this-name-is-far-too-long'"));
	assert_non_null(strstr(r.text, "interface = aiccu\n"));
	assert_non_null(note_on(&r, "requiretls 'maybe'"));
	assert_note_at(&r, "makebeats false", "odd.conf", line_of(src, "makebeats"));
	assert_note_at(&r, "noconfigure true", "odd.conf", line_of(src, "noconfigure"));
	assert_non_null(note_on(&r, "setupscript 'relative/script.sh'"));
	assert_note_at(&r, "unknown AICCU key 'frobnicate'", "odd.conf",
	               line_of(src, "frobnicate"));
	/* Everything else loads: only the password is missing. */
	assert_int_equal(load(r.text, &te, &diag), -1);
	assert_string_equal(te.conf.account.username, "ODD1-SIXXS");
	assert_non_null(strstr(te.error, "password"));
	config_diag_free(&diag);
	aiccu_import_free(&r);
	free(src);
}

static void empty_and_binary_input(void **state)
{
	struct aiccu_import_opts o = {.source = "x"};
	struct aiccu_import r;
	const char bin[] = "username a\0b\npassword p\ntunnel_id T1\n";

	(void)state;
	assert_int_equal(aiccu_import("", 0, &o, &r), 0);
	assert_false(r.complete);
	aiccu_import_free(&r);
	assert_int_equal(aiccu_import(bin, sizeof(bin) - 1, &o, &r), 0);
	assert_non_null(note_on(&r, "NUL byte"));
	assert_non_null(note_on(&r, "username missing"));
	aiccu_import_free(&r);
}

/* The converted files of a set, written into one conf.d; 0 when all load together. */
static int load_set(const struct aiccu_import *r, size_t n, struct config *cfg,
                    struct config_diag *diag)
{
	char dir[] = "/tmp/test_aiccu_import.XXXXXX", path[256];
	FILE *f;
	int rc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/conf.d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/conf.d/%s.conf", dir, r[i].interface);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(r[i].text, f);
		fclose(f);
		assert_int_equal(chmod(path, 0600), 0);
	}
	snprintf(path, sizeof(path), "%s/aiccud.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[daemon]\nstate_dir = %s/state\ncontrol_socket = %s/s\n", dir, dir);
	fclose(f);
	rc = config_load(cfg, path, diag);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/conf.d/%s.conf", dir, r[i].interface);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/conf.d", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/aiccud.conf", dir);
	unlink(path);
	rmdir(dir);
	return rc;
}

static void convert_set(const char *const *names, size_t n, struct aiccu_import *r, char **srcs)
{
	struct aiccu_import_in in[4];
	struct aiccu_import_opts o = {0};

	for (size_t i = 0; i < n; i++) {
		srcs[i] = slurp(names[i], &in[i].len);
		in[i].source = names[i];
		in[i].text = srcs[i];
	}
	assert_int_equal(aiccu_import_many(in, n, &o, r), 0);
}

static const struct tunnel_entry *by_name(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ntunnels; i++)
		if (strcmp(cfg->tunnels[i].conf.name, name) == 0)
			return &cfg->tunnels[i];
	fail_msg("no tunnel %s", name);
	return NULL;
}

/* Two AICCU instances of one host (two tunnels, no default route), then a
 * third whose tunnel is the default route: the results load together. */
static void two_tunnel_host(void **state)
{
	static const char *const names[] = {"host_a.conf", "host_b.conf", "host_dr.conf"};
	struct aiccu_import r[3];
	struct config cfg;
	struct config_diag diag = {0};
	char *srcs[3];

	(void)state;
	for (size_t n = 2; n <= 3; n++) {
		convert_set(names, n, r, srcs);
		for (size_t i = 0; i < n; i++)
			assert_true(r[i].complete);
		assert_int_equal(load_set(r, n, &cfg, &diag), 0);
		for (size_t i = 0; i < diag.count; i++)
			fprintf(stderr, "%s\n", diag.msgs[i]);
		assert_int_equal(diag.count, 0);
		assert_int_equal(cfg.ntunnels, n);
		for (size_t i = 0; i < n; i++)
			assert_true(cfg.tunnels[i].valid);
		assert_string_equal(by_name(&cfg, "sixxs-a")->conf.id, "T20001");
		assert_string_equal(by_name(&cfg, "sixxs-b")->conf.id, "T20002");
		/* As in AICCU: the first two add no default route. */
		assert_false(by_name(&cfg, "sixxs-a")->conf.default_route);
		assert_false(by_name(&cfg, "sixxs-b")->conf.default_route);
		assert_int_equal(by_name(&cfg, "sixxs-a")->conf.table, 0);
		assert_int_equal(by_name(&cfg, "sixxs-b")->conf.table, 0);
		if (n == 3) {
			assert_true(by_name(&cfg, "sixxs-c")->conf.default_route);
			assert_string_equal(by_name(&cfg, "sixxs-c")->conf.id, "T20003");
		}
		config_free(&cfg);
		config_diag_free(&diag);
		for (size_t i = 0; i < n; i++) {
			aiccu_import_free(&r[i]);
			free(srcs[i]);
		}
	}
}

/* The same AICCU file twice (a copied file, both with AICCU's default
 * route and interface): the names and metrics are made distinct, the
 * TunnelId cannot be and is reported. */
static void set_conflicts(void **state)
{
	static const char *const names[] = {"host_dr.conf", "full.conf", "no_tunnel_id.conf",
	                                    "no_tunnel_id.conf"};
	struct aiccu_import r[4];
	char *srcs[4];

	(void)state;
	convert_set(names, 4, r, srcs);
	assert_true(r[0].complete);
	assert_true(r[0].default_route);
	assert_null(strstr(r[0].text, "default_route_metric"));
	/* full.conf: also the default route: the next metric. */
	assert_true(r[1].default_route);
	assert_non_null(strstr(r[1].text, "\ndefault_route_metric = 1025\n"));
	assert_non_null(note_on(&r[1], "default_route_metric = 1025"));
	/* The copies: "aiccu" twice, the second renamed. */
	assert_string_equal(r[2].interface, "aiccu");
	assert_string_equal(r[3].interface, "aiccu1");
	assert_non_null(note_on(&r[3], "interface 'aiccu' is no_tunnel_id.conf's too"));
	assert_non_null(strstr(r[3].text, "\ndefault_route_metric = 1027\n"));
	for (size_t i = 0; i < 4; i++) {
		aiccu_import_free(&r[i]);
		free(srcs[i]);
	}
	/* A TunnelId in two files. */
	{
		static const char *const same[] = {"host_a.conf", "host_a.conf"};
		struct aiccu_import s[2];

		convert_set(same, 2, s, srcs);
		assert_true(s[0].complete);
		assert_false(s[1].complete);
		assert_non_null(note_on(&s[1], "tunnel_id T20001 is host_a.conf's too"));
		assert_string_equal(s[1].interface, "sixxs-a1");
		for (size_t i = 0; i < 2; i++) {
			aiccu_import_free(&s[i]);
			free(srcs[i]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(two_tunnel_host),
	    cmocka_unit_test(set_conflicts),
	    cmocka_unit_test(full_file),
	    cmocka_unit_test(options_override),
	    cmocka_unit_test(minimal_file),
	    cmocka_unit_test(behindnat_false_sends_sender),
	    cmocka_unit_test(missing_tunnel_id),
	    cmocka_unit_test(other_protocol),
	    cmocka_unit_test(ip_server_and_manual_start),
	    cmocka_unit_test(server_names),
	    cmocka_unit_test(odd_values),
	    cmocka_unit_test(empty_and_binary_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
