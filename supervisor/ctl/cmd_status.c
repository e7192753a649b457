/*
 * aiccuctl status [TUNNEL]: every tunnel as one row of a table, or one
 * tunnel in detail; then the TIC limiter.  Fields the daemon does not
 * report print as "-".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

enum col {
	C_TUNNEL,
	C_TYPE,
	C_DATAPATH,
	C_STATE,
	C_SINCE,
	C_IFACE,
	C_LOCAL,
	C_POP,
	C_POP4,
	C_TABLE,
	C_BEAT,
	C_HEARD,
	C_TX,
	C_RX,
	C_DROPS,
	C_RESTARTS,
	C_REPAIRS,
	NCOLS
};

static const char *const heads[NCOLS] = {
    "TUNNEL",   "TYPE",     "DATAPATH", "STATE",    "SINCE",     "INTERFACE",
    "LOCAL",    "POP",      "POP-V4",   "TABLE",    "HEARTBEAT", "FROM POP",
    "TX PKT/B", "RX PKT/B", "DROPS",    "RESTARTS", "REPAIRS",
};

#define CELL 64

static const char *datapath_of(json_t *t)
{
	const char *in_use = ctl_str(t, "datapath_in_use");

	return strcmp(in_use, "-") ? in_use : ctl_str(t, "datapath");
}

static void fmt_traffic(json_t *k, const char *pk, const char *bk, char *out, size_t len)
{
	char bytes[16];

	if (!ctl_has_int(k, pk)) {
		snprintf(out, len, "-");
		return;
	}
	ctl_fmt_bytes(ctl_int(k, bk), bytes, sizeof(bytes));
	snprintf(out, len, "%lld/%s", ctl_int(k, pk), bytes);
}

static long long drops_total(json_t *drops)
{
	const char *key;
	json_t *v;
	long long n = 0;

	json_object_foreach(drops, key, v) n += json_integer_value(v);
	return n;
}

/* "signature 3, clock 1" or "none". */
static void fmt_drops(json_t *drops, char *out, size_t len)
{
	const char *key;
	json_t *v;
	size_t off = 0;

	out[0] = '\0';
	json_object_foreach(drops, key, v)
	{
		if (json_integer_value(v) && off < len)
			off += (size_t)snprintf(out + off, len - off, "%s%s %lld", off ? ", " : "",
			                        key, (long long)json_integer_value(v));
	}
	if (!drops)
		snprintf(out, len, "-");
	else if (!off)
		snprintf(out, len, "none");
}

static void fmt_opt_int(json_t *o, const char *key, char *out, size_t len)
{
	if (ctl_has_int(o, key))
		snprintf(out, len, "%lld", ctl_int(o, key));
	else
		snprintf(out, len, "-");
}

static void row_of(json_t *t, char row[NCOLS][CELL])
{
	json_t *k = json_object_get(t, "counters");

	snprintf(row[C_TUNNEL], CELL, "%s", ctl_str(t, "name"));
	snprintf(row[C_TYPE], CELL, "%s", ctl_str(t, "type"));
	snprintf(row[C_DATAPATH], CELL, "%s", datapath_of(t));
	snprintf(row[C_STATE], CELL, "%s", ctl_str(t, "state"));
	/* a heartbeat tunnel whose PoP has not forwarded anything to us yet */
	if (!strcmp(ctl_str(t, "pop_state"), "waiting for the PoP"))
		snprintf(row[C_STATE], CELL, "%s, waiting for the PoP", ctl_str(t, "state"));
	/* nothing from the PoP for half of pop_silence (restarted at all of it) */
	if (ctl_int(t, "pop_silent_s") > 0) {
		char silent[32];

		ctl_fmt_since(time(NULL) - ctl_int(t, "pop_silent_s"), false, silent,
		              sizeof(silent));
		snprintf(row[C_STATE], CELL, "%s, PoP silent %s", ctl_str(t, "state"), silent);
	}
	ctl_fmt_since(ctl_int(t, "since"), false, row[C_SINCE], CELL);
	snprintf(row[C_IFACE], CELL, "%s", ctl_str(t, "interface"));
	snprintf(row[C_LOCAL], CELL, "%s", ctl_str(t, "local"));
	snprintf(row[C_POP], CELL, "%s", ctl_str(t, "pop"));
	snprintf(row[C_POP4], CELL, "%s", ctl_str(t, "pop_ipv4"));
	fmt_opt_int(t, "table", row[C_TABLE], CELL);
	if (ctl_int(t, "table") == 0)
		snprintf(row[C_TABLE], CELL, "-"); /* not configured (a broken file) */
	if (k) {
		ctl_fmt_since(ctl_int(k, "last_keepalive"), true, row[C_BEAT], CELL);
		ctl_fmt_since(ctl_int(k, "last_rx"), true, row[C_HEARD], CELL);
	} else {
		snprintf(row[C_BEAT], CELL, "-");
		snprintf(row[C_HEARD], CELL, "-");
	}
	fmt_traffic(k, "tx_packets", "tx_bytes", row[C_TX], CELL);
	fmt_traffic(k, "rx_packets", "rx_bytes", row[C_RX], CELL);
	if (json_object_get(k, "drops"))
		snprintf(row[C_DROPS], CELL, "%lld", drops_total(json_object_get(k, "drops")));
	else
		snprintf(row[C_DROPS], CELL, "-");
	fmt_opt_int(t, "restarts", row[C_RESTARTS], CELL);
	fmt_opt_int(t, "repairs", row[C_REPAIRS], CELL);
}

/*
 * The endpoint update (issue 23): its state, and the last request: when,
 * which address, the broker's answer.
 */
static void fmt_update(json_t *u, char *out, size_t len)
{
	char when[32];
	long long at = ctl_int(u, "last_at");

	if (!at) {
		snprintf(out, len, "%s (%s), no request yet", ctl_str(u, "state"),
		         ctl_str(u, "address"));
		return;
	}
	ctl_fmt_since(at, true, when, sizeof(when));
	snprintf(out, len, "%s; last request %s for %s: %s%s%s", ctl_str(u, "state"), when,
	         ctl_str(u, "last_address"), ctl_str(u, "last_answer"),
	         strcmp(ctl_str(u, "last_reason"), "-") && strcmp(ctl_str(u, "last_reason"), "")
	             ? " ("
	             : "",
	         strcmp(ctl_str(u, "last_reason"), "-") && strcmp(ctl_str(u, "last_reason"), "")
	             ? ctl_str(u, "last_reason")
	             : "");
	if (strcmp(ctl_str(u, "last_reason"), "-") && strcmp(ctl_str(u, "last_reason"), "") &&
	    strlen(out) + 2 < len)
		strcat(out, ")");
}

static void print_table(json_t *list)
{
	size_t n = json_array_size(list), width[NCOLS];
	char(*rows)[NCOLS][CELL] = calloc(n ? n : 1, sizeof(*rows));
	size_t i;
	json_t *t;

	if (!rows)
		exit(EX_PROTOCOL);
	for (int c = 0; c < NCOLS; c++)
		width[c] = strlen(heads[c]);
	json_array_foreach(list, i, t)
	{
		row_of(t, rows[i]);
		for (int c = 0; c < NCOLS; c++)
			if (strlen(rows[i][c]) > width[c])
				width[c] = strlen(rows[i][c]);
	}
	for (int c = 0; c < NCOLS; c++)
		printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)width[c], heads[c],
		       c == NCOLS - 1 ? "\n" : "  ");
	for (i = 0; i < n; i++)
		for (int c = 0; c < NCOLS; c++)
			printf("%-*s%s", c == NCOLS - 1 ? 0 : (int)width[c], rows[i][c],
			       c == NCOLS - 1 ? "\n" : "  ");
	free(rows);
	/* What does not fit a cell: why a tunnel is not up, drops by reason. */
	json_array_foreach(list, i, t)
	{
		json_t *drops = json_object_get(json_object_get(t, "counters"), "drops");
		const char *state = ctl_str(t, "state");
		char text[512];

		/* An up tunnel's reason is news too: a too old cache, a refused signature. */
		if (strcmp(ctl_str(t, "reason"), "-") != 0 && ctl_str(t, "reason")[0])
			printf("%s: %s: %s\n", ctl_str(t, "name"), state, ctl_str(t, "reason"));
		if (drops_total(drops)) {
			fmt_drops(drops, text, sizeof(text));
			printf("%s: dropped %s\n", ctl_str(t, "name"), text);
		}
		if (json_object_get(t, "update")) {
			fmt_update(json_object_get(t, "update"), text, sizeof(text));
			printf("%s: update: %s\n", ctl_str(t, "name"), text);
		}
	}
}

static void print_detail(json_t *t)
{
	char upd[512];

	json_t *k = json_object_get(t, "counters");
	char row[NCOLS][CELL], when[32], drops[512];

	row_of(t, row);
	ctl_fmt_clock(ctl_int(t, "since"), when, sizeof(when));
	fmt_drops(json_object_get(k, "drops"), drops, sizeof(drops));
	printf("tunnel      %s (%s %s, %s)\n", row[C_TUNNEL], row[C_TYPE], ctl_str(t, "id"),
	       ctl_str(t, "file"));
	printf("state       %s since %s (%s)%s%s\n", row[C_STATE], when, row[C_SINCE],
	       strcmp(ctl_str(t, "reason"), "-") ? ": " : "",
	       strcmp(ctl_str(t, "reason"), "-") ? ctl_str(t, "reason") : "");
	printf("interface   %s, mtu %lld, datapath %s (configured %s)\n", row[C_IFACE],
	       ctl_int(t, "mtu"), row[C_DATAPATH], ctl_str(t, "datapath"));
	printf("addresses   local %s, PoP %s\n", row[C_LOCAL], row[C_POP]);
	printf("ipv4        PoP %s, ours %s\n", row[C_POP4], ctl_str(t, "local_ipv4"));
	printf("routing     table %s, rule priority %lld, %s\n", row[C_TABLE],
	       ctl_int(t, "rule_priority"),
	       json_is_true(json_object_get(t, "routing")) ? "installed" : "not installed");
	printf("heartbeat   last sent %s, %lld sent\n", row[C_BEAT], ctl_int(k, "keepalives"));
	printf("from PoP    last packet %s; restarted after %lld s of silence (0: never)\n",
	       row[C_HEARD], ctl_int(t, "pop_silence"));
	printf("traffic     tx %s, rx %s (packets/bytes)\n", row[C_TX], row[C_RX]);
	printf("drops       %s\n", drops);
	if (ctl_has_int(k, "link_local_suppressed"))
		printf(
		    "not drops   %lld link-local kept off the tunnel (the PoP would ignore them), "
		    "%lld of other tunnels' packets seen\n",
		    ctl_int(k, "link_local_suppressed"), ctl_int(k, "other_tunnel"));
	if (json_object_get(t, "offload"))
		printf(
		    "offload     %s; mss clamp %s, %lld SYNs to the PoP and %lld from it clamped\n",
		    ctl_str(t, "offload"),
		    json_is_true(json_object_get(t, "mss_clamp")) ? "on" : "off",
		    ctl_int(k, "mss_clamped_tx"), ctl_int(k, "mss_clamped_rx"));
	printf("restarts    %s, route repairs %s, starts %lld\n", row[C_RESTARTS], row[C_REPAIRS],
	       ctl_int(t, "starts"));
	if (json_object_get(t, "update")) {
		fmt_update(json_object_get(t, "update"), upd, sizeof(upd));
		printf("update      %s (hostname %s); %s\n",
		       ctl_str(json_object_get(t, "update"), "url"),
		       ctl_str(json_object_get(t, "update"), "hostname"), upd);
	}
}

static void print_limiter(json_t *l)
{
	char when[32];

	if (!l)
		return;
	printf("TIC limiter: %lld of %lld token(s), one every %lld s; ", ctl_int(l, "tokens"),
	       ctl_int(l, "burst"), ctl_int(l, "refill"));
	if (json_is_true(json_object_get(l, "penalty"))) {
		ctl_fmt_clock(ctl_int(l, "penalty_until"), when, sizeof(when));
		printf("the TIC server refused us: no connection before %s\n", when);
	} else if (json_real_value(json_object_get(l, "next_grant_s")) > 0)
		printf("next connection allowed in %.0f s\n",
		       json_real_value(json_object_get(l, "next_grant_s")));
	else
		printf("a connection is allowed now\n");
	if (ctl_int(l, "last_grant") <= 0) {
		printf("             no connection granted yet\n");
		return;
	}
	ctl_fmt_since(ctl_int(l, "last_grant"), true, when, sizeof(when));
	printf("             %lld connection(s) granted, the last %s\n", ctl_int(l, "grants"),
	       when);
}

void ctl_status_print(json_t *reply, bool detail)
{
	json_t *list = json_object_get(reply, "tunnels");

	if (detail && json_array_size(list) == 1)
		print_detail(json_array_get(list, 0));
	else if (json_array_size(list))
		print_table(list);
	else
		printf("no tunnels configured\n");
	print_limiter(json_object_get(reply, "limiter"));
}

/*
 * For monitoring: EX_DONE when every tunnel reported is up (or none is
 * configured), EX_FAILED when any is not (stopped, waiting, failed ...).
 */
int ctl_status_exit(json_t *reply)
{
	json_t *list = json_object_get(reply, "tunnels"), *t;
	size_t i;

	json_array_foreach(list, i, t)
	{
		if (strcmp(ctl_str(t, "state"), "up") != 0)
			return EX_FAILED;
	}
	return EX_DONE;
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	char line[128];
	json_t *reply;
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return ctl_usage("status");
	snprintf(line, sizeof(line), "status%s%s", argc == 2 ? " " : "", argc == 2 ? argv[1] : "");
	reply = ctl_request(ctl, line, ctl->timeout ? ctl->timeout : 15, NULL, NULL, &rc);
	if (!reply)
		return rc;
	if (!json_is_true(json_object_get(reply, "ok")))
		return ctl_finish(ctl, reply);
	if (!ctl->json)
		ctl_status_print(reply, argc == 2);
	rc = ctl_status_exit(reply);
	ctl_finish(ctl, reply);
	return rc;
}
