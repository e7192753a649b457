/* The endpoint update's I/O (dyndns_io.h), in aiccud-tic's update mode. */
#include "dyndns_io.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "deadline.h"
#include "dyndns.h"

struct upd {
	char host[TUNNEL_HOST_MAX], port[8], path[TUNNEL_URL_MAX];
	char name[TUNNEL_HOST_MAX + 16]; /* host:port for messages */
	int fd;
	gnutls_session_t tls;
	struct deadline dl;
	struct ipc_update_result *res;
};

/* A failure: err (-errno) and verdict, with the reason naming the server. */
static int fail(struct upd *u, int err, enum dyndns_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct upd *u, int err, enum dyndns_verdict v, const char *fmt, ...)
{
	char text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	u->res->err = err;
	u->res->verdict = v;
	snprintf(u->res->reason, sizeof(u->res->reason), "%.80s: %.170s", u->name, text);
	return err;
}

static void step(struct upd *u)
{
	deadline_step(&u->dl, DYNDNS_STEP_TIMEOUT_MS);
}

static int wait_fd(struct upd *u, short events)
{
	return deadline_wait_fd(u->fd, &u->dl, events);
}

static int timed_out(struct upd *u, const char *what)
{
	if (deadline_total_first(&u->dl))
		return fail(u, -ETIMEDOUT, DYNDNS_RETRY,
		            "the update took longer than %d s (waiting for %s)",
		            DYNDNS_TOTAL_TIMEOUT_MS / 1000, what);
	return fail(u, -ETIMEDOUT, DYNDNS_RETRY, "timed out after %d s waiting for %s",
	            DYNDNS_STEP_TIMEOUT_MS / 1000, what);
}

static int connect_one(struct upd *u, const struct addrinfo *ai)
{
	int fd;

	step(u);
	fd = deadline_connect(ai, &u->dl);
	u->fd = fd < 0 ? -1 : fd;
	return fd < 0 ? fd : 0;
}

/* IPv4 only: the broker takes the endpoint from an IPv4 request. */
static int tcp_connect(struct upd *u)
{
	struct addrinfo hints = {.ai_family = AF_INET,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV},
	                *res;
	int r = getaddrinfo(u->host, u->port, &hints, &res), one = 1;

	if (r)
		return fail(u, -EHOSTUNREACH, DYNDNS_RETRY, "resolve (IPv4): %s", gai_strerror(r));
	r = -EHOSTUNREACH;
	for (const struct addrinfo *ai = res; ai && !deadline_total_passed(&u->dl);
	     ai = ai->ai_next) {
		r = connect_one(u, ai);
		if (!r)
			break;
	}
	freeaddrinfo(res);
	if (r == -ETIMEDOUT)
		return timed_out(u, "the connection");
	if (r)
		return fail(u, r, DYNDNS_RETRY, "connect: %s", strerror(-r));
	setsockopt(u->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

int dyndns_trust_load(const struct tunnel_update *up, void **cred, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t c;
	int r = gnutls_certificate_allocate_credentials(&c);

	*cred = NULL;
	err[0] = '\0';
	if (r < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(r));
		return -ENOMEM;
	}
	if (up->ca_file[0])
		r = gnutls_certificate_set_x509_trust_file(c, up->ca_file, GNUTLS_X509_FMT_PEM);
	else
		r = gnutls_certificate_set_x509_system_trust(c);
	if (r <= 0) {
		snprintf(err, errlen, "%s%s: %s", up->ca_file[0] ? "ca_file " : "",
		         up->ca_file[0] ? up->ca_file : "the system trust store",
		         r < 0 ? gnutls_strerror(r) : "no certificates");
		gnutls_certificate_free_credentials(c);
		return -EINVAL;
	}
	*cred = c;
	return 0;
}

void dyndns_trust_free(void *cred)
{
	if (cred)
		gnutls_certificate_free_credentials(cred);
}

static int cert_refused(struct upd *u)
{
	unsigned status = gnutls_session_get_verify_cert_status(u->tls);
	gnutls_datum_t txt = {NULL, 0};
	int r;

	/* Tell the server why (a bare reset says nothing), bounded by the step. */
	while ((r = gnutls_alert_send(u->tls, GNUTLS_AL_FATAL,
	                              (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
	                                  ? GNUTLS_A_UNKNOWN_CA
	                                  : GNUTLS_A_BAD_CERTIFICATE)) == GNUTLS_E_AGAIN &&
	       wait_fd(u, POLLOUT) == 0)
		;
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0) < 0)
		txt.data = NULL;
	while (txt.data && txt.size && txt.data[txt.size - 1] == ' ')
		txt.data[--txt.size] = '\0';
	fail(u, -EKEYREJECTED, DYNDNS_STOP, "the server's certificate was refused for '%s': %s",
	     u->host, txt.data ? (const char *)txt.data : "verification failed");
	gnutls_free(txt.data);
	return -EKEYREJECTED;
}

static int tls_start(struct upd *u, void *cred)
{
	struct in6_addr a;
	const char *errpos = NULL;
	int tls_err, r = gnutls_init(&u->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);

	if (r < 0) {
		u->tls = NULL;
		return fail(u, -ENOMEM, DYNDNS_RETRY, "TLS: %s", gnutls_strerror(r));
	}
	r = gnutls_priority_set_direct(u->tls, DYNDNS_TLS_PRIORITY, &errpos);
	if (r >= 0)
		r = gnutls_credentials_set(u->tls, GNUTLS_CRD_CERTIFICATE, cred);
	/* SNI carries names only, never address literals (RFC 6066). */
	if (r >= 0 && inet_pton(AF_INET, u->host, &a) != 1 && inet_pton(AF_INET6, u->host, &a) != 1)
		r = gnutls_server_name_set(u->tls, GNUTLS_NAME_DNS, u->host, strlen(u->host));
	if (r < 0)
		return fail(u, -EINVAL, DYNDNS_STOP, "TLS set-up: %s", gnutls_strerror(r));
	gnutls_session_set_verify_cert(u->tls, u->host, 0);
	gnutls_transport_set_int(u->tls, u->fd);
	gnutls_handshake_set_timeout(u->tls, 0);
	step(u);
	r = deadline_tls_handshake(u->tls, u->fd, &u->dl, &tls_err);
	if (r == 0)
		return 0;
	if (r == -ETIMEDOUT)
		return timed_out(u, "the TLS handshake");
	if (!tls_err)
		return fail(u, r, DYNDNS_RETRY, "TLS handshake: %s", strerror(-r));
	if (tls_err == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
		return cert_refused(u);
	/* No TLS 1.2 or newer, no common cipher: retrying cannot help. */
	if (tls_err == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return fail(u, -EPROTO, DYNDNS_STOP,
		            "TLS handshake: the server sent the alert '%s' (aiccud requires "
		            "TLS 1.2 or newer)",
		            gnutls_alert_get_name(gnutls_alert_get(u->tls)));
	return fail(u, -EPROTO, DYNDNS_STOP, "TLS handshake: %s (aiccud requires TLS 1.2 or newer)",
	            gnutls_strerror(tls_err));
}

static int send_all(struct upd *u, const char *p, size_t left)
{
	step(u);
	while (left) {
		ssize_t n = gnutls_record_send(u->tls, p, left);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			int r = wait_fd(u, POLLOUT);

			if (r == -ETIMEDOUT)
				return timed_out(u, "the server to take the request");
			if (r < 0)
				return fail(u, r, DYNDNS_RETRY, "send: %s", strerror(-r));
			continue;
		}
		if (n < 0)
			return fail(u, -EPROTO, DYNDNS_RETRY, "send: TLS: %s",
			            gnutls_strerror((int)n));
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

/* Until the server closes or the answer is whole; longer than the bound: refused. */
static int read_answer(struct upd *u, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	step(u);
	for (;;) {
		ssize_t n = gnutls_record_recv(u->tls, buf + *len, cap - *len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			int r;

			if (gnutls_record_check_pending(u->tls))
				continue;
			r = wait_fd(u, POLLIN);
			if (r == -ETIMEDOUT)
				return timed_out(u, "the answer");
			if (r < 0)
				return fail(u, r, DYNDNS_RETRY, "receive: %s", strerror(-r));
			continue;
		}
		/* A server that closes without close_notify still ended its answer. */
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		if (n < 0 && !gnutls_error_is_fatal((int)n))
			continue;
		if (n < 0)
			return fail(u, -EPROTO, DYNDNS_RETRY, "receive: TLS: %s",
			            gnutls_strerror((int)n));
		*len += (size_t)n;
		step(u); /* each read has its own step; the whole has the total */
		if (*len == cap)
			return fail(u, -EMSGSIZE, DYNDNS_STOP,
			            "the answer is longer than %d bytes (not a dyndns2 server?)",
			            DYNDNS_ANSWER_MAX);
		if (dyndns_answer_complete(buf, *len))
			return 0;
	}
}

static int run(struct upd *u, const struct ipc_update *req, void *cred, const char *version)
{
	char out[DYNDNS_REQUEST_MAX], in[DYNDNS_ANSWER_MAX + 1];
	struct dyndns_answer a;
	size_t len;
	int n, r;

	n = dyndns_request(out, sizeof(out), req->update.url, &req->update,
	                   req->send_myip ? &req->myip : NULL, version);
	if (n < 0)
		return fail(u, n, DYNDNS_STOP, "cannot build the request: %s", strerror(-n));
	r = tcp_connect(u);
	if (!r)
		r = tls_start(u, cred);
	if (!r)
		r = send_all(u, out, (size_t)n);
	explicit_bzero(out, sizeof(out));
	if (!r)
		r = read_answer(u, in, DYNDNS_ANSWER_MAX, &len);
	if (r)
		return r;
	dyndns_answer_parse(in, len, &a);
	u->res->err = 0;
	u->res->verdict = a.verdict;
	u->res->http_status = a.http_status;
	u->res->addr = a.addr;
	snprintf(u->res->word, sizeof(u->res->word), "%s", a.word);
	if (a.verdict != DYNDNS_OK)
		snprintf(u->res->reason, sizeof(u->res->reason), "%.80s: %.159s", u->name, a.why);
	return 0;
}

void dyndns_update(const struct ipc_update *req, void *cred, const char *trust_err,
                   const char *version, struct ipc_update_result *res)
{
	struct upd u = {.fd = -1, .res = res};

	memset(res, 0, sizeof(*res));
	deadline_start(&u.dl, DYNDNS_TOTAL_TIMEOUT_MS);
	if (dyndns_url_split(req->update.url, u.host, sizeof(u.host), u.port, sizeof(u.port),
	                     u.path, sizeof(u.path)) < 0) {
		snprintf(u.name, sizeof(u.name), "%.100s", req->update.url);
		fail(&u, -EINVAL, DYNDNS_STOP, "not an https://host[:port]/path URL");
		return;
	}
	snprintf(u.name, sizeof(u.name), strchr(u.host, ':') ? "[%s]:%s" : "%s:%s", u.host, u.port);
	if (!cred) {
		fail(&u, -EINVAL, DYNDNS_STOP, "%s",
		     trust_err && *trust_err ? trust_err : "no trust");
		return;
	}
	run(&u, req, cred, version);
	if (u.tls) {
		if (!res->err)
			gnutls_bye(u.tls, GNUTLS_SHUT_WR);
		gnutls_deinit(u.tls);
	}
	if (u.fd >= 0)
		close(u.fd);
}
