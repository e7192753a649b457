/*
 * Self-healing of routing, on the parent's loop: the parent watches
 * rtnetlink (links, IPv6 addresses, routes, rules) and, for every tunnel
 * that is up, restores what went missing behind its back:
 *   - the source rule "from <address> lookup <table>",
 *   - the default route of the tunnel's table (with the tunnel MTU),
 *   - the tunnel's address on its link,
 *   - the kernel's local route for that address (table local), which the
 *     kernel re-creates when the address is added again.
 * The parent restores what is its own (rule, route) and asks the worker
 * to restore what is on its link (address, local route, link up) over
 * IPC (IPC_P_REPAIR): the worker owns its link.  A link that vanishes
 * under a running worker makes that worker restart (workers_link_lost).
 * Each repair is logged with the time from the kernel's notification to
 * the restore (for the worker's, to its answer), and counted in the
 * tunnel's status (repairs).
 *
 * Also the start-up reconciliation (reconcile.h) of what an earlier,
 * killed aiccud left behind.  Needs CAP_NET_ADMIN.
 */
#ifndef AICCUD_HEAL_H
#define AICCUD_HEAL_H

struct daemon;

/* Open the monitor and start watching.  0 or -errno. */
int heal_open(struct daemon *d);
void heal_close(struct daemon *d);

/*
 * Before any tunnel starts: adopt aiccud's leftover rules, routes and
 * links that the configuration still wants, remove the rest.  0 or -errno
 * (listing failed; nothing is then removed).
 */
int heal_reconcile(struct daemon *d);

#endif
