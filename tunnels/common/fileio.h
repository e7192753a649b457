/* Small file helpers shared by the state files (limiter, tunnel cache). */
#ifndef AICCUD_FILEIO_H
#define AICCUD_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replace path with data atomically: write path.tmp with the given mode,
 * fsync it, rename it over path, fsync the directory.  After a crash the
 * file is either the old or the new content, never a mix.  0 or -errno.
 */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same for file name in the directory open as dir (openat, renameat, fsync(dir)). */
int file_write_atomic_at(int dir, const char *name, const void *data, size_t len, mode_t mode);

/*
 * Read a whole small file (at most max bytes) into a NUL-terminated
 * malloc'ed buffer.  When secret is set, refuse (-EPERM) a file that group
 * or others may access.  0 or -errno (-EFBIG when larger than max).
 */
int file_read_small(const char *path, size_t max, int secret, char **out, size_t *len);
/* The same relative to the directory open as dir (AT_FDCWD: the current one). */
int file_read_small_at(int dir, const char *path, size_t max, int secret, char **out, size_t *len);

#endif
