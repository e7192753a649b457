/* Keep-alive schedule: see beat.h. */
#include "beat.h"

unsigned beat_startup_count(enum tunnel_type t)
{
	switch (t) {
	case TUNNEL_AYIYA:
		return BEAT_STARTUP_AYIYA;
	case TUNNEL_6IN4_HEARTBEAT:
		return BEAT_STARTUP_HEARTBEAT;
	case TUNNEL_6IN4_STATIC:
		break;
	}
	return 0;
}

bool beat_needs_confirm(enum tunnel_type t)
{
	return t == TUNNEL_6IN4_HEARTBEAT;
}

double beat_confirm_delay(unsigned tries, double interval)
{
	double d = BEAT_CONFIRM_FIRST;

	/* Doubling past the interval stops well before the exponent could overflow. */
	for (unsigned i = 0; i < tries && d < interval; i++)
		d *= 2;
	return d < interval ? d : 0;
}

const char *beat_pop_state_name(enum beat_pop_state s)
{
	switch (s) {
	case BEAT_POP_WAITING:
		return "waiting for the PoP";
	case BEAT_POP_CONFIRMED:
		return "confirmed";
	case BEAT_POP_UNKNOWN:
		break;
	}
	return "";
}
