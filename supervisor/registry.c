/*
 * The tunnel registry (registry.h): a list in configuration order, a hash
 * table by interface name that grows with the count, per-state counts,
 * and a queue of change events delivered by registry_dispatch.
 */
#include "registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "events.h"

#define REGISTRY_MIN_BUCKETS 64

struct subscriber {
	registry_cb cb;
	void *arg;
};

struct registry {
	registry_clock clock;
	struct tunnel_rt *head, *tail;
	size_t count;
	unsigned long seq; /* of the next entry */
	size_t per_state[TS_COUNT];
	struct tunnel_rt **buckets;
	size_t nbuckets; /* a power of two */
	struct subscriber *subs;
	size_t nsubs;
	struct registry_change *queue;
	size_t nqueue, qcap;
	struct tunnel_rt *graveyard; /* removed entries, freed after dispatch (via hnext) */
	bool dispatching;
};

/* FNV-1a: names are short, and an attacker does not choose them (root's files do). */
static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct registry *registry_new(registry_clock clock)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->clock = clock;
	r->nbuckets = REGISTRY_MIN_BUCKETS;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	if (!r->buckets) {
		free(r);
		return NULL;
	}
	return r;
}

static time_t now_of(const struct registry *r)
{
	return r->clock ? r->clock() : time(NULL);
}

static void free_graveyard(struct registry *r)
{
	while (r->graveyard) {
		struct tunnel_rt *t = r->graveyard;

		r->graveyard = t->hnext;
		free(t->next_entry);
		free(t);
	}
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	while (r->head) {
		struct tunnel_rt *t = r->head;

		r->head = t->next;
		free(t->next_entry);
		free(t);
	}
	free_graveyard(r);
	free(r->buckets);
	free(r->subs);
	free(r->queue);
	free(r);
}

static void queue_push(struct registry *r, struct tunnel_rt *t, enum registry_event ev,
                       enum tunnel_state from, enum tunnel_state to)
{
	if (r->nqueue == r->qcap) {
		size_t cap = r->qcap ? 2 * r->qcap : 64;
		struct registry_change *q = realloc(r->queue, cap * sizeof(*q));

		if (!q)
			fatalx("out of memory");
		r->queue = q;
		r->qcap = cap;
	}
	r->queue[r->nqueue++] = (struct registry_change){.t = t, .ev = ev, .from = from, .to = to};
}

/* Double the table when chains would get longer than two on average. */
static void maybe_grow(struct registry *r)
{
	size_t n = r->nbuckets * 2;
	struct tunnel_rt **b;

	if (r->count < 2 * r->nbuckets)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (struct tunnel_rt *t = r->head; t; t = t->next) {
		t->hnext = b[t->hash & (n - 1)];
		b[t->hash & (n - 1)] = t;
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = n;
}

struct tunnel_rt *registry_add(struct registry *r, const struct tunnel_entry *e)
{
	struct tunnel_rt *t = calloc(1, sizeof(*t));
	size_t b;

	if (!t)
		return NULL;
	t->reg = r;
	t->entry = *e;
	t->state = t->prev_state = TS_STOPPED;
	t->since = now_of(r);
	t->hash = name_hash(e->conf.name);
	t->seq = r->seq++;
	t->prev = r->tail;
	if (r->tail)
		r->tail->next = t;
	else
		r->head = t;
	r->tail = t;
	r->count++;
	r->per_state[TS_STOPPED]++;
	b = t->hash & (r->nbuckets - 1);
	t->hnext = r->buckets[b];
	r->buckets[b] = t;
	maybe_grow(r);
	queue_push(r, t, REG_ADDED, TS_STOPPED, TS_STOPPED);
	return t;
}

static void unhash(struct registry *r, struct tunnel_rt *t)
{
	struct tunnel_rt **pp = &r->buckets[t->hash & (r->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == t) {
			*pp = t->hnext;
			return;
		}
}

void registry_remove(struct registry *r, struct tunnel_rt *t)
{
	if (t->dead)
		return;
	unhash(r, t);
	if (t->prev)
		t->prev->next = t->next;
	else
		r->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		r->tail = t->prev;
	t->next = t->prev = NULL;
	r->count--;
	r->per_state[t->state]--;
	t->dead = true;
	t->hnext = r->graveyard;
	r->graveyard = t;
	queue_push(r, t, REG_REMOVED, t->state, t->state);
}

struct tunnel_rt *registry_find(const struct registry *r, const char *name)
{
	unsigned h = name_hash(name);
	struct tunnel_rt *found = NULL;

	for (struct tunnel_rt *t = r->buckets[h & (r->nbuckets - 1)]; t; t = t->hnext) {
		if (t->hash != h || t->removing || strcmp(t->entry.conf.name, name) != 0)
			continue;
		/* Valid before invalid, then the oldest (chains are newest first). */
		if (!found || (t->entry.valid && !found->entry.valid) ||
		    (t->entry.valid == found->entry.valid && t->seq < found->seq))
			found = t;
	}
	return found;
}

struct tunnel_rt *registry_first(const struct registry *r)
{
	return r->head;
}

struct tunnel_rt *registry_next(const struct tunnel_rt *t)
{
	return t->next;
}

size_t registry_count(const struct registry *r)
{
	return r->count;
}

size_t registry_count_state(const struct registry *r, enum tunnel_state s)
{
	return (unsigned)s < TS_COUNT ? r->per_state[s] : 0;
}

int registry_subscribe(struct registry *r, registry_cb cb, void *arg)
{
	struct subscriber *s = realloc(r->subs, (r->nsubs + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	s[r->nsubs++] = (struct subscriber){cb, arg};
	r->subs = s;
	return 0;
}

void registry_unsubscribe(struct registry *r, registry_cb cb, void *arg)
{
	for (size_t i = 0; i < r->nsubs; i++)
		if (r->subs[i].cb == cb && r->subs[i].arg == arg) {
			memmove(&r->subs[i], &r->subs[i + 1],
			        (r->nsubs - i - 1) * sizeof(*r->subs));
			r->nsubs--;
			return;
		}
}

bool registry_pending(const struct registry *r)
{
	return r->nqueue > 0 || r->graveyard;
}

void registry_dispatch(struct registry *r)
{
	if (r->dispatching)
		return; /* a callback's own events join the loop below */
	r->dispatching = true;
	/* Index, not pointer: callbacks may queue more (and realloc the queue). */
	for (size_t i = 0; i < r->nqueue; i++) {
		struct registry_change c = r->queue[i];

		/* A removed entry gets only its REG_REMOVED. */
		if (c.t->dead && c.ev != REG_REMOVED)
			continue;
		for (size_t s = 0; s < r->nsubs; s++)
			r->subs[s].cb(r->subs[s].arg, &c);
	}
	r->nqueue = 0;
	free_graveyard(r);
	r->dispatching = false;
}

/* The one place a tunnel's state changes. */
static void state_apply(struct tunnel_rt *t, enum tunnel_state s, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void state_apply(struct tunnel_rt *t, enum tunnel_state s, const char *fmt, va_list ap)
{
	struct registry *r = t->reg;
	enum tunnel_state from = t->state;

	vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	if (from != s) {
		/* A failure is an error in the journal, a worker that died a warning. */
		if (s == TS_FAILED)
			log_errx("%s: %s -> %s%s%s", t->entry.conf.name, lifecycle_state_name(from),
			         lifecycle_state_name(s), t->reason[0] ? ": " : "", t->reason);
		else if (s == TS_BACKOFF)
			log_warnx("%s: %s -> %s%s%s", t->entry.conf.name,
			          lifecycle_state_name(from), lifecycle_state_name(s),
			          t->reason[0] ? ": " : "", t->reason);
		else
			log_info("%s: %s -> %s%s%s", t->entry.conf.name, lifecycle_state_name(from),
			         lifecycle_state_name(s), t->reason[0] ? ": " : "", t->reason);
		events_publish_state(t->entry.conf.name, lifecycle_state_name(from),
		                     lifecycle_state_name(s), "%s", t->reason);
		t->prev_state = from;
		if (!t->dead) {
			r->per_state[from]--;
			r->per_state[s]++;
		}
	}
	t->state = s;
	t->since = now_of(r);
	queue_push(r, t, REG_STATE, from, s);
}

void registry_set_state(struct tunnel_rt *t, enum tunnel_state s, const char *fmt, ...)
{
	va_list ap;

	if (!lifecycle_allowed(t->state, s))
		log_warnx("%s: unexpected transition %s -> %s (a bug; please report)",
		          t->entry.conf.name, lifecycle_state_name(t->state),
		          lifecycle_state_name(s));
	va_start(ap, fmt);
	state_apply(t, s, fmt, ap);
	va_end(ap);
}

int registry_feed(struct tunnel_rt *t, enum lc_event e, const char *fmt, ...)
{
	enum tunnel_state next;
	va_list ap;

	if (lifecycle_next(t->state, e, &next) < 0) {
		log_debug("%s: event %s ignored in state %s", t->entry.conf.name,
		          lifecycle_event_name(e), lifecycle_state_name(t->state));
		return -EPERM;
	}
	va_start(ap, fmt);
	state_apply(t, next, fmt, ap);
	va_end(ap);
	return 0;
}

void registry_changed(struct tunnel_rt *t)
{
	queue_push(t->reg, t, REG_CHANGED, t->state, t->state);
}

/* Bytes of one tunnel's reason in the STATUS= line. */
#define STATUS_REASON_MAX 120

void registry_status_text(const struct registry *r, char *out, size_t len)
{
	size_t up = 0, total = 0, off, shown = 0, missing = 0;
	int n;

	for (const struct tunnel_rt *t = registry_first(r); t; t = registry_next(t)) {
		if (t->removing)
			continue;
		total++;
		up += t->state == TS_UP;
	}
	n = snprintf(out, len, "%zu of %zu tunnel(s) up", up, total);
	off = n < 0 ? 0 : (size_t)n;
	for (const struct tunnel_rt *t = registry_first(r); t && off < len; t = registry_next(t)) {
		char item[IFNAMSIZ + 160];
		bool cut = strlen(t->reason) > STATUS_REASON_MAX;

		if (t->removing || t->state == TS_UP)
			continue;
		n = snprintf(item, sizeof(item), "%s%s (%s%s%.*s%s)",
		             shown ? ", " : "; not up: ", t->entry.conf.name,
		             lifecycle_state_name(t->state), t->reason[0] ? ": " : "",
		             cut ? STATUS_REASON_MAX - 3 : STATUS_REASON_MAX, t->reason,
		             cut ? "..." : "");
		/* Room for this one and a "..." after it. */
		if (n < 0 || off + (size_t)n + 4 >= len) {
			missing++;
			continue;
		}
		memcpy(out + off, item, (size_t)n + 1);
		off += (size_t)n;
		shown++;
	}
	if (missing && off + 4 < len)
		memcpy(out + off, " ...", 5);
}

void registry_set_reason(struct tunnel_rt *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
}

void registry_set_refresh_msg(struct tunnel_rt *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->refresh_msg, sizeof(t->refresh_msg), fmt, ap);
	va_end(ap);
}

void registry_set_entry(struct tunnel_rt *t, const struct tunnel_entry *e)
{
	t->entry = *e;
}

void registry_set_params(struct tunnel_rt *t, const struct tunnel_params *p)
{
	char password[sizeof(t->entry.conf.params.password)];

	/* Keep a file tunnel's password: a worker's report carries none. */
	memcpy(password, t->entry.conf.params.password, sizeof(password));
	t->entry.conf.params = *p;
	memcpy(t->entry.conf.params.password, password, sizeof(password));
	explicit_bzero(password, sizeof(password));
}
