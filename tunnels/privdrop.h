/*
 * Least privilege (DESIGN.md "Trust boundaries").
 *
 * Children (workers and the TIC fetcher) are exec()ed as root with the
 * parent's few capabilities; they open what needs privilege (links,
 * sockets, files), then priv_drop() makes them the unprivileged aiccud
 * user for good: no supplementary groups, no capabilities in any set
 * (effective, permitted, inheritable, ambient, bounding), no new
 * privileges, and a seccomp allow-list for their role.  A call outside
 * the list kills the process (SECCOMP_RET_KILL_PROCESS); in trap mode
 * (aiccud -v, and test builds) the call is trapped instead, reported to
 * the parent (IPC_C_SECCOMP, which names it) and the process then dies by
 * SIGSYS all the same.
 *
 * The parent keeps root's uid (the setup script runs as root) but only
 * the capabilities supervisor/privparent.h names.
 */
#ifndef AICCUD_PRIVDROP_H
#define AICCUD_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum priv_role {
	PRIV_WORKER = 1, /* data path, heartbeats, liveness probes, IPC */
	PRIV_FETCHER,    /* one TLS client session and the tunnel cache writes */
};

struct priv_sandbox {
	enum priv_role role;
	uid_t uid;
	gid_t gid;
	bool trap;         /* report forbidden calls to the parent before dying */
	int ipc_fd;        /* where the trap report goes */
	int dir_fd;        /* the tunnel cache directory: files are written only here; -1: none */
	bool *fs_confined; /* if not NULL: whether Landlock confines the file system */
};

/*
 * Become sb->uid/sb->gid with no capabilities, set no-new-privs and load
 * the role's seccomp filter.  Needs CAP_SETUID, CAP_SETGID and (to clear
 * the bounding set) CAP_SETPCAP.  0, or -errno with err filled in; the
 * caller must not go on after a failure.
 */
int priv_drop(const struct priv_sandbox *sb, char *err, size_t errlen);

/* The kernel's Landlock ABI version; 0 when it has none (before 5.13, or not enabled). */
int priv_landlock_abi(void);

/*
 * File access as uid/gid for a while (setfsuid/setfsgid; needs CAP_SETUID
 * and CAP_SETGID): the tunnel cache belongs to the aiccud user.
 * priv_fs_leave returns to the real ids.
 */
void priv_fs_enter(uid_t uid, gid_t gid);
void priv_fs_leave(void);

/* "execve (59)" for a system call of audit architecture arch. */
void priv_syscall_name(int32_t nr, uint32_t arch, char *buf, size_t len);

#endif
