/*
 * The pure half of update.h: the persisted state of a tunnel's endpoint
 * updates (its file's text), the check of what the update child reports,
 * the back-off, and the fingerprint of an [update] section.  No loop, no
 * I/O; unit-tested alone (tests/unit/test_update_plan.c).
 */
#ifndef AICCUD_UPDATE_PLAN_H
#define AICCUD_UPDATE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <netinet/in.h>

#include "ipc.h"
#include "tunnel.h"

#define UPDATE_FP_HEX        64 /* SHA-256 in hex */
#define UPDATE_WORD_MAX      64
#define UPDATE_STATE_MAX     2048
#define UPDATE_RETRY_FIRST_S 30.0   /* 911 or no answer: first back-off, doubling */
#define UPDATE_RETRY_MAX_S   1800.0 /* its cap */

/* What survives a restart (state_dir/update/<tunnel>). */
struct update_saved {
	struct in_addr ok_addr; /* the address the broker last took (0: none yet) */
	time_t ok_at;
	char ok_word[UPDATE_WORD_MAX]; /* good or nochg */
	time_t last_at;                /* the last request, whatever became of it */
	struct in_addr last_addr;
	char last_word[UPDATE_WORD_MAX]; /* the broker's word, or "error" */
	char last_reason[256];
	bool stopped;                    /* badauth and the like: wait for a person */
	char stop_fp[UPDATE_FP_HEX + 1]; /* the [update] section that was stopped */
	time_t retry_at;                 /* a back-off's end; 0: none */
};

/* "key value" lines; the length, or -ENOSPC. */
int update_saved_format(const struct update_saved *s, char *buf, size_t len);
/*
 * Fill s from buf (zeroed first).  Unknown keys and malformed values are
 * left out; text is made printable.  Never fails: what cannot be read
 * means "no update known", which at worst asks the broker once more.
 */
void update_saved_parse(const char *buf, size_t len, struct update_saved *s);

/*
 * The update child's result, checked before anything is believed: a known
 * verdict, OK only with err 0 and good/nochg, strings cut at their size
 * and made printable (in place).  false: treat as "no result".
 */
bool update_result_check(struct ipc_update_result *r);

/* The back-off after the n-th failure in a row (n >= 1). */
double update_backoff_s(unsigned n);

/* SHA-256 of the section's values, hex: "until its [update] section changes". */
void update_fingerprint(const struct tunnel_update *u, char out[UPDATE_FP_HEX + 1]);

#endif
