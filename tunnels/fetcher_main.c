/*
 * aiccud-tic: the TIC fetcher's program (fetcher.h).  Only aiccud runs
 * it, as "aiccud-tic [-d|-s] [-v] -F" (a TIC session) or "-U" (an endpoint
 * update, updater.c) with its end of a socketpair on IPC_WORKER_FD; it is a program of its own so
 * that TLS is mapped into this one short-lived process and never into the parent or a worker.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fetcher.h"
#include "ipc.h"
#include "log.h"

static int usage(void)
{
	fprintf(stderr,
	        "aiccud-tic: the TIC fetcher of aiccud(8); aiccud starts it, nobody else\n");
	return 2;
}

int main(int argc, char **argv)
{
	bool to_syslog = false, fetch = false, update = false;
	int verbosity = 0, ch;

	/* -d (log to stderr) is the default; it is accepted as aiccud passes it. */
	while ((ch = getopt(argc, argv, "dsvFU")) != -1) {
		if (ch == 's')
			to_syslog = true;
		else if (ch == 'v')
			verbosity++;
		else if (ch == 'F')
			fetch = true;
		else if (ch == 'U')
			update = true;
		else if (ch != 'd')
			return usage();
	}
	if (fetch == update || optind != argc)
		return usage();
	log_init(fetch ? "tic" : "update", to_syslog, verbosity);
	if (update)
		updater_main(IPC_WORKER_FD);
	fetcher_main(IPC_WORKER_FD);
}
