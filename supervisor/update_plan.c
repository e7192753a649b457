/* The pure half of the endpoint updates (update_plan.h). */
#include "update_plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <nettle/sha2.h>

#include "dyndns.h"

/* Printable and bounded: what a child or a file says goes into status and the log. */
static void clean_copy(char *dst, size_t len, const char *src, size_t srclen)
{
	size_t i;

	for (i = 0; i + 1 < len && i < srclen && src[i]; i++)
		dst[i] =
		    ((unsigned char)src[i] < 0x20 || (unsigned char)src[i] >= 0x7f) ? '?' : src[i];
	dst[i] = '\0';
}

static const char *addr_or_dash(struct in_addr a, char *buf, size_t len)
{
	if (!a.s_addr || !inet_ntop(AF_INET, &a, buf, (socklen_t)len))
		snprintf(buf, len, "-");
	return buf;
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

int update_saved_format(const struct update_saved *s, char *buf, size_t len)
{
	char ok[INET_ADDRSTRLEN], last[INET_ADDRSTRLEN];
	int n = snprintf(buf, len,
	                 "ok_addr %s\nok_at %lld\nok_word %s\nlast_at %lld\nlast_addr %s\n"
	                 "last_word %s\nlast_reason %s\nstopped %s\nretry_at %lld\n",
	                 addr_or_dash(s->ok_addr, ok, sizeof(ok)), (long long)s->ok_at,
	                 or_dash(s->ok_word), (long long)s->last_at,
	                 addr_or_dash(s->last_addr, last, sizeof(last)), or_dash(s->last_word),
	                 or_dash(s->last_reason), s->stopped ? s->stop_fp : "-",
	                 (long long)s->retry_at);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static time_t parse_time(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	return *s && !*end && v > 0 ? (time_t)v : 0;
}

static bool hex64(const char *s)
{
	if (strlen(s) != UPDATE_FP_HEX)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return false;
	return true;
}

static void field(struct update_saved *s, const char *key, const char *v)
{
	struct in_addr a;

	if (strcmp(key, "ok_addr") == 0 && inet_pton(AF_INET, v, &a) == 1)
		s->ok_addr = a;
	else if (strcmp(key, "last_addr") == 0 && inet_pton(AF_INET, v, &a) == 1)
		s->last_addr = a;
	else if (strcmp(key, "ok_at") == 0)
		s->ok_at = parse_time(v);
	else if (strcmp(key, "last_at") == 0)
		s->last_at = parse_time(v);
	else if (strcmp(key, "retry_at") == 0)
		s->retry_at = parse_time(v);
	else if (strcmp(key, "ok_word") == 0 && strcmp(v, "-"))
		snprintf(s->ok_word, sizeof(s->ok_word), "%.*s", UPDATE_WORD_MAX - 1, v);
	else if (strcmp(key, "last_word") == 0 && strcmp(v, "-"))
		snprintf(s->last_word, sizeof(s->last_word), "%.*s", UPDATE_WORD_MAX - 1, v);
	else if (strcmp(key, "last_reason") == 0 && strcmp(v, "-"))
		snprintf(s->last_reason, sizeof(s->last_reason), "%s", v);
	else if (strcmp(key, "stopped") == 0 && hex64(v)) {
		s->stopped = true;
		memcpy(s->stop_fp, v, UPDATE_FP_HEX + 1);
	}
}

void update_saved_parse(const char *buf, size_t len, struct update_saved *s)
{
	const char *p = buf, *end = buf + len;

	memset(s, 0, sizeof(*s));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *sp = memchr(p, ' ', n);
		char key[16], val[256];

		if (sp && (size_t)(sp - p) < sizeof(key)) {
			memcpy(key, p, (size_t)(sp - p));
			key[sp - p] = '\0';
			clean_copy(val, sizeof(val), sp + 1, n - (size_t)(sp - p) - 1);
			field(s, key, val);
		}
		p += n + 1;
	}
}

bool update_result_check(struct ipc_update_result *r)
{
	char word[sizeof(r->word)], reason[sizeof(r->reason)];

	clean_copy(word, sizeof(word), r->word, sizeof(r->word));
	clean_copy(reason, sizeof(reason), r->reason, sizeof(r->reason));
	memcpy(r->word, word, sizeof(word));
	memcpy(r->reason, reason, sizeof(reason));
	if (r->verdict != DYNDNS_OK && r->verdict != DYNDNS_RETRY && r->verdict != DYNDNS_STOP)
		return false;
	if (r->verdict == DYNDNS_OK)
		return r->err == 0 && (!strcmp(r->word, "good") || !strcmp(r->word, "nochg"));
	return r->err <= 0;
}

double update_backoff_s(unsigned n)
{
	double s = UPDATE_RETRY_FIRST_S;

	for (unsigned i = 1; i < n && s < UPDATE_RETRY_MAX_S; i++)
		s *= 2;
	return s < UPDATE_RETRY_MAX_S ? s : UPDATE_RETRY_MAX_S;
}

void update_fingerprint(const struct tunnel_update *u, char out[UPDATE_FP_HEX + 1])
{
	const char *parts[] = {u->url, u->username, u->key, u->hostname, u->ca_file};
	uint8_t dig[SHA256_DIGEST_SIZE];
	struct sha256_ctx h;

	sha256_init(&h);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		sha256_update(&h, strnlen(parts[i], TUNNEL_URL_MAX) + 1, (const uint8_t *)parts[i]);
	sha256_digest(&h, sizeof(dig), dig);
	for (size_t i = 0; i < sizeof(dig); i++)
		snprintf(out + 2 * i, 3, "%02x", dig[i]);
}
