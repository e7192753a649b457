/*
 * The parent's own privileges (DESIGN.md "Trust boundaries"): it keeps
 * root's uid (the setup script runs as root) but only the capabilities
 * privparent.c lists, each for a reason; and the user its children become
 * (tunnels/privdrop.h is the children's side).
 */
#ifndef AICCUD_PRIVPARENT_H
#define AICCUD_PRIVPARENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The parent: keep only the parent's capabilities in the effective, permitted and
 * bounding sets (the bounding set also limits the workers, the fetcher
 * and the setup scripts the parent execs), clear inheritable and ambient.
 * Returns 0, or -errno with err filled in.
 */
int privparent_limit(char *err, size_t errlen);

/* "cap_net_admin,..." of the parent's set, for messages and docs. */
const char *privparent_caps_text(void);
/*
 * The parent's capabilities (above) that are not in this process's
 * effective set, as "cap_net_admin,cap_kill"; "" when it has them all.
 * *net_admin: whether CAP_NET_ADMIN, without which no tunnel can be set
 * up, is among them.
 */
void privparent_missing(char *out, size_t len, bool *net_admin);

/* The user's uid and primary gid.  -ENOENT when there is no such user. */
int privparent_user_lookup(const char *name, uid_t *uid, gid_t *gid);

#endif
