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

int netcfg_ipv6_conf_set(const char *ifname, const char *key, const char *value)
{
	char path[128];
	ssize_t n;
	size_t len = strlen(value);
	int fd, err = 0;

	if (!path_part_ok(ifname, IFNAMSIZ) || !path_part_ok(key, 64))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname, key);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}
