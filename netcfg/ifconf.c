/*
 * A link's own IPv6 settings (netcfg.h): /proc/sys/net/ipv6/conf/IFNAME/KEY,
 * written directly (the kernel's per-interface settings have no rtnetlink
 * attribute for most of these; aiccud never runs sysctl).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netcfg.h"

/* A link name or key that cannot leave its directory. */
static bool path_part_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	return n > 0 && n < max && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* A write refused because of where the file is (a read-only /proc/sys), not what it is. */
static bool unwritable(int err)
{
	return err == -EROFS || err == -EACCES || err == -EPERM;
}

/* Whether the file holds value (what the kernel prints: the value and a newline). */
static bool holds(const char *path, const char *value)
{
	char buf[64];
	size_t len = strlen(value);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	return (size_t)n == len && memcmp(buf, value, len) == 0;
}

int netcfg_ipv6_conf_set_at(const char *root, const char *ifname, const char *key,
                            const char *value, int *write_err)
{
	char path[4096];
	ssize_t n;
	size_t len = strlen(value);
	int fd, err = 0;

	*write_err = 0;
	if (!path_part_ok(ifname, IFNAMSIZ) || !path_part_ok(key, 64))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/net/ipv6/conf/%s/%s", root, ifname, key) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
	} else {
		n = write(fd, value, len);
		if (n < 0)
			err = -errno;
		else if ((size_t)n != len)
			err = -EIO;
		close(fd);
	}
	/* A container's read-only /proc/sys: fine if the value is already what we want. */
	if (err < 0 && unwritable(err) && holds(path, value)) {
		*write_err = err;
		return 1;
	}
	return err;
}

int netcfg_ipv6_conf_set(const char *ifname, const char *key, const char *value)
{
	int write_err;
	int r = netcfg_ipv6_conf_set_at(NETCFG_PROC_SYS, ifname, key, value, &write_err);

	return r < 0 ? r : 0;
}
