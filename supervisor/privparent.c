/*
 * The parent's own privileges (privparent.h): the capabilities it keeps,
 * with libcap-ng, and the user its children become.
 */
#include "privparent.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include <cap-ng.h>

/*
 * The parent's capabilities, each for a reason (README "Privileges"):
 *   NET_ADMIN        links, addresses, routes, rules (rtnetlink), TUN
 *                    devices and socket buffers past rmem_max (workers)
 *   NET_RAW          raw proto-41 and ICMPv6 sockets (workers)
 *   SETUID, SETGID   children become the aiccud user
 *   SETPCAP          children clear their bounding set
 *   KILL             signals to children that run as another user
 *   DAC_READ_SEARCH  read the tunnel cache the aiccud user owns
 */
static const int parent_caps[] = {CAP_NET_ADMIN, CAP_NET_RAW, CAP_SETUID,         CAP_SETGID,
                                  CAP_SETPCAP,   CAP_KILL,    CAP_DAC_READ_SEARCH};

const char *privparent_caps_text(void)
{
	return "cap_net_admin,cap_net_raw,cap_setuid,cap_setgid,cap_setpcap,cap_kill,"
	       "cap_dac_read_search";
}

void privparent_missing(char *out, size_t len, bool *net_admin)
{
	size_t n = sizeof(parent_caps) / sizeof(parent_caps[0]), used = 0;

	*net_admin = false;
	out[0] = '\0';
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process() < 0) {
		snprintf(out, len, "(capabilities unreadable)");
		*net_admin = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = capng_capability_to_name((unsigned)parent_caps[i]);
		int k;

		if (capng_have_capability(CAPNG_EFFECTIVE, (unsigned)parent_caps[i]))
			continue;
		if (parent_caps[i] == CAP_NET_ADMIN)
			*net_admin = true;
		k = snprintf(out + used, len - used, "%scap_%s", used ? "," : "",
		             name ? name : "?");
		if (k < 0 || (size_t)k >= len - used)
			break;
		used += (size_t)k;
	}
}

int privparent_user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw)
		return errno ? -errno : -ENOENT;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int privparent_limit(char *err, size_t errlen)
{
	size_t n = sizeof(parent_caps) / sizeof(parent_caps[0]);
	bool have[sizeof(parent_caps) / sizeof(parent_caps[0])];
	int r;

	/* Only those it has: asking for one it lacks would fail the whole change. */
	capng_clear(CAPNG_SELECT_BOTH);
	r = capng_get_caps_process();
	for (size_t i = 0; i < n; i++)
		have[i] = r < 0 || capng_have_capability(CAPNG_PERMITTED, (unsigned)parent_caps[i]);
	capng_clear(CAPNG_SELECT_ALL);
	for (size_t i = 0; i < n; i++) {
		if (!have[i])
			continue;
		r = capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
		                 (unsigned)parent_caps[i]);
		if (r < 0) {
			snprintf(err, errlen, "capng_update failed");
			return -EINVAL;
		}
	}
	r = capng_apply(CAPNG_SELECT_ALL);
	if (r < 0) {
		int e = errno;

		snprintf(err, errlen,
		         "cannot limit the capabilities to %s (libcap-ng error %d: %s)",
		         privparent_caps_text(), r, strerror(e));
		return e ? -e : -EPERM;
	}
	return 0;
}
