/* JSON views of the daemon's state for the control socket (control_int.h). */
#include "control_int.h"

#include <unistd.h>
#include <arpa/inet.h>

#include "beat.h"
#include "datapath.h"
#include "fetch.h"
#include "limiter.h"
#include "log.h"
#include "update.h"
#include "workers.h"

/* ---- JSON views of the daemon's state ---- */

static json_t *counters_json(const struct tunnel_counters *k)
{
	json_t *drops = json_object();

	for (int i = 0; i < DROP_REASON_COUNT; i++)
		json_object_set_new(drops, drop_reason_name(i),
		                    json_integer((json_int_t)k->drops[i]));
	/* Not drops (counters.h): what the tunnel rightly left alone. */
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I}", "tx_packets",
	    (json_int_t)k->tx_packets, "tx_bytes", (json_int_t)k->tx_bytes, "rx_packets",
	    (json_int_t)k->rx_packets, "rx_bytes", (json_int_t)k->rx_bytes, "keepalives",
	    (json_int_t)k->keepalives, "last_keepalive", (json_int_t)k->last_keepalive, "last_rx",
	    (json_int_t)k->last_rx, "drops", drops, "mss_clamped_tx", (json_int_t)k->mss_clamped_tx,
	    "mss_clamped_rx", (json_int_t)k->mss_clamped_rx, "link_local_suppressed",
	    (json_int_t)k->link_local_suppressed, "other_tunnel", (json_int_t)k->other_tunnel);
}

/* How the receive path batched (issue 24): receive calls and TUN writes and what they moved. */
static json_t *counters_with_io(const struct tunnel_counters *k)
{
	json_t *o = counters_json(k);

	if (o)
		json_object_update_new(o, json_pack("{s:I, s:I, s:I, s:I}", "rx_calls",
		                                    (json_int_t)k->rx_calls, "rx_datagrams",
		                                    (json_int_t)k->rx_datagrams, "tun_writes",
		                                    (json_int_t)k->tun_writes, "tun_packets",
		                                    (json_int_t)k->tun_packets));
	return o;
}

/* Restarts, back-off and route repairs (workers.c, heal.c). */
static void supervision_json(json_t *o, const struct tunnel_rt *t)
{
	const struct tunnel_conf *tc = &t->entry.conf;

	json_object_set_new(o, "previous_state", json_string(lifecycle_state_name(t->prev_state)));
	json_object_set_new(o, "restarts", json_integer(t->restarts));
	json_object_set_new(o, "failures_in_a_row", json_integer(t->backoff.streak));
	if (t->last_exit[0])
		json_object_set_new(o, "last_exit", json_string(t->last_exit));
	if (t->state == TS_BACKOFF) {
		json_object_set_new(o, "next_start_at", json_integer((json_int_t)t->next_start_at));
		json_object_set_new(o, "next_start_in_s", json_real(t->next_start_s));
	}
	json_object_set_new(o, "repairs", json_integer(t->repairs));
	if (t->repairs)
		json_object_set_new(o, "last_repair",
		                    json_pack("{s:s, s:I, s:f}", "what", t->last_repair, "at",
		                              (json_int_t)t->last_repair_at, "ms",
		                              t->last_repair_ms));
	json_object_set_new(o, "liveness",
	                    json_string(tc->liveness == LIVENESS_ICMP ? "icmp" : "none"));
	json_object_set_new(o, "liveness_misses", json_integer(tc->liveness_misses));
	json_object_set_new(o, "pop_silence", json_integer(tc->pop_silence));
	/* Seconds the PoP has been silent, once that counts (workers.h); 0: it is not. */
	json_object_set_new(o, "pop_silent_s",
	                    json_integer(workers_pop_silent(t, time(NULL))
	                                     ? (json_int_t)workers_pop_silent_s(t, time(NULL))
	                                     : 0));
}

/*
 * A TIC tunnel waiting for a limiter token: the reason as of now (why it
 * waits, the seconds left), not as of when the wait began.
 */
static void waiting_json(json_t *o, const struct tunnel_rt *t)
{
	const struct daemon *d = t->d;
	char why[sizeof(t->reason)];

	if (t->state != TS_WAITING || !t->entry.conf.tic || !fetch_token_awaited(d))
		return;
	json_object_set_new(o, "wait_s", json_real(fetch_wait_reason(d, why, sizeof(why))));
	json_object_set_new(o, "reason", json_string(why));
}

json_t *control_tunnel_json(const struct tunnel_rt *t)
{
	const struct tunnel_conf *tc = &t->entry.conf;
	char local[INET6_ADDRSTRLEN], pop[INET6_ADDRSTRLEN], pop4[INET_ADDRSTRLEN];
	json_t *o;

	inet_ntop(AF_INET6, &tc->params.ipv6_local, local, sizeof(local));
	inet_ntop(AF_INET6, &tc->params.ipv6_pop, pop, sizeof(pop));
	inet_ntop(AF_INET, &tc->params.ipv4_pop, pop4, sizeof(pop4));
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:s, s:s, s:i, s:I, s:I, s:I}",
	              "name", tc->name, "id", tc->id, "file", tc->file, "state",
	              lifecycle_state_name(t->state), "since", (json_int_t)t->since, "reason",
	              t->reason, "interface", tc->name, "ifindex", t->ifindex, "type",
	              tc->params.type ? tunnel_type_name(tc->params.type) : "", "datapath",
	              tunnel_datapath_name(tc->datapath), "pid", (int)t->pid, "table",
	              (json_int_t)tc->table, "rule_priority", (json_int_t)tc->rule_priority, "mtu",
	              (json_int_t)tunnel_mtu(tc));
	if (!o)
		fatalx("out of memory");
	json_object_set_new(o, "tic", json_boolean(tc->tic));
	/* AYIYA: the path MTU toward the PoP its MTU was sized for (absent: unknown, 1500) */
	if (tc->path_mtu)
		json_object_set_new(o, "path_mtu", json_integer((json_int_t)tc->path_mtu));
	waiting_json(o, t);
	if (t->refresh_msg[0])
		json_object_set_new(o, "refresh", json_string(t->refresh_msg));
	if (t->entry.valid && (!tc->tic || tc->params.type)) {
		json_object_set_new(o, "local",
		                    json_sprintf("%s/%u", local, tc->params.prefix_len));
		json_object_set_new(o, "pop", json_string(pop));
		json_object_set_new(o, "pop_ipv4", json_string(pop4));
	}
	json_object_set_new(o, "autostart", json_boolean(tc->autostart));
	if (t->counters.datapath)
		json_object_set_new(o, "datapath_in_use",
		                    json_string(tunnel_datapath_name(t->counters.datapath)));
	if (t->counters.datapath == DATAPATH_USERSPACE) {
		char off[64];

		/* What the worker chose at start: the offloaded or the plain path. */
		json_object_set_new(
		    o, "offload",
		    json_string(datapath_offload_name(t->counters.offload, off, sizeof(off))));
		json_object_set_new(o, "mss_clamp", json_boolean(tc->mss_clamp));
	}
	if (t->counters.local_ipv4.s_addr) {
		char me4[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &t->counters.local_ipv4, me4, sizeof(me4));
		json_object_set_new(o, "local_ipv4", json_string(me4));
	}
	/* The PoP has sent us something: it accepts our heartbeats / keep-alives. */
	/*
	 * A heartbeat tunnel's worker also says so when the PoP answered its
	 * first packet (a kernel sit link counts no packets for us).
	 */
	json_object_set_new(o, "confirmed",
	                    json_boolean(t->counters.rx_packets > 0 ||
	                                 t->counters.pop_state == BEAT_POP_CONFIRMED));
	if (t->state == TS_UP && t->counters.pop_state != BEAT_POP_UNKNOWN)
		json_object_set_new(
		    o, "pop_state",
		    json_string(beat_pop_state_name((enum beat_pop_state)t->counters.pop_state)));
	json_object_set_new(o, "routing", json_boolean(t->policy_installed));
	json_object_set_new(o, "starts", json_integer(t->starts));
	if (t->up_latency >= 0 && t->state == TS_UP)
		json_object_set_new(o, "up_latency_ms", json_real(t->up_latency * 1000.0));
	json_object_set_new(o, "counters", counters_with_io(&t->counters));
	if (update_has(t))
		json_object_set_new(o, "update", update_json(t->d, t));
	supervision_json(o, t);
	return o;
}

/* The TIC limiter: tokens left, when the next connection is allowed. */
json_t *control_limiter_json(const struct daemon *d)
{
	struct limiter_status st;
	const char *state_file = fetch_limiter_status(d, &st);
	json_t *o;

	o = json_pack("{s:i, s:i, s:i, s:f, s:f, s:b, s:I, s:I}", "burst", (int)st.burst, "refill",
	              (int)st.refill, "tokens", (int)st.tokens, "next_grant_s", st.next_grant_s,
	              "next_token_s", st.next_token_s, "penalty", st.penalty_active, "grants",
	              (json_int_t)st.grants, "last_grant",
	              (json_int_t)(st.last_grant_wall_ms / 1000));
	if (!o)
		fatalx("out of memory");
	if (st.penalty_active)
		json_object_set_new(o, "penalty_until",
		                    json_integer((json_int_t)(st.penalty_until_wall_ms / 1000)));
	json_object_set_new(o, "state_file", json_string(state_file));
	json_object_set_new(o, "fetcher_pid", json_integer(fetch_fetcher_pid(d)));
	/* the endpoint updates' own buckets, one per URL (update.h) */
	json_object_set_new(o, "update_buckets", update_limiter_json(d));
	return o;
}

json_t *control_daemon_json(const struct control *c)
{
	const struct daemon *d = c->d;

	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:I, s:I, s:i}", "aiccud", AICCUD_VERSION,
	                      "pid", (int)getpid(), "config", d->cfg.file, "control_socket",
	                      c->path, "started", (json_int_t)c->started, "tunnels",
	                      (json_int_t)registry_count(d->reg), "reloads", (int)d->reloads);

	/* How often the overlap check read the host's routes (hostcache.h): with
	 * the view kept, a few reads for any number of tunnels starting. */
	if (o)
		json_object_set_new(o, "host_reads", json_integer((json_int_t)d->hostcache.reads));
	/* aiccuctl monitor connections (control_monitor.c). */
	if (o)
		json_object_set_new(o, "monitors", json_integer((json_int_t)c->nmonitors));
	if (o && d->last_reload_at)
		json_object_set_new(o, "last_reload",
		                    json_pack("{s:I, s:s}", "at", (json_int_t)d->last_reload_at,
		                              "result", d->last_reload_msg));
	return o;
}
