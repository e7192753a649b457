/* The pure half of the endpoint update (dyndns.h). */
#include "dyndns.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <nettle/base64.h>

int dyndns_url_split(const char *url, char *host, size_t hostlen, char *port, size_t portlen,
                     char *path, size_t pathlen)
{
	const char *h, *slash, *colon, *end;
	size_t n;

	if (strncmp(url, "https://", 8) != 0)
		return -EINVAL;
	h = url + 8;
	slash = strchr(h, '/');
	end = slash ? slash : h + strlen(h);
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (!close)
			return -EINVAL;
		n = (size_t)(close - h - 1);
		colon = close[1] == ':' ? close + 1 : NULL;
		h++;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
	}
	if (n == 0 || n >= hostlen)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	n = colon ? (size_t)(end - colon - 1) : 3;
	if (n == 0 || n >= portlen)
		return -EINVAL;
	memcpy(port, colon ? colon + 1 : "443", n);
	port[n] = '\0';
	n = slash ? strlen(slash) : 1;
	if (n >= pathlen)
		return -EINVAL;
	memcpy(path, slash ? slash : "/", n + 1);
	return 0;
}

bool dyndns_addr_public(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return !((h >> 24) == 0 || (h >> 24) == 10 || (h >> 24) == 127 ||
	         (h & 0xfff00000u) == 0xac100000u || /* 172.16/12 */
	         (h & 0xffff0000u) == 0xc0a80000u || /* 192.168/16 */
	         (h & 0xffc00000u) == 0x64400000u || /* 100.64/10, RFC 6598 */
	         (h & 0xffff0000u) == 0xa9fe0000u || /* 169.254/16 */
	         h >= 0xe0000000u);                  /* multicast, class E, broadcast */
}

static bool header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Query-string encoding: unreserved characters stay, the rest as %XX. */
static int query_put(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c)) {
			if (o + 1 >= len)
				return -ENOSPC;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= len)
				return -ENOSPC;
			snprintf(out + o, 4, "%%%02X", c);
			o += 3;
		}
	}
	out[o] = '\0';
	return 0;
}

static int basic_auth(char *out, size_t len, const char *user, const char *key)
{
	char plain[TUNNEL_USER_MAX + TUNNEL_PASSWORD_MAX + 2];
	int n = snprintf(plain, sizeof(plain), "%s:%s", user, key);

	if (n < 0 || (size_t)n >= sizeof(plain) || BASE64_ENCODE_RAW_LENGTH((size_t)n) >= len) {
		explicit_bzero(plain, sizeof(plain));
		return -ENOSPC;
	}
	base64_encode_raw(out, (size_t)n, (const uint8_t *)plain);
	out[BASE64_ENCODE_RAW_LENGTH((size_t)n)] = '\0';
	explicit_bzero(plain, sizeof(plain));
	return 0;
}

int dyndns_request(char *buf, size_t len, const char *url, const struct tunnel_update *u,
                   const struct in_addr *myip, const char *version)
{
	char host[TUNNEL_HOST_MAX], port[8], path[TUNNEL_URL_MAX], id[3 * TUNNEL_HOST_MAX];
	char auth[BASE64_ENCODE_RAW_LENGTH(TUNNEL_USER_MAX + TUNNEL_PASSWORD_MAX) + 8];
	char ip[INET_ADDRSTRLEN] = "";
	bool v6;
	int n;

	if (dyndns_url_split(url, host, sizeof(host), port, sizeof(port), path, sizeof(path)) < 0 ||
	    !header_safe(url) || !header_safe(u->username) || !header_safe(u->key) ||
	    !header_safe(version) || strchr(u->username, ':') || !u->hostname[0])
		return -EINVAL;
	if (query_put(id, sizeof(id), u->hostname) < 0 ||
	    basic_auth(auth, sizeof(auth), u->username, u->key) < 0)
		return -ENOSPC;
	if (myip)
		inet_ntop(AF_INET, myip, ip, sizeof(ip));
	v6 = strchr(host, ':') != NULL;
	n = snprintf(buf, len,
	             "GET %s?hostname=%s%s%s HTTP/1.1\r\n"
	             "Host: %s%s%s%s%s\r\n"
	             "Authorization: Basic %s\r\n"
	             "User-Agent: aiccud/%s\r\n"
	             "Accept: text/plain\r\n"
	             "Connection: close\r\n"
	             "\r\n",
	             path, id, myip ? "&myip=" : "", ip, v6 ? "[" : "", host, v6 ? "]" : "",
	             strcmp(port, "443") ? ":" : "", strcmp(port, "443") ? port : "", auth,
	             version);
	explicit_bzero(auth, sizeof(auth));
	if (n < 0 || (size_t)n >= len) {
		explicit_bzero(buf, len);
		return -ENOSPC;
	}
	return n;
}

/* ---- the answer ---- */

struct word_meaning {
	const char *word;
	enum dyndns_verdict verdict;
};

/* dyndns2's return codes; what is not here is not a dyndns2 answer. */
static const struct word_meaning words[] = {
    {"good", DYNDNS_OK},      {"nochg", DYNDNS_OK},      {"911", DYNDNS_RETRY},
    {"dnserr", DYNDNS_RETRY}, {"badauth", DYNDNS_STOP},  {"nohost", DYNDNS_STOP},
    {"abuse", DYNDNS_STOP},   {"badagent", DYNDNS_STOP}, {"notfqdn", DYNDNS_STOP},
    {"numhost", DYNDNS_STOP}, {"!donator", DYNDNS_STOP}, {"!yours", DYNDNS_STOP},
    {"badsys", DYNDNS_STOP},  {"!active", DYNDNS_STOP},
};

/* The next line of [*p, end): its length without CR LF; *p moves past it.  -1: none. */
static long line_next(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	long n;

	if (!nl)
		return -1;
	n = nl - *p;
	if (n && (*p)[n - 1] == '\r')
		n--;
	*p = nl + 1;
	return n;
}

static void why_set(struct dyndns_answer *a, enum dyndns_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void why_set(struct dyndns_answer *a, enum dyndns_verdict v, const char *fmt, ...)
{
	va_list ap;

	a->verdict = v;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

/* "HTTP/1.x NNN reason" */
static int status_parse(const char *s, long n)
{
	if (n < 12 || strncmp(s, "HTTP/1.", 7) != 0 || s[8] != ' ' ||
	    !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) ||
	    !isdigit((unsigned char)s[11]) || (n > 12 && s[12] != ' '))
		return -1;
	return (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
}

static bool header_is(const char *s, long n, const char *name, const char *value)
{
	size_t k = strlen(name);
	const char *v;

	if ((size_t)n <= k || strncasecmp(s, name, k) != 0 || s[k] != ':')
		return false;
	for (v = s + k + 1; v < s + n && (*v == ' ' || *v == '\t'); v++)
		;
	return (size_t)(s + n - v) >= strlen(value) && strncasecmp(v, value, strlen(value)) == 0;
}

/* The body's first line: a plain body, or the first chunk of a chunked one. */
static bool body_line(const char *p, const char *end, bool chunked, char *out, size_t len)
{
	size_t n;

	if (chunked) {
		/* the chunk size in hex, read within [p, end): the answer is not a string */
		const char *q = p;
		size_t size = 0;
		const char *nl;

		for (; q < end && isxdigit((unsigned char)*q); q++) {
			if (size > (size_t)(end - p)) /* larger than the answer: no overflow */
				return false;
			size = size * 16 + (size_t)(isdigit((unsigned char)*q)
			                                ? *q - '0'
			                                : tolower((unsigned char)*q) - 'a' + 10);
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		if (q == p || !nl || size > (size_t)(end - nl - 1))
			return false;
		p = nl + 1;
		end = p + size;
	}
	n = (size_t)(end - p);
	{
		const char *nl = memchr(p, '\n', n);

		if (nl)
			n = (size_t)(nl - p);
	}
	while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	while (n && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* For status: the start of what the server said, control characters as '?'. */
static void printable_copy(char *out, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) ? '?' : s[i];
	out[i] = '\0';
}

static void body_judge(struct dyndns_answer *a, const char *line)
{
	char word[DYNDNS_WORD_MAX], shown[48];
	size_t n = strcspn(line, " \t");
	const char *rest = line + n;

	printable_copy(shown, sizeof(shown), line);
	if (n == 0 || n >= sizeof(word)) {
		why_set(a, a->http_status >= 500 ? DYNDNS_RETRY : DYNDNS_STOP,
		        "HTTP %d with no dyndns2 answer ('%s')", a->http_status, shown);
		return;
	}
	memcpy(word, line, n);
	word[n] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(word, words[i].word) != 0)
			continue;
		snprintf(a->word, sizeof(a->word), "%s", word);
		a->verdict = words[i].verdict;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (a->verdict == DYNDNS_OK && inet_pton(AF_INET, rest, &a->addr) != 1)
			a->addr.s_addr = 0;
		if (a->verdict != DYNDNS_OK)
			snprintf(a->why, sizeof(a->why), "the broker answered '%s'", word);
		return;
	}
	if (a->http_status >= 500)
		why_set(a, DYNDNS_RETRY, "HTTP %d: '%s'", a->http_status, shown);
	else if (line[0] == '<')
		why_set(a, DYNDNS_STOP, "not a dyndns2 answer (HTTP %d, an HTML page: '%s')",
		        a->http_status, shown);
	else
		why_set(a, DYNDNS_STOP, "not a dyndns2 answer (HTTP %d: '%s')", a->http_status,
		        shown);
}

bool dyndns_answer_complete(const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n, *body = NULL;
	long clen = -1, len;
	bool chunked = false;

	if (line_next(&p, end) < 0)
		return false;
	for (;;) {
		const char *start = p;

		len = line_next(&p, end);
		if (len < 0)
			return false;
		if (len == 0) {
			body = p;
			break;
		}
		if (header_is(start, len, "Transfer-Encoding", "chunked"))
			chunked = true;
		if ((size_t)len > 15 && strncasecmp(start, "Content-Length:", 15) == 0) {
			char num[16];
			size_t k =
			    (size_t)len - 15 < sizeof(num) - 1 ? (size_t)len - 15 : sizeof(num) - 1;
			char *stop;

			memcpy(num, start + 15, k);
			num[k] = '\0';
			clen = strtol(num, &stop, 10);
			if (stop == num)
				clen = -1;
		}
	}
	if (chunked)
		return (end - body >= 5 && memcmp(body, "0\r\n\r\n", 5) == 0) ||
		       memmem(body, (size_t)(end - body), "\r\n0\r\n\r\n", 7) != NULL;
	return clen >= 0 && end - body >= clen;
}

void dyndns_answer_parse(const char *buf, size_t n, struct dyndns_answer *out)
{
	const char *p = buf, *end = buf + n;
	char line[128];
	bool chunked = false;
	long len;

	memset(out, 0, sizeof(*out));
	if (memchr(buf, '\0', n)) {
		why_set(out, DYNDNS_STOP, "a NUL byte in the answer");
		return;
	}
	len = line_next(&p, end);
	out->http_status = len < 0 ? -1 : status_parse(buf, len);
	if (out->http_status < 0) {
		out->http_status = 0;
		why_set(out, DYNDNS_STOP, "not an HTTP answer");
		return;
	}
	for (;;) {
		const char *start = p;

		len = line_next(&p, end);
		if (len <= 0)
			break;
		if (header_is(start, len, "Transfer-Encoding", "chunked"))
			chunked = true;
	}
	if (len < 0) {
		why_set(out, DYNDNS_STOP, "the answer's headers do not end");
		return;
	}
	if (!body_line(p, end, chunked, line, sizeof(line))) {
		why_set(out, DYNDNS_STOP, "a broken chunked answer");
		return;
	}
	body_judge(out, line);
}
