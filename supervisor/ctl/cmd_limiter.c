/* aiccuctl limiter: the token bucket in front of every TIC connection. */
#include <stdio.h>

#include "ctl.h"

int cmd_limiter(struct ctl *ctl, int argc, char **argv)
{
	json_t *reply, *l;
	char when[32];
	int rc;

	(void)argv;
	if (argc != 1)
		return ctl_usage("limiter");
	reply = ctl_request(ctl, "limiter", ctl->timeout ? ctl->timeout : 15, NULL, NULL, &rc);
	if (!reply)
		return rc;
	l = json_object_get(reply, "limiter");
	if (!ctl->json && l) {
		printf("tokens        %lld of %lld, one more every %lld s\n", ctl_int(l, "tokens"),
		       ctl_int(l, "burst"), ctl_int(l, "refill"));
		printf("next grant    in %.0f s\n",
		       json_real_value(json_object_get(l, "next_grant_s")));
		ctl_fmt_clock(ctl_int(l, "penalty_until"), when, sizeof(when));
		printf("penalty       %s\n",
		       json_is_true(json_object_get(l, "penalty")) ? when : "none");
		ctl_fmt_since(ctl_int(l, "last_grant"), true, when, sizeof(when));
		printf("grants        %lld, the last %s\n", ctl_int(l, "grants"), when);
		printf("state file    %s\n", ctl_str(l, "state_file"));
		if (ctl_int(l, "fetcher_pid") > 0)
			printf("TIC fetch     under way (pid %lld)\n", ctl_int(l, "fetcher_pid"));
	}
	return ctl_finish(ctl, reply);
}
