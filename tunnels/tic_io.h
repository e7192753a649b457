/*
 * The TIC client's I/O edge: one TCP connection (STARTTLS with gnutls),
 * the session of tic.h driven over it.  Blocking by design: it runs in the
 * short-lived fetcher child, never inside an event loop.  Every wait is a
 * poll() bounded by the step's and the session's deadline.
 */
#ifndef AICCUD_TIC_IO_H
#define AICCUD_TIC_IO_H

#include <stddef.h>
#include <time.h>

#include "tic.h"
#include "tunnel.h"

#define TIC_STEP_TIMEOUT_MS  10000
#define TIC_TOTAL_TIMEOUT_MS 60000
/* Most resolved addresses of the TIC server tried, one after the other. */
#define TIC_CONNECT_ADDRS_MAX 8

/*
 * The server turned the connection away (a welcome that is not 2xx, or the
 * connection closed before any welcome): the broker's rate limit.  The
 * caller must not connect again for 5 minutes.
 */
#define TIC_ERR_REFUSED (-EBUSY)

struct tic_io_opts {
	unsigned step_timeout_ms;   /* connect, TLS handshake, each reply; 0: 10 s */
	unsigned total_timeout_ms;  /* the whole session; 0: 60 s */
	time_t (*clock)(void *ctx); /* wall clock for the skew check; NULL: time() */
	void *clock_ctx;
	const char *tls_priority;   /* gnutls priority string; NULL: the system default */
	const char *client_version; /* NULL: this build's version */
	/*
	 * Trust anchors loaded beforehand (the fetcher does it before it drops
	 * privileges, so the CA file may be readable by root only); NULL:
	 * tic_fetch loads acct->ca_file or the system store itself.  When
	 * loading failed, cred_error says why and STARTTLS fails with it.
	 */
	void *cred; /* gnutls_certificate_credentials_t, not freed by tic_fetch */
	const char *cred_error;
	/* Called for a warning worth logging (plain text without TLS); may be NULL. */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
	/* Called for progress worth logging (which address answered); may be NULL. */
	void (*info)(void *ctx, const char *msg);
	void *info_ctx;
};

/*
 * Log in to acct's TIC server once and fetch the tunnels ids[0..nids-1]
 * into out[0..nids-1] ("tunnel list" once, "tunnel show" for each id the
 * list has, then QUIT).  Makes at most one connection to a TIC server: the
 * caller takes one limiter token per call.  When the name resolves to
 * several addresses they are tried in order (at most TIC_CONNECT_ADDRS_MAX,
 * each for the step timeout, all within the session's) until one accepts
 * the TCP connection: one that never got that far reached no broker.
 * opts may be NULL.
 *
 * Returns 0 when the session completed; each out[i].fetch_err then says
 * whether that tunnel's fields are valid (-ENOENT: not in the account).
 * Otherwise -errno with err = "<host>:<port>: <step>: <why>":
 *   TIC_ERR_REFUSED (-EBUSY)  turned away: wait 5 minutes
 *   -ETIMEDOUT      a step or the session took too long
 *   -ERANGE         our clock is off by more than 120 s
 *   -EPROTONOSUPPORT  no STARTTLS and acct->require_tls
 *   -EKEYREJECTED   the server's certificate failed verification
 *   -EACCES         username or password refused
 *   -ECONNRESET     the server closed the connection mid-session
 *   -EMSGSIZE, -EBADMSG, -E2BIG, -EPROTO  the server spoke nonsense
 *   -EHOSTUNREACH   the name did not resolve; other -errno from connect()
 * Even then, out[i] with fetch_err == 0 were fetched before the failure.
 */
/*
 * Load the trust anchors of acct (its ca_file, else the system store) into
 * a new credential *out for tic_io_opts.cred.  0, or -EINVAL with err set
 * ("ca_file <path>: <why>"); *out is allocated either way (free it with
 * tic_trust_free).
 */
int tic_trust_load(const struct tic_account *acct, void **out, char *err, size_t errlen);
void tic_trust_free(void *cred);

int tic_fetch(const struct tic_account *acct, const char *const *ids, size_t nids,
              const struct tic_io_opts *opts, struct tic_tunnel *out, char *err, size_t errlen);

#endif
