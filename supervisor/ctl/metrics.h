/*
 * aiccuctl metrics: aiccud's state in the Prometheus text exposition
 * format (version 0.0.4), rendered from the JSON replies aiccud already
 * sends (status, which carries the limiter).  Pure: it reads JSON and
 * writes to a stream, nothing else, so unit tests call it directly.
 *
 * Naming follows Prometheus' conventions: every name begins with
 * "aiccud_", values are in base units (seconds, bytes), counters end in
 * "_total", wall-clock times are unix seconds in "..._time_seconds"
 * gauges (0: never), and each family has HELP and TYPE.
 */
#ifndef AICCUCTL_METRICS_H
#define AICCUCTL_METRICS_H

#include <stdio.h>

#include <jansson.h>

/*
 * Render a status reply ("daemon", "tunnels", "limiter").  status NULL:
 * aiccud did not answer; only aiccud_daemon_up 0 is written.
 */
void metrics_render(json_t *status, FILE *out);

#endif
