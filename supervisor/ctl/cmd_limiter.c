/* aiccuctl limiter: the token bucket in front of every TIC connection. */
#include <stdio.h>

#include "ctl.h"

/* The endpoint updates' buckets, one per URL (issue 23), after the TIC one. */
static void print_update_buckets(json_t *list)
{
	char when[32];
	size_t i;
	json_t *b;

	if (!json_is_array(list))
		return; /* an aiccud before they were reported */
	if (!json_array_size(list)) {
		printf("updates       no endpoint update request since aiccud started\n");
		return;
	}
	json_array_foreach(list, i, b)
	{
		printf("\nupdate URL    %s\n", ctl_str(b, "url"));
		printf("tokens        %lld of %lld, one more every %lld s\n", ctl_int(b, "tokens"),
		       ctl_int(b, "burst"), ctl_int(b, "refill"));
		printf("next grant    in %.0f s\n",
		       json_real_value(json_object_get(b, "next_grant_s")));
		ctl_fmt_since(ctl_int(b, "last_grant"), true, when, sizeof(when));
		printf("grants        %lld, the last %s\n", ctl_int(b, "grants"), when);
		printf("state file    %s\n", ctl_str(b, "state_file"));
	}
}

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
		print_update_buckets(json_object_get(l, "update_buckets"));
	}
	return ctl_finish(ctl, reply);
}
