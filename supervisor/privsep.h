/*
 * The parent's side of least privilege (tunnels/privdrop.h has the
 * mechanism): who the children become, the cache directory they own, the
 * capabilities the parent keeps, and what unprivileged workers ask it to
 * do to their links.
 */
#ifndef AICCUD_PRIVSEP_H
#define AICCUD_PRIVSEP_H

#include <stdbool.h>
#include <sys/types.h>

#include "ipc.h"
#include "log.h"

struct daemon;
struct tunnel_rt;

/*
 * At start, still with every capability: resolve [daemon] user (a clear
 * error naming the key and how to create the user when it does not
 * exist) and hand <state_dir>/tunnels to it.  0, or -1 after logging why.
 */
int privsep_init(struct daemon *d);
/* Then keep only what the parent needs (privparent_limit); logs what it kept. */
void privsep_limit(struct daemon *d);
/* Who a child becomes (into ipc_conf.drop / ipc_fetch.drop). */
void privsep_fill(const struct daemon *d, struct ipc_drop *out);
/*
 * A child has exited with status; m is the seccomp report it sent before
 * (NULL: none).  The report is believed, and the call logged by name, only
 * when the child died by SIGSYS; else that it lied, through rl (now:
 * monotonic seconds).
 */
void privsep_seccomp_verdict(const char *who, pid_t pid, const struct ipc_seccomp *m, int status,
                             struct log_ratelimit *rl, double now);
/*
 * A worker's IPC_W_PRIV: check it against its tunnel, do it, answer.
 * 0, or -errno with *why saying why it was not done (valid until the next
 * netcfg call); the caller logs it.
 */
int privsep_request(struct tunnel_rt *t, const struct ipc_priv_req *r, const char **why);
/* Answer a worker's IPC_W_PRIV with a refusal, doing nothing. */
void privsep_refuse(struct tunnel_rt *t, const struct ipc_priv_req *r, const char *why);
/* The worker is gone: remove its kernel sit link (TUN links go with their fd). */
void privsep_link_reaped(struct tunnel_rt *t);

#endif
