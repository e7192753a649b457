/*
 * aiccuctl metrics: the Prometheus text format from aiccud's status
 * reply (metrics.h).  Each family is written whole (HELP, TYPE, then a
 * sample per tunnel), its header only when it has a sample.  A value
 * missing from the reply (an older aiccud, a tunnel without counters)
 * leaves its sample out rather than inventing a 0.
 */
#include "metrics.h"

#include <stdbool.h>
#include <string.h>

#include "lifecycle.h"

struct fam {
	const char *name, *type, *help;
};

struct label {
	const char *name, *value;
};

/* One family being written: whether its HELP and TYPE are out yet. */
struct out {
	FILE *f;
	const struct fam *fam;
	bool headed;
};

/* HELP text: backslash and newline escaped. */
static void help_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void begin(struct out *o, const struct fam *fam)
{
	o->fam = fam;
	o->headed = false;
}

/* One sample of the current family; value is a number's text. */
static void sample(struct out *o, const struct label *l, size_t n, const char *value)
{
	if (!o->headed) {
		fprintf(o->f, "# HELP %s ", o->fam->name);
		help_text(o->f, o->fam->help);
		fprintf(o->f, "\n# TYPE %s %s\n", o->fam->name, o->fam->type);
		o->headed = true;
	}
	fputs(o->fam->name, o->f);
	for (size_t i = 0; i < n; i++) {
		fprintf(o->f, "%s%s=\"", i ? "," : "{", l[i].name);
		label_value(o->f, l[i].value);
		fputc('"', o->f);
	}
	fprintf(o->f, "%s %s\n", n ? "}" : "", value);
}

/* A JSON number (or boolean) as sample text; false when v is neither. */
static bool number_text(json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.3f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%d", json_is_true(v) ? 1 : 0);
	else
		return false;
	return true;
}

static void sample_json(struct out *o, const struct label *l, size_t n, json_t *v)
{
	char num[64];

	if (number_text(v, num, sizeof(num)))
		sample(o, l, n, num);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* ---- the daemon ---- */

static const struct fam DAEMON_UP = {
    "aiccud_daemon_up", "gauge", "Whether aiccud answered on its control socket (1) or not (0)."};
static const struct fam BUILD_INFO = {"aiccud_build_info", "gauge",
                                      "The version of the running aiccud; the value is always 1."};
static const struct fam START_TIME = {"aiccud_start_time_seconds", "gauge",
                                      "When aiccud started, in unix seconds."};
static const struct fam RELOADS = {"aiccud_reloads_total", "counter",
                                   "Configuration reloads since aiccud started."};
static const struct fam TUNNELS = {"aiccud_tunnels", "gauge", "Tunnels configured."};

static void render_daemon(FILE *f, json_t *d, json_t *tunnels)
{
	struct out o = {.f = f};
	struct label v = {"version", str(d, "aiccud")};

	begin(&o, &DAEMON_UP);
	sample(&o, NULL, 0, "1");
	if (json_is_string(json_object_get(d, "aiccud"))) {
		begin(&o, &BUILD_INFO);
		sample(&o, &v, 1, "1");
	}
	begin(&o, &START_TIME);
	sample_json(&o, NULL, 0, json_object_get(d, "started"));
	begin(&o, &RELOADS);
	sample_json(&o, NULL, 0, json_object_get(d, "reloads"));
	begin(&o, &TUNNELS);
	if (json_is_array(tunnels)) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", json_array_size(tunnels));
		sample(&o, NULL, 0, n);
	}
}

/* ---- the tunnels ---- */

/* A number of a tunnel's JSON: key in the tunnel, or in its sub-object `in`. */
struct simple {
	struct fam fam;
	const char *in, *key;
};

static const struct simple TUNNEL_SIMPLE[] = {
    {{"aiccud_tunnel_state_change_time_seconds", "gauge",
      "When the tunnel entered its current state, in unix seconds."},
     NULL,
     "since"},
    {{"aiccud_tunnel_receive_packets_total", "counter",
      "Packets received from the PoP through the tunnel (as counted by its worker)."},
     "counters",
     "rx_packets"},
    {{"aiccud_tunnel_receive_bytes_total", "counter",
      "Bytes received from the PoP through the tunnel (as counted by its worker)."},
     "counters",
     "rx_bytes"},
    {{"aiccud_tunnel_transmit_packets_total", "counter",
      "Packets sent to the PoP through the tunnel (as counted by its worker)."},
     "counters",
     "tx_packets"},
    {{"aiccud_tunnel_transmit_bytes_total", "counter",
      "Bytes sent to the PoP through the tunnel (as counted by its worker)."},
     "counters",
     "tx_bytes"},
    {{"aiccud_tunnel_keepalives_total", "counter", "Heartbeats or keep-alives sent to the PoP."},
     "counters",
     "keepalives"},
    {{"aiccud_tunnel_last_keepalive_time_seconds", "gauge",
      "When the last heartbeat or keep-alive was sent, in unix seconds (0: never)."},
     "counters",
     "last_keepalive"},
    {{"aiccud_tunnel_last_receive_time_seconds", "gauge",
      "When the last packet from the PoP arrived, in unix seconds (0: never)."},
     "counters",
     "last_rx"},
    {{"aiccud_tunnel_pop_silent_seconds", "gauge",
      "How long the PoP has been silent, once that counts (0: it is not)."},
     NULL,
     "pop_silent_s"},
    {{"aiccud_tunnel_pop_silence_limit_seconds", "gauge",
      "Silence from the PoP after which the tunnel is restarted (0: never)."},
     NULL,
     "pop_silence"},
    {{"aiccud_tunnel_link_local_suppressed_total", "counter",
      "Link-local packets (router solicitations, MLD) kept off the tunnel; not drops."},
     "counters",
     "link_local_suppressed"},
    {{"aiccud_tunnel_other_tunnel_total", "counter",
      "Packets for another tunnel that reached this tunnel's socket; not drops."},
     "counters",
     "other_tunnel"},
    {{"aiccud_tunnel_starts_total", "counter", "Workers started for the tunnel."}, NULL, "starts"},
    {{"aiccud_tunnel_restarts_total", "counter",
      "Restarts of the tunnel's worker after it died or lost its PoP."},
     NULL,
     "restarts"},
    {{"aiccud_tunnel_repairs_total", "counter",
      "Routing or link repairs made after something else changed them."},
     NULL,
     "repairs"},
};

static const struct fam TUNNEL_INFO = {
    "aiccud_tunnel_info", "gauge",
    "A tunnel's identity: broker id, type and data path in use; the value is always 1."};
static const struct fam TUNNEL_UP = {"aiccud_tunnel_up", "gauge",
                                     "Whether the tunnel is up (1) or not (0)."};
static const struct fam TUNNEL_STATE = {
    "aiccud_tunnel_state", "gauge", "The tunnel's state: 1 for the current one, 0 for the others."};
static const struct fam TUNNEL_DROPS = {"aiccud_tunnel_drops_total", "counter",
                                        "Packets the tunnel's worker dropped, by reason."};
static const struct fam TUNNEL_MSS = {
    "aiccud_tunnel_mss_clamped_total", "counter",
    "TCP SYNs whose MSS was clamped, by direction (to_pop, from_pop)."};

static const char *datapath_of(json_t *t)
{
	const char *in_use = str(t, "datapath_in_use");

	return *in_use ? in_use : str(t, "datapath");
}

static void render_info(FILE *f, json_t *tunnels)
{
	struct out o = {.f = f};
	size_t i;
	json_t *t;

	begin(&o, &TUNNEL_INFO);
	json_array_foreach(tunnels, i, t)
	{
		struct label l[] = {{"tunnel", str(t, "name")},
		                    {"id", str(t, "id")},
		                    {"type", str(t, "type")},
		                    {"datapath", datapath_of(t)}};

		sample(&o, l, 4, "1");
	}
}

static void render_up_state(FILE *f, json_t *tunnels)
{
	struct out o = {.f = f};
	size_t i;
	json_t *t;

	begin(&o, &TUNNEL_UP);
	json_array_foreach(tunnels, i, t)
	{
		struct label l = {"tunnel", str(t, "name")};

		sample(&o, &l, 1, strcmp(str(t, "state"), "up") == 0 ? "1" : "0");
	}
	begin(&o, &TUNNEL_STATE);
	json_array_foreach(tunnels, i, t)
	{
		const char *now = str(t, "state");
		bool known = false;

		for (int s = 0; s < TS_COUNT; s++) {
			struct label l[] = {{"tunnel", str(t, "name")},
			                    {"state", lifecycle_state_name((enum tunnel_state)s)}};

			known |= strcmp(l[1].value, now) == 0;
			sample(&o, l, 2, strcmp(l[1].value, now) == 0 ? "1" : "0");
		}
		/* a state this aiccuctl does not know (a newer aiccud): still shown */
		if (!known && *now) {
			struct label l[] = {{"tunnel", str(t, "name")}, {"state", now}};

			sample(&o, l, 2, "1");
		}
	}
}

static void render_simple(FILE *f, json_t *tunnels)
{
	struct out o = {.f = f};
	size_t i;
	json_t *t;

	for (size_t k = 0; k < sizeof(TUNNEL_SIMPLE) / sizeof(TUNNEL_SIMPLE[0]); k++) {
		const struct simple *s = &TUNNEL_SIMPLE[k];

		begin(&o, &s->fam);
		json_array_foreach(tunnels, i, t)
		{
			json_t *from = s->in ? json_object_get(t, s->in) : t;
			struct label l = {"tunnel", str(t, "name")};

			sample_json(&o, &l, 1, json_object_get(from, s->key));
		}
	}
}

static void render_drops(FILE *f, json_t *tunnels)
{
	struct out o = {.f = f};
	const char *reason;
	size_t i;
	json_t *t, *v;

	begin(&o, &TUNNEL_DROPS);
	json_array_foreach(tunnels, i, t)
	{
		json_t *drops = json_object_get(json_object_get(t, "counters"), "drops");

		json_object_foreach(drops, reason, v)
		{
			struct label l[] = {{"tunnel", str(t, "name")}, {"reason", reason}};

			sample_json(&o, l, 2, v);
		}
	}
	begin(&o, &TUNNEL_MSS);
	json_array_foreach(tunnels, i, t)
	{
		json_t *k = json_object_get(t, "counters");
		struct label to[] = {{"tunnel", str(t, "name")}, {"direction", "to_pop"}};
		struct label from[] = {{"tunnel", str(t, "name")}, {"direction", "from_pop"}};

		sample_json(&o, to, 2, json_object_get(k, "mss_clamped_tx"));
		sample_json(&o, from, 2, json_object_get(k, "mss_clamped_rx"));
	}
}

/* ---- endpoint updates (issue 23): per tunnel, and the per-URL buckets ---- */

static const struct fam UPD_LAST_AT = {
    "aiccud_tunnel_update_last_request_time_seconds", "gauge",
    "When the last endpoint update request was answered or failed, in unix seconds (0: none)."};
static const struct fam UPD_RESULT = {"aiccud_tunnel_update_last_result", "gauge",
                                      "The last endpoint update: the broker's answer word "
                                      "(\"error\" when there was none) and the address sent; "
                                      "the value is always 1."};
static const struct fam UPD_OK_AT = {
    "aiccud_tunnel_update_success_time_seconds", "gauge",
    "When the broker last took an address (good or nochg), in unix seconds (0: never)."};
static const struct fam UPD_STOPPED = {
    "aiccud_tunnel_update_stopped", "gauge",
    "Whether updates are stopped until the file changes or aiccuctl refresh (1) or not (0)."};

static void render_updates(FILE *f, json_t *tunnels)
{
	struct out o = {.f = f};
	size_t i;
	json_t *t;

	begin(&o, &UPD_LAST_AT);
	json_array_foreach(tunnels, i, t)
	{
		struct label l = {"tunnel", str(t, "name")};

		sample_json(&o, &l, 1, json_object_get(json_object_get(t, "update"), "last_at"));
	}
	begin(&o, &UPD_RESULT);
	json_array_foreach(tunnels, i, t)
	{
		json_t *u = json_object_get(t, "update");
		struct label l[] = {{"tunnel", str(t, "name")},
		                    {"answer", str(u, "last_answer")},
		                    {"address", str(u, "last_address")}};

		if (json_integer_value(json_object_get(u, "last_at")) > 0 && *l[1].value)
			sample(&o, l, 3, "1");
	}
	begin(&o, &UPD_OK_AT);
	json_array_foreach(tunnels, i, t)
	{
		struct label l = {"tunnel", str(t, "name")};

		sample_json(&o, &l, 1, json_object_get(json_object_get(t, "update"), "broker_at"));
	}
	begin(&o, &UPD_STOPPED);
	json_array_foreach(tunnels, i, t)
	{
		struct label l = {"tunnel", str(t, "name")};

		sample_json(&o, &l, 1, json_object_get(json_object_get(t, "update"), "stopped"));
	}
}

/* ---- the limiters ---- */

struct lim {
	struct fam fam;
	const char *key;
};

static const struct lim TIC_LIMITER[] = {
    {{"aiccud_tic_limiter_tokens", "gauge",
      "Tokens in the TIC connection limiter's bucket (one per connection)."},
     "tokens"},
    {{"aiccud_tic_limiter_burst", "gauge", "Tokens the TIC limiter's bucket holds at most."},
     "burst"},
    {{"aiccud_tic_limiter_refill_seconds", "gauge",
      "Seconds in which the TIC limiter mints one token."},
     "refill"},
    {{"aiccud_tic_limiter_next_grant_seconds", "gauge",
      "Seconds until the TIC limiter allows the next connection (0: now)."},
     "next_grant_s"},
    {{"aiccud_tic_limiter_penalty", "gauge",
      "Whether the TIC server refused us and no connection is allowed for a while (1)."},
     "penalty"},
    {{"aiccud_tic_connections_total", "counter",
      "TIC connections the limiter granted, over daemon restarts (its state file)."},
     "grants"},
    {{"aiccud_tic_last_connection_time_seconds", "gauge",
      "When the limiter last granted a TIC connection, in unix seconds (0: never)."},
     "last_grant"},
};

static const struct lim UPDATE_LIMITER[] = {
    {{"aiccud_update_limiter_tokens", "gauge",
      "Tokens in an update URL's limiter bucket (one per endpoint update request)."},
     "tokens"},
    {{"aiccud_update_limiter_next_grant_seconds", "gauge",
      "Seconds until an update URL's limiter allows the next request (0: now)."},
     "next_grant_s"},
    {{"aiccud_update_requests_total", "counter",
      "Endpoint update requests an update URL's limiter granted, over daemon restarts."},
     "grants"},
};

static void render_limiters(FILE *f, json_t *l)
{
	json_t *buckets = json_object_get(l, "update_buckets"), *b;
	struct out o = {.f = f};
	size_t i;

	for (size_t k = 0; k < sizeof(TIC_LIMITER) / sizeof(TIC_LIMITER[0]); k++) {
		begin(&o, &TIC_LIMITER[k].fam);
		sample_json(&o, NULL, 0, json_object_get(l, TIC_LIMITER[k].key));
	}
	for (size_t k = 0; k < sizeof(UPDATE_LIMITER) / sizeof(UPDATE_LIMITER[0]); k++) {
		begin(&o, &UPDATE_LIMITER[k].fam);
		json_array_foreach(buckets, i, b)
		{
			struct label url = {"url", str(b, "url")};

			sample_json(&o, &url, 1, json_object_get(b, UPDATE_LIMITER[k].key));
		}
	}
}

void metrics_render(json_t *status, FILE *out)
{
	json_t *tunnels = json_object_get(status, "tunnels");

	if (!status) {
		struct out o = {.f = out};

		begin(&o, &DAEMON_UP);
		sample(&o, NULL, 0, "0");
		return;
	}
	render_daemon(out, json_object_get(status, "daemon"), tunnels);
	render_info(out, tunnels);
	render_up_state(out, tunnels);
	render_simple(out, tunnels);
	render_drops(out, tunnels);
	render_updates(out, tunnels);
	render_limiters(out, json_object_get(status, "limiter"));
}
