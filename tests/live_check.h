/*
 * What the tests against a real kernel (netcfg_live, netcfg_live_sit)
 * share: one "ok"/"FAIL" line per check, a count of failures, and the
 * classic ioctl view of a link, independent of rtnetlink.
 */
#ifndef AICCUD_LIVE_CHECK_H
#define AICCUD_LIVE_CHECK_H

#include <stdbool.h>
#include <net/if.h>

extern int live_failures;

void live_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The ioctl req (SIOCGIFMTU, SIOCGIFFLAGS ...) on link name into *ifr: 0 or -errno. */
int live_ioctl_link(const char *name, unsigned long req, struct ifreq *ifr);
/* The last line: PASSED or FAILED with the count; the exit code (0 or 1). */
int live_finish(void);

#endif
