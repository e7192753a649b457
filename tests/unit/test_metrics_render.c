/*
 * aiccuctl metrics' renderer (supervisor/ctl/metrics.c): a fixed status
 * reply in, the exact exposition text out (tests/data/metrics), label
 * values with quotes, backslashes and newlines escaped, the naming rules
 * of the text format checked line by line, and aiccud down.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static char *render(json_t *status)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	metrics_render(status, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static char *data_path(const char *name)
{
	const char *dir = getenv("AICCUD_TEST_DATA");
	char *p = NULL;

	assert_non_null(dir);
	assert_true(asprintf(&p, "%s/metrics/%s", dir, name) > 0);
	return p;
}

static json_t *load_status(void)
{
	char *p = data_path("status.json");
	json_error_t err;
	json_t *j = json_load_file(p, 0, &err);

	if (!j)
		fail_msg("%s:%d: %s", p, err.line, err.text);
	free(p);
	return j;
}

static char *slurp(const char *name)
{
	char *p = data_path(name), *buf;
	FILE *f = fopen(p, "r");
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	free(p);
	return buf;
}

/* The whole output, byte for byte (a change of a name or a HELP text shows here). */
static void test_golden(void **state)
{
	json_t *j = load_status();
	char *out = render(j), *want = slurp("status.prom");

	(void)state;
	assert_string_equal(out, want);
	free(out);
	free(want);
	json_decref(j);
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* The lines that matter, stated here independently of the golden file. */
static void test_values_and_escaping(void **state)
{
	json_t *j = load_status();
	char *out = render(j);

	(void)state;
	assert_true(has_line(out, "aiccud_daemon_up 1"));
	assert_true(has_line(out, "aiccud_tunnel_up{tunnel=\"sixxs0\"} 1"));
	assert_true(has_line(out, "aiccud_tunnel_state{tunnel=\"sixxs0\",state=\"up\"} 1"));
	assert_true(has_line(out, "aiccud_tunnel_state{tunnel=\"sixxs0\",state=\"failed\"} 0"));
	assert_true(has_line(out, "aiccud_tunnel_receive_bytes_total{tunnel=\"sixxs0\"} 936"));
	assert_true(has_line(out, "aiccud_tunnel_transmit_packets_total{tunnel=\"sixxs0\"} 10"));
	assert_true(
	    has_line(out, "aiccud_tunnel_drops_total{tunnel=\"sixxs0\",reason=\"signature\"} 2"));
	assert_true(
	    has_line(out, "aiccud_tunnel_last_receive_time_seconds{tunnel=\"sixxs0\"} 1765000190"));
	assert_true(has_line(out, "aiccud_tic_connections_total 17"));
	assert_true(has_line(out, "aiccud_tic_limiter_next_grant_seconds 12.500"));
	assert_true(has_line(
	    out, "aiccud_update_requests_total{url=\"https://upd.example/nic/update\"} 2"));
	assert_true(has_line(out, "aiccud_tunnel_update_last_result{tunnel=\"sixxs0\","
	                          "answer=\"good\",address=\"192.0.2.7\"} 1"));
	/* we"ird\one: quote and backslash escaped; id "T9<newline>x" as \n */
	assert_true(has_line(out, "aiccud_tunnel_up{tunnel=\"we\\\"ird\\\\one\"} 0"));
	assert_true(has_line(out, "aiccud_tunnel_info{tunnel=\"we\\\"ird\\\\one\",id=\"T9\\nx\","
	                          "type=\"6in4-static\",datapath=\"kernel\"} 1"));
	assert_true(has_line(out, "aiccud_tunnel_update_last_result{tunnel=\"we\\\"ird\\\\one\","
	                          "answer=\"bad\\\"auth\\\\\\n\",address=\"-\"} 1"));
	/* a state this aiccuctl does not know is still shown, as the current one */
	assert_true(
	    has_line(out, "aiccud_tunnel_state{tunnel=\"we\\\"ird\\\\one\",state=\"sulking\"} 1"));
	/* no counters reported: no sample, not an invented 0 */
	assert_null(strstr(out, "aiccud_tunnel_receive_bytes_total{tunnel=\"we"));
	free(out);
	json_decref(j);
}

/*
 * The text format's rules as promtool checks them, for every line: HELP
 * then TYPE before a family's first sample, each family once, counters
 * named _total, every name with the aiccud_ prefix, no raw newline or
 * unescaped quote inside a label value.
 */
static void check_format(const char *text)
{
	char fam[128] = "", type[16] = "", seen[4096] = " ";
	const char *p = text;
	bool help = false;

	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[1024], name[128];
		size_t n;

		assert_non_null(nl);
		n = (size_t)(nl - p);
		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (sscanf(line, "# HELP %127s", name) == 1) {
			char key[140];

			snprintf(key, sizeof(key), " %s ", name);
			assert_null(strstr(seen, key)); /* each family once */
			strcat(seen, key + 1);
			snprintf(fam, sizeof(fam), "%s", name);
			help = true;
			type[0] = '\0';
			continue;
		}
		if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			assert_true(help);
			assert_string_equal(name, fam);
			assert_true(!strcmp(type, "gauge") || !strcmp(type, "counter"));
			if (!strcmp(type, "counter"))
				assert_string_equal(fam + strlen(fam) - 6, "_total");
			else
				assert_null(strstr(fam, "_total"));
			continue;
		}
		assert_true(line[0] != '#');
		assert_true(type[0]);
		assert_int_equal(strncmp(line, "aiccud_", 7), 0);
		assert_int_equal(strncmp(line, fam, strlen(fam)), 0);
		assert_true(line[strlen(fam)] == '{' || line[strlen(fam)] == ' ');
		/* labels: inside quotes only \\, \" and \n escapes */
		if (line[strlen(fam)] == '{') {
			bool in = false;

			for (const char *c = line + strlen(fam); *c && *c != ' '; c++) {
				if (*c == '"')
					in = !in;
				else if (in && *c == '\\') {
					assert_non_null(strchr("\\\"n", c[1]));
					c++;
				}
			}
			assert_false(in);
		}
	}
}

static void test_format_rules(void **state)
{
	json_t *j = load_status();
	char *out = render(j);

	(void)state;
	check_format(out);
	free(out);
	json_decref(j);
}

/* aiccud down: only the fact that it is, so a stale file cannot say "up". */
static void test_daemon_down(void **state)
{
	char *out = render(NULL);

	(void)state;
	assert_string_equal(out,
	                    "# HELP aiccud_daemon_up Whether aiccud answered on its control socket "
	                    "(1) or not (0).\n# TYPE aiccud_daemon_up gauge\naiccud_daemon_up 0\n");
	check_format(out);
	free(out);
}

/* No tunnels: the daemon and limiter families only, no empty headers. */
static void test_no_tunnels(void **state)
{
	json_t *j =
	    json_pack("{s:b, s:{s:s, s:i}, s:[], s:{s:i, s:i}}", "ok", 1, "daemon", "aiccud", "9",
	              "started", 5, "tunnels", "limiter", "tokens", 3, "grants", 0);
	char *out = render(j);

	(void)state;
	assert_true(has_line(out, "aiccud_tunnels 0"));
	assert_true(has_line(out, "aiccud_tic_limiter_tokens 3"));
	assert_null(strstr(out, "aiccud_tunnel_"));
	assert_null(strstr(out, "aiccud_update_"));
	check_format(out);
	free(out);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),       cmocka_unit_test(test_values_and_escaping),
	    cmocka_unit_test(test_format_rules), cmocka_unit_test(test_daemon_down),
	    cmocka_unit_test(test_no_tunnels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
