/*
 * Endpoint updates for 6in4 brokers (dyndns2, as Hurricane Electric's
 * tunnelbroker; PROTOCOLS.md 8): the request's bytes and the answer's
 * meaning.  Pure: no sockets, no globals; the fetcher (dyndns_io.c) moves
 * the bytes, the parent (supervisor/update.c) decides when to ask.
 */
#ifndef AICCUD_DYNDNS_H
#define AICCUD_DYNDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#include "tunnel.h"

#define DYNDNS_REQUEST_MAX 2048
#define DYNDNS_ANSWER_MAX  4096 /* the whole HTTP answer, headers and body */
#define DYNDNS_WORD_MAX    64   /* the broker's word, as shown in status */

/* What an answer means for the tunnel (and the client policy of dyndns2). */
enum dyndns_verdict {
	DYNDNS_OK = 1, /* good, nochg: the broker has the address */
	DYNDNS_RETRY,  /* 911, dnserr, the network, a timeout: again after a back-off */
	DYNDNS_STOP,   /* badauth, nohost, abuse, badagent, ...: wait for a person */
};

struct dyndns_answer {
	enum dyndns_verdict verdict;
	int http_status;            /* 0 when there was no status line */
	char word[DYNDNS_WORD_MAX]; /* "good", "nochg", "badauth", ...; printable */
	struct in_addr addr;        /* the address after good/nochg; 0.0.0.0 if none */
	char why[160];              /* a sentence for status when the answer is refused */
};

/* https://host[:port]/path split; host without brackets, port "443" by default. */
int dyndns_url_split(const char *url, char *host, size_t hostlen, char *port, size_t portlen,
                     char *path, size_t pathlen);

/*
 * myip is sent only for a public address: not for RFC 1918 space, RFC 6598
 * shared space (carrier-grade NAT), loopback, link-local or 0.0.0.0, where
 * the broker must take the request's source (the NAT's address) instead.
 */
bool dyndns_addr_public(struct in_addr a);

/*
 * The HTTP/1.1 GET into buf (NUL-terminated): path?hostname=..[&myip=..],
 * Host, basic authentication (username:key), User-Agent "aiccud/<version>",
 * Connection: close.  myip NULL: left out.  Length, or -ENOSPC / -EINVAL
 * (a field with CR, LF or NUL, or a username with ':').
 */
int dyndns_request(char *buf, size_t len, const char *url, const struct tunnel_update *u,
                   const struct in_addr *myip, const char *version);

/*
 * Whether buf holds a whole answer before the server closes: the headers
 * ended and the body is as long as Content-Length says, or a chunked
 * body's last chunk came.  Without either only the end of the connection
 * ends it.
 */
bool dyndns_answer_complete(const char *buf, size_t n);

/*
 * The answer (at most DYNDNS_ANSWER_MAX bytes, complete: the server closed
 * the connection): status line, headers, body (plain or chunked).  The
 * first word of the body decides.  Never fails: what is not a dyndns2
 * answer is DYNDNS_STOP with why saying what it was.
 */
void dyndns_answer_parse(const char *buf, size_t n, struct dyndns_answer *out);

#endif
