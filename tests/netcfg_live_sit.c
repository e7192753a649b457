/*
 * netcfg's sit (6in4) links against a real kernel, inside a network
 * namespace of its own (`unshare --net`).  Exits 77 (ctest: skipped) when
 * the kernel has no sit support, so that netcfg_live stays meaningful on
 * such kernels and this test still runs where sit exists.
 */
#include "netcfg.h"
#include "live_check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define SIT_NAME  "aiccusit0"
#define SKIP_CODE 77

static struct in_addr addr4(const char *text)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		abort();
	return a;
}

static const char *text4(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The MTU through the classic ioctl, independent of rtnetlink. */
static int ioctl_mtu(const char *name)
{
	struct ifreq ifr;
	int err = live_ioctl_link(name, SIOCGIFMTU, &ifr);

	return err < 0 ? err : ifr.ifr_mtu;
}

static void check_params(struct netcfg *nc, int ifindex, const char *local, const char *remote,
                         uint8_t ttl)
{
	struct netcfg_sit s;
	char l[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN];
	int err = netcfg_sit_get(nc, ifindex, &s);

	live_check(err == 0, "sit_get: %s", err ? strerror(-err) : "done");
	live_check(s.local.s_addr == addr4(local).s_addr &&
	               s.remote.s_addr == addr4(remote).s_addr && s.ttl == ttl,
	           "kernel reports local %s remote %s ttl %u (want %s %s %u)", text4(s.local, l),
	           text4(s.remote, r), s.ttl, local, remote, ttl);
}

int main(void)
{
	struct netcfg *nc;
	int ifindex, again, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = netcfg_open(&nc);
	live_check(err == 0, "request socket: %s", err ? strerror(-err) : "done");
	if (err)
		return 1;

	ifindex = netcfg_sit_add(nc, SIT_NAME, addr4("192.0.2.1"), addr4("198.51.100.1"), 64, 1280);
	if (ifindex == -EOPNOTSUPP || ifindex == -EAFNOSUPPORT || ifindex == -EPROTONOSUPPORT) {
		printf("sit_add answered %s (kernel: \"%s\")\n", strerror(-ifindex),
		       netcfg_errmsg(nc));
		printf("sit: not supported by this kernel, skipped\n");
		netcfg_close(nc);
		return SKIP_CODE;
	}
	live_check(ifindex > 0, "sit %s created: %s %s", SIT_NAME,
	           ifindex < 0 ? strerror(-ifindex) : "done", ifindex < 0 ? netcfg_errmsg(nc) : "");
	if (ifindex <= 0)
		return 1;
	live_check(ioctl_mtu(SIT_NAME) == 1280, "SIOCGIFMTU says %d (want 1280)",
	           ioctl_mtu(SIT_NAME));
	check_params(nc, ifindex, "192.0.2.1", "198.51.100.1", 64);

	again = netcfg_sit_add(nc, SIT_NAME, addr4("192.0.2.1"), addr4("198.51.100.1"), 64, 1280);
	live_check(again == ifindex, "added again: same link %d (got %d)", ifindex, again);

	err = netcfg_sit_set_local(nc, ifindex, addr4("192.0.2.7"));
	live_check(err == 0, "local moved to 192.0.2.7: %s %s", err ? strerror(-err) : "done",
	           netcfg_errmsg(nc));
	/* The remote and TTL must survive a change that names only the local. */
	check_params(nc, ifindex, "192.0.2.7", "198.51.100.1", 64);
	live_check(ioctl_mtu(SIT_NAME) == 1280, "MTU still %d", ioctl_mtu(SIT_NAME));

	err = netcfg_link_set(nc, ifindex, true, 0);
	live_check(err == 0, "sit link up: %s", err ? strerror(-err) : "done");
	err = netcfg_link_del(nc, ifindex);
	live_check(err == 0, "sit link deleted: %s", err ? strerror(-err) : "done");
	err = netcfg_link_del(nc, ifindex);
	live_check(err == -ENOENT, "deleted again: %s (want ENOENT)", strerror(-err));

	netcfg_close(nc);
	return live_finish();
}
