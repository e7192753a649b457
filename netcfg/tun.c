/*
 * TUN devices through /dev/net/tun.  Needs CAP_NET_ADMIN.
 */
#include "netcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>

static int tun_set_qlen(const char *ifname, unsigned qlen)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_qlen = (int)qlen;
	if (ioctl(fd, SIOCSIFTXQLEN, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

int netcfg_tun_open(const char *ifname, unsigned qlen, int *ifindex)
{
	struct ifreq ifr;
	unsigned idx;
	int fd, err;

	if (!ifname || !ifname[0] || strnlen(ifname, IFNAMSIZ) >= IFNAMSIZ)
		return -EINVAL;
	/* Non-blocking: the data path reads it from an event loop. */
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	/* Bare IPv6 packets, no packet-information prefix to strip. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	/* A deep queue absorbs bursts (the old client's 500 dropped packets). */
	if (qlen) {
		err = tun_set_qlen(ifr.ifr_name, qlen);
		if (err < 0) {
			close(fd);
			return err;
		}
	}
	idx = if_nametoindex(ifr.ifr_name);
	if (idx == 0)
		goto fail;
	if (ifindex)
		*ifindex = (int)idx;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}
