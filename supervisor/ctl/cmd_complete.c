/*
 * What the shell's completion (dist/aiccuctl.bash-completion) asks
 * aiccuctl, so that its lists come from the same table and the daemon:
 *   aiccuctl --commands       the commands of the table, one per line
 *   aiccuctl --tunnel-names   the tunnels aiccud knows, one per line;
 *                             nothing (and exit 3) when it is not running
 * Hidden options: not in the help text, for scripts.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctlcmd.h"

int ctl_complete_commands(void)
{
	for (size_t i = 0; i < CTLCMD_COUNT; i++)
		printf("%s\n", ctlcmd_table[i].name);
	return EX_DONE;
}

int ctl_complete_tunnels(struct ctl *ctl)
{
	json_t *reply, *t;
	size_t i;
	int rc;

	/* A completion must not hang the shell: a short bound, errors to stderr only. */
	ctl->json = false;
	reply = ctl_request(ctl, "status", ctl->timeout ? ctl->timeout : 2, NULL, NULL, &rc);
	if (!reply)
		return rc;
	rc = ctl_exit_for(reply);
	json_array_foreach(json_object_get(reply, "tunnels"), i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));

		if (name && ctl_word_ok(name))
			printf("%s\n", name);
	}
	json_decref(reply);
	return rc;
}
