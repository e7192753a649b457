/* Children of the parent: workers and the TIC fetcher (child.c). */
#ifndef AICCUD_CHILD_H
#define AICCUD_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct daemon;

/*
 * Fork and exec program exe: aiccud again as a worker ("-W", name) or
 * aiccud-tic as the TIC fetcher ("-F", NULL), over a SOCK_SEQPACKET
 * socketpair; *fd gets the parent's non-blocking end.  Returns the
 * child's pid or -errno.
 */
pid_t child_spawn(const struct daemon *d, const char *exe, const char *mode, const char *name,
                  int *fd);

/*
 * The TIC fetcher's program: aiccud-tic beside self_exe (a build tree),
 * else in AICCUD_LIBEXECDIR (where the package installs it).  0 with the
 * path in out, or -errno (out then holds the installed path looked at).
 */
int child_find_fetcher(const char *self_exe, char *out, size_t len);

#endif
