/*
 * aiccud: supervisor of SixXS-style IPv6 tunnels.
 *
 *   aiccud [-d] [-v] [-n] [-f aiccud.conf]
 *   aiccud --help | --version
 *
 * -d stays in the foreground and logs to stderr; -n checks the
 * configuration (aiccud.conf and every tunnel file), prints every problem
 * as file:line: message on stderr, a summary on stdout, and exits.
 * "-W NAME" is internal: the parent execs itself that way for each
 * worker.  The TIC fetcher is a program of its own (aiccud-tic), so that
 * neither the parent nor a worker maps TLS.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "tables.h"
#include "parent.h"
#include "worker.h"

#ifndef AICCUD_VERSION
#define AICCUD_VERSION "unknown"
#endif

static void usage(FILE *f, int code)
{
	fprintf(f,
	        "usage: aiccud [-dnv] [-f aiccud.conf]\n"
	        "       aiccud --help | --version\n\n"
	        "  -d  stay in the foreground, log to stderr\n"
	        "  -f  the configuration file (default %s)\n"
	        "  -n  check the configuration: every problem as file:line: message, then "
	        "exit\n"
	        "  -v  more log (repeat for debug); with -n, print the configuration "
	        "normalized\n",
	        CONFIG_DEFAULT_FILE);
	exit(code);
}

/* Every message as file:line: message, on stderr; returns whether a tunnel file is unusable. */
static int report_config(const struct config *cfg, const struct config_diag *diag, bool check)
{
	size_t bad = 0;

	for (size_t i = 0; i < diag->count; i++) {
		if (check)
			fprintf(stderr, "%s\n", diag->msgs[i]);
		else
			log_warnx("%s", diag->msgs[i]);
	}
	for (size_t i = 0; i < cfg->ntunnels; i++)
		if (!cfg->tunnels[i].valid)
			bad++;
	if (!check)
		log_info("%s: %zu tunnel(s), %zu unusable", cfg->file, cfg->ntunnels, bad);
	return bad ? 1 : 0;
}

/* -n's last line, on stdout: which file has errors, never blaming aiccud.conf for a tunnel's. */
static void check_summary(const struct config *cfg, const char *file, bool main_ok)
{
	size_t bad = 0;

	for (size_t i = 0; i < cfg->ntunnels; i++)
		bad += !cfg->tunnels[i].valid;
	if (!main_ok) {
		printf("%s: has errors: aiccud would not start\n", file);
		return;
	}
	if (!bad) {
		printf("%s: OK, %zu tunnel file(s) OK\n", file, cfg->ntunnels);
		return;
	}
	printf("%s: OK; %zu of %zu tunnel file(s) have errors (those tunnels would not start):",
	       file, bad, cfg->ntunnels);
	for (size_t i = 0; i < cfg->ntunnels; i++)
		if (!cfg->tunnels[i].valid)
			printf(" %s", cfg->tunnels[i].conf.file);
	printf("\n");
}

/* -n: check, print, exit (0: everything usable, 1: some file has errors). */
static int check_config(struct daemon *d, const char *file)
{
	struct config_diag diag = {0};
	bool main_ok = config_load(&d->cfg, file, &diag) == 0;
	int rc = report_config(&d->cfg, &diag, true);

	config_diag_free(&diag);
	if (main_ok && d->verbosity > 0)
		config_print(&d->cfg, stdout);
	check_summary(&d->cfg, file, main_ok);
	config_free(&d->cfg);
	return main_ok ? rc : 1;
}

static void daemonize(void)
{
	int fd;

	if (daemon(0, 1) < 0)
		fatal("daemon");
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		fatal("/dev/null");
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

int main(int argc, char **argv)
{
	static struct daemon d;
	struct config_diag diag = {0};
	const char *file = CONFIG_DEFAULT_FILE, *worker = NULL;
	bool check = false, to_syslog = false;
	static const struct option long_options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	ssize_t n;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "df:hnsvW:", long_options, NULL)) != -1) {
		switch (ch) {
		case 'd':
			d.foreground = true;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 's':
			to_syslog = true;
			break;
		case 'v':
			d.verbosity++;
			break;
		case 'W':
			worker = optarg;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			printf("aiccud %s\n", AICCUD_VERSION);
			return 0;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	if (worker) {
		log_init(worker, to_syslog, d.verbosity);
		worker_main(worker, IPC_WORKER_FD);
	}
	log_init("aiccud", false, d.verbosity);
	if (check)
		return check_config(&d, file);
	if (config_load(&d.cfg, file, &diag) < 0) {
		for (size_t i = 0; i < diag.count; i++)
			log_warnx("%s", diag.msgs[i]);
		log_errx("%s: not usable; not starting", file);
		config_diag_free(&diag);
		config_free(&d.cfg);
		return 1;
	}
	report_config(&d.cfg, &diag, false);
	config_diag_free(&diag);
	n = readlink("/proc/self/exe", d.self_exe, sizeof(d.self_exe) - 1);
	if (n < 0)
		fatal("/proc/self/exe");
	d.self_exe[n] = '\0';
	if (child_find_fetcher(d.self_exe, d.fetcher_exe, sizeof(d.fetcher_exe)) < 0)
		log_warnx("no TIC fetcher (aiccud-tic) beside %s or in %s: TIC tunnels cannot be "
		          "fetched",
		          d.self_exe, AICCUD_LIBEXECDIR);
	if (!d.foreground) {
		daemonize();
		log_init("aiccud", true, d.verbosity);
	}
	/* Before anything compares or starts tunnels: their automatic tables. */
	tables_assign(&d.cfg, &d.tables_write_err);
	rc = parent_run(&d);
	config_free(&d.cfg);
	return rc;
}
