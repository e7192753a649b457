/*
 * Heartbeat text (PROTOCOLS.md sections 2 and 7).  Pure: the caller passes
 * the time and the addresses, and sends or receives the datagram itself.
 */
#include "heartbeat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nettle/base16.h>
#include <nettle/md5.h>
#include <nettle/memops.h>

#define MD5_LEN    16
#define MD5_HEXLEN (2 * MD5_LEN)
#define HB_FIELDS  6
#define HB_SENDER  "sender"

/* MD5 over text followed by the password, without joining them in memory. */
static int md5_with_password(const char *text, size_t len, const char *password,
                             uint8_t digest[MD5_LEN])
{
	struct md5_ctx h;

	md5_init(&h);
	md5_update(&h, len, (const uint8_t *)text);
	md5_update(&h, strlen(password), (const uint8_t *)password);
	md5_digest(&h, MD5_LEN, digest);
	explicit_bzero(&h, sizeof(h)); /* it held the password */
	return 0;
}

/*
 * "HEARTBEAT TUNNEL <ipv6> <ipv4|sender> <epoch> ": the text both sides
 * hash, followed by the password.  The epoch is printed here, never copied
 * from a peer, because the PoP re-prints the number before hashing.
 */
static int signed_prefix(char *buf, size_t size, const char *ipv6, const char *ipv4, uint64_t epoch)
{
	int n = snprintf(buf, size, "HEARTBEAT TUNNEL %s %s %" PRIu64 " ", ipv6, ipv4, epoch);

	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

int heartbeat_format(char *out, size_t outlen, const struct in6_addr *local6,
                     const struct in_addr *local4, uint64_t epoch, const char *password)
{
	char ipv6[INET6_ADDRSTRLEN], ipv4[INET_ADDRSTRLEN] = HB_SENDER;
	char text[HEARTBEAT_MAX_LEN + 1];
	uint8_t digest[MD5_LEN];
	int n, err;

	if (!local6 || !password)
		return -EINVAL;
	if (!inet_ntop(AF_INET6, local6, ipv6, sizeof(ipv6)) ||
	    (local4 && !inet_ntop(AF_INET, local4, ipv4, sizeof(ipv4))))
		return -EINVAL;
	n = signed_prefix(text, sizeof(text), ipv6, ipv4, epoch);
	if (n < 0 || (size_t)n + MD5_HEXLEN > HEARTBEAT_MAX_LEN || (size_t)n + MD5_HEXLEN >= outlen)
		return -ENOSPC;
	err = md5_with_password(text, (size_t)n, password, digest);
	explicit_bzero(text + n, sizeof(text) - (size_t)n);
	if (err)
		return err;
	base16_encode_update(text + n, MD5_LEN, digest); /* lower-case, as the PoP writes it */
	text[n + MD5_HEXLEN] = '\0';
	memcpy(out, text, (size_t)n + MD5_HEXLEN + 1);
	return n + MD5_HEXLEN;
}

/* A received heartbeat cut into its six fields (NUL-terminated in buf). */
struct hb_split {
	char buf[HEARTBEAT_MAX_LEN + 1];
	const char *field[HB_FIELDS];
	uint8_t digest[MD5_LEN];
};

/* Fields are separated by exactly one space; an empty field is an error. */
static int split_fields(char *s, const char *field[HB_FIELDS])
{
	for (int i = 0; i < HB_FIELDS; i++) {
		char *sp = strchr(s, ' ');

		field[i] = s;
		if (i < HB_FIELDS - 1) {
			if (!sp)
				return -1;
			*sp = '\0';
			s = sp + 1;
		} else if (sp) {
			return -1;
		}
		if (!*field[i])
			return -1;
	}
	return 0;
}

/* Plain unsigned decimal that fits 64 bits (leading zeros allowed here). */
static int parse_epoch(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_digest(const char *s, uint8_t digest[MD5_LEN])
{
	struct base16_decode_ctx ctx;
	size_t n = MD5_LEN;

	if (strlen(s) != MD5_HEXLEN || strspn(s, "0123456789abcdefABCDEF") != MD5_HEXLEN)
		return -1;
	base16_decode_init(&ctx);
	if (!base16_decode_update(&ctx, &n, digest, MD5_HEXLEN, s) || n != MD5_LEN ||
	    !base16_decode_final(&ctx))
		return -1;
	return 0;
}

static int split_heartbeat(const char *msg, size_t len, struct hb_split *sp,
                           struct heartbeat_view *view)
{
	const char **f = sp->field;

	if (!msg || len > HEARTBEAT_MAX_LEN)
		return -1;
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		len--;
	if (memchr(msg, '\0', len))
		return -1;
	memcpy(sp->buf, msg, len);
	sp->buf[len] = '\0';
	if (split_fields(sp->buf, f) < 0)
		return -1;
	if (strcmp(f[0], "HEARTBEAT") != 0 || strcmp(f[1], "TUNNEL") != 0)
		return -1;
	memset(view, 0, sizeof(*view));
	if (inet_pton(AF_INET6, f[2], &view->ipv6) != 1)
		return -1;
	view->sender = strcmp(f[3], HB_SENDER) == 0;
	if (!view->sender && inet_pton(AF_INET, f[3], &view->ipv4) != 1)
		return -1;
	if (parse_epoch(f[4], &view->epoch) < 0 || parse_digest(f[5], sp->digest) < 0)
		return -1;
	return 0;
}

enum heartbeat_verdict heartbeat_parse(const char *msg, size_t len, struct heartbeat_view *out)
{
	struct hb_split sp;

	return split_heartbeat(msg, len, &sp, out) < 0 ? HEARTBEAT_ERR_SYNTAX : HEARTBEAT_OK;
}

static int hash_ok(const struct hb_split *sp, uint64_t epoch, const char *password)
{
	char text[2 * (HEARTBEAT_MAX_LEN + 1)];
	uint8_t digest[MD5_LEN];
	int n = signed_prefix(text, sizeof(text), sp->field[2], sp->field[3], epoch);

	if (n < 0 || md5_with_password(text, (size_t)n, password, digest) < 0)
		return 0;
	return memeql_sec(digest, sp->digest, MD5_LEN);
}

enum heartbeat_verdict heartbeat_verify(const char *msg, size_t len, const struct in_addr *src,
                                        const char *password, const struct in6_addr *expect6,
                                        uint64_t now, struct heartbeat_view *out)
{
	struct hb_split sp;
	uint64_t skew;

	if (split_heartbeat(msg, len, &sp, out) < 0)
		return HEARTBEAT_ERR_SYNTAX;
	if (out->sender && src)
		out->ipv4 = *src;
	if (expect6 && memcmp(&out->ipv6, expect6, sizeof(*expect6)) != 0)
		return HEARTBEAT_ERR_IDENTITY;
	if (!out->sender && src && out->ipv4.s_addr != src->s_addr)
		return HEARTBEAT_ERR_ADDRESS;
	skew = out->epoch > now ? out->epoch - now : now - out->epoch;
	if (skew > HEARTBEAT_MAX_SKEW)
		return HEARTBEAT_ERR_CLOCK;
	if (!password || !hash_ok(&sp, out->epoch, password))
		return HEARTBEAT_ERR_HASH;
	return HEARTBEAT_OK;
}

const char *heartbeat_verdict_name(enum heartbeat_verdict v)
{
	switch (v) {
	case HEARTBEAT_OK:
		return "ok";
	case HEARTBEAT_ERR_SYNTAX:
		return "syntax";
	case HEARTBEAT_ERR_IDENTITY:
		return "identity";
	case HEARTBEAT_ERR_ADDRESS:
		return "address";
	case HEARTBEAT_ERR_CLOCK:
		return "clock";
	case HEARTBEAT_ERR_HASH:
		return "hash";
	case HEARTBEAT_VERDICT_COUNT:
		break;
	}
	return "unknown";
}
