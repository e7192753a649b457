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
#include <netinet/in.h>
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

/* Not in every linux/if_tun.h yet (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

/*
 * Turn on the offloads, the richest the kernel accepts first: it refuses
 * unknown bits with EINVAL, which is the probe for USO.
 */
static unsigned tun_offloads(int fd)
{
	int hdr = 10; /* struct virtio_net_hdr, no mergeable-buffer count */

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return 0;
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6) == 0)
		return NETCFG_TUN_VNET | NETCFG_TUN_TSO | NETCFG_TUN_USO;
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO6) == 0)
		return NETCFG_TUN_VNET | NETCFG_TUN_TSO;
	return 0;
}

static int tun_open(const char *ifname, unsigned qlen, int *ifindex, unsigned *offloads);

int netcfg_tun_open(const char *ifname, unsigned qlen, int *ifindex)
{
	return tun_open(ifname, qlen, ifindex, NULL);
}

int netcfg_tun_open_offload(const char *ifname, unsigned qlen, int *ifindex, unsigned *offloads)
{
	int fd = tun_open(ifname, qlen, ifindex, offloads);

	/* No offloads: a TUN with a virtio-net header would only cost bytes. */
	if (fd >= 0 && *offloads == 0) {
		close(fd);
		fd = tun_open(ifname, qlen, ifindex, NULL);
	}
	return fd;
}

static int tun_open(const char *ifname, unsigned qlen, int *ifindex, unsigned *offloads)
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offloads ? IFF_VNET_HDR : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	if (offloads)
		*offloads = tun_offloads(fd);
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

int netcfg_ipv4_source(struct in_addr dst, uint16_t port, struct in_addr *out)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = dst};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	/* A UDP connect sends nothing: it only makes the kernel pick the route. */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		err = -errno;
	else
		*out = sin.sin_addr;
	close(fd);
	return err;
}
