/*
 * aiccud-tic: the TIC fetcher's program (fetcher.h).  Only aiccud runs
 * it, as "aiccud-tic [-d|-s] [-v] -F" with its end of a socketpair on
 * IPC_WORKER_FD; it is a program of its own so that TLS is mapped into
 * this one short-lived process and never into the parent or a worker.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fetcher.h"
#include "ipc.h"
#include "log.h"

int main(int argc, char **argv)
{
	bool to_syslog = false, fetch = false;
	int verbosity = 0, ch;

	while ((ch = getopt(argc, argv, "dsvF")) != -1) {
		switch (ch) {
		case 'd':
			to_syslog = false;
			break;
		case 's':
			to_syslog = true;
			break;
		case 'v':
			verbosity++;
			break;
		case 'F':
			fetch = true;
			break;
		default:
			fetch = false;
			optind = argc;
			break;
		}
	}
	if (!fetch || optind != argc) {
		fprintf(stderr, "aiccud-tic: the TIC fetcher of aiccud(8); aiccud starts it, "
		                "nobody else\n");
		return 2;
	}
	log_init("tic", to_syslog, verbosity);
	fetcher_main(IPC_WORKER_FD);
}
