/*
 * TIC over TCP and gnutls: moves bytes for the session of tic.c.  Runs in
 * the fetcher child (no privileges needed beyond reaching the network).
 */
#include "tic_io.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <gnutls/gnutls.h>

#include "deadline.h"

#ifndef AICCUD_VERSION
#define AICCUD_VERSION "0"
#endif

struct fetch {
	const struct tic_account *acct;
	const struct tic_io_opts *opts;
	struct tic_session sess;
	struct tic_lines lines;
	char host[TUNNEL_HOST_MAX];
	char port[8];
	char name[TUNNEL_HOST_MAX + 16]; /* "host:port" for messages */
	int fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	unsigned step_ms, total_ms;
	struct deadline dl;
	bool warned;
	struct utsname uts; /* the session points into it */
};

static time_t wall_now(const struct fetch *f)
{
	return f->opts->clock ? f->opts->clock(f->opts->clock_ctx) : time(NULL);
}

static void fmt_duration(unsigned ms, char *buf, size_t len)
{
	if (ms % 1000)
		snprintf(buf, len, "%u ms", ms);
	else
		snprintf(buf, len, "%u s", ms / 1000);
}

/* Describe a deadline that passed while waiting for `what`. */
static enum tic_action timed_out(struct fetch *f, const char *what)
{
	char d[32];

	if (deadline_total_first(&f->dl)) {
		fmt_duration(f->total_ms, d, sizeof(d));
		return tic_session_fail(&f->sess, -ETIMEDOUT,
		                        "%s: the session took longer than %s (waiting for %s)",
		                        f->sess.doing, d, what);
	}
	fmt_duration(f->step_ms, d, sizeof(d));
	return tic_session_fail(&f->sess, -ETIMEDOUT, "timed out after %s waiting for %s", d, what);
}

static void start_step(struct fetch *f)
{
	deadline_step(&f->dl, f->step_ms);
}

/* Wait until the connection has `events`, or -ETIMEDOUT at the nearer deadline. */
static int wait_fd(struct fetch *f, short events)
{
	return deadline_wait_fd(f->fd, &f->dl, events);
}

/* ---- connect ---- */

static int connect_one(struct fetch *f, const struct addrinfo *ai)
{
	int fd = deadline_connect(ai, &f->dl);

	f->fd = fd < 0 ? -1 : fd;
	return fd < 0 ? fd : 0;
}

/* "192.0.2.1" or "2001:db8::1" for messages. */
static void addr_text(const struct addrinfo *ai, char *buf, size_t len)
{
	const void *a = ai->ai_family == AF_INET6
	                    ? (const void *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
	                    : (const void *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr;

	if (!inet_ntop(ai->ai_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static void say(struct fetch *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct fetch *f, const char *fmt, ...)
{
	char msg[TIC_ERR_MAX + sizeof(f->name) + 2];
	int n = snprintf(msg, sizeof(msg), "%s: ", f->name);
	va_list ap;

	if (!f->opts->info)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	f->opts->info(f->opts->info_ctx, msg);
}

/* Append "<addr>: <why>" to the list of addresses that did not answer. */
static void tried_add(char *tried, size_t len, const char *addr, int r, unsigned step_ms)
{
	size_t off = strlen(tried);
	char why[64];

	if (r == -ETIMEDOUT) {
		snprintf(why, sizeof(why), "timed out after ");
		fmt_duration(step_ms, why + strlen(why), sizeof(why) - strlen(why));
	} else {
		snprintf(why, sizeof(why), "%s", strerror(-r));
	}
	if (off < len)
		snprintf(tried + off, len - off, "%s%s: %s", off ? "; " : "", addr, why);
}

/*
 * The resolved addresses in order until one accepts, as the real client
 * did (PROTOCOLS.md 7.1): a TCP connection that never reached a TIC server
 * is not a broker connection, so all of this is one limiter token.  Each
 * address gets the step timeout, all of them together the session's.
 */
static enum tic_action tcp_connect(struct fetch *f)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
	char tried[TIC_ERR_MAX / 2] = "", addr[INET6_ADDRSTRLEN];
	int r, one = 1, n = 0, total = 0;

	snprintf(f->sess.doing, sizeof(f->sess.doing), "connect");
	start_step(f);
	r = getaddrinfo(f->host, f->port, &hints, &res);
	if (r)
		return tic_session_fail(&f->sess, -EHOSTUNREACH, "resolve: %s", gai_strerror(r));
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
		total++;
	r = -EHOSTUNREACH;
	for (const struct addrinfo *ai = res; ai && n < TIC_CONNECT_ADDRS_MAX; ai = ai->ai_next) {
		n++;
		addr_text(ai, addr, sizeof(addr));
		start_step(f);
		r = connect_one(f, ai);
		if (!r)
			break;
		tried_add(tried, sizeof(tried), addr, r, f->step_ms);
		if (deadline_total_passed(&f->dl))
			break; /* wait_fd stopped at the session's deadline */
		if (ai->ai_next && n < TIC_CONNECT_ADDRS_MAX)
			say(f, "connect to %s: %s; trying the next address", addr,
			    r == -ETIMEDOUT ? "timed out" : strerror(-r));
	}
	freeaddrinfo(res);
	if (r == -ETIMEDOUT && deadline_total_passed(&f->dl))
		return timed_out(f, "a TIC server to accept the connection");
	if (r)
		return tic_session_fail(&f->sess, r, "connect: %s", tried);
	say(f, "connected to %s (address %d of %d)", addr, n, total);
	/* Nagle plus delayed ACKs would stall every exchange by ~40 ms. */
	setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	snprintf(f->sess.doing, sizeof(f->sess.doing), "welcome");
	start_step(f);
	return TIC_ACT_READ;
}

/* ---- reading and writing ---- */

static enum tic_action tls_error(struct fetch *f, int r)
{
	return tic_session_fail(&f->sess, -EPROTO, "%s: TLS: %s", f->sess.doing,
	                        gnutls_strerror(r));
}

/* Receive into the splitter: >0 bytes, 0 on EOF, <0 when the action is set. */
static ssize_t recv_some(struct fetch *f, enum tic_action *a)
{
	char buf[sizeof(f->lines.buf)];
	size_t room = tic_lines_room(&f->lines);
	ssize_t n;

	for (;;) {
		int r;

		/*
		 * Read first, poll only on "again": data gnutls already holds
		 * (gnutls_record_check_pending) is returned without a wait.
		 */
		if (f->tls) {
			n = gnutls_record_recv(f->tls, buf, room);
			/*
			 * AGAIN also comes while TLS 1.3 session tickets are
			 * processed: not an error, wait for more.
			 */
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				if (gnutls_record_check_pending(f->tls))
					continue;
				n = -1;
				errno = EAGAIN;
			} else if (n < 0 && !gnutls_error_is_fatal((int)n)) {
				continue;
			} else if (n < 0) {
				*a = tls_error(f, (int)n);
				return -1;
			}
		} else {
			n = recv(f->fd, buf, room, 0);
		}
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			*a = tic_session_fail(&f->sess, -errno, "%s: receive: %s", f->sess.doing,
			                      strerror(errno));
			return -1;
		}
		r = wait_fd(f, POLLIN);
		if (r == -ETIMEDOUT) {
			char what[sizeof(f->sess.doing) + 32];

			if (f->sess.state == TIC_S_WELCOME)
				snprintf(what, sizeof(what), "the welcome line");
			else
				snprintf(what, sizeof(what), "the reply to '%s'", f->sess.doing);
			*a = timed_out(f, what);
			return -1;
		}
		if (r < 0) {
			*a = tic_session_fail(&f->sess, r, "%s: poll: %s", f->sess.doing,
			                      strerror(-r));
			return -1;
		}
	}
	tic_lines_push(&f->lines, buf, (size_t)n);
	return n;
}

static enum tic_action on_eof(struct fetch *f)
{
	/* A server that closes before greeting is the broker refusing us. */
	if (f->sess.state == TIC_S_WELCOME)
		return tic_session_fail(&f->sess, TIC_ERR_REFUSED,
		                        "welcome: the server closed the connection without a "
		                        "welcome (rate limited?)");
	return tic_session_fail(&f->sess, -ECONNRESET, "%s: the server closed the connection",
	                        f->sess.doing);
}

static enum tic_action do_read(struct fetch *f)
{
	enum tic_action a;
	const char *line;

	for (;;) {
		int r;
		ssize_t n;

		/* Inside one tunnel's show answer a line too long costs only that tunnel. */
		f->lines.skip_long = f->sess.state == TIC_S_SHOW_BODY;
		r = tic_lines_pop(&f->lines, &line);
		if (r == 1)
			return tic_session_feed(&f->sess, line, wall_now(f));
		if (r == -EMSGSIZE && f->lines.skip_long) {
			a = tic_session_line_too_long(&f->sess);
			if (a != TIC_ACT_READ)
				return a;
			continue;
		}
		if (r == -EMSGSIZE)
			return tic_session_fail(&f->sess, r,
			                        "%s: a reply line longer than %d bytes",
			                        f->sess.doing, TIC_LINE_MAX);
		if (r < 0)
			return tic_session_fail(&f->sess, r, "%s: a NUL byte in a reply line",
			                        f->sess.doing);
		n = recv_some(f, &a);
		if (n < 0)
			return a;
		if (n == 0)
			return on_eof(f);
	}
}

static enum tic_action do_send(struct fetch *f)
{
	const char *p = f->sess.out;
	size_t left = f->sess.outlen;

	start_step(f);
	while (left) {
		ssize_t n;
		int r;

		/* The whole line in one call: one segment with TCP_NODELAY. */
		if (f->tls) {
			n = gnutls_record_send(f->tls, p, left);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				n = -1;
				errno = EAGAIN;
			} else if (n < 0) {
				return tls_error(f, (int)n);
			}
		} else {
			n = send(f->fd, p, left, MSG_NOSIGNAL);
		}
		if (n >= 0) {
			p += n;
			left -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return tic_session_fail(&f->sess, -errno, "%s: send: %s", f->sess.doing,
			                        strerror(errno));
		r = wait_fd(f, POLLOUT);
		if (r == -ETIMEDOUT)
			return timed_out(f, "the server to take our line");
		if (r < 0)
			return tic_session_fail(&f->sess, r, "%s: poll: %s", f->sess.doing,
			                        strerror(-r));
	}
	return TIC_ACT_READ;
}

/* ---- TLS ---- */

static int trust_fill(gnutls_certificate_credentials_t cred, const struct tic_account *acct,
                      char *err, size_t errlen)
{
	int r;

	if (acct->ca_file[0]) {
		r = gnutls_certificate_set_x509_trust_file(cred, acct->ca_file,
		                                           GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			snprintf(err, errlen, "ca_file %s: %s", acct->ca_file,
			         r < 0 ? gnutls_strerror(r) : "no certificates");
			return -EINVAL;
		}
	} else {
		r = gnutls_certificate_set_x509_system_trust(cred);
		if (r <= 0) {
			snprintf(err, errlen, "system trust store: %s",
			         r < 0 ? gnutls_strerror(r) : "no certificates");
			return -EINVAL;
		}
	}
	return 0;
}

int tic_trust_load(const struct tic_account *acct, void **out, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred;
	int r = gnutls_certificate_allocate_credentials(&cred);

	*out = NULL;
	if (r < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(r));
		return -ENOMEM;
	}
	*out = cred;
	return trust_fill(cred, acct, err, errlen);
}

void tic_trust_free(void *cred)
{
	if (cred)
		gnutls_certificate_free_credentials(cred);
}

/* The credential to use: loaded beforehand (opts->cred) or now. */
static enum tic_action trust_get(struct fetch *f, gnutls_certificate_credentials_t *cred)
{
	/* room for the whole ca_file path and gnutls' reason */
	char err[sizeof(f->acct->ca_file) + 128];
	int r;

	if (f->opts->cred) {
		if (f->opts->cred_error && f->opts->cred_error[0])
			return tic_session_fail(&f->sess, -EINVAL, "starttls: %s",
			                        f->opts->cred_error);
		*cred = f->opts->cred;
		return TIC_ACT_STARTTLS;
	}
	r = gnutls_certificate_allocate_credentials(&f->cred);
	if (r < 0)
		return tls_error(f, r);
	if (trust_fill(f->cred, f->acct, err, sizeof(err)) < 0)
		return tic_session_fail(&f->sess, -EINVAL, "starttls: %s", err);
	*cred = f->cred;
	return TIC_ACT_STARTTLS;
}

/*
 * The system's default priorities with every TLS version below the
 * account's tls_min taken out (and those from it on put in): TLS 1.2 unless
 * [tic] tls_min allows an old broker an older one.
 */
static int tls_priority_set(struct fetch *f, const char **errpos)
{
	static const char *const vers[] = {"TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"};
	unsigned floor = f->acct->tls_min ? f->acct->tls_min : TUNNEL_TLS_MIN;
	char prio[96];
	size_t n = 0;

	if (f->opts->tls_priority)
		return gnutls_priority_set_direct(f->tls, f->opts->tls_priority, errpos);
	for (unsigned i = 0; i < 4; i++)
		n += (size_t)snprintf(prio + n, sizeof(prio) - n, "%s%cVERS-%s", i ? ":" : "",
		                      10 + i < floor ? '-' : '+', vers[i]);
	return gnutls_set_default_priority_append(f->tls, prio, errpos, 0);
}

/* "1.2" for a tls_min value */
static const char *tls_min_text(const struct tic_account *acct)
{
	static const char *const names[] = {"1.0", "1.1", "1.2", "1.3"};
	unsigned v = acct->tls_min ? acct->tls_min : TUNNEL_TLS_MIN;

	return v >= 10 && v <= 13 ? names[v - 10] : "?";
}

static enum tic_action tls_setup(struct fetch *f)
{
	gnutls_certificate_credentials_t cred = NULL;
	const char *errpos = NULL;
	struct in6_addr a6;
	enum tic_action a = trust_get(f, &cred);
	int r;

	if (a != TIC_ACT_STARTTLS)
		return a;
	r = gnutls_init(&f->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (r < 0) {
		f->tls = NULL;
		return tls_error(f, r);
	}
	r = tls_priority_set(f, &errpos);
	if (r < 0)
		return tic_session_fail(&f->sess, -EINVAL, "starttls: TLS priority '%s': %s",
		                        errpos ? errpos : "(default)", gnutls_strerror(r));
	r = gnutls_credentials_set(f->tls, GNUTLS_CRD_CERTIFICATE, cred);
	if (r < 0)
		return tls_error(f, r);
	/* SNI carries names only, never address literals (RFC 6066). */
	if (inet_pton(AF_INET, f->host, &a6) != 1 && inet_pton(AF_INET6, f->host, &a6) != 1) {
		r = gnutls_server_name_set(f->tls, GNUTLS_NAME_DNS, f->host, strlen(f->host));
		if (r < 0)
			return tls_error(f, r);
	}
	/* The chain must reach a trusted CA and the certificate must name f->host. */
	gnutls_session_set_verify_cert(f->tls, f->host, 0);
	gnutls_transport_set_int(f->tls, f->fd);
	gnutls_handshake_set_timeout(f->tls, 0);
	return TIC_ACT_STARTTLS;
}

/* The alert that says why we refused the server's certificate. */
static gnutls_alert_description_t cert_alert(unsigned status)
{
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return GNUTLS_A_UNKNOWN_CA;
	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return GNUTLS_A_CERTIFICATE_EXPIRED;
	if (status & GNUTLS_CERT_REVOKED)
		return GNUTLS_A_CERTIFICATE_REVOKED;
	return GNUTLS_A_BAD_CERTIFICATE;
}

/*
 * Closing a socket with unread bytes (the rest of the server's handshake
 * flight) makes the kernel send a reset, which can destroy our alert before
 * the server reads it.  So: no more writes, then read and discard until the
 * server hangs up, for at most ALERT_LINGER_MS.
 */
#define ALERT_LINGER_MS 1000

static void alert_linger(struct fetch *f)
{
	int64_t until = deadline_now_ms() + ALERT_LINGER_MS;
	char buf[4096];

	if (until < f->dl.step)
		f->dl.step = until;
	shutdown(f->fd, SHUT_WR);
	while (wait_fd(f, POLLIN) == 0) {
		ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
}

/*
 * End the handshake with a fatal alert, as a client refusing a certificate
 * should (PROTOCOLS.md 7.1), so the server logs why instead of seeing a
 * bare reset.  Best effort, bounded by the step's deadline.
 */
static void alert_send(struct fetch *f, gnutls_alert_description_t desc)
{
	for (;;) {
		int r = gnutls_alert_send(f->tls, GNUTLS_AL_FATAL, desc);

		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
			break;
		if (wait_fd(f, POLLOUT) < 0)
			return;
	}
	alert_linger(f);
}

static enum tic_action cert_refused(struct fetch *f)
{
	unsigned status = gnutls_session_get_verify_cert_status(f->tls);
	gnutls_datum_t txt = {NULL, 0};
	enum tic_action a;

	alert_send(f, cert_alert(status));

	if (gnutls_certificate_verification_status_print(
	        status, gnutls_certificate_type_get(f->tls), &txt, 0) < 0)
		txt.data = NULL;
	/* gnutls ends its text with a space */
	while (txt.data && txt.size && txt.data[txt.size - 1] == ' ')
		txt.data[--txt.size] = '\0';
	a = tic_session_fail(&f->sess, -EKEYREJECTED,
	                     "starttls: the server's certificate was refused for '%s': %s", f->host,
	                     txt.data ? (const char *)txt.data : "verification failed");
	gnutls_free(txt.data);
	return a;
}

static enum tic_action do_starttls(struct fetch *f)
{
	enum tic_action a;
	int r, tls_err;

	/*
	 * Bytes that came after the server's starttls answer but before the
	 * handshake would be trusted as if they came over TLS: refuse them.
	 */
	if (tic_lines_pending(&f->lines))
		return tic_session_fail(&f->sess, -EPROTO,
		                        "starttls: the server sent data before the handshake");
	a = tls_setup(f);
	if (a != TIC_ACT_STARTTLS)
		return a;
	start_step(f);
	r = deadline_tls_handshake(f->tls, f->fd, &f->dl, &tls_err);
	if (r == -ETIMEDOUT)
		return timed_out(f, "the TLS handshake");
	if (r < 0 && !tls_err)
		return tic_session_fail(&f->sess, r, "starttls: poll: %s", strerror(-r));
	if (tls_err == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
		return cert_refused(f);
	if (tls_err == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
	    tls_err == GNUTLS_E_FATAL_ALERT_RECEIVED || tls_err == GNUTLS_E_NO_CIPHER_SUITES ||
	    tls_err == GNUTLS_E_INSUFFICIENT_SECURITY)
		return tic_session_fail(&f->sess, -EPROTO,
		                        "starttls: TLS handshake: %s (this client offers TLS "
		                        "%s and newer; [tic] tls_min allows older versions)",
		                        gnutls_strerror(tls_err), tls_min_text(f->acct));
	if (tls_err)
		return tic_session_fail(&f->sess, -EPROTO, "starttls: TLS handshake: %s",
		                        gnutls_strerror(tls_err));
	return tic_session_tls_done(&f->sess);
}

/* ---- the session ---- */

static void maybe_warn(struct fetch *f)
{
	char msg[TIC_ERR_MAX + sizeof(f->name) + 2];

	if (!f->sess.plain || f->warned || !f->opts->warn)
		return;
	f->warned = true;
	snprintf(msg, sizeof(msg), "%s: %s", f->name, f->sess.warning);
	f->opts->warn(f->opts->warn_ctx, msg);
}

static int run(struct fetch *f)
{
	enum tic_action a = tcp_connect(f);

	for (;;) {
		switch (a) {
		case TIC_ACT_READ:
			a = do_read(f);
			maybe_warn(f);
			break;
		case TIC_ACT_SEND:
			a = do_send(f);
			break;
		case TIC_ACT_STARTTLS:
			a = do_starttls(f);
			break;
		case TIC_ACT_SEND_CLOSE:
			a = do_send(f);
			if (a == TIC_ACT_READ)
				return 0;
			break;
		case TIC_ACT_ERROR:
		default:
			return f->sess.error ? f->sess.error : -EPROTO;
		}
	}
}

static int fetch_init(struct fetch *f, const struct tic_account *acct, const char *const *ids,
                      size_t nids, struct tic_tunnel *out, char *err, size_t errlen)
{
	static const struct tic_io_opts defaults;
	const struct tic_io_opts *o = f->opts ? f->opts : &defaults;
	struct tic_session_cfg cfg = {
	    .username = acct->username,
	    .password = acct->password,
	    .require_tls = acct->require_tls,
	    .ids = ids,
	    .nids = nids,
	    .out = out,
	};
	int r;

	f->opts = o;
	f->fd = -1;
	f->step_ms = o->step_timeout_ms ? o->step_timeout_ms : TIC_STEP_TIMEOUT_MS;
	f->total_ms = o->total_timeout_ms ? o->total_timeout_ms : TIC_TOTAL_TIMEOUT_MS;
	deadline_start(&f->dl, f->total_ms);
	tic_lines_init(&f->lines);
	if (tic_server_parse(acct->server, f->host, sizeof(f->host), f->port, sizeof(f->port))) {
		snprintf(err, errlen, "%s: not a host[:port]", acct->server);
		return -EINVAL;
	}
	snprintf(f->name, sizeof(f->name), strchr(f->host, ':') ? "[%s]:%s" : "%s:%s", f->host,
	         f->port);
	cfg.client_version = o->client_version ? o->client_version : AICCUD_VERSION;
	cfg.os_release = uname(&f->uts) == 0 ? f->uts.release : "unknown";
	r = tic_session_init(&f->sess, &cfg);
	if (r)
		snprintf(err, errlen, "%s: bad username, password or tunnel id for TIC", f->name);
	return r;
}

int tic_fetch(const struct tic_account *acct, const char *const *ids, size_t nids,
              const struct tic_io_opts *opts, struct tic_tunnel *out, char *err, size_t errlen)
{
	struct fetch f = {.acct = acct, .opts = opts};
	int r;

	if (errlen)
		err[0] = '\0';
	r = fetch_init(&f, acct, ids, nids, out, err, errlen);
	if (r)
		return r;
	r = run(&f);
	if (r)
		snprintf(err, errlen, "%s: %s", f.name, f.sess.err);
	if (f.tls) {
		/* Best effort close_notify; the server hangs up after QUIT anyway. */
		if (!r)
			gnutls_bye(f.tls, GNUTLS_SHUT_WR);
		gnutls_deinit(f.tls);
	}
	if (f.cred)
		gnutls_certificate_free_credentials(f.cred);
	if (f.fd >= 0)
		close(f.fd);
	return r;
}
