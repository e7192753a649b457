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
	assert_int_equal(te.conf.table, AICCU_IMPORT_TABLE);
	assert_int_equal(te.conf.rule_priority, AICCU_IMPORT_PRIORITY);
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
	assert_note_at(&r, "automatic", "full.conf", line_of(src, "automatic"));
	assert_note_at(&r, "pidfile", "full.conf", line_of(src, "pidfile"));
	assert_note_at(&r, "defaultroute", "full.conf", line_of(src, "defaultroute"));
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
	/* defaultroute false is what aiccud does anyway. */
	assert_null(note_on(&r, "defaultroute"));
	config_diag_free(&diag);
	aiccu_import_free(&r);
	free(src);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(full_file),         cmocka_unit_test(options_override),
	    cmocka_unit_test(minimal_file),      cmocka_unit_test(behindnat_false_sends_sender),
	    cmocka_unit_test(missing_tunnel_id), cmocka_unit_test(other_protocol),
	    cmocka_unit_test(odd_values),        cmocka_unit_test(empty_and_binary_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
