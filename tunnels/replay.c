/* AYIYA replay filter (see replay.h). */
#include "replay.h"

#include <string.h>

/* Seconds from b to a, wrap-safe (the epoch is a 32-bit counter). */
static int32_t age(uint32_t newer, uint32_t older)
{
	return (int32_t)(newer - older);
}

static bool live(const struct replay *r, size_t i)
{
	return r->key[i] && age(r->newest, r->epoch[i]) <= REPLAY_WINDOW;
}

/* The slot to overwrite in a bucket: a free or expired one, else the oldest. */
static size_t victim(const struct replay *r, size_t base)
{
	size_t v = base;

	for (size_t i = base; i < base + REPLAY_WAYS; i++) {
		if (!live(r, i))
			return i;
		if (age(r->epoch[v], r->epoch[i]) > 0)
			v = i;
	}
	return v;
}

enum replay_verdict replay_check(struct replay *r, const uint8_t sig[20], uint32_t epoch)
{
	uint32_t idx;
	uint64_t key;
	size_t base;

	if (r->seen_any && age(r->newest, epoch) > REPLAY_WINDOW)
		return REPLAY_OLD;
	/* The signature is a keyed hash: its bytes are as good as random. */
	memcpy(&idx, sig, sizeof(idx));
	memcpy(&key, sig + 4, sizeof(key));
	key |= 1; /* 0 marks a free slot */
	base = (idx & (REPLAY_SLOTS / REPLAY_WAYS - 1)) * REPLAY_WAYS;
	for (size_t i = base; i < base + REPLAY_WAYS; i++)
		if (r->key[i] == key && live(r, i) && r->epoch[i] == epoch)
			return REPLAY_DUP;
	if (!r->seen_any || age(epoch, r->newest) > 0)
		r->newest = epoch;
	r->seen_any = true;
	base = victim(r, base);
	r->key[base] = key;
	r->epoch[base] = epoch;
	return REPLAY_OK;
}
