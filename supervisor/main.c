/*
 * aiccud: supervisor of SixXS-style IPv6 tunnels.
 *
 *   aiccud [-d] [-v] [-n] [-f aiccud.conf]
 *
 * -d stays in the foreground and logs to stderr; -n checks the
 * configuration, prints every problem as file:line: message and exits.
 * "-W NAME" is internal: the parent execs itself that way for each
 * worker.  The TIC fetcher is a program of its own (aiccud-tic), so that
 * neither the parent nor a worker maps TLS.
 */
#include <errno.h>
#include <fcntl.h>
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

static void usage(void)
{
	fprintf(stderr, "usage: aiccud [-dnv] [-f config]\n");
	exit(2);
}

static int report_config(const struct config *cfg, const struct config_diag *diag, bool quiet)
{
	size_t bad = 0;

	for (size_t i = 0; i < diag->count; i++)
		log_warnx("%s", diag->msgs[i]);
	for (size_t i = 0; i < cfg->ntunnels; i++)
		if (!cfg->tunnels[i].valid)
			bad++;
	if (!quiet)
		log_info("%s: %zu tunnel(s), %zu unusable", cfg->file, cfg->ntunnels, bad);
	return bad ? 1 : 0;
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
	ssize_t n;
	int ch, rc;

	while ((ch = getopt(argc, argv, "df:nsvW:")) != -1) {
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
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (worker) {
		log_init(worker, to_syslog, d.verbosity);
		worker_main(worker, IPC_WORKER_FD);
	}
	log_init("aiccud", false, d.verbosity);
	if (config_load(&d.cfg, file, &diag) < 0) {
		report_config(&d.cfg, &diag, true);
		log_errx("%s: not usable; not starting", file);
		return 1;
	}
	rc = report_config(&d.cfg, &diag, check);
	config_diag_free(&diag);
	if (check) {
		if (d.verbosity > 0)
			config_print(&d.cfg, stdout);
		printf("%s: %s\n", file, rc ? "has errors" : "OK");
		config_free(&d.cfg);
		return rc;
	}
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
