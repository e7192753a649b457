#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Split path into its directory (opened) and its last component. */
static int open_parent(const char *path, const char **name)
{
	char copy[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	*name = slash ? slash + 1 : path;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *name;
	int dir = open_parent(path, &name), err;

	if (dir < 0)
		return dir;
	err = file_write_atomic_at(dir, name, data, len, mode);
	close(dir);
	return err;
}

int file_write_atomic_at(int dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	/* An old tmp file may have been created with looser permissions. */
	err = fchmod(fd, mode) < 0 ? -errno : 0;
	if (!err)
		err = write_all(fd, data, len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat(dir, tmp, dir, name) < 0)
		err = -errno;
	if (err) {
		unlinkat(dir, tmp, 0);
		return err;
	}
	return fsync(dir) < 0 ? -errno : 0;
}

int file_read_small(const char *path, size_t max, int secret, char **out, size_t *len)
{
	return file_read_small_at(AT_FDCWD, path, max, secret, out, len);
}

int file_read_small_at(int dir, const char *path, size_t max, int secret, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, err = 0;

	fd = openat(dir, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (secret && (st.st_mode & 077))
		err = -EPERM;
	else if ((size_t)st.st_size > max)
		err = -EFBIG;
	if (err) {
		close(fd);
		return err;
	}
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	do
		n = read(fd, buf, max + 1);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : (size_t)n > max ? -EFBIG : 0;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}
