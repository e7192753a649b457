/* Children of the parent: workers and the TIC fetcher (child.c). */
#ifndef AICCUD_CHILD_H
#define AICCUD_CHILD_H

#include <sys/types.h>

struct daemon;

/*
 * Fork and exec aiccud again as a worker ("-W", name) or the TIC fetcher
 * ("-F", NULL), over a SOCK_SEQPACKET socketpair; *fd gets the parent's
 * non-blocking end.  Returns the child's pid or -errno.
 */
pid_t child_spawn(const struct daemon *d, const char *mode, const char *name, int *fd);

#endif
