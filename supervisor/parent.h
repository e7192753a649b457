#ifndef AICCUD_PARENT_H
#define AICCUD_PARENT_H

#include "daemon.h"

/* Run the supervisor until SIGTERM/SIGINT.  Returns the exit status. */
int parent_run(struct daemon *d);

#endif
